using System;
using System.Runtime.InteropServices;
using System.Text;

namespace Hashall.Core.Platform
{
    /// <summary>The platform's lstat, with errors turned into <see cref="HashallException"/>s that name the path.</summary>
    public static class FileSystemApi
    {
        public static bool IsWindows { get; } = RuntimeInformation.IsOSPlatform(OSPlatform.Windows);
        public static bool IsMacOS { get; } = RuntimeInformation.IsOSPlatform(OSPlatform.OSX);

        /// <summary>lstat; returns 0 or the platform's error code (errno, or a Win32 error on Windows).</summary>
        public static int TryLstat(string path, out FileStatus status)
        {
            if (IsWindows)
                return WindowsStat.TryLstat(path, out status);
            return TryLstat(ToNativePath(path), out status);
        }

        /// <summary>lstat of a raw, NUL-terminated Unix path (names need not be valid UTF-8).</summary>
        public static int TryLstat(byte[] nulTerminatedPath, out FileStatus status) =>
            IsMacOS ? MacStat.TryLstat(nulTerminatedPath, out status) : LinuxStat.TryLstat(nulTerminatedPath, out status);

        public static FileStatus Lstat(string path)
        {
            int error = TryLstat(path, out var status);
            if (error != 0)
                throw ErrorFor(error, path);
            return status;
        }

        public static byte[] ToNativePath(string path)
        {
            var bytes = new byte[Encoding.UTF8.GetByteCount(path) + 1];
            Encoding.UTF8.GetBytes(path, 0, path.Length, bytes, 0);
            return bytes;
        }

        /// <summary>An error naming the path, with a stable id for the common errno/Win32 codes.</summary>
        public static HashallException ErrorFor(int error, string path)
        {
            if (IsWindows)
            {
                switch (error)
                {
                    case 2: case 3: return new HashallException("PathNotFound", HashallErrorKind.NotFound, $"Path not found: '{path}'.", path);
                    case 5: return new HashallException("PathAccessDenied", HashallErrorKind.PermissionDenied, $"Access denied: '{path}'.", path);
                    case 206: return new HashallException("PathTooLong", HashallErrorKind.InvalidArgument, $"Path too long: '{path}'.", path);
                }
            }
            else
            {
                switch (error)
                {
                    case 2: case 20: return new HashallException("PathNotFound", HashallErrorKind.NotFound, $"Path not found: '{path}'.", path);
                    case 1: case 13: return new HashallException("PathAccessDenied", HashallErrorKind.PermissionDenied, $"Permission denied: '{path}'.", path);
                    case 36 when !IsMacOS: case 63 when IsMacOS: return new HashallException("PathTooLong", HashallErrorKind.InvalidArgument, $"Path too long: '{path}'.", path);
                }
            }
            return new HashallException("PathStatFailed", HashallErrorKind.ReadError, $"Cannot read the status of '{path}': {SystemErrors.Describe(error)}.", path);
        }
    }
}
