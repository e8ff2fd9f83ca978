namespace Hashall.Core.Platform
{
    /// <summary>One entry of a directory listing, with its lstat (for regular files and directories).</summary>
    public readonly struct DirectoryEntry
    {
        public DirectoryEntry(string name, bool validName, FileKind kind, int statError, FileStatus status)
        {
            Name = name;
            ValidName = validName;
            Kind = kind;
            StatError = statError;
            Status = status;
        }

        /// <summary>The name; when <see cref="ValidName"/> is false, a lossy rendering for messages only.</summary>
        public string Name { get; }
        /// <summary>False when the name's bytes are not valid UTF-8 (it cannot be recorded or reopened by this name).</summary>
        public bool ValidName { get; }
        public FileKind Kind { get; }
        /// <summary>0, or the errno/Win32 error of the entry's lstat (e.g. it vanished since the listing).</summary>
        public int StatError { get; }
        public FileStatus Status { get; }
    }
}
