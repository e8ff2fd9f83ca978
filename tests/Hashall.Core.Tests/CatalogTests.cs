using Hashall.Core;
using Hashall.Core.Catalog;
using Hashall.Core.Devices;
using Microsoft.Data.Sqlite;

namespace Hashall.Core.Tests;

/// <summary>The catalog file: pragmas, migrations, concurrency, and the device table.</summary>
public sealed class CatalogTests : IDisposable
{
    private readonly TempTree _tree = new();

    public void Dispose() => _tree.Dispose();

    private string Db => _tree.Path("catalog.db");

    [Fact]
    public void CatalogTimesReadBackExactlyAsWritten()
    {
        var rng = new Random(7);
        for (int i = 0; i < 2000; i++)
        {
            var t = new DateTime(1 + rng.Next(9998), 1, 1, 0, 0, 0, DateTimeKind.Utc).AddTicks((long)(rng.NextDouble() * TimeSpan.TicksPerDay * 365));
            string text = CatalogTime.Format(t);
            Assert.Equal(t, CatalogTime.Parse(text));
            Assert.Equal(DateTimeKind.Utc, CatalogTime.Parse(text).Kind);
        }
        Assert.Equal(new DateTime(2024, 2, 29, 23, 59, 59, DateTimeKind.Utc).AddTicks(9_999_999), CatalogTime.Parse("2024-02-29T23:59:59.9999999Z"));
        Assert.Throws<FormatException>(() => CatalogTime.Parse("2023-02-29T00:00:00.0000000Z"));
        Assert.Throws<FormatException>(() => CatalogTime.Parse("2023-01-01T-1:00:00.0000000Z"));
        Assert.Throws<FormatException>(() => CatalogTime.Parse("2023-01-01T00:00:00Z"));
    }

    [Fact]
    public void NewCatalogIsAtTheLatestVersionInWalModeWithABusyTimeout()
    {
        using var db = CatalogDatabase.Open(Db);
        Assert.Equal(Migrations.Latest, db.SchemaVersion);
        Assert.Equal("wal", db.Scalar("PRAGMA journal_mode;"));
        Assert.Equal((long)CatalogDatabase.BusyTimeoutMs, db.Scalar("PRAGMA busy_timeout;"));
        Assert.Equal((long)CatalogDatabase.ApplicationId, db.Scalar("PRAGMA application_id;"));
        Assert.Equal(1L, db.Scalar("PRAGMA foreign_keys;"));
        Assert.Equal((long)Migrations.Latest, db.Scalar("SELECT max(version) FROM schema_migrations;"));
    }

    [Fact]
    public void OlderCatalogIsUpgradedStepByStepAndKeepsItsData()
    {
        var v1 = Migrations.All[0];
        var v2 = new Migration(2, "test step", "CREATE TABLE extra (x INTEGER); INSERT INTO extra SELECT device_id FROM devices;");
        using (var db = CatalogDatabase.Open(Db, false, new[] { v1 }))
        {
            new DeviceStore(db).Register(TestDevices.Descriptor("uuid:old", "/mnt/old"));
            Assert.Equal(1, db.SchemaVersion);
        }
        using (var db = CatalogDatabase.Open(Db, false, new[] { v1, v2 }))
        {
            Assert.Equal(2, db.SchemaVersion);
            Assert.Equal(1L, db.Scalar("SELECT count(*) FROM extra;"));
            Assert.Equal("test step", db.Scalar("SELECT name FROM schema_migrations WHERE version = 2;"));
        }
    }

    [Fact]
    public void AVersion1CatalogIsUpgradedToTheLatestSchemaByTheModulesOwnMigrations()
    {
        using (var db = CatalogDatabase.Open(Db, false, new[] { Migrations.All[0] }))
            new DeviceStore(db).Register(TestDevices.Descriptor("uuid:v1", "/mnt/v1"));
        using (var db = CatalogDatabase.Open(Db))
        {
            Assert.Equal(Migrations.Latest, db.SchemaVersion);
            Assert.Equal((long)Migrations.All.Count, db.Scalar("SELECT count(*) FROM schema_migrations;"));
            Assert.Equal(0L, db.Scalar("SELECT count(*) FROM scans;"));
            Assert.Equal("/mnt/v1", Assert.Single(new DeviceStore(db).List()).MountPoint);
        }
    }

    [Fact]
    public void FailedMigrationRollsBackWholly()
    {
        var v1 = Migrations.All[0];
        var bad = new Migration(2, "half done", "CREATE TABLE half (x INTEGER); INSERT INTO no_such_table VALUES (1);");
        using (CatalogDatabase.Open(Db, false, new[] { v1 })) { }
        var e = Assert.Throws<HashallException>(() => CatalogDatabase.Open(Db, false, new[] { v1, bad }));
        Assert.Equal("CatalogMigrationFailed", e.ErrorId);
        Assert.Contains("half done", e.Message);
        using var db = CatalogDatabase.Open(Db, false, new[] { v1 });
        Assert.Equal(1, db.SchemaVersion);
        Assert.Equal(0L, db.Scalar("SELECT count(*) FROM sqlite_master WHERE name = 'half';"));
    }

    [Fact]
    public void CatalogNewerThanTheModuleIsRefused()
    {
        var v2 = new Migration(2, "from the future", "CREATE TABLE future (x INTEGER);");
        using (CatalogDatabase.Open(Db, false, new[] { Migrations.All[0], v2 })) { }
        var e = Assert.Throws<HashallException>(() => CatalogDatabase.Open(Db, false, new[] { Migrations.All[0] }));
        Assert.Equal("CatalogVersionTooNew", e.ErrorId);
    }

    [Fact]
    public async Task ASecondWriterWaitsForTheFirstRatherThanFailing()
    {
        using var first = CatalogDatabase.Open(Db);
        using var second = CatalogDatabase.Open(Db);
        var store = new DeviceStore(second);
        using var tx = first.Connection.BeginTransaction(deferred: false);
        using (var cmd = first.Command("INSERT INTO devices (identity, identity_kind, mount_point, fs_type, source, first_seen, last_seen) VALUES ('uuid:a','FilesystemUuid','/a','ext4','/dev/a','2026-01-01T00:00:00.0000000Z','2026-01-01T00:00:00.0000000Z');", tx))
            cmd.ExecuteNonQuery();
        var writer = Task.Run(() => store.FindById(store.Register(TestDevices.Descriptor("uuid:b", "/b")))!);
        Thread.Sleep(300);
        Assert.False(writer.IsCompleted); // queued behind the open write transaction
        // A reader (its own connection) is not blocked by the writer (WAL).
        using (var third = CatalogDatabase.Open(Db))
            Assert.Empty(new DeviceStore(third).List());
        tx.Commit();
        Assert.Equal("/b", (await writer).MountPoint);
        Assert.Equal(2, new DeviceStore(first).List().Count);
    }

    [Fact]
    public void DevicesRegisterOnceByIdentityAndFollowTheirMountPoint()
    {
        using var db = CatalogDatabase.Open(Db);
        var store = new DeviceStore(db);
        var first = store.FindById(store.Register(TestDevices.Descriptor("uuid:1234", "/mnt/pool")))!;
        var moved = store.FindById(store.Register(TestDevices.Descriptor("uuid:1234", "/media/pool")))!;
        Assert.Equal(first.DeviceId, moved.DeviceId);
        Assert.Equal("/media/pool", moved.MountPoint);
        Assert.Single(store.List());
    }

    [Fact]
    public void DeviceTotalsCountEachInodeOnceAndSkipDeletedFiles()
    {
        using var db = CatalogDatabase.Open(Db);
        var store = new DeviceStore(db);
        var device = store.FindById(store.Register(TestDevices.Descriptor("uuid:1", "/mnt/a")))!;
        void AddFile(string path, long size, long inode, string status)
        {
            using var cmd = db.Command("INSERT INTO files (device_id, path, size, mtime_ns, inode, link_count, first_seen, last_seen, status) VALUES ($d, $p, $s, 0, $i, 1, '2026-01-01T00:00:00.0000000Z', '2026-01-01T00:00:00.0000000Z', $st);");
            cmd.Parameters.AddWithValue("$d", device.DeviceId);
            cmd.Parameters.AddWithValue("$p", path);
            cmd.Parameters.AddWithValue("$s", size);
            cmd.Parameters.AddWithValue("$i", inode);
            cmd.Parameters.AddWithValue("$st", status);
            cmd.ExecuteNonQuery();
        }
        AddFile("a", 100, 1, "active");
        AddFile("a-link", 100, 1, "active");
        AddFile("b", 50, 2, "active");
        AddFile("gone", 1000, 3, "deleted");
        var listed = store.WithTotals(store.FindById(device.DeviceId)!);
        Assert.Equal(3, listed.Files);
        Assert.Equal(150, listed.Bytes);
    }

    [Fact]
    public void AliasesAreUniqueIgnoringCaseAndValidated()
    {
        using var db = CatalogDatabase.Open(Db);
        var store = new DeviceStore(db);
        var a = store.FindById(store.Register(TestDevices.Descriptor("uuid:a", "/a")))!;
        var b = store.FindById(store.Register(TestDevices.Descriptor("uuid:b", "/b")))!;
        store.SetAlias(a.DeviceId, "Pool");
        Assert.Equal("DeviceAliasInUse", Assert.Throws<HashallException>(() => store.SetAlias(b.DeviceId, "pool")).ErrorId);
        foreach (var bad in new[] { "1pool", "my pool", "a/b", new string('a', 65) })
            Assert.Equal("DeviceAliasInvalid", Assert.Throws<HashallException>(() => store.SetAlias(b.DeviceId, bad)).ErrorId);
        Assert.Equal(a.DeviceId, store.Resolve("POOL", new DeviceLocator(), register: false).DeviceId);
        Assert.Equal(b.DeviceId, store.Resolve(b.DeviceId.ToString(), new DeviceLocator(), register: false).DeviceId);
        Assert.Null(store.SetAlias(a.DeviceId, null).Alias);
    }

    [Fact]
    public void ResolvingAPathRegistersItsFilesystemOnlyWhenAsked()
    {
        using var db = CatalogDatabase.Open(Db);
        var store = new DeviceStore(db);
        var e = Assert.Throws<HashallException>(() => store.Resolve(_tree.Root, new DeviceLocator(), register: false));
        Assert.Equal("DeviceNotCatalogued", e.ErrorId);
        Assert.Empty(store.List());
        var device = store.Resolve(_tree.Root, new DeviceLocator(), register: true);
        Assert.Equal(device.DeviceId, store.Resolve(_tree.Root, new DeviceLocator(), register: false).DeviceId);
        Assert.Equal("DeviceNotFound", Assert.Throws<HashallException>(() => store.Resolve("99", new DeviceLocator(), false)).ErrorId);
        Assert.Equal("DeviceNotFound", Assert.Throws<HashallException>(() => store.Resolve("nosuch", new DeviceLocator(), false)).ErrorId);
    }

    [Fact]
    public void LockedCatalogIsReportedAsBusy()
    {
        using (CatalogDatabase.Open(Db)) { }
        using var holder = new SqliteConnection($"Data Source={Db};Pooling=False");
        holder.Open();
        using (var cmd = holder.CreateCommand())
        {
            cmd.CommandText = "PRAGMA locking_mode = EXCLUSIVE; BEGIN EXCLUSIVE;";
            cmd.ExecuteNonQuery();
        }
        var e = Assert.Throws<HashallException>(() => CatalogDatabase.Open(Db, false, null, busyTimeoutMs: 200));
        Assert.Equal("CatalogBusy", e.ErrorId);
        Assert.Contains(Db, e.Message);
    }
}

internal static class TestDevices
{
    public static DeviceDescriptor Descriptor(string identity, string mountPoint) =>
        new(identity, DeviceIdentityKind.FilesystemUuid, new Hashall.Core.Platform.MountEntry(mountPoint, "ext4", "/dev/test", "/", 1));
}
