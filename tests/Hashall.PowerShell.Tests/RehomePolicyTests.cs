using System.Globalization;
using System.Management.Automation;
using System.Text.Json;
using Hashall.Tests.Shared;

namespace Hashall.PowerShell.Tests;

/// <summary>
/// New-RehomePlan's tiering policy (-MinimumAge, -MinimumSeedingTime, -Ratio, -FreeSpaceTarget, -Order,
/// -Limit, -MaximumBytes, -ActiveWithin) on a stash and a pool that are both tmpfs (so the stash's free
/// space is known), with torrents from a real qBittorrent. What qBittorrent says of a torrent's life
/// (completion, seeding time, ratio, last activity) is read by a real sync; the tests then give the
/// catalog rows the ages a long-running seedbox would have (a fresh qBittorrent has none).
/// </summary>
public sealed class RehomePolicyTests : CatalogSessionTest, IClassFixture<QBittorrentFixture>
{
    private readonly QBittorrentFixture _qbt;
    private readonly string _torrents;
    private readonly string _category = "policy-" + Guid.NewGuid().ToString("N")[..6];

    public RehomePolicyTests(QBittorrentFixture qbt)
    {
        _qbt = qbt;
        _torrents = Tree.Path("torrents");
        Directory.CreateDirectory(_torrents);
    }

    /// <summary>A payload folder of files of these sizes (content fixed by seed).</summary>
    private static string Folder(string root, string name, int seed, params int[] sizes)
    {
        string dir = Path.Combine(root, name);
        Directory.CreateDirectory(dir);
        for (int i = 0; i < sizes.Length; i++)
        {
            var b = new byte[sizes[i]];
            new Random(seed * 100 + i).NextBytes(b);
            File.WriteAllBytes(Path.Combine(dir, $"e{i}.mkv"), b);
        }
        return dir;
    }

    private string Add(string content, int pieces = 15)
    {
        var t = QBittorrentFixture.MakeTorrent(content, _torrents, pieces);
        _qbt.Add(t.Torrent, t.Hash, Path.GetDirectoryName(content)!, category: _category);
        return t.Hash;
    }

    /// <summary>Gives torrents (by hash) the life a seedbox would have: completed and last active so many days ago, seeded so many days, a ratio.</summary>
    private void Age(params (string Hash, double CompletedDaysAgo, double SeededDays, double Ratio, double ActiveDaysAgo)[] rows)
    {
        var now = DateTime.UtcNow;
        string T(double days) => (now - TimeSpan.FromDays(days)).ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'", CultureInfo.InvariantCulture);
        var json = JsonSerializer.Serialize(rows.Select(r => new object[] { T(r.CompletedDaysAgo), (long)TimeSpan.FromDays(r.SeededDays).TotalSeconds, r.Ratio, T(r.ActiveDaysAgo), r.Hash }));
        TempTree.Run("/usr/bin/python3", "-c", """
import sqlite3, sys, json
c = sqlite3.connect(sys.argv[1])
rows = json.loads(sys.argv[2])
c.executemany("UPDATE torrent_instances SET completion_on = ?, seeding_time = ?, ratio = ?, last_activity = ? WHERE torrent_hash = ?", rows)
assert c.total_changes == len(rows), c.total_changes
c.commit()
""", Db, json);
    }

    private List<string> Names(string script, params object?[] args) =>
        Ps.Run(script, args).Succeeded().Output.Select(o => (string)o.Properties["Name"].Value).ToList();

    private string Demote(string policy) =>
        $"New-RehomePlan -Demote {policy} -SeedingRoot $args[0] -StashDevice stash -PoolDevice pool -TargetPath $args[1]";

    [RequiresFact(Needs.QBittorrent | Needs.Tmpfs)]
    public void EachSelectorFiltersOrdersAndLimitsAsDocumented()
    {
        string stash = Tree.MountTmpfs("stash", "size=8m"), pool = Tree.MountTmpfs("pool", "size=8m");
        string seeding = Path.Combine(stash, "seeding"), target = Path.Combine(pool, "torrents");
        Directory.CreateDirectory(target);
        string a = Folder(seeding, "A", 1, 30_000, 30_000);      // 60 000 bytes
        string b = Folder(seeding, "B", 2, 20_000);              // 20 000
        string c = Folder(seeding, "C", 3, 40_000);              // 40 000
        string d = Folder(seeding, "D", 4, 15_000, 15_000);      // 30 000
        string e = Folder(seeding, "E", 5, 10_000);              // 10 000, two sibling torrents
        Ps.Run("Set-HashallDevice $args[0] stash; Set-HashallDevice $args[1] pool; Invoke-HashallScan $args[0], $args[1]", stash, pool).Succeeded();
        string ha = Add(a), hb = Add(b), hc = Add(c), hd = Add(d), he1 = Add(e, 15), he2 = Add(e, 16);
        Ps.Run("Sync-HashallPayload -Uri $args[0] -Category $args[1]", _qbt.Url, _category).Succeeded();

        // What a real sync recorded: qBittorrent's own completion and activity times, seeding time, ratio.
        var synced = Ps.Run("Get-HashallTorrent | Where-Object TorrentHash -eq $args[0]", ha).Succeeded().Output.Single();
        var completed = (DateTime)synced.Properties["CompletedOn"].Value;
        Assert.InRange(completed, DateTime.UtcNow.AddMinutes(-10), DateTime.UtcNow.AddMinutes(1));
        Assert.NotNull(synced.Properties["LastActivity"].Value);
        Assert.InRange((TimeSpan)synced.Properties["SeedingTime"].Value, TimeSpan.Zero, TimeSpan.FromMinutes(10));
        Assert.Equal(0.0, (double)synced.Properties["Ratio"].Value);

        Age((ha, 60, 50, 2.0, 1), (hb, 10, 10, 3.0, 1), (hc, 90, 2, 5.0, 1), (hd, 40, 40, 0.5, 1),
            (he1, 100, 20, 1.5, 1), (he2, 5, 20, 1.5, 1)); // E: an old torrent and a sibling that completed 5 days ago

        // Each selector alone.
        Assert.Equal(["A", "C", "D"], Names(Demote("-MinimumAge 30"), seeding, target).Order());
        Assert.Equal(["A", "B", "D", "E"], Names(Demote("-MinimumSeedingTime 7d"), seeding, target).Order());
        Assert.Equal(["A", "B", "C", "E"], Names(Demote("-Ratio 1"), seeding, target).Order());
        Assert.Equal(["A", "B", "C", "D"], Names(Demote("-MinimumAge '144h'"), seeding, target).Order()); // 6 days: E's young sibling still keeps it

        // All together: only A, and its plan says why, in the view too.
        var run = Ps.Run(Demote("-MinimumAge 30 -MinimumSeedingTime 7d -Ratio 1 -Verbose 4>&1"), seeding, target).Succeeded();
        var plans = run.Output.Where(o => o.BaseObject is not VerboseRecord).ToList();
        var plan = Assert.Single(plans);
        Assert.Equal("A", plan.Properties["Name"].Value);
        Assert.Equal("Move", plan.Properties["Decision"].Value.ToString());
        string reason = (string)plan.Properties["Reason"].Value;
        Assert.StartsWith("policy: completed 60d ago ≥ 30d, seeded 50d ≥ 7d, ratio 2.00 ≥ 1.00", reason);
        Assert.Equal(60_000L, Long(plan, "FreedBytes"));
        var notes = run.Output.Where(o => o.BaseObject is VerboseRecord).Select(o => ((VerboseRecord)o.BaseObject).Message).ToList();
        Assert.Contains("'B' passed over: 'B' completed 10d ago, less than 30d", notes);
        Assert.Contains("'C' passed over: 'C' seeded 2d, less than 7d", notes);
        Assert.Contains("'D' passed over: 'D' has ratio 0.50, less than 1.00", notes);
        Assert.Contains(notes, n => n.StartsWith("'E' passed over: 'E' completed 5d") || n.StartsWith("'E' passed over: 'E' completed 4d")); // the young sibling keeps it
        string table = Ps.Run("$p = " + Demote("-MinimumAge 30 -MinimumSeedingTime 7d -Ratio 1") + "; $p | Out-Default", seeding, target).Succeeded().HostText;
        Assert.Contains("Reason", table);
        Assert.Contains("policy: completed 60d ago", table);

        // -Order and -Limit: oldest (by the most recently completed torrent) C 90d, A 60d, D 40d, B 10d, E 5d; largest A, C, D, B, E.
        Assert.Equal(["C", "A"], Names(Demote("-Order Oldest -Limit 2"), seeding, target));
        Assert.Equal(["A", "C", "D"], Names(Demote("-Order Largest -Limit 3"), seeding, target));
        Assert.Equal(["C", "A", "D", "B", "E"], Names(Demote("-MinimumAge 0"), seeding, target)); // Oldest is the default
        // -MaximumBytes: C (40 000), A would make 100 000 > 75 000, D makes 70 000, B would make 90 000, E makes 80 000 > 75 000.
        Assert.Equal(["C", "D"], Names(Demote("-MaximumBytes 75000"), seeding, target));
        // A policy inside a named selection: only the named ones are candidates.
        var named = Ps.Run(Demote("-TorrentHash $args[2], $args[3] -MinimumAge 30"), seeding, target, hb, hc).Succeeded().Output.Single();
        Assert.Equal("C", named.Properties["Name"].Value);
        Assert.StartsWith($"selected by -TorrentHash {hc}; policy: completed 90d ago ≥ 30d", (string)named.Properties["Reason"].Value);
        // Without a policy the reason is the parameter that named it.
        var byCategory = Ps.Run("New-RehomePlan -Demote -Category $args[2] -SeedingRoot $args[0] -StashDevice stash -PoolDevice pool -TargetPath $args[1]", seeding, target, _category)
            .Succeeded().Output;
        Assert.Equal(5, byCategory.Count);
        Assert.All(byCategory, p => Assert.Equal("selected by -Category " + _category, p.Properties["Reason"].Value));

        // -WhatIf: the plans are still shown, the JSON is not written.
        string outFile = Tree.Path("policy.json");
        Assert.Equal(["C", "A"], Names(Demote("-Limit 2 -OutFile $args[2] -WhatIf"), seeding, target, outFile));
        Assert.False(File.Exists(outFile));
        Assert.Equal(["C", "A"], Names(Demote("-Limit 2 -OutFile $args[2]"), seeding, target, outFile));
        using (var json = JsonDocument.Parse(File.ReadAllText(outFile)))
            Assert.Equal("policy: completed 90d ago, oldest first", json.RootElement[0].GetProperty("Reason").GetString());

        // Clear errors for policies that do not fit the direction, and for a bad target.
        Assert.Equal("RehomePolicyDirection,Hashall.PowerShell.Rehome.NewRehomePlanCommand",
            Ps.Run("New-RehomePlan -Promote -MinimumAge 30 -SeedingRoot $args[0] -StashDevice stash -PoolDevice pool", seeding).TerminatingErrorId);
        Assert.Equal("RehomePolicyDirection,Hashall.PowerShell.Rehome.NewRehomePlanCommand",
            Ps.Run(Demote("-ActiveWithin 2d"), seeding, target).TerminatingErrorId);
        Assert.Equal("RehomeFreeSpaceTargetInvalid,Hashall.PowerShell.Rehome.NewRehomePlanCommand",
            Ps.Run(Demote("-FreeSpaceTarget lots"), seeding, target).TerminatingErrorId);
        Assert.Equal("RehomeFreeSpaceTargetInvalid,Hashall.PowerShell.Rehome.NewRehomePlanCommand",
            Ps.Run(Demote("-FreeSpaceTarget 120%"), seeding, target).TerminatingErrorId);
        // Nothing moved.
        Assert.True(Directory.Exists(a) && Directory.Exists(c));
        Assert.Empty(Directory.GetFileSystemEntries(target));
    }

    [RequiresFact(Needs.QBittorrent | Needs.Tmpfs)]
    public void AFreeSpaceTargetChoosesExactlyEnoughCountingSiblingsOnceAndLinkedBytesNot()
    {
        string stash = Tree.MountTmpfs("stash", "size=8m"), pool = Tree.MountTmpfs("pool", "size=8m");
        string seeding = Path.Combine(stash, "seeding"), target = Path.Combine(pool, "torrents"), library = Path.Combine(stash, "library");
        Directory.CreateDirectory(target);
        Directory.CreateDirectory(library);
        string f3 = Folder(seeding, "F3", 3, 30_000);                 // a library link: blocked, frees nothing
        TempTree.Run("ln", Path.Combine(f3, "e0.mkv"), Path.Combine(library, "F3.mkv"));
        string f1 = Folder(seeding, "F1", 1, 30_000);                 // two sibling torrents: frees 30 000 once
        string f2 = Folder(seeding, "F2", 2, 15_000, 15_000);         // e1 is also a file of G (another payload): frees 15 000
        string g = Path.Combine(seeding, "G");
        Directory.CreateDirectory(g);
        TempTree.Run("ln", Path.Combine(f2, "e1.mkv"), Path.Combine(g, "shared.mkv"));
        File.WriteAllBytes(Path.Combine(g, "own.mkv"), new byte[5_000]);
        string f4 = Folder(seeding, "F4", 4, 30_000);
        string f5 = Folder(seeding, "F5", 5, 30_000);
        Ps.Run("Set-HashallDevice $args[0] stash; Set-HashallDevice $args[1] pool; Invoke-HashallScan $args[0], $args[1]", stash, pool).Succeeded();
        string h3 = Add(f3), h1 = Add(f1, 15), h1b = Add(f1, 16), h2 = Add(f2), hg = Add(g), h4 = Add(f4), h5 = Add(f5);
        Ps.Run("Sync-HashallPayload -Uri $args[0] -Category $args[1]", _qbt.Url, _category).Succeeded();
        Age((h3, 100, 100, 1, 1), (h1, 90, 90, 1, 1), (h1b, 90, 90, 1, 1), (h2, 80, 80, 1, 1), (h4, 70, 70, 1, 1), (h5, 60, 60, 1, 1), (hg, 5, 5, 1, 1));

        // The target is the free space now plus 45 001 bytes: F1 (30 000, its sibling not counted again),
        // F2 (15 000: its other file stays as G's) leave 1 byte wanted, so F4 is the last one needed.
        // Counting F1's sibling, F2's linked file or F3 would stop one payload early; F5 is never needed.
        long free = new DriveInfo(stash).AvailableFreeSpace;
        var run = Ps.Run(Demote("-FreeSpaceTarget $args[2] -MinimumAge 30 -Verbose 4>&1"), seeding, target, (free + 45_001).ToString(CultureInfo.InvariantCulture)).Succeeded();
        Assert.Equal(free, new DriveInfo(stash).AvailableFreeSpace); // nothing written on the stash meanwhile
        var plans = run.Output.Where(o => o.BaseObject is not VerboseRecord).ToList();
        Assert.Equal(["F3", "F1", "F2", "F4"], plans.Select(p => (string)p.Properties["Name"].Value));
        Assert.Equal("Block", plans[0].Properties["Decision"].Value.ToString()); // says why it stays, counts nothing
        Assert.Equal(0L, Long(plans[0], "FreedBytes"));
        Assert.Equal([30_000L, 15_000L, 30_000L], plans.Skip(1).Select(p => Long(p, "FreedBytes")));
        Assert.Equal(2, ((IEnumerable<object>)plans[1].Properties["Torrents"].Value).Count()); // both siblings relocated
        Assert.Equal($"policy: completed 90d ago ≥ 30d (least of 2 torrents); frees 29 KiB, 1st toward {RehomeSize(free + 45_001)} free on the stash (29 KiB of 44 KiB wanted)",
            (string)plans[1].Properties["Reason"].Value);
        Assert.Contains("3rd toward", (string)plans[3].Properties["Reason"].Value);

        // One byte less wanted: F2 is the last one needed.
        run = Ps.Run(Demote("-FreeSpaceTarget $args[2] -MinimumAge 30"), seeding, target, (free + 45_000).ToString(CultureInfo.InvariantCulture)).Succeeded();
        Assert.Equal(["F3", "F1", "F2"], run.Output.Select(p => (string)p.Properties["Name"].Value));
        // Already met: nothing chosen.
        Assert.Empty(Ps.Run(Demote("-FreeSpaceTarget 0%"), seeding, target).Succeeded().Output);
        // A payload whose every byte stays (G: one file is F2's, and its own file is linked into the library) is passed over.
        TempTree.Run("ln", Path.Combine(g, "own.mkv"), Path.Combine(seeding, "F5", "G own again.mkv")); // another payload's root holds a link
        Ps.Run("Invoke-HashallScan $args[0]", stash).Succeeded();
        var all = Ps.Run(Demote("-FreeSpaceTarget 100% -Verbose 4>&1"), seeding, target).Succeeded();
        var allNotes = all.Output.Where(o => o.BaseObject is VerboseRecord).Select(o => ((VerboseRecord)o.BaseObject).Message).ToList();
        Assert.Contains("'G' passed over: it frees nothing on the stash (every file has a hard link outside the payload)", allNotes);
        Assert.Contains(all.Warnings, w => w.StartsWith("the 100% free target is not met"));
    }

    [RequiresFact(Needs.QBittorrent | Needs.Tmpfs)]
    public void LinkStatusNotLinkedKeepsLibraryLinkedPayloadsOnTheStashAndStoredRootsAreTheDefault()
    {
        string stash = Tree.MountTmpfs("stash", "size=8m"), pool = Tree.MountTmpfs("pool", "size=8m");
        string seeding = Path.Combine(stash, "seeding"), target = Path.Combine(pool, "torrents"), library = Path.Combine(stash, "library");
        Directory.CreateDirectory(target);
        Directory.CreateDirectory(library);
        string linked = Folder(seeding, "Linked", 1, 20_000, 20_000);     // one file in the media library
        TempTree.Run("ln", Path.Combine(linked, "e1.mkv"), Path.Combine(library, "Linked e1.mkv"));
        string crossed = Folder(seeding, "Crossed", 2, 20_000);           // a cross-seed link folder inside the seeding root: not a library
        Directory.CreateDirectory(Path.Combine(seeding, "cross-seed", "Crossed"));
        TempTree.Run("ln", Path.Combine(crossed, "e0.mkv"), Path.Combine(seeding, "cross-seed", "Crossed", "e0.mkv"));
        string plain = Folder(seeding, "Plain", 3, 20_000);
        Ps.Run("Set-HashallDevice $args[0] stash; Set-HashallDevice $args[1] pool; Invoke-HashallScan $args[0], $args[1]", stash, pool).Succeeded();
        string hl = Add(linked), hc = Add(crossed), hp = Add(plain);
        Ps.Run("Sync-HashallPayload -Uri $args[0] -Category $args[1]", _qbt.Url, _category).Succeeded();
        Age((hl, 90, 90, 1, 1), (hc, 80, 80, 1, 1), (hp, 70, 70, 1, 1));

        // No roots stored and none given: a clear error, nothing planned.
        Assert.Equal("SeedingRootNotSet,Hashall.PowerShell.Rehome.NewRehomePlanCommand",
            Ps.Run("New-RehomePlan -Demote -MinimumAge 30 -StashDevice stash -PoolDevice pool -TargetPath $args[0]", target).TerminatingErrorId);
        Ps.Run("Add-HashallSeedingRoot $args[0]", seeding).Succeeded();
        string policy = "New-RehomePlan -Demote -MinimumAge 30 -StashDevice stash -PoolDevice pool -TargetPath $args[0] ";

        // Without -LinkStatus the library-linked payload is a candidate that says why it stays.
        var plans = Ps.Run(policy, target).Succeeded().Output;
        Assert.Equal(["Linked", "Crossed", "Plain"], plans.Select(p => (string)p.Properties["Name"].Value));
        Assert.Equal(["Block", "Move", "Move"], plans.Select(p => p.Properties["Decision"].Value.ToString()));
        Assert.Equal([seeding], ((IEnumerable<object>)plans[0].Properties["SeedingRoots"].Value).Select(o => o.ToString())); // the stored root
        // With -LinkStatus NotLinked it is not one at all; the cross-seed links inside the seeding root do not make Crossed linked.
        var run = Ps.Run(policy + "-LinkStatus NotLinked -Verbose 4>&1", target).Succeeded();
        var chosen = run.Output.Where(o => o.BaseObject is not VerboseRecord).ToList();
        Assert.Equal(["Crossed", "Plain"], chosen.Select(p => (string)p.Properties["Name"].Value));
        Assert.Equal("policy: completed 80d ago ≥ 30d, NotLinked", chosen[0].Properties["Reason"].Value);
        Assert.Contains("'Linked' passed over: 'Linked' is not NotLinked", run.Output.Where(o => o.BaseObject is VerboseRecord).Select(o => ((VerboseRecord)o.BaseObject).Message));
        // -LinkStatus alone is a policy too; -SeedingRoot still overrides the stored roots (the library as a root makes Linked not linked).
        Assert.Equal(["Linked", "Crossed", "Plain"], Ps.Run("New-RehomePlan -Demote -LinkStatus NotLinked -SeedingRoot $args[1], $args[2] -StashDevice stash -PoolDevice pool -TargetPath $args[0]",
            target, seeding, library).Succeeded().Output.Select(p => (string)p.Properties["Name"].Value));
    }

    private static string RehomeSize(long bytes)
    {
        string[] units = ["B", "KiB", "MiB", "GiB", "TiB"];
        double v = bytes;
        int u = 0;
        while (v >= 1024 && u < units.Length - 1) { v /= 1024; u++; }
        return u == 0 ? $"{bytes} B" : v.ToString(v < 10 ? "0.0" : "0", CultureInfo.InvariantCulture) + " " + units[u];
    }

    [RequiresFact(Needs.QBittorrent | Needs.Tmpfs)]
    public void PromotionTakesRecentlyActivePayloadsBackOntoTheirStashCopies()
    {
        string stash = Tree.MountTmpfs("stash", "size=8m"), pool = Tree.MountTmpfs("pool", "size=8m");
        string seeding = Path.Combine(stash, "seeding"), poolSeeding = Path.Combine(pool, "torrents");
        string x = Folder(poolSeeding, "X", 1, 20_000), y = Folder(poolSeeding, "Y", 2, 20_000), z = Folder(poolSeeding, "Z", 3, 25_000);
        Directory.CreateDirectory(seeding);
        foreach (var dir in new[] { x, y })
            TempTree.Run("cp", "-a", dir, seeding); // X and Y have a copy on the stash that a torrent seeds; Z has none
        Ps.Run("Set-HashallDevice $args[0] stash; Set-HashallDevice $args[1] pool; Invoke-HashallScan $args[0], $args[1]", stash, pool).Succeeded();
        string px = Add(x), py = Add(y), pz = Add(z), sx = Add(Path.Combine(seeding, "X"), 16), sy = Add(Path.Combine(seeding, "Y"), 16);
        Ps.Run("Sync-HashallPayload -Uri $args[0] -Category $args[1]", _qbt.Url, _category).Succeeded();
        Age((px, 50, 50, 1, 1.0 / 24), (py, 50, 50, 1, 10), (pz, 50, 50, 1, 0.5), (sx, 50, 50, 1, 30), (sy, 50, 50, 1, 30));

        string promote = "New-RehomePlan -Promote -SeedingRoot $args[0], $args[1] -StashDevice stash -PoolDevice pool ";
        var plans = Ps.Run(promote + "-ActiveWithin 2d", seeding, poolSeeding).Succeeded().Output;
        // X (active 1h ago) comes back onto its stash copy; Z (active 12h ago) has no copy there: blocked, nothing copied blindly; Y was idle 10 days.
        Assert.Equal(["X", "Z"], plans.Select(p => (string)p.Properties["Name"].Value));
        Assert.Equal("Reuse", plans[0].Properties["Decision"].Value.ToString());
        Assert.Equal(Path.Combine(seeding, "X"), plans[0].Properties["TargetPath"].Value);
        Assert.Equal("policy: active 1h ago ≤ 2d", plans[0].Properties["Reason"].Value);
        Assert.Equal("Block", plans[1].Properties["Decision"].Value.ToString());
        // -Order Largest: Z (25 000, blocked: counts toward no limit), then X and Y (20 000 each, by name).
        Assert.Equal(["Z", "X", "Y"], Ps.Run(promote + "-ActiveWithin 20d -Order Largest", seeding, poolSeeding).Succeeded().Output.Select(p => (string)p.Properties["Name"].Value));
        Assert.Equal(["Z", "X"], Ps.Run(promote + "-ActiveWithin 20d -Order Largest -Limit 1", seeding, poolSeeding).Succeeded().Output.Select(p => (string)p.Properties["Name"].Value));
        // Only payloads on the pool are candidates: the stash torrents (active 30 days ago) never are.
        Assert.Equal(["X", "Z", "Y"], Ps.Run(promote + "-ActiveWithin 40d", seeding, poolSeeding).Succeeded().Output.Select(p => (string)p.Properties["Name"].Value));
        Assert.Equal(["X"], Ps.Run(promote + "-ActiveWithin 40d -Limit 1", seeding, poolSeeding).Succeeded().Output.Select(p => (string)p.Properties["Name"].Value));
    }
}
