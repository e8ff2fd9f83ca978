using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Runtime.InteropServices;
using System.Text;
using Hashall.Core.Devices;

namespace Hashall.Core.Platform
{
    /// <summary>Mounted filesystems and their identities, per platform.</summary>
    public static class MountTable
    {
        public static IReadOnlyList<MountEntry> Read()
        {
            if (FileSystemApi.IsWindows || FileSystemApi.IsMacOS)
            {
                var list = new List<MountEntry>();
                foreach (var drive in DriveInfo.GetDrives())
                {
                    try
                    {
                        list.Add(FileSystemApi.IsWindows ? WindowsMountOf(drive.RootDirectory.FullName)
                            : MacMountOf(drive.RootDirectory.FullName, FileSystemApi.Lstat(drive.RootDirectory.FullName).DeviceNumber));
                    }
                    catch (Exception e) when (e is IOException || e is HashallException || e is UnauthorizedAccessException)
                    {
                        // not ready (empty card reader, disconnected share): not a device we can catalog now
                    }
                }
                return list;
            }
            return LinuxMountInfo.Read();
        }

        public static (string Identity, DeviceIdentityKind Kind) Identity(MountEntry mount)
        {
            if (FileSystemApi.IsWindows)
                return mount.Source.StartsWith(@"\\?\Volume{", StringComparison.OrdinalIgnoreCase)
                    ? ("volume:" + mount.Source.Substring(10, 38).ToLowerInvariant(), DeviceIdentityKind.VolumeGuid)
                    : (LinuxDeviceIdentity.Fallback(mount), DeviceIdentityKind.MountFallback);
            if (FileSystemApi.IsMacOS)
                return MacVolumeUuid(mount.MountPoint) is string uuid
                    ? ("uuid:" + uuid, DeviceIdentityKind.VolumeUuid)
                    : (LinuxDeviceIdentity.Fallback(mount), DeviceIdentityKind.MountFallback);
            return LinuxDeviceIdentity.For(mount);
        }

        /// <summary>macOS: the mount point is the highest ancestor on the same device.</summary>
        internal static MountEntry MacMountOf(string full, ulong deviceNumber)
        {
            string current = full;
            while (true)
            {
                string? parent = Path.GetDirectoryName(current);
                if (parent == null || FileSystemApi.TryLstat(parent, out var st) != 0 || st.DeviceNumber != deviceNumber)
                    break;
                current = parent;
            }
            string type = "";
            try { type = new DriveInfo(current).DriveFormat; } catch (Exception e) when (e is IOException || e is ArgumentException) { }
            return new MountEntry(current, type, current, "/", deviceNumber);
        }

        private static string? MacVolumeUuid(string mountPoint)
        {
            try
            {
                var psi = new ProcessStartInfo("/usr/sbin/diskutil", $"info \"{mountPoint}\"")
                {
                    RedirectStandardOutput = true,
                    UseShellExecute = false,
                };
                using var process = Process.Start(psi)!;
                string output = process.StandardOutput.ReadToEnd();
                process.WaitForExit(5000);
                foreach (var line in output.Split('\n'))
                {
                    var t = line.Trim();
                    if (t.StartsWith("Volume UUID:", StringComparison.Ordinal))
                        return t.Substring("Volume UUID:".Length).Trim().ToLowerInvariant();
                }
            }
            catch (Exception e) when (e is System.ComponentModel.Win32Exception || e is InvalidOperationException) { }
            return null;
        }

        [DllImport("kernel32.dll", CharSet = CharSet.Unicode, SetLastError = true)]
        private static extern bool GetVolumePathNameW(string fileName, StringBuilder volumePath, int length);

        [DllImport("kernel32.dll", CharSet = CharSet.Unicode, SetLastError = true)]
        private static extern bool GetVolumeNameForVolumeMountPointW(string mountPoint, StringBuilder volumeName, int length);

        internal static MountEntry WindowsMountOf(string full)
        {
            var mount = new StringBuilder(1024);
            if (!GetVolumePathNameW(full, mount, mount.Capacity))
                throw FileSystemApi.ErrorFor(Marshal.GetLastWin32Error(), full);
            var volume = new StringBuilder(64);
            string source = GetVolumeNameForVolumeMountPointW(mount.ToString(), volume, volume.Capacity) ? volume.ToString() : mount.ToString();
            string type = "";
            try { type = new DriveInfo(mount.ToString()).DriveFormat; } catch (Exception e) when (e is IOException || e is ArgumentException) { }
            ulong serial = FileSystemApi.TryLstat(mount.ToString(), out var st) == 0 ? st.DeviceNumber : 0;
            return new MountEntry(mount.ToString(), type, source, "/", serial);
        }
    }
}
