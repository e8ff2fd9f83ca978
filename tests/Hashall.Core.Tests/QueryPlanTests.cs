using System.Text.RegularExpressions;
using Hashall.Core.Catalog;
using Hashall.Core.Devices;
using Hashall.Core.Linking;
using Hashall.Core.Payloads;
using Hashall.Core.Platform;
using Hashall.Tests.Shared;
using Microsoft.Data.Sqlite;

namespace Hashall.Core.Tests;

/// <summary>
/// The catalog's hot reads use an index (EXPLAIN QUERY PLAN of the statements they really run), and the
/// streamed duplicate groups and link plans are the ones a plain query gives, across every boundary
/// (thousands of groups, a group of hundreds of files, hard links, two devices).
/// </summary>
public sealed class QueryPlanTests : IDisposable
{
    private readonly ScanFixture _f = new();

    public void Dispose() => _f.Dispose();

    /// <summary>Every statement the connection runs, as SQLite's trace reports it (parameters inlined).</summary>
    internal static List<string> Trace(CatalogDatabase db, Action work)
    {
        var seen = new List<string>();
        SQLitePCL.raw.sqlite3_trace(db.Connection.Handle, (_, sql) => { lock (seen) seen.Add(sql); }, null);
        try
        {
            work();
        }
        finally
        {
            SQLitePCL.raw.sqlite3_trace(db.Connection.Handle, (SQLitePCL.strdelegate_trace)null!, null);
        }
        return seen;
    }

    internal static List<string> Plan(CatalogDatabase db, string sql)
    {
        using var c = db.Command("EXPLAIN QUERY PLAN " + sql);
        using var r = c.ExecuteReader();
        var lines = new List<string>();
        while (r.Read())
            lines.Add(r.GetString(3));
        return lines;
    }

    /// <summary>A full pass over the files table (or one of its indexes) under any alias the code gives it.</summary>
    private static readonly Regex ScanOfFiles = new(@"^SCAN (files|f|o)\b", RegexOptions.CultureInvariant);

    [Fact]
    public void EveryHotQueryOfTheFilesTableUsesAnIndex()
    {
        for (int g = 0; g < 20; g++)
            for (int c = 0; c < 3; c++)
                _f.Write($"d{c}/g{g}.bin", ScanFixture.RandomBytes(1000 + g, g));
        _f.Write("one/unique.bin", ScanFixture.RandomBytes(5000, 99));
        TempTree.Run("ln", Path.Combine(_f.Data, "d0/g1.bin"), Path.Combine(_f.Data, "one/g1-link.bin"));
        TempTree.Age(_f.Data);
        _f.Scan();

        using var db = CatalogDatabase.Open(_f.Db);
        var locator = new DeviceLocator();
        var device = new DeviceStore(db).Resolve(_f.Data, locator, register: false);
        var query = new FileQuery(db);
        var prefix = query.ScopeOf(Path.Combine(_f.Data, "d1"), locator)!;
        var any = _f.Row("d0/g3.bin");
        var traced = Trace(db, () =>
        {
            Assert.Equal(20, query.Duplicates(Array.Empty<long>(), 1).Count());                      // Get-HashallDuplicate
            Assert.Equal(20, query.Duplicates(new[] { device.DeviceId }, 1).Count());                // -Device
            var plan = new LinkPlanner(db).Store(device, "", 1, "plan");                                  // New-HashallLinkPlan
            Assert.Equal(40, plan.ActionCount);
            Assert.Equal(40, new LinkPlanStore(db).StreamActions(plan).Count());                        // Get-HashallLinkPlan -Action
            Assert.Equal(0, new LinkPlanner(db).Preview(device, prefix.Prefix, 1, null).ActionCount);   // -Path, -WhatIf
            Assert.Equal(3, query.Files(new[] { new CatalogScope(device, "") }, new[] { any.Sha1! }, false).Count()); // Get-HashallFile -Hash -Device
            Assert.Equal(20, query.Files(new[] { prefix }, Array.Empty<string>(), false).Count());     // Get-HashallFile -Path
            Assert.Equal(2, new FileStore(db).ActiveByInode(device.DeviceId, _f.Row("d0/g1.bin").Inode).Count); // by inode
            Assert.NotNull(new FileStore(db).ActiveByPath(device.DeviceId, any.RelativePath));          // payload of a torrent
            Assert.Equal(20, new PayloadBuilder(db).ForPath(Path.Combine(_f.Data, "d1")).FileCount);  // payload of a path
            Assert.Empty(new FileStore(db).DuplicateCandidates(device.DeviceId));                       // candidate scan
            using (var batch = new WriteBatch(db))                                                        // a link's catalog update
            {
                var linked = _f.Row("d1/g1.bin");
                new LinkPlanStore(db).FileLinked(batch, device.DeviceId, linked.FileId, FileSystemApi.Lstat(Path.Combine(_f.Data, "d0/g1.bin")), linked.Inode, 0);
            } // rolled back
        });

        var reads = traced.Distinct().Where(s => Regex.IsMatch(s, @"\bfiles\b") && Regex.IsMatch(s, @"^\s*(SELECT|WITH|UPDATE|DELETE)", RegexOptions.IgnoreCase)).ToList();
        Assert.True(reads.Count >= 8, "the trace caught too few statements: " + string.Join("\n", reads));
        var scans = reads.Select(sql => (sql, plan: Plan(db, sql)))
            .Where(x => x.plan.Any(l => ScanOfFiles.IsMatch(l)))
            .Select(x => x.sql + "\n    " + string.Join("\n    ", x.plan)).ToList();
        Assert.True(scans.Count == 0, "queries that scan the files table:\n" + string.Join("\n", scans));

        // A lookup by inode (renames in a scan, a link's link counts) searches the inode index: SQLite
        // 3.53 on its own takes the content index by device alone, a pass over the device per statement.
        var byInode = reads.Where(s => Regex.IsMatch(s, @"WHERE device_id = \S+ AND inode = ")).ToList();
        Assert.True(byInode.Count >= 2, "the trace caught too few lookups by inode: " + string.Join("\n", byInode));
        Assert.All(byInode, s => Assert.Contains(Plan(db, s), l => l.Contains("ix_files_inode (device_id=? AND inode=?)")));

        // Duplicates come from the content index in its order (no sort); a prefix is an index range on the path.
        var duplicates = Plan(db, FileQuery.DuplicatesSql);
        Assert.Contains(duplicates, l => l.Contains("COVERING INDEX ix_files_content"));
        Assert.Contains(duplicates, l => l.Contains("ix_files_content (device_id=? AND size=? AND sha1=?)"));
        Assert.DoesNotContain(duplicates, l => l.Contains("TEMP B-TREE"));
        var byPrefix = reads.Where(s => s.Contains("path >=") && s.Contains("first_seen")).ToList();
        Assert.NotEmpty(byPrefix);
        Assert.All(byPrefix, s => Assert.Contains(Plan(db, s), l => l.Contains("path>? AND path<?")));
        Assert.DoesNotContain(Plan(db, LinkPlanStore.ActionsSql), l => l.Contains("TEMP B-TREE"));
    }

    /// <summary>A pass over a piece-check table (migration 9) under any alias.</summary>
    private static readonly Regex ScanOfChecks = new(@"^SCAN (torrent_checks|torrent_check_files|c|f)\b", RegexOptions.CultureInvariant);

    [Fact]
    public void TorrentCheckRecordsAndLookupsSearchTheirKeys()
    {
        for (int t = 0; t < 3; t++)
            _f.Write($"t{t}/a.bin", ScanFixture.RandomBytes(100 + t, t));
        TempTree.Age(_f.Data);
        using var db = CatalogDatabase.Open(_f.Db);
        var store = new Torrents.TorrentCheckStore(db);
        Torrents.TorrentCheck Check(int t, bool quick, Torrents.TorrentCheckStatus status)
        {
            string content = Path.Combine(_f.Data, $"t{t}"), file = Path.Combine(content, "a.bin");
            return new Torrents.TorrentCheck
            {
                Hash = t.ToString("x40"), Name = $"t{t}", ContentPath = content, Quick = quick, Status = status, CheckedAt = DateTime.UtcNow,
                Files = new[] { new Torrents.FileCheck { RelativePath = "a.bin", FullPath = file, Length = 100 + t, Status = Torrents.FileCheckStatus.Complete, Identity = Torrents.TorrentCheckStore.Stat(file) } },
            };
        }
        var traced = Trace(db, () =>
        {
            for (int t = 0; t < 3; t++)
            {
                store.Record(Check(t, false, Torrents.TorrentCheckStatus.Complete));
                store.Record(Check(t, true, Torrents.TorrentCheckStatus.Complete));
            }
            store.Record(Check(1, true, Torrents.TorrentCheckStatus.Damaged)); // deletes the full check (and its files)
            Assert.NotNull(store.UnchangedSinceComplete(0.ToString("x40"), Path.Combine(_f.Data, "t0")));
            Assert.Null(store.UnchangedSinceComplete(1.ToString("x40"), Path.Combine(_f.Data, "t1")));
            Assert.True(store.LastCheck(2.ToString("x40"), Path.Combine(_f.Data, "t2"))!.Quick);
        });
        var statements = traced.Distinct().Where(s => s.Contains("torrent_check") && Regex.IsMatch(s, @"^\s*(SELECT|UPDATE|DELETE)", RegexOptions.IgnoreCase)).ToList();
        Assert.True(statements.Count >= 5, "the trace caught too few statements: " + string.Join("\n", statements));
        var scans = statements.Select(sql => (sql, plan: Plan(db, sql)))
            .Where(x => x.plan.Any(l => ScanOfChecks.IsMatch(l)))
            .Select(x => x.sql + "\n    " + string.Join("\n    ", x.plan)).ToList();
        Assert.True(scans.Count == 0, "statements that scan a piece-check table:\n" + string.Join("\n", scans));
        // A torrent's check and its files: the (hash, content path, quick) key, then the files' primary key in order.
        var complete = Plan(db, Torrents.TorrentCheckStore.CompleteCheckSql);
        Assert.Contains(complete, l => l.Contains("torrent_hash=? AND content_path=? AND quick=?"));
        Assert.Contains(complete, l => l.Contains("PRIMARY KEY (check_id=?)"));
        Assert.DoesNotContain(complete, l => l.Contains("TEMP B-TREE"));
        Assert.Contains(Plan(db, Torrents.TorrentCheckStore.LastCheckSql), l => l.Contains("torrent_hash=? AND content_path=?"));
    }

    [Fact]
    public void TorrentDataCandidatesAreIndexSearchesByLength()
    {
        // Find-HashallTorrentData: one statement per device per batch of lengths, each length a search
        // of the content index (device_id, size), never a pass over the device's files.
        string made = _f.Tree.Path("made/Set");
        Directory.CreateDirectory(made);
        for (int i = 0; i < 3; i++)
        {
            File.WriteAllBytes(Path.Combine(made, $"f{i}.bin"), ScanFixture.RandomBytes(40_000 + i, i));
            _f.Write($"lib/g{i}.bin", ScanFixture.RandomBytes(40_000 + i, i));
        }
        for (int i = 0; i < 50; i++)
            _f.Write($"other/o{i}.bin", ScanFixture.RandomBytes(1000 + i, 100 + i));
        _f.Scan();
        var meta = Torrents.TorrentMetainfo.Load(TorrentSamples.MkTorrent(made, _f.Tree.Path(""), 15));
        using var db = CatalogDatabase.Open(_f.Db);
        Torrents.TorrentDataMatch? m = null;
        var traced = Trace(db, () => m = new Torrents.TorrentDataFinder(db).Find(meta, "t", new Torrents.TorrentDataOptions(), null, CancellationToken.None));
        Assert.Equal(Torrents.TorrentDataStatus.Complete, m!.Status);
        var reads = traced.Distinct().Where(s => Regex.IsMatch(s, @"\bfiles\b") && s.TrimStart().StartsWith("SELECT", StringComparison.OrdinalIgnoreCase)).ToList();
        var candidates = Assert.Single(reads, s => s.Contains("size IN"));
        var plan = Plan(db, candidates);
        Assert.True(plan.Any(l => l.Contains("USING INDEX ix_files_content (device_id=? AND size=?")), string.Join("\n", plan));
        Assert.DoesNotContain(plan, l => ScanOfFiles.IsMatch(l));
        Assert.All(reads, s => Assert.DoesNotContain(Plan(db, s), l => ScanOfFiles.IsMatch(l)));
    }

    [Fact]
    public void AHashLookupOverEveryDeviceIsTheOneFullPassAndSaysWhy()
    {
        // Get-HashallFile -Hash without a device matches SHA-1, SHA-256 or quick hash alike: only an
        // index on each of the three would make it a search, and each would cost every scanned row an
        // insert at a random place (migration 8 says so). This test keeps that choice deliberate.
        _f.Write("a.bin", ScanFixture.RandomBytes(100, 1));
        _f.Scan();
        using var db = CatalogDatabase.Open(_f.Db);
        var sha1 = _f.Row("a.bin").Sha1!;
        var traced = Trace(db, () => Assert.Single(new FileQuery(db).Files(Array.Empty<CatalogScope>(), new[] { sha1 }, false)));
        var sql = traced.Single(s => s.Contains("sha256 ="));
        Assert.Contains(Plan(db, sql), l => ScanOfFiles.IsMatch(l));
        var indexes = db.Connection.CreateCommand();
        indexes.CommandText = "SELECT group_concat(name, ',') FROM sqlite_master WHERE type = 'index' AND tbl_name = 'files' AND name NOT LIKE 'sqlite_%';";
        Assert.Equal("ix_files_inode,ix_files_content", (string)indexes.ExecuteScalar()!);
    }

    [Fact]
    public void ACatalogOfTheReleasesBeforeIsUpgradedToTheContentIndexWithItsGroupsUnchanged()
    {
        // tests/Fixtures/catalog-v6.db: written by an older release (five duplicate groups among its files).
        string db6 = _f.Tree.Path("v6.db");
        File.Copy(Path.Combine(ModuleFolder.RepoRoot, "tests", "Fixtures", "catalog-v6.db"), db6);
        List<(long, long, string, List<long>)> before;
        using (var old = CatalogDatabase.Open(db6, false, Migrations.All.Take(6).ToList()))
        {
            Assert.Equal(6, old.SchemaVersion);
            before = ReferenceGroups(old, 1);
        }
        Assert.Equal(5, before.Count);
        using var db = CatalogDatabase.Open(db6);
        Assert.Equal(Migrations.Latest, db.SchemaVersion);
        Assert.Equal("content index", db.Scalar("SELECT name FROM schema_migrations WHERE version = 8;"));
        Assert.Equal("ix_files_inode,ix_files_content", db.Scalar("SELECT group_concat(name, ',') FROM sqlite_master WHERE type = 'index' AND tbl_name = 'files' AND name NOT LIKE 'sqlite_%';"));
        Assert.Equal("ok", db.Scalar("PRAGMA integrity_check;"));
        Assert.Equal(before.Select(g => (g.Item1, g.Item2, g.Item3, string.Join(",", g.Item4))),
            new FileQuery(db).Duplicates(Array.Empty<long>(), 1).Select(g => (g.DeviceId, g.Size, g.Sha1, string.Join(",", g.Files.Select(f => f.FileId)))));
        Assert.Contains(Plan(db, FileQuery.DuplicatesSql), l => l.Contains("COVERING INDEX ix_files_content"));
    }

    /// <summary>The groups the plain query of before gives (join on size and SHA-1, sorted in SQL).</summary>
    private static List<(long Device, long Size, string Sha1, List<long> Files)> ReferenceGroups(CatalogDatabase db, long minimumSize)
    {
        using var c = db.Command(@"
WITH g AS (SELECT device_id, size, sha1 FROM files WHERE status = 'active' AND sha1 IS NOT NULL AND size >= $min
           GROUP BY device_id, size, sha1 HAVING count(DISTINCT inode) > 1)
SELECT f.device_id, f.size, f.sha1, f.file_id FROM files f JOIN g ON f.device_id = g.device_id AND f.size = g.size AND f.sha1 = g.sha1
WHERE f.status = 'active' ORDER BY f.size DESC, f.device_id, f.sha1, f.inode, f.path;");
        c.Parameters.AddWithValue("$min", minimumSize);
        var groups = new List<(long, long, string, List<long>)>();
        using var r = c.ExecuteReader();
        while (r.Read())
        {
            var key = (r.GetInt64(0), r.GetInt64(1), r.GetString(2));
            if (groups.Count == 0 || (groups[^1].Item1, groups[^1].Item2, groups[^1].Item3) != key)
                groups.Add((key.Item1, key.Item2, key.Item3, new List<long>()));
            groups[^1].Item4.Add(r.GetInt64(3));
        }
        return groups;
    }

    [RequiresFact(Needs.Tmpfs)]
    public void StreamedGroupsAndPlansMatchAPlainQueryAcrossThousandsOfGroupsAndTwoDevices()
    {
        // 2,500 groups of two copies (sizes collide: 50 sizes, so each size holds 50 contents), one
        // group of 300 copies, an inode with two links plus copies, files of one size but one inode
        // (hard links only: no group), and a second device with groups of the same sizes and contents.
        for (int g = 0; g < 2500; g++)
        {
            var bytes = ScanFixture.RandomBytes(200 + g % 50, g);
            _f.Write($"a/{g % 40}/f{g}.bin", bytes);
            _f.Write($"b/{g % 40}/f{g}-copy.bin", bytes);
        }
        var big = ScanFixture.RandomBytes(4000, 100_000);
        for (int c = 0; c < 300; c++)
            _f.Write($"big/{c % 7}/copy{c}.bin", big);
        var linked = ScanFixture.RandomBytes(3000, 100_001);
        _f.Write("links/one.bin", linked);
        TempTree.Run("ln", Path.Combine(_f.Data, "links/one.bin"), Path.Combine(_f.Data, "links/two.bin"));
        _f.Write("links/copy1.bin", linked);
        _f.Write("links/copy2.bin", linked);
        _f.Write("solo/x.bin", ScanFixture.RandomBytes(3500, 100_002));
        TempTree.Run("ln", Path.Combine(_f.Data, "solo/x.bin"), Path.Combine(_f.Data, "solo/y.bin"));
        string other = _f.Tree.MountTmpfs("other", "size=64m");
        for (int g = 0; g < 400; g++)
            for (int c = 0; c < 2; c++)
            {
                Directory.CreateDirectory(Path.Combine(other, $"c{c}"));
                File.WriteAllBytes(Path.Combine(other, $"c{c}", $"f{g}.bin"), ScanFixture.RandomBytes(200 + g % 50, g));
            }
        TempTree.Age(_f.Data);
        TempTree.Age(other);
        _f.Scan(null, default, _f.Data, other);
        Assert.Empty(_f.Observer.Errors);

        using var db = CatalogDatabase.Open(_f.Db);
        var query = new FileQuery(db);
        var reference = ReferenceGroups(db, 1);
        Assert.Equal(2500 + 1 + 1 + 400, reference.Count);
        Assert.Equal(2, reference.Select(g => g.Device).Distinct().Count());
        Assert.Contains(reference, g => g.Files.Count == 300);
        var streamed = query.Duplicates(Array.Empty<long>(), 1).Select(g => (g.DeviceId, g.Size, g.Sha1, Files: g.Files.Select(f => f.FileId).ToList())).ToList();
        Assert.Equal(reference.Count, streamed.Count);
        for (int i = 0; i < reference.Count; i++)
        {
            Assert.Equal((reference[i].Device, reference[i].Size, reference[i].Sha1), (streamed[i].DeviceId, streamed[i].Size, streamed[i].Sha1));
            Assert.Equal(reference[i].Files, streamed[i].Files);
        }
        var small = ReferenceGroups(db, 240);
        Assert.Equal(small.Select(g => g.Files), query.Duplicates(Array.Empty<long>(), 240).Select(g => g.Files.Select(f => f.FileId).ToList()));

        // The stored plan: per reference group, every inode but the canonical one (the documented rule) is
        // one action of all its paths, in the groups' order.
        var locator = new DeviceLocator();
        var device = new DeviceStore(db).Resolve(_f.Data, locator, register: false);
        var rows = query.Files(new[] { new CatalogScope(device, "") }, Array.Empty<string>(), false).ToDictionary(f => f.FileId);
        var expected = new List<string>();
        foreach (var g in reference.Where(g => g.Device == device.DeviceId))
        {
            var inodes = g.Files.Select(id => rows[id]).GroupBy(f => f.Inode).Select(i => i.OrderBy(f => f.RelativePath, StringComparer.Ordinal).ToList())
                .OrderByDescending(i => i.Max(f => f.LinkCount)).ThenBy(i => i[0].MtimeNs).ThenBy(i => i.Min(f => f.RelativePath.Length))
                .ThenBy(i => i[0].RelativePath, StringComparer.Ordinal).ToList();
            foreach (var dup in inodes.Skip(1))
                expected.Add($"{g.Sha1} {inodes[0][0].FileId} {dup[0].Inode} {(dup.Max(f => f.LinkCount) <= dup.Count ? g.Size : 0)} " + string.Join(",", dup.Select(f => f.FileId)));
        }
        Assert.Equal(2500 + 299 + 2, expected.Count);
        var preview = new LinkPlanner(db).Preview(device, "", 1, null);
        var plan = new LinkPlanner(db).Store(device, "", 1, "all");
        Assert.True(plan.PlanId > 0);
        Assert.Equal("pending", plan.Status);
        Assert.Empty(plan.Actions); // the plan comes back without its actions: they are in the catalog
        Assert.Equal((expected.Count, preview.PathCount, preview.BytesPlanned), (plan.ActionCount, plan.PathCount, plan.BytesPlanned));
        var stored = new LinkPlanStore(db).StreamActions(plan)
            .Select(a => $"{a.Sha1} {a.CanonicalFileId} {a.DuplicateInode} {a.BytesSaved} " + string.Join(",", a.Paths.OrderBy(p => p.Path, StringComparer.Ordinal).Select(p => p.FileId))).ToList();
        Assert.Equal(expected, stored);
        Assert.Equal(stored, new LinkPlanStore(db).Actions(plan).Select(a => $"{a.Sha1} {a.CanonicalFileId} {a.DuplicateInode} {a.BytesSaved} " + string.Join(",", a.Paths.Select(p => p.FileId))).ToList());
    }
}
