using System;
using System.Collections.Generic;

namespace Hashall.Core.QBittorrent
{
    /// <summary>A torrent as qBittorrent's torrents/info reports it (the fields Hashall uses).</summary>
    public sealed class TorrentInfo
    {
        /// <summary>qBittorrent's torrent id: the v1 infohash, or for v2/hybrid torrents the v2 infohash cut to 40 hex digits.</summary>
        public string Hash { get; set; } = "";
        public string InfohashV1 { get; set; } = "";
        public string InfohashV2 { get; set; } = "";
        public string Name { get; set; } = "";
        public string SavePath { get; set; } = "";
        /// <summary>The file (single-file torrent) or root folder (multi-file) on disk.</summary>
        public string ContentPath { get; set; } = "";
        /// <summary>Where an unfinished torrent's data is kept when qBittorrent uses a separate download folder; empty otherwise.</summary>
        public string DownloadPath { get; set; } = "";
        public string Category { get; set; } = "";
        public IList<string> Tags { get; set; } = new List<string>();
        public string State { get; set; } = "";
        public double Progress { get; set; }
        public long TotalSize { get; set; }
        /// <summary>completion_on: when it finished downloading (null while incomplete).</summary>
        public DateTime? CompletionOn { get; set; }
        /// <summary>seeding_time: how long it has seeded, in total.</summary>
        public TimeSpan SeedingTime { get; set; }
        /// <summary>ratio: uploaded over downloaded (qBittorrent caps it at 9999).</summary>
        public double Ratio { get; set; }
        /// <summary>last_activity: its last upload or download (qBittorrent says when it was added when it never had any).</summary>
        public DateTime? LastActivity { get; set; }
    }

    /// <summary>One file of a torrent (torrents/files): its name includes the torrent's root folder.</summary>
    public sealed class TorrentFile
    {
        public string Name { get; set; } = "";
        public long Size { get; set; }
        /// <summary>qBittorrent's download priority: 0 means not selected (not downloaded).</summary>
        public int Priority { get; set; } = 1;
    }
}
