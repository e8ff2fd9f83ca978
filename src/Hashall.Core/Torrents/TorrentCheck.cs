using System;
using System.Collections.Generic;

namespace Hashall.Core.Torrents
{
    /// <summary>A torrent's verdict after its pieces were checked against the data on disk.</summary>
    public enum TorrentCheckStatus
    {
        /// <summary>Every file is there with its size and every piece checked is good.</summary>
        Complete,
        /// <summary>Some data is there with the right size but a piece over it fails: bit rot, a bad copy.</summary>
        Damaged,
        /// <summary>Nothing read is damaged, but some files are missing or have another size.</summary>
        Incomplete,
        /// <summary>None of the torrent's data is there (the content path or every file is missing).</summary>
        Missing,
    }

    /// <summary>One file's verdict.</summary>
    public enum FileCheckStatus
    {
        Complete,
        /// <summary>A piece (v1) or a merkle piece (v2) over the file's bytes fails; see <see cref="FileCheck.BadRanges"/>.</summary>
        Damaged,
        /// <summary>Not on disk, or not a regular file there (a folder, a device); see <see cref="FileCheck.Detail"/>.</summary>
        Missing,
        /// <summary>On disk with another size than the torrent's (a truncated or grown file).</summary>
        SizeMismatch,
        /// <summary>On disk inside the torrent's root folder but not listed by the torrent.</summary>
        Extra,
    }

    /// <summary>A range of bytes within one file: [Start, Start + Length).</summary>
    public readonly struct ByteRange : IEquatable<ByteRange>
    {
        public ByteRange(long start, long length)
        {
            Start = start;
            Length = length;
        }

        public long Start { get; }
        public long Length { get; }
        public long End => Start + Length;

        public bool Equals(ByteRange other) => Start == other.Start && Length == other.Length;
        public override bool Equals(object? obj) => obj is ByteRange other && Equals(other);
        public override int GetHashCode() => (Start * 397 ^ Length).GetHashCode();

        /// <summary>As 'start-lastbyte', e.g. '262144-524287'.</summary>
        public override string ToString() => $"{Start}-{End - 1}";
    }

    /// <summary>What stat said of a checked file when it was read: a rerun trusts a verdict only while this holds.</summary>
    public readonly struct FileIdentity
    {
        public FileIdentity(ulong deviceNumber, ulong inode, long size, long mtimeNs, long ctimeNs)
        {
            DeviceNumber = deviceNumber;
            Inode = inode;
            Size = size;
            MtimeNs = mtimeNs;
            CtimeNs = ctimeNs;
        }

        public ulong DeviceNumber { get; }
        public ulong Inode { get; }
        public long Size { get; }
        public long MtimeNs { get; }
        public long CtimeNs { get; }
    }

    /// <summary>One file of a checked torrent (pad files are never listed), or an extra file found in its root.</summary>
    public sealed class FileCheck
    {
        /// <summary>The torrent's path for the file ('/'-separated, below the root folder; the file name for a single-file torrent).</summary>
        public string RelativePath { get; set; } = "";

        /// <summary>Where the file is (or was expected) on disk.</summary>
        public string FullPath { get; set; } = "";

        /// <summary>The size the torrent gives (for an extra file, its size on disk).</summary>
        public long Length { get; set; }

        /// <summary>The size on disk; null when the file is missing.</summary>
        public long? SizeOnDisk { get; set; }

        public FileCheckStatus Status { get; set; }

        /// <summary>Damaged (and SizeMismatch) files: the byte ranges of the file under failed pieces, merged and in order.</summary>
        public IReadOnlyList<ByteRange> BadRanges { get; set; } = Array.Empty<ByteRange>();

        /// <summary>Why, when the status alone does not say: "is a folder", "cannot be read: …", "damaged since its last scan".</summary>
        public string? Detail { get; set; }

        /// <summary>stat of the file when it was opened; null when it was not read (missing, not a file).</summary>
        public FileIdentity? Identity { get; set; }

        /// <summary>Pieces (v1; v2: the file's own pieces) that lie over the file, and how many of those were checked and failed.</summary>
        public int Pieces { get; set; }
        public int PiecesChecked { get; set; }
        public int PiecesBad { get; set; }

        public override string ToString() => $"{Status} {RelativePath}";
    }

    /// <summary>The outcome of checking one torrent's pieces against data on disk.</summary>
    public sealed class TorrentCheck
    {
        /// <summary>qBittorrent's id for the torrent (see <see cref="TorrentMetainfo.Hash"/>).</summary>
        public string Hash { get; set; } = "";
        public string Name { get; set; } = "";
        public TorrentVersion Version { get; set; }

        /// <summary>The root folder (multi-file) or the file (single-file) that was checked.</summary>
        public string ContentPath { get; set; } = "";

        public TorrentCheckStatus Status { get; set; }

        /// <summary>True when only sizes and the first and last piece of each file were checked.</summary>
        public bool Quick { get; set; }

        /// <summary>v1 and hybrid: the v1 pieces; v2: every file's own pieces, summed. Hybrid pieces are good only when both the SHA-1 and the SHA-256 merkle check pass.</summary>
        public int PiecesTotal { get; set; }
        public int PiecesChecked { get; set; }
        public int PiecesGood { get; set; }

        /// <summary>Checked pieces that failed, or could not be read whole (a missing or short file under them).</summary>
        public int PiecesBad { get; set; }

        /// <summary>Bytes read from disk (pad files and missing data are not read).</summary>
        public long BytesRead { get; set; }

        public TimeSpan Duration { get; set; }

        /// <summary>The torrent's files in its order (pad files left out), then any extra files found in the root folder.</summary>
        public IReadOnlyList<FileCheck> Files { get; set; } = Array.Empty<FileCheck>();

        /// <summary>When the pieces were checked (UTC).</summary>
        public DateTime CheckedAt { get; set; }

        /// <summary>True when this is a Complete check the catalog remembers, its files unchanged since, so nothing was read now.</summary>
        public bool Remembered { get; set; }

        /// <summary>Where the metainfo came from: the .torrent file's path, or 'qBittorrent &lt;address&gt;' for an exported torrent.</summary>
        public string Source { get; set; } = "";

        /// <summary>The catalog the check was recorded in.</summary>
        public string Database { get; set; } = "";

        public override string ToString() => $"{Status} {Name}";
    }
}
