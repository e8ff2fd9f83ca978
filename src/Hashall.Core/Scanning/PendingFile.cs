using Hashall.Core.Platform;

namespace Hashall.Core.Scanning
{
    /// <summary>A regular file the walk found: where it is and what lstat said. The full path is built only if it must be read.</summary>
    internal readonly struct PendingFile
    {
        public PendingFile(string directory, string name, string relativePath, FileStatus status)
        {
            Directory = directory;
            Name = name;
            RelativePath = relativePath;
            Status = status;
        }

        public string Directory { get; }
        public string Name { get; }
        public string RelativePath { get; }
        public FileStatus Status { get; }
        public string FullPath => PathText.Join(Directory, Name);
    }
}
