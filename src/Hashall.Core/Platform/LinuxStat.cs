using System.Runtime.CompilerServices;
using System;
using System.Runtime.InteropServices;

namespace Hashall.Core.Platform
{
    /// <summary>
    /// lstat for Linux through statx(2): its struct has one layout on every architecture, unlike
    /// struct stat (x64 and arm64 differ), and it reports the device as major/minor directly.
    /// </summary>
    internal static class LinuxStat
    {
        private const int AtFdCwd = -100;
        private const int AtSymlinkNoFollow = 0x100;
        private const uint StatxBasicStats = 0x7ff;
        private const int StatxSize = 256;

        [DllImport("libc", EntryPoint = "statx", SetLastError = true)]
        private static extern unsafe int statx(int dirfd, byte* path, int flags, uint mask, byte* buffer);

        [MethodImpl(HotPath.Optimize)]
        public static unsafe int TryLstat(byte[] nulTerminatedPath, out FileStatus status)
        {
            fixed (byte* p = nulTerminatedPath)
            {
                return TryLstatAt(AtFdCwd, p, out status);
            }
        }

        /// <summary>lstat of a NUL-terminated name relative to an open directory.</summary>
        [MethodImpl(HotPath.Optimize)]
        public static unsafe int TryLstatAt(int dirFd, byte* name, out FileStatus status) => Statx(dirFd, name, AtSymlinkNoFollow, out status);

        /// <summary>fstat of an open file (statx with AT_EMPTY_PATH).</summary>
        public static unsafe int TryFstat(int fd, out FileStatus status)
        {
            byte empty = 0;
            return Statx(fd, &empty, AtSymlinkNoFollow | 0x1000 /* AT_EMPTY_PATH */, out status);
        }

        [MethodImpl(HotPath.Optimize)]
        private static unsafe int Statx(int dirFd, byte* name, int flags, out FileStatus status)
        {
            byte* buf = stackalloc byte[StatxSize];
            int rc = statx(dirFd, name, flags, StatxBasicStats, buf);
            if (rc != 0)
            {
                status = default;
                return Marshal.GetLastWin32Error();
            }
            uint nlink = *(uint*)(buf + 16);
            uint uid = *(uint*)(buf + 20);
            uint gid = *(uint*)(buf + 24);
            ushort mode = *(ushort*)(buf + 28);
            ulong ino = *(ulong*)(buf + 32);
            ulong size = *(ulong*)(buf + 40);
            long ctimeSec = *(long*)(buf + 96);
            uint ctimeNsec = *(uint*)(buf + 104);
            long mtimeSec = *(long*)(buf + 112);
            uint mtimeNsec = *(uint*)(buf + 120);
            uint devMajor = *(uint*)(buf + 136);
            uint devMinor = *(uint*)(buf + 140);
            status = new FileStatus(MakeDev(devMajor, devMinor), ino, (long)size, nlink,
                ClampedNs(mtimeSec, mtimeNsec), UnixMode.Kind(mode), mode & 0xFFF, uid, gid, ClampedNs(ctimeSec, ctimeNsec));
            return 0;
        }

        /// <summary>The file type bits of a path's mode (S_IFMT: 0x1000 FIFO, 0x2000 character device, 0x6000 block device, 0xC000 socket), not following a final symlink; 0 when statx fails.</summary>
        public static unsafe int TypeBits(byte[] nulTerminatedPath)
        {
            byte* buf = stackalloc byte[StatxSize];
            fixed (byte* p = nulTerminatedPath)
            {
                if (statx(AtFdCwd, p, AtSymlinkNoFollow, StatxBasicStats, buf) != 0)
                    return 0;
            }
            return *(ushort*)(buf + 28) & 0xF000;
        }

        /// <summary>Nanoseconds since the epoch, clamped to what a long holds (years 1677 to 2262).</summary>
        internal static long ClampedNs(long seconds, long nanoseconds)
        {
            const long limit = long.MaxValue / 1_000_000_000L;
            if (seconds >= limit) return long.MaxValue;
            if (seconds <= -limit) return long.MinValue;
            return seconds * 1_000_000_000L + nanoseconds;
        }

        /// <summary>glibc's makedev, so numbers match what `stat -c %d` prints.</summary>
        public static ulong MakeDev(uint major, uint minor) =>
            (((ulong)major & 0xfffff000UL) << 32) | (((ulong)major & 0xfffUL) << 8)
            | (((ulong)minor & 0xffffff00UL) << 12) | ((ulong)minor & 0xffUL);
    }

    internal static class UnixMode
    {
        public static FileKind Kind(int mode)
        {
            switch (mode & 0xF000)
            {
                case 0x8000: return FileKind.Regular;
                case 0x4000: return FileKind.Directory;
                case 0xA000: return FileKind.SymbolicLink;
                default: return FileKind.Other;
            }
        }
    }
}
