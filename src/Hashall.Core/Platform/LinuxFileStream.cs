using System.Runtime.CompilerServices;
using System;
using System.IO;
using System.Runtime.InteropServices;

namespace Hashall.Core.Platform
{
    /// <summary>
    /// A read-only file opened with open(2) and read with read(2): for hashing many small files,
    /// FileStream's extra work per open (full-path normalisation, fstat, flock) costs more than the
    /// hashing. Opens with O_NOFOLLOW, so a symlink swapped in after the walk is refused, not read.
    /// </summary>
    internal sealed class LinuxFileStream : Stream
    {
        private const int ORdOnly = 0, OCloExec = 0x80000;
        private const int PosixFadvSequential = 2;
        private const int ENOENT = 2, EACCES = 13, EPERM = 1, ELOOP = 40;
        private int _fd;

        [DllImport("libc", EntryPoint = "open", SetLastError = true)]
        private static extern unsafe int open(byte* path, int flags, int mode);

        [DllImport("libc", EntryPoint = "read", SetLastError = true)]
        private static extern unsafe IntPtr read(int fd, byte* buffer, IntPtr count);

        [DllImport("libc", EntryPoint = "lseek", SetLastError = true)]
        private static extern long lseek(int fd, long offset, int whence);

        [DllImport("libc", EntryPoint = "close")]
        private static extern int close(int fd);

        [DllImport("libc", EntryPoint = "posix_fadvise")]
        private static extern int posix_fadvise(int fd, long offset, long length, int advice);

        private LinuxFileStream(int fd, string path)
        {
            _fd = fd;
            Path = path;
        }

        public string Path { get; }

        /// <summary>O_NOFOLLOW differs by architecture (x64 0400000, arm64 0100000).</summary>
        private static int ONoFollow => RuntimeInformation.ProcessArchitecture == Architecture.Arm64 || RuntimeInformation.ProcessArchitecture == Architecture.Arm ? 0x8000 : 0x20000;

        [MethodImpl(HotPath.Optimize)]
        public static unsafe LinuxFileStream Open(string path, bool sequential)
        {
            int fd;
            fixed (byte* p = FileSystemApi.ToNativePath(path))
            {
                do
                {
                    fd = open(p, ORdOnly | OCloExec | ONoFollow, 0);
                } while (fd < 0 && Marshal.GetLastWin32Error() == 4); // EINTR
            }
            if (fd < 0)
            {
                int errno = Marshal.GetLastWin32Error();
                switch (errno)
                {
                    case ENOENT: throw new FileNotFoundException($"'{path}' does not exist.", path);
                    case EACCES: case EPERM: throw new UnauthorizedAccessException($"Permission denied: '{path}'.");
                    case ELOOP: throw new IOException($"'{path}' became a symbolic link after it was listed.");
                    default: throw new IOException($"Cannot open '{path}': {SystemErrors.Describe(errno)}.");
                }
            }
            if (sequential)
                posix_fadvise(fd, 0, 0, PosixFadvSequential);
            return new LinuxFileStream(fd, path);
        }

        [MethodImpl(HotPath.Optimize)]
        public override unsafe int Read(byte[] buffer, int offset, int count)
        {
            if (offset < 0 || count < 0 || offset + count > buffer.Length)
                throw new ArgumentOutOfRangeException(nameof(count));
            while (true)
            {
                long n;
                fixed (byte* b = buffer)
                {
                    n = (long)read(_fd, b + offset, (IntPtr)count);
                }
                if (n >= 0)
                    return (int)n;
                int errno = Marshal.GetLastWin32Error();
                if (errno != 4)
                    throw new IOException($"Reading '{Path}' failed: {SystemErrors.Describe(errno)}.");
            }
        }

        public override long Seek(long offset, SeekOrigin origin)
        {
            long at = lseek(_fd, offset, (int)origin);
            if (at < 0)
                throw new IOException($"Seeking in '{Path}' failed: {SystemErrors.Describe(Marshal.GetLastWin32Error())}.");
            return at;
        }

        public override long Position
        {
            get => Seek(0, SeekOrigin.Current);
            set => Seek(value, SeekOrigin.Begin);
        }

        public override bool CanRead => true;
        public override bool CanSeek => true;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override void Flush() { }
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (_fd >= 0)
            {
                close(_fd);
                _fd = -1;
            }
            base.Dispose(disposing);
        }
    }
}
