using System;
using System.IO;
using System.Runtime.InteropServices;

namespace Hashall.Core.Platform
{
    /// <summary>
    /// What `cp -a` keeps besides the bytes: the modification time to the nanosecond, the permission
    /// bits and (when allowed) the owner; and fsync for files and directories, so a copy is on disk
    /// before the original goes.
    /// </summary>
    public static class FileMetadata
    {
        private const int UtimeOmit = (1 << 30) - 2;
        private const int ODirectory = 0x10000, OCloExec = 0x80000;

        [StructLayout(LayoutKind.Sequential)]
        private struct Timespec
        {
            public long Seconds;
            public long Nanoseconds;
        }

        [DllImport("libc", EntryPoint = "utimensat", SetLastError = true)]
        private static extern unsafe int utimensat(int dirfd, byte* path, Timespec* times, int flags);

        [DllImport("libc", EntryPoint = "chmod", SetLastError = true)]
        private static extern unsafe int chmod(byte* path, uint mode);

        [DllImport("libc", EntryPoint = "lchown", SetLastError = true)]
        private static extern unsafe int lchown(byte* path, uint owner, uint group);

        [DllImport("libc", EntryPoint = "open", SetLastError = true)]
        private static extern unsafe int open(byte* path, int flags, int mode);

        [DllImport("libc", EntryPoint = "fsync", SetLastError = true)]
        private static extern int fsync(int fd);

        [DllImport("libc", EntryPoint = "close")]
        private static extern int close(int fd);

        /// <summary>Gives <paramref name="path"/> the source's mode, owner (only where permitted: a non-root user keeps its own) and mtime.</summary>
        public static unsafe void CopyFrom(string path, FileStatus source)
        {
            if (FileSystemApi.IsWindows)
            {
                File.SetLastWriteTimeUtc(path, new DateTime(1970, 1, 1, 0, 0, 0, DateTimeKind.Utc).AddTicks(source.MtimeNs / 100));
                return;
            }
            fixed (byte* p = FileSystemApi.ToNativePath(path))
            {
                lchown(p, source.Uid, source.Gid); // EPERM for a non-root user: the copy stays the user's own
                if (chmod(p, (uint)source.Permissions) != 0)
                    throw Failure("chmod", path);
                var times = stackalloc Timespec[2];
                times[0] = new Timespec { Nanoseconds = UtimeOmit };
                times[1] = new Timespec { Seconds = FloorDiv(source.MtimeNs, 1_000_000_000), Nanoseconds = FloorMod(source.MtimeNs, 1_000_000_000) };
                int atFdCwd = FileSystemApi.IsMacOS ? -2 : -100;
                if (utimensat(atFdCwd, p, times, 0) != 0)
                    throw Failure("utimensat", path);
            }
        }

        [DllImport("libc", EntryPoint = "syncfs", SetLastError = true)]
        private static extern int syncfs(int fd);

        /// <summary>
        /// Flushes the whole filesystem holding <paramref name="path"/> (Linux syncfs: one journal commit
        /// for a batch of files instead of one fsync each); elsewhere each file is flushed as it is written,
        /// and this does nothing.
        /// </summary>
        public static unsafe void SyncFileSystem(string path)
        {
            if (FileSystemApi.IsWindows || FileSystemApi.IsMacOS)
                return;
            int fd;
            fixed (byte* p = FileSystemApi.ToNativePath(path))
                fd = open(p, OCloExec, 0);
            if (fd < 0)
                throw Failure("open", path);
            try
            {
                if (syncfs(fd) != 0)
                    throw Failure("syncfs", path);
            }
            finally
            {
                close(fd);
            }
        }

        /// <summary>Flushes a directory's entries (new names, renames) to disk; no-op on Windows.</summary>
        public static unsafe void SyncDirectory(string path)
        {
            if (FileSystemApi.IsWindows)
                return;
            int fd;
            fixed (byte* p = FileSystemApi.ToNativePath(path))
                fd = open(p, FileSystemApi.IsMacOS ? 0x100000 : ODirectory | OCloExec, 0);
            if (fd < 0)
                throw Failure("open", path);
            try
            {
                if (fsync(fd) != 0)
                    throw Failure("fsync", path);
            }
            finally
            {
                close(fd);
            }
        }

        private static IOException Failure(string call, string path) =>
            new IOException($"{call}('{path}'): {HardLinks.Describe(Marshal.GetLastWin32Error())}");

        private static long FloorDiv(long a, long b) => a >= 0 ? a / b : -((-a + b - 1) / b);

        private static long FloorMod(long a, long b) => a - FloorDiv(a, b) * b;
    }
}
