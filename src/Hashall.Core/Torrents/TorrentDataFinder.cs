using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Security.Cryptography;
using System.Threading;
using Hashall.Core.Catalog;
using Hashall.Core.Devices;
using Hashall.Core.Platform;
using Microsoft.Data.Sqlite;

namespace Hashall.Core.Torrents
{
    public sealed class TorrentDataOptions
    {
        /// <summary>Devices whose catalogued files may hold the data; null: every device.</summary>
        public IReadOnlyCollection<long>? DeviceIds { get; set; }

        /// <summary>Candidates tried per torrent file, in rank order (at least 1).</summary>
        public int MaxCandidates { get; set; } = 8;
    }

    /// <summary>
    /// Finds a torrent's data among the catalog's files and proves it against the torrent's pieces,
    /// reading only what it must. Nothing on disk or in the catalog changes (SELECTs only).
    /// <para><b>Candidates.</b> For every torrent file with data (pad files, empty files and BEP 47
    /// symlinks aside): the active catalogued files with a SHA-1 of exactly its length on the allowed
    /// devices. One statement per device per batch of <see cref="SizeBatch"/> distinct lengths, each an
    /// index search of ix_files_content (device_id, size) (<see cref="CandidatesSql"/>), never a
    /// statement per file or per candidate.</para>
    /// <para><b>Rank</b> (per torrent file): first the candidates under a folder that holds candidates
    /// for more of the torrent's files (the folder a candidate implies for the torrent's root: its own
    /// folder less the torrent file's sub-folders), so a release renamed file by file is tried before
    /// same-named files of equal size elsewhere; then the same file name, then the same name in another case, then
    /// the same extension, then others; within each, higher name similarity (Dice coefficient of the
    /// lower-case names' letter pairs); then the device where most of the torrent's files have
    /// candidates (a device holding candidates for all of them comes first); then the path (code point
    /// order). At most <see cref="TorrentDataOptions.MaxCandidates"/> candidates are tried per file;
    /// a candidate whose SHA-1 already failed for that file (while unchanged since its scan) is passed
    /// over without reading and without counting; a candidate whose SHA-1 is already proven for that
    /// file (or, v2, for a file of the same pieces root) follows without reading.</para>
    /// <para><b>A candidate on disk</b> is looked at (lstat) first: gone, not a regular file, or of
    /// another size than the torrent's file: skipped (the next is tried), never an error. Read errors
    /// skip it too. A verdict is remembered by SHA-1 only for a file whose size, mtime and inode are
    /// still the catalog's (its bytes are the catalogued SHA-1's).</para>
    /// <para><b>v2 and hybrid</b>: every file has its own merkle tree. A candidate's pieces are hashed
    /// (16 KiB SHA-256 leaves, reduced per piece) and compared with the file's piece layer, or with its
    /// pieces root for a file of one piece or less, in order, stopping at the first failing piece. The
    /// v1 half of a hybrid is not read again (its files are piece-aligned, so v2 proof covers them).</para>
    /// <para><b>v1</b>: a file's own pieces (those holding no other file's bytes; pad files are zeros)
    /// are checked in order for each candidate, stopping at the first failure; the first candidate
    /// whose own pieces all pass is the file's. Then every piece shared by several files is checked
    /// once every file in it has a choice: small files (no own piece) take their first viable
    /// candidate; when a shared piece fails, its unproven small files, the weakest name match first,
    /// try their next candidates one file at a time while the others keep theirs (one wrong choice
    /// per piece is found; two are not), at most <see cref="MaxComboTries"/> hashes of that piece. A small file is
    /// matched when at least one of its pieces passed and none failed; a shared piece that cannot be
    /// checked (a file in it is not found) leaves it unproven when it has no other piece. A file with
    /// own pieces stays matched when a shared piece of it fails with every choice (Detail says so: only
    /// its edge bytes are in doubt, and the files beside it are the likelier fault).</para>
    /// <para><b>Empty files and symlinks</b> have no bytes to prove: Verified, no MatchedPath, Detail says
    /// why. The torrent is Complete when every file is matched, None when no file with data is (and the
    /// torrent has data), else Partial.</para>
    /// </summary>
    public sealed class TorrentDataFinder
    {
        /// <summary>Distinct lengths per candidate statement.</summary>
        internal const int SizeBatch = 64;

        /// <summary>Most hashes of one failing shared piece while trying other candidates of its small files.</summary>
        internal const int MaxComboTries = 64;

        private const int ChunkSize = 1024 * 1024;

        /// <summary>One device's active, hashed files of any of <see cref="SizeBatch"/> lengths ($s0…): an index search per length.</summary>
        internal static readonly string CandidatesSql =
            "SELECT file_id, size, sha1, inode, mtime_ns, path FROM files INDEXED BY ix_files_content WHERE device_id = $d AND status = 'active' AND size IN ("
            + string.Join(", ", Enumerable.Range(0, SizeBatch).Select(i => "$s" + i)) + ") AND sha1 IS NOT NULL;";

        private readonly CatalogDatabase _db;

        /// <summary>The letter pairs of a name, lower-cased, as sorted ints.</summary>
        private static int[] LetterPairs(string name)
        {
            string s = name.ToLowerInvariant();
            var pairs = new int[Math.Max(0, s.Length - 1)];
            for (int i = 0; i < pairs.Length; i++)
                pairs[i] = (s[i] << 16) | s[i + 1];
            Array.Sort(pairs);
            return pairs;
        }

        /// <summary>Dice coefficient of two sorted letter-pair lists (0 to 1): twice the pairs in common over all pairs.</summary>
        private static double Dice(int[] a, int[] b)
        {
            if (a.Length + b.Length == 0)
                return 0;
            int common = 0;
            for (int i = 0, j = 0; i < a.Length && j < b.Length;)
            {
                if (a[i] == b[j]) { common++; i++; j++; }
                else if (a[i] < b[j]) i++;
                else j++;
            }
            return 2.0 * common / (a.Length + b.Length);
        }

        public TorrentDataFinder(CatalogDatabase db)
        {
            _db = db ?? throw new ArgumentNullException(nameof(db));
        }

        /// <summary>
        /// Finds and proves <paramref name="meta"/>'s data among the catalog's files. <paramref name="source"/>
        /// is the .torrent file's path (also <see cref="TorrentDataMatch.TorrentFile"/>) or 'qBittorrent
        /// &lt;address&gt;' for exported metainfo. <paramref name="bytesRead"/> gets each increment of bytes
        /// read (on the calling thread). Cancellation throws OperationCanceledException between reads
        /// of at most 1 MiB. Catalog errors throw HashallException; a candidate that cannot be read is skipped.
        /// </summary>
        public TorrentDataMatch Find(TorrentMetainfo meta, string source, TorrentDataOptions options, Action<long>? bytesRead, CancellationToken cancel)
        {
            if (meta == null)
                throw new ArgumentNullException(nameof(meta));
            if (options == null)
                throw new ArgumentNullException(nameof(options));
            cancel.ThrowIfCancellationRequested();
            return new Run(this, meta, source ?? "", options, bytesRead, cancel).Execute();
        }

        private sealed class Candidate
        {
            public long FileId;
            public long DeviceId;
            public long Size;
            public string Sha1 = "";
            public long Inode;
            public long MtimeNs;
            public string FullPath = "";
            public string Name = "";
            private int[]? _pairs;
            /// <summary>The lower-case name's letter pairs, sorted (computed once, shared by every torrent file of this length).</summary>
            public int[] Pairs => _pairs ??= LetterPairs(Name);
        }

        /// <summary>A candidate's rank keys for one torrent file (a struct: a catalogued row may serve many torrent files).</summary>
        private struct RankKey
        {
            public int Coverage;
            public int NameClass;
            public double Similarity;
            public int DeviceRank;
            public Candidate Candidate;
        }

        private sealed class Target
        {
            public int Index;
            public MetainfoFile File = null!;
            public string Name = "";
            public List<Candidate> Ranked = new List<Candidate>();
            public Candidate? Chosen;
            public bool Unchanged; // the chosen candidate's size, mtime and inode are still the catalog's
            public int Considered;
            public int Tried;
            public int Position; // next candidate to look at
            public string? Detail;
            public List<string> Notes = new List<string>();
            // v1 layout
            public int FirstPiece, LastPiece, OwnFirst, OwnLast;
            public bool HasOwn => OwnFirst <= OwnLast;
            public bool OwnProven;
            public bool Locked; // a small file whose shared piece passed
            public int SharedPassed;
            public bool SharedFailed;
            public bool SharedUnchecked;
        }

        private sealed class Run
        {
            private readonly TorrentDataFinder _owner;
            private readonly TorrentMetainfo _meta;
            private readonly string _source;
            private readonly TorrentDataOptions _options;
            private readonly Action<long>? _progress;
            private readonly CancellationToken _cancel;
            private readonly long _pl;
            private readonly Dictionary<long, HashallDevice> _devices;
            private readonly List<Target> _targets = new List<Target>();
            private readonly Dictionary<(string Sha1, string Key), bool> _verdicts = new Dictionary<(string, string), bool>();
            private readonly byte[] _buffer;
            private readonly byte[] _zeros;
            private long _read;

            public Run(TorrentDataFinder owner, TorrentMetainfo meta, string source, TorrentDataOptions options, Action<long>? progress, CancellationToken cancel)
            {
                _owner = owner;
                _meta = meta;
                _source = source;
                _options = options;
                _progress = progress;
                _cancel = cancel;
                _pl = meta.PieceLength;
                _devices = new DeviceStore(owner._db).List().ToDictionary(d => d.DeviceId);
                int chunk = (int)Math.Min(ChunkSize, Math.Max(Merkle.BlockSize, _pl));
                _buffer = new byte[chunk];
                _zeros = new byte[chunk];
            }

            public TorrentDataMatch Execute()
            {
                var clock = Stopwatch.StartNew();
                for (int i = 0; i < _meta.Files.Count; i++)
                {
                    var f = _meta.Files[i];
                    if (f.IsPad || f.Length == 0 || f.SymlinkPath != null)
                        continue;
                    _targets.Add(new Target { Index = i, File = f, Name = f.Path[f.Path.Count - 1] });
                }
                LoadCandidates();
                if (_meta.Version == TorrentVersion.V1)
                    ProveV1();
                else
                    ProveV2();
                var result = Results();
                result.Duration = clock.Elapsed;
                return result;
            }

            // ---- candidates ----

            private void LoadCandidates()
            {
                var byLength = new Dictionary<long, List<Target>>();
                foreach (var t in _targets)
                {
                    if (!byLength.TryGetValue(t.File.Length, out var list))
                        byLength[t.File.Length] = list = new List<Target>();
                    list.Add(t);
                }
                if (byLength.Count == 0)
                    return;
                var lengths = byLength.Keys.OrderByDescending(l => l).ToList();
                IEnumerable<long> deviceIds = _options.DeviceIds ?? (IEnumerable<long>)_devices.Keys;
                var found = new Dictionary<long, List<Candidate>>(); // by length
                foreach (long device in deviceIds.Distinct().OrderBy(d => d))
                {
                    if (!_devices.TryGetValue(device, out var dev))
                        continue;
                    using var command = _owner._db.Command(CandidatesSql);
                    command.Parameters.AddWithValue("$d", device);
                    var sizeParameters = new SqliteParameter[SizeBatch];
                    for (int i = 0; i < SizeBatch; i++)
                        sizeParameters[i] = command.Parameters.AddWithValue("$s" + i, -1L);
                    for (int at = 0; at < lengths.Count; at += SizeBatch)
                    {
                        _cancel.ThrowIfCancellationRequested();
                        for (int i = 0; i < SizeBatch; i++)
                            sizeParameters[i].Value = at + i < lengths.Count ? lengths[at + i] : -1L;
                        try
                        {
                            using var r = command.ExecuteReader();
                            while (r.Read())
                            {
                                string relative = r.GetString(5);
                                var c = new Candidate
                                {
                                    FileId = r.GetInt64(0),
                                    DeviceId = device,
                                    Size = r.GetInt64(1),
                                    Sha1 = r.GetString(2),
                                    Inode = r.GetInt64(3),
                                    MtimeNs = r.GetInt64(4),
                                    FullPath = PathText.UnderMount(dev.MountPoint, dev.MountRoot, relative) ?? relative,
                                };
                                int slash = relative.LastIndexOf('/');
                                c.Name = slash < 0 ? relative : relative.Substring(slash + 1);
                                if (!found.TryGetValue(c.Size, out var list))
                                    found[c.Size] = list = new List<Candidate>();
                                list.Add(c);
                            }
                        }
                        catch (SqliteException e)
                        {
                            throw CatalogDatabase.Translate(e, _owner._db.Path);
                        }
                    }
                }
                // Device rank: devices with candidates for most of the torrent's files first.
                var filesPerDevice = new Dictionary<long, int>();
                foreach (var t in _targets)
                    if (found.TryGetValue(t.File.Length, out var list))
                        foreach (long d in list.Select(c => c.DeviceId).Distinct())
                            filesPerDevice[d] = filesPerDevice.TryGetValue(d, out int n) ? n + 1 : 1;
                var deviceRank = filesPerDevice.OrderByDescending(kv => kv.Value).ThenBy(kv => kv.Key)
                    .Select((kv, i) => (kv.Key, i)).ToDictionary(x => x.Key, x => x.i);
                // Root coverage: where a candidate would put the torrent's root (its folder, less the torrent
                // file's own sub-folders), and how many of the torrent's files have a candidate under that root.
                // A folder holding most of the torrent under other names beats same-named files elsewhere.
                var rootOf = new Dictionary<(Target, Candidate), string>();
                var coverage = new Dictionary<string, HashSet<int>>(StringComparer.Ordinal);
                foreach (var t in _targets)
                {
                    if (!found.TryGetValue(t.File.Length, out var list))
                        continue;
                    string subdir = t.File.Path.Count > 1 ? "/" + string.Join("/", t.File.Path.Take(t.File.Path.Count - 1)) : "";
                    foreach (var c in list)
                    {
                        string parent = c.FullPath.Substring(0, Math.Max(0, c.FullPath.LastIndexOf('/')));
                        string root = subdir.Length > 0 && parent.EndsWith(subdir, StringComparison.Ordinal) ? parent.Substring(0, parent.Length - subdir.Length) : parent;
                        rootOf[(t, c)] = root;
                        if (!coverage.TryGetValue(root, out var files))
                            coverage[root] = files = new HashSet<int>();
                        files.Add(t.Index);
                    }
                }
                foreach (var t in _targets)
                {
                    if (!found.TryGetValue(t.File.Length, out var list))
                        continue;
                    var keys = new RankKey[list.Count];
                    var pairs = LetterPairs(t.Name);
                    for (int i = 0; i < keys.Length; i++)
                    {
                        var c = list[i];
                        int nameClass = NameClass(t.Name, c.Name);
                        int covered = coverage[rootOf[(t, c)]].Count;
                        keys[i] = new RankKey
                        {
                            Candidate = c,
                            Coverage = covered > 1 ? covered : 1, // one file alone says nothing
                            NameClass = nameClass,
                            Similarity = nameClass <= 1 ? 1 : Dice(pairs, c.Pairs),
                            DeviceRank = deviceRank[c.DeviceId],
                        };
                    }
                    Array.Sort(keys, (a, b) =>
                    {
                        int x = b.Coverage.CompareTo(a.Coverage);
                        if (x == 0) x = a.NameClass.CompareTo(b.NameClass);
                        if (x == 0) x = b.Similarity.CompareTo(a.Similarity);
                        if (x == 0) x = a.DeviceRank.CompareTo(b.DeviceRank);
                        if (x == 0) x = Payloads.CodePointComparer.Instance.Compare(a.Candidate.FullPath, b.Candidate.FullPath);
                        return x;
                    });
                    t.Ranked = new List<Candidate>(keys.Length);
                    foreach (var k in keys)
                        t.Ranked.Add(k.Candidate);
                }
            }

            private static int NameClass(string want, string have)
            {
                if (string.Equals(want, have, StringComparison.Ordinal))
                    return 0;
                if (string.Equals(want, have, StringComparison.OrdinalIgnoreCase))
                    return 1;
                string a = Path.GetExtension(want), b = Path.GetExtension(have);
                return a.Length > 0 && string.Equals(a, b, StringComparison.OrdinalIgnoreCase) ? 2 : 3;
            }

            /// <summary>How doubtful a chosen candidate's name is: lower is surer (name class, then similarity).</summary>
            private static double Doubt(Target t) =>
                NameClass(t.Name, t.Chosen!.Name) * 2 - (NameClass(t.Name, t.Chosen.Name) <= 1 ? 1 : Dice(LetterPairs(t.Name), t.Chosen.Pairs));

            // ---- reading ----
            // ---- reading ----

            private void Count(long n)
            {
                _read += n;
                _progress?.Invoke(n);
            }

            /// <summary>Opens a candidate if it is still a regular file of the torrent file's length; else null, and why.</summary>
            private Stream? Open(Candidate c, long length, out bool unchanged, out string? why)
            {
                unchanged = false;
                int error = FileSystemApi.TryLstat(c.FullPath, out var st);
                if (error != 0 || st.Kind != FileKind.Regular)
                {
                    why = "vanished since the scan";
                    return null;
                }
                if (st.Size != length)
                {
                    why = "changed size since the scan";
                    return null;
                }
                unchanged = st.MtimeNs == c.MtimeNs && (long)st.Inode == c.Inode;
                try
                {
                    why = null;
                    return FileReader.OpenRead(c.FullPath, sequential: true);
                }
                catch (Exception e) when (e is IOException || e is UnauthorizedAccessException || e is HashallException)
                {
                    why = "cannot be read: " + e.Message;
                    return null;
                }
            }

            /// <summary>Reads exactly <paramref name="count"/> bytes at <paramref name="position"/>; false when the file is shorter or unreadable.</summary>
            private bool ReadAt(Stream s, long position, byte[] buffer, int count)
            {
                _cancel.ThrowIfCancellationRequested();
                try
                {
                    s.Seek(position, SeekOrigin.Begin);
                    int done = 0;
                    while (done < count)
                    {
                        int n = s.Read(buffer, done, count - done);
                        if (n <= 0)
                            break;
                        done += n;
                    }
                    Count(done);
                    return done == count;
                }
                catch (Exception e) when (e is IOException || e is UnauthorizedAccessException || e is HashallException)
                {
                    return false;
                }
            }

            /// <summary>
            /// Tries the target's candidates from its position on, with <paramref name="prove"/> (a stream,
            /// the candidate: proven or not); returns the first proven, or null. <paramref name="key"/> names
            /// what the file must hold, for remembered verdicts.
            /// </summary>
            private Candidate? TryCandidates(Target t, string key, Func<Stream, Candidate, bool> prove)
            {
                var failures = new List<string>();
                for (; t.Position < t.Ranked.Count && t.Tried < Math.Max(1, _options.MaxCandidates); t.Position++)
                {
                    _cancel.ThrowIfCancellationRequested();
                    var c = t.Ranked[t.Position];
                    t.Considered++;
                    if (_verdicts.TryGetValue((c.Sha1, key), out bool known))
                    {
                        if (!known)
                            continue; // the same bytes failed already
                        if (FileSystemApi.TryLstat(c.FullPath, out var st) == 0 && st.Kind == FileKind.Regular && st.Size == c.Size
                            && st.MtimeNs == c.MtimeNs && (long)st.Inode == c.Inode)
                        {
                            t.Position++;
                            t.Unchanged = true;
                            t.Notes.Add("its SHA-1 is that of bytes already proven");
                            return c;
                        }
                    }
                    t.Tried++;
                    using var s = Open(c, t.File.Length, out bool unchanged, out string? why);
                    if (s == null)
                    {
                        failures.Add($"{c.FullPath} {why}");
                        continue;
                    }
                    bool ok = prove(s, c);
                    if (unchanged)
                        _verdicts[(c.Sha1, key)] = ok;
                    if (ok)
                    {
                        t.Position++;
                        t.Unchanged = unchanged;
                        return c;
                    }
                    failures.Add($"{c.FullPath} does not hold its bytes");
                }
                if (failures.Count > 0)
                    t.Detail = (failures.Count == 1 ? "" : $"{failures.Count} candidates tried: ") + string.Join("; ", failures.Take(3)) + (failures.Count > 3 ? "; …" : "");
                return null;
            }

            // ---- v2 and hybrid ----

            private void ProveV2()
            {
                using var sha = SHA256.Create();
                int leavesPerPiece = (int)(_pl / Merkle.BlockSize);
                var leaves = new byte[leavesPerPiece * 32];
                foreach (var t in _targets)
                {
                    if (t.Ranked.Count == 0)
                        continue;
                    var f = t.File;
                    string key = "v2:" + TorrentMetainfo.Hex(f.PiecesRoot!, 32);
                    t.Chosen = TryCandidates(t, key, (s, c) => ProveV2File(sha, f, s, leaves, leavesPerPiece));
                }
            }

            private bool ProveV2File(SHA256 sha, MetainfoFile f, Stream s, byte[] leaves, int leavesPerPiece)
            {
                long length = f.Length;
                int pieces = (int)((length + _pl - 1) / _pl);
                for (int j = 0; j < pieces; j++)
                {
                    long start = j * _pl;
                    int dataLength = (int)Math.Min(_pl, length - start);
                    int leafCount = (dataLength + Merkle.BlockSize - 1) / Merkle.BlockSize;
                    int leaf = 0;
                    for (int done = 0; done < dataLength;)
                    {
                        int n = Math.Min(_buffer.Length, dataLength - done);
                        if (!ReadAt(s, start + done, _buffer, n))
                            return false;
                        for (int at = 0; at < n; at += Merkle.BlockSize, leaf++)
                            PieceHashing.Hash(sha, _buffer, at, Math.Min(Merkle.BlockSize, n - at), leaves, leaf * 32);
                        done += n;
                    }
                    bool ok;
                    if (length <= _pl)
                    {
                        Merkle.Reduce(sha, leaves, leafCount, Merkle.Width(leafCount), null);
                        ok = PieceHashing.Equal(leaves, 0, f.PiecesRoot!, 0, 32);
                    }
                    else
                    {
                        Merkle.Reduce(sha, leaves, leafCount, leavesPerPiece, null);
                        ok = PieceHashing.Equal(leaves, 0, f.PieceLayer!, j * 32, 32);
                    }
                    if (!ok)
                        return false;
                }
                return true;
            }

            // ---- v1 ----

            private void ProveV1()
            {
                using var sha1 = IncrementalHash.CreateHash(HashAlgorithmName.SHA1);
                // Each file's pieces, and those it shares with the files beside it (pad files are zeros, not files).
                for (int k = 0; k < _targets.Count; k++)
                {
                    var t = _targets[k];
                    t.FirstPiece = (int)(t.File.Offset / _pl);
                    t.LastPiece = (int)((t.File.Offset + t.File.Length - 1) / _pl);
                    bool shareHead = k > 0 && _targets[k - 1].LastPiece == t.FirstPiece;
                    t.OwnFirst = t.FirstPiece + (shareHead ? 1 : 0);
                    t.OwnLast = t.LastPiece;
                }
                for (int k = 0; k + 1 < _targets.Count; k++)
                    if (_targets[k + 1].FirstPiece == _targets[k].LastPiece)
                        _targets[k].OwnLast = _targets[k].LastPiece - 1;

                // Files with pieces of their own: the first candidate whose own pieces all pass.
                foreach (var t in _targets)
                {
                    if (t.Ranked.Count == 0 || !t.HasOwn)
                        continue;
                    string key = "v1:" + t.Index;
                    t.Chosen = TryCandidates(t, key, (s, c) =>
                    {
                        var streams = new Dictionary<int, Stream> { [t.Index] = s };
                        for (int p = t.OwnFirst; p <= t.OwnLast; p++)
                            if (!PieceMatches(sha1, p, streams))
                                return false;
                        return true;
                    });
                    t.OwnProven = t.Chosen != null;
                }

                // Pieces shared by several files, in order: each is a run of consecutive files.
                for (int k = 0; k + 1 < _targets.Count; k++)
                {
                    if (_targets[k + 1].FirstPiece != _targets[k].LastPiece)
                        continue;
                    if (k > 0 && _targets[k - 1].LastPiece == _targets[k].LastPiece)
                        continue; // this piece began with an earlier file
                    int piece = _targets[k].LastPiece;
                    var run = new List<Target> { _targets[k] };
                    for (int m = k + 1; m < _targets.Count && _targets[m].FirstPiece == piece; m++)
                        run.Add(_targets[m]);
                    SharedPiece(sha1, piece, run);
                }

                foreach (var t in _targets)
                {
                    if (t.HasOwn || t.Chosen == null)
                        continue;
                    if (t.SharedFailed || t.SharedPassed == 0)
                    {
                        // The reason it is unmatched replaces any note about a skipped candidate.
                        t.Chosen = null;
                        t.Detail = t.SharedFailed ? "a piece it shares with the files beside it fails with every candidate tried"
                            : "smaller than a piece, and no piece holding it could be checked (a file beside it was not found)";
                    }
                    else
                        t.Notes.Add($"proven through {t.SharedPassed} piece(s) shared with the files beside it" + (t.SharedUnchecked ? " (another such piece could not be checked)" : ""));
                }
            }

            /// <summary>A small file's next viable candidate (gone or resized ones skipped), or null.</summary>
            private Candidate? NextViable(Target t)
            {
                for (; t.Position < t.Ranked.Count && t.Tried < Math.Max(1, _options.MaxCandidates); t.Position++)
                {
                    var c = t.Ranked[t.Position];
                    t.Considered++;
                    t.Tried++;
                    if (FileSystemApi.TryLstat(c.FullPath, out var st) == 0 && st.Kind == FileKind.Regular && st.Size == t.File.Length)
                    {
                        t.Position++;
                        return c;
                    }
                    t.Detail = $"{c.FullPath} vanished or changed size since the scan";
                }
                return null;
            }

            private void SharedPiece(IncrementalHash sha1, int piece, List<Target> run)
            {
                _cancel.ThrowIfCancellationRequested();
                foreach (var t in run)
                    if (!t.HasOwn && t.Chosen == null && !t.SharedFailed && t.Ranked.Count > 0)
                        t.Chosen = NextViable(t);
                if (run.Any(t => t.Chosen == null))
                {
                    string missing = string.Join(", ", run.Where(t => t.Chosen == null).Select(t => t.File.RelativePath));
                    foreach (var t in run.Where(t => t.Chosen != null))
                    {
                        t.SharedUnchecked = true;
                        if (t.HasOwn)
                            t.Notes.Add($"piece {piece}, shared with {missing} (not found), was not checked");
                    }
                    return;
                }
                bool passed = Matches(sha1, piece, run);
                if (!passed)
                {
                    // One file at a time, the most doubtful first (the weakest name match), tries its next
                    // candidates while the others keep theirs: a wrong choice among many files of one piece
                    // is found in a few tries, where every combination would never end.
                    int tries = 1;
                    var free = run.Where(t => !t.HasOwn && !t.Locked)
                        .OrderByDescending(Doubt).ThenBy(t => t.Index).ToList();
                    foreach (var t in free)
                    {
                        var kept = t.Chosen;
                        Candidate? next;
                        while (!passed && tries < MaxComboTries && (next = NextViable(t)) != null)
                        {
                            t.Chosen = next;
                            tries++;
                            passed = Matches(sha1, piece, run);
                        }
                        if (passed)
                            break;
                        t.Chosen = kept;
                    }
                }
                if (passed)
                {
                    foreach (var t in run)
                    {
                        t.SharedPassed++;
                        if (!t.HasOwn)
                            t.Locked = true;
                    }
                    return;
                }
                foreach (var t in run)
                {
                    if (t.HasOwn)
                        t.Notes.Add($"piece {piece}, shared with {string.Join(", ", run.Where(o => o != t).Select(o => o.File.RelativePath))}, fails: only bytes at its edge are in doubt");
                    else
                        t.SharedFailed = true;
                }
            }

            private bool Matches(IncrementalHash sha1, int piece, List<Target> run)
            {
                var streams = new Dictionary<int, Stream>();
                try
                {
                    foreach (var t in run)
                    {
                        var s = Open(t.Chosen!, t.File.Length, out _, out _);
                        if (s == null)
                            return false;
                        streams[t.Index] = s;
                    }
                    return PieceMatches(sha1, piece, streams);
                }
                finally
                {
                    foreach (var s in streams.Values)
                        s.Dispose();
                }
            }

            /// <summary>Hashes v1 piece <paramref name="piece"/> from the given files' streams (pad files as zeros) and compares it.</summary>
            private bool PieceMatches(IncrementalHash sha1, int piece, Dictionary<int, Stream> streams)
            {
                var files = _meta.Files;
                long ps = piece * _pl, pe = Math.Min(ps + _pl, _meta.PieceStreamLength);
                int lo = 0, hi = files.Count - 1;
                while (lo < hi) // the last file starting at or before ps
                {
                    int mid = (lo + hi + 1) / 2;
                    if (files[mid].Offset <= ps) lo = mid; else hi = mid - 1;
                }
                sha1.GetHashAndReset();
                for (int i = lo; i < files.Count && ps < pe; i++)
                {
                    var f = files[i];
                    long end = Math.Min(pe, f.Offset + f.Length);
                    if (f.Length == 0 || end <= ps)
                        continue;
                    if (f.IsPad || f.SymlinkPath != null)
                    {
                        for (long z = ps; z < end; z += _zeros.Length)
                            sha1.AppendData(_zeros, 0, (int)Math.Min(_zeros.Length, end - z));
                    }
                    else
                    {
                        if (!streams.TryGetValue(i, out var s))
                            return false;
                        for (long at = ps; at < end;)
                        {
                            int n = (int)Math.Min(_buffer.Length, end - at);
                            if (!ReadAt(s, at - f.Offset, _buffer, n))
                                return false;
                            sha1.AppendData(_buffer, 0, n);
                            at += n;
                        }
                    }
                    ps = end;
                }
                var hash = sha1.GetHashAndReset();
                return PieceHashing.Equal(hash, 0, _meta.PieceHashes!, piece * 20, 20);
            }

            // ---- the result ----

            private string DeviceName(long id) => _devices.TryGetValue(id, out var d) ? d.Alias ?? d.MountPoint : "";

            private TorrentDataMatch Results()
            {
                var byIndex = _targets.ToDictionary(t => t.Index);
                var files = new List<TorrentFileMatch>();
                var missing = new List<string>();
                long total = 0, matched = 0;
                int withData = 0, withDataMatched = 0;
                var bytesPerDevice = new Dictionary<long, long>();
                for (int i = 0; i < _meta.Files.Count; i++)
                {
                    var f = _meta.Files[i];
                    if (f.IsPad)
                        continue;
                    total += f.Length;
                    var m = new TorrentFileMatch { RelativePath = f.RelativePath, Length = f.Length };
                    files.Add(m);
                    if (!byIndex.TryGetValue(i, out var t))
                    {
                        m.Verified = true;
                        m.Detail = f.SymlinkPath != null ? "a symbolic link: no data to find or prove" : "empty: no data to find or prove";
                        continue;
                    }
                    withData++;
                    m.Candidates = t.Considered;
                    if (t.Chosen == null)
                    {
                        missing.Add(f.RelativePath);
                        m.Detail = t.Ranked.Count == 0 ? $"no catalogued file of {f.Length} bytes" + (_options.DeviceIds != null ? " on the devices given" : "")
                            : t.Detail ?? $"{t.Ranked.Count} candidate(s), none holds its bytes";
                        continue;
                    }
                    withDataMatched++;
                    matched += f.Length;
                    m.MatchedPath = t.Chosen.FullPath;
                    m.DeviceId = t.Chosen.DeviceId;
                    m.Device = DeviceName(t.Chosen.DeviceId);
                    m.Verified = true;
                    m.Detail = t.Notes.Count > 0 ? string.Join("; ", t.Notes) : null;
                    bytesPerDevice[t.Chosen.DeviceId] = (bytesPerDevice.TryGetValue(t.Chosen.DeviceId, out long b) ? b : 0) + f.Length;
                }
                var result = new TorrentDataMatch
                {
                    Hash = _meta.Hash,
                    Name = _meta.Name,
                    Version = _meta.Version,
                    TotalBytes = total,
                    BytesMatched = matched,
                    Share = total == 0 ? (missing.Count == 0 ? 1 : 0) : (double)matched / total,
                    BytesRead = _read,
                    Files = files,
                    MissingFiles = missing,
                    Source = _source,
                    TorrentFile = _source.StartsWith("qBittorrent ", StringComparison.Ordinal) ? "" : _source,
                    Database = _owner._db.Path,
                };
                result.Status = missing.Count == 0 ? TorrentDataStatus.Complete
                    : withData > 0 && withDataMatched == 0 ? TorrentDataStatus.None
                    : TorrentDataStatus.Partial;
                if (bytesPerDevice.Count > 0)
                {
                    var best = bytesPerDevice.OrderByDescending(kv => kv.Value).ThenBy(kv => kv.Key).First().Key;
                    result.DeviceId = best;
                    result.Device = DeviceName(best);
                    result.OneDevice = bytesPerDevice.Count == 1;
                }
                return result;
            }
        }
    }
}
