using System;
using System.IO;
using System.Runtime.InteropServices;
using Hashall.Core.Platform;

namespace Hashall.Core.Torrents
{
    /// <summary>What is on disk where a torrent expects one of its files: a regular file (perhaps through a symlink), or why not.</summary>
    internal readonly struct ContentFile
    {
        private ContentFile(string? readPath, FileStatus status, string? detail)
        {
            ReadPath = readPath;
            Status = status;
            Detail = detail;
        }

        /// <summary>The regular file to read (the symlink's target when the torrent's path is a symlink); null when there is none.</summary>
        public string? ReadPath { get; }

        /// <summary>lstat of <see cref="ReadPath"/>.</summary>
        public FileStatus Status { get; }

        /// <summary>Why it is missing ("is a folder", "is a FIFO", …); null when it is there, or simply absent.</summary>
        public string? Detail { get; }

        public bool Exists => ReadPath != null;

        private const int ENOENT = 2, ENOTDIR = 20;

        /// <summary>lstat of <paramref name="path"/>; a symlink is followed to a regular file, never to anything else. Never opens the path.</summary>
        public static ContentFile Find(string path)
        {
            int error = FileSystemApi.TryLstat(path, out var status);
            if (error != 0)
                return Absent(error);
            if (status.Kind == FileKind.SymbolicLink)
            {
                string? target = Resolve(path);
                if (target == null)
                    return new ContentFile(null, default, "is a symbolic link to nothing");
                error = FileSystemApi.TryLstat(target, out status);
                if (error != 0)
                    return new ContentFile(null, default, "is a symbolic link to nothing");
                if (status.Kind != FileKind.Regular)
                    return new ContentFile(null, default, "is a symbolic link to " + KindText(target, status.Kind));
                return new ContentFile(target, status, null);
            }
            if (status.Kind != FileKind.Regular)
                return new ContentFile(null, default, "is " + KindText(path, status.Kind));
            return new ContentFile(path, status, null);
        }

        private static ContentFile Absent(int error) =>
            error == ENOENT || (error == ENOTDIR && !FileSystemApi.IsWindows) || (FileSystemApi.IsWindows && (error == 2 || error == 3))
                ? new ContentFile(null, default, null)
                : new ContentFile(null, default, "cannot be read: " + SystemErrors.Describe(error));

        private static string KindText(string path, FileKind kind)
        {
            if (kind == FileKind.Directory)
                return "a folder";
            if (FileSystemApi.IsWindows || FileSystemApi.IsMacOS)
                return "not a regular file (a FIFO, socket or device)";
            switch (LinuxStat.TypeBits(FileSystemApi.ToNativePath(path)))
            {
                case 0x1000: return "a FIFO";
                case 0x2000: return "a character device";
                case 0x6000: return "a block device";
                case 0xC000: return "a socket";
                default: return "not a regular file";
            }
        }

        /// <summary>
        /// The name libtorrent (so qBittorrent) gives a path component on disk: control characters become
        /// '_'; '\\' and the writing-direction marks U+200E, U+200F, U+202A–U+202E are dropped. Null when that is the name itself.
        /// </summary>
        public static string? LibtorrentName(string component)
        {
            System.Text.StringBuilder? text = null;
            for (int i = 0; i < component.Length; i++)
            {
                char c = component[i];
                bool drop = c == '\\' || c == '\u200E' || c == '\u200F' || (c >= '\u202A' && c <= '\u202E');
                bool replace = c < ' ';
                if (!drop && !replace)
                {
                    text?.Append(c);
                    continue;
                }
                text ??= new System.Text.StringBuilder(component, 0, i, component.Length);
                if (replace)
                    text.Append('_');
            }
            return text?.ToString();
        }

        [DllImport("libc", EntryPoint = "realpath", SetLastError = true)]
        private static extern unsafe IntPtr realpath(byte* path, IntPtr resolved);

        [DllImport("libc", EntryPoint = "free")]
        private static extern void free(IntPtr pointer);

        /// <summary>The symlink's final target as an absolute path without links, or null when it leads nowhere.</summary>
        private static unsafe string? Resolve(string path)
        {
            if (FileSystemApi.IsWindows)
            {
                // No realpath: .NET follows the link when it opens; use the path itself when a file is there.
                return File.Exists(path) ? path : null;
            }
            IntPtr result;
            fixed (byte* p = FileSystemApi.ToNativePath(path))
                result = realpath(p, IntPtr.Zero);
            if (result == IntPtr.Zero)
                return null;
            try
            {
                int length = 0;
                while (((byte*)result)[length] != 0)
                    length++;
                return System.Text.Encoding.UTF8.GetString((byte*)result, length);
            }
            finally
            {
                free(result);
            }
        }
    }
}
