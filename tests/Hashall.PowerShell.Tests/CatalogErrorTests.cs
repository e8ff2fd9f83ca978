using System.Management.Automation;
using System.Security.Cryptography;
using Hashall.Tests.Shared;
using System.Buffers.Binary;

namespace Hashall.PowerShell.Tests;

/// <summary>Bad catalogs: a clear terminating error naming the file, and nothing created or changed.</summary>
public sealed class CatalogErrorTests : IDisposable
{
    private readonly TempTree _tree = new();
    private readonly PowerShellSession _ps = new();

    public void Dispose()
    {
        _ps.Dispose();
        _tree.Dispose();
    }

    // SQLite file header fields (https://sqlite.org/fileformat.html#the_database_header), big-endian.
    private const int UserVersionOffset = 60;
    private const int ApplicationIdOffset = 68;

    /// <summary>Edits a closed catalog's header as another program (or a newer Hashall) would have left it.</summary>
    private static void SetHeaderField(string db, int offset, int value)
    {
        Assert.False(File.Exists(db + "-wal") && new FileInfo(db + "-wal").Length > 0, "catalog not checkpointed");
        using var f = new FileStream(db, FileMode.Open, FileAccess.ReadWrite);
        var bytes = new byte[4];
        BinaryPrimitives.WriteInt32BigEndian(bytes, value);
        f.Position = offset;
        f.Write(bytes);
    }

    private static string Digest(string file) => Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(file)));

    /// <summary>Creates the catalog (only cmdlets that write may).</summary>
    private RunResult Make(string db) => _ps.Run("Set-HashallDevice $args[1] here -Database $args[0]", db, _tree.Root);

    private static void AssertFails(RunResult result, string errorId, string target, ErrorCategory category, string command = "GetHashallDeviceCommand")
    {
        Assert.NotNull(result.Terminating);
        Assert.Equal(errorId + ",Hashall.PowerShell.Devices." + command, result.TerminatingErrorId);
        Assert.Equal(category, result.Terminating!.ErrorRecord.CategoryInfo.Category);
        Assert.Contains(target, result.Terminating.Message);
    }

    [Fact]
    public void MissingDirectoryIsRefusedAndNothingIsCreated()
    {
        string db = _tree.Path("no", "such", "dir", "catalog.db");
        AssertFails(Make(db), "CatalogDirectoryNotFound", db, ErrorCategory.ObjectNotFound, "SetHashallDeviceCommand");
        AssertFails(_ps.Run("Get-HashallDevice -Database $args[0]", db), "CatalogNotFound", db, ErrorCategory.ObjectNotFound);
        Assert.False(Directory.Exists(_tree.Path("no")));
    }

    [Fact]
    public void ReadOnlyDirectoryIsRefusedAndNothingIsCreated()
    {
        string dir;
        if (Capabilities.CanMountTmpfs)
        {
            // root ignores mode bits: a read-only filesystem is the real thing.
            dir = _tree.MountTmpfs("ro", "ro,size=1m");
        }
        else
        {
            dir = _tree.Path("ro");
            Directory.CreateDirectory(dir);
            File.SetUnixFileMode(dir, UnixFileMode.UserRead | UnixFileMode.UserExecute);
        }
        string db = Path.Combine(dir, "catalog.db");
        AssertFails(Make(db), "CatalogNotWritable", db, ErrorCategory.PermissionDenied, "SetHashallDeviceCommand");
        Assert.Empty(Directory.GetFileSystemEntries(dir));
    }

    [Fact]
    public void CorruptFileIsRefusedAndLeftAlone()
    {
        string db = _tree.WriteFile("catalog.db", string.Concat(Enumerable.Repeat("this is not an sqlite database\n", 200)));
        string before = Digest(db);
        var result = _ps.Run("Get-HashallDevice -Database $args[0]", db);
        AssertFails(result, "CatalogCorrupt", db, ErrorCategory.InvalidData);
        Assert.Equal(before, Digest(db));
        Assert.Equal(["catalog.db"], Directory.GetFiles(_tree.Root).Select(Path.GetFileName));
    }

    [Fact]
    public void CatalogFromANewerModuleIsRefusedAndLeftAlone()
    {
        string db = _tree.Path("catalog.db");
        Make(db).Succeeded();
        SetHeaderField(db, UserVersionOffset, 9999);
        string before = Digest(db);
        var result = _ps.Run("Get-HashallDevice -Database $args[0]", db);
        AssertFails(result, "CatalogVersionTooNew", db, ErrorCategory.InvalidData);
        Assert.Contains("9999", result.Terminating!.Message);
        Assert.Equal(before, Digest(db));
        Assert.False(File.Exists(db + "-wal"));
    }

    [Fact]
    public void ForeignSqliteDatabaseIsRefusedAndLeftAlone()
    {
        // A real SQLite database with tables, whose application id is not Hashall's.
        string db = _tree.Path("photos.db");
        Make(db).Succeeded();
        SetHeaderField(db, ApplicationIdOffset, 0);
        string before = Digest(db);
        AssertFails(_ps.Run("Get-HashallDevice -Database $args[0]", db), "CatalogNotHashall", db, ErrorCategory.InvalidData);
        Assert.Equal(before, Digest(db));
    }

    [Fact]
    public void HashallDbEnvironmentVariableIsTheDefaultCatalog()
    {
        string db = _tree.Path("from-env.db");
        var result = _ps.Run("$env:HASHALL_DB = $args[0]; try { Set-HashallDevice $args[1] here; Get-HashallDevice } finally { [Environment]::SetEnvironmentVariable('HASHALL_DB', $null) }", db, _tree.Root).Succeeded();
        Assert.Equal("here", Assert.Single(result.Output).Properties["Alias"].Value);
        Assert.True(File.Exists(db));
    }

    [Fact]
    public void RelativeDatabasePathResolvesAgainstTheCurrentLocation()
    {
        _ps.Run("$ExecutionContext.SessionState.Path.SetLocation($args[0]) | Out-Null; Set-HashallDevice $args[0] here -Database ./rel.db", _tree.Root).Succeeded();
        Assert.True(File.Exists(_tree.Path("rel.db")));
    }
}
