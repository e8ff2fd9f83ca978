using System;
using System.Diagnostics;
using System.IO;
using Hashall.Core.Platform;

namespace Hashall.Core.Devices
{
    /// <summary>
    /// A Linux filesystem's identity, strongest source first: ZFS dataset guid; /dev/disk/by-uuid;
    /// the UUID in an ext2/3/4, XFS or btrfs superblock (what blkid reads); otherwise the
    /// <see cref="DeviceIdentityKind.MountFallback"/>.
    /// </summary>
    internal static class LinuxDeviceIdentity
    {
        public static (string Identity, DeviceIdentityKind Kind) For(MountEntry mount)
        {
            if (mount.FileSystemType == "zfs" && TryZfsGuid(mount.Source, out var guid))
                return ("zfs:" + guid, DeviceIdentityKind.ZfsGuid);
            if (mount.Source.StartsWith("/dev/", StringComparison.Ordinal)
                && (TryByUuid(mount.Source, out var uuid) || TrySuperblockUuid(mount.Source, out uuid)))
                return ("uuid:" + uuid, DeviceIdentityKind.FilesystemUuid);
            return (Fallback(mount), DeviceIdentityKind.MountFallback);
        }

        internal static string Fallback(MountEntry mount) =>
            $"mount:{mount.FileSystemType}:{mount.Source}:{mount.Root}@{mount.MountPoint}";

        private static bool TryZfsGuid(string dataset, out string guid)
        {
            guid = "";
            try
            {
                var psi = new ProcessStartInfo("zfs", $"get -H -p -o value guid \"{dataset}\"")
                {
                    RedirectStandardOutput = true,
                    RedirectStandardError = true,
                    UseShellExecute = false,
                };
                using var process = Process.Start(psi)!;
                string output = process.StandardOutput.ReadToEnd().Trim();
                process.WaitForExit(5000);
                if (process.ExitCode != 0 || output.Length == 0)
                    return false;
                guid = output;
                return true;
            }
            catch (Exception e) when (e is System.ComponentModel.Win32Exception || e is InvalidOperationException)
            {
                return false; // no zfs tool here
            }
        }

        private static bool TryByUuid(string source, out string uuid)
        {
            uuid = "";
            const string dir = "/dev/disk/by-uuid";
            if (!Directory.Exists(dir))
                return false;
            string target;
            try { target = UnixPaths.RealPath(source); }
            catch (HashallException) { return false; }
            foreach (var link in Directory.GetFiles(dir))
            {
                try
                {
                    if (UnixPaths.RealPath(link) == target)
                    {
                        uuid = Path.GetFileName(link).ToLowerInvariant();
                        return true;
                    }
                }
                catch (HashallException) { }
            }
            return false;
        }

        /// <summary>Reads the filesystem UUID straight from the superblock (needs read access to the device).</summary>
        internal static bool TrySuperblockUuid(string device, out string uuid)
        {
            uuid = "";
            try
            {
                using var stream = new FileStream(device, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 1, FileOptions.None);
                var block = new byte[65536 + 4096];
                int read = ReadAtMost(stream, block);
                return TryParseSuperblock(block, read, out uuid);
            }
            catch (Exception e) when (e is IOException || e is UnauthorizedAccessException || e is NotSupportedException)
            {
                return false;
            }
        }

        internal static bool TryParseSuperblock(byte[] block, int length, out string uuid)
        {
            uuid = "";
            // ext2/3/4: superblock at 1024, magic 0xEF53 at +0x38, uuid at +0x68.
            if (length >= 1024 + 0x78 && block[1024 + 0x38] == 0x53 && block[1024 + 0x39] == 0xEF)
                return FormatUuid(block, 1024 + 0x68, out uuid);
            // XFS: "XFSB" at 0, uuid at 32.
            if (length >= 48 && block[0] == (byte)'X' && block[1] == (byte)'F' && block[2] == (byte)'S' && block[3] == (byte)'B')
                return FormatUuid(block, 32, out uuid);
            // btrfs: superblock at 64 KiB, fsid at +0x20, magic "_BHRfS_M" at +0x40.
            if (length >= 65536 + 0x48 && System.Text.Encoding.ASCII.GetString(block, 65536 + 0x40, 8) == "_BHRfS_M")
                return FormatUuid(block, 65536 + 0x20, out uuid);
            return false;
        }

        private static bool FormatUuid(byte[] b, int at, out string uuid)
        {
            var hex = BitConverter.ToString(b, at, 16).Replace("-", "").ToLowerInvariant();
            uuid = $"{hex.Substring(0, 8)}-{hex.Substring(8, 4)}-{hex.Substring(12, 4)}-{hex.Substring(16, 4)}-{hex.Substring(20, 12)}";
            return hex != new string('0', 32);
        }

        private static int ReadAtMost(Stream stream, byte[] buffer)
        {
            int total = 0, n;
            while (total < buffer.Length && (n = stream.Read(buffer, total, buffer.Length - total)) > 0)
                total += n;
            return total;
        }
    }
}
