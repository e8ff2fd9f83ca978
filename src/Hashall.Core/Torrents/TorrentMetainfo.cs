using System;
using System.Collections.Generic;
using System.IO;
using System.Security.Cryptography;
using System.Text;

namespace Hashall.Core.Torrents
{
    public enum TorrentVersion
    {
        /// <summary>BEP 3: SHA-1 pieces over all files end to end.</summary>
        V1,
        /// <summary>BEP 52 only: a file tree with a SHA-256 merkle tree per file.</summary>
        V2,
        /// <summary>Both halves in one info dictionary, describing the same files (v1 padded to piece boundaries).</summary>
        Hybrid,
    }

    /// <summary>
    /// A parsed .torrent file: v1 (BEP 3, BEP 47 pad files and attributes), v2 (BEP 52) or hybrid.
    /// Parsing is strict: anything malformed, inconsistent or over <see cref="TorrentLimits"/> throws
    /// <see cref="TorrentFileInvalidException"/> (id TorrentFileInvalid) with the byte offset and the
    /// fault. Unknown keys are ignored; keys Hashall reads must have the right type. Decisions where
    /// the specifications leave room:
    /// <list type="bullet">
    /// <item>Dictionary keys must be in strictly ascending raw-byte order everywhere (BEP 3). A repeated
    /// key is refused (which value counts would be a guess); so are unsorted keys: conforming creators
    /// (mktorrent, libtorrent, qBittorrent) never write them, and a client that re-encodes the info
    /// dictionary would get another infohash than one that hashes the bytes.</item>
    /// <item>Piece length: 1 byte to 1 GiB for v1; a power of two from 16 KiB to 1 GiB for v2 and hybrid.
    /// 'pieces' must hold exactly ceil(total / piece length) hashes, pad files counted.</item>
    /// <item>Path components and the name: not empty, '.' or '..'; no '/' or NUL; at most 255 bytes;
    /// valid UTF-8. No two files at one path, no file where another needs a folder (pad files aside,
    /// libtorrent names them all '.pad/N').</item>
    /// <item>v2: every file longer than one piece needs its 'piece layers' entry, of the right length,
    /// whose merkle root (padded as BEP 52 says) is the file's pieces root; layers for no file are ignored.
    /// A 'pieces root' on an empty file is ignored. Pad files in the file tree are refused.</item>
    /// <item>Hybrid: the v1 files, pad files aside, are the v2 files in the same order, with the same
    /// lengths, each non-empty one starting on a piece boundary. The v1 half decides whether the torrent
    /// is single-file; a v2-only torrent is single-file when its tree holds one file at its top.</item>
    /// <item>Tracker URLs must be UTF-8; 'comment' and 'created by' are free text, read with U+FFFD for
    /// invalid bytes rather than refused. 'private' is true only for the integer 1.</item>
    /// </list>
    /// </summary>
    public sealed class TorrentMetainfo
    {
        private const int BlockSize = 16 * 1024;
        private static readonly UTF8Encoding StrictUtf8 = new UTF8Encoding(false, true);

        private TorrentMetainfo() { }

        public TorrentVersion Version { get; private set; }

        /// <summary>The info dictionary's 'name': the single file's name or the root folder's.</summary>
        public string Name { get; private set; } = "";

        public long PieceLength { get; private set; }

        /// <summary>Whether the content is one file (Files has one entry, its path the file name) rather than a folder.</summary>
        public bool IsSingleFile { get; private set; }

        /// <summary>The files in piece order; pad files included for v1 and hybrid torrents.</summary>
        public IReadOnlyList<MetainfoFile> Files { get; private set; } = Array.Empty<MetainfoFile>();

        /// <summary>Bytes of the files, pad files not counted.</summary>
        public long TotalLength { get; private set; }

        /// <summary>Bytes of the piece stream: v1 and hybrid, all files end to end with pad files; v2, every file aligned to a piece boundary.</summary>
        public long PieceStreamLength { get; private set; }

        /// <summary>Number of pieces (v1 pieces for v1 and hybrid; for v2 the sum over files of their pieces).</summary>
        public int PieceCount { get; private set; }

        /// <summary>v1 and hybrid: the SHA-1 of every piece, 20 bytes each, concatenated; null for v2.</summary>
        public byte[]? PieceHashes { get; private set; }

        public bool IsPrivate { get; private set; }

        /// <summary>Tracker tiers: 'announce-list' when present, else 'announce' as the one tier; empty when neither.</summary>
        public IReadOnlyList<IReadOnlyList<string>> AnnounceList { get; private set; } = Array.Empty<IReadOnlyList<string>>();

        public string? Comment { get; private set; }

        public string? CreatedBy { get; private set; }

        public DateTimeOffset? CreationDate { get; private set; }

        /// <summary>Where the info dictionary's bytes start in the file, and how many there are (the infohashes are over exactly these).</summary>
        public int InfoOffset { get; private set; }

        public int InfoLength { get; private set; }

        /// <summary>SHA-1 of the info dictionary (v1 and hybrid); null for v2.</summary>
        public byte[]? InfoHashV1 { get; private set; }

        /// <summary>SHA-256 of the info dictionary (v2 and hybrid); null for v1.</summary>
        public byte[]? InfoHashV2 { get; private set; }

        /// <summary>Lowercase hex of <see cref="InfoHashV1"/>, or "" (as qBittorrent's infohash_v1).</summary>
        public string InfoHashV1Hex => InfoHashV1 == null ? "" : Hex(InfoHashV1, 20);

        /// <summary>Lowercase hex of <see cref="InfoHashV2"/> (64 digits), or "" (as qBittorrent's infohash_v2).</summary>
        public string InfoHashV2Hex => InfoHashV2 == null ? "" : Hex(InfoHashV2, 32);

        /// <summary>qBittorrent's id ('hash'): the v1 infohash, or for v2 and hybrid the v2 infohash cut to 40 hex digits.</summary>
        public string Hash => InfoHashV2 != null ? Hex(InfoHashV2, 20) : InfoHashV1Hex;

        /// <summary>The SHA-1 of v1 piece <paramref name="index"/> (a copy).</summary>
        public byte[] PieceHash(int index)
        {
            if (PieceHashes == null)
                throw new InvalidOperationException("A v2 torrent has no v1 piece hashes.");
            if (index < 0 || index >= PieceCount)
                throw new ArgumentOutOfRangeException(nameof(index));
            var hash = new byte[20];
            Buffer.BlockCopy(PieceHashes, index * 20, hash, 0, 20);
            return hash;
        }

        /// <summary>Reads and parses a .torrent file; a file larger than <see cref="TorrentLimits.MaxFileSize"/> is refused before it is read.</summary>
        public static TorrentMetainfo Load(string path, TorrentLimits? limits = null)
        {
            limits ??= TorrentLimits.Default;
            byte[] data;
            if (Directory.Exists(path))
                throw new HashallException("TorrentFileUnreadable", HashallErrorKind.InvalidArgument, $"'{path}' is a folder, not a torrent file.", path);
            try
            {
                using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.SequentialScan);
                // Read to the end, whatever the reported length (pipes, /proc files report none), never past the limit.
                long reported = stream.CanSeek ? stream.Length : 0;
                if (reported > limits.MaxFileSize)
                    throw new TorrentFileInvalidException(path, limits.MaxFileSize, $"the file is {reported} bytes, more than the {limits.MaxFileSize} a torrent file may have");
                data = new byte[Math.Max(reported, 1) + 1];
                int read = 0;
                while (true)
                {
                    if (read == data.Length)
                    {
                        if (read > limits.MaxFileSize)
                            throw new TorrentFileInvalidException(path, limits.MaxFileSize, $"the file is more than the {limits.MaxFileSize} bytes a torrent file may have");
                        Array.Resize(ref data, (int)Math.Min((long)data.Length * 2, (long)limits.MaxFileSize + 1));
                    }
                    int n = stream.Read(data, read, data.Length - read);
                    if (n == 0)
                        break;
                    read += n;
                }
                Array.Resize(ref data, read);
            }
            catch (FileNotFoundException e)
            {
                throw new HashallException("TorrentFileNotFound", HashallErrorKind.NotFound, $"The torrent file '{path}' does not exist.", path, e);
            }
            catch (DirectoryNotFoundException e)
            {
                throw new HashallException("TorrentFileNotFound", HashallErrorKind.NotFound, $"The torrent file '{path}' does not exist.", path, e);
            }
            catch (UnauthorizedAccessException e)
            {
                throw new HashallException("TorrentFileUnreadable", HashallErrorKind.PermissionDenied, $"The torrent file '{path}' cannot be read: {e.Message}", path, e);
            }
            catch (IOException e)
            {
                throw new HashallException("TorrentFileUnreadable", HashallErrorKind.ReadError, $"The torrent file '{path}' cannot be read: {e.Message}", path, e);
            }
            catch (NotSupportedException e) // a pipe or device without a length
            {
                throw new HashallException("TorrentFileUnreadable", HashallErrorKind.ReadError, $"The torrent file '{path}' cannot be read: {e.Message}", path, e);
            }
            return Parse(data, path, limits);
        }

        /// <summary>Parses metainfo bytes; <paramref name="source"/> names them in error messages.</summary>
        public static TorrentMetainfo Parse(byte[] data, string? source = null, TorrentLimits? limits = null)
        {
            if (data == null)
                throw new ArgumentNullException(nameof(data));
            limits ??= TorrentLimits.Default;
            if (data.Length > limits.MaxFileSize)
                throw new TorrentFileInvalidException(source, limits.MaxFileSize, $"the file is {data.Length} bytes, more than the {limits.MaxFileSize} a torrent file may have");
            var reader = BencodeReader.Parse(data, source, limits);
            return new Parser(reader, limits).Run();
        }

        internal static string Hex(byte[] bytes, int count)
        {
            const string digits = "0123456789abcdef";
            var chars = new char[count * 2];
            for (int i = 0; i < count; i++)
            {
                chars[2 * i] = digits[bytes[i] >> 4];
                chars[2 * i + 1] = digits[bytes[i] & 15];
            }
            return new string(chars);
        }

        private sealed class Parser
        {
            private readonly BencodeReader _r;
            private readonly TorrentLimits _limits;
            private readonly byte[] _d;
            private readonly TorrentMetainfo _m = new TorrentMetainfo();

            public Parser(BencodeReader reader, TorrentLimits limits)
            {
                _r = reader;
                _limits = limits;
                _d = reader.Data;
            }

            private TorrentFileInvalidException Fail(int token, string reason) => _r.Fail(_r[token].Start, reason);

            public TorrentMetainfo Run()
            {
                if (_r[0].Kind != BKind.Dictionary)
                    throw Fail(0, "the top-level value is not a dictionary");
                int info = Need(0, "info", BKind.Dictionary, "the torrent");
                _m.InfoOffset = _r[info].Start;
                _m.InfoLength = _r[info].End - _r[info].Start;

                _m.Name = Component(Need(info, "name", BKind.String, "the info dictionary"), "the torrent name");
                int pieceLength = Need(info, "piece length", BKind.Integer, "the info dictionary");
                long pl = _r[pieceLength].Integer;
                if (pl <= 0 || pl > 1L << 30)
                    throw Fail(pieceLength, $"the piece length {pl} is not between 1 and 1 GiB");
                _m.PieceLength = pl;

                int metaVersion = Optional(info, "meta version", BKind.Integer);
                int fileTree = Optional(info, "file tree", BKind.Dictionary);
                int pieces = Optional(info, "pieces", BKind.String);
                bool v2 = false;
                if (metaVersion >= 0)
                {
                    if (_r[metaVersion].Integer != 2)
                        throw Fail(metaVersion, $"meta version {_r[metaVersion].Integer} is not supported (only 2, BEP 52)");
                    if (fileTree < 0)
                        throw Fail(info, "meta version 2 without a 'file tree'");
                    v2 = true;
                }
                else if (fileTree >= 0)
                    throw Fail(fileTree, "a 'file tree' without 'meta version' 2");
                bool v1 = pieces >= 0;
                if (!v1 && !v2)
                    throw Fail(info, "the info dictionary has neither 'pieces' (v1) nor 'meta version' 2 (v2)");
                if (v2 && ((pl & (pl - 1)) != 0 || pl < BlockSize))
                    throw Fail(pieceLength, $"the piece length {pl} of a v2 torrent is not a power of two of at least 16 KiB");
                _m.Version = v1 && v2 ? TorrentVersion.Hybrid : v1 ? TorrentVersion.V1 : TorrentVersion.V2;

                List<MetainfoFile>? v1Files = v1 ? V1Files(info) : null;
                List<V2File>? v2Files = v2 ? V2Files(fileTree) : null;
                if (v1)
                    V1Pieces(pieces);
                if (v2)
                    PieceLayers(v2Files!);
                if (v1 && v2)
                    Consistent(v1Files!, v2Files!);
                else if (v2)
                    _m.Files = V2Layout(v2Files!);
                if (v1)
                    _m.Files = v1Files!;
                if (v1 && !v2)
                    NoDuplicatePaths(); // a v2 file tree cannot have them (unique keys; an entry is a file or a folder), and hybrid v1 lists equal it

                Outer();
                if (v1)
                    using (var sha1 = SHA1.Create())
                        _m.InfoHashV1 = sha1.ComputeHash(_d, _m.InfoOffset, _m.InfoLength);
                if (v2)
                    using (var sha256 = SHA256.Create())
                        _m.InfoHashV2 = sha256.ComputeHash(_d, _m.InfoOffset, _m.InfoLength);
                return _m;
            }

            // ---- v1 ----

            private List<MetainfoFile> V1Files(int info)
            {
                int files = Optional(info, "files", BKind.List);
                int length = Optional(info, "length", BKind.Integer);
                var result = new List<MetainfoFile>();
                long total = 0, content = 0;
                if (files >= 0 && length >= 0)
                    throw Fail(length, "the info dictionary has both 'length' (one file) and 'files' (a folder)");
                if (length >= 0)
                {
                    long n = Length(length, 0);
                    string attr = Attributes(info);
                    result.Add(new MetainfoFile(new[] { _m.Name }, n, 0, attr, Symlink(info, attr)) { SourceOffset = _r[info].Start });
                    total = content = n;
                    _m.IsSingleFile = true;
                }
                else if (files >= 0)
                {
                    int end = _r[files].Next;
                    string[]? previous = null;
                    if (files + 1 == end)
                        throw Fail(files, "the 'files' list is empty");
                    for (int f = files + 1; f < end; f = _r[f].Next)
                    {
                        if (_r[f].Kind != BKind.Dictionary)
                            throw Fail(f, "an entry of 'files' is not a dictionary");
                        long n = Length(Need(f, "length", BKind.Integer, "a file entry"), total);
                        int pathList = Need(f, "path", BKind.List, "a file entry");
                        var path = Path(pathList, "a file path", previous);
                        previous = path;
                        string attr = Attributes(f);
                        if (attr.IndexOf('l') >= 0 && n != 0)
                            throw Fail(f, $"the symlink '{string.Join("/", path)}' has a length of {n} bytes");
                        result.Add(new MetainfoFile(path, n, total, attr, Symlink(f, attr)) { SourceOffset = _r[f].Start });
                        total += n;
                        if (attr.IndexOf('p') < 0)
                            content += n;
                    }
                }
                else
                    throw Fail(info, "the info dictionary has neither 'length' nor 'files'");
                _m.PieceStreamLength = total;
                _m.TotalLength = content;
                return result;
            }

            /// <summary>A file length: not negative, and the running total stays within the limit.</summary>
            private long Length(int token, long totalSoFar)
            {
                long n = _r[token].Integer;
                if (n < 0)
                    throw Fail(token, $"the file length {n} is negative");
                if (n > _limits.MaxTotalLength - totalSoFar)
                    throw Fail(token, $"the files add up to more than {_limits.MaxTotalLength} bytes");
                return n;
            }

            private void V1Pieces(int pieces)
            {
                int bytes = _r[pieces].DataLength;
                if (bytes % 20 != 0)
                    throw Fail(pieces, $"'pieces' is {bytes} bytes, not a multiple of 20");
                long expected = (_m.PieceStreamLength + _m.PieceLength - 1) / _m.PieceLength;
                if (bytes / 20 != expected)
                    throw Fail(pieces, $"'pieces' holds {bytes / 20} hashes but {_m.PieceStreamLength} bytes in pieces of {_m.PieceLength} make {expected}");
                _m.PieceCount = bytes / 20;
                _m.PieceHashes = Copy(pieces);
            }

            private string Attributes(int dict)
            {
                int attr = Optional(dict, "attr", BKind.String);
                if (attr < 0)
                    return "";
                for (int i = _r[attr].DataStart; i < _r[attr].End; i++)
                    if (_d[i] < (byte)'a' || _d[i] > (byte)'z')
                        throw _r.Fail(i, "'attr' holds something other than lowercase letters (BEP 47)");
                return Encoding.ASCII.GetString(_d, _r[attr].DataStart, _r[attr].DataLength);
            }

            private IReadOnlyList<string>? Symlink(int dict, string attr)
            {
                if (attr.IndexOf('l') < 0)
                    return null;
                return Path(Need(dict, "symlink path", BKind.List, "a symlink entry"), "a symlink target", null);
            }

            /// <summary>Path components; a folder name equal to the previous file's at the same depth is the same string (100,000 files, few folders).</summary>
            private string[] Path(int list, string what, string[]? previous)
            {
                int end = _r[list].Next;
                if (list + 1 == end)
                    throw Fail(list, $"{what} has no components");
                int count = 0;
                for (int c = list + 1; c < end; c = _r[c].Next)
                    count++;
                var path = new string[count];
                int i = 0;
                for (int c = list + 1; c < end; c = _r[c].Next)
                {
                    if (_r[c].Kind != BKind.String)
                        throw Fail(c, $"a component of {what} is not a string");
                    path[i] = previous != null && i < previous.Length - 1 && i < count - 1 && SameText(c, previous[i])
                        ? previous[i]
                        : Component(c, what, component: true);
                    i++;
                }
                return path;
            }

            /// <summary>Whether a string token's bytes are this (already validated) text, when it is ASCII.</summary>
            private bool SameText(int token, string text)
            {
                int start = _r[token].DataStart, n = _r[token].DataLength;
                if (n != text.Length)
                    return false;
                for (int i = 0; i < n; i++)
                    if (text[i] >= 0x80 || _d[start + i] != text[i])
                        return false;
                return true;
            }

            /// <summary>A file name: not empty, '.' or '..'; no '/' or NUL; at most 255 bytes; valid UTF-8.</summary>
            private string Component(int token, string what, bool component = false)
            {
                int start = _r[token].DataStart, n = _r[token].DataLength;
                if (n == 0)
                    throw Fail(token, $"{W()} is empty");
                if (n > 255)
                    throw Fail(token, $"{W()} is {n} bytes, longer than the 255 a file name may have");
                for (int i = start; i < start + n; i++)
                {
                    if (_d[i] == 0)
                        throw _r.Fail(i, $"{W()} contains a NUL byte");
                    if (_d[i] == (byte)'/')
                        throw _r.Fail(i, $"{W()} contains '/'");
                }
                if (_d[start] == (byte)'.' && (n == 1 || (n == 2 && _d[start + 1] == (byte)'.')))
                    throw Fail(token, $"{W()} is '{(n == 1 ? "." : "..")}'");
                return Utf8(token, what, component);

                string W() => component ? "a component of " + what : what;
            }

            private string Utf8(int token, string what, bool component = false)
            {
                try
                {
                    return StrictUtf8.GetString(_d, _r[token].DataStart, _r[token].DataLength);
                }
                catch (DecoderFallbackException)
                {
                    throw Fail(token, $"{(component ? "a component of " : "")}{what} is not valid UTF-8");
                }
            }

            // ---- v2 ----

            private sealed class V2File
            {
                public string[] Path = Array.Empty<string>();
                public long Length;
                public string Attributes = "";
                public IReadOnlyList<string>? Symlink;
                public byte[]? Root;
                public byte[]? Layer;
                public int Token;
            }

            private List<V2File> V2Files(int fileTree)
            {
                var files = new List<V2File>();
                var prefix = new List<string>();
                long total = 0;
                Directory(fileTree, prefix, files, ref total);
                return files;
            }

            private void Directory(int dir, List<string> prefix, List<V2File> files, ref long total)
            {
                int end = _r[dir].Next;
                if (dir + 1 == end)
                    throw Fail(dir, prefix.Count == 0 ? "the 'file tree' is empty" : $"the folder '{string.Join("/", prefix)}' of the file tree is empty");
                for (int k = dir + 1; k < end; k = _r[k + 1].Next)
                {
                    int value = k + 1;
                    if (_r[k].DataLength == 0)
                        throw Fail(k, prefix.Count == 0 ? "the 'file tree' has a file without a name" : $"the folder '{string.Join("/", prefix)}' of the file tree mixes a file entry ('') with other entries");
                    string name = Component(k, "a file tree name");
                    if (_r[value].Kind != BKind.Dictionary)
                        throw Fail(value, $"the file tree entry '{name}' is not a dictionary");
                    int entry = _r.Find(value, "");
                    prefix.Add(name);
                    if (entry >= 0)
                    {
                        if (_r[value].Next != _r[entry].Next) // '' sorts first: anything after the file entry is another key
                            throw Fail(value, $"the file entry '{string.Join("/", prefix)}' has keys besides ''");
                        if (_r[entry].Kind != BKind.Dictionary)
                            throw Fail(entry, $"the file entry '{string.Join("/", prefix)}' is not a dictionary");
                        var file = new V2File { Path = prefix.ToArray(), Token = k };
                        file.Attributes = Attributes(entry);
                        if (file.Attributes.IndexOf('p') >= 0)
                            throw Fail(entry, $"the file tree entry '{string.Join("/", prefix)}' is a pad file (pad files belong in the v1 'files' list only)");
                        file.Symlink = Symlink(entry, file.Attributes);
                        int length = Optional(entry, "length", BKind.Integer);
                        if (length < 0 && file.Symlink == null) // libtorrent writes no length for a symlink
                            throw Fail(entry, $"the file entry '{string.Join("/", prefix)}' has no 'length'");
                        file.Length = length < 0 ? 0 : Length(length, total);
                        if (file.Symlink != null && file.Length != 0)
                            throw Fail(length, $"the symlink '{string.Join("/", prefix)}' has a length of {file.Length} bytes");
                        total += file.Length;
                        int root = Optional(entry, "pieces root", BKind.String);
                        if (file.Length > 0 && file.Symlink == null)
                        {
                            if (root < 0)
                                throw Fail(entry, $"the file '{string.Join("/", prefix)}' has no 'pieces root'");
                            if (_r[root].DataLength != 32)
                                throw Fail(root, $"the 'pieces root' of '{string.Join("/", prefix)}' is {_r[root].DataLength} bytes, not 32");
                            file.Root = Copy(root);
                        }
                        files.Add(file);
                    }
                    else
                        Directory(value, prefix, files, ref total);
                    prefix.RemoveAt(prefix.Count - 1);
                }
            }

            /// <summary>Checks 'piece layers' (in the outer dictionary) for every file longer than a piece: the right length, and the merkle root it makes is the file's pieces root.</summary>
            private void PieceLayers(List<V2File> files)
            {
                long pl = _m.PieceLength;
                int layers = Optional(0, "piece layers", BKind.Dictionary);
                Dictionary<string, int>? byRoot = null;
                if (layers >= 0)
                {
                    byRoot = new Dictionary<string, int>(StringComparer.Ordinal);
                    int end = _r[layers].Next;
                    for (int k = layers + 1; k < end; k = _r[k + 1].Next)
                    {
                        if (_r[k].DataLength != 32)
                            throw Fail(k, $"a 'piece layers' key is {_r[k].DataLength} bytes, not a 32-byte pieces root");
                        if (_r[k + 1].Kind != BKind.String)
                            throw Fail(k + 1, "a 'piece layers' value is not a string");
                        byRoot[Convert.ToBase64String(_d, _r[k].DataStart, 32)] = k + 1;
                    }
                }
                byte[]? pad = null;
                long pieceCount = 0;
                using var sha = SHA256.Create();
                foreach (var file in files)
                {
                    long filePieces = (file.Length + pl - 1) / pl;
                    pieceCount += filePieces;
                    if (pieceCount > int.MaxValue)
                        throw Fail(file.Token, $"the files make more than {int.MaxValue} pieces");
                    if (file.Length <= pl || file.Root == null)
                        continue;
                    string where = string.Join("/", file.Path);
                    if (byRoot == null || !byRoot.TryGetValue(Convert.ToBase64String(file.Root), out int layer))
                        throw Fail(layers >= 0 ? layers : 0, $"'piece layers' has no layer for '{where}' ({file.Length} bytes, more than one piece)");
                    if (_r[layer].DataLength != filePieces * 32)
                        throw Fail(layer, $"the piece layer of '{where}' is {_r[layer].DataLength} bytes, not the {filePieces * 32} its {filePieces} pieces need");
                    pad ??= Merkle.PadHash(sha, pl);
                    var root = MerkleRoot(sha, _r[layer].DataStart, (int)filePieces, pad);
                    if (!Equal(root, file.Root))
                        throw Fail(layer, $"the piece layer of '{where}' does not hash to its pieces root");
                    file.Layer = Copy(layer);
                }
                if (_m.Version == TorrentVersion.V2)
                    _m.PieceCount = (int)pieceCount;
            }

            private byte[] MerkleRoot(SHA256 sha, int start, int count, byte[] pad)
            {
                int width = Merkle.Width(count);
                var level = new byte[width * 32];
                Buffer.BlockCopy(_d, start, level, 0, count * 32);
                Merkle.Reduce(sha, level, count, width, pad);
                var root = new byte[32];
                Buffer.BlockCopy(level, 0, root, 0, 32);
                return root;
            }

            /// <summary>v2 only: the files, each aligned to a piece boundary; single-file when the tree holds one file at its top.</summary>
            private List<MetainfoFile> V2Layout(List<V2File> files)
            {
                var result = new List<MetainfoFile>(files.Count);
                long offset = 0, content = 0;
                long pl = _m.PieceLength;
                foreach (var f in files)
                {
                    result.Add(new MetainfoFile(f.Path, f.Length, offset, f.Attributes, f.Symlink) { PiecesRoot = f.Root, PieceLayer = f.Layer, SourceOffset = _r[f.Token].Start });
                    content += f.Length;
                    offset += (f.Length + pl - 1) / pl * pl;
                }
                _m.IsSingleFile = files.Count == 1 && files[0].Path.Length == 1;
                _m.TotalLength = content;
                _m.PieceStreamLength = offset;
                return result;
            }

            /// <summary>Hybrid: the v1 files (pad files aside) are the v2 files in the same order, and each starts on a piece boundary.</summary>
            private void Consistent(List<MetainfoFile> v1Files, List<V2File> v2Files)
            {
                int next = 0;
                foreach (var f in v1Files)
                {
                    if (f.IsPad)
                        continue;
                    string where = f.RelativePath;
                    if (next >= v2Files.Count)
                        throw _r.Fail(f.SourceOffset, $"hybrid torrent: the v1 file '{where}' is not in the v2 file tree");
                    var g = v2Files[next++];
                    if (!SamePath(f.Path, g.Path))
                        throw Fail(g.Token, $"hybrid torrent: the v1 file '{where}' is '{string.Join("/", g.Path)}' in the v2 file tree");
                    if (f.Length != g.Length)
                        throw Fail(g.Token, $"hybrid torrent: '{where}' is {f.Length} bytes in v1 and {g.Length} in v2");
                    if (f.Length > 0 && f.Offset % _m.PieceLength != 0)
                        throw Fail(g.Token, $"hybrid torrent: '{where}' starts at byte {f.Offset} of the v1 pieces, not on a piece boundary");
                    f.PiecesRoot = g.Root;
                    f.PieceLayer = g.Layer;
                }
                if (next < v2Files.Count)
                    throw Fail(v2Files[next].Token, $"hybrid torrent: the v2 file '{string.Join("/", v2Files[next].Path)}' is not in the v1 file list");
            }

            private static bool SamePath(IReadOnlyList<string> a, string[] b)
            {
                if (a.Count != b.Length)
                    return false;
                for (int i = 0; i < b.Length; i++)
                    if (!string.Equals(a[i], b[i], StringComparison.Ordinal))
                        return false;
                return true;
            }

            /// <summary>No two files (pad files aside) at one path, and no file where another needs a folder.</summary>
            private void NoDuplicatePaths()
            {
                if (_m.Files.Count < 2)
                    return;
                var files = new HashSet<string>(StringComparer.Ordinal);
                var folders = new HashSet<string>(StringComparer.Ordinal);
                var text = new StringBuilder();
                IReadOnlyList<string>? previous = null;
                foreach (var f in _m.Files)
                {
                    if (f.IsPad)
                        continue;
                    text.Clear();
                    int same = 0; // leading folders shared with the previous file are in 'folders' already
                    if (previous != null)
                        while (same < f.Path.Count - 1 && same < previous.Count - 1 && ReferenceEquals(f.Path[same], previous[same]))
                            same++;
                    previous = f.Path;
                    for (int i = 0; i < f.Path.Count - 1; i++)
                    {
                        if (i > 0)
                            text.Append('/');
                        text.Append(f.Path[i]);
                        if (i < same)
                            continue;
                        string folder = text.ToString();
                        if (files.Contains(folder))
                            throw _r.Fail(f.SourceOffset, $"'{folder}' is a file and also the folder of '{f.RelativePath}'");
                        folders.Add(folder);
                    }
                    string path = f.RelativePath;
                    if (!files.Add(path))
                        throw _r.Fail(f.SourceOffset, $"two files have the path '{path}'");
                    if (folders.Contains(path))
                        throw _r.Fail(f.SourceOffset, $"'{path}' is a file and also a folder of other files");
                }
            }

            // ---- outside 'info' ----

            private void Outer()
            {
                int priv = Optional(_r.Find(0, "info"), "private", BKind.Integer);
                _m.IsPrivate = priv >= 0 && _r[priv].Integer == 1;
                var tiers = new List<IReadOnlyList<string>>();
                int list = Optional(0, "announce-list", BKind.List);
                if (list >= 0)
                {
                    for (int tier = list + 1; tier < _r[list].Next; tier = _r[tier].Next)
                    {
                        if (_r[tier].Kind != BKind.List)
                            throw Fail(tier, "an 'announce-list' tier is not a list");
                        var urls = new List<string>();
                        for (int u = tier + 1; u < _r[tier].Next; u = _r[u].Next)
                        {
                            if (_r[u].Kind != BKind.String)
                                throw Fail(u, "a tracker in 'announce-list' is not a string");
                            urls.Add(Utf8(u, "a tracker URL"));
                        }
                        if (urls.Count > 0)
                            tiers.Add(urls);
                    }
                }
                int announce = Optional(0, "announce", BKind.String);
                if (tiers.Count == 0 && announce >= 0 && _r[announce].DataLength > 0)
                    tiers.Add(new[] { Utf8(announce, "the tracker URL") });
                _m.AnnounceList = tiers;
                int comment = Optional(0, "comment", BKind.String);
                if (comment >= 0)
                    _m.Comment = Lenient(comment);
                int createdBy = Optional(0, "created by", BKind.String);
                if (createdBy >= 0)
                    _m.CreatedBy = Lenient(createdBy);
                int date = Optional(0, "creation date", BKind.Integer);
                if (date >= 0 && _r[date].Integer >= 0 && _r[date].Integer <= 253402300799L)
                    _m.CreationDate = DateTimeOffset.FromUnixTimeSeconds(_r[date].Integer);
            }

            /// <summary>Free text (comment, created by): invalid UTF-8 shown as U+FFFD rather than refused.</summary>
            private string Lenient(int token) => Encoding.UTF8.GetString(_d, _r[token].DataStart, _r[token].DataLength);

            // ---- helpers ----

            private int Need(int dict, string key, BKind kind, string what)
            {
                int value = _r.Find(dict, key);
                if (value < 0)
                    throw Fail(dict, $"{what} has no '{key}'");
                if (_r[value].Kind != kind)
                    throw Fail(value, $"'{key}' is {Describe(_r[value].Kind)}, not {Describe(kind)}");
                return value;
            }

            private int Optional(int dict, string key, BKind kind)
            {
                int value = _r.Find(dict, key);
                if (value >= 0 && _r[value].Kind != kind)
                    throw Fail(value, $"'{key}' is {Describe(_r[value].Kind)}, not {Describe(kind)}");
                return value;
            }

            private static string Describe(BKind kind) => kind switch
            {
                BKind.Integer => "an integer",
                BKind.String => "a string",
                BKind.List => "a list",
                _ => "a dictionary",
            };

            private byte[] Copy(int token)
            {
                var bytes = new byte[_r[token].DataLength];
                Buffer.BlockCopy(_d, _r[token].DataStart, bytes, 0, bytes.Length);
                return bytes;
            }

            private static bool Equal(byte[] a, byte[] b)
            {
                if (a.Length != b.Length)
                    return false;
                for (int i = 0; i < a.Length; i++)
                    if (a[i] != b[i])
                        return false;
                return true;
            }
        }
    }
}
