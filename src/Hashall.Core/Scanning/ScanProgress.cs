using System;

namespace Hashall.Core.Scanning
{
    /// <summary>A snapshot of a running scan, for progress display.</summary>
    public sealed class ScanProgress
    {
        public long FilesSeen { get; set; }
        public long FilesHashed { get; set; }
        public long FilesToHash { get; set; }
        public long BytesHashed { get; set; }
        public long BytesToHash { get; set; }
        /// <summary>True once every root has been walked, so the totals to hash are final.</summary>
        public bool WalkDone { get; set; }
        public string CurrentPath { get; set; } = "";
        public TimeSpan Elapsed { get; set; }
        public double BytesPerSecond => Elapsed.TotalSeconds > 0 ? BytesHashed / Elapsed.TotalSeconds : 0;

        /// <summary>Percent of bytes hashed, once the walk is done; -1 while unknown.</summary>
        public int Percent => WalkDone && BytesToHash > 0 ? (int)Math.Min(100, BytesHashed * 100 / BytesToHash) : -1;

        /// <summary>Seconds left at the current throughput, once knowable; -1 otherwise.</summary>
        public int SecondsRemaining => WalkDone && BytesPerSecond > 0 ? (int)((BytesToHash - BytesHashed) / BytesPerSecond) : -1;
    }
}
