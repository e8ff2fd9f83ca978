using System.Collections.Generic;

namespace Hashall.Core.Torrents
{
    /// <summary>One file of a torrent's metainfo (a pad file too, for v1 and hybrid torrents).</summary>
    public sealed class MetainfoFile
    {
        internal MetainfoFile(IReadOnlyList<string> path, long length, long offset, string attributes, IReadOnlyList<string>? symlinkPath)
        {
            Path = path;
            Length = length;
            Offset = offset;
            Attributes = attributes;
            SymlinkPath = symlinkPath;
        }

        /// <summary>
        /// Path components below the torrent's root folder (multi-file) or the single file's name alone
        /// (single-file torrent). Each is a valid file name: not empty, not '.' or '..', no '/' or NUL, at most 255 UTF-8 bytes.
        /// </summary>
        public IReadOnlyList<string> Path { get; }

        /// <summary>The path components joined with '/'.</summary>
        public string RelativePath => _relativePath ??= string.Join("/", Path);

        private string? _relativePath;

        public long Length { get; }

        /// <summary>
        /// Where the file starts in the v1 piece stream (all files, pad files included, end to end). For a
        /// v2-only torrent, where it starts in the same stream with every file aligned to a piece boundary
        /// (as if padded, the way libtorrent lays it out).
        /// </summary>
        public long Offset { get; }

        /// <summary>BEP 47 attributes as written ('p' pad, 'x' executable, 'h' hidden, 'l' symlink); empty when none.</summary>
        public string Attributes { get; }

        /// <summary>A BEP 47 pad file: zeros that only align the next file to a piece boundary; never on disk.</summary>
        public bool IsPad => Attributes.IndexOf('p') >= 0;

        public bool IsExecutable => Attributes.IndexOf('x') >= 0;

        public bool IsHidden => Attributes.IndexOf('h') >= 0;

        /// <summary>For a symlink ('l'), its target's path components relative to the torrent's root; else null.</summary>
        public IReadOnlyList<string>? SymlinkPath { get; }

        /// <summary>v2 and hybrid: the root of the file's merkle tree of 16 KiB SHA-256 leaves (32 bytes); null for empty files, pad files and v1 torrents.</summary>
        public byte[]? PiecesRoot { get; internal set; }

        /// <summary>
        /// v2 and hybrid files longer than one piece: the SHA-256 hashes of the file's pieces (32 bytes
        /// each, from 'piece layers'), checked against <see cref="PiecesRoot"/>. Null otherwise (a file of
        /// one piece has the root as its only piece hash).
        /// </summary>
        public byte[]? PieceLayer { get; internal set; }

        /// <summary>Where the file's entry is in the .torrent file (for error messages).</summary>
        internal int SourceOffset { get; set; }

        public override string ToString() => RelativePath;
    }
}
