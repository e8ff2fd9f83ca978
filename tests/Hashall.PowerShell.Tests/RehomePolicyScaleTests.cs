using System.Diagnostics;
using System.Globalization;
using System.Management.Automation;
using System.Text.Json;
using Hashall.Tests.Shared;
using Xunit.Abstractions;

namespace Hashall.PowerShell.Tests;

/// <summary>
/// A tiering policy over hundreds of payloads from a real qBittorrent (its own instance: the other
/// tests' syncs do not read these): a free-space target met by exactly the right number of the oldest
/// not-linked payloads, with library-linked ones passed over on the way.
/// </summary>
public sealed class RehomePolicyScaleTests : CatalogSessionTest, IClassFixture<QBittorrentFixture>
{
    private const int Payloads = 300;
    private readonly QBittorrentFixture _qbt;
    private readonly ITestOutputHelper _out;

    public RehomePolicyScaleTests(QBittorrentFixture qbt, ITestOutputHelper output)
    {
        _qbt = qbt;
        _out = output;
    }

    [RequiresFact(Needs.QBittorrent | Needs.Tmpfs)]
    public void HundredsOfPayloadsMeetAFreeSpaceTargetExactly()
    {
        string stash = Tree.MountTmpfs("stash", "size=16m"), pool = Tree.MountTmpfs("pool", "size=16m");
        string seeding = Path.Combine(stash, "seeding"), library = Path.Combine(stash, "library"), target = Path.Combine(pool, "torrents"), torrents = Tree.Path("torrents");
        foreach (var dir in new[] { seeding, library, target, torrents })
            Directory.CreateDirectory(dir);
        var sizes = new long[Payloads];
        for (int i = 0; i < Payloads; i++)
        {
            string dir = Path.Combine(seeding, $"P{i:000}");
            Directory.CreateDirectory(dir);
            var b = new byte[4_096 + 7 * i];
            new Random(i).NextBytes(b);
            File.WriteAllBytes(Path.Combine(dir, "e0.mkv"), b);
            sizes[i] = b.Length;
            if (i % 25 == 0) // every 25th is in the media library
                TempTree.Run("ln", Path.Combine(dir, "e0.mkv"), Path.Combine(library, $"P{i:000}.mkv"));
        }
        Ps.Run("Set-HashallDevice $args[0] stash; Set-HashallDevice $args[1] pool; Invoke-HashallScan $args[0], $args[1]; Add-HashallSeedingRoot $args[2]", stash, pool, seeding).Succeeded();
        var clock = Stopwatch.StartNew();
        var made = Enumerable.Range(0, Payloads).Select(i => QBittorrentFixture.MakeTorrent(Path.Combine(seeding, $"P{i:000}"), torrents)).ToList();
        var hashes = made.Select(t => t.Hash).ToArray();
        _qbt.AddMany(made.Select(t => t.Torrent).ToList(), hashes, seeding, category: "scale", skipChecking: true);
        _out.WriteLine($"{Payloads} torrents added in {clock.Elapsed.TotalSeconds:0.0} s");
        clock.Restart();
        Ps.Run("Sync-HashallPayload -Uri $args[0]", _qbt.Url).Succeeded();
        _out.WriteLine($"synced in {clock.Elapsed.TotalSeconds:0.0} s");
        // P000 completed 300 days ago, P299 one day ago.
        var now = DateTime.UtcNow;
        var rows = Enumerable.Range(0, Payloads).Select(i => new object[] {
            (now - TimeSpan.FromDays(Payloads - i)).ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'", CultureInfo.InvariantCulture), hashes[i] }).ToList();
        TempTree.Run("/usr/bin/python3", "-c", """
import sqlite3, sys, json
c = sqlite3.connect(sys.argv[1])
rows = json.loads(sys.argv[2])
c.executemany("UPDATE torrent_instances SET completion_on = ?, seeding_time = 86400, ratio = 1, last_activity = completion_on WHERE torrent_hash = ?", rows)
assert c.total_changes == len(rows), c.total_changes
c.commit()
""", Db, JsonSerializer.Serialize(rows));

        // The oldest 200 not-linked payloads, and one byte less than they free: exactly those 200.
        var eligible = Enumerable.Range(0, Payloads).Where(i => i % 25 != 0).ToList();
        var expected = eligible.Take(200).ToList();
        long need = expected.Sum(i => sizes[i]) - 1;
        long free = new DriveInfo(stash).AvailableFreeSpace;
        clock.Restart();
        var run = Ps.Run("New-RehomePlan -Demote -LinkStatus NotLinked -FreeSpaceTarget $args[1] -StashDevice stash -PoolDevice pool -TargetPath $args[0]",
            target, (free + need).ToString(CultureInfo.InvariantCulture)).Succeeded();
        _out.WriteLine($"planned {run.Output.Count} of {Payloads} payloads in {clock.Elapsed.TotalSeconds:0.00} s");
        Assert.Equal(expected.Select(i => $"P{i:000}"), run.Output.Select(p => (string)p.Properties["Name"].Value));
        Assert.All(run.Output, p => Assert.Equal("Move", p.Properties["Decision"].Value.ToString()));
        Assert.Equal(expected.Select(i => sizes[i]), run.Output.Select(p => Long(p, "FreedBytes")));
        Assert.Contains("200th toward", (string)run.Output[199].Properties["Reason"].Value);
        Assert.Empty(run.Warnings);

        // The same with every payload a candidate: the library-linked ones say why they stay, and count nothing.
        var withBlocked = Ps.Run("New-RehomePlan -Demote -MinimumAge 1 -FreeSpaceTarget $args[1] -StashDevice stash -PoolDevice pool -TargetPath $args[0]",
            target, (free + need).ToString(CultureInfo.InvariantCulture)).Succeeded().Output;
        Assert.Equal(Enumerable.Range(0, expected[^1] + 1).Select(i => $"P{i:000}"), withBlocked.Select(p => (string)p.Properties["Name"].Value));
        Assert.Equal(Enumerable.Range(0, expected[^1] + 1).Count(i => i % 25 == 0), withBlocked.Count(p => p.Properties["Decision"].Value.ToString() == "Block"));

        // -Limit and -MaximumBytes across the whole set.
        Assert.Equal(150, Ps.Run("New-RehomePlan -Demote -LinkStatus NotLinked -Limit 150 -StashDevice stash -PoolDevice pool -TargetPath $args[0]", target).Succeeded().Output.Count);
        long budget = eligible.Take(120).Sum(i => sizes[i]);
        var budgeted = Ps.Run("New-RehomePlan -Demote -LinkStatus NotLinked -MaximumBytes $args[1] -StashDevice stash -PoolDevice pool -TargetPath $args[0]", target, budget).Succeeded().Output;
        Assert.Equal(eligible.Take(120).Select(i => $"P{i:000}"), budgeted.Select(p => (string)p.Properties["Name"].Value)); // sizes grow: nothing later fits
    }
}
