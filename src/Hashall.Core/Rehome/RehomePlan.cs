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
        /// <summary>2: payload hashes relative to the root, per-torrent layouts (RehomeTorrent.TargetPath, Links). 1: hashes included the root's name.</summary>
        public const int CurrentSchemaVersion = 2;

        public int SchemaVersion { get; set; } = CurrentSchemaVersion;
        public DateTime CreatedAt { get; set; }
        public RehomeDirection Direction { get; set; }
        public RehomeDecision Decision { get; set; }
        /// <summary>Why: every external link, every blocking sibling, the copy reused, or the move's target.</summary>
        public List<string> Reasons { get; set; } = new List<string>();
        /// <summary>Why this payload was chosen: the parameter that named it, or the policy it meets (and its place toward -FreeSpaceTarget).</summary>
        public string Reason { get; set; } = "";
        /// <summary>Demotion: the bytes the stash gets back when the source is removed (each inode once, only those with no link outside the plan's source roots).</summary>
        public long FreedBytes { get; set; }
        public string? PayloadHash { get; set; }
        /// <summary>The payload's content hash (names ignored): a REUSE may lay the torrents out from a content twin's files.</summary>
        public string? ContentHash { get; set; }
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
        /// <summary>
        /// Hard links to make on the target, laying out the torrents whose names differ from the copy's
        /// (a sibling under another root folder name): each a path of a torrent's own tree and the file
        /// of the copy at <see cref="TargetPath"/> it links to. The copy's own files are never renamed.
        /// </summary>
        public List<RehomeLink> Links { get; set; } = new List<RehomeLink>();
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
        /// <summary>The torrent's own payload root now (its root folder, or its single file).</summary>
        public string SourcePath { get; set; } = "";
        /// <summary>Relocated torrents: the torrent's own root on the target, its root name kept (the copy itself, or a tree of hard links to it).</summary>
        public string TargetPath { get; set; } = "";
        /// <summary>Relocated torrents: copy (the copy at the plan's TargetPath, or another catalogued copy used as it is) or linked (its own tree of hard links to the copy).</summary>
        public string Layout { get; set; } = "";
    }

    /// <summary>One hard link of a torrent's own layout on the target.</summary>
    public sealed class RehomeLink
    {
        /// <summary>The name to create: a file of a torrent's tree on the target.</summary>
        public string Path { get; set; } = "";
        /// <summary>The copy's file it is a hard link of (same device, no bytes copied).</summary>
        public string LinkTo { get; set; } = "";
        public long Size { get; set; }
    }
}
