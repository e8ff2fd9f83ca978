using System.Security.Cryptography;
using Hashall.Core.Catalog;
using Hashall.Core.Torrents;
using Hashall.Tests.Shared;

namespace Hashall.Core.Tests;

/// <summary>
/// Finding a torrent's data in a real catalog (trees scanned by the Scanner) and proving it against real
/// torrents (mktorrent for v1, libtorrent's Python binding for v2 and hybrid): other names and folders,
/// absent files, equal sizes told apart by pieces, files changed since the scan, duplicates proven once,
/// devices, files smaller than a piece, a torrent of thousands of files, and nothing written anywhere.
/// </summary>
public sealed class TorrentDataFinderTests : IDisposable
{
    private readonly ScanFixture _f = new();

    public void Dispose() => _f.Dispose();

    /// <summary>Writes files under a fresh folder outside the catalogued tree (the torrent's own layout).</summary>
    private string Content(string name, params (string Path, byte[] Data)[] files)
    {
        string root = _f.Tree.Path(Path.Combine("made", name));
        foreach (var (rel, data) in files)
        {
            string full = Path.Combine(root, rel);
            Directory.CreateDirectory(Path.GetDirectoryName(full)!);
            System.IO.File.WriteAllBytes(full, data);
        }
        return root;
    }

    private string _outDir => Directory.CreateDirectory(_f.Tree.Path("torrents-" + _made++)).FullName;
    private int _made;

    private TorrentMetainfo V1(string content, int exponent) => TorrentMetainfo.Load(TorrentSamples.MkTorrent(content, _outDir, exponent));

    private TorrentMetainfo Lt(string content, string mode, int piece) => TorrentMetainfo.Load(TorrentSamples.LtTorrent(content, _outDir, mode, piece));

    private TorrentMetainfo Make(string mode, string content) => mode switch
    {
        "v1" => V1(content, 15),
        _ => Lt(content, mode, 16384),
    };

    private TorrentDataMatch Find(TorrentMetainfo meta, TorrentDataOptions? options = null, List<long>? increments = null)
    {
        using var db = CatalogDatabase.Open(_f.Db);
        return new TorrentDataFinder(db).Find(meta, "test.torrent", options ?? new TorrentDataOptions(),
            increments == null ? null : n => { lock (increments) increments.Add(n); }, CancellationToken.None);
    }

    private static byte[] R(int size, int seed) => ScanFixture.RandomBytes(size, seed);

    private static TorrentFileMatch File(TorrentDataMatch m, string rel) => m.Files.Single(f => f.RelativePath == rel);

    private static readonly (string Path, int Size)[] Layout =
    {
        ("E01.mkv", 300_000), ("E02.mkv", 65_536), ("Extras/behind.mkv", 16_383), ("Extras/Deep/notes.txt", 1_234),
        ("Extras/empty.nfo", 0), ("Subs/en.srt", 16_385), ("Subs/fr.srt", 40_000), ("zz/last.bin", 131_073),
    };

    /// <summary>The layout's files written into the catalogued tree under other folders and names; their paths by torrent path.</summary>
    private Dictionary<string, string> Elsewhere(int seed, Func<string, bool>? keep = null)
    {
        var where = new Dictionary<string, string>();
        for (int i = 0; i < Layout.Length; i++)
        {
            var (rel, size) = Layout[i];
            if (size == 0 || (keep != null && !keep(rel)))
                continue;
            where[rel] = _f.Write($"library/folder{i % 3}/renamed-{i}{Path.GetExtension(rel)}", R(size, seed + i));
        }
        _f.Write("library/unrelated.bin", R(300_000, 999));
        return where;
    }

    private string LayoutContent(int seed) => Content("Show.S01", Layout.Select((x, i) => (x.Path, R(x.Size, seed + i))).ToArray());

    private static string CatalogChecksum(string db)
    {
        using var sha = SHA256.Create();
        var parts = new[] { db, db + "-wal" }.Where(System.IO.File.Exists).Select(p => Convert.ToHexString(sha.ComputeHash(System.IO.File.ReadAllBytes(p))));
        return string.Join(",", parts);
    }

    private static string TreeState(string root) => string.Join("\n", Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal)
        .Select(p => { var i = new FileInfo(p); return $"{p} {i.Length} {i.LastWriteTimeUtc.Ticks}"; }));

    [Theory]
    [InlineData("v1")]
    [InlineData("v2")]
    [InlineData("hybrid")]
    public void ATorrentWhoseDataSitsUnderOtherNamesIsCompleteAndNothingChanges(string mode)
    {
        var meta = Make(mode, LayoutContent(10));
        var where = Elsewhere(10);
        TempTree.Age(_f.Data);
        _f.Scan();
        string before = CatalogChecksum(_f.Db), tree = TreeState(_f.Data);
        long changes;
        TorrentDataMatch m;
        using (var db = CatalogDatabase.Open(_f.Db))
        {
            long start = (long)db.Scalar("SELECT total_changes();")!;
            var increments = new List<long>();
            m = new TorrentDataFinder(db).Find(meta, "/x/show.torrent", new TorrentDataOptions(), n => increments.Add(n), CancellationToken.None);
            changes = (long)db.Scalar("SELECT total_changes();")! - start;
            Assert.Equal(m.BytesRead, increments.Sum());
        }
        Assert.Equal(0, changes);
        Assert.Equal(before, CatalogChecksum(_f.Db));
        Assert.Equal(tree, TreeState(_f.Data));

        Assert.Equal(TorrentDataStatus.Complete, m.Status);
        Assert.Equal(mode == "v1" ? TorrentVersion.V1 : mode == "v2" ? TorrentVersion.V2 : TorrentVersion.Hybrid, m.Version);
        Assert.Equal(Layout.Sum(x => (long)x.Size), m.TotalBytes);
        Assert.Equal(m.TotalBytes, m.BytesMatched);
        Assert.Equal(1.0, m.Share);
        Assert.Empty(m.MissingFiles);
        Assert.Equal(Layout.Length, m.Files.Count);
        foreach (var (rel, size) in Layout)
        {
            var f = File(m, rel);
            Assert.True(f.Verified, rel);
            if (size == 0)
            {
                Assert.Null(f.MatchedPath);
                Assert.Contains("empty", f.Detail);
            }
            else
            {
                Assert.Equal(where[rel], f.MatchedPath);
                Assert.Equal(m.DeviceId, f.DeviceId);
            }
        }
        Assert.True(m.OneDevice);
        Assert.NotNull(m.DeviceId);
        Assert.False(string.IsNullOrEmpty(m.Device));
        // Each file read once at most (the unrelated 300,000-byte file of E01's size is never the first choice: same extension ranks first).
        Assert.InRange(m.BytesRead, 1, m.TotalBytes + 2 * 32768);
        Assert.Equal("/x/show.torrent", m.Source);
        Assert.Equal("/x/show.torrent", m.TorrentFile);
        Assert.Equal(_f.Db, m.Database);
        if (mode == "v1")
        {
            // 32 KiB pieces: behind.mkv (16,383) and notes.txt (1,234) have no piece of their own.
            Assert.Contains("shared", File(m, "Extras/behind.mkv").Detail);
            Assert.Contains("shared", File(m, "Extras/Deep/notes.txt").Detail);
        }
    }

    [Theory]
    [InlineData("v1")]
    [InlineData("hybrid")]
    public void OneSmallFileAbsentIsPartialWithItsShare(string mode)
    {
        var content = Content("Set", ("a.bin", R(300_000, 1)), ("b.bin", R(1_234, 2)), ("c.bin", R(200_000, 3)));
        var meta = Make(mode, content);
        _f.Write("x/one.bin", R(300_000, 1));
        _f.Write("y/three.bin", R(200_000, 3));
        _f.Scan();
        var m = Find(meta);
        Assert.Equal(TorrentDataStatus.Partial, m.Status);
        Assert.Equal(new[] { "b.bin" }, m.MissingFiles);
        Assert.Equal(500_000, m.BytesMatched);
        Assert.Equal(500_000.0 / 501_234, m.Share, 9);
        Assert.Null(File(m, "b.bin").MatchedPath);
        Assert.False(File(m, "b.bin").Verified);
        Assert.Contains("no catalogued file of 1234 bytes", File(m, "b.bin").Detail);
        Assert.Equal(Path.Combine(_f.Data, "x/one.bin"), File(m, "a.bin").MatchedPath);
        Assert.Equal(Path.Combine(_f.Data, "y/three.bin"), File(m, "c.bin").MatchedPath);
        if (mode == "v1")
            Assert.Contains("was not checked", File(m, "a.bin").Detail); // the piece it shares with b.bin
    }

    [Fact]
    public void ASmallFileWhosePiecesAllHoldAMissingFileIsLeftUnproven()
    {
        // 32 KiB pieces: piece 1 holds the end of a.bin, all of b.bin and c.bin, and the start of d.bin.
        var meta = V1(Content("Set", ("a.bin", R(50_000, 1)), ("b.bin", R(5_000, 2)), ("c.bin", R(3_000, 3)), ("d.bin", R(50_000, 4))), 15);
        _f.Write("x/a.bin", R(50_000, 1));
        _f.Write("x/b.bin", R(5_000, 2)); // the right bytes, but nothing can prove them without c.bin
        _f.Write("x/d.bin", R(50_000, 4));
        _f.Scan();
        var m = Find(meta);
        Assert.Equal(TorrentDataStatus.Partial, m.Status);
        Assert.Equal(new[] { "b.bin", "c.bin" }, m.MissingFiles);
        Assert.Contains("no piece holding it could be checked", File(m, "b.bin").Detail);
        Assert.Contains("not checked", File(m, "a.bin").Detail);
        Assert.Equal(100_000, m.BytesMatched);
    }

    [Fact]
    public void NothingFoundIsNone()
    {
        var meta = Make("v1", Content("Set", ("a.bin", R(50_000, 1))));
        _f.Write("x/a.bin", R(50_000, 2)); // same name and size, other bytes
        _f.Scan();
        var m = Find(meta);
        Assert.Equal(TorrentDataStatus.None, m.Status);
        Assert.Equal(0, m.Share);
        Assert.Null(m.DeviceId);
        Assert.Equal(1, File(m, "a.bin").Candidates);
        Assert.Contains("does not hold its bytes", File(m, "a.bin").Detail);
        Assert.Equal(32768, m.BytesRead); // stopped at the first failing piece
    }

    [Theory]
    [InlineData("v1")]
    [InlineData("v2")]
    [InlineData("hybrid")]
    public void EqualSizesAreToldApartByPiecesTheWrongOneFirst(string mode)
    {
        var meta = Make(mode, Content("Set", ("E01.mkv", R(200_000, 5)), ("E02.mkv", R(100_000, 6))));
        _f.Write("a/E01.mkv", R(200_000, 7));       // the torrent's name, wrong bytes: ranked first
        _f.Write("b/other.bin", R(200_000, 5));     // the right bytes
        _f.Write("c/E02.mkv", R(100_000, 6));
        _f.Scan();
        var m = Find(meta);
        Assert.Equal(TorrentDataStatus.Complete, m.Status);
        var e1 = File(m, "E01.mkv");
        Assert.Equal(Path.Combine(_f.Data, "b/other.bin"), e1.MatchedPath);
        Assert.Equal(2, e1.Candidates);
        // The wrong one cost a piece (the first failing one), not the whole file.
        Assert.InRange(m.BytesRead, 300_000 + 1, 300_000 + 32_768);
    }

    [Fact]
    public void ACandidateChangedOnDiskSinceTheScanIsSkipped()
    {
        var meta = Make("v2", Content("Set", ("E01.mkv", R(200_000, 5)), ("tiny.txt", R(500, 6))));
        string changed = _f.Write("a/E01.mkv", R(200_000, 5));
        string truncated = _f.Write("b/E01.mkv", R(200_000, 5));
        string gone = _f.Write("c/E01.mkv", R(200_000, 5));
        string good = _f.Write("d/E01.mkv", R(200_000, 5));
        string tinyOnly = _f.Write("e/tiny.txt", R(500, 6));
        TempTree.Age(_f.Data);
        _f.Scan();
        var bytes = R(200_000, 5);
        bytes[100_000] ^= 1;
        System.IO.File.WriteAllBytes(changed, bytes); // same size, other bytes
        System.IO.File.WriteAllBytes(truncated, R(1000, 5));
        System.IO.File.Delete(gone);
        System.IO.File.WriteAllBytes(tinyOnly, R(499, 6));
        var m = Find(meta);
        Assert.Equal(TorrentDataStatus.Partial, m.Status);
        var e1 = File(m, "E01.mkv");
        Assert.Equal(good, e1.MatchedPath);
        Assert.Equal(4, e1.Candidates);
        var tiny = File(m, "tiny.txt");
        Assert.Null(tiny.MatchedPath);
        Assert.Contains("changed size since the scan", tiny.Detail);
        Assert.Equal(new[] { "tiny.txt" }, m.MissingFiles);
    }

    [Fact]
    public void DuplicatesOfOneSha1AreProvenOnce()
    {
        // Two torrent files of the same bytes (v2: the same pieces root), three catalogued copies.
        var data = R(200_000, 8);
        var meta = Make("hybrid", Content("Set", ("a.bin", data), ("b/a-copy.bin", data)));
        for (int i = 0; i < 3; i++)
            _f.Write($"copy{i}/x{i}.bin", data);
        _f.Scan();
        var m = Find(meta);
        Assert.Equal(TorrentDataStatus.Complete, m.Status);
        Assert.Equal(200_000, m.BytesRead);
        Assert.Contains("already proven", File(m, "b/a-copy.bin").Detail);

        // v1: three copies of the wrong bytes under the torrent's name are read once, to the first failing piece.
        var meta1 = V1(Content("Single", ("E.mkv", R(100_000, 9))), 15);
        for (int i = 0; i < 3; i++)
            _f.Write($"wrong{i}/E.mkv", R(100_000, 10));
        _f.Write("right/zz.dat", R(100_000, 9));
        TempTree.Age(_f.Data);
        _f.Scan();
        var m1 = Find(meta1);
        Assert.Equal(TorrentDataStatus.Complete, m1.Status);
        Assert.Equal(Path.Combine(_f.Data, "right/zz.dat"), File(m1, "E.mkv").MatchedPath);
        Assert.Equal(32_768 + 100_000, m1.BytesRead);
        Assert.Equal(4, File(m1, "E.mkv").Candidates);
    }

    [RequiresFact(Needs.Tmpfs)]
    public void DeviceIdsRestrictTheCandidates()
    {
        var content = Content("Set", ("a.bin", R(100_000, 1)), ("b.bin", R(60_000, 2)));
        var meta = Make("v1", content);
        string pool = _f.Tree.MountTmpfs("pool");
        System.IO.File.WriteAllBytes(Path.Combine(pool, "a.bin"), R(100_000, 1));
        System.IO.File.WriteAllBytes(Path.Combine(pool, "b.bin"), R(60_000, 2));
        _f.Write("one/a.bin", R(100_000, 1)); // only a on the data device
        _f.Scan(null, default, _f.Data, pool);
        using var db = CatalogDatabase.Open(_f.Db);
        var query = new FileQuery(db);
        long data = _f.Row("one/a.bin").DeviceId;
        long tmpfs = query.Devices.Single(d => d.DeviceId != data).DeviceId;

        var all = Find(meta);
        Assert.Equal(TorrentDataStatus.Complete, all.Status);
        // Same names on both devices: the device holding candidates for every file ranks first.
        Assert.Equal(tmpfs, all.DeviceId);
        Assert.True(all.OneDevice);
        Assert.Equal(Path.Combine(pool, "a.bin"), File(all, "a.bin").MatchedPath);

        var onData = Find(meta, new TorrentDataOptions { DeviceIds = new[] { data } });
        Assert.Equal(TorrentDataStatus.Partial, onData.Status);
        Assert.Equal(Path.Combine(_f.Data, "one/a.bin"), File(onData, "a.bin").MatchedPath);
        Assert.Equal(new[] { "b.bin" }, onData.MissingFiles);
        Assert.Equal(data, onData.DeviceId);

        var onPool = Find(meta, new TorrentDataOptions { DeviceIds = new[] { tmpfs } });
        Assert.Equal(TorrentDataStatus.Complete, onPool.Status);
        Assert.All(onPool.Files, f => Assert.Equal(tmpfs, f.DeviceId));
    }

    [Fact]
    public void AFileSmallerThanAPieceIsProvenThroughTheBoundaryPieces()
    {
        var meta = V1(Content("Set", ("a.bin", R(50_000, 1)), ("b.bin", R(5_000, 2)), ("c.bin", R(50_000, 3))), 15);
        _f.Write("x/a.bin", R(50_000, 1));
        _f.Write("x/b.bin", R(5_000, 4));   // the name, wrong bytes: tried first
        _f.Write("y/b2.bin", R(5_000, 5));  // wrong bytes
        _f.Write("z/q.dat", R(5_000, 2));   // the right bytes
        _f.Write("x/c.bin", R(50_000, 3));
        _f.Scan();
        var m = Find(meta);
        Assert.Equal(TorrentDataStatus.Complete, m.Status);
        var b = File(m, "b.bin");
        Assert.Equal(Path.Combine(_f.Data, "z/q.dat"), b.MatchedPath);
        Assert.True(b.Verified);
        Assert.Contains("shared", b.Detail);
        Assert.Equal(3, b.Candidates);

        // With the right bytes gone, b.bin cannot be proven: left unmatched, a and c keep their own pieces.
        System.IO.File.Delete(Path.Combine(_f.Data, "z/q.dat"));
        _f.Scan();
        var m2 = Find(meta);
        Assert.Equal(TorrentDataStatus.Partial, m2.Status);
        Assert.Equal(new[] { "b.bin" }, m2.MissingFiles);
        Assert.Contains("fails with every candidate", File(m2, "b.bin").Detail);
        Assert.NotNull(File(m2, "a.bin").MatchedPath);
        Assert.NotNull(File(m2, "c.bin").MatchedPath);
    }

    [Fact]
    public void ThousandsOfFilesOfFewSizesCrossEveryBatch()
    {
        // 3,000 small files of 150 sizes (3 batches of 64 lengths), 20 candidates per file, 64 KiB pieces
        // of ~60 files each: every file is proven through shared pieces. Every 100th is renamed in the catalog.
        const int count = 3000, sizes = 150;
        string content = _f.Tree.Path("made/Many");
        for (int i = 0; i < count; i++)
        {
            var bytes = R(1000 + i % sizes, i);
            string rel = $"d{i / 500}/f{i:D4}.bin";
            Directory.CreateDirectory(Path.Combine(content, $"d{i / 500}"));
            System.IO.File.WriteAllBytes(Path.Combine(content, rel), bytes);
            _f.Write(i % 100 == 7 ? $"lib/r{i}.bin" : $"lib/f{i:D4}.bin", bytes);
        }
        var meta = V1(content, 16);
        _f.Scan();
        List<string> traced;
        TorrentDataMatch m = null!;
        using (var db = CatalogDatabase.Open(_f.Db))
        {
            var clock = System.Diagnostics.Stopwatch.StartNew();
            traced = QueryPlanTests.Trace(db, () => m = new TorrentDataFinder(db).Find(meta, "many.torrent", new TorrentDataOptions { MaxCandidates = 32 }, null, CancellationToken.None));
            // Reading every candidate in full: each file's length times the files of that length (20 each).
            long candidateBytes = m.Files.Sum(f => f.Length * (count / sizes));
            Console.WriteLine($"{count} files: {clock.Elapsed.TotalSeconds:F2} s, {count / clock.Elapsed.TotalSeconds:F0} files/s, {m.BytesRead} bytes read of {m.TotalBytes} ({candidateBytes} in candidates)");
        }
        Assert.True(m.Status == TorrentDataStatus.Complete, string.Join("\n", m.Files.Where(f => f.MatchedPath == null).Take(10).Select(f => f.RelativePath + ": " + f.Detail)));
        Assert.Equal(count, m.Files.Count);
        for (int i = 0; i < count; i++)
            Assert.Equal(Path.Combine(_f.Data, i % 100 == 7 ? $"lib/r{i}.bin" : $"lib/f{i:D4}.bin"), m.Files[i].MatchedPath);
        Assert.Equal(3, traced.Count(s => s.Contains("INDEXED BY ix_files_content") && s.Contains("size IN")));
    }

    [Fact]
    public void CancellationStopsTheSearch()
    {
        var meta = Make("v1", Content("Set", ("a.bin", R(100_000, 1))));
        _f.Write("x/a.bin", R(100_000, 1));
        _f.Scan();
        using var db = CatalogDatabase.Open(_f.Db);
        using var cts = new CancellationTokenSource();
        Assert.ThrowsAny<OperationCanceledException>(() => new TorrentDataFinder(db).Find(meta, "t", new TorrentDataOptions(), _ => cts.Cancel(), cts.Token));
    }
    [Fact]
    public void AReleaseRenamedFileByFileIsTriedBeforeSameNamedFilesOfEqualSizeElsewhere()
    {
        // Ten parts; each of 12 other folders holds a same-named part of the same size but other bytes,
        // more than MaxCandidates (8): ranked by name alone, the renamed true copy would never be tried.
        var parts = Enumerable.Range(0, 10).Select(i => ($"part{i:00}.bin", R(40_000 + i, 500 + i))).ToArray();
        var meta = V1(Content("Release", parts), 15);
        for (int i = 0; i < parts.Length; i++)
            _f.Write($"kept/release-{i:00}.dat", parts[i].Item2);
        for (int folder = 0; folder < 12; folder++)
            for (int i = 0; i < parts.Length; i += 3) // a few parts per folder: less of the torrent than the true folder
                _f.Write($"other{folder:00}/part{i:00}.bin", R(40_000 + i, 9_000 + folder * 10 + i));
        _f.Scan();
        var m = Find(meta);
        Assert.Equal(TorrentDataStatus.Complete, m.Status);
        for (int i = 0; i < parts.Length; i++)
            Assert.EndsWith($"kept/release-{i:00}.dat", File(m, $"part{i:00}.bin").MatchedPath);
        Assert.Equal(m.TotalBytes, m.BytesRead); // no decoy was read
    }
}
