using System;

namespace Hashall.Core.Scanning
{
    public sealed class ScanOptions
    {
        public ScanMode Mode { get; set; } = ScanMode.Full;
        /// <summary>Full hashes to compute; SHA-1 is always added.</summary>
        public HashAlgorithms Algorithms { get; set; } = HashAlgorithms.Sha1;
        /// <summary>Files hashed at once (default: one per core).</summary>
        public int ThrottleLimit { get; set; } = Environment.ProcessorCount;
        /// <summary>Walk into other filesystems mounted under a root (as their own devices).</summary>
        public bool CrossMounts { get; set; }
        /// <summary>Least time between two progress reports.</summary>
        public TimeSpan ProgressInterval { get; set; } = TimeSpan.FromMilliseconds(250);
    }
}
