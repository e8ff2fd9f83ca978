using Hashall.Tests.Shared;

namespace Hashall.PowerShell.Tests;

/// <summary>The module folder that `dotnet build` produced imports, and runs from itself.</summary>
public sealed class ModuleLayoutTests
{
    [Fact]
    public void ManifestIsValidAndExportsExactlyTheCmdletsItLists()
    {
        using var session = new PowerShellSession();
        var result = session.Run(@"
$m = Test-ModuleManifest -Path $args[0] -ErrorAction Stop
$listed = @($m.ExportedCmdlets.Keys | ForEach-Object { $_ })
$loaded = @((Get-Module Hashall).ExportedCmdlets.Keys | ForEach-Object { $_ })
[pscustomobject]@{ Listed = ($listed -join ','); Loaded = ($loaded -join ','); Editions = ($m.CompatiblePSEditions -join ',') }
", ModuleFolder.Manifest).Succeeded();
        var row = result.Output.Single();
        var listed = ((string)row.Properties["Listed"].Value).Split(',').Order().ToArray();
        var loaded = ((string)row.Properties["Loaded"].Value).Split(',').Order().ToArray();
        Assert.Equal(listed, loaded);
        Assert.Contains("Get-HashallDevice", loaded);
        Assert.Contains("Set-HashallDevice", loaded);
        Assert.Equal("Desktop,Core", row.Properties["Editions"].Value);
    }

    [Fact]
    public void AssembliesAndNativeSqliteLoadFromTheModuleFolder()
    {
        using var tree = new TempTree();
        using var session = new PowerShellSession();
        var result = session.Run(@"
Set-HashallDevice $args[1] here -Database $args[0] | Out-Null
[AppDomain]::CurrentDomain.GetAssemblies() |
    Where-Object { $_.GetName().Name -in 'Hashall.PowerShell','Hashall.Core','Microsoft.Data.Sqlite','SQLitePCLRaw.provider.e_sqlite3' } |
    ForEach-Object { $_.Location }
", tree.Path("catalog.db"), tree.Root).Succeeded();
        var locations = result.Output.Select(o => (string)o.BaseObject).ToList();
        Assert.Equal(4, locations.Count);
        Assert.All(locations, l => Assert.StartsWith(ModuleFolder.Path + "/", l));
        // The native library mapped into this process is the module folder's copy (where the kernel
        // lists a process's mappings in /proc/self/maps, i.e. on Linux; the Pester package test covers
        // loading SQLite on every runner).
        if (File.Exists("/proc/self/maps"))
        {
            var maps = File.ReadAllLines("/proc/self/maps").Where(l => l.EndsWith("e_sqlite3.so")).Select(l => l[(l.IndexOf('/'))..]).Distinct().ToList();
            string rid = System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture == System.Runtime.InteropServices.Architecture.Arm64 ? "linux-arm64" : "linux-x64";
            Assert.Equal([Path.Combine(ModuleFolder.Path, rid, "e_sqlite3.so")], maps);
        }
        Assert.True(File.Exists(tree.Path("catalog.db")));
    }

    [Fact]
    public void ImportLoadsNoSqliteUntilACatalogIsUsed()
    {
        // Scheduled scripts and tab completion start fresh processes: importing the module, completing
        // its parameter names and reading its help must not load SQLite (managed or native); the first
        // command that opens a catalog does. A fresh process, because this one has SQLite loaded already.
        using var tree = new TempTree();
        var (exit, output) = ChildShell.Run($@"
$ErrorActionPreference = 'Stop'
function Sqlite {{
    $managed = @([AppDomain]::CurrentDomain.GetAssemblies() | ForEach-Object {{ $_.GetName().Name }} | Where-Object {{ $_ -like 'Microsoft.Data.Sqlite' -or $_ -like 'SQLitePCLRaw*' }})
    $native = @([Diagnostics.Process]::GetCurrentProcess().Modules | ForEach-Object {{ $_.ModuleName }} | Where-Object {{ $_ -like '*e_sqlite3*' }})
    $all = [string[]]($managed + $native); [Array]::Sort($all); $all -join ','
}}
Import-Module '{ModuleFolder.Manifest}'
'import: ' + (Sqlite)
$line = 'Get-HashallDuplicate -Min'
$names = (TabExpansion2 -inputScript $line -cursorColumn $line.Length).CompletionMatches | ForEach-Object CompletionText
$synopsis = (Get-Help Get-HashallDuplicate).Synopsis
'completion and help: ' + (Sqlite) + ' | ' + ($names -join ',') + ' | ' + [bool]$synopsis
Set-HashallDevice '{tree.Root}' here -Database '{tree.Path("catalog.db")}' | Out-Null
'catalog: ' + (Sqlite)
");
        Assert.True(exit == 0, output);
        var lines = output.Split('\n', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        Assert.Contains("import:", lines);
        Assert.Contains("completion and help:  | -MinimumSize | True", lines);
        var loaded = lines.Single(l => l.StartsWith("catalog: ", StringComparison.Ordinal));
        Assert.Contains("Microsoft.Data.Sqlite", loaded);
        Assert.Contains("SQLitePCLRaw.provider.e_sqlite3", loaded);
        Assert.Contains("e_sqlite3", loaded.Replace("SQLitePCLRaw.provider.e_sqlite3", ""));
    }

    [Theory]
    [InlineData("linux-x64/e_sqlite3.so")]
    [InlineData("linux-arm64/e_sqlite3.so")]
    [InlineData("osx-x64/e_sqlite3.dylib")]
    [InlineData("osx-arm64/e_sqlite3.dylib")]
    [InlineData("win-x64/e_sqlite3.dll")]
    [InlineData("win-arm64/e_sqlite3.dll")]
    [InlineData("Hashall.Format.ps1xml")]
    [InlineData("Hashall.Types.ps1xml")]
    [InlineData("en-US/Hashall.PowerShell.dll-Help.xml")]
    [InlineData("en-US/about_Hashall.help.txt")]
    public void ModuleFolderShipsEveryPlatformsNativeSqliteAndHelp(string relative)
    {
        var file = new FileInfo(Path.Combine(ModuleFolder.Path, relative));
        Assert.True(file.Exists, file.FullName);
        Assert.True(file.Length > 1000, file.FullName);
    }

    [Fact]
    public void TestBinHoldsNoModuleAssemblies()
    {
        // The ProjectReference trap: module DLLs here would win over the module folder.
        foreach (var name in new[] { "Hashall.PowerShell.dll", "Hashall.Core.dll", "Microsoft.Data.Sqlite.dll" })
            Assert.False(File.Exists(Path.Combine(AppContext.BaseDirectory, name)), name);
    }
}
