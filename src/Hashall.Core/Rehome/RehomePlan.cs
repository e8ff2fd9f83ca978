using System;
using System.Collections.Generic;

namespace Hashall.Core.Rehome
{
    /// <summary>What New-RehomePlan decided for one payload.</summary>
    public enum RehomeDecision
    {
        /// <summary>Must stay: an external hard link, an incomplete payload, the wrong device, a sibling that cannot move, or nothing to reuse when promoting.</summary>
        Block,
        /// <summary>A complete copy with the same payload hash is already on the target device: relocate the torrents onto it.</summary>
        Reuse,
        /// <summary>Copy to the target, verify, relocate the torrents, then remove the source.</summary>
        Move,
    }

    public enum RehomeDirection
    {
        /// <summary>Stash to pool.</summary>
        Demote,
        /// <summary>Pool to stash (reuse-only: never a blind copy).</summary>
        Promote,
    }

    /// <summary>
    /// A reviewed, serialisable plan to rehome one payload and every torrent seeding it. Saved as JSON
    /// (-OutFile) for review; the executor validates it against the catalog and qBittorrent again.
    /// </summary>
    public sealed class RehomePlan
    {
        public const int CurrentSchemaVersion = 1;

        public int SchemaVersion { get; set; } = CurrentSchemaVersion;
        public DateTime CreatedAt { get; set; }
        public RehomeDirection Direction { get; set; }
        public RehomeDecision Decision { get; set; }
        /// <summary>Why: every external link, every blocking sibling, the copy reused, or the move's target.</summary>
        public List<string> Reasons { get; set; } = new List<string>();
        public string? PayloadHash { get; set; }
        public string Name { get; set; } = "";
        public long TotalBytes { get; set; }
        public int FileCount { get; set; }
        public List<string> SeedingRoots { get; set; } = new List<string>();
        public long SourceDeviceId { get; set; }
        public long TargetDeviceId { get; set; }
        /// <summary>The payload's content on the source device (a folder, or a single file).</summary>
        public string SourcePath { get; set; } = "";
        /// <summary>Where the content is (REUSE) or goes (MOVE) on the target device.</summary>
        public string TargetPath { get; set; } = "";
        /// <summary>The save path the relocated torrents get.</summary>
        public string TargetSavePath { get; set; } = "";
        /// <summary>Every sibling torrent, with what the plan does to it.</summary>
        public List<RehomeTorrent> Torrents { get; set; } = new List<RehomeTorrent>();
        /// <summary>Paths of payload files' hard links outside every seeding root (media libraries and the like).</summary>
        public List<string> ExternalLinks { get; set; } = new List<string>();
        public string Database { get; set; } = "";
    }

    /// <summary>A torrent of the payload and its role in the plan.</summary>
    public sealed class RehomeTorrent
    {
        public string TorrentHash { get; set; } = "";
        public string Name { get; set; } = "";
        public string State { get; set; } = "";
        public string SavePath { get; set; } = "";
        public string ContentPath { get; set; } = "";
        /// <summary>relocate (points at the source copy), or elsewhere (a sibling already seeding another copy, left as is).</summary>
        public string Role { get; set; } = "relocate";
    }
}
