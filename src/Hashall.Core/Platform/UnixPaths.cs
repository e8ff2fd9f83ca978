using System;
using System.Runtime.InteropServices;

namespace Hashall.Core.Platform
{
    /// <summary>realpath(3): the canonical path of an existing directory (symlinks in it resolved).</summary>
    internal static class UnixPaths
    {
        [DllImport("libc", EntryPoint = "realpath", SetLastError = true)]
        private static extern unsafe IntPtr realpath(byte* path, IntPtr resolved);

        [DllImport("libc", EntryPoint = "readlink", SetLastError = true)]
        private static extern unsafe IntPtr readlink(byte* path, byte* buffer, IntPtr size);

        /// <summary>The target of a symbolic link, or null.</summary>
        public static unsafe string? ReadLink(string path)
        {
            byte* buffer = stackalloc byte[4096];
            long n;
            fixed (byte* p = FileSystemApi.ToNativePath(path))
                n = (long)readlink(p, buffer, (IntPtr)4096);
            return n <= 0 ? null : System.Text.Encoding.UTF8.GetString(buffer, (int)n);
        }

        [DllImport("libc", EntryPoint = "free")]
        private static extern void free(IntPtr p);

        public static unsafe string RealPath(string path)
        {
            IntPtr result;
            fixed (byte* p = FileSystemApi.ToNativePath(path))
            {
                result = realpath(p, IntPtr.Zero);
            }
            if (result == IntPtr.Zero)
                throw FileSystemApi.ErrorFor(Marshal.GetLastWin32Error(), path);
            try
            {
                return Utf8.FromNul(result);
            }
            finally
            {
                free(result);
            }
        }
    }

    internal static class Utf8
    {
        public static unsafe string FromNul(IntPtr p)
        {
            byte* b = (byte*)p;
            int len = 0;
            while (b[len] != 0) len++;
            return System.Text.Encoding.UTF8.GetString(b, len);
        }
    }
}
