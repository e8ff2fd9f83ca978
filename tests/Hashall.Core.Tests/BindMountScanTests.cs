using Hashall.Core.Catalog;
using Hashall.Core.Devices;
using Hashall.Core.Linking;
using Hashall.Core.Scanning;

namespace Hashall.Core.Tests;

/// <summary>
/// Bind mounts (issue 10, item 7), with real `mount --bind` as root, on the normal disk and on tmpfs:
/// one below a root is a nested mount like any other, and a bind mount scanned itself is the device of
/// its filesystem, with paths inside that filesystem — never a second device, never a second row.
/// </summary>
public sealed class BindMountScanTests : IDisposable
{
    private readonly ScanFixture _f = new();

    public void Dispose() => _f.Dispose();

    private IReadOnlyList<HashallDevice> Devices()
    {
        using var db = CatalogDatabase.Open(_f.Db);
        return new DeviceStore(db).List();
    }

    [RequiresFact(Needs.Tmpfs)]
    public void ABindMountBelowARootIsANestedMountAndNotCatalogedTwice()
    {
        _f.Write("src/movie.mkv", ScanFixture.RandomBytes(200_000, 1));
        _f.Write("src/other.mkv", ScanFixture.RandomBytes(200_000, 1)); // a real duplicate, for the planner
        string view = _f.Tree.BindMount(Path.Combine(_f.Data, "src"), "data/view");
        File.WriteAllText(Path.Combine(_f.Data, "movie-view.mkv"), "");
        string fileView = Path.Combine(_f.Data, "movie-view.mkv");
        TempTree.Run("mount", "--bind", Path.Combine(_f.Data, "src/movie.mkv"), fileView); // a single file, bound
        try
        {
            var fileBound = _f.Scan();
            Assert.Equal([fileView, view], fileBound.NestedMounts.Order(StringComparer.Ordinal));
            Assert.Equal(2, fileBound.Added);
        }
        finally
        {
            TempTree.Run("umount", fileView);
        }
        File.Delete(fileView);

        var result = _f.Scan();

        Assert.Equal([view], result.NestedMounts);
        Assert.Equal([view], _f.Observer.NestedMounts);
        Assert.Equal(0, result.Added);
        var rows = _f.Rows(includeDeleted: false);
        Assert.Equal([Path.Combine(_f.Data, "src/movie.mkv"), Path.Combine(_f.Data, "src/other.mkv")], rows.Keys.Order(StringComparer.Ordinal));

        // Crossing it walks nothing new: it shows a folder this scan already walks.
        var crossed = _f.Scan(new ScanOptions { CrossMounts = true });
        Assert.Equal(2, crossed.Seen);
        Assert.Equal(2, _f.Rows(includeDeleted: false).Count);
        Assert.Single(Devices());

        // The planner sees the one real duplicate, not the bind mount's view of each file as a link.
        using var db = CatalogDatabase.Open(_f.Db);
        var device = new DeviceStore(db).Resolve(_f.Data, new DeviceLocator(), register: false);
        var plan = new LinkPlanner(db).Preview(device, "", 1, "bind");
        Assert.Equal(1, plan.ActionCount);
        Assert.Equal(200_000, plan.BytesPlanned);
    }

    [RequiresFact(Needs.Tmpfs)]
    public void ScanningABindMountOnTheDiskIsTheDeviceOfItsFileSystem()
    {
        _f.Write("src/a.bin", ScanFixture.RandomBytes(10_000, 2));
        _f.Write("outside/b.bin", ScanFixture.RandomBytes(10_000, 3));
        string view = _f.Tree.BindMount(Path.Combine(_f.Data, "src"), "view"); // outside the data root
        TempTree.Age(_f.Data);

        _f.Scan();
        var first = Devices();
        var viaBind = _f.Scan(null, default, view);

        Assert.Empty(_f.Observer.Errors);
        Assert.Equal(1, viaBind.Unchanged); // the same row, found through the bind mount
        Assert.Equal(0, viaBind.Added + viaBind.Hashed);
        var devices = Devices();
        Assert.Equal(first.Select(d => (d.DeviceId, d.Identity)), devices.Select(d => (d.DeviceId, d.Identity)));
        Assert.Equal(["a.bin", "b.bin"], _f.Rows().Values.Select(r => r.Name).Order());
        Assert.Equal(Path.Combine(_f.Data, "src/a.bin"), _f.Rows().Keys.Single(k => k.EndsWith("a.bin")));
    }

    [RequiresFact(Needs.Tmpfs)]
    public void ScanningABindMountOfATmpfsFolderIsThatTmpfsWithItsRootInside()
    {
        string tmpfs = _f.Tree.MountTmpfs("pool");
        Directory.CreateDirectory(Path.Combine(tmpfs, "shows/s1"));
        File.WriteAllBytes(Path.Combine(tmpfs, "shows/s1/e1.mkv"), ScanFixture.RandomBytes(30_000, 4));
        File.WriteAllBytes(Path.Combine(tmpfs, "top.bin"), ScanFixture.RandomBytes(30_000, 5));
        string bind = _f.Tree.BindMount(Path.Combine(tmpfs, "shows"), "shows-bind");

        var viaBind = _f.Scan(null, default, bind);
        Assert.Empty(_f.Observer.Errors);
        Assert.Equal(1, viaBind.Added);
        var device = Assert.Single(Devices());
        Assert.Equal(tmpfs, device.MountPoint);
        Assert.Equal("/", device.MountRoot);
        var row = Assert.Single(_f.Rows().Values);
        Assert.Equal("shows/s1/e1.mkv", row.RelativePath); // relative to the tmpfs root, not to the bind mount
        Assert.Equal(Path.Combine(tmpfs, "shows/s1/e1.mkv"), row.FullName);

        var whole = _f.Scan(null, default, tmpfs);
        Assert.Equal(1, whole.Added); // top.bin; e1.mkv is the row the bind scan made
        Assert.Equal(1, whole.Unchanged);
        Assert.Single(Devices());
        Assert.Equal(2, _f.Rows().Count);
    }

    [RequiresFact(Needs.Tmpfs)]
    public void ABindMountOfAWholeTmpfsIsThatTmpfsNotASecondDevice()
    {
        // `mount --bind pool pool-bind`: both mounts show the filesystem's root ("/"), and a tmpfs has
        // no UUID, so only the mount table can tell they are one filesystem.
        string tmpfs = _f.Tree.MountTmpfs("pool");
        File.WriteAllBytes(Path.Combine(tmpfs, "a.bin"), ScanFixture.RandomBytes(30_000, 6));
        string bind = _f.Tree.BindMount(tmpfs, "pool-bind");
        TempTree.Age(tmpfs);

        var first = _f.Scan(null, default, tmpfs);
        Assert.Equal(1, first.Added);
        var viaBind = _f.Scan(null, default, bind);
        var bindFirst = new ScanFixture();
        try
        {
            bindFirst.Scan(null, default, bind); // the other order, into a catalog of its own
            using var db = CatalogDatabase.Open(bindFirst.Db);
            Assert.Equal(tmpfs, Assert.Single(new DeviceStore(db).List()).MountPoint);
        }
        finally
        {
            bindFirst.Dispose();
        }

        Assert.Empty(_f.Observer.Errors);
        Assert.Equal(0, viaBind.Added + viaBind.Hashed);
        Assert.Equal(1, viaBind.Unchanged);
        Assert.Equal(tmpfs, Assert.Single(Devices()).MountPoint);
        Assert.Equal(Path.Combine(tmpfs, "a.bin"), Assert.Single(_f.Rows()).Key);
    }
}
