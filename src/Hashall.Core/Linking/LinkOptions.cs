namespace Hashall.Core.Linking
{
    /// <summary>How a duplicate is confirmed identical to its canonical file before it is replaced.</summary>
    public enum LinkVerification
    {
        /// <summary>Compare the two files byte for byte (reads both). The default: hashes can collide, and torrent content comes from strangers.</summary>
        Bytes,
        /// <summary>Trust the catalog's SHA-1 when size, mtime and inode are unchanged since the scan (reads nothing).</summary>
        Hash,
    }

    public sealed class LinkOptions
    {
        public LinkVerification Verify { get; set; } = LinkVerification.Bytes;
        /// <summary>Link even when the two files' owner, group or permissions differ (the path then shows the canonical file's).</summary>
        public bool Force { get; set; }
    }

    /// <summary>How an execution reports and asks; every call comes on the thread that runs it.</summary>
    public interface ILinkObserver
    {
        /// <summary>ShouldProcess for one action; false leaves it pending.</summary>
        bool ShouldLink(LinkAction action);
        void Progress(long bytesDone, long bytesTotal, string current);
    }
}
