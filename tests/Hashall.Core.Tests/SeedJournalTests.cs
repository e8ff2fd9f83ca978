using Hashall.Core.Catalog;
using Hashall.Core.Scanning;
using Hashall.Core.Torrents;

namespace Hashall.Core.Tests;

/// <summary>Add-HashallTorrent's engine without qBittorrent: the seed journal (migration 10) and the progress a partial layout earns.</summary>
public sealed class SeedJournalTests : IDisposable
{
    private const string Hash = "0123456789abcdef0123456789abcdef01234567";
    private readonly ScanFixture _f = new();

    public void Dispose() => _f.Dispose();

    [Fact]
    public void AVersion9CatalogIsUpgradedTo10WithTheSeedJournalAndKeepsItsFiles()
    {
        _f.Write("a.bin", ScanFixture.RandomBytes(1000, 1));
        using (var old = CatalogDatabase.Open(_f.Db, false, Migrations.All.Take(9).ToList()))
        {
            Assert.Equal(9, old.SchemaVersion);
            new Scanner(old, new ScanOptions(), new RecordingObserver()).Run(new[] { _f.Data }, CancellationToken.None);
            Assert.Equal(0L, old.Scalar("SELECT count(*) FROM sqlite_master WHERE name = 'seed_jobs';"));
        }
        using var db = CatalogDatabase.Open(_f.Db, false, Migrations.All.Take(10).ToList());
        Assert.Equal(10, db.SchemaVersion);
        Assert.Equal("torrent seeding journal", db.Scalar("SELECT name FROM schema_migrations WHERE version = 10;"));
        Assert.Equal(2L, db.Scalar("SELECT count(*) FROM sqlite_master WHERE name IN ('seed_jobs', 'seed_links');"));
        Assert.NotNull(_f.Row("a.bin").Sha1);
    }

    [Fact]
    public void AJobIsHeldByOneLiveRunResumedOnceItsHolderIsGoneAndItsLinksKept()
    {
        using var db = CatalogDatabase.Open(_f.Db);
        var journal = new SeedJournal(db);
        var job = journal.Acquire(Hash.ToUpperInvariant(), "Show", "add", "http://q/", "/seeds", Lease.NewOwner());
        Assert.False(job.Resumed);
        Assert.Equal(Hash, job.TorrentHash);
        journal.Save(job, new[]
        {
            new SeedLinkRow { Path = "/seeds/Show", Kind = "folder", State = "made", DeviceNumber = 5, Inode = 6 },
            new SeedLinkRow { Path = "/seeds/Show/a.mkv", Kind = "link", Source = "/data/a.mkv", Size = 10 },
        });
        journal.Advance(job, "adding");
        // This process lives: a second run is refused, the job untouched.
        var busy = Assert.Throws<HashallException>(() => journal.Acquire(Hash, "Show", "add", "http://q/", "/seeds", Lease.NewOwner()));
        Assert.Equal("TorrentSeedBusy", busy.ErrorId);
        // Its holder gone (a lease of another host, expired): the next run resumes it where it was.
        db.Write(tx => { using var c = db.Command("UPDATE seed_jobs SET lock_owner = 'elsewhere:1:x:y', lock_expires_at = '2000-01-01T00:00:00.0000000Z';", tx); return c.ExecuteNonQuery(); });
        var resumed = journal.Acquire(Hash, "Show", "add", "http://q/", "/seeds", Lease.NewOwner());
        Assert.Equal((job.JobId, true, "adding", false), (resumed.JobId, resumed.Resumed, resumed.Step, resumed.TorrentAdded));
        // The old holder's lease is lost: it cannot go on writing.
        Assert.Equal("TorrentSeedLeaseLost", Assert.Throws<HashallException>(() => journal.Advance(job, "added")).ErrorId);
        var links = journal.Links(resumed.JobId);
        Assert.Equal(("made", 6UL), (links["/seeds/Show"].State, links["/seeds/Show"].Inode!.Value));
        Assert.Equal(("planned", "/data/a.mkv", (ulong?)null), (links["/seeds/Show/a.mkv"].State, links["/seeds/Show/a.mkv"].Source, links["/seeds/Show/a.mkv"].Inode));
        journal.Advance(resumed, "added", torrentAdded: true);
        journal.Finish(resumed, "done", null);
        Assert.Null(journal.OpenJob(Hash));
        // Finished: the next run starts a new job.
        Assert.NotEqual(job.JobId, journal.Acquire(Hash, "Show", "add", "http://q/", "/seeds", Lease.NewOwner()).JobId);
    }

    /// <summary>
    /// a.bin 40,000, b.bin 5,000, c.bin 30,000 bytes. v1, 32 KiB pieces: piece 1 holds the end of a, all of
    /// b and the start of c, so without b only piece 0 (of a) and piece 2 (of c) pass. Hybrid, 16 KiB pieces:
    /// every file starts a piece (pad files), so only b's own piece fails.
    /// </summary>
    [RequiresFact(Needs.QBittorrent)]
    public void TheExpectedProgressCountsOnlyPiecesWhoseFilesAreAllLaidOut()
    {
        string content = _f.Tree.Path("Set");
        Directory.CreateDirectory(content);
        File.WriteAllBytes(Path.Combine(content, "a.bin"), ScanFixture.RandomBytes(40_000, 1));
        File.WriteAllBytes(Path.Combine(content, "b.bin"), ScanFixture.RandomBytes(5_000, 2));
        File.WriteAllBytes(Path.Combine(content, "c.bin"), ScanFixture.RandomBytes(30_000, 3));
        string outDir = _f.Tree.Path("t");
        Directory.CreateDirectory(outDir);
        var v1 = TorrentMetainfo.Load(TorrentSamples.MkTorrent(content, outDir, 15));
        var hybrid = TorrentMetainfo.Load(TorrentSamples.LtTorrent(content, outDir, "hybrid", 16384));
        foreach (var (meta, withoutB) in new[] { (v1, (32_768 + 9_464) / 75_000.0), (hybrid, 70_000 / 75_000.0) })
        {
            var data = meta.Files.Where(f => !f.IsPad).ToList();
            Assert.Equal(new[] { "a.bin", "b.bin", "c.bin" }, data.Select(f => f.RelativePath));
            Assert.Equal(1.0, TorrentSeeder.ExpectedProgress(meta, data, new[] { true, true, true }));
            Assert.Equal(withoutB, TorrentSeeder.ExpectedProgress(meta, data, new[] { true, false, true }), 12);
            Assert.Equal(0.0, TorrentSeeder.ExpectedProgress(meta, data, new[] { false, false, false }));
        }
        Assert.Contains(hybrid.Files, f => f.IsPad);
    }

    [Theory]
    [InlineData("..", true)]
    [InlineData(".", true)]
    [InlineData("", true)]
    [InlineData("a\0b", true)]
    [InlineData("a/b", true)]
    [InlineData("...", false)]
    [InlineData("..x", false)]
    [InlineData("Show.S01", false)]
    public void AnUnsafeNameComponentIsToldApart(string component, bool isUnsafe) => Assert.Equal(isUnsafe, TorrentSeeder.Unsafe(component));
}
