namespace Hashall.Core.Catalog
{
    /// <summary>One row of the files table, as the scanner compares and rewrites it.</summary>
    public sealed class FileRow
    {
        public long FileId { get; set; }
        public long DeviceId { get; set; }
        /// <summary>Path relative to the filesystem's root, '/'-separated.</summary>
        public string Path { get; set; } = "";
        public long Size { get; set; }
        public long MtimeNs { get; set; }
        public long Inode { get; set; }
        public long LinkCount { get; set; }
        public string? Sha1 { get; set; }
        public string? Sha256 { get; set; }
        public string? QuickHash { get; set; }
        public bool Deleted { get; set; }
        /// <summary>The file's ctime when last seen (ns since the epoch); null when not recorded yet.</summary>
        public long? CtimeNs { get; set; }
        /// <summary>When the scan that read the file's content started (ns since the epoch); null when unknown.</summary>
        public long? HashedScanStartNs { get; set; }

        /// <summary>True when the file on disk is the one this row describes: same size, mtime and inode.</summary>
        public bool SameFileAs(long size, long mtimeNs, long inode) => Size == size && MtimeNs == mtimeNs && Inode == inode;
    }
}
