using System;
using System.Collections.Generic;
using Hashall.Core.QBittorrent;

namespace Hashall.Core.Torrents
{
    /// <summary>How an Add-HashallTorrent run for one torrent ended.</summary>
    public enum TorrentSeedStatus
    {
        /// <summary>Laid out, added to qBittorrent, checked at the expected progress, and started (or left stopped with -NoStart).</summary>
        Added,
        /// <summary>-Repair: the missing files laid out where qBittorrent expects them, rechecked at the expected progress, started.</summary>
        Repaired,
        /// <summary>Laid out and added (or repaired), but qBittorrent's recheck did not reach the expected progress in time: left stopped.</summary>
        Incomplete,
        /// <summary>A step failed: the links and the torrent this run made were removed again.</summary>
        RolledBack,
    }

    /// <summary>What Add-HashallTorrent is asked to do for one torrent.</summary>
    public sealed class SeedRequest
    {
        public TorrentDataMatch Match { get; set; } = new TorrentDataMatch();
        public TorrentMetainfo Meta { get; set; } = null!;
        /// <summary>The .torrent file's bytes (added to qBittorrent as they are); not needed for a repair.</summary>
        public byte[]? TorrentBytes { get; set; }
        public string TorrentFileName { get; set; } = "";
        public bool Repair { get; set; }
        /// <summary>The folder the torrent's root goes into (qBittorrent's save path).</summary>
        public string SavePath { get; set; } = "";
        public string? Category { get; set; }
        public IReadOnlyList<string> Tags { get; set; } = Array.Empty<string>();
        /// <summary>Copy (verified) the matched files that are on another device than the save path, instead of refusing.</summary>
        public bool AllowCopy { get; set; }
        /// <summary>How long to wait for qBittorrent's recheck to reach the expected progress.</summary>
        public TimeSpan CheckTimeout { get; set; } = TimeSpan.FromMinutes(10);
        /// <summary>Leave the torrent stopped even when its recheck reached the expected progress.</summary>
        public bool NoStart { get; set; }
    }

    /// <summary>One name of the layout: a hard link to a matched file, a verified copy of one, or a file already there.</summary>
    public sealed class SeedAction
    {
        /// <summary>link, copy, done (made by an earlier run of this job), or keep (a repair: qBittorrent's own file, left as it is).</summary>
        public string Kind { get; set; } = "link";
        public string Target { get; set; } = "";
        public string? Source { get; set; }
        public long Size { get; set; }
        /// <summary>The torrent's path of the file ('/'-separated, below the root folder).</summary>
        public string RelativePath { get; set; } = "";
        /// <summary>The catalog's device of the source (Find-HashallTorrentData's match), to find its SHA-1 for a copy's check.</summary>
        public long? SourceDeviceId { get; set; }

        public override string ToString() => $"{Kind} {Target}" + (Source != null ? $" <- {Source}" : "");
    }

    /// <summary>What a run will do for one torrent, decided before anything changes (every refusal comes from here).</summary>
    public sealed class SeedPlan
    {
        public SeedRequest Request { get; set; } = new SeedRequest();
        public string Hash { get; set; } = "";
        public string Name { get; set; } = "";
        public string Instance { get; set; } = "";
        public string SavePath { get; set; } = "";
        /// <summary>The torrent's content path: its root folder, or its file for a single-file torrent.</summary>
        public string ContentPath { get; set; } = "";
        /// <summary>Folders to create, parents first.</summary>
        public List<string> Folders { get; } = new List<string>();
        public List<SeedAction> Actions { get; } = new List<SeedAction>();
        /// <summary>The progress qBittorrent reports once its recheck has passed every piece whose files are all laid out (pad files not counted).</summary>
        public double ExpectedProgress { get; set; }
        /// <summary>The torrent as qBittorrent has it (a repair, or a resumed add); null when it is not there.</summary>
        public TorrentInfo? Existing { get; set; }
        /// <summary>True when a job of an earlier, interrupted run is resumed.</summary>
        public bool Resumes { get; set; }
    }

    /// <summary>Add-HashallTorrent's result for one torrent.</summary>
    public sealed class TorrentSeedResult
    {
        public string Hash { get; set; } = "";
        public string Name { get; set; } = "";
        public TorrentSeedStatus Status { get; set; }
        public string SavePath { get; set; } = "";
        public string ContentPath { get; set; } = "";
        /// <summary>Hard links in the layout (made now, or by the interrupted run this one resumed).</summary>
        public int Links { get; set; }
        /// <summary>Verified copies in the layout (-AllowCopy).</summary>
        public int Copies { get; set; }
        /// <summary>Files already in place that were left as they are (-Repair).</summary>
        public int Kept { get; set; }
        public long BytesLinked { get; set; }
        public long BytesCopied { get; set; }
        public double ExpectedProgress { get; set; }
        /// <summary>qBittorrent's progress after its recheck (0 to 1).</summary>
        public double Progress { get; set; }
        /// <summary>qBittorrent's state at the end.</summary>
        public string State { get; set; } = "";
        public string Category { get; set; } = "";
        public string[] Tags { get; set; } = Array.Empty<string>();
        /// <summary>True when this run resumed an interrupted one.</summary>
        public bool Resumed { get; set; }
        public long JobId { get; set; }
        /// <summary>Why the torrent is Incomplete or RolledBack.</summary>
        public string? ErrorId { get; set; }
        public string? Message { get; set; }
        public TimeSpan Duration { get; set; }
        public string Instance { get; set; } = "";
        public string Database { get; set; } = "";

        public override string ToString() => $"{Status} {Name}";
    }
}
