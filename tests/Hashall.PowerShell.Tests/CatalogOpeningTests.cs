using System.Management.Automation;
using System.Net.Sockets;
using Hashall.Tests.Shared;

namespace Hashall.PowerShell.Tests;

/// <summary>
/// Which names can be a catalog, which cmdlets may create one, and several processes making the same
/// new catalog at once: clear errors, nothing created where nothing should be, never a half-made catalog.
/// </summary>
public sealed class CatalogOpeningTests : IDisposable
{
    private readonly TempTree _tree = new();
    private readonly PowerShellSession _ps = new();

    public void Dispose()
    {
        _ps.Dispose();
        _tree.Dispose();
    }

    private string[] Entries(string dir) => Directory.GetFileSystemEntries(dir).Select(Path.GetFileName).Order(StringComparer.Ordinal).ToArray()!;

    private static void AssertRefused(RunResult result, string errorId, string? named)
    {
        Assert.NotNull(result.Terminating);
        Assert.StartsWith(errorId + ",", result.TerminatingErrorId);
        if (named != null)
            Assert.Contains(named, result.Terminating!.Message);
    }

    /// <summary>A reader, a writer and a scan, each with -Database <paramref name="db"/>.</summary>
    private IEnumerable<(string Command, RunResult Result)> ReaderAndWriters(string db)
    {
        yield return ("Get-HashallDevice", _ps.Run("Get-HashallDevice -Database $args[0]", db));
        yield return ("Set-HashallDevice", _ps.Run("Set-HashallDevice $args[1] somewhere -Database $args[0]", db, _tree.Root));
        yield return ("Invoke-HashallScan", _ps.Run("Invoke-HashallScan $args[1] -Database $args[0]", db, _tree.Path("data")));
        yield return ("Invoke-HashallScan -WhatIf", _ps.Run("Invoke-HashallScan $args[1] -Database $args[0] -WhatIf", db, _tree.Path("data")));
    }

    [Fact]
    public void PathsThatAreNotRegularFilesAreRefusedAndNothingIsWritten()
    {
        _tree.WriteFile("data/a.txt", "a");
        string dir = _tree.Path("dir");
        Directory.CreateDirectory(dir);
        string fifo = _tree.Path("fifo");
        TempTree.Run("mkfifo", fifo);
        string socketPath = _tree.Path("socket");
        using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        socket.Bind(new UnixDomainSocketEndPoint(socketPath));
        string dangling = _tree.Path("dangling.db");
        File.CreateSymbolicLink(dangling, _tree.Path("nowhere", "catalog.db"));
        string[] before = Entries(_tree.Root);

        foreach (var (db, id) in new[] { ("/dev/null", "CatalogNotAFile"), (fifo, "CatalogNotAFile"), (socketPath, "CatalogNotAFile"), (dangling, "CatalogNotAFile"), (dir, "CatalogPathIsDirectory") })
        {
            foreach (var (command, result) in ReaderAndWriters(db))
            {
                try
                {
                    AssertRefused(result, id, db);
                }
                catch (Exception e)
                {
                    throw new Xunit.Sdk.XunitException($"{command} -Database {db}: {e.Message}");
                }
            }
        }
        Assert.False(File.Exists("/dev/null-journal"));
        Assert.False(File.Exists("/dev/null-wal"));
        Assert.Equal(before, Entries(_tree.Root));
        Assert.Empty(Directory.GetFileSystemEntries(dir));
        Assert.Equal("crw-rw-rw-", TempTree.Run("stat", "-c", "%A", "/dev/null").Trim());

        // A symlink to a regular file is a catalog like any other.
        string real = _tree.Path("real.db");
        _ps.Run("Set-HashallDevice $args[1] here -Database $args[0]", real, _tree.Root).Succeeded();
        string link = _tree.Path("link.db");
        File.CreateSymbolicLink(link, real);
        var listed = _ps.Run("Get-HashallDevice -Database $args[0]", link).Succeeded();
        Assert.Equal("here", Assert.Single(listed.Output).Properties["Alias"].Value);
    }

    [Fact]
    public void BlankNamesAndSqliteSpecialNamesAreRefusedAndNothingIsCreated()
    {
        _tree.WriteFile("data/a.txt", "a");
        string cwd = _tree.Path("cwd");
        Directory.CreateDirectory(cwd);
        _ps.Run("$ExecutionContext.SessionState.Path.SetLocation($args[0]) | Out-Null", cwd).Succeeded();
        foreach (string name in new[] { " ", "   ", "\t", ":memory:", ":MEMORY:", "file:catalog.db", "file::memory:?cache=shared", "file:///tmp/x.db?mode=rwc" })
        {
            foreach (var (command, result) in ReaderAndWriters(name))
            {
                try
                {
                    AssertRefused(result, "CatalogPathInvalid", name.Trim().Length > 0 ? name : "blank");
                }
                catch (Exception e)
                {
                    throw new Xunit.Sdk.XunitException($"{command} -Database '{name}': {e.Message}");
                }
            }
        }
        // $env:HASHALL_DB is checked the same way.
        var fromEnv = _ps.Run("$env:HASHALL_DB = ':memory:'; try { Set-HashallDevice $args[0] x } finally { [Environment]::SetEnvironmentVariable('HASHALL_DB', $null) }", _tree.Root);
        AssertRefused(fromEnv, "CatalogPathInvalid", "HASHALL_DB");
        Assert.Empty(Directory.GetFileSystemEntries(cwd));
        Assert.False(File.Exists("/tmp/x.db"));
    }

    /// <summary>
    /// Every cmdlet that only reads (verb Get, whichever the module exports now or later) and every
    /// argument completer: a missing catalog is CatalogNotFound naming it, and no file appears.
    /// </summary>
    [Fact]
    public void CmdletsThatOnlyReadNeverCreateACatalog()
    {
        string db = _tree.Path("typo.db");
        var readers = _ps.Run("Get-Command -Module Hashall -Verb Get | ForEach-Object Name").Succeeded().Output.Select(o => o.ToString()).ToList();
        Assert.True(readers.Count >= 7, string.Join(", ", readers));
        foreach (string reader in readers)
        {
            // Mandatory parameters of the default parameter set get a well-formed value (a 40-digit hash, a path).
            var result = _ps.Run(@"$cmd = Get-Command $args[0]
                $set = $cmd.ParameterSets | Where-Object IsDefault
                if (-not $set) { $set = $cmd.ParameterSets[0] }
                $arguments = @{ Database = $args[1] }
                foreach ($p in $set.Parameters.Where({ $_.IsMandatory })) { $arguments[$p.Name] = if ($p.Name -like '*Hash') { '0' * 40 } else { $args[2] } }
                & $args[0] @arguments", reader, db, _tree.Root);
            try
            {
                AssertRefused(result, "CatalogNotFound", db);
                Assert.Equal(ErrorCategory.ObjectNotFound, result.Terminating!.ErrorRecord.CategoryInfo.Category);
            }
            catch (Exception e)
            {
                throw new Xunit.Sdk.XunitException($"{reader}: {e.Message} {result.Terminating?.Message}");
            }
            Assert.False(File.Exists(db), $"{reader} created the catalog");
        }
        // In a directory that does not exist either: still CatalogNotFound, nothing created.
        AssertRefused(_ps.Run("Get-HashallFile -Database $args[0]", _tree.Path("no", "dir", "catalog.db")), "CatalogNotFound", _tree.Path("no", "dir", "catalog.db"));
        Assert.False(Directory.Exists(_tree.Path("no")));

        // Completers read only, too (and a FIFO is never opened: completion would hang).
        string fifo = _tree.Path("fifo");
        TempTree.Run("mkfifo", fifo);
        foreach (string target in new[] { db, fifo })
        {
            foreach (string line in new[] { $"Set-HashallDevice -Database '{target}' -Device ", $"Invoke-HashallLinkPlan -Database '{target}' -Id ", $"Get-HashallSibling -Database '{target}' -TorrentHash " })
            {
                var completed = _ps.Run("$line = $args[0]; (TabExpansion2 -inputScript $line -cursorColumn $line.Length).CompletionMatches | Where-Object ResultType -eq ParameterValue", line).Succeeded();
                Assert.Empty(completed.Output);
            }
        }
        Assert.False(File.Exists(db));
        Assert.Equal(new[] { "fifo" }, Entries(_tree.Root));

        // A zero-length file is not a catalog yet: readers leave it alone, a writer makes the catalog in it.
        File.WriteAllBytes(db, []);
        AssertRefused(_ps.Run("Get-HashallDevice -Database $args[0]", db), "CatalogNotFound", db);
        Assert.Equal(0, new FileInfo(db).Length);
        _ps.Run("Set-HashallDevice $args[1] here -Database $args[0]", db, _tree.Root).Succeeded();
        Assert.Equal("here", Assert.Single(_ps.Run("Get-HashallDevice -Database $args[0]", db).Succeeded().Output).Properties["Alias"].Value);

        // Cmdlets that write create the catalog on first use.
        string made = _tree.Path("made.db");
        _tree.WriteFile("data/a.txt", "a");
        _ps.Run("Invoke-HashallScan $args[1] -Database $args[0]", made, _tree.Path("data")).Succeeded();
        Assert.Single(_ps.Run("Get-HashallFile -Database $args[0]", made).Succeeded().Output);
    }

    /// <summary>
    /// Separate processes (the bug is between processes): three scans create the same new catalog at
    /// once, while a fourth process reads it, over many rounds. Every scan succeeds; the reader sees no
    /// catalog or a whole one; each catalog is intact at the latest schema version, with no leftovers.
    /// </summary>
    [Fact]
    public async Task ProcessesCreatingOneNewCatalogAtOnceAllSucceed()
    {
        const int rounds = 100, slotMs = 250;
        for (int i = 0; i < 3; i++)
            for (int f = 0; f < 3; f++)
                _tree.WriteFile($"d{i}/f{f}.txt", $"{i}-{f}");
        string rounds_ = _tree.Path("rounds");
        Directory.CreateDirectory(rounds_);
        // The reference: a catalog made by one process alone.
        string reference = _tree.Path("reference.db");
        _ps.Run("Set-HashallDevice $args[1] x -Database $args[0]", reference, _tree.Root).Succeeded();
        long start = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() + 6000;
        string Script(string work) => $@"Import-Module '{ModuleFolder.Manifest}'
            Set-HashallDevice / warm -Database '{_tree.Path("warm-")}{Guid.NewGuid():N}.db' | Out-Null
            $rng = [Random]::new()
            foreach ($n in 1..{rounds}) {{
                # Each round starts at the same moment in every process, give or take up to 3 ms at random,
                # so that over the rounds one process's steps fall at every point of another's.
                $at = [DateTimeOffset]::FromUnixTimeMilliseconds({start} + {slotMs} * $n).UtcTicks + $rng.Next(0, 30000)
                # Asleep until 3 ms before (four spinning processes would load the tests running beside this one), then spinning.
                $idle = [int](($at - [DateTime]::UtcNow.Ticks) / 10000) - 3
                if ($idle -gt 0) {{ [Threading.Thread]::Sleep($idle) }}
                while ([DateTime]::UtcNow.Ticks -lt $at) {{ }}
                $db = '{rounds_}/r' + $n + '.db'
                try {{ {work} }} catch {{ 'FAILED round ' + $n + ': ' + $_.FullyQualifiedErrorId + ': ' + $_ }}
            }}";
        var children = Enumerable.Range(0, 3)
            .Select(i => ChildShell.Start(Script($"Invoke-HashallScan '{_tree.Path($"d{i}")}' -Database $db -ErrorAction Stop | Out-Null")))
            .Append(ChildShell.Start(Script("Get-HashallDevice -Database $db -ErrorAction Stop | Out-Null; 'found ' + $n")
                .Replace("catch {", "catch { if ($_.FullyQualifiedErrorId -like 'CatalogNotFound,*') { 'missing ' + $n; continue }")))
            .ToList();
        var outputs = new List<string>();
        foreach (var child in children)
        {
            var stdout = child.StandardOutput.ReadToEndAsync();
            var stderr = child.StandardError.ReadToEndAsync();
            Assert.True(child.WaitForExit(180_000), "a child shell hung");
            outputs.Add(await stdout + await stderr);
            child.Dispose();
        }
        string all = string.Join("\n", outputs);
        Assert.DoesNotContain("FAILED", all);
        Assert.Equal(rounds, outputs[3].Split('\n').Count(l => l.StartsWith("found ") || l.StartsWith("missing ")));

        var check = _ps.Run(@"foreach ($db in $args) {
                $c = [Microsoft.Data.Sqlite.SqliteConnection]::new(""Data Source=$db;Pooling=False""); $c.Open()
                try {
                    $cmd = $c.CreateCommand()
                    $cmd.CommandText = 'PRAGMA integrity_check'; $integrity = $cmd.ExecuteScalar()
                    $cmd.CommandText = 'PRAGMA user_version'; $version = $cmd.ExecuteScalar()
                    $cmd.CommandText = 'PRAGMA application_id'; $app = $cmd.ExecuteScalar()
                    $cmd.CommandText = 'SELECT count(DISTINCT path) FROM files'; $files = $cmd.ExecuteScalar()
                    ""$integrity $version $app $files""
                } finally { $c.Dispose() }
            }", [reference, .. Enumerable.Range(1, rounds).Select(n => Path.Combine(rounds_, $"r{n}.db"))]).Succeeded();
        var lines = check.Output.Select(o => o.ToString()).ToList();
        // The reference has no files; every round has the three scans' nine.
        string expected = string.Join(" ", lines[0].Split(' ')[..3]) + " 9";
        Assert.All(lines.Skip(1), l => Assert.Equal(expected, l));
        Assert.StartsWith("ok ", expected);
        Assert.DoesNotContain(Directory.GetFileSystemEntries(rounds_), e => e.Contains(".creating-"));
    }
}
