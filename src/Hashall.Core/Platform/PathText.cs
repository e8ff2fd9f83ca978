using System;

namespace Hashall.Core.Platform
{
    /// <summary>String arithmetic on absolute paths, component-wise ("/mnt/a" is not under "/mnt/ab").</summary>
    public static class PathText
    {
        private static StringComparison Comparison => FileSystemApi.IsWindows ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal;

        public static bool IsUnder(string path, string root)
        {
            root = TrimSeparator(root);
            if (root.Length == 0)
                return path.StartsWith("/", StringComparison.Ordinal);
            if (!path.StartsWith(root, Comparison))
                return false;
            return path.Length == root.Length || IsSeparator(path[root.Length]);
        }

        /// <summary>The part of <paramref name="path"/> under <paramref name="root"/>, '/'-separated, "" when equal.</summary>
        public static string RelativeTo(string path, string root)
        {
            root = TrimSeparator(root);
            if (!IsUnder(path, root))
                throw new ArgumentException($"'{path}' is not under '{root}'.");
            string rest = path.Substring(root.Length).TrimStart('/', '\\');
            return FileSystemApi.IsWindows ? rest.Replace('\\', '/') : rest;
        }

        public static string Join(string directory, string relative)
        {
            if (relative.Length == 0)
                return directory;
            if (FileSystemApi.IsWindows)
                relative = relative.Replace('/', '\\');
            char sep = FileSystemApi.IsWindows ? '\\' : '/';
            return directory.Length > 0 && IsSeparator(directory[directory.Length - 1]) ? directory + relative : directory + sep + relative;
        }

        /// <summary>Joins catalog paths (relative to a filesystem's root, always '/'-separated); either side may be "".</summary>
        public static string JoinRelative(string prefix, string relative) =>
            relative.Length == 0 ? prefix : prefix.Length == 0 ? relative : prefix + "/" + relative;

        /// <summary>
        /// The absolute path of a path relative to a filesystem's root, through a mount of that
        /// filesystem's <paramref name="mountRoot"/> at <paramref name="mountPoint"/>; null when the
        /// path is outside what that mount shows (a bind mount of another directory).
        /// </summary>
        public static string? UnderMount(string mountPoint, string mountRoot, string relative)
        {
            string root = mountRoot.Trim('/');
            if (root.Length == 0)
                return Join(mountPoint, relative);
            if (relative == root)
                return mountPoint;
            return relative.StartsWith(root + "/", StringComparison.Ordinal) ? Join(mountPoint, relative.Substring(root.Length + 1)) : null;
        }

        private static string TrimSeparator(string root) =>
            root.Length > 1 && IsSeparator(root[root.Length - 1]) ? root.TrimEnd('/', '\\') : (root == "/" ? "" : root);

        private static bool IsSeparator(char c) => c == '/' || (FileSystemApi.IsWindows && c == '\\');
    }
}
