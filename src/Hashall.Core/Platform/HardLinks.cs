using System;
using System.Runtime.InteropServices;

namespace Hashall.Core.Platform
{
    /// <summary>link(2), rename(2) and unlink(2) (Windows: CreateHardLinkW, MoveFileExW, DeleteFileW), returning the error code.</summary>
    public static class HardLinks
    {
        public const int EEXIST = 17, ENOTEMPTY = 39, EXDEV = 18, EMLINK = 31, ENOENT = 2, EACCES = 13, EPERM = 1, EROFS = 30, ENOSPC = 28;

        [DllImport("libc", EntryPoint = "link", SetLastError = true)]
        private static extern unsafe int link(byte* existing, byte* created);

        [DllImport("libc", EntryPoint = "rename", SetLastError = true)]
        private static extern unsafe int rename(byte* from, byte* to);

        [DllImport("libc", EntryPoint = "renameat2", SetLastError = true)]
        private static extern unsafe int renameat2(int olddirfd, byte* from, int newdirfd, byte* to, uint flags);

        [DllImport("libc", EntryPoint = "renamex_np", SetLastError = true)]
        private static extern unsafe int renamex_np(byte* from, byte* to, uint flags);

        [DllImport("libc", EntryPoint = "unlink", SetLastError = true)]
        private static extern unsafe int unlink(byte* path);

        [DllImport("kernel32.dll", CharSet = CharSet.Unicode, SetLastError = true)]
        private static extern bool CreateHardLinkW(string created, string existing, IntPtr security);

        [DllImport("kernel32.dll", CharSet = CharSet.Unicode, SetLastError = true)]
        private static extern bool MoveFileExW(string from, string to, uint flags);

        [DllImport("kernel32.dll", CharSet = CharSet.Unicode, SetLastError = true)]
        private static extern bool DeleteFileW(string path);

        /// <summary>Creates <paramref name="created"/> as a new name of <paramref name="existing"/>; 0 or the error code.</summary>
        public static unsafe int Link(string existing, string created)
        {
            if (FileSystemApi.IsWindows)
                return CreateHardLinkW(created, existing, IntPtr.Zero) ? 0 : Marshal.GetLastWin32Error();
            fixed (byte* e = FileSystemApi.ToNativePath(existing))
            fixed (byte* c = FileSystemApi.ToNativePath(created))
                return link(e, c) == 0 ? 0 : Marshal.GetLastWin32Error();
        }

        /// <summary>Atomically replaces <paramref name="to"/> by <paramref name="from"/>; 0 or the error code.</summary>
        public static unsafe int Replace(string from, string to)
        {
            if (FileSystemApi.IsWindows)
                return MoveFileExW(from, to, 0x1 /* MOVEFILE_REPLACE_EXISTING */) ? 0 : Marshal.GetLastWin32Error();
            fixed (byte* f = FileSystemApi.ToNativePath(from))
            fixed (byte* t = FileSystemApi.ToNativePath(to))
                return rename(f, t) == 0 ? 0 : Marshal.GetLastWin32Error();
        }

        /// <summary>
        /// Renames <paramref name="from"/> to <paramref name="to"/> only if nothing is there (EEXIST
        /// otherwise): never replaces a file or an empty folder that appeared meanwhile. Linux
        /// renameat2(RENAME_NOREPLACE), macOS renamex_np(RENAME_EXCL), Windows MoveFileExW without
        /// replacement; 0 or the error code.
        /// </summary>
        public static unsafe int RenameNoReplace(string from, string to)
        {
            if (FileSystemApi.IsWindows)
                return MoveFileExW(from, to, 0) ? 0 : Marshal.GetLastWin32Error();
            fixed (byte* f = FileSystemApi.ToNativePath(from))
            fixed (byte* t = FileSystemApi.ToNativePath(to))
            {
                try
                {
                    int rc = FileSystemApi.IsMacOS ? renamex_np(f, t, 0x4 /* RENAME_EXCL */) : renameat2(-100 /* AT_FDCWD */, f, -100, t, 1 /* RENAME_NOREPLACE */);
                    return rc == 0 ? 0 : Marshal.GetLastWin32Error();
                }
                catch (EntryPointNotFoundException)
                {
                    // glibc before 2.28: check, then rename (a narrow race, as before renameat2 existed)
                    if (FileSystemApi.TryLstat(to, out _) == 0)
                        return EEXIST;
                    return rename(f, t) == 0 ? 0 : Marshal.GetLastWin32Error();
                }
            }
        }

        public static unsafe int Remove(string path)
        {
            if (FileSystemApi.IsWindows)
                return DeleteFileW(path) ? 0 : Marshal.GetLastWin32Error();
            fixed (byte* p = FileSystemApi.ToNativePath(path))
                return unlink(p) == 0 ? 0 : Marshal.GetLastWin32Error();
        }

        /// <summary>Plain words for the errors a link or rename meets.</summary>
        public static string Describe(int error)
        {
            if (FileSystemApi.IsWindows)
                return error == 1142 ? "the file has too many hard links (NTFS allows 1023)" : SystemErrors.Describe(error);
            switch (error)
            {
                case EMLINK: return "the canonical file has reached the filesystem's limit of hard links";
                case EXDEV: return "the two paths are on different filesystems";
                case EACCES: case EPERM: return "permission denied (the directory is not writable, or is sticky and owned by another user)";
                case EROFS: return "the filesystem is read-only";
                case ENOSPC: return "no space left for a new directory entry";
                case ENOENT: return "the path no longer exists";
                default: return SystemErrors.Describe(error);
            }
        }
    }
}
