using System.IO;
using System.Runtime.InteropServices;

namespace Hashall.Core.Platform
{
    /// <summary>
    /// What kind of file a path names once symlinks are followed (stat, not lstat): enough to tell a
    /// regular file from a directory, FIFO, device or socket without opening it (opening a FIFO blocks).
    /// </summary>
    public static class TargetKind
    {
        private const int AtFdCwd = -100;
        private const uint StatxType = 0x1;
        private const int StatxSize = 256;
        private const int MacStatSize = 144;

        [DllImport("libc", EntryPoint = "statx", SetLastError = true)]
        private static extern unsafe int statx(int dirfd, byte* path, int flags, uint mask, byte* buffer);

        [DllImport("libc", EntryPoint = "stat", SetLastError = true)]
        private static extern unsafe int stat_arm64(byte* path, byte* buffer);

        [DllImport("libc", EntryPoint = "stat$INODE64", SetLastError = true)]
        private static extern unsafe int stat_x64(byte* path, byte* buffer);

        /// <summary>0 and the kind of the file <paramref name="path"/> leads to, or the platform's error code (ENOENT: nothing there).</summary>
        public static unsafe int TryGet(string path, out FileKind kind)
        {
            kind = FileKind.Other;
            if (FileSystemApi.IsWindows)
            {
                // Windows has no FIFOs or device nodes in the file namespace a catalog path can name.
                if (Directory.Exists(path)) kind = FileKind.Directory;
                else if (File.Exists(path)) kind = FileKind.Regular;
                else return 2;
                return 0;
            }
            int rc;
            ushort mode;
            fixed (byte* p = FileSystemApi.ToNativePath(path))
            {
                if (FileSystemApi.IsMacOS)
                {
                    byte* buf = stackalloc byte[MacStatSize];
                    rc = RuntimeInformation.ProcessArchitecture == Architecture.X64 ? stat_x64(p, buf) : stat_arm64(p, buf);
                    mode = *(ushort*)(buf + 4);
                }
                else
                {
                    byte* buf = stackalloc byte[StatxSize];
                    rc = statx(AtFdCwd, p, 0, StatxType, buf);
                    mode = *(ushort*)(buf + 28);
                }
            }
            if (rc != 0)
                return Marshal.GetLastWin32Error();
            kind = UnixMode.Kind(mode);
            return 0;
        }
    }
}
