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
        /// <summary>At most this many actions (duplicate inodes) in this run; the rest stay pending for the next run.</summary>
        public int? Limit { get; set; }
        /// <summary>At most this many bytes of duplicates in this run (the first action always runs); the rest stay pending.</summary>
        public long? MaximumBytes { get; set; }
    }

    /// <summary>-Limit and -MaximumBytes of one run: counts the actions and bytes taken, says when the next one is one too many.</summary>
    internal sealed class RunLimit
    {
        private readonly int? _actions;
        private readonly long? _bytes;
        private int _actionsTaken;
        private long _bytesTaken;

        public RunLimit(int? actions, long? bytes)
        {
            _actions = actions;
            _bytes = bytes;
        }

        /// <summary>Whether taking one more item of <paramref name="size"/> bytes would pass a limit.</summary>
        public bool Reached(long size) =>
            (_actions != null && _actionsTaken >= _actions)
            || (_bytes != null && _actionsTaken > 0 && _bytesTaken + size > _bytes);

        public void Count(long size)
        {
            _actionsTaken++;
            _bytesTaken += size;
        }
    }

    /// <summary>How an execution reports and asks; every call comes on the thread that runs it.</summary>
    public interface ILinkObserver
    {
        /// <summary>ShouldProcess for one action; false leaves it pending.</summary>
        bool ShouldLink(LinkAction action);
        void Progress(long bytesDone, long bytesTotal, string current);
    }
}
