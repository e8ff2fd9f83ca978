using System;
using System.Collections.Generic;

namespace Hashall.Core.Payloads
{
    /// <summary>The content tree a torrent points to (or any directory or file), identified by its payload hash.</summary>
    public sealed class HashallPayload
    {
        /// <summary>0 when computed on request (Get-HashallPayload -Path) rather than stored by a sync.</summary>
        public long PayloadId { get; set; }
        /// <summary>Null while incomplete.</summary>
        public string? PayloadHash { get; set; }
        /// <summary>SHA-256 over the files' "{size}|{sha1}" lines, names ignored (see Payloads.ContentHash): content twins share it. Null while incomplete.</summary>
        public string? ContentHash { get; set; }
        /// <summary>complete (every file has a SHA-1 in the catalog) or incomplete.</summary>
        public string Status { get; set; } = "incomplete";
        public long? DeviceId { get; set; }
        public string Device { get; set; } = "";
        /// <summary>The root's path relative to its filesystem's root (absolute when on no catalogued device).</summary>
        public string RootPath { get; set; } = "";
        public string FullName { get; set; } = "";
        public int FileCount { get; set; }
        public long TotalBytes { get; set; }
        public int MissingCount { get; set; }
        /// <summary>The files, when built in this run; the ones lacking a SHA-1 say why in Missing.</summary>
        public IList<PayloadFile> Files { get; set; } = new List<PayloadFile>();
        /// <summary>"path: reason" for every file without a usable SHA-1 (what to scan).</summary>
        public IList<string> MissingFiles { get; set; } = new List<string>();
        public DateTime? BuiltAt { get; set; }
        public string Database { get; set; } = "";
    }

    /// <summary>A torrent qBittorrent has (or had), mapped to its payload.</summary>
    public sealed class HashallTorrent
    {
        /// <summary>qBittorrent's torrent id ("hash").</summary>
        public string TorrentHash { get; set; } = "";
        public string? InfohashV1 { get; set; }
        public string? InfohashV2 { get; set; }
        public string Name { get; set; } = "";
        public long? PayloadId { get; set; }
        public string? PayloadHash { get; set; }
        /// <summary>Its payload's content hash: the same for torrents of the same bytes under other names.</summary>
        public string? ContentHash { get; set; }
        public string PayloadStatus { get; set; } = "incomplete";
        public long? DeviceId { get; set; }
        public string Device { get; set; } = "";
        public string SavePath { get; set; } = "";
        public string ContentPath { get; set; } = "";
        public string Category { get; set; } = "";
        public string[] Tags { get; set; } = Array.Empty<string>();
        public string State { get; set; } = "";
        public DateTime FirstSeen { get; set; }
        public DateTime LastSeen { get; set; }
        /// <summary>When a sync stopped finding it in qBittorrent (null while present).</summary>
        public DateTime? GoneAt { get; set; }
        /// <summary>The qBittorrent it was read from (its Web UI address).</summary>
        public string Instance { get; set; } = "";
        /// <summary>When it finished downloading, as of the last sync (null: incomplete, or synced before the catalog recorded it).</summary>
        public DateTime? CompletedOn { get; set; }
        /// <summary>How long it had seeded at the last sync (null: not recorded).</summary>
        public TimeSpan? SeedingTime { get; set; }
        /// <summary>Its share ratio at the last sync (null: not recorded).</summary>
        public double? Ratio { get; set; }
        /// <summary>Its last upload or download as of the last sync (when it was added, if it never had any; null: not recorded).</summary>
        public DateTime? LastActivity { get; set; }
        /// <summary>Linked, NotLinked or Unknown against the seeding roots (see LinkStatusCalculator); null until computed.</summary>
        public LinkStatus? LinkStatus { get; set; }
        /// <summary>Paths outside every seeding root that share an inode with its files (a media library); empty until computed.</summary>
        public string[] ExternalLinks { get; set; } = Array.Empty<string>();
        public string Database { get; set; } = "";
    }

    /// <summary>What one Sync-HashallPayload run did.</summary>
    public sealed class PayloadSyncResult
    {
        public string QBittorrentVersion { get; set; } = "";
        public string WebApiVersion { get; set; } = "";
        public int Torrents { get; set; }
        public int Complete { get; set; }
        public int Incomplete { get; set; }
        public int Added { get; set; }
        public int Updated { get; set; }
        /// <summary>Torrents of the synced selection that qBittorrent no longer has, now marked gone.</summary>
        public int Gone { get; set; }
        /// <summary>Distinct complete payload hashes shared by more than one torrent.</summary>
        public int SiblingGroups { get; set; }
        public bool WhatIf { get; set; }
        public TimeSpan Duration { get; set; }
        public string Database { get; set; } = "";
    }
}
