using System.Diagnostics;
using Hashall.Core.Catalog;
using Hashall.Core.Scanning;
using Hashall.Core.Torrents;
using Xunit.Abstractions;

namespace Hashall.Core.Tests;

/// <summary>The catalog's memory of piece checks (migration 9): real catalog files, real files and their stat.</summary>
public sealed class TorrentCheckStoreTests : IDisposable
{
    private const string Hash = "0123456789abcdef0123456789abcdef01234567";
    private readonly ScanFixture _f = new();
    private readonly ITestOutputHelper _out;

    public TorrentCheckStoreTests(ITestOutputHelper output) => _out = output;

    public void Dispose() => _f.Dispose();

    /// <summary>A check of every file under (or at) <paramref name="content"/>, as Test-HashallTorrent would record it: each file's stat when read.</summary>
    private static TorrentCheck CheckOf(string content, TorrentCheckStatus status = TorrentCheckStatus.Complete, bool quick = false, string hash = Hash)
    {
        var paths = File.Exists(content) ? new[] { content } : Directory.GetFiles(content, "*", SearchOption.AllDirectories).OrderBy(p => p, StringComparer.Ordinal).ToArray();
        var files = paths.Select(full =>
        {
            var id = TorrentCheckStore.Stat(full)!.Value;
            return new FileCheck
            {
                RelativePath = full == content ? Path.GetFileName(full) : Path.GetRelativePath(content, full).Replace('\\', '/'),
                FullPath = full,
                Length = id.Size,
                SizeOnDisk = id.Size,
                Status = FileCheckStatus.Complete,
                Identity = id,
                Pieces = 3,
                PiecesChecked = quick ? 2 : 3,
            };
        }).ToList();
        return new TorrentCheck
        {
            Hash = hash,
            Name = Path.GetFileName(content),
            Version = TorrentVersion.Hybrid,
            ContentPath = content,
            Status = status,
            Quick = quick,
            PiecesTotal = files.Count * 3,
            PiecesChecked = files.Count * (quick ? 2 : 3),
            PiecesGood = files.Count * (quick ? 2 : 3),
            BytesRead = files.Sum(f => f.Length),
            Duration = TimeSpan.FromMilliseconds(1234.5),
            CheckedAt = DateTime.UtcNow,
            Source = "/torrents/x.torrent",
            Files = files,
        };
    }

    private string Content()
    {
        _f.Write("Show/e01.mkv", ScanFixture.RandomBytes(50_000, 1));
        _f.Write("Show/sub/e02.mkv", ScanFixture.RandomBytes(20_000, 2));
        _f.Write("Show/e03.mkv", ScanFixture.RandomBytes(1, 3));
        TempTree.Age(_f.Data);
        return Path.Combine(_f.Data, "Show");
    }

    [Fact]
    public void ACheckIsRecordedAndReadBackWithItsVerdictsRangesAndIdentities()
    {
        string content = Content();
        var check = CheckOf(content, TorrentCheckStatus.Damaged);
        check.PiecesGood--;
        check.PiecesBad = 1;
        var damaged = check.Files[1];
        damaged.Status = FileCheckStatus.Damaged;
        damaged.PiecesBad = 1;
        damaged.BadRanges = new[] { new ByteRange(0, 16384), new ByteRange(32768, 100) };
        damaged.Detail = "damaged since its last scan";
        check.Files = check.Files.Append(new FileCheck { RelativePath = "gone.nfo", FullPath = Path.Combine(content, "gone.nfo"), Length = 9, Status = FileCheckStatus.Missing, Detail = "not found" }).ToList();

        using (var db = CatalogDatabase.Open(_f.Db))
            new TorrentCheckStore(db).Record(check);
        using (var db = CatalogDatabase.Open(_f.Db))
        {
            var store = new TorrentCheckStore(db);
            var back = store.LastCheck(Hash, content + "/")!; // the same content path, written otherwise
            Assert.NotNull(back);
            Assert.Equal((check.Hash, check.Name, check.Version, check.Status, check.Quick, check.Source), (back.Hash, back.Name, back.Version, back.Status, back.Quick, back.Source));
            Assert.Equal((check.PiecesTotal, check.PiecesChecked, check.PiecesGood, check.PiecesBad, check.BytesRead), (back.PiecesTotal, back.PiecesChecked, back.PiecesGood, back.PiecesBad, back.BytesRead));
            Assert.Equal(content, back.ContentPath);
            Assert.Equal(check.CheckedAt, back.CheckedAt);
            Assert.Equal(DateTimeKind.Utc, back.CheckedAt.Kind);
            Assert.Equal(TimeSpan.FromMilliseconds(1234.5), back.Duration);
            Assert.Equal(_f.Db, back.Database);
            Assert.False(back.Remembered);
            Assert.Equal(check.Files.Select(f => (f.RelativePath, f.FullPath, f.Length, f.SizeOnDisk, f.Status, f.Detail, f.Pieces, f.PiecesChecked, f.PiecesBad)),
                back.Files.Select(f => (f.RelativePath, f.FullPath, f.Length, f.SizeOnDisk, f.Status, f.Detail, f.Pieces, f.PiecesChecked, f.PiecesBad)));
            Assert.Equal(damaged.BadRanges, back.Files[1].BadRanges);
            Assert.Equal(check.Files.Select(f => f.Identity), back.Files.Select(f => f.Identity));
            Assert.Null(back.Files[^1].Identity);
            Assert.Null(store.LastCheck(Hash, _f.Data));
            Assert.Null(store.LastCheck(Hash.Replace('0', 'f'), content));
            Assert.Null(store.UnchangedSinceComplete(Hash, content)); // Damaged is never a reason to skip
        }
    }

    [Fact]
    public void ASingleFileTorrentsFileIsTheContentPathItself()
    {
        string file = _f.Write("movie.mkv", ScanFixture.RandomBytes(70_000, 7));
        TempTree.Age(_f.Data);
        using var db = CatalogDatabase.Open(_f.Db);
        var store = new TorrentCheckStore(db);
        store.Record(CheckOf(file));
        var back = store.UnchangedSinceComplete(Hash, file)!;
        Assert.True(back.Remembered);
        Assert.Equal(file, Assert.Single(back.Files).FullPath);
        Assert.Equal("movie.mkv", back.Files[0].RelativePath);
    }

    [Fact]
    public void OnlyFilesWithTheirStatUnchangedSinceACompleteCheckAreTrusted()
    {
        string content = Content();
        string e01 = Path.Combine(content, "e01.mkv"), e02 = Path.Combine(content, "sub", "e02.mkv");
        using var db = CatalogDatabase.Open(_f.Db);
        var store = new TorrentCheckStore(db);
        void Fresh() => store.Record(CheckOf(content));

        Fresh();
        var remembered = store.UnchangedSinceComplete(Hash, content);
        Assert.NotNull(remembered);
        Assert.True(remembered!.Remembered);
        Assert.Equal(3, remembered.Files.Count);
        Assert.Null(store.UnchangedSinceComplete(Hash, _f.Data)); // another content path: never checked there

        // Touched: same bytes, another mtime.
        File.SetLastWriteTimeUtc(e01, File.GetLastWriteTimeUtc(e01).AddSeconds(-10));
        Assert.Null(store.UnchangedSinceComplete(Hash, content));
        Fresh();
        Assert.NotNull(store.UnchangedSinceComplete(Hash, content));

        // Replaced: a copy with the same size and mtime renamed over it (a new inode, a new ctime).
        string copy = Path.Combine(_f.Data, "copy.tmp");
        TempTree.Run("cp", "-p", e02, copy);
        TempTree.Run("mv", copy, e02);
        Assert.Equal(20_000, new FileInfo(e02).Length);
        Assert.Null(store.UnchangedSinceComplete(Hash, content));
        Fresh();

        // Only the ctime moved (chmod): the content may have been rewritten with its mtime set back.
        var before = TorrentCheckStore.Stat(e01)!.Value;
        Thread.Sleep(20);
        TempTree.Run("chmod", "600", e01);
        var after = TorrentCheckStore.Stat(e01)!.Value;
        Assert.Equal((before.Inode, before.Size, before.MtimeNs), (after.Inode, after.Size, after.MtimeNs));
        Assert.NotEqual(before.CtimeNs, after.CtimeNs);
        Assert.Null(store.UnchangedSinceComplete(Hash, content));
        Fresh();

        // Missing, or a folder in its place.
        File.Move(e01, e01 + ".moved");
        Assert.Null(store.UnchangedSinceComplete(Hash, content));
        Directory.CreateDirectory(e01);
        Assert.Null(store.UnchangedSinceComplete(Hash, content));
        Directory.Delete(e01);
        File.Move(e01 + ".moved", e01);
        Fresh();
        Assert.NotNull(store.UnchangedSinceComplete(Hash, content));

        // The stat given by the caller is what is compared.
        Assert.Null(store.UnchangedSinceComplete(Hash, content, path => path == e02 ? null : TorrentCheckStore.Stat(path)));
        Assert.NotNull(store.UnchangedSinceComplete(Hash, content, TorrentCheckStore.Stat));
    }

    [Fact]
    public void AFileWrittenInTheTickOfTheCheckIsNotTrusted()
    {
        string content = Content();
        string e03 = Path.Combine(content, "e03.mkv");
        using var db = CatalogDatabase.Open(_f.Db);
        var store = new TorrentCheckStore(db);
        File.WriteAllBytes(e03, new byte[] { 9 }); // mtime now: it may change again in the same tick after it is read
        store.Record(CheckOf(content));
        Assert.Null(store.UnchangedSinceComplete(Hash, content));
        TempTree.Age(_f.Data);
        store.Record(CheckOf(content));
        Assert.NotNull(store.UnchangedSinceComplete(Hash, content));
    }

    [Fact]
    public void ANewerVerdictSupersedesAndTheCatalogKeepsOneFullAndOneQuickCheck()
    {
        string content = Content();
        using var db = CatalogDatabase.Open(_f.Db);
        var store = new TorrentCheckStore(db);
        long Rows() => (long)db.Scalar("SELECT count(*) FROM torrent_checks;")!;
        long FileRows() => (long)db.Scalar("SELECT count(*) FROM torrent_check_files;")!;

        var full = CheckOf(content);
        store.Record(full);
        for (int night = 0; night < 5; night++)
        {
            var again = CheckOf(content);
            again.CheckedAt = full.CheckedAt.AddDays(night + 1);
            store.Record(again);
        }
        Assert.Equal(1, Rows());
        Assert.Equal(3, FileRows()); // replaced, never a history

        var quick = CheckOf(content, quick: true);
        quick.CheckedAt = full.CheckedAt.AddDays(10);
        store.Record(quick);
        Assert.Equal(2, Rows());
        Assert.True(store.LastCheck(Hash, content)!.Quick);
        Assert.False(store.UnchangedSinceComplete(Hash, content)!.Quick); // a quick Complete leaves the full one

        var quickDamaged = CheckOf(content, TorrentCheckStatus.Damaged, quick: true);
        quickDamaged.CheckedAt = full.CheckedAt.AddDays(11);
        store.Record(quickDamaged);
        Assert.Equal(1, Rows());
        Assert.Equal(TorrentCheckStatus.Damaged, store.LastCheck(Hash, content)!.Status);
        Assert.Null(store.UnchangedSinceComplete(Hash, content)); // the full verdict no longer holds

        var fullAgain = CheckOf(content);
        fullAgain.CheckedAt = full.CheckedAt.AddDays(12);
        store.Record(fullAgain);
        Assert.Equal(1, Rows()); // a full check replaces the quick one too
        Assert.False(store.LastCheck(Hash, content)!.Quick);
        Assert.NotNull(store.UnchangedSinceComplete(Hash, content));

        store.Record(CheckOf(content, TorrentCheckStatus.Incomplete));
        Assert.Null(store.UnchangedSinceComplete(Hash, content));
        Assert.Equal(1, Rows());
        Assert.Equal(3, FileRows());
    }

    [Fact]
    public void ChecksAtAPathThatIsGoneAreDroppedWhenTheTorrentIsCheckedElsewhere()
    {
        string content = Content();
        using var db = CatalogDatabase.Open(_f.Db);
        var store = new TorrentCheckStore(db);
        long Rows() => (long)db.Scalar("SELECT count(*) FROM torrent_checks;")!;
        store.Record(CheckOf(content));
        store.Record(CheckOf(content, quick: true));
        store.Record(CheckOf(content, hash: Hash.Replace('0', 'e'))); // another torrent of the same data

        // A copy on another pool, checked there: both places are remembered.
        string copy = Path.Combine(_f.Tree.Root, "pool2", "Show");
        TempTree.Run("mkdir", "-p", Path.GetDirectoryName(copy)!);
        TempTree.Run("cp", "-a", content, copy);
        store.Record(CheckOf(copy));
        Assert.Equal(4, Rows());
        Assert.NotNull(store.LastCheck(Hash, content));

        // Moved away (rehomed): its next check drops the rows of the path that is gone, the other torrent's stay.
        string moved = Path.Combine(_f.Tree.Root, "pool3", "Show");
        Directory.CreateDirectory(Path.GetDirectoryName(moved)!);
        Directory.Move(content, moved);
        store.Record(CheckOf(moved));
        Assert.Null(store.LastCheck(Hash, content));
        Assert.NotNull(store.LastCheck(Hash, copy));
        Assert.NotNull(store.LastCheck(Hash, moved));
        Assert.NotNull(store.LastCheck(Hash.Replace('0', 'e'), content));
        Assert.Equal(3, Rows());
        Assert.Equal(9L, db.Scalar("SELECT count(*) FROM torrent_check_files;"));
    }

    [Fact]
    public void AVersion8CatalogIsUpgradedTo9AndKeepsItsFiles()
    {
        _f.Write("a.bin", ScanFixture.RandomBytes(1000, 1));
        using (var old = CatalogDatabase.Open(_f.Db, false, Migrations.All.Take(8).ToList()))
        {
            Assert.Equal(8, old.SchemaVersion);
            new Scanner(old, new ScanOptions(), new RecordingObserver()).Run(new[] { _f.Data }, CancellationToken.None);
            Assert.Equal(0L, old.Scalar("SELECT count(*) FROM sqlite_master WHERE name = 'torrent_checks';"));
        }
        string sha1 = TempTree.Sha1Sum(Path.Combine(_f.Data, "a.bin"));
        using (var db = CatalogDatabase.Open(_f.Db))
        {
            Assert.Equal(Migrations.Latest, db.SchemaVersion); // 9, and every later step
            Assert.True(Migrations.Latest >= 9);
            Assert.Equal("torrent piece checks", db.Scalar("SELECT name FROM schema_migrations WHERE version = 9;"));
            Assert.Equal(sha1, _f.Row("a.bin").Sha1);
            var store = new TorrentCheckStore(db);
            TempTree.Age(_f.Data);
            store.Record(CheckOf(_f.Data));
            Assert.NotNull(store.UnchangedSinceComplete(Hash, _f.Data));
            // Deleting a check deletes its files (the foreign key cascades).
            db.Scalar("DELETE FROM torrent_checks;");
            Assert.Equal(0L, db.Scalar("SELECT count(*) FROM torrent_check_files;"));
        }
    }

    /// <summary>
    /// Bit rot for real: bytes of a file changed on the filesystem image while it is not mounted, so
    /// inode, size, mtime and ctime all stay (nothing a process can write does that).
    /// </summary>
    [RequiresFact(Needs.Root)]
    public void BitRotUnderAnUnchangedStatIsReportedAndTheNextScanReadsTheFileAgain()
    {
        string image = _f.Tree.Path("rot.img");
        string mount = _f.Tree.Path("rot");
        Directory.CreateDirectory(mount);
        TempTree.Run("truncate", "-s", "32M", image);
        TempTree.Run("mkfs.ext4", "-q", "-F", "-b", "4096", "-U", Guid.NewGuid().ToString(), image);
        TempTree.Run("mount", "-o", "loop", image, mount);
        bool mounted = true;
        try
        {
            string rotten = Path.Combine(mount, "rotten.bin"), control = Path.Combine(mount, "control.bin"), intact = Path.Combine(mount, "intact.bin");
            File.WriteAllBytes(rotten, ScanFixture.RandomBytes(300_000, 11));
            File.WriteAllBytes(control, ScanFixture.RandomBytes(300_000, 12));
            File.WriteAllBytes(intact, ScanFixture.RandomBytes(300_000, 13));
            string outside = _f.Write("not-scanned.bin", ScanFixture.RandomBytes(1000, 14));
            TempTree.Age(mount);
            Assert.True(_f.Scan(null, default, mount).Completed);
            var scanned = _f.Rows();
            string rottenSha1 = scanned[rotten].Sha1!, controlSha1 = scanned[control].Sha1!;
            var before = new[] { rotten, control }.Select(p => TorrentCheckStore.Stat(p)!.Value).ToList();

            // Flip one byte in the second block of rotten.bin and of control.bin, on the unmounted image.
            TempTree.Run("umount", mount);
            mounted = false;
            foreach (string name in new[] { "rotten.bin", "control.bin" })
            {
                long block = long.Parse(TempTree.Run("debugfs", "-R", $"bmap /{name} 1", image).Trim());
                using var img = new FileStream(image, FileMode.Open, FileAccess.ReadWrite);
                img.Position = block * 4096 + 100;
                int b = img.ReadByte();
                img.Position--;
                img.WriteByte((byte)(b ^ 0x5a));
            }
            TempTree.Run("mount", "-o", "loop", image, mount);
            mounted = true;
            var after = new[] { rotten, control }.Select(p => TorrentCheckStore.Stat(p)!.Value).ToList();
            for (int i = 0; i < 2; i++)
                Assert.Equal((before[i].Inode, before[i].Size, before[i].MtimeNs, before[i].CtimeNs), (after[i].Inode, after[i].Size, after[i].MtimeNs, after[i].CtimeNs));
            string rottenNow = TempTree.Sha1Sum(rotten), controlNow = TempTree.Sha1Sum(control);
            Assert.NotEqual(rottenSha1, rottenNow);
            Assert.NotEqual(controlSha1, controlNow);

            // A scan alone cannot see it: the status proves the rows unchanged.
            var blind = _f.Scan(null, default, mount);
            Assert.Equal(0, blind.Rechecked + blind.Changed);
            Assert.Equal(rottenSha1, _f.Rows()[rotten].Sha1);

            using (var db = CatalogDatabase.Open(_f.Db))
            {
                var store = new TorrentCheckStore(db);
                var file = new FileCheck { RelativePath = "rotten.bin", FullPath = rotten, Length = 300_000, SizeOnDisk = 300_000, Status = FileCheckStatus.Damaged };
                var found = store.DamagedSinceScan(file);
                Assert.Equal(ScanDamageVerdict.DamagedSinceScan, found.Verdict);
                Assert.Equal((rottenSha1, rottenNow), (found.CatalogSha1, found.Sha1Now));
                Assert.Contains("damaged since its last scan (bit rot)", file.Detail);
                Assert.Equal(scanned[rotten].FileId, found.FileId);

                var sound = new FileCheck { FullPath = intact, Status = FileCheckStatus.Damaged };
                Assert.Equal(ScanDamageVerdict.DamagedWhenScanned, store.DamagedSinceScan(sound).Verdict);
                Assert.Contains("unchanged since its last scan", sound.Detail);
                Assert.Equal(ScanDamageVerdict.NotCatalogued, store.DamagedSinceScan(new FileCheck { FullPath = outside, Status = FileCheckStatus.Damaged }).Verdict);
                var refused = Assert.Throws<HashallException>(() => store.DamagedSinceScan(new FileCheck { FullPath = intact, Status = FileCheckStatus.Complete }));
                Assert.Equal("FileNotDamaged", refused.ErrorId);
            }

            // The next scan (quick, the cheapest) reads the marked file whole and records its SHA-1 now;
            // the unmarked control, as rotten but not reported, stays as it was.
            var rescan = _f.Scan(new ScanOptions { Mode = ScanMode.Quick }, default, mount);
            Assert.Equal(1, rescan.Rechecked);
            Assert.Equal(1, rescan.Changed);
            var rows = _f.Rows();
            Assert.Equal(rottenNow, rows[rotten].Sha1);
            Assert.Equal(scanned[rotten].FileId, rows[rotten].FileId);
            Assert.Equal(controlSha1, rows[control].Sha1);
            // Not marked any more: the scan after reads nothing.
            var quiet = _f.Scan(null, default, mount);
            Assert.Equal(0, quiet.Rechecked + quiet.Changed);

            using (var db = CatalogDatabase.Open(_f.Db))
            {
                var store = new TorrentCheckStore(db);
                // Now the catalog has the damaged bytes' SHA-1: damaged when scanned, as far as it can tell.
                Assert.Equal(ScanDamageVerdict.DamagedWhenScanned, store.DamagedSinceScan(new FileCheck { FullPath = rotten, Status = FileCheckStatus.Damaged }).Verdict);
                File.SetLastWriteTimeUtc(control, DateTime.UtcNow.AddDays(-3));
                var changed = new FileCheck { FullPath = control, Status = FileCheckStatus.Damaged };
                Assert.Equal(ScanDamageVerdict.ChangedSinceScan, store.DamagedSinceScan(changed).Verdict);
                Assert.Contains("changed since its last scan", changed.Detail);
            }
        }
        finally
        {
            if (mounted)
                TempTree.Run("umount", mount);
        }
    }

    [Fact]
    public void ARowWithoutASha1HasNothingToCompareWith()
    {
        // A quick scan samples a file larger than 128 KiB: its row has a quick hash and no SHA-1.
        string big = _f.Write("big.bin", ScanFixture.RandomBytes(300_000, 5));
        TempTree.Age(_f.Data);
        _f.Scan(new ScanOptions { Mode = ScanMode.Quick });
        Assert.Null(_f.Row("big.bin").Sha1);
        using var db = CatalogDatabase.Open(_f.Db);
        var found = new TorrentCheckStore(db).DamagedSinceScan(new FileCheck { FullPath = big, Status = FileCheckStatus.Damaged });
        Assert.Equal(ScanDamageVerdict.NoCatalogHash, found.Verdict);
        Assert.NotNull(found.FileId);
    }

    [Fact]
    public void TwoThousandTorrentsOfFiftyFilesAreRecordedAndEachLookedUpByOneIndexedStatement()
    {
        const int torrents = 2000, perTorrent = 50;
        var clock = Stopwatch.StartNew();
        // Each torrent's content path is its own name (a symlink to one real folder of 50 files): every
        // lookup still lstat's 50 real files through its own path, without making 100,000 of them.
        string shared = Path.Combine(_f.Data, "shared");
        Directory.CreateDirectory(shared);
        for (int i = 0; i < perTorrent; i++)
            File.WriteAllBytes(Path.Combine(shared, $"f{i:D2}.bin"), new[] { (byte)i });
        TempTree.Age(_f.Data);
        var contents = new List<string>();
        for (int t = 0; t < torrents; t++)
        {
            string dir = Path.Combine(_f.Data, $"t{t:D4}");
            File.CreateSymbolicLink(dir, shared);
            contents.Add(dir);
        }
        var made = clock.Elapsed;
        var checks = contents.Select((c, t) =>
        {
            var check = CheckOf(shared, hash: t.ToString("x40"));
            check.ContentPath = c;
            foreach (var file in check.Files)
                file.FullPath = Path.Combine(c, file.RelativePath);
            return check;
        }).ToList();

        using var db = CatalogDatabase.Open(_f.Db);
        var store = new TorrentCheckStore(db);
        clock.Restart();
        foreach (var check in checks)
            store.Record(check);
        var recorded = clock.Elapsed;

        clock.Restart();
        int remembered = 0;
        var statements = QueryPlanTests.Trace(db, () =>
        {
            for (int t = 0; t < torrents; t++)
                if (store.UnchangedSinceComplete(t.ToString("x40"), contents[t]) is TorrentCheck c && c.Files.Count == perTorrent)
                    remembered++;
        });
        var lookedUp = clock.Elapsed;
        Assert.Equal(torrents, remembered);
        Assert.Equal(torrents, statements.Count); // one statement per torrent, its files included
        Assert.All(QueryPlanTests.Plan(db, TorrentCheckStore.CompleteCheckSql), l => Assert.StartsWith("SEARCH", l));

        clock.Restart();
        for (int t = 0; t < torrents; t++)
            Assert.NotNull(store.LastCheck(t.ToString("x40"), contents[t]));
        var last = clock.Elapsed;

        long pages = (long)db.Scalar("PRAGMA page_count;")! * (long)db.Scalar("PRAGMA page_size;")!;
        _out.WriteLine($"{torrents} torrents x {perTorrent} files: files made in {made.TotalSeconds:F1} s; recorded in {recorded.TotalSeconds:F2} s; "
            + $"UnchangedSinceComplete (lstat included) {lookedUp.TotalSeconds:F2} s; LastCheck {last.TotalSeconds:F2} s; catalog {pages / 1024} KiB");
        // Loose bounds (2 shared cores): a nightly run of 5,000 torrents must not wait on the catalog.
        Assert.True(recorded < TimeSpan.FromSeconds(60), $"recording took {recorded}");
        Assert.True(lookedUp < TimeSpan.FromSeconds(30), $"looking up took {lookedUp}");
    }
}
