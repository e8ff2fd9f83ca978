using System.Management.Automation;
using System.Text.Json;
using Hashall.Tests.Shared;

namespace Hashall.PowerShell.Tests;

/// <summary>New-RehomePlan on a real stash (the test tree's filesystem) and pool (a tmpfs), with torrents from a real qBittorrent.</summary>
public sealed class RehomePlanTests : CatalogSessionTest, IClassFixture<QBittorrentFixture>
{
    private readonly QBittorrentFixture _qbt;
    private readonly string _torrents;

    public RehomePlanTests(QBittorrentFixture qbt)
    {
        _qbt = qbt;
        _torrents = Tree.Path("torrents");
        Directory.CreateDirectory(_torrents);
    }

    private string Folder(string root, string name, int seed)
    {
        string dir = Path.Combine(root, name);
        Directory.CreateDirectory(dir);
        for (int i = 0; i < 2; i++)
        {
            var b = new byte[20_000 + i];
            new Random(seed + i).NextBytes(b);
            File.WriteAllBytes(Path.Combine(dir, $"e{i}.mkv"), b);
        }
        return dir;
    }

    private string Add(string content, string savePath, string category, int pieces = 15)
    {
        var t = QBittorrentFixture.MakeTorrent(content, _torrents, pieces);
        _qbt.Add(t.Torrent, t.Hash, savePath, category: category);
        return t.Hash;
    }

    private static List<PSObject> Plans(RunResult r) => r.Succeeded().Output.ToList();

    [RequiresFact(Needs.QBittorrent | Needs.Tmpfs)]
    public void DecisionsBlockReuseAndMoveCoverEverySibling()
    {
        string pool = Tree.MountTmpfs("pool", "size=32m");
        string seeding = Path.Combine(Data, "seeding");
        string library = Path.Combine(Data, "library");
        Directory.CreateDirectory(library);

        string blocked = Folder(seeding, "Blocked.S01", 1);
        TempTree.Run("ln", Path.Combine(blocked, "e0.mkv"), Path.Combine(library, "Blocked e0.mkv")); // a media library's link
        string move = Folder(seeding, "Move.S01", 10);
        string reuse = Folder(seeding, "Reuse.S01", 20);
        string poolCopy = Path.Combine(pool, "torrents", "tv");
        Directory.CreateDirectory(poolCopy);
        TempTree.Run("cp", "-a", reuse, poolCopy);
        string incomplete = Folder(seeding, "Incomplete.S01", 30);

        Ps.Run("Set-HashallDevice $args[0] stash; Set-HashallDevice $args[1] pool", Data, pool).Succeeded();
        Ps.Run("Invoke-HashallScan $args[0], $args[1], $args[2], $args[3], $args[4]", blocked, library, move, reuse, pool).Succeeded();
        Ps.Run("Invoke-HashallScan $args[0]", Path.Combine(incomplete, "e0.mkv")).Succeeded(); // e1.mkv never scanned

        string blockedHash = Add(blocked, seeding, "rehome");
        string move1 = Add(move, seeding, "rehome", 15), move2 = Add(move, seeding, "rehome", 16); // siblings
        string reuseHash = Add(reuse, seeding, "rehome");
        string reusePool = Add(Path.Combine(poolCopy, "Reuse.S01"), poolCopy, "pool-side", 16); // another piece size: another torrent
        string incompleteHash = Add(incomplete, seeding, "rehome");
        Ps.Run("Sync-HashallPayload -Uri $args[0]", _qbt.Url).Succeeded();

        string outFile = Tree.Path("plans.json");
        var plans = Plans(Ps.Run(@"New-RehomePlan -Category rehome -Demote -SeedingRoot $args[0] -StashDevice stash -PoolDevice pool `
            -TargetPath $args[1] -OutFile $args[2]", seeding, Path.Combine(pool, "torrents"), outFile));
        Assert.Equal(4, plans.Count);
        PSObject Plan(string name) => plans.Single(p => (string)p.Properties["Name"].Value == name);

        var b = Plan("Blocked.S01");
        Assert.Equal("Block", b.Properties["Decision"].Value.ToString());
        Assert.Equal([Path.Combine(library, "Blocked e0.mkv")], ((IEnumerable<object>)b.Properties["ExternalLinks"].Value).Select(o => o.ToString()));
        Assert.Contains(((IEnumerable<object>)b.Properties["Reasons"].Value).Select(o => o.ToString()), r => r!.Contains("external consumer"));

        var m = Plan("Move.S01");
        Assert.Equal("Move", m.Properties["Decision"].Value.ToString());
        Assert.Equal(Path.Combine(pool, "torrents", "rehome", "Move.S01"), m.Properties["TargetPath"].Value);
        var moveTorrents = ((IEnumerable<object>)m.Properties["Torrents"].Value).Select(o => PSObject.AsPSObject(o)).ToList();
        Assert.Equal(new[] { move1, move2 }.Order(), moveTorrents.Select(t => (string)t.Properties["TorrentHash"].Value).Order());
        Assert.All(moveTorrents, t => Assert.Equal("relocate", t.Properties["Role"].Value));

        var r = Plan("Reuse.S01");
        Assert.Equal("Reuse", r.Properties["Decision"].Value.ToString());
        Assert.Equal(Path.Combine(poolCopy, "Reuse.S01"), r.Properties["TargetPath"].Value);
        var reuseRoles = ((IEnumerable<object>)r.Properties["Torrents"].Value).Select(o => PSObject.AsPSObject(o))
            .ToDictionary(t => (string)t.Properties["TorrentHash"].Value, t => (string)t.Properties["Role"].Value);
        Assert.Equal("relocate", reuseRoles[reuseHash]);
        Assert.Equal("elsewhere", reuseRoles[reusePool]);

        var i = Plan("Incomplete.S01");
        Assert.Equal("Block", i.Properties["Decision"].Value.ToString());
        Assert.Contains(((IEnumerable<object>)i.Properties["Reasons"].Value).Select(o => o.ToString()), x => x!.Contains("incomplete"));

        // The JSON for review says the same.
        using var json = JsonDocument.Parse(File.ReadAllText(outFile));
        var decisions = json.RootElement.EnumerateArray().ToDictionary(p => p.GetProperty("Name").GetString()!, p => p.GetProperty("Decision").GetString());
        Assert.Equal("Move", decisions["Move.S01"]);
        Assert.Equal("Block", decisions["Blocked.S01"]);
        Assert.Equal(2, json.RootElement[0].GetProperty("SchemaVersion").GetInt32());
        // ... and reads back into plan objects (what Invoke-RehomePlan -Path will validate).
        var loaded = Ps.Run("[Hashall.Core.Rehome.RehomePlanFile]::Deserialize([IO.File]::ReadAllText($args[0])) | ForEach-Object { '{0}={1}' -f $_.Name, $_.Decision }", outFile)
            .Succeeded().Output.Select(o => (string)o.BaseObject).Order();
        Assert.Equal(["Blocked.S01=Block", "Incomplete.S01=Block", "Move.S01=Move", "Reuse.S01=Reuse"], loaded);

        // Promotion is reuse-only: the pool copy of Reuse.S01 can come back onto the stash copy; Move.S01 has none there.
        var promote = Plans(Ps.Run("New-RehomePlan -TorrentHash $args[0] -Promote -SeedingRoot $args[1], $args[2] -StashDevice stash -PoolDevice pool",
            reusePool, seeding, pool));
        Assert.Equal("Reuse", Assert.Single(promote).Properties["Decision"].Value.ToString());
        Assert.Equal(reuse, promote[0].Properties["TargetPath"].Value);

        // A library link made after the last scan is seen on disk: the move is blocked.
        TempTree.Run("ln", Path.Combine(move, "e0.mkv"), Path.Combine(library, "imported after the scan.mkv"));
        var again = Plans(Ps.Run("New-RehomePlan -TorrentHash $args[0] -Demote -SeedingRoot $args[1] -StashDevice stash -PoolDevice pool -TargetPath $args[2]",
            move1, seeding, Path.Combine(pool, "torrents")));
        Assert.Equal("Block", Assert.Single(again).Properties["Decision"].Value.ToString());
        Assert.Contains(((IEnumerable<object>)again[0].Properties["Reasons"].Value).Select(o => o.ToString()), x => x!.Contains("the catalog does not know"));

        // A target directory that is not on the pool is refused.
        Assert.Equal("RehomeTargetNotOnPool,Hashall.PowerShell.Rehome.NewRehomePlanCommand",
            Ps.Run("New-RehomePlan -TorrentHash $args[0] -Demote -SeedingRoot $args[1] -StashDevice stash -PoolDevice pool -TargetPath $args[2]",
                move1, seeding, library).TerminatingErrorId);

        // Nothing on disk or in the catalog moved.
        Assert.True(Directory.Exists(move) && Directory.Exists(reuse) && Directory.Exists(blocked));
        Assert.False(Directory.Exists(Path.Combine(pool, "torrents", "rehome")));
    }

    [RequiresFact(Needs.QBittorrent | Needs.Tmpfs)]
    public void APayloadOutsideEverySeedingRootIsSaidOnceNotAsLinksOfItself()
    {
        string pool = Tree.MountTmpfs("pool", "size=8m");
        string seeding = Path.Combine(Data, "seeding");
        Directory.CreateDirectory(seeding);
        string elsewhere = Path.Combine(Data, "elsewhere");
        string payload = Folder(elsewhere, "Outside.S01", 50);
        Directory.CreateDirectory(Path.Combine(payload, "Sub"));
        TempTree.Run("ln", Path.Combine(payload, "e0.mkv"), Path.Combine(payload, "Sub", "e0 again.mkv")); // a link inside the payload
        Ps.Run("Set-HashallDevice $args[0] stash; Set-HashallDevice $args[1] pool", Data, pool).Succeeded();
        Ps.Run("Invoke-HashallScan $args[0]", payload).Succeeded();
        Ps.Run("Invoke-HashallScan $args[0]", pool).Succeeded();
        string hash = Add(payload, elsewhere, "outside-" + Guid.NewGuid().ToString("N")[..6]);
        Ps.Run("Sync-HashallPayload -Uri $args[0]", _qbt.Url).Succeeded();

        var plan = Assert.Single(Plans(Ps.Run("New-RehomePlan -TorrentHash $args[0] -Demote -SeedingRoot $args[1] -StashDevice stash -PoolDevice pool -TargetPath $args[2]",
            hash, seeding, Path.Combine(pool, "torrents"))));
        Assert.Equal("Block", plan.Properties["Decision"].Value.ToString());
        var reasons = ((IEnumerable<object>)plan.Properties["Reasons"].Value).Select(o => o.ToString()!).ToList();
        Assert.Equal($"the payload '{payload}' is outside every seeding root ({seeding}): give the root that holds it with -SeedingRoot", Assert.Single(reasons));
        Assert.Empty((IEnumerable<object>)plan.Properties["ExternalLinks"].Value);

        // A real consumer outside the roots is still named, once, beside it.
        string library = Path.Combine(Data, "library");
        Directory.CreateDirectory(library);
        TempTree.Run("ln", Path.Combine(payload, "e1.mkv"), Path.Combine(library, "e1.mkv"));
        Ps.Run("Invoke-HashallScan $args[0]", payload).Succeeded();
        Ps.Run("Invoke-HashallScan $args[0]", library).Succeeded();
        var again = Assert.Single(Plans(Ps.Run("New-RehomePlan -TorrentHash $args[0] -Demote -SeedingRoot $args[1] -StashDevice stash -PoolDevice pool -TargetPath $args[2]",
            hash, seeding, Path.Combine(pool, "torrents"))));
        var reasons2 = ((IEnumerable<object>)again.Properties["Reasons"].Value).Select(o => o.ToString()!).ToList();
        Assert.Equal(2, reasons2.Count);
        Assert.Contains(reasons2, r => r.StartsWith("external consumer: '" + Path.Combine(library, "e1.mkv") + "'"));
        Assert.Equal([Path.Combine(library, "e1.mkv")], ((IEnumerable<object>)again.Properties["ExternalLinks"].Value).Select(o => o.ToString()));
    }

    [RequiresFact(Needs.QBittorrent)]
    public void BadRequestsAreClearErrors()
    {
        Ps.Run("Set-HashallDevice $args[0] stash", Data).Succeeded();
        Assert.Equal("RehomeDirectionMissing,Hashall.PowerShell.Rehome.NewRehomePlanCommand",
            Ps.Run("New-RehomePlan -Category x -SeedingRoot /tmp -StashDevice stash -PoolDevice stash").TerminatingErrorId);
        Assert.Equal("RehomeNothingSelected,Hashall.PowerShell.Rehome.NewRehomePlanCommand",
            Ps.Run("New-RehomePlan -Demote -SeedingRoot /tmp -StashDevice stash -PoolDevice stash").TerminatingErrorId);
        Assert.Equal("RehomeSameDevice,Hashall.PowerShell.Rehome.NewRehomePlanCommand",
            Ps.Run("New-RehomePlan -Demote -Category x -SeedingRoot /tmp -StashDevice stash -PoolDevice stash").TerminatingErrorId);
    }
}
