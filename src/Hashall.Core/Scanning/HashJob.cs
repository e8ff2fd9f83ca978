using System.Collections.Generic;
using Hashall.Core.Catalog;
using Hashall.Core.Platform;

namespace Hashall.Core.Scanning
{
    /// <summary>Why a path is being hashed; decides which counter it lands in.</summary>
    internal enum TargetKind
    {
        Added,
        Changed,
        /// <summary>Same file as its row, which lacks a hash this run asks for.</summary>
        Upgrade,
        /// <summary>Candidates mode's second pass: full hashes for a row already counted by the walk.</summary>
        Candidate,
        /// <summary>
        /// Same size, mtime and inode as its row, but that cannot prove the content unchanged: the row was
        /// racily clean, or the ctime moved without a link-count change. Counted as changed only if the
        /// hashes differ.
        /// </summary>
        Recheck,
    }

    /// <summary>One path waiting for the hashes of its inode.</summary>
    internal sealed class HashTarget
    {
        public HashTarget(ScanScope scope, string relativePath, FileStatus status, TargetKind kind, FileRow? row)
        {
            Scope = scope;
            RelativePath = relativePath;
            Status = status;
            Kind = kind;
            Row = row;
        }

        public ScanScope Scope { get; }
        public string RelativePath { get; }
        public FileStatus Status { get; }
        public TargetKind Kind { get; }
        public FileRow? Row { get; }
    }

    /// <summary>
    /// One inode to read: read once, its hashes go to every path of it found in this run. Workers set
    /// Result or Error; only the scanning thread touches Targets.
    /// </summary>
    internal sealed class HashJob
    {
        public HashJob(string fullPath, FileStatus status, bool quick)
        {
            FullPath = fullPath;
            Status = status;
            Quick = quick;
        }

        public string FullPath { get; }
        public FileStatus Status { get; }
        public bool Quick { get; }
        public List<HashTarget> Targets { get; } = new List<HashTarget>();
        public HashResult? Result { get; set; }
        public HashallException? Error { get; set; }
        /// <summary>Paths of the inode the walk has met so far (its entry in the scanner's inode map goes when all are met).</summary>
        public int LinksSeen { get; set; }
        /// <summary>Set once the scanning thread has written the job's rows; later links are written at once.</summary>
        public bool Written { get; set; }
    }
}
