using System;
using System.Collections.Generic;

namespace Hashall.Core.Torrents
{
    /// <summary>How much of a torrent's data the catalog holds, proven against the torrent's pieces.</summary>
    public enum TorrentDataStatus
    {
        /// <summary>Every file of the torrent was found in the catalog and verified.</summary>
        Complete,
        /// <summary>Some files were found and verified; the others are listed in <see cref="TorrentDataMatch.MissingFiles"/>.</summary>
        Partial,
        /// <summary>No file of the torrent was found and verified.</summary>
        None,
    }

    /// <summary>One file of a torrent (pad files are never listed) and the catalogued file proven to hold its bytes.</summary>
    public sealed class TorrentFileMatch
    {
        /// <summary>The torrent's path for the file ('/'-separated below the root folder; the file name for a single-file torrent).</summary>
        public string RelativePath { get; set; } = "";

        public long Length { get; set; }

        /// <summary>The catalogued file whose bytes are the torrent file's; null when none was found or none verified.</summary>
        public string? MatchedPath { get; set; }

        /// <summary>The catalog's device of <see cref="MatchedPath"/> (its id, and its alias or mount point).</summary>
        public long? DeviceId { get; set; }
        public string Device { get; set; } = "";

        /// <summary>Catalogued files of the right size that were considered (before and including the match).</summary>
        public int Candidates { get; set; }

        /// <summary>True when pieces (v1) or merkle pieces (v2) within the file were read and matched; an empty file needs no proof.</summary>
        public bool Verified { get; set; }

        /// <summary>Why no match, or how it was proven, when the fields alone do not say.</summary>
        public string? Detail { get; set; }

        public override string ToString() => MatchedPath == null ? $"(none) {RelativePath}" : $"{RelativePath} <- {MatchedPath}";
    }

    /// <summary>What Find-HashallTorrentData found for one torrent: per file, the catalogued file proven to hold its data.</summary>
    public sealed class TorrentDataMatch
    {
        /// <summary>qBittorrent's id for the torrent (<see cref="TorrentMetainfo.Hash"/>).</summary>
        public string Hash { get; set; } = "";
        public string Name { get; set; } = "";
        public TorrentVersion Version { get; set; }
        public TorrentDataStatus Status { get; set; }

        /// <summary>Bytes of the torrent's files (pad files not counted).</summary>
        public long TotalBytes { get; set; }

        /// <summary>Bytes of the files found and verified.</summary>
        public long BytesMatched { get; set; }

        /// <summary><see cref="BytesMatched"/> / <see cref="TotalBytes"/> (1 for an empty torrent whose files all exist).</summary>
        public double Share { get; set; }

        /// <summary>Bytes read from disk to prove the matches.</summary>
        public long BytesRead { get; set; }

        /// <summary>The device holding most of the matched bytes (id and alias or mount point); null when nothing matched.</summary>
        public long? DeviceId { get; set; }
        public string Device { get; set; } = "";

        /// <summary>True when every matched file is on <see cref="DeviceId"/> (hard links can lay the torrent out there).</summary>
        public bool OneDevice { get; set; }

        public IReadOnlyList<TorrentFileMatch> Files { get; set; } = Array.Empty<TorrentFileMatch>();

        /// <summary>The torrent's paths of the files not found or not verified.</summary>
        public IReadOnlyList<string> MissingFiles { get; set; } = Array.Empty<string>();

        public TimeSpan Duration { get; set; }

        /// <summary>The .torrent file (or 'qBittorrent &lt;address&gt;' for an exported torrent) the metainfo came from.</summary>
        public string Source { get; set; } = "";

        /// <summary>The .torrent file's full path, for Add-HashallTorrent; empty for exported metainfo.</summary>
        public string TorrentFile { get; set; } = "";

        public string Database { get; set; } = "";

        public override string ToString() => $"{Status} {Name}";
    }
}
