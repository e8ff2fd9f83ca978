using System;
using System.Collections.Generic;
using System.IO;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;

namespace Hashall.Core.Platform
{
    /// <summary>
    /// Lists a directory with every entry's lstat. On Linux: getdents64 on the directory's descriptor
    /// and statx relative to it (as find does: no path re-walk per file), with names checked as
    /// UTF-8 byte for byte. Elsewhere: .NET enumeration and lstat by full path.
    /// </summary>
    public static class DirectoryListing
    {
        private const int ORdOnly = 0, OCloExec = 0x80000;
        private const byte DtUnknown = 0, DtDir = 4, DtReg = 8, DtLnk = 10;
        private const int ENOENT = 2;
        private static readonly UTF8Encoding StrictUtf8 = new UTF8Encoding(false, throwOnInvalidBytes: true);
        private static bool _useGetdents = !FileSystemApi.IsWindows && !FileSystemApi.IsMacOS;

        [DllImport("libc", EntryPoint = "open", SetLastError = true)]
        private static extern unsafe int open(byte* path, int flags, int mode);

        [DllImport("libc", EntryPoint = "getdents64", SetLastError = true)]
        private static extern unsafe IntPtr getdents64(int fd, byte* buffer, IntPtr count);

        [DllImport("libc", EntryPoint = "close")]
        private static extern int close(int fd);

        /// <summary>The entries of <paramref name="directory"/>; throws a HashallException naming it when it cannot be listed.</summary>
        public static List<DirectoryEntry> Read(string directory)
        {
            if (_useGetdents)
            {
                try
                {
                    return ReadLinux(directory);
                }
                catch (EntryPointNotFoundException)
                {
                    _useGetdents = false; // glibc before 2.30 (or musl) has no getdents64 wrapper
                }
            }
            return ReadPortable(directory);
        }

        [MethodImpl(HotPath.Optimize)]
        private static unsafe List<DirectoryEntry> ReadLinux(string directory)
        {
            int fd;
            fixed (byte* p = FileSystemApi.ToNativePath(directory))
                fd = open(p, ORdOnly | OCloExec | ODirectory | ONoFollow, 0);
            if (fd < 0)
                throw ListError(Marshal.GetLastWin32Error(), directory);
            var entries = new List<DirectoryEntry>();
            // Pooled: a walk lists every folder, and a fresh 64 KiB each time is garbage the GC must chase.
            byte[] buffer = System.Buffers.ArrayPool<byte>.Shared.Rent(64 * 1024);
            try
            {
                fixed (byte* buf = buffer)
                {
                    while (true)
                    {
                        long n = (long)getdents64(fd, buf, (IntPtr)buffer.Length);
                        if (n < 0)
                            throw ListError(Marshal.GetLastWin32Error(), directory);
                        if (n == 0)
                            break;
                        for (long at = 0; at < n;)
                        {
                            // struct linux_dirent64 { u64 d_ino; s64 d_off; u16 d_reclen; u8 d_type; char d_name[]; }
                            ushort reclen = *(ushort*)(buf + at + 16);
                            byte type = buf[at + 18];
                            byte* name = buf + at + 19;
                            int length = 0;
                            while (name[length] != 0)
                                length++;
                            at += reclen;
                            if ((length == 1 && name[0] == '.') || (length == 2 && name[0] == '.' && name[1] == '.'))
                                continue;
                            entries.Add(Entry(fd, name, length, type));
                        }
                    }
                }
            }
            finally
            {
                close(fd);
                System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
            }
            return entries;
        }

        [MethodImpl(HotPath.Optimize)]
        private static unsafe DirectoryEntry Entry(int dirFd, byte* name, int length, byte type)
        {
            string text;
            bool valid = true;
            try
            {
                text = StrictUtf8.GetString(name, length);
            }
            catch (DecoderFallbackException)
            {
                text = Encoding.UTF8.GetString(name, length);
                valid = false;
            }
            if (type == DtLnk)
                return new DirectoryEntry(text, valid, FileKind.SymbolicLink, 0, default);
            if (type != DtReg && type != DtDir && type != DtUnknown)
                return new DirectoryEntry(text, valid, FileKind.Other, 0, default);
            int error = LinuxStat.TryLstatAt(dirFd, name, out var status);
            return new DirectoryEntry(text, valid, error == 0 ? status.Kind : FileKind.Other, error, status);
        }

        private static List<DirectoryEntry> ReadPortable(string directory)
        {
            var entries = new List<DirectoryEntry>();
            IEnumerable<string> names;
            try
            {
                names = Directory.EnumerateFileSystemEntries(directory);
                foreach (var full in names)
                {
                    string name = Path.GetFileName(full);
                    int error = FileSystemApi.TryLstat(full, out var status);
                    // .NET decodes names that are not UTF-8 lossily (U+FFFD): such a name then cannot be found again.
                    bool valid = !(error == ENOENT && name.IndexOf('\uFFFD') >= 0);
                    entries.Add(new DirectoryEntry(name, valid, error == 0 ? status.Kind : FileKind.Other, valid ? error : 0, status));
                }
            }
            catch (UnauthorizedAccessException e)
            {
                throw new HashallException("DirectoryUnreadable", HashallErrorKind.PermissionDenied, $"Cannot list directory '{directory}': {e.Message}", directory, e);
            }
            catch (DirectoryNotFoundException e)
            {
                throw new HashallException("DirectoryVanished", HashallErrorKind.ReadError, $"Directory '{directory}' vanished before it could be listed.", directory, e);
            }
            catch (IOException e)
            {
                throw new HashallException("DirectoryUnreadable", HashallErrorKind.ReadError, $"Cannot list directory '{directory}': {e.Message}", directory, e);
            }
            return entries;
        }

        private static HashallException ListError(int errno, string directory)
        {
            switch (errno)
            {
                case 1: case 13:
                    return new HashallException("DirectoryUnreadable", HashallErrorKind.PermissionDenied, $"Permission denied listing directory '{directory}'.", directory);
                case 2: case 20: case 40: // gone, or replaced by a file or a symlink since it was seen
                    return new HashallException("DirectoryVanished", HashallErrorKind.ReadError, $"Directory '{directory}' vanished (or was replaced) before it could be listed.", directory);
                case 36:
                    return new HashallException("PathTooLong", HashallErrorKind.InvalidArgument, $"Path too long: '{directory}'.", directory);
                default:
                    return new HashallException("DirectoryUnreadable", HashallErrorKind.ReadError, $"Cannot list directory '{directory}': {SystemErrors.Describe(errno)}.", directory);
            }
        }

        /// <summary>O_DIRECTORY and O_NOFOLLOW differ by architecture (x64: 0200000, 0400000; arm64: 040000, 0100000).</summary>
        private static bool Arm => RuntimeInformation.ProcessArchitecture == Architecture.Arm64 || RuntimeInformation.ProcessArchitecture == Architecture.Arm;
        private static int ODirectory => Arm ? 0x4000 : 0x10000;
        private static int ONoFollow => Arm ? 0x8000 : 0x20000;
    }
}
