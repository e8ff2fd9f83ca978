using Hashall.Core;
using Hashall.Core.Catalog;
using Hashall.Core.Payloads;
using Hashall.Core.Rehome;

namespace Hashall.Core.Tests;

/// <summary>The rehome policy's parts that need no qBittorrent: the free-space target's forms, torrents synced before activity was recorded.</summary>
public sealed class RehomePolicyTests : IDisposable
{
    private readonly TempTree _tree = new();

    public void Dispose() => _tree.Dispose();

    [Theory]
    [InlineData("20%", 20.0, 0L)]
    [InlineData("0%", 0.0, 0L)]
    [InlineData("536870912000", null, 536_870_912_000L)] // what PowerShell makes of an unquoted 500GB
    [InlineData("500GB", null, 536_870_912_000L)]
    [InlineData("500 gib", null, 536_870_912_000L)]
    [InlineData("1.5TB", null, 1_649_267_441_664L)]
    [InlineData("64KB", null, 65_536L)]
    [InlineData("100B", null, 100L)]
    public void AFreeSpaceTargetIsAShareOrASize(string text, double? percent, long bytes)
    {
        var target = FreeSpaceTarget.Parse(text);
        Assert.Equal(percent, target.Percent);
        if (percent == null)
            Assert.Equal(bytes, target.For(1_000));
        else
            Assert.Equal((long)Math.Ceiling(1_000_003 * percent.Value / 100), target.For(1_000_003));
    }

    [Theory]
    [InlineData("lots")]
    [InlineData("-5%")]
    [InlineData("101%")]
    [InlineData("5 XB")]
    [InlineData("")]
    public void AnythingElseIsRefusedByName(string text)
    {
        var e = Assert.Throws<HashallException>(() => FreeSpaceTarget.Parse(text));
        Assert.Equal("RehomeFreeSpaceTargetInvalid", e.ErrorId);
        Assert.Contains($"'{text}'", e.Message);
    }

    [Fact]
    public void TorrentsSyncedBeforeVersion14HaveNoActivityAndAPolicySaysSyncAgain()
    {
        string path = _tree.Path("catalog.db");
        using (var old = CatalogDatabase.Open(path, false, Migrations.All.Where(m => m.Version <= 9).ToList()))
        {
            Assert.Equal(9, old.SchemaVersion);
            using var c = old.Command(@"INSERT INTO torrent_instances (instance, torrent_hash, name, save_path, content_path, state, first_seen, last_seen)
VALUES ('http://127.0.0.1:1/', 'aa', 'Old.S01', '/data', '/data/Old.S01', 'stalledUP', '2026-01-01T00:00:00.0000000Z', '2026-01-01T00:00:00.0000000Z');");
            c.ExecuteNonQuery();
        }
        using var db = CatalogDatabase.Open(path);
        Assert.Equal(14, db.SchemaVersion);
        var t = Assert.Single(new PayloadStore(db).Torrents(includeGone: false));
        Assert.Equal("Old.S01", t.Name);
        Assert.Null(t.CompletedOn);
        Assert.Null(t.SeedingTime);
        Assert.Null(t.Ratio);
        Assert.Null(t.LastActivity);
        foreach (var policy in new[] { new RehomePolicy { MinimumAge = TimeSpan.FromDays(1) }, new RehomePolicy { MinimumSeedingTime = TimeSpan.FromDays(1) }, new RehomePolicy { MinimumRatio = 1 } })
        {
            Assert.Null(policy.Meets([t], out string why));
            Assert.Contains("sync again", why);
        }
        Assert.Null(new RehomePolicy { ActiveWithin = TimeSpan.FromDays(1) }.Meets([t], out string not));
        Assert.Contains("sync again", not);
    }

    private static RehomeOptions Demotion(string stashMount) => new()
    {
        Direction = RehomeDirection.Demote,
        StashDevice = new Devices.HashallDevice { DeviceId = 1, Alias = "stash", MountPoint = stashMount },
        PoolDevice = new Devices.HashallDevice { DeviceId = 2, Alias = "pool", MountPoint = "/" },
    };

    [Fact]
    public void AFreeSpaceTargetOnAStashWhoseSpaceCannotBeReadIsRefusedByName()
    {
        using var db = CatalogDatabase.Open(_tree.Path("catalog.db"));
        string gone = _tree.Path("unmounted-stash"); // never made: the system cannot tell its free space
        var policy = new RehomePolicy { FreeSpaceTarget = FreeSpaceTarget.Parse("20%") };
        var e = Assert.Throws<HashallException>(() => new RehomePlanner(db).PlanByPolicy([], Demotion(gone), policy));
        Assert.Equal("RehomeFreeSpaceUnknown", e.ErrorId);
        Assert.Contains(gone, e.Message);
    }

    [Fact]
    public void TheSelectionSaysWhenTheFreeSpaceTargetIsNotMet()
    {
        using var db = CatalogDatabase.Open(_tree.Path("catalog.db"));
        string stash = _tree.Path("stash");
        Directory.CreateDirectory(stash);
        var planner = new RehomePlanner(db);
        var all = planner.PlanByPolicy([], Demotion(stash), new RehomePolicy { FreeSpaceTarget = FreeSpaceTarget.Parse("100%") });
        Assert.StartsWith("the 100% free target is not met: the 0 payload(s) chosen free 0 B of the ", all.TargetNotMet);
        Assert.Equal(all.TargetNotMet, all.Notes[^1]);
        var none = planner.PlanByPolicy([], Demotion(stash), new RehomePolicy { FreeSpaceTarget = FreeSpaceTarget.Parse("0%") });
        Assert.Null(none.TargetNotMet);
        Assert.Contains(none.Notes, n => n.EndsWith("nothing to demote", StringComparison.Ordinal));
    }
}
