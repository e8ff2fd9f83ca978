using System.Management.Automation;
using Hashall.Tests.Shared;

namespace Hashall.PowerShell.Tests;

/// <summary>New-, Get- and Invoke-HashallLinkPlan as a user types them; crashes in a child process.</summary>
public sealed class LinkCmdletTests : CatalogSessionTest
{
    /// <summary><paramref name="groups"/> contents, each written <paramref name="copies"/> times in different directories.</summary>
    private void Duplicates(int groups, int copies, int size)
    {
        for (int g = 0; g < groups; g++)
        {
            var bytes = new byte[size];
            new Random(g).NextBytes(bytes);
            for (int c = 0; c < copies; c++)
            {
                string dir = Path.Combine(Data, $"copy{c}", $"g{g % 10}");
                Directory.CreateDirectory(dir);
                File.WriteAllBytes(Path.Combine(dir, $"file{g}.bin"), bytes);
            }
        }
    }

    /// <summary>Every path's content digest (to prove no path lost or changed its bytes).</summary>
    private Dictionary<string, string> Contents() =>
        Directory.GetFiles(Data, "*", SearchOption.AllDirectories)
            .ToDictionary(p => p, p => Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(p))));

    private Dictionary<string, ulong> Inodes() => TempTree.Inodes(Data);

    [Fact]
    public void PlanPipesIntoExecutionAndDeviceStatusFollows()
    {
        Duplicates(groups: 4, copies: 3, size: 20_000);
        Ps.Run("Invoke-HashallScan $args[0]", Data).Succeeded();
        Assert.Equal(4 * 2 * 20_000L, Long(Ps.Run("Get-HashallDevice -Device $args[0]", Data).Succeeded().Output.Single(), "ReclaimableBytes"));

        var result = Ps.Run("New-HashallLinkPlan -Device $args[0] -Name nightly | Invoke-HashallLinkPlan -Confirm:$false", Data).Succeeded().Output.Single();
        Assert.Equal("Hashall.Core.Linking.LinkResult", result.TypeNames[0]);
        Assert.Equal(8, Long(result, "Linked"));
        Assert.Equal(4 * 2 * 20_000L, Long(result, "BytesReclaimed"));
        Assert.True((bool)result.Properties["Completed"].Value);

        var plan = Ps.Run("Get-HashallLinkPlan -Status done").Succeeded().Output.Single();
        Assert.Equal("nightly", plan.Properties["Name"].Value);
        var device = Ps.Run("Get-HashallDevice -Device $args[0]", Data).Succeeded().Output.Single();
        Assert.Equal(0L, Long(device, "ReclaimableBytes"));
        Assert.Equal(1L, Long(device, "LinkPlansDone"));
        Assert.Equal(0L, Long(device, "LinkPlansPending"));
        Assert.All(Ps.Run("Get-HashallLinkPlan -Id 1 -Action").Succeeded().Output, a => Assert.Equal("linked", a.Properties["Status"].Value));
        // Each group's three paths are now one inode.
        Assert.Equal(4, Inodes().Values.Distinct().Count());
    }

    [Fact]
    public void WhatIfShowsEveryActionAndChangesNothing()
    {
        Duplicates(groups: 3, copies: 2, size: 10_000);
        Ps.Run("Invoke-HashallScan $args[0]", Data).Succeeded();
        var preview = Ps.Run("New-HashallLinkPlan -Device $args[0] -WhatIf", Data).Succeeded();
        Assert.Contains("What if: Performing the operation \"Store a link plan: 3 duplicate inode(s)", preview.HostText);
        Assert.Equal("preview", preview.Output.Single().Properties["Status"].Value);
        Assert.Empty(Ps.Run("Get-HashallLinkPlan").Succeeded().Output);

        Ps.Run("New-HashallLinkPlan -Device $args[0]", Data).Succeeded();
        var inodes = Inodes();
        var catalogBefore = Ps.Run("Get-HashallFile | ForEach-Object { '{0} {1} {2}' -f $_.FullName, $_.Inode, $_.LinkCount }").Succeeded().Output.Select(o => (string)o.BaseObject).ToList();
        var run = Ps.Run("Invoke-HashallLinkPlan -Id 1 -WhatIf").Succeeded();
        Assert.Equal(3, run.HostText.Split('\n').Count(l => l.StartsWith("What if: Performing the operation \"Replace with a hard link to")));
        Assert.Equal(inodes, Inodes());
        Assert.Equal(catalogBefore, Ps.Run("Get-HashallFile | ForEach-Object { '{0} {1} {2}' -f $_.FullName, $_.Inode, $_.LinkCount }").Succeeded().Output.Select(o => (string)o.BaseObject).ToList());
        var plan = Ps.Run("Get-HashallLinkPlan -Id 1").Succeeded().Output.Single();
        Assert.Equal("pending", plan.Properties["Status"].Value);
        Assert.Null(plan.Properties["ExecutedAt"].Value);
    }

    [Fact]
    public void ACrashBetweenLinkAndRenameLosesNothingAndARerunFinishes()
    {
        Duplicates(groups: 5, copies: 2, size: 30_000);
        Ps.Run("Invoke-HashallScan $args[0]; New-HashallLinkPlan -Device $args[0] | Out-Null", Data).Succeeded();
        var before = Contents();
        var (exit, output) = ChildShell.Run($"Import-Module '{ModuleFolder.Manifest}'; Invoke-HashallLinkPlan -Id 1 -Database '{Db}' -Confirm:$false",
            new Dictionary<string, string> { ["HASHALL_FAULT"] = "link-before-rename:3" });
        Assert.NotEqual(0, exit);
        Assert.Contains("HASHALL_FAULT", output);
        // Killed with a temporary link made and the duplicate not yet replaced: every path is intact.
        Assert.Single(Directory.GetFiles(Data, ".hashall-link-*", SearchOption.AllDirectories));
        Assert.Equal(before, Contents().Where(kv => !kv.Key.Contains(".hashall-link-")).ToDictionary());

        var rerun = Ps.Run("Invoke-HashallLinkPlan -Id 1 -Confirm:$false").Succeeded().Output.Single();
        // The two links made before the crash are found on disk (their records may have been lost with it).
        Assert.Equal(5, Long(rerun, "Linked"));
        Assert.Equal(0, Long(rerun, "Skipped") + Long(rerun, "Failed"));
        Assert.Empty(Directory.GetFiles(Data, ".hashall-link-*", SearchOption.AllDirectories));
        Assert.Equal(before, Contents());
        Assert.Equal("done", Ps.Run("(Get-HashallLinkPlan -Id 1).Status").Succeeded().Output.Single().BaseObject);
    }

    [Fact]
    public void KillingTheProcessMidExecutionLosesNoPathAndARerunFinishes()
    {
        Duplicates(groups: 3000, copies: 2, size: 4096);
        Ps.Run("Invoke-HashallScan $args[0]; New-HashallLinkPlan -Device $args[0] | Out-Null", Data).Succeeded();
        var before = Contents();
        // Killed (SIGKILL: no cleanup runs) at the 1,000th link, its outcome not yet in the batch: a third of the
        // way, whatever the speed of the machine.
        using (var child = ChildShell.StartHeld($"Import-Module '{ModuleFolder.Manifest}'; Invoke-HashallLinkPlan -Id 1 -Database '{Db}' -Confirm:$false", "link-after-rename", 1000))
        {
            child.Kill(entireProcessTree: true);
            child.WaitForExit();
        }
        Assert.Equal(before, Contents().Where(kv => !kv.Key.Contains(".hashall-link-")).ToDictionary());
        var rerun = Ps.Run("Invoke-HashallLinkPlan -Id 1 -Confirm:$false").Succeeded().Output.Single();
        // Linked again or found linked on disk: the 2,000 left and those whose records were in the batch the kill lost.
        Assert.InRange(Long(rerun, "Linked"), 2000, 3000);
        Assert.Equal(0, Long(rerun, "Failed") + Long(rerun, "Skipped"));
        Assert.Equal("done", Ps.Run("(Get-HashallLinkPlan -Id 1).Status").Succeeded().Output.Single().BaseObject);
        Assert.Equal(3000, Long(Ps.Run("Get-HashallLinkPlan -Id 1").Succeeded().Output.Single(), "Linked"));
        Assert.Equal(before, Contents());
        Assert.Empty(Directory.GetFiles(Data, ".hashall-link-*", SearchOption.AllDirectories));
    }

    [Fact]
    public void ACrashAfterARenameWhoseRecordWasNotCommittedIsFoundLinkedByTheRerun()
    {
        // 4,000 links in 400 directories: more than one batch of records is committed before the crash
        // (about 1,600 links per commit), and the links since the last commit exist only on disk.
        const int groups = 4000;
        for (int g = 0; g < groups; g++)
        {
            var bytes = new byte[1024 + g % 2048];
            new Random(g).NextBytes(bytes);
            for (int c = 0; c < 2; c++)
            {
                string dir = Path.Combine(Data, $"copy{c}", $"d{g % 200}");
                Directory.CreateDirectory(dir);
                File.WriteAllBytes(Path.Combine(dir, $"file{g}.bin"), bytes);
            }
        }
        Ps.Run("Invoke-HashallScan $args[0]; New-HashallLinkPlan -Device $args[0] | Out-Null", Data).Succeeded();
        var before = Contents();
        var (exit, output) = ChildShell.Run($"Import-Module '{ModuleFolder.Manifest}'; Invoke-HashallLinkPlan -Id 1 -Database '{Db}' -Confirm:$false",
            new Dictionary<string, string> { ["HASHALL_FAULT"] = "link-after-rename:3500" });
        Assert.NotEqual(0, exit);
        Assert.Contains("HASHALL_FAULT", output);
        // 3,500 paths are links on disk; the catalog holds the batches committed before the kill only.
        Assert.Equal(groups + 500, Inodes().Values.Distinct().Count());
        long recorded = Long(Ps.Run("Get-HashallLinkPlan -Id 1").Succeeded().Output.Single(), "Linked");
        Assert.InRange(recorded, 1, 3499);

        var rerun = Ps.Run("Invoke-HashallLinkPlan -Id 1 -Confirm:$false").Succeeded().Output.Single();
        Assert.Equal(groups - recorded, Long(rerun, "Linked"));
        Assert.Equal(0, Long(rerun, "Skipped") + Long(rerun, "Failed"));
        var plan = Ps.Run("Get-HashallLinkPlan -Id 1").Succeeded().Output.Single();
        Assert.Equal("done", plan.Properties["Status"].Value);
        Assert.Equal((long)groups, Long(plan, "Linked"));
        // Every path verified: same bytes as before, both names of each content one inode, no temporary
        // link left, and the catalog's inode of every path is the one on disk.
        Assert.Equal(before, Contents());
        var inodes = Inodes();
        for (int g = 0; g < groups; g++)
            Assert.Equal(inodes[Path.Combine(Data, "copy0", $"d{g % 200}", $"file{g}.bin")], inodes[Path.Combine(Data, "copy1", $"d{g % 200}", $"file{g}.bin")]);
        Assert.Empty(Directory.GetFiles(Data, ".hashall-link-*", SearchOption.AllDirectories));
        var catalog = Ps.Run("Get-HashallFile | ForEach-Object { '{0}|{1}' -f $_.FullName, $_.Inode }").Succeeded().Output
            .Select(o => ((string)o.BaseObject).Split('|')).ToDictionary(p => p[0], p => ulong.Parse(p[1]));
        Assert.Equal(inodes.OrderBy(kv => kv.Key), catalog.OrderBy(kv => kv.Key));
    }

    [Fact]
    public void ASecondConcurrentRunOfAPlanIsRefusedWithAClearError()
    {
        Duplicates(groups: 3000, copies: 2, size: 4096);
        Ps.Run("Invoke-HashallScan $args[0]; New-HashallLinkPlan -Device $args[0] | Out-Null", Data).Succeeded();
        // The first run is held (in another process) at its first link, holding the plan's lease and not yet the
        // catalog's write lock (later links keep a batch of records open): the second run is refused however
        // fast the machine is.
        using (var first = ChildShell.StartHeld($"Import-Module '{ModuleFolder.Manifest}'; Invoke-HashallLinkPlan -Id 1 -Database '{Db}' -Confirm:$false", "link-before-rename", 1))
        {
            Assert.Equal("running", Ps.Run("(Get-HashallLinkPlan -Id 1).Status").Succeeded().Output.Single().BaseObject);
            var second = Ps.Run("Invoke-HashallLinkPlan -Id 1 -Confirm:$false -ErrorVariable e -ErrorAction SilentlyContinue; $e | ForEach-Object FullyQualifiedErrorId");
            Assert.Contains("LinkPlanBusy,Hashall.PowerShell.Linking.InvokeHashallLinkPlanCommand", second.Output.Select(o => o.BaseObject as string));
            first.Kill(entireProcessTree: true);
            first.WaitForExit();
        }
        // Once the first is gone, its lease is dead and a run finishes the plan.
        Ps.Run("Invoke-HashallLinkPlan -Id 1 -Confirm:$false").Succeeded();
        Assert.Equal(3000, Long(Ps.Run("Get-HashallLinkPlan -Id 1").Succeeded().Output.Single(), "Linked"));
    }

    [Fact]
    public void PipedGroupsMakeOnePlanPerDeviceAndPipedActionsDoNotRunAPlan()
    {
        Duplicates(groups: 3, copies: 2, size: 5000);
        Ps.Run("Invoke-HashallScan $args[0]", Data).Succeeded();
        var plans = Ps.Run("Get-HashallDuplicate | New-HashallLinkPlan").Succeeded().Output;
        Assert.Single(plans);
        Assert.Equal(3, Convert.ToInt32(plans[0].Properties["ActionCount"].Value));

        // Actions carry their plan as LinkPlanId, so a filtered list of actions cannot start the whole plan.
        var run = Ps.Run("Get-HashallLinkPlan -Id 1 -Action | Invoke-HashallLinkPlan -Confirm:$false");
        Assert.NotNull(run.Terminating ?? (object?)run.Errors.FirstOrDefault());
        Assert.Equal("pending", Ps.Run("(Get-HashallLinkPlan -Id 1).Status").Succeeded().Output.Single().BaseObject);

        var some = Ps.Run("Get-HashallLinkPlan -Id 1, 99, 1 -ErrorVariable e -ErrorAction SilentlyContinue; $e.Count").Output;
        Assert.Equal(3, some.Count); // two plans written, then the error count
        Assert.Equal(1, some[^1].BaseObject);
    }

    [Fact]
    public void PlanIdsComplete()
    {
        Duplicates(groups: 2, copies: 2, size: 1000);
        Ps.Run("Invoke-HashallScan $args[0]; New-HashallLinkPlan -Device $args[0] -Name first | Out-Null", Data).Succeeded();
        var ids = Ps.Run(@"
$line = ""Invoke-HashallLinkPlan -Database '$($args[0])' -Id ""
(TabExpansion2 -inputScript $line -cursorColumn $line.Length).CompletionMatches | ForEach-Object { $_.CompletionText + '|' + $_.ToolTip }", Db).Succeeded();
        Assert.StartsWith("1|first on ", (string)ids.Output.Single().BaseObject);
    }
}
