using System.Diagnostics;
using System.Management.Automation;
using System.Security.Cryptography;
using Hashall.Tests.Shared;

namespace Hashall.PowerShell.Tests;

/// <summary>
/// New-HashallLinkPlan -Method Clone and its execution on loop-mounted XFS (reflink) and btrfs images,
/// as a user types them in the hosted engine; crashes in a child process; ext4 refusing.
/// </summary>
public sealed class CloneCmdletTests : CatalogSessionTest
{
    /// <summary>40 MiB and a partial block: more than two FIDEDUPERANGE calls (16 MiB each), the last one ending at a file end that is no block boundary.</summary>
    private const int Large = (40 << 20) + 123;

    private static readonly DateTime CanonicalTime = new(2019, 3, 4, 5, 6, 7, DateTimeKind.Utc);

    private static byte[] Bytes(int size, int seed)
    {
        var bytes = new byte[size];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    /// <summary>Writes one content at a/<paramref name="name"/> (the canonical: older) and b/<paramref name="name"/> (a duplicate), by write(2): never a reflink copy.</summary>
    private static (string Canonical, string Duplicate) Pair(string root, string name, byte[] bytes)
    {
        string a = Path.Combine(root, "a", name), b = Path.Combine(root, "b", name);
        foreach (var p in new[] { a, b })
        {
            Directory.CreateDirectory(Path.GetDirectoryName(p)!);
            File.WriteAllBytes(p, bytes);
        }
        File.SetLastWriteTimeUtc(a, CanonicalTime);
        return (a, b);
    }

    /// <summary>Inode, owner, group, mode and mtime (ns) as stat(1) prints them.</summary>
    private static string Meta(string path) => TempTree.Run("stat", "-c", "%i %u %g %a %.9Y", path).Trim();

    private static Dictionary<string, string> Digests(string root) =>
        Directory.GetFiles(root, "*", SearchOption.AllDirectories).Where(p => !p.Contains("lost+found"))
            .ToDictionary(p => p, p => Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(p))));

    /// <summary>Whether FIEMAP reports the file's extents as shared (filefrag -v prints the flag).</summary>
    private static bool SharesBlocks(string path) => TempTree.Run("filefrag", "-v", path).Contains("shared");

    private static long RoundUp(long size) => (size + 4095) / 4096 * 4096;

    [RequiresTheory(Needs.Images)]
    [InlineData("xfs")]
    [InlineData("btrfs")]
    public void ClonePlanKeepsEveryInodeAndItsMetadataAndFreesTheDuplicateBytes(string type)
    {
        string fs = Tree.MountImage("fs", type, "512M");
        // 2,999 small groups and one of 40 MiB: the large file takes three FIDEDUPERANGE calls, the 3,000
        // actions more than one of the executor's commits (three statements each, 8,192 per commit).
        const int small = 2999;
        var (largeA, largeB) = Pair(fs, "large/movie.mkv", Bytes(Large, 1));
        var probed = new List<string> { largeB };
        for (int g = 0; g < small; g++)
        {
            var (_, b) = Pair(fs, $"g{g % 20}/f{g}.bin", Bytes(8192 + g % 3000, 100 + g));
            if (g < 3)
                probed.Add(b);
        }
        // The duplicates' own owner, mode and mtime, which a hard link would lose.
        foreach (var (p, i) in probed.Select((p, i) => (p, i)))
        {
            TempTree.Run("chown", $"{1234 + i}:{5678 + i}", p);
            File.SetUnixFileMode(p, UnixFileMode.UserRead | UnixFileMode.UserWrite | (i % 2 == 0 ? UnixFileMode.GroupRead : 0));
            TempTree.Run("touch", "-m", "-d", $"@1620284889.12345678{i}", p);
        }
        long duplicateBytes = Large + Enumerable.Range(0, small).Sum(g => 8192L + g % 3000);
        long duplicateBlocks = RoundUp(Large) + Enumerable.Range(0, small).Sum(g => RoundUp(8192L + g % 3000));
        var meta = probed.ToDictionary(p => p, Meta);
        var inodes = TempTree.Inodes(fs);
        var digests = Digests(fs);

        Ps.Run("Invoke-HashallScan $args[0] | Out-Null", fs).Succeeded();
        Assert.Equal(duplicateBytes, Long(Ps.Run("Get-HashallDevice -Device $args[0]", fs).Succeeded().Output.Single(), "ReclaimableBytes"));
        var preview = Ps.Run("New-HashallLinkPlan -Path $args[0] -Method Clone -WhatIf", fs).Succeeded();
        Assert.Contains("Store a clone plan: 3000 duplicate inode(s)", preview.HostText);
        Assert.Empty(Ps.Run("Get-HashallLinkPlan").Succeeded().Output);
        Assert.Empty(Directory.GetFiles(fs, ".hashall-clone-probe-*", SearchOption.AllDirectories));

        // Stored and piped into a -WhatIf execution: every action shown, nothing shared.
        long freeBefore = TempTree.FreeBytes(fs);
        var whatIf = Ps.Run("New-HashallLinkPlan -Path $args[0] -Method Clone -Name cow | Invoke-HashallLinkPlan -WhatIf", fs).Succeeded();
        Assert.Equal(small + 1, whatIf.HostText.Split('\n').Count(l => l.StartsWith("What if: Performing the operation \"Share the blocks of")));
        Assert.False(SharesBlocks(largeB));
        var plan = Ps.Run("Get-HashallLinkPlan -Id 1").Succeeded().Output.Single();
        Assert.Equal("Clone", plan.Properties["Method"].Value.ToString());
        Assert.Equal("pending", plan.Properties["Status"].Value);

        var result = Ps.Run("Get-HashallLinkPlan -Id 1 | Invoke-HashallLinkPlan -Confirm:$false").Succeeded().Output.Single();
        Assert.Equal("Clone", result.Properties["Method"].Value.ToString());
        Assert.Equal(small + 1, Long(result, "Linked"));
        Assert.Equal(0, Long(result, "Skipped") + Long(result, "Failed"));
        long freed = TempTree.FreeBytes(fs) - freeBefore;
        long reported = Long(result, "BytesReclaimed");
        // Measured by FIEMAP: each duplicate's blocks, whole blocks; the filesystem's free space agrees.
        Assert.InRange(reported, duplicateBytes, duplicateBlocks);
        Assert.InRange(freed, duplicateBytes - duplicateBytes / 50, duplicateBlocks + (4 << 20));

        // Every path keeps its inode; the duplicates their owner, mode and mtime; every content its bytes.
        Assert.Equal(inodes, TempTree.Inodes(fs));
        Assert.Equal(meta, probed.ToDictionary(p => p, Meta));
        Assert.Equal(digests, Digests(fs));
        Assert.True(SharesBlocks(largeA) && SharesBlocks(largeB));

        // Cloned groups are duplicates still, but reclaim nothing: listed with 0 bytes, not planned again.
        var groups = Ps.Run("Get-HashallDuplicate -Device $args[0]", fs).Succeeded().Output;
        Assert.Equal(small + 1, groups.Count);
        Assert.All(groups, g => Assert.Equal(0L, Long(g, "ReclaimableBytes")));
        Assert.All(groups, g => Assert.Equal(1L, Long(g, "ClonedInodeCount")));
        Assert.Equal(0L, Long(Ps.Run("Get-HashallDevice -Device $args[0]", fs).Succeeded().Output.Single(), "ReclaimableBytes"));
        var again = Ps.Run("New-HashallLinkPlan -Path $args[0] -Method Clone -WarningVariable w; $w | ForEach-Object Message", fs).Succeeded();
        Assert.Contains(again.Output, o => ((string)o.BaseObject).StartsWith("No duplicates to link"));
        var done = Ps.Run("Get-HashallLinkPlan").Succeeded().Output.Single();
        Assert.Equal("done", done.Properties["Status"].Value);
        Assert.Equal(reported, Long(done, "BytesReclaimed"));
    }

    [RequiresFact(Needs.Images)]
    public void ADuplicateChangedAfterPlanningIsRefusedByTheKernelsOwnComparison()
    {
        string fs = Tree.MountImage("fs", "xfs", "512M");
        var (largeA, largeB) = Pair(fs, "large.bin", Bytes(Large, 7));
        Pair(fs, "small.bin", Bytes(50_000, 8));
        Ps.Run("Invoke-HashallScan $args[0] | Out-Null; New-HashallLinkPlan -Path $args[0] -Method Clone | Out-Null", fs).Succeeded();

        // One byte in the second 16 MiB chunk changes; size and mtime (to the nanosecond) are set back,
        // so the plan's checks (inode, size, mtime) pass and only the kernel's comparison can tell.
        string mtime = TempTree.Run("stat", "-c", "%.9Y", largeB).Trim();
        using (var f = new FileStream(largeB, FileMode.Open, FileAccess.ReadWrite))
        {
            f.Position = 30 << 20;
            int b = f.ReadByte();
            f.Position--;
            f.WriteByte((byte)(b ^ 0xff));
        }
        TempTree.Run("touch", "-m", "-d", "@" + mtime, largeB);
        Assert.Equal(mtime, TempTree.Run("stat", "-c", "%.9Y", largeB).Trim());
        var digests = Digests(fs);
        string inode = Meta(largeB);

        var result = Ps.Run("Invoke-HashallLinkPlan -Id 1 -Confirm:$false").Succeeded().Output.Single();
        Assert.Equal(1, Long(result, "Linked"));
        Assert.Equal(1, Long(result, "Skipped"));
        var reason = ((IEnumerable<string>)result.Properties["Reasons"].Value).Single();
        Assert.StartsWith(largeB + ": the kernel found its bytes 16777216 to 33554431 differ", reason);
        // Both files keep their own bytes (the changed one its change); nothing recorded as shared.
        Assert.Equal(digests, Digests(fs));
        Assert.Equal(inode, Meta(largeB));
        var action = Ps.Run("Get-HashallLinkPlan -Id 1 -Action").Succeeded().Output.First();
        Assert.Equal("skipped", action.Properties["Status"].Value);
        Assert.Equal("partial", Ps.Run("(Get-HashallLinkPlan -Id 1).Status").Succeeded().Output.Single().BaseObject);
        var large = Ps.Run("Get-HashallDuplicate -Device $args[0]", fs).Succeeded().Output.First();
        Assert.Equal((long)Large, Long(large, "ReclaimableBytes"));
    }

    [RequiresFact(Needs.Images)]
    public void ACrashBetweenTwoChunksOfALargeFileLosesNothingAndARerunFinishes()
    {
        string fs = Tree.MountImage("fs", "xfs", "512M");
        var (largeA, largeB) = Pair(fs, "large.bin", Bytes(Large, 3));
        for (int g = 0; g < 20; g++)
            Pair(fs, $"s/f{g}.bin", Bytes(20_000 + g, 300 + g));
        var inodes = TempTree.Inodes(fs);
        var digests = Digests(fs);
        Ps.Run("Invoke-HashallScan $args[0] | Out-Null; New-HashallLinkPlan -Path $args[0] -Method Clone | Out-Null", fs).Succeeded();
        long freeBefore = TempTree.FreeBytes(fs);

        // The largest file comes first: killed after its second chunk, two thirds of it shared.
        var (exit, output) = ChildShell.Run($"Import-Module '{ModuleFolder.Manifest}'; Invoke-HashallLinkPlan -Id 1 -Database '{Db}' -Confirm:$false",
            new Dictionary<string, string> { ["HASHALL_FAULT"] = "clone-after-chunk:2" });
        Assert.NotEqual(0, exit);
        Assert.Contains("HASHALL_FAULT: killed at clone-after-chunk #2", output);
        Assert.Equal(digests, Digests(fs));
        Assert.True(SharesBlocks(largeB));
        // Nothing committed before the crash: the whole plan is still to do (the rerun redoes the shared part).
        Assert.Equal(21, Long(Ps.Run("Get-HashallLinkPlan -Id 1").Succeeded().Output.Single(), "Pending"));

        var rerun = Ps.Run("Invoke-HashallLinkPlan -Id 1 -Confirm:$false").Succeeded().Output.Single();
        Assert.Equal(21, Long(rerun, "Linked"));
        Assert.Equal(0, Long(rerun, "Skipped") + Long(rerun, "Failed"));
        Assert.Equal("done", Ps.Run("(Get-HashallLinkPlan -Id 1).Status").Succeeded().Output.Single().BaseObject);
        long duplicateBytes = Large + Enumerable.Range(0, 20).Sum(g => 20_000L + g);
        Assert.InRange(TempTree.FreeBytes(fs) - freeBefore, duplicateBytes - duplicateBytes / 50, duplicateBytes + (4 << 20));
        Assert.Equal(digests, Digests(fs));
        Assert.Equal(inodes, TempTree.Inodes(fs));
        Assert.Equal(0L, Long(Ps.Run("Get-HashallDevice -Device $args[0]", fs).Succeeded().Output.Single(), "ReclaimableBytes"));

        // A duplicate whose mtime moved no longer counts as cloned (the record holds while both files are
        // as they were); a new clone plan shares it again, and FIEMAP finds nothing left to free.
        string touched = Path.Combine(fs, "b", "s", "f0.bin");
        TempTree.Run("touch", "-m", "-d", "2022-01-01", touched);
        Ps.Run("Invoke-HashallScan $args[0] | Out-Null", fs).Succeeded();
        Assert.Equal(20_000L, Long(Ps.Run("Get-HashallDevice -Device $args[0]", fs).Succeeded().Output.Single(), "ReclaimableBytes"));
        var again = Ps.Run("New-HashallLinkPlan -Path $args[0] -Method Clone | Invoke-HashallLinkPlan -Confirm:$false", fs).Succeeded().Output.Single();
        Assert.Equal(1, Long(again, "Linked"));
        Assert.Equal(0, Long(again, "BytesReclaimed"));
        Assert.Equal(0L, Long(Ps.Run("Get-HashallDevice -Device $args[0]", fs).Succeeded().Output.Single(), "ReclaimableBytes"));
    }

    [RequiresFact(Needs.Images)]
    public void KillingTheProcessMidPlanLosesNothingAndARerunFinishes()
    {
        string fs = Tree.MountImage("fs", "btrfs", "512M");
        const int groups = 10_000; // about 2 s of cloning here: many polls of the free space before it ends
        for (int g = 0; g < groups; g++)
            Pair(fs, $"g{g % 100}/f{g}.bin", Bytes(8192, 1000 + g));
        var inodes = TempTree.Inodes(fs);
        var digests = Digests(fs);
        Ps.Run("Invoke-HashallScan $args[0] | Out-Null; New-HashallLinkPlan -Path $args[0] -Method Clone | Out-Null", fs).Succeeded();
        long freeBefore = TempTree.FreeBytes(fs);
        using (var child = ChildShell.Start($"Import-Module '{ModuleFolder.Manifest}'; Invoke-HashallLinkPlan -Id 1 -Database '{Db}' -Confirm:$false"))
        {
            // Killed (SIGKILL: no cleanup runs) once the filesystem shows the first clones (free space, after a
            // sync), i.e. while it clones: a fixed wait is too short under load and too long on a fast machine.
            var deadline = DateTime.UtcNow.AddSeconds(60);
            while (!child.HasExited && DateTime.UtcNow < deadline && TempTree.FreeBytes(fs) - freeBefore < 8192L * 10)
                Thread.Sleep(5);
            Assert.False(child.HasExited, "the child finished before it was killed; make the plan bigger");
            child.Kill(entireProcessTree: true);
            child.WaitForExit();
        }
        // Killed mid-plan: some duplicates share blocks on disk already, not all.
        long midway = TempTree.FreeBytes(fs) - freeBefore;
        Assert.InRange(midway, 8192L * 10, groups * 8192L * 9 / 10);
        Assert.Equal(digests, Digests(fs));
        var rerun = Ps.Run("Invoke-HashallLinkPlan -Id 1 -Confirm:$false").Succeeded().Output.Single();
        Assert.True(Long(rerun, "Linked") > 0);
        Assert.Equal(0, Long(rerun, "Skipped") + Long(rerun, "Failed"));
        var plan = Ps.Run("Get-HashallLinkPlan -Id 1").Succeeded().Output.Single();
        Assert.Equal("done", plan.Properties["Status"].Value);
        Assert.Equal(groups, Long(plan, "Linked"));
        Assert.Equal(digests, Digests(fs));
        Assert.Equal(inodes, TempTree.Inodes(fs));
        Assert.InRange(TempTree.FreeBytes(fs) - freeBefore, groups * 8192L * 98 / 100, groups * 8192L + (4 << 20));
        Assert.Equal(0L, Long(Ps.Run("Get-HashallDevice -Device $args[0]", fs).Succeeded().Output.Single(), "ReclaimableBytes"));
    }

    [RequiresFact(Needs.Images)]
    public void Ext4RefusesAClonePlanCleanlyAndStillTakesAHardLinkPlan()
    {
        string fs = Tree.MountImage("fs", "ext4", "64M");
        Pair(fs, "x.bin", Bytes(100_000, 5));
        Ps.Run("Invoke-HashallScan $args[0] | Out-Null", fs).Succeeded();
        foreach (var whatIf in new[] { "", " -WhatIf" })
        {
            var refused = Ps.Run("New-HashallLinkPlan -Path $args[0] -Method Clone" + whatIf, fs);
            Assert.Equal("CloneNotSupported,Hashall.PowerShell.Linking.NewHashallLinkPlanCommand", refused.TerminatingErrorId);
            Assert.Contains("cannot share blocks", refused.Terminating!.Message);
            Assert.Contains("ext4", refused.Terminating!.Message);
            Assert.Empty(refused.Output);
        }
        Assert.Empty(Ps.Run("Get-HashallLinkPlan").Succeeded().Output);
        Assert.Empty(Directory.GetFiles(fs, ".hashall-clone-probe-*", SearchOption.AllDirectories));
        var plan = Ps.Run("New-HashallLinkPlan -Path $args[0]", fs).Succeeded().Output.Single();
        Assert.Equal("HardLink", plan.Properties["Method"].Value.ToString());
        Assert.Equal(1, Long(plan, "ActionCount"));
    }
}
