using System.Management.Automation;
using Hashall.Tests.Shared;

namespace Hashall.PowerShell.Tests;

/// <summary>Get-HashallDevice and Set-HashallDevice, as a user types them, on real mounts.</summary>
public sealed class DeviceCmdletTests : IDisposable
{
    private readonly TempTree _tree = new();
    private readonly string _db;
    private readonly PowerShellSession _ps;

    public DeviceCmdletTests()
    {
        _db = _tree.Path("catalog.db");
        _ps = new PowerShellSession(_db);
    }

    public void Dispose()
    {
        _ps.Dispose();
        _tree.Dispose();
    }

    /// <summary>A directory on its own filesystem: a fresh tmpfs when root, else /dev/shm.</summary>
    private string SecondDevice(string name)
    {
        if (Capabilities.CanMountTmpfs)
            return _tree.MountTmpfs(name);
        string dir = Path.Combine("/dev/shm", "hashall-test-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(dir);
        return dir;
    }

    [Fact]
    public void SetRegistersAPathsFilesystemAndGetListsIt()
    {
        string pool = SecondDevice("pool");
        var set = _ps.Run("Set-HashallDevice -Device $args[0] -Alias pool -PassThru", Path.Combine(pool)).Succeeded();
        var device = set.Output.Single();
        Assert.Equal("pool", device.Properties["Alias"].Value);
        Assert.Equal("tmpfs", device.Properties["FileSystem"].Value);
        Assert.Equal("MountFallback", device.Properties["IdentityKind"].Value.ToString());
        Assert.Equal(0L, device.Properties["Files"].Value);
        Assert.Null(device.Properties["LastScan"].Value);
        Assert.Equal(_db, device.Properties["Database"].Value);
        if (Capabilities.CanMountTmpfs)
            Assert.Equal(pool, device.Properties["MountPoint"].Value);

        // The same filesystem through another path is the same device, not a new one.
        Directory.CreateDirectory(Path.Combine(pool, "sub dir"));
        var again = _ps.Run("Get-HashallDevice -Device $args[0]", Path.Combine(pool, "sub dir")).Succeeded().Output.Single();
        Assert.Equal(device.Properties["DeviceId"].Value, again.Properties["DeviceId"].Value);
        var all = _ps.Run("Get-HashallDevice").Succeeded().Output;
        Assert.Single(all);
    }

    [Fact]
    public void PipelineFiltersAndBindsByPropertyName()
    {
        string stash = SecondDevice("stash");
        string pool = SecondDevice("pool");
        _ps.Run("Set-HashallDevice $args[0] stash; Set-HashallDevice $args[1] pool", stash, pool).Succeeded();

        var filtered = _ps.Run("Get-HashallDevice | Where-Object Alias -like 'po*'").Succeeded().Output;
        Assert.Equal("pool", Assert.Single(filtered).Properties["Alias"].Value);

        // Device objects pipe into Set-HashallDevice by DeviceId and Database.
        _ps.Run("Get-HashallDevice -Device pool | Set-HashallDevice -Alias bigpool -Confirm:$false").Succeeded();
        var aliases = _ps.Run("Get-HashallDevice | ForEach-Object Alias").Succeeded().Output.Select(o => (string)o.BaseObject).Order();
        Assert.Equal(["bigpool", "stash"], aliases);

        // Strings pipe in by value, wildcards select by alias, each device is written once.
        var byValue = _ps.Run("'stash', 'big*', '1' | Get-HashallDevice").Succeeded().Output;
        Assert.Equal(2, byValue.Count);
    }

    [Fact]
    public void WhatIfChangesNothingAndTellsTheHost()
    {
        string pool = SecondDevice("pool");
        var register = _ps.Run("Set-HashallDevice -Device $args[0] -Alias pool -WhatIf", pool).Succeeded();
        Assert.Contains("What if: Performing the operation \"Add to catalog", register.HostText);
        Assert.False(File.Exists(_db)); // not even created
        Assert.StartsWith("CatalogNotFound,", _ps.Run("Get-HashallDevice").TerminatingErrorId);

        _ps.Run("Set-HashallDevice -Device $args[0] -Alias pool", pool).Succeeded();
        var rename = _ps.Run("Set-HashallDevice -Device pool -Alias other -WhatIf").Succeeded();
        Assert.Contains("What if: Performing the operation \"Set alias 'other'\" on target \"device 1 'pool'", rename.HostText);
        Assert.Equal("pool", _ps.Run("(Get-HashallDevice 1).Alias").Succeeded().Output.Single().BaseObject);
    }

    [Fact]
    public void AliasRulesAreEnforcedWithStableIds()
    {
        string a = SecondDevice("a");
        string b = SecondDevice("b");
        _ps.Run("Set-HashallDevice $args[0] pool; Set-HashallDevice $args[1] stash", a, b).Succeeded();

        Assert.Equal("DeviceAliasInUse,Hashall.PowerShell.Devices.SetHashallDeviceCommand",
            _ps.Run("Set-HashallDevice stash -Alias POOL").TerminatingErrorId);
        Assert.Equal("DeviceAliasInvalid,Hashall.PowerShell.Devices.SetHashallDeviceCommand",
            _ps.Run("Set-HashallDevice stash -Alias '12'").TerminatingErrorId);
        Assert.Equal("DeviceAliasInvalid,Hashall.PowerShell.Devices.SetHashallDeviceCommand",
            _ps.Run("Set-HashallDevice stash -Alias 'my pool'").TerminatingErrorId);

        // Alias lookup ignores case; an empty alias removes it.
        _ps.Run("Set-HashallDevice STASH -Alias ''").Succeeded();
        Assert.Null(_ps.Run("(Get-HashallDevice 2).Alias").Succeeded().Output.Single()?.BaseObject);
    }

    [Fact]
    public void UnknownDevicesAreTerminatingErrorsNamingTheSelector()
    {
        string pool = SecondDevice("pool");
        _ps.Run("Set-HashallDevice $args[0] pool", pool).Succeeded();

        var byAlias = _ps.Run("Get-HashallDevice -Device nosuch");
        Assert.Equal("DeviceNotFound,Hashall.PowerShell.Devices.GetHashallDeviceCommand", byAlias.TerminatingErrorId);
        Assert.Equal("nosuch", byAlias.Terminating!.ErrorRecord.TargetObject);
        Assert.Equal(ErrorCategory.ObjectNotFound, byAlias.Terminating.ErrorRecord.CategoryInfo.Category);

        Assert.Equal("DeviceNotFound,Hashall.PowerShell.Devices.GetHashallDeviceCommand", _ps.Run("Get-HashallDevice 42").TerminatingErrorId);
        Assert.Equal("DeviceNotFound,Hashall.PowerShell.Devices.SetHashallDeviceCommand", _ps.Run("Set-HashallDevice 42 -Alias x").TerminatingErrorId);
        Assert.Equal("DeviceNotFound,Hashall.PowerShell.Devices.GetHashallDeviceCommand",
            _ps.Run("Get-HashallDevice -Device $args[0]", Path.Combine(pool, "missing", "file")).TerminatingErrorId);

        // A real path on a filesystem the catalog does not hold yet: Get refuses, and registers nothing.
        var notCatalogued = _ps.Run("Get-HashallDevice -Device $args[0]", _tree.Root);
        Assert.Equal("DeviceNotCatalogued,Hashall.PowerShell.Devices.GetHashallDeviceCommand", notCatalogued.TerminatingErrorId);
        Assert.Single(_ps.Run("Get-HashallDevice").Succeeded().Output);

        // A wildcard that matches nothing is not an error.
        Assert.Empty(_ps.Run("Get-HashallDevice 'zz*'").Succeeded().Output);
    }

    [Fact]
    public void DefaultViewIsATable()
    {
        string pool = SecondDevice("pool");
        _ps.Run("Set-HashallDevice $args[0] pool", pool).Succeeded();
        var shown = _ps.Run("Get-HashallDevice | Out-Default").Succeeded();
                var lines = shown.HostText.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.TrimEnd()).ToList();
        Assert.Matches(@"^\s*DeviceId Alias\s+MountPoint\s+FileSystem\s+IdentityKind\s+Files\s+Size Reclaimable LastScan$", lines[0]);
        Assert.Matches(@"^\s*1 pool\s+\S+\s+tmpfs\s+MountFallback\s+0\s+0 B\s+0 B never$", lines[2]);
    }

    [Fact]
    public void DeviceAliasesAndIdsComplete()
    {
        string a = SecondDevice("a");
        string b = SecondDevice("b");
        _ps.Run("Set-HashallDevice $args[0] pool; Set-HashallDevice $args[1] stash", a, b).Succeeded();
        var result = _ps.Run(@"
$line = ""Get-HashallDevice -Database '$($args[0])' -Device p""
(TabExpansion2 -inputScript $line -cursorColumn $line.Length).CompletionMatches | ForEach-Object CompletionText
", _db).Succeeded();
        Assert.Equal(["pool"], result.Output.Select(o => (string)o.BaseObject));
        var ids = _ps.Run(@"
$line = ""Set-HashallDevice -Database '$($args[0])' -Alias x -Device ""
(TabExpansion2 -inputScript $line -cursorColumn $line.Length).CompletionMatches | ForEach-Object CompletionText
", _db).Succeeded();
        Assert.Equal(["pool", "1", "stash", "2"], ids.Output.Select(o => (string)o.BaseObject));
    }

    [Fact]
    public void ARelativeDatabaseCompletesFromThePowerShellLocation()
    {
        _ps.Run("Set-HashallDevice $args[0] pool", SecondDevice("a")).Succeeded();
        Assert.NotEqual(_tree.Root, Environment.CurrentDirectory); // the process's directory is not the shell's
        foreach (string database in new[] { "catalog.db", "./catalog.db", "../" + Path.GetFileName(_tree.Root) + "/catalog.db" })
        {
            var result = _ps.Run(@"
$ExecutionContext.SessionState.Path.SetLocation($args[0]) | Out-Null
$line = ""Get-HashallDevice -Database '$($args[1])' -Device p""
(TabExpansion2 -inputScript $line -cursorColumn $line.Length).CompletionMatches | ForEach-Object CompletionText
", _tree.Root, database).Succeeded();
            Assert.Equal(["pool"], result.Output.Select(o => (string)o.BaseObject));
        }
    }
}
