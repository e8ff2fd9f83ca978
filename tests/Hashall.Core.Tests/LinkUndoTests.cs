using Hashall.Core;
using Hashall.Core.Catalog;
using Hashall.Core.Devices;
using Hashall.Core.Linking;
using Hashall.Core.Platform;
using Hashall.Tests.Shared;

namespace Hashall.Core.Tests;

/// <summary>Undo of executed link plans, keep rules and limited runs, on real trees and a real catalog.</summary>
public sealed class LinkUndoTests : IDisposable
{
    private readonly ScanFixture _f = new();

    public void Dispose() => _f.Dispose();

    private sealed class Observer : ILinkObserver, ILinkUndoObserver
    {
        public List<string> Asked { get; } = new();
        public bool ShouldLink(LinkAction action) => true;
        public bool ShouldUndo(LinkAction action, LinkActionPath path)
        {
            Asked.Add(path.FullName);
            return true;
        }
        public void Progress(long bytesDone, long bytesTotal, string current) { }
    }

    private static byte[] Bytes(int size, int seed) => ScanFixture.RandomBytes(size, seed);
    private string Full(string relative) => Path.Combine(_f.Data, relative);
    private FileStatus Stat(string relative) => FileSystemApi.Lstat(Full(relative));
    private static readonly DateTime Y2020 = new(2020, 1, 1, 0, 0, 0, DateTimeKind.Utc);

    private static long Ns(DateTime t) => (t - DateTime.UnixEpoch).Ticks * 100;

    private LinkPlan Plan(CatalogDatabase db, KeepRules? rules = null)
    {
        var device = new DeviceStore(db).Resolve(_f.Data, new DeviceLocator(), register: false);
        var planner = new LinkPlanner(db);
        if (rules != null)
            planner.Rules = rules;
        var plan = planner.Store(device, "", 1, "test");
        return plan.PlanId > 0 ? new LinkPlanStore(db).Find(plan.PlanId, withActions: true)! : plan;
    }

    private Dictionary<string, string> Contents() =>
        Directory.GetFiles(_f.Data, "*", SearchOption.AllDirectories).ToDictionary(p => p, TempTree.Sha1Sum);

    private void SetTime(string relative, DateTime t) => File.SetLastWriteTimeUtc(Full(relative), t);

    [RequiresFact(Needs.Root)]
    public void UndoGivesEachPathItsOwnInodeWithItsRecordedOwnerModeAndMtime()
    {
        // A file larger than any copy buffer or copy_file_range chunk (64 MiB), and a small group.
        var big = Bytes(70 << 20, 1);
        _f.Write("lib/big.bin", big);
        _f.Write("dl/big.bin", big);
        var small = Bytes(40_000, 2);
        _f.Write("lib/small.bin", small);
        _f.Write("dl/small.bin", small);
        _f.Write("dl/other/small.bin", small);
        // Each path its own owner, mode and mtime (the canonical lib/ copies stay root's, 0644).
        TempTree.Run("chown", "1234:2345", Full("dl/big.bin"));
        TempTree.Run("chmod", "0600", Full("dl/big.bin"));
        TempTree.Run("chown", "4321:5432", Full("dl/small.bin"));
        TempTree.Run("chmod", "0640", Full("dl/small.bin"));
        SetTime("lib/big.bin", Y2020);
        SetTime("lib/small.bin", Y2020);
        SetTime("dl/big.bin", new DateTime(2021, 2, 3, 4, 5, 6, 789, DateTimeKind.Utc).AddTicks(1234));
        SetTime("dl/small.bin", new DateTime(2022, 5, 6, 7, 8, 9, DateTimeKind.Utc));
        SetTime("dl/other/small.bin", new DateTime(2023, 1, 1, 0, 0, 0, DateTimeKind.Utc));
        TempTree.Age(_f.Data);
        var before = new[] { "lib/big.bin", "dl/big.bin", "lib/small.bin", "dl/small.bin", "dl/other/small.bin" }.ToDictionary(p => p, Stat);
        var contents = Contents();
        _f.Scan();
        using var db = CatalogDatabase.Open(_f.Db);
        var plan = Plan(db, new KeepRules { Keep = new Func<string, bool>[] { p => p.StartsWith(Full("lib/"), StringComparison.Ordinal) } });
        Assert.All(plan.Actions, a => Assert.StartsWith(Full("lib/"), a.Canonical));
        var linked = new LinkExecutor(db).Execute(plan.PlanId, new LinkOptions { Force = true }, new Observer(), default);
        Assert.Equal(3, linked.Linked);
        Assert.Equal(Stat("lib/big.bin").Inode, Stat("dl/big.bin").Inode);
        Assert.Equal(0u, Stat("dl/big.bin").Uid); // the link shows the canonical file's owner

        var observer = new Observer();
        var undo = new LinkUndoer(db).Undo(plan.PlanId, null, observer, default);
        Assert.True(undo.Completed);
        Assert.Equal(3, undo.Undone);
        Assert.Equal(0, undo.Skipped + undo.Failed);
        Assert.Equal(big.Length + 2L * small.Length, undo.BytesCopied);
        Assert.Equal(3, observer.Asked.Count);
        foreach (var (path, was) in before)
        {
            var now = Stat(path);
            Assert.Equal(1, now.LinkCount);
            Assert.Equal(was.Uid, now.Uid);
            Assert.Equal(was.Gid, now.Gid);
            Assert.Equal(was.Permissions, now.Permissions);
            Assert.Equal(was.MtimeNs, now.MtimeNs);
        }
        Assert.Equal(5, before.Keys.Select(p => Stat(p).Inode).Distinct().Count());
        Assert.Equal(contents, Contents()); // identical bytes, no temporary file left
        var stored = new LinkPlanStore(db).Find(plan.PlanId, withActions: true)!;
        Assert.Equal("undone", stored.Status);
        Assert.Equal(3, stored.Undone);
        Assert.NotNull(stored.UndoneAt);
        Assert.All(stored.Actions.SelectMany(a => a.Paths), p => Assert.Equal("undone", p.UndoStatus));
        // The catalog follows the disk: each row its own inode again, link counts of one.
        var rows = _f.Rows();
        foreach (var path in before.Keys)
        {
            Assert.Equal((long)Stat(path).Inode, rows[Full(path)].Inode);
            Assert.Equal(1, rows[Full(path)].LinkCount);
        }
        Assert.Equal(2, new FileQuery(db).Duplicates(Array.Empty<long>(), 1).Count());
        // Undoing again finds nothing left; running the plan again links nothing.
        var again = new LinkUndoer(db).Undo(plan.PlanId, null, new Observer(), default);
        Assert.Equal(0, again.Undone + again.Skipped + again.Failed);
        Assert.Equal(0, new LinkExecutor(db).Execute(plan.PlanId, new LinkOptions(), new Observer(), default).Linked);
    }

    [Fact]
    public void APathReplacedSinceItWasLinkedIsLeftAloneAndAFilterUndoesOnlyItsPaths()
    {
        var a = Bytes(30_000, 3);
        foreach (var dir in new[] { "keep", "x", "y", "z" })
            _f.Write($"{dir}/a.bin", a);
        SetTime("keep/a.bin", Y2020);
        TempTree.Age(_f.Data);
        _f.Scan();
        using var db = CatalogDatabase.Open(_f.Db);
        var plan = Plan(db);
        Assert.Equal(3, new LinkExecutor(db).Execute(plan.PlanId, new LinkOptions(), new Observer(), default).Linked);
        // z/a.bin rewritten by a torrent client: a new file renamed over the link.
        File.WriteAllBytes(Full("z/a.new"), Bytes(30_000, 4));
        File.Move(Full("z/a.new"), Full("z/a.bin"), overwrite: true);
        string rewritten = TempTree.Sha1Sum(Full("z/a.bin"));
        ulong zInode = Stat("z/a.bin").Inode;

        var first = new LinkUndoer(db).Undo(plan.PlanId, p => p.StartsWith(Full("x/"), StringComparison.Ordinal), new Observer(), default);
        Assert.Equal(1, first.Undone);
        Assert.NotEqual(Stat("keep/a.bin").Inode, Stat("x/a.bin").Inode);
        Assert.Equal(Stat("keep/a.bin").Inode, Stat("y/a.bin").Inode); // not picked: still linked
        Assert.Equal("partially-undone", new LinkPlanStore(db).Find(plan.PlanId, false)!.Status);

        var rest = new LinkUndoer(db).Undo(plan.PlanId, null, new Observer(), default);
        Assert.Equal(1, rest.Undone);
        Assert.Equal(1, rest.Skipped);
        Assert.Contains(rest.Reasons, r => r.Contains("z/a.bin") && r.Contains("no longer a link of the canonical file"));
        Assert.Equal(zInode, Stat("z/a.bin").Inode); // never overwritten
        Assert.Equal(rewritten, TempTree.Sha1Sum(Full("z/a.bin")));
        Assert.Equal(1, Stat("keep/a.bin").LinkCount);
        Assert.Equal("partially-undone", new LinkPlanStore(db).Find(plan.PlanId, false)!.Status);
    }

    [Fact]
    public void ACopyGivenBackByARunThatStoppedBeforeRecordingItIsRecognisedByItsBytes()
    {
        // Larger than the comparer's buffer (4 MiB): compared in chunks, the second file on a pool thread.
        var a = Bytes(5 << 20, 7);
        foreach (var dir in new[] { "keep", "x", "y" })
            _f.Write($"{dir}/a.bin", a);
        SetTime("keep/a.bin", Y2020);
        var mtime = new DateTime(2022, 3, 4, 5, 6, 7, DateTimeKind.Utc);
        SetTime("x/a.bin", mtime);
        SetTime("y/a.bin", mtime);
        TempTree.Age(_f.Data);
        _f.Scan();
        using var db = CatalogDatabase.Open(_f.Db);
        var plan = Plan(db);
        Assert.Equal(2, new LinkExecutor(db).Execute(plan.PlanId, new LinkOptions(), new Observer(), default).Linked);
        // As a crashed undo leaves them: own copies with the original mtime, renamed over the links but
        // not recorded. y/a.bin's copy differs in its last byte, so it is not the canonical file's.
        foreach (var (dir, last) in new[] { ("x", a[^1]), ("y", (byte)(a[^1] ^ 1)) })
        {
            var bytes = (byte[])a.Clone();
            bytes[^1] = last;
            File.WriteAllBytes(Full($"{dir}/a.new"), bytes);
            File.SetLastWriteTimeUtc(Full($"{dir}/a.new"), mtime);
            File.Move(Full($"{dir}/a.new"), Full($"{dir}/a.bin"), overwrite: true);
        }

        var undo = new LinkUndoer(db).Undo(plan.PlanId, null, new Observer(), default);
        Assert.Equal(1, undo.Undone);
        Assert.Equal(1, undo.Skipped);
        Assert.Equal(0L, undo.BytesCopied);
        var paths = new LinkPlanStore(db).Find(plan.PlanId, withActions: true)!.Actions.SelectMany(x => x.Paths).ToDictionary(x => x.FullName);
        Assert.Equal("undone", paths[Full("x/a.bin")].UndoStatus);
        Assert.Contains("already its own copy", paths[Full("x/a.bin")].UndoReason);
        Assert.Equal("skipped", paths[Full("y/a.bin")].UndoStatus);
        Assert.Contains("no longer a link of the canonical file", paths[Full("y/a.bin")].UndoReason);
    }

    /// <summary>Runs <see cref="Before"/> once, at the first question (before the run takes the plan's lease).</summary>
    private sealed class RacingObserver : ILinkUndoObserver
    {
        public Action? Before { get; set; }
        public bool ShouldUndo(LinkAction action, LinkActionPath path)
        {
            var before = Before;
            Before = null;
            before?.Invoke();
            return true;
        }
        public void Progress(long bytesDone, long bytesTotal, string current) { }
    }

    [Fact]
    public void AnUndoReadsWhatIsLeftToUndoAgainOnceItHoldsTheLease()
    {
        var a = Bytes(30_000, 8);
        foreach (var dir in new[] { "keep", "x", "y" })
            _f.Write($"{dir}/a.bin", a);
        SetTime("keep/a.bin", Y2020);
        TempTree.Age(_f.Data);
        _f.Scan();
        using var db = CatalogDatabase.Open(_f.Db);
        var plan = Plan(db);
        Assert.Equal(2, new LinkExecutor(db).Execute(plan.PlanId, new LinkOptions(), new Observer(), default).Linked);
        // Another run undoes the whole plan after this one read its list, before it takes the lease.
        LinkUndoResult? other = null;
        var racing = new RacingObserver { Before = () => other = new LinkUndoer(db).Undo(plan.PlanId, null, new Observer(), default) };
        var late = new LinkUndoer(db).Undo(plan.PlanId, null, racing, default);
        Assert.Equal(2, other!.Undone);
        Assert.Equal(0, late.Undone + late.Skipped + late.Failed);
        // The other run's records stand (no "already its own copy" of a run that stopped).
        Assert.All(new LinkPlanStore(db).Find(plan.PlanId, withActions: true)!.Actions.SelectMany(x => x.Paths), p =>
        {
            Assert.Equal("undone", p.UndoStatus);
            Assert.Null(p.UndoReason);
        });
        Assert.Equal(2, new LinkPlanStore(db).Find(plan.PlanId, false)!.Undone);
    }

    [Fact]
    public void APlanOfAnotherMethodIsNotUndone()
    {
        var a = Bytes(10_000, 5);
        _f.Write("a1", a);
        _f.Write("a2", a);
        _f.Scan();
        using var db = CatalogDatabase.Open(_f.Db);
        var plan = Plan(db);
        new LinkExecutor(db).Execute(plan.PlanId, new LinkOptions(), new Observer(), default);
        // The clone method's column, as the clone plans add it (added here when the schema lacks it).
        if (Convert.ToInt64(db.Scalar("SELECT count(*) FROM pragma_table_info('link_plans') WHERE name = 'method';")) == 0)
            db.Scalar("ALTER TABLE link_plans ADD COLUMN method TEXT;");
        db.Scalar($"UPDATE link_plans SET method = 'Clone' WHERE plan_id = {plan.PlanId};");
        var undo = new LinkUndoer(db).Undo(plan.PlanId, null, new Observer(), default);
        Assert.Equal(LinkMethod.Clone, undo.Method);
        Assert.Contains("nothing to undo", undo.Message);
        Assert.Equal(0, undo.Undone + undo.Skipped + undo.Failed);
        Assert.Equal(Stat("a1").Inode, Stat("a2").Inode);
    }

    [Fact]
    public void WithoutTheFreeSpaceUndoRefusesBeforeChangingAnything()
    {
        var a = Bytes(50_000, 6);
        _f.Write("a1", a);
        _f.Write("a2", a);
        _f.Write("a3", a);
        _f.Scan();
        using var db = CatalogDatabase.Open(_f.Db);
        var plan = Plan(db);
        new LinkExecutor(db).Execute(plan.PlanId, new LinkOptions(), new Observer(), default);
        var undoer = new LinkUndoer(db) { FreeBytes = _ => 99_999 };
        var e = Assert.Throws<HashallException>(() => undoer.Undo(plan.PlanId, null, new Observer(), default));
        Assert.Equal("LinkUndoNotEnoughSpace", e.ErrorId);
        Assert.Contains("100,000 bytes for 2 copies", e.Message);
        Assert.Equal(3, Stat("a1").LinkCount);
        Assert.Equal("done", new LinkPlanStore(db).Find(plan.PlanId, false)!.Status);
        // Exactly enough is enough.
        undoer.FreeBytes = _ => 100_000;
        Assert.Equal(2, undoer.Undo(plan.PlanId, null, new Observer(), default).Undone);
    }

    /// <summary>
    /// One group of four inodes: lib/ (newest, first in path order), t/ (shortest path), torrents/a
    /// (oldest), torrents/b with a second link (most links).
    /// </summary>
    private void KeepTree()
    {
        var c = Bytes(20_000, 7);
        _f.Write("lib/media/movie.mkv", c);
        _f.Write("t/m.mkv", c);
        _f.Write("torrents/a/movie.mkv", c);
        _f.Write("torrents/b/movie.mkv", c);
        TempTree.Run("ln", Full("torrents/b/movie.mkv"), Full("torrents/b/movie.mkv.link"));
        SetTime("lib/media/movie.mkv", new DateTime(2023, 3, 1, 0, 0, 0, DateTimeKind.Utc));
        SetTime("t/m.mkv", new DateTime(2021, 1, 1, 0, 0, 0, DateTimeKind.Utc));
        SetTime("torrents/a/movie.mkv", Y2020);
        SetTime("torrents/b/movie.mkv", new DateTime(2021, 2, 1, 0, 0, 0, DateTimeKind.Utc));
        TempTree.Age(_f.Data);
        _f.Scan();
    }

    private Func<string, bool> Under(string relative) => p => p.StartsWith(Full(relative), StringComparison.Ordinal);

    [Theory]
    [InlineData(KeepOrder.MostLinks, null, "torrents/b/movie.mkv")]
    [InlineData(KeepOrder.Oldest, null, "torrents/a/movie.mkv")]
    [InlineData(KeepOrder.Newest, null, "lib/media/movie.mkv")]
    [InlineData(KeepOrder.ShortestPath, null, "t/m.mkv")]
    [InlineData(KeepOrder.PathOrder, null, "lib/media/movie.mkv")]
    // -KeepPath first, then the order among the paths that match the same pattern.
    [InlineData(KeepOrder.MostLinks, "lib/", "lib/media/movie.mkv")]
    [InlineData(KeepOrder.Oldest, "torrents/", "torrents/a/movie.mkv")]
    [InlineData(KeepOrder.Newest, "torrents/", "torrents/b/movie.mkv")]
    [InlineData(KeepOrder.ShortestPath, "lib/|t/", "lib/media/movie.mkv")]
    [InlineData(KeepOrder.PathOrder, "t/|lib/", "t/m.mkv")]
    public void KeepRulesChooseTheCanonicalFileAsDocumented(KeepOrder order, string? keep, string expected)
    {
        KeepTree();
        using var db = CatalogDatabase.Open(_f.Db);
        var rules = new KeepRules { Order = order, Keep = keep == null ? Array.Empty<Func<string, bool>>() : keep.Split('|').Select(Under).ToArray() };
        var plan = Plan(db, rules);
        Assert.Equal(3, plan.ActionCount);
        Assert.All(plan.Actions, a => Assert.Equal(Full(expected), a.Canonical));
    }

    [Fact]
    public void AProtectedPathIsNeverReplacedAndSeveralProtectedInodesAllStay()
    {
        KeepTree();
        using var db = CatalogDatabase.Open(_f.Db);
        // One protected inode: it is the canonical one whatever the order says.
        var one = Plan(db, new KeepRules { Order = KeepOrder.MostLinks, Protect = new[] { Under("t/") } });
        Assert.All(one.Actions, a => Assert.Equal(Full("t/m.mkv"), a.Canonical));
        new LinkPlanStore(db).Delete(one.PlanId);

        // Two protected inodes (torrents/a and torrents/b): both stay, the canonical is one of them
        // (MostLinks: torrents/b, even though -KeepPath wants lib/), the rest are linked to it.
        ulong aInode = Stat("torrents/a/movie.mkv").Inode;
        var plan = Plan(db, new KeepRules { Keep = new[] { Under("lib/") }, Protect = new[] { Under("torrents/") } });
        Assert.Equal(2, plan.ActionCount);
        Assert.All(plan.Actions, a => Assert.Equal(Full("torrents/b/movie.mkv"), a.Canonical));
        Assert.DoesNotContain(plan.Actions.SelectMany(a => a.Paths), p => p.FullName.Contains("/torrents/"));
        var result = new LinkExecutor(db).Execute(plan.PlanId, new LinkOptions(), new Observer(), default);
        Assert.Equal(2, result.Linked);
        Assert.Equal(aInode, Stat("torrents/a/movie.mkv").Inode);
        Assert.Equal(Stat("torrents/b/movie.mkv").Inode, Stat("lib/media/movie.mkv").Inode);
        Assert.Equal(Stat("torrents/b/movie.mkv").Inode, Stat("t/m.mkv").Inode);

        // Every inode protected: nothing to plan.
        Assert.Equal(0, Plan(db, new KeepRules { Protect = new Func<string, bool>[] { _ => true } }).ActionCount);
    }

    [Theory]
    [InlineData(3, null)]
    [InlineData(null, 100_000L)]
    public void LimitedRunsEndWhereOneRunWould(int? limit, long? maximumBytes)
    {
        // Twelve groups of two copies, 10 to 120 kB: one run links all twelve; limited runs do a part each.
        for (int g = 0; g < 12; g++)
        {
            var b = Bytes(10_000 * (g + 1), 100 + g);
            _f.Write($"one/g{g}.bin", b);
            _f.Write($"two/g{g}.bin", b);
            SetTime($"one/g{g}.bin", Y2020);
        }
        TempTree.Age(_f.Data);
        var contents = Contents();
        _f.Scan();
        using var db = CatalogDatabase.Open(_f.Db);
        var plan = Plan(db);
        int runs = 0, linked = 0;
        while (true)
        {
            var result = new LinkExecutor(db).Execute(plan.PlanId, new LinkOptions { Limit = limit, MaximumBytes = maximumBytes }, new Observer(), default);
            runs++;
            linked += result.Linked;
            Assert.Equal(0, result.Skipped + result.Failed);
            if (limit != null)
                Assert.True(result.Linked <= limit);
            if (maximumBytes != null)
                Assert.True(result.BytesReclaimed <= maximumBytes || result.Linked == 1, $"{result.BytesReclaimed} bytes in one run");
            var stored = new LinkPlanStore(db).Find(plan.PlanId, false)!;
            if (result.Completed)
            {
                Assert.False(result.Limited);
                Assert.Equal("done", stored.Status);
                break;
            }
            Assert.True(result.Limited);
            Assert.Equal("incomplete", stored.Status); // stopped, not failed
            Assert.True(runs < 20);
        }
        Assert.True(runs >= 4, $"{runs} runs");
        Assert.Equal(12, linked);
        for (int g = 0; g < 12; g++)
            Assert.Equal(Stat($"one/g{g}.bin").Inode, Stat($"two/g{g}.bin").Inode);
        Assert.Equal(contents, Contents());
        Assert.Equal(new LinkPlanStore(db).Find(plan.PlanId, false)!.BytesPlanned, new LinkPlanStore(db).Find(plan.PlanId, false)!.BytesReclaimed);
    }
}
