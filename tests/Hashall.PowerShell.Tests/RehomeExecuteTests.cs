using System.Management.Automation;
using Hashall.Tests.Shared;

namespace Hashall.PowerShell.Tests;

/// <summary>
/// Invoke-RehomePlan against a real qBittorrent, with the test tree's filesystem as the stash and
/// tmpfs mounts as pools: moves, reuse, promotion, -WhatIf, failures rolled back, kills resumed.
/// After every step the invariant is checked: each torrent points at a complete copy, and the data
/// is whole in at least one place.
/// </summary>
public sealed class RehomeExecuteTests : CatalogSessionTest, IClassFixture<QBittorrentFixture>
{
    private readonly QBittorrentFixture _qbt;
    private readonly string _torrents;
    private readonly string _seeding;
    /// <summary>Each test's own category: the qBittorrent (one per class) still has the earlier tests' torrents.</summary>
    private readonly string _category = "rehome-" + Guid.NewGuid().ToString("N")[..8];

    public RehomeExecuteTests(QBittorrentFixture qbt)
    {
        _qbt = qbt;
        _torrents = Tree.Path("torrents");
        _seeding = Path.Combine(Data, "seeding");
        Directory.CreateDirectory(_torrents);
        Directory.CreateDirectory(_seeding);
    }

    /// <summary>A payload folder with odd names (a space, a non-BMP character), a sub-folder, and a hard link inside it.</summary>
    private string Payload(string name, int seed, int files = 3, int size = 40_000)
    {
        string dir = Path.Combine(_seeding, name);
        Directory.CreateDirectory(Path.Combine(dir, "Sub dir"));
        for (int i = 0; i < files; i++)
        {
            var b = new byte[size + i];
            new Random(seed + i).NextBytes(b);
            File.WriteAllBytes(Path.Combine(dir, i == 1 ? "Sub dir/e1 \U0001D11E.mkv" : $"e{i}.mkv"), b);
        }
        TempTree.Run("ln", Path.Combine(dir, "e0.mkv"), Path.Combine(dir, "Sub dir", "e0 link.mkv"));
        TempTree.Run("touch", "-d", "2020-01-02 03:04:05.123456789", Path.Combine(dir, "e0.mkv"));
        return dir;
    }

    private string Add(string content, string savePath, string? category = null, int pieces = 15)
    {
        var t = QBittorrentFixture.MakeTorrent(content, _torrents, pieces);
        _qbt.Add(t.Torrent, t.Hash, savePath, category: category ?? _category);
        return t.Hash;
    }

    private string Pool(string name = "pool", string size = "32m")
    {
        string pool = Tree.MountTmpfs(name, "size=" + size);
        Ps.Run("Set-HashallDevice $args[0] stash; Set-HashallDevice $args[1] $args[2]", Data, pool, name).Succeeded();
        return pool;
    }

    private void ScanAndSync(params string[] paths)
    {
        Ps.Run("Invoke-HashallScan $args", [.. paths]).Succeeded();
        Ps.Run("Sync-HashallPayload -Uri $args[0]", _qbt.Url).Succeeded();
    }

    private string PlanFile(string selector, string value, string pool, string poolName = "pool")
    {
        string file = Tree.Path($"plan-{value}.json");
        Ps.Run($"New-RehomePlan -{selector} $args[0] -Demote -SeedingRoot $args[1] -StashDevice stash -PoolDevice $args[2] -TargetPath $args[3] -OutFile $args[4] | Out-Null",
            value, _seeding, poolName, Path.Combine(pool, "torrents"), file).Succeeded();
        return file;
    }

    /// <summary>A payload on the stash, seeded by one torrent, scanned, synced and planned for demotion to the pool.</summary>
    private sealed record Planned(string Source, Dictionary<string, string> Before, string Hash, string Plan, string Target);

    private Planned PlanPayload(string pool, string name, int seed, int files = 3)
    {
        string source = Payload(name, seed, files);
        var before = Contents(source);
        string hash = Add(source, _seeding);
        ScanAndSync(source);
        return new Planned(source, before, hash, PlanFile("TorrentHash", hash, pool), Path.Combine(pool, "torrents", _category, name));
    }

    /// <summary>Every file under a folder with its SHA-1 (by coreutils), by relative path.</summary>
    private static Dictionary<string, string> Contents(string dir) =>
        !Directory.Exists(dir) ? new Dictionary<string, string>()
            : Directory.GetFiles(dir, "*", SearchOption.AllDirectories).ToDictionary(f => Path.GetRelativePath(dir, f), TempTree.Sha1Sum);

    /// <summary>The invariant: qBittorrent has the torrent complete at a folder holding exactly the expected data.</summary>
    private void AssertSeeding(string hash, string contentPath, Dictionary<string, string> expected)
    {
        var info = _qbt.Info(hash)!.Value;
        Assert.Equal(contentPath, info.ContentPath.TrimEnd('/'));
        Assert.Equal(1.0, info.Progress);
        // A single file inside a root folder: the folder holds the expected data.
        Assert.Equal(expected, Contents(File.Exists(contentPath) ? Path.GetDirectoryName(contentPath)! : contentPath));
    }

    private RunResult Invoke(string planFile, string extra = "") =>
        Ps.Run($"Invoke-RehomePlan -Path $args[0] -Uri $args[1] -Confirm:$false {extra}", planFile, _qbt.Url);

    /// <summary>Runs SQL on the catalog through the module's own SQLite (the test bin deliberately has none).</summary>
    private object? Sql(string sql) =>
        Ps.Run(@"$c = [Microsoft.Data.Sqlite.SqliteConnection]::new(""Data Source=$($args[0]);Pooling=False""); $c.Open()
            try { $cmd = $c.CreateCommand(); $cmd.CommandText = $args[1]; $cmd.ExecuteScalar() } finally { $c.Dispose() }", Db, sql).Succeeded().Output.SingleOrDefault()?.BaseObject;

    private long Jobs(string status) => Convert.ToInt64(Sql($"SELECT count(*) FROM rehome_jobs WHERE status = '{status}';"));

    [RequiresFact(Needs.QBittorrent | Needs.Tmpfs)]
    public void MoveRelocatesEverySiblingKeepsAStoppedTorrentStoppedAndUpdatesTheCatalog()
    {
        string pool = Pool();
        string source = Payload("Move.S01", 10);
        var before = Contents(source);
        long mtime = File.GetLastWriteTimeUtc(Path.Combine(source, "e0.mkv")).Ticks;
        string running = Add(source, _seeding, pieces: 15), stopped = Add(source, _seeding, pieces: 16);
        _qbt.Pause(stopped);
        File.WriteAllText(Path.Combine(source, "notes.txt"), "not in the torrent"); // the user's own file
        ScanAndSync(source);

        var results = Ps.Run(@"$plan = New-RehomePlan -TorrentHash $args[0] -Demote -SeedingRoot $args[1] -StashDevice stash -PoolDevice pool -TargetPath $args[2]
            $plan | Invoke-RehomePlan -Uri $args[3] -Confirm:$false
            $plan | Invoke-RehomePlan -Uri $args[3] -Confirm:$false", running, _seeding, Path.Combine(pool, "torrents"), _qbt.Url).Succeeded().Output;
        Assert.Equal(2, results.Count);
        Assert.Equal("AlreadyDone", results[1].Properties["Status"].Value.ToString()); // the same plan again changes nothing
        var r = results[0];
        Assert.Equal("Done", r.Properties["Status"].Value.ToString());
        string target = Path.Combine(pool, "torrents", _category, "Move.S01");
        Assert.Equal(target, r.Properties["TargetPath"].Value);
        Assert.Equal(new[] { running, stopped }.Order(), ((IEnumerable<string>)r.Properties["Relocated"].Value).Order());
        Assert.Equal([running], (IEnumerable<string>)r.Properties["Restarted"].Value);
        Assert.Equal(3, Long(r, "FilesCopied")); // the hard link is linked, not copied
        Assert.Contains(((IEnumerable<string>)r.Properties["Journal"].Value), l => l.Contains("Relocated: qBittorrent confirmed 2 torrent(s)"));

        AssertSeeding(running, target, before);
        AssertSeeding(stopped, target, before);
        Assert.StartsWith("paused", _qbt.Info(stopped)!.Value.State); // stopped before, stopped after
        Assert.DoesNotContain("paused", _qbt.Info(running)!.Value.State);
        // Only the payload's files went: the user's own file, and so its folder, stay.
        Assert.Equal(["notes.txt"], Directory.GetFileSystemEntries(source).Select(Path.GetFileName));
        // cp -a's promises: mtime to the tick, the payload's hard link still one inode.
        Assert.Equal(mtime, File.GetLastWriteTimeUtc(Path.Combine(target, "e0.mkv")).Ticks);
        var inodes = TempTree.Inodes(target);
        Assert.Equal(inodes[Path.Combine(target, "e0.mkv")], inodes[Path.Combine(target, "Sub dir", "e0 link.mkv")]);
        Assert.Empty(Directory.GetDirectories(Path.Combine(pool, "torrents", _category), ".hashall-rehome-*"));

        // The catalog follows without a rescan: torrents on the pool, source rows deleted, copies with their SHA-1s.
        Assert.Equal(["pool", "pool"], Ps.Run("Get-HashallTorrent -Category $args[0] | ForEach-Object Device", _category).Succeeded().Output.Select(o => (string)o.BaseObject));
        Assert.Equal(["notes.txt"], Ps.Run("Get-HashallFile -Path $args[0] | ForEach-Object Name", Path.Combine(source, "*")).Succeeded().Output.Select(o => (string)o.BaseObject));
        Assert.Equal(TempTree.Sha1Sum(Path.Combine(target, "e2.mkv")),
            Ps.Run("(Get-HashallFile -LiteralPath $args[0]).Sha1", Path.Combine(target, "e2.mkv")).Succeeded().Output.Single().BaseObject);

        // The same plan again: already done, nothing touched.
        var again = Ps.Run(@"New-RehomePlan -TorrentHash $args[0] -Demote -SeedingRoot $args[1] -StashDevice stash -PoolDevice pool -TargetPath $args[2]",
            running, _seeding, Path.Combine(pool, "torrents")).Succeeded().Output.Single();
        Assert.Equal("Block", again.Properties["Decision"].Value.ToString()); // now on the pool: not on the stash device
    }

    [RequiresFact(Needs.QBittorrent | Needs.Tmpfs)]
    public void WhatIfChangesNothingThenReuseAndPromotionRelocateOntoExistingCopies()
    {
        string pool = Pool();
        string reuse = Payload("Reuse.S01", 20);
        string poolDir = Path.Combine(pool, "torrents", "tv");
        Directory.CreateDirectory(poolDir);
        TempTree.Run("cp", "-a", reuse, poolDir);
        string poolCopy = Path.Combine(poolDir, "Reuse.S01");
        string library = Path.Combine(Data, "library");
        Directory.CreateDirectory(library);
        string blocked = Payload("Blocked.S01", 30);
        TempTree.Run("ln", Path.Combine(blocked, "e2.mkv"), Path.Combine(library, "movie.mkv"));
        var reuseBefore = Contents(reuse);
        string stashTorrent = Add(reuse, _seeding), poolTorrent = Add(poolCopy, poolDir, "tv", 16), blockedTorrent = Add(blocked, _seeding);
        ScanAndSync(_seeding, library, pool);
        string plans = PlanFile("Category", _category, pool);

        // -WhatIf: every step listed; files, catalog and qBittorrent unchanged.
        string Snapshot() => string.Join("\n", Contents(Data).OrderBy(kv => kv.Key).Select(kv => kv.Key + "=" + kv.Value))
                             + string.Join("\n", Contents(pool).OrderBy(kv => kv.Key).Select(kv => kv.Key + "=" + kv.Value))
                             + string.Join("\n", new[] { stashTorrent, poolTorrent, blockedTorrent }.Select(h => _qbt.Info(h).ToString()))
                             + Ps.Run("Get-HashallTorrent | ForEach-Object { $_.TorrentHash + $_.ContentPath + $_.Device }; (Get-HashallFile).Count").Succeeded()
                                 .Output.Aggregate("", (a, o) => a + o);
        string snapshot = Snapshot();
        var whatIf = Invoke(plans, "-WhatIf").Succeeded();
        Assert.Empty(whatIf.Output);
        Assert.Contains("What if: Rehome 'Reuse.S01' (Reuse, Demote)", whatIf.HostText);
        Assert.Contains("verify the existing copy", whatIf.HostText);
        Assert.Contains("set their location to", whatIf.HostText);
        Assert.Equal(snapshot, Snapshot());
        Assert.Equal(0, Jobs("done") + Jobs("running"));

        var summary = Invoke(plans, "-Summary").Succeeded().Output.Single();
        Assert.Equal(1, Long(summary, "Done"));
        Assert.True(Long(summary, "Blocked") == 1, string.Join("\n", ((IEnumerable<object>)summary.Properties["Results"].Value).Select(o => PSObject.AsPSObject(o)).Select(p => $"{p.Properties["Name"].Value} {p.Properties["Status"].Value} {p.Properties["Message"].Value}")));
        Assert.Equal(0, Long(summary, "BytesCopied"));
        AssertSeeding(stashTorrent, poolCopy, reuseBefore);
        AssertSeeding(poolTorrent, poolCopy, reuseBefore);
        Assert.False(Directory.Exists(reuse));
        Assert.True(File.Exists(Path.Combine(library, "movie.mkv")) && Directory.Exists(blocked)); // blocked: untouched
        AssertSeeding(blockedTorrent, blocked, Contents(blocked));

        // Promotion is reuse-only: with no copy on the stash it is blocked ...
        var promote = Ps.Run("New-RehomePlan -TorrentHash $args[0] -Promote -SeedingRoot $args[1], $args[2] -StashDevice stash -PoolDevice pool",
            poolTorrent, _seeding, pool).Succeeded().Output.Single();
        Assert.Equal("Block", promote.Properties["Decision"].Value.ToString());
        // ... and with a catalogued, seeded copy there, both torrents come back onto it and the pool copy goes.
        string back = Path.Combine(_seeding, "back");
        Directory.CreateDirectory(back);
        TempTree.Run("cp", "-a", poolCopy, back);
        string stashSeed = Add(Path.Combine(back, "Reuse.S01"), back, "tv", 17);
        ScanAndSync(back);
        var done = Ps.Run(@"New-RehomePlan -TorrentHash $args[0] -Promote -SeedingRoot $args[1], $args[2] -StashDevice stash -PoolDevice pool |
            Invoke-RehomePlan -Uri $args[3] -Confirm:$false", poolTorrent, _seeding, pool, _qbt.Url).Succeeded().Output.Single();
        Assert.Equal("Done", done.Properties["Status"].Value.ToString());
        string stashCopy = Path.Combine(back, "Reuse.S01");
        foreach (var h in new[] { stashTorrent, poolTorrent, stashSeed })
            AssertSeeding(h, stashCopy, reuseBefore);
        Assert.False(Directory.Exists(poolCopy));
    }

    /// <summary>Removes a test's torrents (not their files) from the class's qBittorrent: more active torrents than its queue allows would queue later tests' ones.</summary>
    private void Forget(params string[] hashes)
    {
        foreach (var h in hashes)
            _qbt.Delete(h);
    }

    /// <summary>
    /// A copy of <paramref name="poolCopy"/> put on the stash (in seeding/back) and seeded there by a torrent
    /// of its own, then the promotion of <paramref name="torrent"/>'s payload planned and executed.
    /// </summary>
    private (string Back, string StashSeed, PSObject Result) PromoteOntoAStashCopy(string poolCopy, string torrent, string pool)
    {
        string back = Path.Combine(_seeding, "back");
        Directory.CreateDirectory(back);
        TempTree.Run("cp", "-a", poolCopy, back);
        string stashSeed = Add(Path.Combine(back, Path.GetFileName(poolCopy)), back, "tv", 17);
        ScanAndSync(back);
        var result = Assert.Single(Ps.Run(@"New-RehomePlan -TorrentHash $args[0] -Promote -SeedingRoot $args[1], $args[2] -StashDevice stash -PoolDevice pool |
            Invoke-RehomePlan -Uri $args[3] -Confirm:$false", torrent, _seeding, pool, _qbt.Url).Succeeded().Output);
        return (back, stashSeed, result);
    }

    /// <summary>Distinct inodes of the files under some folders (hard links of one file count once).</summary>
    private static int DistinctInodes(params string[] dirs) =>
        dirs.Where(Directory.Exists).SelectMany(d => TempTree.Inodes(d).Values).Distinct().Count();

    private static List<PSObject> Items(PSObject o, string property) =>
        ((IEnumerable<object>)o.Properties[property].Value).Select(x => PSObject.AsPSObject(x)).ToList();

    [RequiresFact(Needs.QBittorrent | Needs.Tmpfs)]
    public void SiblingsUnderOtherRootNamesAreCopiedOnceDemotedAndPromotedEachAtItsOwnLayout()
    {
        string pool = Pool();
        // One season under two trackers' names: separate bytes on the stash, the same payload hash.
        string a = Payload("Show.S01.1080p.WEB-GRP", 200);
        string b = Path.Combine(_seeding, "Show S01 1080p WEB");
        TempTree.Run("cp", "-a", a, b);
        var before = Contents(a);
        string ha = Add(a, _seeding), hb = Add(b, _seeding, pieces: 16);
        ScanAndSync(a, b);
        Assert.Equal(6, DistinctInodes(a, b)); // two copies of 3 files (e0 has a second name inside each)
        string plan = PlanFile("TorrentHash", ha, pool);
        string dir = Path.Combine(pool, "torrents", _category);
        string ta = Path.Combine(dir, "Show.S01.1080p.WEB-GRP"), tb = Path.Combine(dir, "Show S01 1080p WEB");

        // One plan for both roots: A's tree is the copy, B's own names are hard links to it.
        var planned = Assert.Single(Ps.Run("[Hashall.Core.Rehome.RehomePlanFile]::Deserialize([IO.File]::ReadAllText($args[0]))", plan).Succeeded().Output);
        Assert.Equal("Move", planned.Properties["Decision"].Value.ToString());
        Assert.Equal(2L, Long(planned, "SchemaVersion"));
        var torrents = Items(planned, "Torrents").ToDictionary(t => (string)t.Properties["TorrentHash"].Value);
        Assert.Equal((ta, "copy", a), ((string)torrents[ha].Properties["TargetPath"].Value, (string)torrents[ha].Properties["Layout"].Value, (string)torrents[ha].Properties["SourcePath"].Value));
        Assert.Equal((tb, "linked", b), ((string)torrents[hb].Properties["TargetPath"].Value, (string)torrents[hb].Properties["Layout"].Value, (string)torrents[hb].Properties["SourcePath"].Value));
        var links = Items(planned, "Links").Select(l => ((string)l.Properties["Path"].Value, (string)l.Properties["LinkTo"].Value)).ToList();
        Assert.Equal(before.Keys.Select(k => (Path.Combine(tb, k), Path.Combine(ta, k))).Order(), links.Order());

        // -WhatIf lists every link to be made, and changes nothing.
        var whatIf = Invoke(plan, "-WhatIf").Succeeded();
        foreach (var (path, to) in links)
            Assert.Contains($"hard link '{path}' to '{to}'", whatIf.HostText);
        Assert.Contains($"'Show S01 1080p WEB' at '{tb}'", whatIf.HostText);
        Assert.False(Directory.Exists(dir));

        var moved = Assert.Single(Invoke(plan).Succeeded().Output);
        Assert.Equal("Done", moved.Properties["Status"].Value.ToString());
        Assert.Equal(3, Long(moved, "FilesCopied")); // one copy of the bytes, B laid out by links
        Assert.Equal(new[] { ha, hb }.Order(), ((IEnumerable<string>)moved.Properties["Relocated"].Value).Order());
        Assert.Equal(4, ((IEnumerable<string>)moved.Properties["Journal"].Value).Count(l => l.Contains("Linking: link: '")));
        AssertSeeding(ha, ta, before);
        AssertSeeding(hb, tb, before);
        Assert.False(Directory.Exists(a) || Directory.Exists(b)); // both stash roots removed
        Assert.Equal(3, DistinctInodes(ta, tb)); // one copy of the bytes on the pool
        Assert.Equal(["pool", "pool"], Ps.Run("Get-HashallTorrent -Category $args[0] | ForEach-Object Device", _category).Succeeded().Output.Select(o => (string)o.BaseObject));

        // Back to the stash onto a copy there under A's name: A uses it, B gets its own linked tree beside it.
        var (back, stashSeed, promoted) = PromoteOntoAStashCopy(ta, hb, pool);
        string copy = Path.Combine(back, "Show.S01.1080p.WEB-GRP"), bBack = Path.Combine(back, "Show S01 1080p WEB");
        Assert.Equal("Done", promoted.Properties["Status"].Value.ToString());
        Assert.Equal(0, Long(promoted, "BytesCopied"));
        AssertSeeding(ha, copy, before);
        AssertSeeding(hb, bBack, before);
        AssertSeeding(stashSeed, copy, before);
        Assert.False(Directory.Exists(ta) || Directory.Exists(tb)); // both pool roots removed
        Assert.Equal(3, DistinctInodes(copy, bBack)); // one copy of the bytes on the stash
        Assert.Equal(TempTree.Inodes(copy)[Path.Combine(copy, "e2.mkv")], TempTree.Inodes(bBack)[Path.Combine(bBack, "e2.mkv")]);
        Forget(ha, hb, stashSeed);
    }

    /// <summary>qBittorrent has the torrent complete at this one file, which has these bytes.</summary>
    private void AssertSeedingFile(string hash, string file, string sha1)
    {
        var info = _qbt.Info(hash)!.Value;
        Assert.Equal(file, info.ContentPath.TrimEnd('/'));
        Assert.Equal(1.0, info.Progress);
        Assert.Equal(sha1, TempTree.Sha1Sum(file));
    }

    [RequiresFact(Needs.QBittorrent | Needs.Tmpfs)]
    public void ASingleFileTwinOfAFolderTorrentIsLaidOutFromTheOneCopyBothWays()
    {
        string pool = Pool();
        // The same film as a folder torrent and as a single-file torrent of another name: content twins.
        string folder = Path.Combine(_seeding, "Film.2020.1080p");
        Directory.CreateDirectory(folder);
        var bytes = new byte[90_000];
        new Random(220).NextBytes(bytes);
        File.WriteAllBytes(Path.Combine(folder, "Film.2020.1080p.mkv"), bytes);
        string single = Path.Combine(_seeding, "Film (2020).mkv");
        File.WriteAllBytes(single, bytes);
        string sha1 = TempTree.Sha1Sum(single);
        string hf = Add(folder, _seeding), hs = Add(single, _seeding, pieces: 16);
        ScanAndSync(folder, single);
        var twins = Ps.Run("$args | ForEach-Object { Get-HashallTorrent -TorrentHash $_ }", hf, hs).Succeeded().Output;
        Assert.NotEqual(twins[0].Properties["PayloadHash"].Value, twins[1].Properties["PayloadHash"].Value);
        Assert.Equal(twins[0].Properties["ContentHash"].Value, twins[1].Properties["ContentHash"].Value);

        // Demoted together: one copy (the folder's), the single file a hard link to its file.
        string plan = PlanFile("TorrentHash", hf, pool);
        string dir = Path.Combine(pool, "torrents", _category);
        string copy = Path.Combine(dir, "Film.2020.1080p"), linked = Path.Combine(dir, "Film (2020).mkv");
        var planned = Assert.Single(Ps.Run("[Hashall.Core.Rehome.RehomePlanFile]::Deserialize([IO.File]::ReadAllText($args[0]))", plan).Succeeded().Output);
        var link = Assert.Single(Items(planned, "Links"));
        Assert.Equal((linked, Path.Combine(copy, "Film.2020.1080p.mkv")), ((string)link.Properties["Path"].Value, (string)link.Properties["LinkTo"].Value));
        var moved = Assert.Single(Invoke(plan).Succeeded().Output);
        Assert.Equal("Done", moved.Properties["Status"].Value.ToString());
        Assert.Equal(1, Long(moved, "FilesCopied"));
        AssertSeedingFile(hf, Path.Combine(copy, "Film.2020.1080p.mkv"), sha1);
        AssertSeedingFile(hs, linked, sha1);
        Assert.False(Directory.Exists(folder) || File.Exists(single));
        Assert.Equal(1, DistinctInodes(dir));

        // Promoted onto a stash copy of the folder: the folder torrent uses it, the single file is linked beside it.
        var (back, stashSeed, promoted) = PromoteOntoAStashCopy(copy, hs, pool);
        string stashCopy = Path.Combine(back, "Film.2020.1080p"), stashLinked = Path.Combine(back, "Film (2020).mkv");
        Assert.Equal("Done", promoted.Properties["Status"].Value.ToString());
        Assert.Equal("Reuse", promoted.Properties["Decision"].Value.ToString());
        Assert.Equal(0, Long(promoted, "BytesCopied"));
        AssertSeedingFile(hf, Path.Combine(stashCopy, "Film.2020.1080p.mkv"), sha1);
        AssertSeedingFile(hs, stashLinked, sha1);
        AssertSeedingFile(stashSeed, Path.Combine(stashCopy, "Film.2020.1080p.mkv"), sha1);
        Assert.Equal(1, DistinctInodes(back));
        Assert.Empty(Directory.GetFileSystemEntries(dir));
        Forget(hf, hs, stashSeed);
    }

    [RequiresFact(Needs.QBittorrent | Needs.Tmpfs)]
    public void AKilledLayoutRollsBackOnlyTheLinksItsJobMade()
    {
        string pool = Pool();
        string source = Payload("Kill.Layout.A", 210);
        var before = Contents(source);
        string poolDir = Path.Combine(pool, "torrents", "tv");
        Directory.CreateDirectory(poolDir);
        TempTree.Run("cp", "-a", source, Path.Combine(poolDir, "Kill Layout B"));
        string poolCopy = Path.Combine(poolDir, "Kill Layout B");
        string mine = Add(source, _seeding), theirs = Add(poolCopy, poolDir, "tv", 16);
        ScanAndSync(source, pool);
        string plan = PlanFile("TorrentHash", mine, pool);
        var planned = Assert.Single(Ps.Run("[Hashall.Core.Rehome.RehomePlanFile]::Deserialize([IO.File]::ReadAllText($args[0]))", plan).Succeeded().Output);
        Assert.Equal("Reuse", planned.Properties["Decision"].Value.ToString());
        string tree = Path.Combine(poolDir, "Kill.Layout.A");
        var links = Items(planned, "Links").Select(l => (string)l.Properties["Path"].Value).ToList();
        Assert.Equal(4, links.Count);
        Assert.All(links, l => Assert.StartsWith(tree + "/", l));
        var copyInodes = TempTree.Inodes(poolCopy);

        // A plan saved by the release before layouts (schema 1: no per-torrent targets, hashes with the root's name) is refused as such.
        var old = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(plan))!.AsArray();
        old[0]!["SchemaVersion"] = 1;
        old[0]!.AsObject().Remove("Links");
        foreach (var t in old[0]!["Torrents"]!.AsArray())
            foreach (var field in new[] { "SourcePath", "TargetPath", "Layout" })
                t!.AsObject().Remove(field);
        string oldPlan = Tree.Path("schema-1.json");
        File.WriteAllText(oldPlan, old.ToJsonString());
        var refused = Assert.Single(Invoke(oldPlan).Output);
        Assert.Equal(("Invalid", "RehomePlanInvalid"), (refused.Properties["Status"].Value.ToString(), (string)refused.Properties["ErrorId"].Value));
        Assert.Contains("its schema version is 1; this module executes version 2 (older plans hashed payloads with their root folder's name", (string)refused.Properties["Message"].Value);
        Assert.False(Directory.Exists(tree));
        // A link edited to point outside the copy (to make a name for any file on the pool) is refused.
        var edited = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(plan))!.AsArray();
        edited[0]!["Links"]![0]!["LinkTo"] = Path.Combine(pool, "elsewhere.mkv");
        File.WriteAllText(Tree.Path("link-edited.json"), edited.ToJsonString());
        var outside = Assert.Single(Invoke(Tree.Path("link-edited.json")).Output);
        Assert.Equal("Invalid", outside.Properties["Status"].Value.ToString());
        Assert.Contains($"which is not in the copy at '{poolCopy}'", (string)outside.Properties["Message"].Value);
        Assert.False(Directory.Exists(tree));

        // Killed after the second link: the job is open, two links journaled and made.
        var env = new Dictionary<string, string> { ["QBITTORRENT_URL"] = _qbt.Url, ["HASHALL_FAULT"] = "rehome-link:2" };
        var (exit, output) = ChildShell.Run($"Import-Module '{ModuleFolder.Manifest}'; Invoke-RehomePlan -Path '{plan}' -Database '{Db}' -Confirm:$false", env);
        Assert.NotEqual(0, exit);
        Assert.Contains("HASHALL_FAULT", output);
        Assert.True(File.Exists(links[0]) && File.Exists(links[1]) && !File.Exists(links[2]));
        AssertSeeding(mine, source, before);
        // Meanwhile someone else puts a file where the third link goes: not this job's, never removed.
        Directory.CreateDirectory(Path.GetDirectoryName(links[2])!);
        File.WriteAllText(links[2], "someone else's");

        var rolled = Assert.Single(Invoke(plan).Output);
        Assert.Equal("RolledBack", rolled.Properties["Status"].Value.ToString());
        Assert.Equal("RehomeTargetExists", rolled.Properties["ErrorId"].Value);
        Assert.True((bool)rolled.Properties["Resumed"].Value);
        Assert.Contains(((IEnumerable<string>)rolled.Properties["Journal"].Value), l => l.Contains("rolled back: 2 hard link(s) this job made removed"));
        Assert.False(File.Exists(links[0]) || File.Exists(links[1]) || File.Exists(links[3]));
        Assert.Equal("someone else's", File.ReadAllText(links[2]));
        // The copy and its names are untouched, its files back to their own link counts; both torrents where they were.
        Assert.Equal(copyInodes, TempTree.Inodes(poolCopy));
        Assert.Equal(before, Contents(poolCopy));
        AssertSeeding(mine, source, before);
        AssertSeeding(theirs, poolCopy, before);

        // Once the name is free again, the same plan runs through: its own tree, the copy's names kept.
        Directory.Delete(tree, recursive: true);
        var done = Assert.Single(Invoke(plan).Succeeded().Output);
        Assert.Equal("Done", done.Properties["Status"].Value.ToString());
        AssertSeeding(mine, tree, before);
        AssertSeeding(theirs, poolCopy, before);
        Assert.Equal(copyInodes, TempTree.Inodes(poolCopy));
        Assert.Equal(3, DistinctInodes(poolCopy, tree));
        Assert.False(Directory.Exists(source));
        Forget(mine, theirs);
    }

    [RequiresFact(Needs.QBittorrent | Needs.Tmpfs)]
    public void AResumedJobRefusesAPlanEditedSinceItStartedAndRemovesNothing()
    {
        string pool = Pool();
        string a = Payload("Edit.Resume.A", 200);
        string b = Path.Combine(_seeding, "Edit Resume B");
        TempTree.Run("cp", "-a", a, b);
        var before = Contents(a);
        string ha = Add(a, _seeding), hb = Add(b, _seeding, pieces: 16);
        ScanAndSync(a, b);
        string plan = PlanFile("TorrentHash", ha, pool);
        string dir = Path.Combine(pool, "torrents", _category);
        string ta = Path.Combine(dir, "Edit.Resume.A"), tb = Path.Combine(dir, "Edit Resume B");

        // Killed after the first source file was removed: both torrents confirmed on the pool, B's source still whole.
        var env = new Dictionary<string, string> { ["QBITTORRENT_URL"] = _qbt.Url, ["HASHALL_FAULT"] = "rehome-remove:1" };
        var (exit, output) = ChildShell.Run($"Import-Module '{ModuleFolder.Manifest}'; Invoke-RehomePlan -Path '{plan}' -Database '{Db}' -Confirm:$false", env);
        Assert.NotEqual(0, exit);
        Assert.Contains("HASHALL_FAULT", output);
        AssertSeeding(ha, ta, before);
        AssertSeeding(hb, tb, before);
        Assert.Equal(before, Contents(b));

        // A folder of B's name under another parent, never copied: an edited plan names it as B's source.
        string decoy = Path.Combine(_seeding, "elsewhere", "Edit Resume B");
        Directory.CreateDirectory(Path.GetDirectoryName(decoy)!);
        TempTree.Run("cp", "-a", b, decoy);
        string Edit(string name, Action<System.Text.Json.Nodes.JsonObject> change)
        {
            var plans = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(plan))!.AsArray();
            change(plans[0]!.AsObject());
            string file = Tree.Path(name + ".json");
            File.WriteAllText(file, plans.ToJsonString());
            return file;
        }
        System.Text.Json.Nodes.JsonNode TorrentB(System.Text.Json.Nodes.JsonObject j) =>
            j["Torrents"]!.AsArray().Single(t => (string)t!["TorrentHash"]! == hb)!;
        var edits = new (string Name, Action<System.Text.Json.Nodes.JsonObject> Change, string Says)[]
        {
            ("sibling-source", j => TorrentB(j)["SourcePath"] = decoy, $"SourcePath of torrent {hb} is '{b}' in the job's plan, '{decoy}' in this one"),
            ("link-to", j => j["Links"]![0]!["LinkTo"] = Path.Combine(ta, "e2.mkv"), "LinkTo of link '"),
        };
        foreach (var (name, change, says) in edits)
        {
            var r = Invoke(Edit(name, change));
            var refused = Assert.Single(r.Output);
            Assert.True(("Invalid", "RehomePlanChanged") == (refused.Properties["Status"].Value.ToString(), (string)refused.Properties["ErrorId"].Value), name + ": " + (string)refused.Properties["Message"].Value);
            Assert.True(((string)refused.Properties["Message"].Value).Contains(says), (string)refused.Properties["Message"].Value);
            Assert.Equal("RehomePlanChanged,Hashall.PowerShell.Rehome.InvokeRehomePlanCommand", Assert.Single(r.Errors).FullyQualifiedErrorId);
            // Nothing touched: the decoy (never copied) and B's source whole, both torrents on the pool.
            Assert.Equal(before, Contents(b));
            Assert.Equal(before, Contents(decoy));
            AssertSeeding(ha, ta, before);
            AssertSeeding(hb, tb, before);
        }
        Assert.Equal(0, Jobs("done"));

        // The job's own plan finishes it: B's own source removed, the decoy kept.
        var done = Assert.Single(Invoke(plan).Succeeded().Output);
        Assert.Equal("Done", done.Properties["Status"].Value.ToString());
        Assert.True((bool)done.Properties["Resumed"].Value);
        AssertSeeding(ha, ta, before);
        AssertSeeding(hb, tb, before);
        Assert.False(Directory.Exists(a) || Directory.Exists(b));
        Assert.Equal(before, Contents(decoy));
        Forget(ha, hb);
    }

    [RequiresFact(Needs.QBittorrent | Needs.Tmpfs)]
    public void VerifyPiecesFindsAFileDamagedBeforeItsScanNamesItAndMovesNoTorrent()
    {
        string pool = Pool("pool", "64m");
        // qBittorrent checked the data whole; then a byte went bad, and the scan took the SHA-1 of the bad bytes.
        string rotten = Payload("Rotten.S01", 60, files: 3, size: 300_000);
        string rottenHash = Add(rotten, _seeding);
        string file = Path.Combine(rotten, "e2.mkv");
        using (var f = File.OpenWrite(file)) { f.Position = 250_000; f.WriteByte(0x5A); }
        var before = Contents(rotten);
        ScanAndSync(rotten);
        string plan = PlanFile("TorrentHash", rottenHash, pool);

        var described = Ps.Run("Invoke-RehomePlan -Path $args[0] -Uri $args[1] -Verify Pieces -WhatIf", plan, _qbt.Url).Succeeded();
        Assert.Contains("against the torrent's own piece hashes", described.HostText);

        var r = Invoke(plan, "-Verify Pieces");
        var result = Assert.Single(r.Output);
        Assert.Equal("RolledBack", result.Properties["Status"].Value.ToString());
        Assert.Equal("RehomeVerifyFailed", result.Properties["ErrorId"].Value);
        string message = (string)result.Properties["Message"].Value;
        Assert.Contains("e2.mkv' Damaged", message);
        Assert.Contains("No torrent was moved", message);
        Assert.DoesNotContain("e0.mkv", message);
        Assert.Equal(before, Contents(rotten));
        Assert.Empty(Contents(Path.Combine(pool, "torrents")));
        var info = _qbt.Info(rottenHash)!.Value;
        Assert.Equal(rotten, info.ContentPath.TrimEnd('/')); // never relocated
        Assert.False(info.State.StartsWith("stopped") || info.State.StartsWith("paused"), info.State); // never stopped

        // Whole data passes the piece check, and the journal says so.
        string whole = Payload("Whole.S01", 70, files: 3, size: 300_000);
        var wholeBefore = Contents(whole);
        string wholeHash = Add(whole, _seeding);
        ScanAndSync(whole);
        var done = Assert.Single(Invoke(PlanFile("TorrentHash", wholeHash, pool), "-Verify Pieces").Succeeded().Output);
        Assert.Equal("Done", done.Properties["Status"].Value.ToString());
        string target = Path.Combine(pool, "torrents", _category, "Whole.S01");
        AssertSeeding(wholeHash, target, wholeBefore);
        Assert.Contains("pieces match the torrent's own hashes", Convert.ToString(Sql("SELECT group_concat(detail, ' | ') FROM rehome_journal;")));
    }

    [RequiresFact(Needs.QBittorrent | Needs.Tmpfs)]
    public void FailuresAreRolledBackAndNothingIsLost()
    {
        string pool = Pool();
        // A file changed on disk since the scan, same size and mtime: the copy does not verify.
        string changed = Payload("Changed.S01", 40);
        string changedHash = Add(changed, _seeding);
        ScanAndSync(changed);
        string file = Path.Combine(changed, "e2.mkv");
        var stamp = File.GetLastWriteTimeUtc(file);
        using (var f = File.OpenWrite(file)) { f.Position = 100; f.WriteByte(0x55); f.WriteByte(0xAA); }
        File.SetLastWriteTimeUtc(file, stamp);
        var changedBefore = Contents(changed);
        var r = Invoke(PlanFile("TorrentHash", changedHash, pool));
        var result = Assert.Single(r.Output);
        Assert.Equal("RolledBack", result.Properties["Status"].Value.ToString());
        Assert.Equal("RehomeVerifyFailed", result.Properties["ErrorId"].Value);
        Assert.Equal("RehomeVerifyFailed,Hashall.PowerShell.Rehome.InvokeRehomePlanCommand", Assert.Single(r.Errors).FullyQualifiedErrorId);
        Assert.Equal(changedBefore, Contents(changed));
        Assert.Empty(Contents(Path.Combine(pool, "torrents")));
        Assert.Equal(1, Jobs("rolled-back"));

        // A small tmpfs: enough free bytes for the payload, but not for its 40 files' pages.
        string tiny = Pool("tiny", "64k");
        string many = Path.Combine(_seeding, "Many.S01");
        Directory.CreateDirectory(many);
        for (int i = 0; i < 40; i++)
            File.WriteAllText(Path.Combine(many, $"f{i:00}.txt"), new string((char)('a' + i % 26), 100));
        var manyBefore = Contents(many);
        string manyHash = Add(many, _seeding);
        ScanAndSync(many, tiny);
        var full = Assert.Single(Invoke(PlanFile("TorrentHash", manyHash, tiny, "tiny")).Output);
        Assert.Equal("RolledBack", full.Properties["Status"].Value.ToString());
        Assert.Equal("RehomeCopyFailed", full.Properties["ErrorId"].Value);
        Assert.Contains("No space left", (string)full.Properties["Message"].Value);
        Assert.Empty(Directory.GetFileSystemEntries(Path.Combine(tiny, "torrents", _category))); // the partial copy is gone
        AssertSeeding(manyHash, many, manyBefore);

        // qBittorrent unreachable: a terminating error before anything changed.
        string plan = PlanFile("TorrentHash", manyHash, pool);
        var unreachable = Ps.Run("Invoke-RehomePlan -Path $args[0] -Uri $args[1] -Confirm:$false", plan, $"http://127.0.0.1:{QBittorrentFixture.FreePort()}/");
        Assert.Equal("QBittorrentUnreachable,Hashall.PowerShell.Rehome.InvokeRehomePlanCommand", unreachable.TerminatingErrorId);
        AssertSeeding(manyHash, many, manyBefore);

        // A plan that no longer matches (its target made since): refused, nothing touched; other plans go on.
        Directory.CreateDirectory(Path.Combine(pool, "torrents", _category, "Many.S01"));
        var invalid = Assert.Single(Invoke(plan).Output);
        Assert.Equal("Invalid", invalid.Properties["Status"].Value.ToString());
        Assert.Contains("exists now", (string)invalid.Properties["Message"].Value);
        AssertSeeding(manyHash, many, manyBefore);

        // A torrent added after the plan, seeding the source too: refused (moving would break it), nothing touched.
        Directory.Delete(Path.Combine(pool, "torrents", _category, "Many.S01"));
        string late = Add(many, _seeding, pieces: 16);
        var lateResult = Assert.Single(Invoke(plan).Output);
        Assert.Equal("Invalid", lateResult.Properties["Status"].Value.ToString());
        Assert.Contains("not in the plan", (string)lateResult.Properties["Message"].Value);
        AssertSeeding(late, many, manyBefore);
        _qbt.Delete(late);

        // A plan whose catalog is not there (made on another machine) is refused; no catalog is created.
        string elsewhere = Tree.Path("elsewhere", "catalog.db");
        Directory.CreateDirectory(Tree.Path("elsewhere"));
        File.WriteAllText(Tree.Path("elsewhere.json"), File.ReadAllText(plan).Replace(Db, elsewhere));
        var noCatalog = Ps.Run(@"$saved = $PSDefaultParameterValues['*-Rehome*:Database']; $PSDefaultParameterValues.Remove('*-Rehome*:Database')
            try { Invoke-RehomePlan -Path $args[0] -Uri $args[1] -Confirm:$false } finally { $PSDefaultParameterValues['*-Rehome*:Database'] = $saved }",
            Tree.Path("elsewhere.json"), _qbt.Url);
        Assert.Equal("Invalid", Assert.Single(noCatalog.Output).Properties["Status"].Value.ToString());
        Assert.Equal("RehomeCatalogNotFound,Hashall.PowerShell.Rehome.InvokeRehomePlanCommand", Assert.Single(noCatalog.Errors).FullyQualifiedErrorId);
        Assert.False(File.Exists(elsewhere));

        // A plan file that is not one, and a tampered path: clear errors.
        File.WriteAllText(Tree.Path("bad.json"), "{ not json");
        Assert.Equal("RehomePlanFileInvalid,Hashall.PowerShell.Rehome.InvokeRehomePlanCommand", Invoke(Tree.Path("bad.json")).TerminatingErrorId);
        File.WriteAllText(Tree.Path("escape.json"), File.ReadAllText(plan).Replace(_seeding + "/Many.S01", _seeding + "/../Many.S01"));
        var escape = Assert.Single(Invoke(Tree.Path("escape.json")).Output);
        Assert.Equal("Invalid", escape.Properties["Status"].Value.ToString());
        Assert.Contains("'..'", (string)escape.Properties["Message"].Value);
        File.WriteAllText(Tree.Path("v3.json"), File.ReadAllText(plan).Replace("\"SchemaVersion\": 2", "\"SchemaVersion\": 3"));
        var future = Assert.Single(Invoke(Tree.Path("v3.json")).Output);
        Assert.Equal("Invalid", future.Properties["Status"].Value.ToString());
        Assert.Contains("schema version is 3", (string)future.Properties["Message"].Value);
        AssertSeeding(manyHash, many, manyBefore);
    }

    [RequiresFact(Needs.QBittorrent | Needs.Tmpfs)]
    public void ATargetThatFillsUpDuringTheCopyNamesTheFileTheFilesystemAndTheSpace()
    {
        // An 8 MiB pool and a 5.4 MB payload (7.2 MB counting its inner hard link twice): room when the plan is checked, then something else fills the
        // pool as the copy starts (another download, a library import), leaving 512 KiB.
        string pool = Pool("small", "8m");
        string source = Payload("Big.S01", 90, files: 3, size: 1_800_000);
        var before = Contents(source);
        string hash = Add(source, _seeding, pieces: 18);
        ScanAndSync(source, pool);
        string plan = PlanFile("TorrentHash", hash, pool, "small");
        string filler = Path.Combine(pool, "filler");
        bool filled = false;
        var r = Ps.Run($"Invoke-RehomePlan -Path $args[0] -Uri $args[1] -Confirm:$false", p =>
        {
            if (filled || p.Activity != "Copying to the target")
                return;
            filled = true;
            long free = new DriveInfo(pool).AvailableFreeSpace;
            TempTree.Run("fallocate", "-l", (free - 512 * 1024).ToString(), filler);
        }, plan, _qbt.Url);
        Assert.True(filled);
        var result = Assert.Single(r.Output);
        Assert.Equal("RolledBack", result.Properties["Status"].Value.ToString());
        Assert.Equal("RehomeCopyFailed", result.Properties["ErrorId"].Value);
        string message = (string)result.Properties["Message"].Value;
        // The file being copied and where to, the filesystem, the space needed and free.
        Assert.Matches($"No space left on the target filesystem {System.Text.RegularExpressions.Regex.Escape(pool)} \\(tmpfs\\) while copying '{System.Text.RegularExpressions.Regex.Escape(source)}/[^']+\\.mkv' \\(18000\\d\\d bytes\\) to '{System.Text.RegularExpressions.Regex.Escape(pool)}/[^']+\\.mkv'", message);
        Assert.Contains("the payload needs 5400003 bytes (0 copied so far)", message);
        var free = System.Text.RegularExpressions.Regex.Match(message, "and (\\d+) bytes were free when the copy began");
        Assert.True(free.Success, message);
        Assert.InRange(long.Parse(free.Groups[1].Value), 1, 1024 * 1024);
        Assert.Equal("RehomeCopyFailed,Hashall.PowerShell.Rehome.InvokeRehomePlanCommand", Assert.Single(r.Errors).FullyQualifiedErrorId);
        // Nothing lost: the source whole and seeded, the partial copy gone.
        File.Delete(filler);
        Assert.Equal(before, Contents(source));
        AssertSeeding(hash, source, before);
        Assert.Empty(Directory.GetFileSystemEntries(Path.Combine(pool, "torrents", _category)));
    }

    [RequiresFact(Needs.QBittorrent | Needs.Tmpfs)]
    public void APlanWhoseDeviceIdsWereEditedIsRefusedAndNothingMoves()
    {
        string pool = Pool();
        var p = PlanPayload(pool, "Edited.S01", 70);
        long stash = Long(Ps.Run("Get-HashallDevice stash").Succeeded().Output.Single(), "DeviceId");
        long poolId = Long(Ps.Run("Get-HashallDevice pool").Succeeded().Output.Single(), "DeviceId");
        string onStash = Path.Combine(Data, "moved", _category);
        string Edit(string name, Action<System.Text.Json.Nodes.JsonObject> change)
        {
            var plans = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(p.Plan))!.AsArray();
            Assert.Equal(stash, (long)plans[0]!["SourceDeviceId"]!);
            Assert.Equal(poolId, (long)plans[0]!["TargetDeviceId"]!);
            change(plans[0]!.AsObject());
            string file = Tree.Path(name + ".json");
            File.WriteAllText(file, plans.ToJsonString());
            return file;
        }
        var edits = new (string Name, Action<System.Text.Json.Nodes.JsonObject> Change, string Says)[]
        {
            // The reported attack: the target made the stash, id and paths, so the "move" stays on the stash.
            ("stash-target", j =>
                {
                    j["TargetDeviceId"] = stash; j["TargetSavePath"] = onStash; j["TargetPath"] = Path.Combine(onStash, "Edited.S01");
                    foreach (var t in j["Torrents"]!.AsArray())
                        t!["TargetPath"] = Path.Combine(onStash, "Edited.S01");
                },
                $"its source and target are both on device {stash}"),
            ("stash-target-id-only", j => j["TargetDeviceId"] = stash, $"its TargetDeviceId is device {stash} 'stash'"),
            ("pool-source-id", j => j["SourceDeviceId"] = poolId, $"its SourceDeviceId is device {poolId} 'pool'"),
            ("unknown-target-id", j => j["TargetDeviceId"] = 999, "its TargetDeviceId 999 is no device of the catalog"),
        };
        foreach (var (name, change, says) in edits)
        {
            var r = Invoke(Edit(name, change));
            var result = Assert.Single(r.Output);
            Assert.Equal("Invalid", result.Properties["Status"].Value.ToString());
            Assert.Equal("RehomeDeviceMismatch", result.Properties["ErrorId"].Value);
            Assert.Equal("RehomeDeviceMismatch,Hashall.PowerShell.Rehome.InvokeRehomePlanCommand", Assert.Single(r.Errors).FullyQualifiedErrorId);
            Assert.Contains(says, (string)result.Properties["Message"].Value);
            AssertSeeding(p.Hash, p.Source, p.Before);
            Assert.False(Directory.Exists(Path.Combine(Data, "moved")));
            Assert.False(Directory.Exists(p.Target));
        }
        Assert.Equal(0, Jobs("done"));
    }

    [RequiresFact(Needs.QBittorrent | Needs.Tmpfs)]
    public void KilledMidCopyOrMidRelocationTheSamePlanResumesAndALiveRunIsRefused()
    {
        string pool = Pool();
        string a = Payload("KillCopy.S01", 50, files: 4), b = Payload("KillMove.S01", 60);
        var aBefore = Contents(a);
        var bBefore = Contents(b);
        string aHash = Add(a, _seeding), bHash = Add(b, _seeding);
        ScanAndSync(a, b);
        string aPlan = PlanFile("TorrentHash", aHash, pool), bPlan = PlanFile("TorrentHash", bHash, pool);
        string aTarget = Path.Combine(pool, "torrents", _category, "KillCopy.S01"), bTarget = Path.Combine(pool, "torrents", _category, "KillMove.S01");
        var env = new Dictionary<string, string> { ["QBITTORRENT_URL"] = _qbt.Url };
        string Child(string planFile) => $"Import-Module '{ModuleFolder.Manifest}'; Invoke-RehomePlan -Path '{planFile}' -Database '{Db}' -Confirm:$false";

        // Killed after the second file was copied: the source and the torrent are untouched.
        env["HASHALL_FAULT"] = "rehome-copy:2";
        var (exit, output) = ChildShell.Run(Child(aPlan), env);
        Assert.NotEqual(0, exit);
        Assert.Contains("HASHALL_FAULT", output);
        AssertSeeding(aHash, a, aBefore);
        Assert.False(Directory.Exists(aTarget));
        Assert.Equal(1, Jobs("running"));
        var resumed = Assert.Single(Invoke(aPlan).Succeeded().Output);
        Assert.Equal("Done", resumed.Properties["Status"].Value.ToString());
        Assert.True((bool)resumed.Properties["Resumed"].Value);
        AssertSeeding(aHash, aTarget, aBefore);
        Assert.False(Directory.Exists(a));
        Assert.Empty(Directory.GetDirectories(Path.Combine(pool, "torrents", _category), ".hashall-rehome-*"));

        // Killed right after qBittorrent was told the new location: both copies whole; the rerun confirms and finishes.
        env["HASHALL_FAULT"] = "rehome-relocate:1";
        (exit, output) = ChildShell.Run(Child(bPlan), env);
        Assert.NotEqual(0, exit);
        Assert.Equal(bBefore, Contents(b));
        Assert.Equal(bBefore, Contents(bTarget));
        var finished = Assert.Single(Invoke(bPlan).Succeeded().Output);
        Assert.Equal("Done", finished.Properties["Status"].Value.ToString());
        Assert.True((bool)finished.Properties["Resumed"].Value);
        Assert.Equal([bHash], (IEnumerable<string>)finished.Properties["Restarted"].Value); // it was running before the kill
        AssertSeeding(bHash, bTarget, bBefore);
        Assert.False(Directory.Exists(b));

        // Killed after the first source file was removed (the torrent already confirmed on the pool): the rerun finishes.
        var (d, dBefore, dHash, dPlan, dTarget) = PlanPayload(pool, "KillRemove.S01", 90);
        env["HASHALL_FAULT"] = "rehome-remove:1";
        (exit, _) = ChildShell.Run(Child(dPlan), env);
        Assert.NotEqual(0, exit);
        AssertSeeding(dHash, dTarget, dBefore);
        Assert.True(Contents(d).Count < dBefore.Count);
        var removed = Assert.Single(Invoke(dPlan).Succeeded().Output);
        Assert.Equal("Done", removed.Properties["Status"].Value.ToString());
        Assert.False(Directory.Exists(d));
        Assert.Equal(dHash, Assert.Single((IEnumerable<string>)removed.Properties["Relocated"].Value));

        // A job held by a live run elsewhere (its lease not expired) is refused; once expired it is taken over.
        // This one is a folder holding a single file: qBittorrent's content path is then the file itself.
        string c = Path.Combine(_seeding, "Locked.S01");
        Directory.CreateDirectory(c);
        File.WriteAllBytes(Path.Combine(c, "Locked.S01.mkv"), new byte[70_000]);
        var cBefore = Contents(c);
        string cHash = Add(c, _seeding);
        ScanAndSync(c);
        string cPlan = PlanFile("TorrentHash", cHash, pool);
        string payloadHash = (string)Ps.Run("(Get-HashallTorrent -TorrentHash $args[0]).PayloadHash", cHash).Succeeded().Output.Single().BaseObject;
        Sql($@"INSERT INTO rehome_jobs (payload_hash, direction, decision, source_path, target_path, target_save_path, plan, step, status, started_at, updated_at, lock_owner, lock_expires_at)
VALUES ('{payloadHash}', 'Demote', 'Move', '{c}', '{Path.Combine(pool, "torrents", _category, "Locked.S01")}', '{Path.Combine(pool, "torrents", _category)}', '{File.ReadAllText(cPlan).Replace("'", "''")}', 'Started', 'running',
    '2026-01-01T00:00:00.0000000Z', '2026-01-01T00:00:00.0000000Z', 'otherhost:1:x:y', '2999-01-01T00:00:00.0000000Z');");
        var busy = Invoke(cPlan);
        Assert.Equal("RehomeBusy,Hashall.PowerShell.Rehome.InvokeRehomePlanCommand", Assert.Single(busy.Errors).FullyQualifiedErrorId);
        AssertSeeding(cHash, Path.Combine(c, "Locked.S01.mkv"), cBefore);
        Sql("UPDATE rehome_jobs SET lock_expires_at = '2000-01-01T00:00:00.0000000Z' WHERE lock_owner = 'otherhost:1:x:y';");
        var taken = Assert.Single(Invoke(cPlan).Succeeded().Output);
        Assert.Equal("Done", taken.Properties["Status"].Value.ToString());
        AssertSeeding(cHash, Path.Combine(pool, "torrents", _category, "Locked.S01", "Locked.S01.mkv"), cBefore);
        Assert.False(Directory.Exists(c));
    }

    [RequiresFact(Needs.QBittorrent | Needs.Tmpfs)]
    public void CtrlCWhileQBittorrentRelocatesLeavesEveryTorrentOnACompleteCopyAndTheSameSessionCanFinish()
    {
        var (source, before, hash, plan, target) = PlanPayload(Pool(), "Stop.S01", 80);
        Ps.RunAndStop("Invoke-RehomePlan -Path $args[0] -Uri $args[1] -Confirm:$false", p => p.Activity == "Rechecking the copy in qBittorrent", plan, _qbt.Url);

        // Stopped once qBittorrent has been told the new location, the job is rolled back despite the stop:
        // the torrent complete on the source again, the copy removed, no live lease left behind.
        var info = _qbt.Info(hash)!.Value;
        Assert.Equal(1.0, info.Progress);
        Assert.Equal(before, Contents(info.ContentPath));
        Assert.Equal(0, Jobs("running"));
        Assert.Equal(1, Jobs("rolled-back"));
        Assert.Equal(source, info.ContentPath.TrimEnd('/'));
        Assert.False(Directory.Exists(target));
        var rerun = Assert.Single(Invoke(plan).Succeeded().Output);
        Assert.Equal("Done", rerun.Properties["Status"].Value.ToString());
        AssertSeeding(hash, target, before);
        Assert.DoesNotContain("paused", _qbt.Info(hash)!.Value.State);
    }

    [RequiresFact(Needs.QBittorrent | Needs.Tmpfs)]
    public void ACopyQBittorrentRejectsOnRecheckIsRolledBackOntoTheSource()
    {
        var (source, before, hash, plan, target) = PlanPayload(Pool(), "Reject.S01", 100);
        // Between the verification and the relocation, the copy is damaged (same size): only qBittorrent's recheck can tell.
        var r = Ps.Run("Invoke-RehomePlan -Path $args[0] -Uri $args[1] -Confirm:$false", p =>
        {
            if (p.Activity != "Stopping the torrents")
                return;
            using var f = File.OpenWrite(Path.Combine(target, "e2.mkv"));
            f.Position = 1000;
            f.WriteByte(0x5A);
            f.WriteByte(0xA5);
        }, plan, _qbt.Url);
        var result = Assert.Single(r.Output);
        Assert.Equal("RolledBack", result.Properties["Status"].Value.ToString());
        Assert.Equal("RehomeRecheckFailed", result.Properties["ErrorId"].Value);
        Assert.Equal("RehomeRecheckFailed,Hashall.PowerShell.Rehome.InvokeRehomePlanCommand", Assert.Single(r.Errors).FullyQualifiedErrorId);
        AssertSeeding(hash, source, before);
        Assert.DoesNotContain("paused", _qbt.Info(hash)!.Value.State); // running before: running again
        Assert.False(Directory.Exists(target));
        Assert.Contains(((IEnumerable<string>)result.Properties["Journal"].Value), l => l.Contains("rolled back: qBittorrent confirmed the torrents complete"));
    }

    [RequiresFact(Needs.QBittorrent | Needs.Tmpfs)]
    public void ACopyToReuseThatIsASymbolicLinkBackToTheSourceIsNoCopyAndTheSourceIsKept()
    {
        string pool = Pool();
        string source = Payload("Linked.Back.S01", 150);
        string poolDir = Path.Combine(pool, "torrents", "tv");
        Directory.CreateDirectory(poolDir);
        TempTree.Run("cp", "-a", source, poolDir);
        string poolCopy = Path.Combine(poolDir, "Linked.Back.S01");
        var before = Contents(source);
        string stashTorrent = Add(source, _seeding), poolTorrent = Add(poolCopy, poolDir, "tv", 16);
        ScanAndSync(_seeding, pool);
        string plan = PlanFile("TorrentHash", stashTorrent, pool);
        Assert.Contains("\"Reuse\"", File.ReadAllText(plan));
        // Since the plan was made, the copy on the pool became a symbolic link to the source on the stash:
        // read through it, it verifies and qBittorrent's recheck passes, but it is the source itself.
        Directory.Delete(poolCopy, recursive: true);
        File.CreateSymbolicLink(poolCopy, source);

        var r = Invoke(plan);
        var result = Assert.Single(r.Output);
        Assert.True(Directory.Exists(source), $"the source is gone: {result.Properties["Status"].Value}, {result.Properties["FilesRemoved"].Value} file(s) removed");
        Assert.Equal(before, Contents(source));
        Assert.Equal("RehomeVerifyFailed", result.Properties["ErrorId"].Value);
        Assert.Equal("RolledBack", result.Properties["Status"].Value.ToString());
        Assert.Contains("on another filesystem", (string)result.Properties["Message"].Value);
        AssertSeeding(stashTorrent, source, before);
        Forget(stashTorrent, poolTorrent);
    }

    [RequiresFact(Needs.QBittorrent | Needs.Tmpfs)]
    public void QBittorrentGoneMidRunLosesNothingAndTheRerunFinishesOnceItIsBack()
    {
        using var qbt = new QBittorrentFixture(); // its own, to be killed
        string pool = Pool();
        string source = Payload("Gone.S01", 110);
        var before = Contents(source);
        var t = QBittorrentFixture.MakeTorrent(source, _torrents, 15);
        qbt.Add(t.Torrent, t.Hash, _seeding, category: _category);
        Ps.Run("Invoke-HashallScan $args[0]; Sync-HashallPayload -Uri $args[1]", source, qbt.Url).Succeeded();
        string plan = Tree.Path("gone.json");
        Ps.Run("New-RehomePlan -TorrentHash $args[0] -Demote -SeedingRoot $args[1] -StashDevice stash -PoolDevice pool -TargetPath $args[2] -OutFile $args[3] | Out-Null",
            t.Hash, _seeding, Path.Combine(pool, "torrents"), plan).Succeeded();
        string target = Path.Combine(pool, "torrents", _category, "Gone.S01");

        // qBittorrent dies once the copy is verified, as the torrents are about to be stopped.
        var r = Ps.Run("Invoke-RehomePlan -Path $args[0] -Uri $args[1] -Confirm:$false -CheckTimeoutSec 20", p =>
        {
            if (p.Activity == "Stopping the torrents")
                qbt.Kill();
        }, plan, qbt.Url);
        var failed = Assert.Single(r.Output);
        Assert.Equal("Failed", failed.Properties["Status"].Value.ToString());
        Assert.Equal("QBittorrentUnreachable", failed.Properties["ErrorId"].Value);
        Assert.Contains("Nothing was deleted", (string)failed.Properties["Message"].Value);
        Assert.Equal(before, Contents(source)); // whole at the source ...
        Assert.Equal(before, Contents(target)); // ... and at the target
        Assert.Equal(1, Jobs("failed"));

        qbt.Restart();
        var done = Assert.Single(Ps.Run("Invoke-RehomePlan -Path $args[0] -Uri $args[1] -Confirm:$false", plan, qbt.Url).Succeeded().Output);
        Assert.Equal("Done", done.Properties["Status"].Value.ToString());
        Assert.True((bool)done.Properties["Resumed"].Value);
        var info = qbt.Info(t.Hash)!.Value;
        Assert.Equal(target, info.ContentPath.TrimEnd('/'));
        Assert.Equal(1.0, info.Progress);
        Assert.DoesNotContain("paused", info.State);
        Assert.Equal(before, Contents(target));
        Assert.False(Directory.Exists(source));
    }

    [RequiresFact(Needs.QBittorrent | Needs.Tmpfs)]
    public void ABatchGoesOnPastAFailedPlanUnlessToldToStopAndReportsProgressAndASummary()
    {
        string pool = Pool();
        string a = Payload("A.S01", 120), b = Payload("B.S01", 130);
        var bBefore = Contents(b);
        string aHash = Add(a, _seeding), bHash = Add(b, _seeding);
        ScanAndSync(a, b);
        string plans = PlanFile("Category", _category, pool);
        Directory.CreateDirectory(Path.Combine(pool, "torrents", _category, "A.S01")); // A's target taken since the plan

        var stopped = Invoke(plans, "-StopOnError -Summary");
        var summary = Assert.Single(stopped.Output);
        Assert.Equal((2L, 1L, 1L, 0L), (Long(summary, "Plans"), Long(summary, "Invalid"), Long(summary, "Skipped"), Long(summary, "Done")));
        Assert.Equal("RehomePlanInvalid,Hashall.PowerShell.Rehome.InvokeRehomePlanCommand", Assert.Single(stopped.Errors).FullyQualifiedErrorId);
        AssertSeeding(bHash, b, bBefore); // not started

        var all = Invoke(plans);
        Assert.Equal(["Invalid", "Done"], all.Output.Select(o => o.Properties["Status"].Value.ToString()));
        Assert.Single(all.Errors);
        Assert.Contains(all.Progress, p => p.Activity == "Rehoming payloads" && p.StatusDescription.StartsWith("2 of 2"));
        Assert.Contains(all.Progress, p => p.Activity == "Copying to the target" && p.ParentActivityId == 1);
        AssertSeeding(bHash, Path.Combine(pool, "torrents", _category, "B.S01"), bBefore);
        AssertSeeding(aHash, a, Contents(a));
    }
}
