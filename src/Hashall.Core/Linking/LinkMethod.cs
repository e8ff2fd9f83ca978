namespace Hashall.Core.Linking
{
    /// <summary>How a link plan makes a duplicate stop taking space of its own.</summary>
    public enum LinkMethod
    {
        /// <summary>Replace each duplicate path by a hard link of the canonical file (the paths then share one inode and its metadata).</summary>
        HardLink,
        /// <summary>
        /// Share the canonical file's blocks (Linux FIDEDUPERANGE on btrfs, XFS with reflink, and other
        /// copy-on-write filesystems): each duplicate keeps its inode, owner, mode and times, and the
        /// kernel compares the bytes before sharing them.
        /// </summary>
        Clone,
    }
}
