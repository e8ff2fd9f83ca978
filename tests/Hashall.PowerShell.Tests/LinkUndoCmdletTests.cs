using Hashall.Tests.Shared;

namespace Hashall.PowerShell.Tests;

/// <summary>Undo-HashallLinkPlan, keep rules and limited runs as a user types them; crashes in a child process.</summary>
public sealed class LinkUndoCmdletTests : CatalogSessionTest
{
    /// <summary><paramref name="groups"/> contents, each written <paramref name="copies"/> times, in <paramref name="dirs"/> folders per copy.</summary>
    private void Duplicates(string root, int groups, int copies, int size, int dirs = 10)
    {
        for (int g = 0; g < groups; g++)
        {
            var bytes = new byte[size];
            new Random(g).NextBytes(bytes);
            for (int c = 0; c < copies; c++)
            {
                string dir = Path.Combine(root, $"copy{c}", $"d{g % dirs}");
                Directory.CreateDirectory(dir);
                File.WriteAllBytes(Path.Combine(dir, $"file{g}.bin"), bytes);
            }
        }
    }

    private Dictionary<string, string> Contents() =>
        Directory.GetFiles(Data, "*", SearchOption.AllDirectories)
            .ToDictionary(p => p, p => Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(p))));

    private Dictionary<string, ulong> Inodes() => TempTree.Inodes(Data);

    private string Status() => (string)Ps.Run("(Get-HashallLinkPlan -Id 1).Status").Succeeded().Output.Single().BaseObject;

    [Fact]
    public void KeepPathWhatIfAndPathSubsetsThenTheWholePlan()
    {
        Duplicates(Data, groups: 3, copies: 3, size: 20_000);
        // The copies written last are kept: -KeepPath overrides the oldest-first default.
        var plan = Ps.Run("Invoke-HashallScan $args[0] | Out-Null; New-HashallLinkPlan -Device $args[0] -KeepPath ($args[0] + '/copy2/*')", Data).Succeeded().Output.Single();
        Assert.Equal(6L, Long(plan, "PathCount"));
        Assert.All(Ps.Run("Get-HashallLinkPlan -Id 1 -Action").Succeeded().Output,
            a => Assert.StartsWith(Path.Combine(Data, "copy2") + "/", (string)a.Properties["Canonical"].Value));
        Ps.Run("Invoke-HashallLinkPlan -Id 1 -Confirm:$false").Succeeded();
        Assert.Equal(3, Inodes().Values.Distinct().Count());
        var before = Contents();
        var inodes = Inodes();

        var whatIf = Ps.Run("Undo-HashallLinkPlan -Id 1 -WhatIf").Succeeded();
        var lines = whatIf.HostText.Split('\n').Where(l => l.StartsWith("What if: Performing the operation \"Give back its own copy of")).ToList();
        Assert.Equal(6, lines.Count);
        Assert.Contains(lines, l => l.Contains(Path.Combine(Data, "copy0", "d1", "file1.bin")));
        Assert.Equal(inodes, Inodes());
        Assert.Equal("done", Status());

        var part = Ps.Run("Undo-HashallLinkPlan -Id 1 -Path ($args[0] + '/copy1/*') -Confirm:$false", Data).Succeeded().Output.Single();
        Assert.Equal("Hashall.Core.Linking.LinkUndoResult", part.TypeNames[0]);
        Assert.Equal(3L, Long(part, "Undone"));
        Assert.Equal(6, Inodes().Values.Distinct().Count()); // copy1 separate, copy0 still linked to copy2
        for (int g = 0; g < 3; g++)
            Assert.Equal(Inodes()[Path.Combine(Data, "copy0", $"d{g}", $"file{g}.bin")], Inodes()[Path.Combine(Data, "copy2", $"d{g}", $"file{g}.bin")]);
        Assert.Equal("partially-undone", Status());
        Assert.Single(Ps.Run("Get-HashallLinkPlan -Status partially-undone").Succeeded().Output);

        var rest = Ps.Run("Get-HashallLinkPlan -Id 1 | Undo-HashallLinkPlan -Confirm:$false").Succeeded().Output.Single();
        Assert.Equal(3L, Long(rest, "Undone"));
        Assert.Equal(9, Inodes().Values.Distinct().Count());
        Assert.Equal("undone", Status());
        Assert.Equal(before, Contents());
        // Nothing left for the device to reclaim was undone silently: the catalog sees the duplicates again.
        Assert.Equal(3 * 2 * 20_000L, Long(Ps.Run("Get-HashallDevice -Device $args[0]", Data).Succeeded().Output.Single(), "ReclaimableBytes"));

        // What was undone stays separate: the next (nightly) plan leaves those paths out, -IncludeUndone plans them again.
        var next = Ps.Run("Invoke-HashallScan $args[0] | Out-Null; New-HashallLinkPlan -Device $args[0]", Data).Succeeded();
        Assert.Empty(next.Output);
        Assert.Contains(next.Warnings, w => w.Contains("No duplicates to link"));
        Assert.Equal(6L, Long(Ps.Run("New-HashallLinkPlan -Device $args[0] -IncludeUndone", Data).Succeeded().Output.Single(), "PathCount"));
        Assert.Equal(9, Inodes().Values.Distinct().Count());
    }

    [Fact]
    public void AnUndonePlanDoesNotRunItsPendingActions()
    {
        Duplicates(Data, groups: 3, copies: 2, size: 20_000);
        Ps.Run("Invoke-HashallScan $args[0] | Out-Null; New-HashallLinkPlan -Device $args[0] | Out-Null; Invoke-HashallLinkPlan -Id 1 -Limit 1 -Confirm:$false | Out-Null", Data).Succeeded();
        Assert.Equal(1L, Long(Ps.Run("Undo-HashallLinkPlan -Id 1 -Confirm:$false").Succeeded().Output.Single(), "Undone"));
        var inodes = Inodes();
        // Two actions were left pending by -Limit: running the undone plan would link again beside the undo.
        var run = Ps.Run("Invoke-HashallLinkPlan -Id 1 -Confirm:$false -ErrorVariable e -ErrorAction SilentlyContinue; $e | ForEach-Object { $_.FullyQualifiedErrorId }");
        Assert.Equal("LinkPlanUndone,Hashall.PowerShell.Linking.InvokeHashallLinkPlanCommand", (string)run.Output.Single().BaseObject);
        Assert.Equal(inodes, Inodes());
    }

    [Fact]
    public void UndoKilledTwiceMidRunResumesAndEndsAsOneRunWould()
    {
        // 3,000 undos in 200 folders: more than one batch of copies (256) and of outcomes (2,048 paths a
        // commit) before the second crash, and the paths undone since the last commit exist only on disk.
        const int groups = 3000;
        Duplicates(Data, groups, copies: 2, size: 1024, dirs: 200);
        Ps.Run("Invoke-HashallScan $args[0]; New-HashallLinkPlan -Device $args[0] | Invoke-HashallLinkPlan -Confirm:$false | Out-Null", Data).Succeeded();
        Assert.Equal(groups, Inodes().Values.Distinct().Count());
        var before = Contents();
        string undo = $"Import-Module '{ModuleFolder.Manifest}'; Undo-HashallLinkPlan -Id 1 -Database '{Db}' -Confirm:$false";

        // Killed with copies made but not yet flushed and renamed over their paths (copies are renamed
        // in batches of 256 after one syncfs): the paths undone before stay undone, the rest are links.
        var (exit, output) = ChildShell.Run(undo, new Dictionary<string, string> { ["HASHALL_FAULT"] = "undo-after-copy:1000" });
        Assert.NotEqual(0, exit);
        Assert.Contains("HASHALL_FAULT", output);
        Assert.NotEmpty(Directory.GetFiles(Data, ".hashall-undo-*", SearchOption.AllDirectories));
        Assert.Equal(before, Contents().Where(kv => !kv.Key.Contains(".hashall-undo-")).ToDictionary());

        // Killed right after a rename, 1,500 renames later: more than one commit of outcomes (2,048 paths
        // each) before it, and the paths undone since the last commit exist only on disk.
        (exit, output) = ChildShell.Run(undo, new Dictionary<string, string> { ["HASHALL_FAULT"] = "undo-after-rename:1500" });
        Assert.NotEqual(0, exit);
        Assert.Contains("HASHALL_FAULT", output);
        Assert.Equal(before, Contents().Where(kv => !kv.Key.Contains(".hashall-undo-")).ToDictionary());
        int onDisk = Inodes().Where(kv => !kv.Key.Contains(".hashall-undo-")).Select(kv => kv.Value).Distinct().Count() - groups;
        Assert.InRange(onDisk, 1501, groups - 1);
        long recorded = Long(Ps.Run("Get-HashallLinkPlan -Id 1").Succeeded().Output.Single(), "Undone");
        Assert.InRange(recorded, 1, onDisk - 1);
        // Killed before its end, the run still marked the plan undone: a new plan leaves the recorded
        // paths out (the rest are still one inode in the catalog), so it finds nothing to link.
        var next = Ps.Run("New-HashallLinkPlan -Device $args[0] -WhatIf", Data).Succeeded();
        Assert.Empty(next.Output);
        Assert.Contains(next.Warnings, w => w.Contains("No duplicates to link"));

        var rerun = Ps.Run("Undo-HashallLinkPlan -Id 1 -Confirm:$false").Succeeded().Output.Single();
        Assert.Equal(groups - recorded, Long(rerun, "Undone"));
        Assert.Equal(0, Long(rerun, "Skipped") + Long(rerun, "Failed"));
        Assert.Equal("undone", Status());
        Assert.Equal((long)groups, Long(Ps.Run("Get-HashallLinkPlan -Id 1").Succeeded().Output.Single(), "Undone"));
        Assert.Equal(before, Contents());
        var inodes = Inodes();
        Assert.Equal(2 * groups, inodes.Values.Distinct().Count());
        Assert.Empty(Directory.GetFiles(Data, ".hashall-undo-*", SearchOption.AllDirectories));
        var catalog = Ps.Run("Get-HashallFile | ForEach-Object { '{0}|{1}|{2}' -f $_.FullName, $_.Inode, $_.LinkCount }").Succeeded().Output
            .Select(o => ((string)o.BaseObject).Split('|')).ToDictionary(p => p[0], p => (ulong.Parse(p[1]), p[2]));
        Assert.Equal(inodes.OrderBy(kv => kv.Key), catalog.Select(kv => KeyValuePair.Create(kv.Key, kv.Value.Item1)).OrderBy(kv => kv.Key));
        Assert.All(catalog.Values, v => Assert.Equal("1", v.Item2));
    }

    [RequiresFact(Needs.Tmpfs)]
    public void UndoRefusesOnADeviceWithoutTheRoomForTheCopies()
    {
        string small = Tree.MountTmpfs("small", "size=1m");
        Duplicates(small, groups: 1, copies: 3, size: 300_000);
        Ps.Run("Invoke-HashallScan $args[0]; New-HashallLinkPlan -Path $args[0] | Invoke-HashallLinkPlan -Confirm:$false | Out-Null", small).Succeeded();
        File.WriteAllBytes(Path.Combine(small, "filler"), new byte[400_000]); // about 320 kB stay free, 600 kB are needed
        var inodes = TempTree.Inodes(small);
        var run = Ps.Run("Undo-HashallLinkPlan -Id 1 -Confirm:$false -ErrorVariable e -ErrorAction SilentlyContinue; $e | ForEach-Object { $_.FullyQualifiedErrorId; $_.Exception.Message }");
        var text = run.Output.Select(o => (string)o.BaseObject).ToList();
        Assert.Equal("LinkUndoNotEnoughSpace,Hashall.PowerShell.Linking.UndoHashallLinkPlanCommand", text[0]);
        Assert.Contains("needs 600,000 bytes for 2 copies", text[1]);
        Assert.Equal(inodes, TempTree.Inodes(small));
        Assert.Empty(Directory.GetFiles(small, ".hashall-undo-*", SearchOption.AllDirectories));
        Assert.Equal("done", Status());
        // Room made: the same undo goes through.
        File.Delete(Path.Combine(small, "filler"));
        Assert.Equal(2L, Long(Ps.Run("Undo-HashallLinkPlan -Id 1 -Confirm:$false").Succeeded().Output.Single(), "Undone"));
        Assert.Equal(3, TempTree.Inodes(small).Values.Distinct().Count());
    }

    [Fact]
    public void LimitAndMaximumBytesSpreadAPlanOverRuns()
    {
        Duplicates(Data, groups: 5, copies: 2, size: 10_000);
        var before = Contents();
        Ps.Run("Invoke-HashallScan $args[0]; New-HashallLinkPlan -Device $args[0] | Out-Null", Data).Succeeded();
        // -WhatIf with a limit lists exactly what the run with that limit does.
        var preview = Ps.Run("Invoke-HashallLinkPlan -Id 1 -Limit 2 -WhatIf").Succeeded();
        Assert.Equal(2, preview.HostText.Split('\n').Count(l => l.StartsWith("What if: ")));
        var first = Ps.Run("Invoke-HashallLinkPlan -Id 1 -Limit 2 -Confirm:$false").Succeeded().Output.Single();
        Assert.Equal(2L, Long(first, "Linked"));
        Assert.False((bool)first.Properties["Completed"].Value);
        Assert.True((bool)first.Properties["Limited"].Value);
        Assert.Equal("incomplete", Status());
        var second = Ps.Run("Invoke-HashallLinkPlan -Id 1 -MaximumBytes 25000 -Confirm:$false").Succeeded().Output.Single();
        Assert.Equal(2L, Long(second, "Linked"));
        Assert.Equal("incomplete", Status());
        var last = Ps.Run("Invoke-HashallLinkPlan -Id 1 -Limit 10 -Confirm:$false").Succeeded().Output.Single();
        Assert.Equal(1L, Long(last, "Linked"));
        Assert.True((bool)last.Properties["Completed"].Value);
        Assert.Equal("done", Status());
        Assert.Equal(5, Inodes().Values.Distinct().Count());
        Assert.Equal(before, Contents());
    }

    [Fact]
    public void ProtectPathTakesRelativeAndBracketedPathsAsTypedAndNamesAPatternThatMatchesNothing()
    {
        // Four groups of two copies; the copies under orig/ are the oldest, so by default they are kept
        // and the others replaced. Three of the others are protected: by a './' path, a '../' path and a
        // torrent folder name with brackets (a character class if taken as a wildcard).
        var old = DateTime.UtcNow.AddDays(-30);
        string[] others = { "work/rel/g0.bin", "up/g1.bin", "work/[Group] Show/g2.bin", "free/g3.bin" };
        for (int g = 0; g < others.Length; g++)
        {
            File.SetLastWriteTimeUtc(Write($"orig/g{g}.bin", 50_000, g), old);
            Write(others[g], 50_000, g);
        }
        Directory.CreateDirectory(Path.Combine(Data, "work"));
        var inodes = Inodes();
        var plan = Ps.Run("Invoke-HashallScan $args[0] | Out-Null; $ExecutionContext.SessionState.Path.SetLocation($args[1]) | Out-Null; "
            + "New-HashallLinkPlan -Device $args[0] -ProtectPath './rel', '../up', ($args[1] + '/[Group] Show'), './no-such-folder'",
            Data, Path.Combine(Data, "work")).Succeeded();
        Assert.Equal(4L, Long(plan.Output.Single(), "PathCount"));
        Ps.Run("Invoke-HashallLinkPlan -Id 1 -Confirm:$false").Succeeded();
        var after = Inodes();
        for (int g = 0; g < 3; g++)
        {
            string kept = Path.Combine(Data, others[g]);
            Assert.Equal(inodes[kept], after[kept]); // protected: never replaced, the orig/ copy links to it
            Assert.Equal(after[kept], after[Path.Combine(Data, "orig", $"g{g}.bin")]);
        }
        Assert.NotEqual(inodes[Path.Combine(Data, "free/g3.bin")], after[Path.Combine(Data, "free/g3.bin")]);
        Assert.Equal(inodes[Path.Combine(Data, "orig/g3.bin")], after[Path.Combine(Data, "free/g3.bin")]);
        // Only the pattern that matched nothing is named.
        var warning = Assert.Single(plan.Warnings, w => w.Contains("-ProtectPath"));
        Assert.Contains("'./no-such-folder'", warning);
        Assert.Contains(Path.Combine(Data, "work", "no-such-folder"), warning);
    }

    [Fact]
    public void AnEmptyOrNullPathListIsRefusedNotTakenAsEverything()
    {
        Duplicates(Data, groups: 2, copies: 2, size: 20_000);
        Ps.Run("Invoke-HashallScan $args[0]; New-HashallLinkPlan -Device $args[0] | Invoke-HashallLinkPlan -Confirm:$false | Out-Null", Data).Succeeded();
        var inodes = Inodes();
        foreach (string call in new[]
        {
            "Undo-HashallLinkPlan -Id 1 -Path @() -Confirm:$false",
            "Undo-HashallLinkPlan -Id 1 -Path $null -Confirm:$false",
            "New-HashallLinkPlan -Device $args[0] -KeepPath @() -IncludeUndone",
            "New-HashallLinkPlan -Device $args[0] -ProtectPath $null -IncludeUndone",
        })
        {
            var run = Ps.Run(call + " -ErrorVariable e -ErrorAction SilentlyContinue; $e | ForEach-Object { $_.FullyQualifiedErrorId }", Data);
            Assert.StartsWith("ParameterArgumentValidationError", (string)(run.Output.SingleOrDefault()?.BaseObject ?? run.Terminating?.ErrorRecord.FullyQualifiedErrorId ?? "(none)"));
            Assert.Equal(inodes, Inodes());
            Assert.Equal("done", Status());
        }
    }

    [Fact]
    public void APreviewPlanIsRefusedByUndoAndInvokeAsNeverStored()
    {
        Duplicates(Data, groups: 2, copies: 2, size: 20_000);
        Ps.Run("Invoke-HashallScan $args[0] | Out-Null", Data).Succeeded();
        foreach (string verb in new[] { "Undo", "Invoke" })
        {
            var run = Ps.Run($"New-HashallLinkPlan -Device $args[0] -WhatIf | {verb}-HashallLinkPlan -Confirm:$false -ErrorVariable e -ErrorAction SilentlyContinue; "
                + "$e | ForEach-Object { $_.FullyQualifiedErrorId; $_.Exception.Message }", Data);
            var text = run.Output.Select(o => (string)o.BaseObject).ToList();
            Assert.Equal($"LinkPlanNotStored,Hashall.PowerShell.Linking.{verb}HashallLinkPlanCommand", text[0]);
            Assert.Contains("-WhatIf", text[1]);
        }
        Assert.Empty(Ps.Run("Get-HashallLinkPlan").Succeeded().Output);
    }
}
