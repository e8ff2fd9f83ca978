using System.Runtime.InteropServices;

namespace Hashall.Core.Platform
{
    /// <summary>
    /// lstat for macOS (64-bit inode struct stat, the same layout on x64 and arm64; on x64 the
    /// symbol is lstat$INODE64). Written from the SDK's sys/stat.h; not run on this project's CI.
    /// </summary>
    internal static class MacStat
    {
        private const int StatSize = 144;

        [DllImport("libc", EntryPoint = "lstat", SetLastError = true)]
        private static extern unsafe int lstat_arm64(byte* path, byte* buffer);

        [DllImport("libc", EntryPoint = "lstat$INODE64", SetLastError = true)]
        private static extern unsafe int lstat_x64(byte* path, byte* buffer);

        public static unsafe int TryLstat(byte[] nulTerminatedPath, out FileStatus status)
        {
            byte* buf = stackalloc byte[StatSize];
            int rc;
            fixed (byte* p = nulTerminatedPath)
            {
                rc = RuntimeInformation.ProcessArchitecture == Architecture.X64 ? lstat_x64(p, buf) : lstat_arm64(p, buf);
            }
            if (rc != 0)
            {
                status = default;
                return Marshal.GetLastWin32Error();
            }
            int dev = *(int*)(buf + 0);
            ushort mode = *(ushort*)(buf + 4);
            ushort nlink = *(ushort*)(buf + 6);
            ulong ino = *(ulong*)(buf + 8);
            uint uid = *(uint*)(buf + 16);
            uint gid = *(uint*)(buf + 20);
            long mtimeSec = *(long*)(buf + 48);
            long mtimeNsec = *(long*)(buf + 56);
            long ctimeSec = *(long*)(buf + 64);
            long ctimeNsec = *(long*)(buf + 72);
            long size = *(long*)(buf + 96);
            status = new FileStatus((uint)dev, ino, size, nlink, LinuxStat.ClampedNs(mtimeSec, mtimeNsec), UnixMode.Kind(mode), mode & 0xFFF, uid, gid, LinuxStat.ClampedNs(ctimeSec, ctimeNsec));
            return 0;
        }
    }
}
