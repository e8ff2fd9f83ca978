using System.Collections.Generic;

namespace Hashall.Core.Catalog
{
    /// <summary>
    /// Which inodes of one duplicate group hold the same blocks, by the catalog's record of block clones
    /// (table block_clones): an inode recorded as a clone of a base shares the base's data while the base
    /// is in the group with the mtime it had then (the query that reads the records already matched the
    /// inode's own size, mtime and SHA-1). Chains (A a clone of B, B of C) are followed to their end.
    /// </summary>
    public sealed class CloneSharing
    {
        private readonly Dictionary<long, long> _mtimes = new Dictionary<long, long>();
        private readonly Dictionary<long, (long Base, long BaseMtimeNs)> _clones = new Dictionary<long, (long, long)>();

        /// <summary>One file row of the group, with its clone record when it has a matching one.</summary>
        public void Add(long inode, long mtimeNs, long? baseInode, long? baseMtimeNs)
        {
            _mtimes[inode] = mtimeNs;
            if (baseInode is long b && baseMtimeNs is long m && b != inode)
                _clones[inode] = (b, m);
        }

        /// <summary>The inode whose blocks this inode's are (itself when it is no clone, or its base is gone or rewritten).</summary>
        public long Root(long inode)
        {
            var seen = new HashSet<long> { inode };
            while (_clones.TryGetValue(inode, out var clone) && _mtimes.TryGetValue(clone.Base, out long mtime) && mtime == clone.BaseMtimeNs
                   && seen.Add(clone.Base))
                inode = clone.Base;
            return inode;
        }

        /// <summary>Whether the two inodes hold the same blocks by the record.</summary>
        public bool Shared(long a, long b) => _clones.Count > 0 && Root(a) == Root(b);

        /// <summary>Distinct copies of the data among the group's inodes (inodes sharing blocks count once).</summary>
        public int DataCount
        {
            get
            {
                if (_clones.Count == 0)
                    return _mtimes.Count;
                var roots = new HashSet<long>();
                foreach (var inode in _mtimes.Keys)
                    roots.Add(Root(inode));
                return roots.Count;
            }
        }
    }
}
