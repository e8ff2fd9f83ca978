using System.Collections.Generic;
using System.Linq;

namespace Hashall.Core.Catalog
{
    /// <summary>Files on one device with the same size and SHA-1 but more than one inode: space a hardlink can reclaim.</summary>
    public sealed class DuplicateGroup
    {
        public long DeviceId { get; set; }
        public string Device { get; set; } = "";
        public long Size { get; set; }
        public string Sha1 { get; set; } = "";
        public IList<HashallFile> Files { get; } = new List<HashallFile>();
        public int InodeCount => Files.Select(f => f.Inode).Distinct().Count();
        public int FileCount => Files.Count;
        /// <summary>Inodes whose blocks a block clone made another inode's of the group (Invoke-HashallLinkPlan of a Clone plan): they take no space of their own.</summary>
        public int ClonedInodeCount => InodeCount - Sharing.DataCount;
        /// <summary>Bytes freed by making every inode but one a hard link or block clone of it (inodes that already share blocks count once).</summary>
        public long ReclaimableBytes => Size * (Sharing.DataCount - 1);
        internal CloneSharing Sharing { get; } = new CloneSharing();
        public string[] Paths => Files.Select(f => f.FullName).ToArray();
        public long[] Inodes => Files.Select(f => f.Inode).Distinct().ToArray();
        public string Database { get; set; } = "";
    }
}
