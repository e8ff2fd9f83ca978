using System.Management.Automation;
using Hashall.Tests.Shared;

namespace Hashall.PowerShell.Tests;

/// <summary>Invoke-HashallScan, Get-HashallFile and Get-HashallDuplicate as a user types them.</summary>
public sealed class ScanCmdletTests : CatalogSessionTest
{
    [Fact]
    public void ScanWritesAResultAndProgressAndFilesPipeIntoWhereObject()
    {
        Write("big/one.bin", 2 * 1024 * 1024, 1);
        Write("big/two.bin", 3 * 1024 * 1024, 2);
        Write("small/a.txt", 100, 3);
        var scan = Ps.Run("Invoke-HashallScan -Path $args[0]", Data).Succeeded();
        var result = scan.Output.Single();
        Assert.Equal("Hashall.Core.Scanning.ScanResult", result.TypeNames[0]);
        Assert.Equal(3, Long(result, "Added"));
        Assert.True((bool)result.Properties["Completed"].Value);
        Assert.NotEmpty(scan.Progress);
        Assert.Contains(scan.Progress, p => p.Activity == "Hashall scan" && p.StatusDescription.Contains("files found"));
        Assert.Equal(ProgressRecordType.Completed, scan.Progress[^1].RecordType);

        var big = Ps.Run("Get-HashallFile -Device $args[0] | Where-Object Size -gt 1MB | ForEach-Object FullName", Data).Succeeded();
        Assert.Equal([Path.Combine(Data, "big/one.bin"), Path.Combine(Data, "big/two.bin")], big.Output.Select(o => (string)o.BaseObject).Order());

        // Wildcards, and a hash from coreutils.
        string sha1 = TempTree.Sha1Sum(Path.Combine(Data, "small/a.txt"));
        var byHash = Ps.Run("Get-HashallFile -Hash $args[0]", sha1.ToUpperInvariant()).Succeeded().Output.Single();
        Assert.Equal(Path.Combine(Data, "small/a.txt"), byHash.Properties["FullName"].Value);
        var wild = Ps.Run("Get-HashallFile -Path ($args[0] + '/big/*.bin')", Data).Succeeded().Output;
        Assert.Equal(2, wild.Count);
    }

    [Fact]
    public void DirectoriesPipeIntoScanAndDevicesPipeIntoGetHashallFile()
    {
        Write("x/1", 10, 1);
        Write("y/2", 10, 2);
        var result = Ps.Run("[IO.DirectoryInfo]::new($args[0]).GetDirectories() | Invoke-HashallScan", Data).Succeeded().Output.Single();
        Assert.Equal(2, ((System.Collections.IEnumerable)result.Properties["Roots"].Value).Cast<object>().Count());
        var files = Ps.Run("Get-HashallDevice | Get-HashallFile | ForEach-Object Name").Succeeded().Output.Select(o => (string)o.BaseObject).Order();
        Assert.Equal(["1", "2"], files);
        // Files pipe back into a scan by FullName.
        var rescan = Ps.Run("Get-HashallFile -Path ($args[0] + '/x') | Invoke-HashallScan", Data).Succeeded().Output.Single();
        Assert.Equal(1, Long(rescan, "Unchanged"));
    }

    private (string A, string B) TwoFoldersOfAThousandFiles()
    {
        for (int i = 0; i < 1000; i++)
        {
            Write($"A/f{i:D4}", 4096, i);
            Write($"B/f{i:D4}", 4096, 10_000 + i);
        }
        return (Path.Combine(Data, "A"), Path.Combine(Data, "B"));
    }

    [Fact]
    public void TwoRootsOfAThousandFilesEachAreBothCataloguedByPathAndFromThePipeline()
    {
        // Big enough that the first root's rows are being written when the second opens (issue 10, item 1).
        var (a, b) = TwoFoldersOfAThousandFiles();
        var byPath = Ps.Run("Invoke-HashallScan -Path $args[0], $args[1]", a, b).Succeeded().Output.Single();
        Assert.Equal(2000, Long(byPath, "Added"));
        Assert.Equal(1000, Count(a, Db));
        Assert.Equal(1000, Count(b, Db));

        string piped = Tree.Path("piped.db");
        var fromPipeline = Ps.Run("$args[0], $args[1] | Invoke-HashallScan -Database $args[2]", a, b, piped).Succeeded().Output.Single();
        Assert.Equal(2000, Long(fromPipeline, "Added"));
        Assert.Equal(1000, Count(a, piped));
        Assert.Equal(1000, Count(b, piped));
    }

    [Fact]
    public void ErrorActionStopInOneRootKeepsWhatTheRootsBeforeItFinished()
    {
        var (a, b) = TwoFoldersOfAThousandFiles();
        TempTree.Run("python3", "-c", "import os,sys; open(os.fsencode(sys.argv[1])+b'/bad-\\xff','wb').write(b'z')", b);
        var run = Ps.Run("Invoke-HashallScan -Path $args[0], $args[1] -ErrorAction Stop", a, b);
        Assert.Equal("InvalidUtf8Name,Hashall.PowerShell.Scanning.InvokeHashallScanCommand", run.TerminatingErrorId);
        Assert.Equal(1000, Count(a, Db));
    }

    [RequiresFact(Needs.Tmpfs)]
    public void ABindMountBelowARootIsAWarningAndRootsThatAreNotFoldersSayWhatTheyAre()
    {
        Write("src/a.bin", 1000, 1);
        string view = Tree.BindMount(Path.Combine(Data, "src"), "data/view");
        string loop = Tree.Path("loop");
        File.CreateSymbolicLink(loop, loop);
        var run = Ps.Run("Invoke-HashallScan -Path $args[0], /dev/null, $args[1] -ErrorVariable err -ErrorAction SilentlyContinue; $err | ForEach-Object { $_.FullyQualifiedErrorId + ': ' + $_.Exception.Message }",
            Data, loop);
        Assert.Equal($"Not crossing into the filesystem mounted at '{view}' (use -CrossMount to scan it too).", Assert.Single(run.Warnings));
        var result = run.Output[0];
        Assert.Equal(1, Long(result, "Added"));
        Assert.Equal([view], ((System.Collections.IEnumerable)result.Properties["NestedMounts"].Value).Cast<object>().Select(o => o.ToString()));
        var errors = run.Output.Skip(1).Select(o => (string)o.BaseObject).ToArray();
        Assert.Contains(errors, e => e.StartsWith("NotADirectory,") && e.Contains("'/dev/null' is not a directory"));
        Assert.Contains(errors, e => e.StartsWith("PathStatFailed,") && e.EndsWith($"'{loop}': Too many levels of symbolic links."));
        Assert.Single(Ps.Run("Get-HashallDevice").Succeeded().Output);
    }

    private long Count(string dir, string database) =>
        Convert.ToInt64(Ps.Run("@(Get-HashallFile -Path ($args[0] + '/*') -Database $args[1]).Count", dir, database).Succeeded().Output.Single().BaseObject);

    [Fact]
    public void WhatIfScansNothingAndCreatesNoCatalog()
    {
        Write("f", 10, 1);
        var run = Ps.Run("Invoke-HashallScan -Path $args[0] -WhatIf", Data).Succeeded();
        Assert.Empty(run.Output);
        Assert.Contains($"What if: Performing the operation \"Scan into catalog '{Db}'\" on target \"{Data}\"", run.HostText);
        Assert.False(File.Exists(Db));
    }

    [Fact]
    public void PerFileProblemsAreNonTerminatingErrorsWithStableIds()
    {
        Write("good", 10, 1);
        TempTree.Run("python3", "-c", "import os,sys; open(os.fsencode(sys.argv[1])+b'/bad-\\xff','wb').write(b'z')", Data);
        var run = Ps.Run("Invoke-HashallScan -Path $args[0], $args[1] -ErrorVariable err -ErrorAction SilentlyContinue; $err | ForEach-Object FullyQualifiedErrorId",
            Data, Path.Combine(Data, "missing"));
        Assert.Null(run.Terminating);
        var result = run.Output[0];
        Assert.Equal(1, Long(result, "Added"));
        Assert.Equal(2, Long(result, "Errors"));
        var ids = run.Output.Skip(1).Select(o => (string)o.BaseObject).Order().ToArray();
        Assert.Equal(["InvalidUtf8Name,Hashall.PowerShell.Scanning.InvokeHashallScanCommand", "PathNotFound,Hashall.PowerShell.Scanning.InvokeHashallScanCommand"], ids);
    }

    [Fact]
    public void UnreadableFileIsReportedAsUser()
    {
        Write("ok", 10, 1);
        string secret = Write("secret", 10, 2);
        TempTree.Run("chmod", "-R", "a+rwX", Tree.Root);
        File.SetUnixFileMode(secret, UnixFileMode.None);
        // A session on this thread, so the test can take away root's override of file modes for it.
        using var ps = new PowerShellSession(Db, useCurrentThread: true);
        var run = Privileges.AsUser(Privileges.Nobody, () => ps.Run("Invoke-HashallScan $args[0] -ErrorVariable err -ErrorAction SilentlyContinue; $err", Data));
        var error = (ErrorRecord)run.Output[1].BaseObject;
        Assert.Equal("FileUnreadable,Hashall.PowerShell.Scanning.InvokeHashallScanCommand", error.FullyQualifiedErrorId);
        Assert.Equal(secret, error.TargetObject);
        Assert.Equal(ErrorCategory.PermissionDenied, error.CategoryInfo.Category);
    }

    [Fact]
    public void DuplicatesAreGroupedPerDeviceWithReclaimableBytes()
    {
        string a = Write("dups/a.bin", 40_000, 7);
        File.Copy(a, Path.Combine(Data, "dups/b.bin"));
        Directory.CreateDirectory(Path.Combine(Data, "other"));
        File.Copy(a, Path.Combine(Data, "other/c.bin"));
        TempTree.Run("ln", a, Path.Combine(Data, "dups/a-link.bin"));
        Write("unique.bin", 40_000, 8);
        File.WriteAllText(Path.Combine(Data, "empty1"), "");
        File.WriteAllText(Path.Combine(Data, "empty2"), "");
        Ps.Run("Invoke-HashallScan $args[0]", Data).Succeeded();

        var group = Ps.Run("Get-HashallDuplicate").Succeeded().Output.Single();
        Assert.Equal(3, Convert.ToInt32(group.Properties["InodeCount"].Value));
        Assert.Equal(4, Convert.ToInt32(group.Properties["FileCount"].Value));
        Assert.Equal(80_000L, Long(group, "ReclaimableBytes"));
        Assert.Equal(TempTree.Sha1Sum(a), group.Properties["Sha1"].Value);
        Assert.Empty(Ps.Run("Get-HashallDuplicate -MinimumSize 50000").Succeeded().Output);
        Assert.Equal(2, Ps.Run("Get-HashallDuplicate -MinimumSize 0").Succeeded().Output.Count); // the empty files too

        var shown = Ps.Run("Get-HashallDuplicate | Out-Default").Succeeded().HostText;
        Assert.Contains("78 KiB", shown);
    }

    [Fact]
    public void DeletedFilesAreHiddenUnlessAskedFor()
    {
        string gone = Write("gone", 10, 1);
        Write("stays", 10, 2);
        Ps.Run("Invoke-HashallScan $args[0]", Data).Succeeded();
        File.Delete(gone);
        Assert.Equal(1, Long(Ps.Run("Invoke-HashallScan $args[0]", Data).Succeeded().Output.Single(), "Deleted"));
        Assert.Single(Ps.Run("Get-HashallFile -Path $args[0]", Data).Succeeded().Output);
        var all = Ps.Run("Get-HashallFile -Path $args[0] -IncludeDeleted | Where-Object Status -eq deleted | ForEach-Object FullName", Data).Succeeded().Output;
        Assert.Equal(gone, all.Single().BaseObject);
        // The path no longer exists, and still resolves to its catalogued device.
        Assert.Single(Ps.Run("Get-HashallFile -Path $args[0] -IncludeDeleted", gone).Succeeded().Output);
    }

    [Fact]
    public void CtrlCStopsTheScanQuicklyAndTheNextScanContinues()
    {
        for (int i = 0; i < 300; i++)
            Write($"d{i % 5}/f{i}.bin", 512 * 1024, i);
        TempTree.Age(Data); // not racily clean: what the stopped scan saved is not read again
        // Stopped at the first progress report: after the first directory, long before the end.
        var took = Ps.RunAndStop("Invoke-HashallScan -Path $args[0] -ThrottleLimit 1",
            p => p.RecordType != ProgressRecordType.Completed && p.StatusDescription.Contains("files found"), Data);
        Assert.True(took < TimeSpan.FromSeconds(15), $"stopping took {took}"); // a hang guard: how early it stopped is what the counts below show

        long saved = Ps.Run("@(Get-HashallFile -Path $args[0]).Count", Data).Succeeded().Output.Single().BaseObject is int n ? n : -1;
        Assert.InRange(saved, 0, 299);
        var next = Ps.Run("Invoke-HashallScan -Path $args[0]", Data).Succeeded().Output.Single();
        Assert.Equal(saved, Long(next, "Unchanged"));
        Assert.Equal(300 - saved, Long(next, "Hashed"));
        Assert.Equal(0, Long(next, "Deleted"));
    }

    [Fact]
    public void BracketsInNamesAreLiteralForPipedFilesAndLiteralPath()
    {
        string movie = Write("Movie [1080p]/Movie [1080p].mkv", 3000, 9);
        Ps.Run("Invoke-HashallScan $args[0]", Data).Succeeded();
        Assert.Single(Ps.Run("Get-HashallFile -LiteralPath $args[0]", movie).Succeeded().Output);
        Assert.Single(Ps.Run("[IO.FileInfo]::new($args[0]) | Get-HashallFile", movie).Succeeded().Output);
        Assert.Single(Ps.Run("Get-HashallFile -Path ($args[0] + '/Movie*/*.mkv')", Data).Succeeded().Output);
    }

    [Fact]
    public void BadQueriesNameTheirInput()
    {
        Ps.Run("Set-HashallDevice /dev/shm shm").Succeeded(); // a catalog to query, with another filesystem in it
        Assert.Equal("HashInvalid,Hashall.PowerShell.Catalog.GetHashallFileCommand", Ps.Run("Get-HashallFile -Hash xyz").TerminatingErrorId);
        var unknown = Ps.Run("Get-HashallFile -Path $args[0] -ErrorVariable e -ErrorAction SilentlyContinue; $e | ForEach-Object FullyQualifiedErrorId", Data);
        Assert.Equal("PathNotCatalogued,Hashall.PowerShell.Catalog.GetHashallFileCommand", unknown.Output.Single().BaseObject);
    }
}
