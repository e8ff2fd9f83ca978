using System;
using System.Buffers;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Runtime.ExceptionServices;
using System.Security.Cryptography;
using System.Threading;
using Hashall.Core.Platform;

namespace Hashall.Core.Torrents
{
    public sealed class TorrentVerifyOptions
    {
        /// <summary>Check sizes, and only the first and last piece of each file.</summary>
        public bool Quick { get; set; }

        /// <summary>Threads hashing pieces (at least 1); one more thread reads.</summary>
        public int ThrottleLimit { get; set; } = Environment.ProcessorCount;
    }

    /// <summary>
    /// Checks a torrent's pieces against the data on disk. One reader (the calling thread) reads each
    /// file once, in order, in large reads into a few big buffers ("segments" of the piece stream, cut
    /// on piece boundaries); <see cref="TorrentVerifyOptions.ThrottleLimit"/> workers hash the pieces
    /// of each filled segment (v1: SHA-1 of the piece, pad files as zeros; v2: the merkle root of the
    /// piece's 16 KiB SHA-256 leaves; hybrid: both) and hand the buffer back.
    /// <para>
    /// Pieces of up to 16 MiB are hashed whole from one segment (a segment holds as many whole pieces as
    /// fit in 8 MiB, or one piece of 8 to 16 MiB). Buffers: ThrottleLimit + 2, at least 3, at most what
    /// fits in 128 MiB (so 16 MiB pieces on 2 cores take 4 pieces' worth). Larger pieces (up to the
    /// parser's 1 GiB) are read in 8 MiB chunks: each chunk's leaves are hashed by any worker, and the
    /// chunks of one piece are added to its running SHA-1 in order (a worker waits its turn), so memory
    /// stays a few 8 MiB buffers plus the leaf hashes of the pieces in flight (2 MiB for a 1 GiB piece).
    /// The price: a piece's SHA-1 is one stream, so v1 torrents with pieces over 16 MiB hash on about one
    /// core.
    /// </para>
    /// </summary>
    public static class TorrentVerifier
    {
        /// <summary>Pieces up to this size are hashed whole from one segment.</summary>
        internal const int WholePieceMax = 16 * 1024 * 1024;

        /// <summary>The most a segment of several whole pieces holds, and the chunk size for pieces over <see cref="WholePieceMax"/>.</summary>
        internal const int SegmentTarget = 8 * 1024 * 1024;

        /// <summary>Most memory for segment buffers (at least three buffers are used whatever their size).</summary>
        internal const long BufferBudget = 128L * 1024 * 1024;

        /// <summary>
        /// Checks <paramref name="meta"/>'s pieces against the data at <paramref name="contentPath"/>: the
        /// torrent's root folder (multi-file) or the file itself (single-file), as qBittorrent's content_path.
        /// <paramref name="bytesRead"/> is called (from any thread) with each increment of bytes read.
        /// Cancellation throws OperationCanceledException once every thread has stopped.
        /// </summary>
        public static TorrentCheck Verify(TorrentMetainfo meta, string contentPath, TorrentVerifyOptions options, Action<long>? bytesRead, CancellationToken cancel)
        {
            return Verify(meta, contentPath, options, bytesRead, cancel, out _);
        }

        /// <summary>As <see cref="Verify(TorrentMetainfo, string, TorrentVerifyOptions, Action{long}?, CancellationToken)"/>, and which pieces were found good (tests compare them with libtorrent's).</summary>
        internal static TorrentCheck Verify(TorrentMetainfo meta, string contentPath, TorrentVerifyOptions options, Action<long>? bytesRead, CancellationToken cancel, out bool[] goodPieces)
        {
            if (meta == null)
                throw new ArgumentNullException(nameof(meta));
            if (contentPath == null)
                throw new ArgumentNullException(nameof(contentPath));
            if (options == null)
                throw new ArgumentNullException(nameof(options));
            cancel.ThrowIfCancellationRequested();
            var run = new Run(meta, contentPath, options, bytesRead, cancel);
            var result = run.Execute();
            goodPieces = run.GoodPieces();
            return result;
        }

        private static int _liveWorkers;

        /// <summary>Hashing threads running now, in every check (tests: none may outlive a Verify).</summary>
        internal static int LiveWorkers => Volatile.Read(ref _liveWorkers);

        private const byte Unchecked = 0, Good = 1, BadHash = 2, Hole = 3;

        /// <summary>A stretch of the piece stream: one file's bytes, or zeros (a pad file, or v2's alignment).</summary>
        private readonly struct Extent
        {
            public Extent(long start, long end, int file)
            {
                Start = start;
                End = end;
                File = file;
            }

            public long Start { get; }
            public long End { get; }
            public int File { get; }
        }

        /// <summary>What the reader found of one of the torrent's files.</summary>
        private sealed class FileState
        {
            public bool Looked;
            public string DiskPath = "";
            public ContentFile Found;
            public long Available; // bytes of the file that can be read: min(size, length), less after a read error
            public string? Detail;
            public bool ReadFailed;
            public Stream? Stream;
            public long Position;
        }

        /// <summary>A piece larger than a segment, hashed chunk by chunk.</summary>
        private sealed class LargePiece
        {
            public int Index;
            public int Chunks;
            public int Turn;
            public volatile bool Hole;
            public IncrementalHash? Sha1;
            public byte[]? Leaves;
        }

        private sealed class Segment
        {
            public byte[] Buffer = Array.Empty<byte>();
            public long Start;
            public int Length;
            public int FirstPiece;
            public int Pieces;
            public LargePiece? Large;
            public int Chunk;
        }

        private sealed class Run
        {
            private readonly TorrentMetainfo _meta;
            private readonly string _contentPath;
            private readonly TorrentVerifyOptions _options;
            private readonly Action<long>? _progress;
            private readonly CancellationToken _cancel;
            private readonly IReadOnlyList<MetainfoFile> _files;
            private readonly long _pl;
            private readonly long _streamLength;
            private readonly int _pieceCount;
            private readonly bool _v1, _v2;
            private readonly byte[] _status;
            private readonly bool[]? _selected;
            private readonly List<Extent> _extents = new List<Extent>();
            private readonly FileState[] _state;
            private readonly int _leavesPerPiece;
            private long _bytesRead;

            private BlockingCollection<byte[]>? _free;
            private BlockingCollection<Segment>? _work;
            private readonly ConcurrentQueue<LargePiece> _largePool = new ConcurrentQueue<LargePiece>();
            private CancellationTokenSource? _stop;
            private ExceptionDispatchInfo? _failure;

            public Run(TorrentMetainfo meta, string contentPath, TorrentVerifyOptions options, Action<long>? progress, CancellationToken cancel)
            {
                _meta = meta;
                _contentPath = contentPath;
                _options = options;
                _progress = progress;
                _cancel = cancel;
                _files = meta.Files;
                _pl = meta.PieceLength;
                _v1 = meta.PieceHashes != null;
                _v2 = meta.Version != TorrentVersion.V1;
                _streamLength = meta.PieceStreamLength;
                _pieceCount = (int)((_streamLength + _pl - 1) / _pl);
                _leavesPerPiece = _v2 ? (int)(_pl / Merkle.BlockSize) : 0;
                _status = new byte[_pieceCount];
                _state = new FileState[_files.Count];
                for (int i = 0; i < _state.Length; i++)
                    _state[i] = new FileState();
                long at = 0;
                for (int i = 0; i < _files.Count; i++)
                {
                    var f = _files[i];
                    if (f.Length == 0)
                        continue;
                    if (f.Offset > at)
                        _extents.Add(new Extent(at, f.Offset, -1));
                    _extents.Add(new Extent(f.Offset, f.Offset + f.Length, f.IsPad ? -1 : i));
                    at = f.Offset + f.Length;
                }
                if (at < _streamLength)
                    _extents.Add(new Extent(at, _streamLength, -1));
                if (options.Quick)
                {
                    _selected = new bool[_pieceCount];
                    foreach (var f in _files)
                    {
                        if (f.IsPad || f.Length == 0)
                            continue;
                        _selected[f.Offset / _pl] = true;
                        _selected[(f.Offset + f.Length - 1) / _pl] = true;
                    }
                }
            }

            private bool Selected(int piece) => _selected == null || _selected[piece];

            private string PathOf(MetainfoFile f) =>
                _meta.IsSingleFile ? _contentPath : Path.Combine(_contentPath, Path.Combine(ToArray(f.Path, false)));

            /// <summary>The path libtorrent stores the file at, when its names differ from the torrent's (control characters and the like); else null.</summary>
            private string? LibtorrentRelative(MetainfoFile f)
            {
                if (_meta.IsSingleFile || FileSystemApi.IsWindows)
                    return null;
                var parts = ToArray(f.Path, true);
                bool differs = false;
                for (int i = 0; i < parts.Length; i++)
                    differs |= !ReferenceEquals(parts[i], f.Path[i]);
                return differs ? string.Join("/", parts) : null;
            }

            private static string[] ToArray(IReadOnlyList<string> list, bool libtorrent)
            {
                var a = new string[list.Count];
                for (int i = 0; i < a.Length; i++)
                    a[i] = libtorrent ? ContentFile.LibtorrentName(list[i]) ?? list[i] : list[i];
                return a;
            }

            public TorrentCheck Execute()
            {
                var clock = Stopwatch.StartNew();
                int threads = Math.Max(1, _options.ThrottleLimit);
                long segmentBytes = _pl <= WholePieceMax ? Math.Max(1, SegmentTarget / _pl) * _pl : SegmentTarget;
                int bufferSize = (int)Math.Max(1, Math.Min(segmentBytes, _streamLength));
                int buffers = (int)Math.Max(3, Math.Min(threads + 2, BufferBudget / bufferSize));
                _stop = CancellationTokenSource.CreateLinkedTokenSource(_cancel);
                _free = new BlockingCollection<byte[]>(new ConcurrentQueue<byte[]>());
                _work = new BlockingCollection<Segment>(new ConcurrentQueue<Segment>());
                var rented = new List<byte[]>();
                var workers = new List<Thread>();
                try
                {
                    if (_pieceCount > 0)
                    {
                        for (int i = 0; i < buffers; i++)
                        {
                            var b = ArrayPool<byte>.Shared.Rent(bufferSize);
                            rented.Add(b);
                            _free.Add(b);
                        }
                        for (int i = 0; i < threads; i++)
                        {
                            var t = new Thread(Work) { IsBackground = true, Name = "Hashall piece hasher" };
                            workers.Add(t);
                            t.Start();
                        }
                        try
                        {
                            ReadAll(segmentBytes);
                        }
                        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
                        {
                        }
                        catch (Exception e)
                        {
                            Fail(e);
                        }
                    }
                }
                finally
                {
                    _work.CompleteAdding();
                    foreach (var t in workers)
                        t.Join();
                    foreach (var s in _state)
                    {
                        s.Stream?.Dispose();
                        s.Stream = null;
                    }
                    foreach (var lp in _largePool)
                        lp.Sha1?.Dispose();
                    foreach (var b in rented)
                        ArrayPool<byte>.Shared.Return(b);
                    _free.Dispose();
                    _work.Dispose();
                    _stop.Dispose();
                }
                _cancel.ThrowIfCancellationRequested();
                _failure?.Throw();
                var result = Results();
                result.Duration = clock.Elapsed;
                return result;
            }

            private void Fail(Exception e)
            {
                Interlocked.CompareExchange(ref _failure, ExceptionDispatchInfo.Capture(e), null);
                try
                {
                    _stop!.Cancel();
                }
                catch (ObjectDisposedException)
                {
                }
            }

            // ---- the reader ----

            private void ReadAll(long segmentBytes)
            {
                var token = _stop!.Token;
                int piece = 0;
                while (piece < _pieceCount)
                {
                    if (!Selected(piece))
                    {
                        piece++;
                        continue;
                    }
                    int runEnd = piece + 1;
                    while (runEnd < _pieceCount && Selected(runEnd))
                        runEnd++;
                    if (_pl <= WholePieceMax)
                    {
                        int perSegment = (int)(segmentBytes / _pl);
                        for (; piece < runEnd; piece += Math.Min(perSegment, runEnd - piece))
                        {
                            int count = Math.Min(perSegment, runEnd - piece);
                            long start = piece * _pl;
                            long end = Math.Min((piece + count) * _pl, _streamLength);
                            var seg = new Segment { Buffer = _free!.Take(token), Start = start, Length = (int)(end - start), FirstPiece = piece, Pieces = count };
                            Fill(seg, token);
                            _work!.Add(seg, token);
                        }
                    }
                    else
                    {
                        for (; piece < runEnd; piece++)
                        {
                            long start = piece * _pl;
                            long end = Math.Min(start + _pl, _streamLength);
                            if (!_largePool.TryDequeue(out var lp))
                                lp = new LargePiece();
                            lp.Index = piece;
                            lp.Turn = 0;
                            lp.Hole = false;
                            lp.Chunks = (int)((end - start + SegmentTarget - 1) / SegmentTarget);
                            if (_v1)
                                lp.Sha1 ??= IncrementalHash.CreateHash(HashAlgorithmName.SHA1);
                            if (_v2)
                                lp.Leaves ??= new byte[_leavesPerPiece * 32];
                            for (int c = 0; c < lp.Chunks; c++)
                            {
                                long cs = start + (long)c * SegmentTarget;
                                long ce = Math.Min(cs + SegmentTarget, end);
                                var seg = new Segment { Buffer = _free!.Take(token), Start = cs, Length = (int)(ce - cs), FirstPiece = piece, Pieces = 1, Large = lp, Chunk = c };
                                Fill(seg, token);
                                _work!.Add(seg, token);
                            }
                        }
                    }
                }
            }

            private int ExtentAt(long offset)
            {
                int lo = 0, hi = _extents.Count - 1;
                while (lo < hi)
                {
                    int mid = (lo + hi + 1) / 2;
                    if (_extents[mid].Start <= offset)
                        lo = mid;
                    else
                        hi = mid - 1;
                }
                return lo;
            }

            /// <summary>Fills a segment's buffer from the files under it (zeros for pad files); what cannot be read marks its pieces as holes.</summary>
            private void Fill(Segment seg, CancellationToken token)
            {
                long s = seg.Start, e = seg.Start + seg.Length;
                int x = ExtentAt(s);
                while (s < e)
                {
                    var ext = _extents[x];
                    long b = Math.Min(e, ext.End);
                    if (ext.File < 0)
                        Array.Clear(seg.Buffer, (int)(s - seg.Start), (int)(b - s));
                    else
                    {
                        long got = ReadFile(ext.File, s - ext.Start, seg.Buffer, (int)(s - seg.Start), (int)(b - s), token);
                        if (got < b - s)
                            MarkHole(seg, s + got, b);
                        if (b == ext.End)
                        {
                            var st = _state[ext.File];
                            st.Stream?.Dispose();
                            st.Stream = null;
                        }
                    }
                    s = b;
                    x++;
                }
            }

            private void MarkHole(Segment seg, long from, long to)
            {
                if (seg.Large != null)
                {
                    seg.Large.Hole = true;
                    _status[seg.Large.Index] = Hole;
                    return;
                }
                for (long p = from / _pl; p <= (to - 1) / _pl; p++)
                    _status[p] = Hole;
            }

            /// <summary>Reads up to <paramref name="count"/> bytes of a file at <paramref name="at"/>; returns how many could be read.</summary>
            private long ReadFile(int index, long at, byte[] buffer, int offset, int count, CancellationToken token)
            {
                var st = _state[index];
                if (!st.Looked)
                    Look(index);
                long want = Math.Min(count, st.Available - at);
                if (want <= 0 || st.Stream == null)
                    return 0;
                int done = 0;
                try
                {
                    if (st.Position != at)
                    {
                        st.Stream.Seek(at, SeekOrigin.Begin);
                        st.Position = at;
                    }
                    while (done < want)
                    {
                        token.ThrowIfCancellationRequested();
                        int n = st.Stream.Read(buffer, offset + done, (int)(want - done));
                        if (n == 0)
                        {
                            Stop(st, at + done, $"ended at byte {at + done} while being read (it shrank)");
                            break;
                        }
                        done += n;
                        st.Position += n;
                        Interlocked.Add(ref _bytesRead, n);
                        _progress?.Invoke(n);
                    }
                }
                catch (IOException e)
                {
                    Stop(st, at + done, $"read error at byte {at + done}: {e.Message}");
                }
                return done;
            }

            private static void Stop(FileState st, long at, string detail)
            {
                st.Available = Math.Min(st.Available, at);
                st.Detail ??= detail;
                st.ReadFailed = true;
                st.Stream?.Dispose();
                st.Stream = null;
            }

            /// <summary>lstat of a file where the torrent expects it; a regular file is opened for reading.</summary>
            private void Look(int index)
            {
                var st = _state[index];
                var f = _files[index];
                st.Looked = true;
                st.DiskPath = PathOf(f);
                st.Found = ContentFile.Find(st.DiskPath);
                string? renamed = st.Found.Exists || st.Found.Detail != null ? null : LibtorrentRelative(f);
                if (renamed != null)
                {
                    // Absent by the torrent's name: libtorrent (so qBittorrent) may have stored it by a cleaned one.
                    string other = Path.Combine(_contentPath, renamed);
                    var found = ContentFile.Find(other);
                    if (found.Exists || found.Detail != null)
                    {
                        st.DiskPath = other;
                        st.Found = found;
                    }
                }
                st.Detail = st.Found.Detail;
                if (!st.Found.Exists)
                    return;
                st.Available = Math.Min(st.Found.Status.Size, f.Length);
                if (st.Available == 0 || f.IsPad)
                    return;
                try
                {
                    st.Stream = FileReader.OpenRead(st.Found.ReadPath!, sequential: !_options.Quick);
                    st.Position = 0;
                }
                catch (Exception e) when (e is IOException || e is UnauthorizedAccessException)
                {
                    st.Found = default;
                    st.Available = 0;
                    st.Detail = "cannot be read: " + e.Message;
                }
            }

            // ---- the workers ----

            private void Work()
            {
                Interlocked.Increment(ref _liveWorkers);
                var token = _stop!.Token;
                SHA1? sha1 = null;
                SHA256? sha256 = null;
                try
                {
                    sha1 = _v1 ? SHA1.Create() : null;
                    sha256 = _v2 ? SHA256.Create() : null;
                    var digest = new byte[32];
                    var leaves = _v2 ? new byte[Math.Max(1, Math.Min(_leavesPerPiece, WholePieceMax / Merkle.BlockSize)) * 32] : Array.Empty<byte>();
                    foreach (var seg in _work!.GetConsumingEnumerable(token))
                    {
                        if (seg.Large == null)
                        {
                            for (int p = seg.FirstPiece; p < seg.FirstPiece + seg.Pieces; p++)
                            {
                                token.ThrowIfCancellationRequested();
                                if (_status[p] == Hole)
                                    continue;
                                long ps = p * _pl;
                                int off = (int)(ps - seg.Start);
                                int len = (int)(Math.Min(ps + _pl, _streamLength) - ps);
                                bool ok = true;
                                if (_v1)
                                {
                                    PieceHashing.Hash(sha1!, seg.Buffer, off, len, digest, 0);
                                    ok = PieceHashing.Equal(digest, 0, _meta.PieceHashes!, p * 20, 20);
                                }
                                if (ok && _v2)
                                    ok = CheckV2(sha256!, p, seg.Buffer, off, leaves, 0, 0, true);
                                _status[p] = ok ? Good : BadHash;
                            }
                        }
                        else
                            Chunk(seg, sha256, token);
                        _free!.Add(seg.Buffer);
                    }
                }
                catch (OperationCanceledException) when (token.IsCancellationRequested)
                {
                }
                catch (Exception e)
                {
                    Fail(e);
                }
                finally
                {
                    sha1?.Dispose();
                    sha256?.Dispose();
                    Interlocked.Decrement(ref _liveWorkers);
                }
            }

            /// <summary>One chunk of a large piece: its leaves now, its SHA-1 in the piece's order; the last chunk decides the piece.</summary>
            private void Chunk(Segment seg, SHA256? sha256, CancellationToken token)
            {
                var lp = seg.Large!;
                int p = lp.Index;
                long ps = p * _pl;
                if (_v2 && !lp.Hole)
                    CheckV2(sha256!, p, seg.Buffer, 0, lp.Leaves!, (int)((seg.Start - ps) / Merkle.BlockSize), seg.Length, false);
                lock (lp)
                {
                    while (lp.Turn != seg.Chunk)
                    {
                        Monitor.Wait(lp, 100);
                        token.ThrowIfCancellationRequested();
                    }
                    if (_v1 && !lp.Hole)
                        lp.Sha1!.AppendData(seg.Buffer, 0, seg.Length);
                    lp.Turn++;
                    Monitor.PulseAll(lp);
                }
                if (seg.Chunk != lp.Chunks - 1)
                    return;
                // Every earlier chunk has had its turn, so its leaves are in and its bytes hashed.
                if (lp.Hole)
                {
                    if (_v1)
                        lp.Sha1!.GetHashAndReset();
                    _status[p] = Hole;
                }
                else
                {
                    bool ok = true;
                    if (_v1)
                        ok = PieceHashing.Equal(lp.Sha1!.GetHashAndReset(), 0, _meta.PieceHashes!, p * 20, 20);
                    if (ok && _v2)
                        ok = CheckV2(sha256!, p, seg.Buffer, 0, lp.Leaves!, 0, 0, true);
                    _status[p] = ok ? Good : BadHash;
                }
                _largePool.Enqueue(lp);
            }

            /// <summary>
            /// The v2 check of piece <paramref name="p"/>. With <paramref name="finish"/> false: hashes the
            /// leaves of <paramref name="count"/> bytes at <paramref name="offset"/> of the buffer (the piece's
            /// bytes from leaf <paramref name="firstLeaf"/>) into <paramref name="leaves"/>. With it true: hashes
            /// the piece's leaves too when <paramref name="firstLeaf"/> is 0 and the piece is in the buffer
            /// (whole-piece segments), or only reduces them (large pieces, leaves already in), and compares.
            /// A piece of the stream that no v2 file starts (hybrid: pad files only) passes.
            /// </summary>
            private bool CheckV2(SHA256 sha, int p, byte[] buffer, int offset, byte[] leaves, int firstLeaf, int count, bool finish)
            {
                long ps = p * _pl;
                var ext = _extents[ExtentAt(ps)];
                if (ext.File < 0)
                    return true;
                var f = _files[ext.File];
                long fileEnd = f.Offset + f.Length;
                int dataLength = (int)(Math.Min(ps + _pl, fileEnd) - ps);
                int leafCount = (dataLength + Merkle.BlockSize - 1) / Merkle.BlockSize;
                bool large = _pl > WholePieceMax;
                if (!finish || !large)
                {
                    // Hash the leaves of this buffer's part of the piece's data.
                    int from = firstLeaf * Merkle.BlockSize;
                    int upto = finish ? dataLength : (int)Math.Min(from + count, dataLength);
                    for (int at = from, leaf = firstLeaf; at < upto; at += Merkle.BlockSize, leaf++)
                        PieceHashing.Hash(sha, buffer, offset + (at - from), Math.Min(Merkle.BlockSize, upto - at), leaves, leaf * 32);
                    if (!finish)
                        return true;
                }
                if (f.Length <= _pl)
                {
                    Merkle.Reduce(sha, leaves, leafCount, Merkle.Width(leafCount), null);
                    return PieceHashing.Equal(leaves, 0, f.PiecesRoot!, 0, 32);
                }
                Merkle.Reduce(sha, leaves, leafCount, _leavesPerPiece, null);
                int j = (int)((ps - f.Offset) / _pl);
                return PieceHashing.Equal(leaves, 0, f.PieceLayer!, j * 32, 32);
            }

            // ---- the verdicts ----

            public bool[] GoodPieces()
            {
                var good = new bool[_pieceCount];
                for (int p = 0; p < _pieceCount; p++)
                    good[p] = _status[p] == Good;
                return good;
            }

            private TorrentCheck Results()
            {
                var result = new TorrentCheck
                {
                    Hash = _meta.Hash,
                    Name = _meta.Name,
                    Version = _meta.Version,
                    ContentPath = _contentPath,
                    Quick = _options.Quick,
                    PiecesTotal = _meta.PieceCount,
                    BytesRead = Interlocked.Read(ref _bytesRead),
                };
                int checkedPieces = 0, good = 0;
                for (int p = 0; p < _pieceCount; p++)
                {
                    if (!Selected(p))
                        continue;
                    checkedPieces++;
                    if (_status[p] == Good)
                        good++;
                }
                result.PiecesChecked = checkedPieces;
                result.PiecesGood = good;
                result.PiecesBad = checkedPieces - good;

                var files = new List<FileCheck>();
                bool anyPresent = false, anyDamaged = false, anyShort = false;
                for (int i = 0; i < _files.Count; i++)
                {
                    var f = _files[i];
                    if (f.IsPad)
                        continue;
                    var check = Check(i);
                    files.Add(check);
                    if (check.Status != FileCheckStatus.Missing)
                        anyPresent = true;
                    if (check.Status == FileCheckStatus.Damaged)
                        anyDamaged = true;
                    if (check.Status == FileCheckStatus.Missing || check.Status == FileCheckStatus.SizeMismatch)
                        anyShort = true;
                }
                if (!_meta.IsSingleFile)
                    Extras(files);
                result.Files = files;
                result.Status = !anyPresent ? TorrentCheckStatus.Missing
                    : anyDamaged ? TorrentCheckStatus.Damaged
                    : anyShort ? TorrentCheckStatus.Incomplete
                    : TorrentCheckStatus.Complete;
                return result;
            }

            private FileCheck Check(int index)
            {
                var f = _files[index];
                var st = _state[index];
                if (!st.Looked)
                    Look(index); // empty files and symlinks: never read
                st.Stream?.Dispose();
                st.Stream = null;
                var check = new FileCheck
                {
                    RelativePath = f.RelativePath,
                    FullPath = st.DiskPath,
                    Length = f.Length,
                    Detail = st.Detail,
                };
                bool symlinkEntry = f.SymlinkPath != null;
                if (symlinkEntry)
                {
                    // A BEP 47 symlink: libtorrent makes a symlink; it has no data and no pieces.
                    int error = FileSystemApi.TryLstat(check.FullPath, out var link);
                    check.Status = error == 0 && link.Kind == FileKind.SymbolicLink ? FileCheckStatus.Complete : FileCheckStatus.Missing;
                    check.Detail = error == 0 && link.Kind != FileKind.SymbolicLink ? "is not a symbolic link" : null;
                    return check;
                }
                if (!st.Found.Exists)
                {
                    check.Status = FileCheckStatus.Missing;
                    check.Pieces = PieceSpan(f, out int firstP, out int lastP);
                    for (int p = firstP; p <= lastP && check.Pieces > 0; p++)
                        if (Selected(p))
                        {
                            check.PiecesChecked++;
                            if (_status[p] != Good)
                                check.PiecesBad++;
                        }
                    return check;
                }
                var s = st.Found.Status;
                check.SizeOnDisk = s.Size;
                check.Identity = new FileIdentity(s.DeviceNumber, s.Inode, s.Size, s.MtimeNs, s.CtimeNs);
                var bad = new List<ByteRange>();
                int neighbours = 0;
                var sharedWith = new SortedSet<string>(StringComparer.Ordinal);
                bool onlyShared = true;
                check.Pieces = PieceSpan(f, out int first, out int last);
                for (int p = first; p <= last && check.Pieces > 0; p++)
                {
                    if (!Selected(p))
                        continue;
                    check.PiecesChecked++;
                    byte status = _status[p];
                    if (status == Good)
                        continue;
                    check.PiecesBad++;
                    long from = Math.Max(p * _pl, f.Offset) - f.Offset;
                    long to = Math.Min((p + 1) * _pl, f.Offset + f.Length) - f.Offset;
                    if (status == Hole && to <= st.Available)
                    {
                        neighbours++; // this file's bytes were all there: another file under the piece was not
                        continue;
                    }
                    // A v1 piece over two files fails for either: say which other files it also holds.
                    var others = OtherFilesIn(p, index);
                    if (others.Count == 0)
                        onlyShared = false;
                    sharedWith.UnionWith(others);
                    if (bad.Count > 0 && bad[bad.Count - 1].End == from)
                        bad[bad.Count - 1] = new ByteRange(bad[bad.Count - 1].Start, to - bad[bad.Count - 1].Start);
                    else
                        bad.Add(new ByteRange(from, to - from));
                }
                check.BadRanges = bad;
                if (s.Size != f.Length)
                    check.Status = FileCheckStatus.SizeMismatch;
                else if (bad.Count > 0)
                {
                    check.Status = FileCheckStatus.Damaged;
                    if (onlyShared)
                        check.Detail = $"every failed piece also holds {string.Join(", ", sharedWith)}: the damage may be there rather than here";
                }
                else
                {
                    check.Status = FileCheckStatus.Complete;
                    if (neighbours > 0)
                        check.Detail = $"{neighbours} piece(s) shared with a missing or short file could not be checked";
                }
                return check;
            }

            /// <summary>The other non-empty files (pad files aside) whose bytes lie in piece <paramref name="piece"/>.</summary>
            private List<string> OtherFilesIn(int piece, int index)
            {
                var names = new List<string>();
                long start = piece * _pl, end = Math.Min(start + _pl, _streamLength);
                for (int x = ExtentAt(start); x < _extents.Count && _extents[x].Start < end; x++)
                    if (_extents[x].File >= 0 && _extents[x].File != index && _extents[x].End > start)
                        names.Add(_files[_extents[x].File].RelativePath);
                return names;
            }

            private int PieceSpan(MetainfoFile f, out int first, out int last)
            {
                if (f.Length == 0)
                {
                    first = 0;
                    last = -1;
                    return 0;
                }
                first = (int)(f.Offset / _pl);
                last = (int)((f.Offset + f.Length - 1) / _pl);
                return last - first + 1;
            }

            /// <summary>Regular files under the root folder that the torrent does not list (symlinked folders are not followed).</summary>
            private void Extras(List<FileCheck> files)
            {
                // Only in the torrent's own root folder: a content path that is a save folder (qBittorrent's
                // "don't create subfolder" layout) holds other torrents' files, which are not extras of this one.
                if (!string.Equals(Path.GetFileName(_contentPath.TrimEnd('/')), _meta.Name, StringComparison.Ordinal))
                    return;
                if (FileSystemApi.TryLstat(_contentPath, out var root) != 0 || root.Kind != FileKind.Directory)
                    return;
                var listed = new HashSet<string>(StringComparer.Ordinal);
                foreach (var f in _files)
                {
                    listed.Add(f.RelativePath);
                    string? renamed = LibtorrentRelative(f);
                    if (renamed != null)
                        listed.Add(renamed);
                }
                var pending = new Stack<(string Full, string Relative)>();
                pending.Push((_contentPath, ""));
                var found = new List<FileCheck>();
                while (pending.Count > 0)
                {
                    _cancel.ThrowIfCancellationRequested();
                    var (full, relative) = pending.Pop();
                    List<DirectoryEntry> entries;
                    try
                    {
                        entries = DirectoryListing.Read(full);
                    }
                    catch (HashallException)
                    {
                        continue; // an unreadable folder: its files (if listed) are reported missing already
                    }
                    foreach (var e in entries)
                    {
                        string rel = relative.Length == 0 ? e.Name : relative + "/" + e.Name;
                        string path = Path.Combine(full, e.Name);
                        if (e.Kind == FileKind.Directory)
                            pending.Push((path, rel));
                        else if (e.Kind == FileKind.Regular && !listed.Contains(rel))
                            found.Add(new FileCheck
                            {
                                RelativePath = rel,
                                FullPath = path,
                                Length = e.Status.Size,
                                SizeOnDisk = e.Status.Size,
                                Status = FileCheckStatus.Extra,
                                Detail = e.ValidName ? null : "its name is not valid UTF-8",
                            });
                    }
                }
                found.Sort((a, b) => string.CompareOrdinal(a.RelativePath, b.RelativePath));
                files.AddRange(found);
            }
        }
    }
}
