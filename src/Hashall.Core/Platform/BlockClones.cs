using System;
using System.IO;
using System.Runtime.InteropServices;

namespace Hashall.Core.Platform
{
    /// <summary>
    /// Block sharing on copy-on-write filesystems (Linux): FIDEDUPERANGE, with which the kernel compares
    /// two ranges itself and, only when they are identical, makes the destination's range share the
    /// source's blocks (atomically; the destination keeps its inode, owner, mode and times); FIEMAP,
    /// which tells which of a file's extents are shared. Other systems: not supported.
    /// </summary>
    public static class BlockClones
    {
        /// <summary>Bytes asked per FIDEDUPERANGE call: btrfs caps a call at 16 MiB (it dedupes less and says so), others may cap lower.</summary>
        public const long ChunkBytes = 16L << 20;

        public const int EOPNOTSUPP = 95, EINVAL = 22, ENOTTY = 25, EXDEV = 18, EPERM = 1, EACCES = 13, ETXTBSY = 26, EISDIR = 21, EBADF = 9;

        private const ulong FideDupeRange = 0xC0189436; // _IOWR(0x94, 54, struct file_dedupe_range)
        private const ulong FsIocFiemap = 0xC020660B;   // _IOWR('f', 11, struct fiemap)
        private const uint FiemapExtentLast = 0x1, FiemapExtentShared = 0x2000;
        private const int ORdOnly = 0, OCloExec = 0x80000;

        [DllImport("libc", EntryPoint = "ioctl", SetLastError = true)]
        private static extern unsafe int ioctl(int fd, ulong request, byte* arg);

        [DllImport("libc", EntryPoint = "open", SetLastError = true)]
        private static extern unsafe int open(byte* path, int flags, int mode);

        /// <summary>Whether this platform has the calls at all (Linux); a filesystem may still refuse them.</summary>
        public static bool Available => !FileSystemApi.IsWindows && !FileSystemApi.IsMacOS;

        /// <summary>O_NOFOLLOW differs by architecture (x64 0400000, arm64 0100000).</summary>
        private static int ONoFollow => RuntimeInformation.ProcessArchitecture == Architecture.Arm64 || RuntimeInformation.ProcessArchitecture == Architecture.Arm ? 0x8000 : 0x20000;

        /// <summary>
        /// Opens a file read-only without following a final symlink; 0 or errno. Read-only is enough
        /// for both ends of a dedupe (the kernel lets the file's owner, a user who may write it, or root
        /// dedupe into it), and opening for writing would wake watchers and refuse running programs.
        /// </summary>
        public static unsafe int OpenRead(string path, out SafeFd fd)
        {
            int raw;
            fixed (byte* p = FileSystemApi.ToNativePath(path))
            {
                do
                {
                    raw = open(p, ORdOnly | OCloExec | ONoFollow, 0);
                } while (raw < 0 && Marshal.GetLastWin32Error() == 4); // EINTR
            }
            fd = new SafeFd(raw);
            return raw < 0 ? Marshal.GetLastWin32Error() : 0;
        }

        /// <summary>fstat of an open file; 0 or errno.</summary>
        public static int Stat(SafeFd fd, out FileStatus status) => LinuxStat.TryFstat(fd.Fd, out status);

        /// <summary>
        /// One FIDEDUPERANGE call: share <paramref name="length"/> bytes of <paramref name="source"/> at
        /// <paramref name="offset"/> into <paramref name="destination"/> at the same offset, if the kernel
        /// finds them identical. Returns 0 or errno (the call failed); on 0, <paramref name="differs"/>
        /// tells that the ranges differ (nothing shared), else <paramref name="deduped"/> bytes were shared
        /// (possibly fewer than asked: the caller goes on from there).
        /// </summary>
        public static unsafe int Dedupe(SafeFd source, SafeFd destination, long offset, long length, out long deduped, out bool differs)
        {
            byte* arg = stackalloc byte[56];
            new Span<byte>(arg, 56).Clear();
            *(ulong*)(arg + 0) = (ulong)offset;   // src_offset
            *(ulong*)(arg + 8) = (ulong)length;   // src_length
            *(ushort*)(arg + 16) = 1;             // dest_count
            *(long*)(arg + 24) = destination.Fd;  // info[0].dest_fd
            *(ulong*)(arg + 32) = (ulong)offset;  // info[0].dest_offset
            int rc;
            do
            {
                rc = ioctl(source.Fd, FideDupeRange, arg);
            } while (rc < 0 && Marshal.GetLastWin32Error() == 4);
            deduped = 0;
            differs = false;
            if (rc < 0)
                return Marshal.GetLastWin32Error();
            int status = *(int*)(arg + 48);
            if (status < 0)
                return -status;               // the destination's own error (e.g. EINVAL, EPERM)
            differs = status == 1;            // FILE_DEDUPE_RANGE_DIFFERS
            deduped = (long)*(ulong*)(arg + 40);
            return 0;
        }

        /// <summary>
        /// Bytes of the file's allocated extents that no other file shares (FIEMAP, extents without
        /// FIEMAP_EXTENT_SHARED): what the filesystem frees when those blocks become another file's.
        /// Returns 0 or errno.
        /// </summary>
        public static unsafe int UnsharedBytes(SafeFd fd, out long unshared)
        {
            // 32 extents a call, on the stack: most files have one or a few (no allocation per file).
            const int Extents = 32, Header = 32, ExtentSize = 56, Bytes = Header + Extents * ExtentSize;
            unshared = 0;
            ulong start = 0;
            byte* b = stackalloc byte[Bytes];
            {
                while (true)
                {
                    new Span<byte>(b, Bytes).Clear();
                    *(ulong*)(b + 0) = start;             // fm_start
                    *(ulong*)(b + 8) = ulong.MaxValue;    // fm_length: to the end
                    *(uint*)(b + 24) = Extents;           // fm_extent_count
                    if (ioctl(fd.Fd, FsIocFiemap, b) < 0)
                        return Marshal.GetLastWin32Error();
                    uint mapped = *(uint*)(b + 20);
                    if (mapped == 0)
                        return 0;
                    for (int i = 0; i < mapped; i++)
                    {
                        byte* e = b + Header + i * ExtentSize;
                        ulong logical = *(ulong*)(e + 0), length = *(ulong*)(e + 16);
                        uint flags = *(uint*)(e + 40);
                        if ((flags & FiemapExtentShared) == 0)
                            unshared += (long)length;
                        start = logical + length;
                        if ((flags & FiemapExtentLast) != 0)
                            return 0;
                    }
                }
            }
        }

        /// <summary>
        /// Whether an errno from FIDEDUPERANGE means the filesystem cannot share blocks at all (so a clone
        /// plan stops rather than failing every file the same way): EOPNOTSUPP (no remap_file_range on the
        /// filesystem), ENOTTY (no such ioctl), EXDEV (the two files on different filesystems).
        /// Not EINVAL: on a filesystem that shares blocks the kernel also gives it for one range or file it
        /// will not dedupe (a range past the end of a file that shrank since the plan, a range not aligned
        /// to blocks, a file that is not regular), which fails that file only; and a filesystem without
        /// block sharing already answers EOPNOTSUPP for the source file before the per-destination EINVAL.
        /// </summary>
        public static bool MeansUnsupported(int error) => error == EOPNOTSUPP || error == ENOTTY || error == EXDEV;

        /// <summary>
        /// Tries a dedupe on the device: two temporary files of identical bytes in <paramref name="folder"/>
        /// (removed at once). Null when the filesystem shared their blocks; else why it cannot.
        /// Throws when the folder takes no temporary file (then nothing can be told).
        /// </summary>
        public static string? Probe(string folder)
        {
            if (!Available)
                return "block clones use Linux's FIDEDUPERANGE; this system has no such call";
            string stem = Path.Combine(folder, $".hashall-clone-probe-{Guid.NewGuid():N}");
            string a = stem + ".a", b = stem + ".b";
            try
            {
                // 64 KiB: a whole number of blocks on every block size up to 64 KiB (a dedupe of a partial
                // block that is not at the end of the file is refused).
                var bytes = new byte[64 << 10];
                new Random(17).NextBytes(bytes);
                foreach (var name in new[] { a, b })
                {
                    try
                    {
                        using var f = new FileStream(name, FileMode.CreateNew, FileAccess.Write);
                        f.Write(bytes, 0, bytes.Length);
                        f.Flush(flushToDisk: true);
                    }
                    catch (Exception e) when (e is IOException || e is UnauthorizedAccessException)
                    {
                        throw new HashallException("CloneProbeFailed", HashallErrorKind.WriteError,
                            $"Cannot tell whether the filesystem of '{folder}' can share blocks: a temporary file to try it on could not be written there ({e.Message}).", folder, e);
                    }
                }
                int error = OpenRead(a, out var fa);
                using (fa)
                {
                    if (error != 0)
                        return $"the probe file could not be opened ({SystemErrors.Describe(error)})";
                    error = OpenRead(b, out var fb);
                    using (fb)
                    {
                        if (error != 0)
                            return $"the probe file could not be opened ({SystemErrors.Describe(error)})";
                        error = Dedupe(fa, fb, 0, bytes.Length, out long deduped, out bool differs);
                        if (error != 0)
                            return $"FIDEDUPERANGE failed: {SystemErrors.Describe(error)}";
                        if (differs || deduped <= 0)
                            return "the filesystem shared no bytes of two identical files";
                        return null;
                    }
                }
            }
            finally
            {
                HardLinks.Remove(a);
                HardLinks.Remove(b);
            }
        }
    }

    /// <summary>A file descriptor, closed on dispose.</summary>
    public sealed class SafeFd : IDisposable
    {
        [DllImport("libc", EntryPoint = "close")]
        private static extern int close(int fd);

        internal SafeFd(int fd) => Fd = fd;

        public int Fd { get; private set; }

        public void Dispose()
        {
            if (Fd >= 0)
                close(Fd);
            Fd = -1;
        }
    }
}
