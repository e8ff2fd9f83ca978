using System;
using System.Collections.Generic;

namespace Hashall.Core.Scanning
{
    /// <summary>What one Invoke-HashallScan run did, over all its roots.</summary>
    public sealed class ScanResult
    {
        public IList<string> Roots { get; } = new List<string>();
        public ScanMode Mode { get; set; }
        /// <summary>Regular files found under the roots.</summary>
        public long Seen { get; set; }
        public long Added { get; set; }
        public long Changed { get; set; }
        public long Unchanged { get; set; }
        /// <summary>
        /// Files read again although size, mtime and inode were unchanged: racily clean when last hashed
        /// (mtime within 2 s of that scan's start), or ctime moved without a new hard link. Each also
        /// counts as Unchanged or Changed, by its hashes.
        /// </summary>
        public long Rechecked { get; set; }
        /// <summary>Files found at a new path with the same inode, size and mtime as a path that is gone: renamed, not re-read.</summary>
        public long Moved { get; set; }
        public long Deleted { get; set; }
        /// <summary>Files read (hard links of one inode are read once).</summary>
        public long Hashed { get; set; }
        public long BytesHashed { get; set; }
        public long Errors { get; set; }
        /// <summary>Filesystems mounted under a root; crossed only with -CrossMount.</summary>
        public IList<string> NestedMounts { get; } = new List<string>();
        /// <summary>False when the run was stopped (Ctrl+C): finished work is saved, nothing was marked deleted.</summary>
        public bool Completed { get; set; }
        public TimeSpan Duration { get; set; }
        /// <summary>Bytes hashed per second of the run.</summary>
        public double BytesPerSecond => Duration.TotalSeconds > 0 ? BytesHashed / Duration.TotalSeconds : 0;
        public string Database { get; set; } = "";
    }
}
