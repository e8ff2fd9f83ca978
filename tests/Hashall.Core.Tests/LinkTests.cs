using Hashall.Core;
using Hashall.Core.Catalog;
using Hashall.Core.Devices;
using Hashall.Core.Linking;
using Hashall.Core.Platform;
using Hashall.Core.Scanning;

namespace Hashall.Core.Tests;

/// <summary>Planning and executing hardlink dedup on real trees, with the catalog checked after each step.</summary>
public sealed class LinkTests : IDisposable
{
    private readonly ScanFixture _f = new();

    public void Dispose() => _f.Dispose();

    private sealed class Observer : ILinkObserver
    {
        public Func<LinkAction, bool> Approve { get; set; } = _ => true;
        public bool ShouldLink(LinkAction action) => Approve(action);
        public void Progress(long bytesDone, long bytesTotal, string current) { }
    }

    private static byte[] Bytes(int size, int seed)
    {
        var b = new byte[size];
        new Random(seed).NextBytes(b);
        return b;
    }

    private string Full(string relative) => Path.Combine(_f.Data, relative);
    private ulong Inode(string relative) => FileSystemApi.Lstat(Full(relative)).Inode;

    /// <summary>Group A: three copies in two directories. Group B: an inode with two links plus one copy. Uniques.</summary>
    private void BuildTree()
    {
        var a = Bytes(100_000, 1);
        _f.Write("one/a1.bin", a);
        _f.Write("one/a2.bin", a);
        _f.Write("two/a3-longer-name.bin", a);
        var b = Bytes(50_000, 2);
        _f.Write("two/b.bin", b);
        TempTree.Run("ln", Full("two/b.bin"), Full("one/b-link.bin"));
        _f.Write("three/b-copy.bin", b);
        _f.Write("unique1", Bytes(100_000, 3));
        _f.Write("unique2", Bytes(50_000, 4));
        // Make a1 the oldest of group A, so the rule's second key decides there.
        File.SetLastWriteTimeUtc(Full("one/a2.bin"), new DateTime(2021, 1, 1, 0, 0, 0, DateTimeKind.Utc));
        File.SetLastWriteTimeUtc(Full("two/a3-longer-name.bin"), new DateTime(2021, 1, 1, 0, 0, 0, DateTimeKind.Utc));
        File.SetLastWriteTimeUtc(Full("one/a1.bin"), new DateTime(2020, 1, 1, 0, 0, 0, DateTimeKind.Utc));
        TempTree.Age(_f.Data); // not racily clean when scanned: a rescan reads nothing again
    }

    private (LinkPlan Plan, CatalogDatabase Db) Plan(string scope = "", long minimumSize = 1)
    {
        var db = CatalogDatabase.Open(_f.Db);
        var device = new DeviceStore(db).Resolve(_f.Data, new DeviceLocator(), register: false);
        var prefix = new FileQuery(db).ScopeOf(Path.Combine(_f.Data, scope), new DeviceLocator())!.Prefix;
        var plan = new LinkPlanner(db).Store(device, prefix, minimumSize, "test");
        // Tests look at a small plan's actions: loaded explicitly (a stored plan comes without them).
        return (plan.PlanId > 0 ? new LinkPlanStore(db).Find(plan.PlanId, withActions: true)! : plan, db);
    }

    private Dictionary<string, string> Contents() =>
        Directory.GetFiles(_f.Data, "*", SearchOption.AllDirectories).ToDictionary(p => p, TempTree.Sha1Sum);

    [Fact]
    public void PlanPicksCanonicalsByTheDocumentedRuleAndExecutionLinksEverything()
    {
        BuildTree();
        _f.Scan();
        var before = Contents();
        var (plan, db) = Plan();
        using (db)
        {
            Assert.Equal(3, plan.ActionCount);
            Assert.Equal(3, plan.PathCount);
            Assert.Equal(2 * 100_000 + 50_000, plan.BytesPlanned);
            Assert.Equal("pending", plan.Status);
            var a = plan.Actions.Where(x => x.Size == 100_000).ToList();
            Assert.All(a, x => Assert.EndsWith("one/a1.bin", x.CanonicalPath)); // oldest
            var b = plan.Actions.Single(x => x.Size == 50_000);
            Assert.Equal((long)Inode("two/b.bin"), b.CanonicalInode); // most links
            Assert.EndsWith("three/b-copy.bin", b.Paths.Single().Path);

            var result = new LinkExecutor(db).Execute(plan.PlanId, new LinkOptions(), new Observer(), default);
            Assert.True(result.Completed);
            Assert.Equal(3, result.Linked);
            Assert.Equal(0, result.Skipped + result.Failed);
            Assert.Equal(plan.BytesPlanned, result.BytesReclaimed);

            Assert.Equal(Inode("one/a1.bin"), Inode("one/a2.bin"));
            Assert.Equal(Inode("one/a1.bin"), Inode("two/a3-longer-name.bin"));
            Assert.Equal(Inode("two/b.bin"), Inode("three/b-copy.bin"));
            Assert.Equal(3, FileSystemApi.Lstat(Full("two/b.bin")).LinkCount);
            Assert.Equal(before, Contents()); // every path's content is what it was
            Assert.Empty(Directory.GetFiles(_f.Data, ".hashall-link-*", SearchOption.AllDirectories));

            var stored = new LinkPlanStore(db).Find(plan.PlanId, withActions: true)!;
            Assert.Equal("done", stored.Status);
            Assert.Equal(plan.BytesPlanned, stored.BytesReclaimed);
            Assert.All(stored.Actions, x => Assert.Equal("linked", x.Status));
            Assert.NotNull(stored.ExecutedAt);
            Assert.Null(db.Scalar($"SELECT lock_owner FROM link_plans WHERE plan_id = {plan.PlanId};") as string);

            // The catalog follows: rows carry the canonical inode and link counts; nothing left to reclaim.
            var rows = _f.Rows();
            Assert.Equal((long)Inode("one/a1.bin"), rows[Full("two/a3-longer-name.bin")].Inode);
            Assert.Equal(3, rows[Full("one/a2.bin")].LinkCount);
            Assert.Empty(new FileQuery(db).Duplicates(Array.Empty<long>(), 1));
            var totals = new DeviceStore(db).WithTotals(new DeviceStore(db).FindById(plan.DeviceId)!);
            Assert.Equal(0, totals.ReclaimableBytes);
            Assert.Equal(1, totals.LinkPlansDone);

            // Running it again finds nothing to do; a rescan sees only unchanged files.
            var again = new LinkExecutor(db).Execute(plan.PlanId, new LinkOptions(), new Observer(), default);
            Assert.Equal(0, again.Linked + again.Skipped + again.Failed);
        }
        var rescan = _f.Scan();
        Assert.Equal(0, rescan.Hashed + rescan.Changed + rescan.Added + rescan.Deleted);
    }

    [Fact]
    public void AFileModifiedAfterTheScanIsSkipped()
    {
        BuildTree();
        _f.Scan();
        var (plan, db) = Plan();
        using (db)
        {
            File.AppendAllText(Full("three/b-copy.bin"), "edited after the scan");
            string edited = TempTree.Sha1Sum(Full("three/b-copy.bin"));
            var result = new LinkExecutor(db).Execute(plan.PlanId, new LinkOptions(), new Observer(), default);
            Assert.Equal(2, result.Linked);
            Assert.Equal(1, result.Skipped);
            Assert.Contains(result.Reasons, r => r.Contains("b-copy.bin") && r.Contains("changed since the scan"));
            Assert.Equal(edited, TempTree.Sha1Sum(Full("three/b-copy.bin")));
            Assert.NotEqual(Inode("two/b.bin"), Inode("three/b-copy.bin"));
            Assert.Equal("partial", new LinkPlanStore(db).Find(plan.PlanId, false)!.Status);
        }
    }

    [Fact]
    public void MatchingHashesWithDifferentBytesAreRefusedByTheByteCheck()
    {
        _f.Write("x.bin", Bytes(70_000, 10));
        _f.Write("y.bin", Bytes(70_000, 11));
        _f.Scan();
        string x = TempTree.Sha1Sum(Full("x.bin")), y = TempTree.Sha1Sum(Full("y.bin"));
        using (var db = CatalogDatabase.Open(_f.Db))
        {
            // A colliding hash, as a crafted torrent could bring: the catalog believes they are equal.
            using var c = db.Command("UPDATE files SET sha1 = $s WHERE path LIKE '%/y.bin';");
            c.Parameters.AddWithValue("$s", x);
            c.ExecuteNonQuery();
        }
        var (plan, db2) = Plan();
        using (db2)
        {
            Assert.Equal(1, plan.ActionCount);
            var result = new LinkExecutor(db2).Execute(plan.PlanId, new LinkOptions(), new Observer(), default);
            Assert.Equal(0, result.Linked);
            Assert.Equal(1, result.Skipped);
            Assert.Contains(result.Reasons, r => r.Contains("bytes differ"));
        }
        Assert.Equal(x, TempTree.Sha1Sum(Full("x.bin")));
        Assert.Equal(y, TempTree.Sha1Sum(Full("y.bin")));
        Assert.NotEqual(Inode("x.bin"), Inode("y.bin"));
    }

    [RequiresFact(Needs.Tmpfs)]
    public void DuplicatesOnTwoDevicesAreNeverLinked()
    {
        var content = Bytes(60_000, 20);
        _f.Write("here.bin", content);
        string other = _f.Tree.MountTmpfs("other");
        File.WriteAllBytes(Path.Combine(other, "there.bin"), content);
        _f.Scan();
        _f.Scan(null, default, other);
        using var db = CatalogDatabase.Open(_f.Db);
        Assert.Equal(2, new DeviceStore(db).List().Count);
        Assert.Empty(new FileQuery(db).Duplicates(Array.Empty<long>(), 1));
        var (plan, db2) = Plan();
        using (db2)
            Assert.Equal(0, plan.ActionCount);
    }

    [Fact]
    public void ScopeAndMinimumSizeLimitThePlan()
    {
        BuildTree();
        _f.Scan();
        var (scoped, db) = Plan(scope: "one");
        using (db)
        {
            Assert.Equal(1, scoped.ActionCount); // a1/a2 in one/, b-link's group has one inode there
            Assert.EndsWith("one/a2.bin", scoped.Actions.Single().Paths.Single().Path);
        }
        var (large, db2) = Plan(minimumSize: 60_000);
        using (db2)
            Assert.All(large.Actions, a => Assert.Equal(100_000, a.Size));
    }

    [Fact]
    public void ASecondRunOfTheSamePlanIsRefusedWhileTheFirstHoldsTheLease()
    {
        BuildTree();
        _f.Scan();
        var (plan, db) = Plan();
        using (db)
        {
            var store = new LinkPlanStore(db);
            store.Acquire(plan.PlanId, "another-host:4242:token"); // a live run elsewhere
            Assert.Equal("running", store.Find(plan.PlanId, false)!.Status);
            var busy = Assert.Throws<HashallException>(() => new LinkExecutor(db).Execute(plan.PlanId, new LinkOptions(), new Observer(), default));
            Assert.Equal("LinkPlanBusy", busy.ErrorId);
            Assert.NotEqual(Inode("one/a1.bin"), Inode("one/a2.bin"));

            // A crashed run on this host (its process is gone) does not block the plan.
            var parts = LinkPlanStore.NewOwner().Split(':');
            parts[1] = "999999"; // no such process on this host
            using (var c = db.Command($"UPDATE link_plans SET lock_owner = '{string.Join(":", parts)}' WHERE plan_id = {plan.PlanId};"))
                c.ExecuteNonQuery();
            var result = new LinkExecutor(db).Execute(plan.PlanId, new LinkOptions(), new Observer(), default);
            Assert.Equal(3, result.Linked);
        }
    }

    [RequiresFact(Needs.Root)]
    public void OwnerDifferencesAreReportedNotSilentlyFixed()
    {
        BuildTree();
        TempTree.Run("chown", "65534:65534", Full("three/b-copy.bin"));
        _f.Scan();
        var (plan, db) = Plan();
        using (db)
        {
            var result = new LinkExecutor(db).Execute(plan.PlanId, new LinkOptions(), new Observer(), default);
            Assert.Equal(1, result.Skipped);
            Assert.Contains(result.Reasons, r => r.Contains("owner or permissions differ"));
            Assert.Equal(65534u, FileSystemApi.Lstat(Full("three/b-copy.bin")).Uid);
        }
        var (forced, db2) = Plan();
        using (db2)
        {
            var result = new LinkExecutor(db2).Execute(forced.PlanId, new LinkOptions { Force = true }, new Observer(), default);
            Assert.Equal(1, result.Linked);
            Assert.Equal(Inode("two/b.bin"), Inode("three/b-copy.bin"));
        }
    }

    [Fact]
    public void ADirectoryThatCannotBeWrittenIsAFailureAndNothingIsLost()
    {
        BuildTree();
        _f.Scan();
        var before = Contents();
        var (plan, db) = Plan();
        db.Dispose();
        // Everything writable by the user who runs the plan, except the directory of one duplicate.
        TempTree.Run("chmod", "-R", "a+rwX", _f.Tree.Root);
        File.SetUnixFileMode(Full("three"), UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
            | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
        var result = Privileges.AsUser(Privileges.Nobody, () =>
        {
            using var asNobody = CatalogDatabase.Open(_f.Db);
            return new LinkExecutor(asNobody).Execute(plan.PlanId, new LinkOptions { Force = true }, new Observer(), default);
        });
        Assert.Equal(2, result.Linked);
        Assert.Equal(1, result.Failed);
        Assert.Contains(result.Reasons, r => r.Contains("b-copy.bin") && r.Contains("permission denied"));
        Assert.Equal(before, Contents());
        Assert.Empty(Directory.GetFiles(_f.Data, ".hashall-link-*", SearchOption.AllDirectories));
    }

    [Fact]
    public void DeclinedActionsStayPendingAndTheNextRunResumes()
    {
        BuildTree();
        _f.Scan();
        var (plan, db) = Plan();
        using (db)
        {
            int seen = 0;
            var first = new LinkExecutor(db).Execute(plan.PlanId, new LinkOptions(), new Observer { Approve = _ => seen++ == 0 }, default);
            Assert.False(first.Completed);
            Assert.Equal(1, first.Linked);
            Assert.Equal("incomplete", new LinkPlanStore(db).Find(plan.PlanId, false)!.Status);
            var rest = new LinkExecutor(db).Execute(plan.PlanId, new LinkOptions(), new Observer(), default);
            Assert.Equal(2, rest.Linked);
            Assert.Equal("done", new LinkPlanStore(db).Find(plan.PlanId, false)!.Status);
        }
    }

    [Fact]
    public void FilesKnownOnlyByAQuickHashAreLeftOutOfPlans()
    {
        var big = Bytes(400_000, 30);
        _f.Write("q1", big);
        _f.Write("q2", big);
        _f.Scan(new ScanOptions { Mode = ScanMode.Quick });
        var (plan, db) = Plan();
        using (db)
        {
            Assert.Equal(0, plan.ActionCount);
            Assert.Equal(2, plan.LeftOut);
        }
    }
}
