using Hashall.Core;
using Hashall.Core.Devices;
using Hashall.Core.Platform;

namespace Hashall.Core.Tests;

/// <summary>Mount table, device identity and path location on this machine's real mounts.</summary>
public sealed class DeviceTests : IDisposable
{
    private readonly TempTree _tree = new();

    public void Dispose() => _tree.Dispose();

    [Fact]
    public void MountInfoEscapesAndBindRootsParse()
    {
        var mounts = LinuxMountInfo.Parse(new[]
        {
            "36 35 98:0 /mnt1 /mnt/my\\040disk rw,noatime master:1 - ext3 /dev/root rw,errors=continue",
            "37 35 0:52 / /srv/stash rw shared:2 - tmpfs tmpfs rw,size=1024k",
            "garbage line",
        });
        Assert.Equal(2, mounts.Count);
        Assert.Equal("/mnt/my disk", mounts[0].MountPoint);
        Assert.Equal("/mnt1", mounts[0].Root);
        Assert.Equal("ext3", mounts[0].FileSystemType);
        Assert.Equal("/dev/root", mounts[0].Source);
        Assert.Equal(LinuxStat.MakeDev(98, 0), mounts[0].DeviceNumber);
        Assert.Equal(LinuxStat.MakeDev(0, 52), mounts[1].DeviceNumber);
    }

    [Fact]
    public void LocatesAPathOnATmpfsMountThroughASymlinkedDirectory()
    {
        // A fresh tmpfs when root (CI), else /dev/shm, which is a tmpfs of its own.
        string pool = Capabilities.CanMountTmpfs ? _tree.MountTmpfs("pool") : Directory.CreateTempSubdirectory("hashall-").FullName.Replace("/tmp", "/dev/shm");
        Directory.CreateDirectory(Path.Combine(pool, "sub dir"));
        string file = Path.Combine(pool, "sub dir", "f\nle ✓.txt");
        File.WriteAllText(file, "x");
        string viaLink = _tree.Path("link-to-pool");
        File.CreateSymbolicLink(viaLink, pool);

        var located = new DeviceLocator().Locate(Path.Combine(viaLink, "sub dir", "f\nle ✓.txt"));
        Assert.Equal(file, located.FullPath);
        Assert.Equal("tmpfs", located.Device.Mount.FileSystemType);
        Assert.Equal(DeviceIdentityKind.MountFallback, located.Device.IdentityKind);
        Assert.Equal(FileSystemApi.Lstat(pool).DeviceNumber, located.Device.Mount.DeviceNumber);
        if (Capabilities.CanMountTmpfs)
        {
            Assert.Equal(pool, located.Device.Mount.MountPoint);
            Assert.Equal("sub dir/f\nle ✓.txt", located.RelativePath);
        }
        Assert.NotEqual(new DeviceLocator().Locate(_tree.Root).Device.Identity, located.Device.Identity);
    }

    [Fact]
    public void EveryMountedFilesystemOfThisMachineHasAnIdentity()
    {
        var locator = new DeviceLocator();
        foreach (var mount in locator.Mounts.Where(m => m.FileSystemType is "tmpfs" or "ext4" or "overlay" or "xfs" or "btrfs"))
        {
            var device = locator.Describe(mount);
            Assert.False(string.IsNullOrEmpty(device.Identity));
            if (device.IdentityKind == DeviceIdentityKind.MountFallback)
                Assert.Equal($"mount:{mount.FileSystemType}:{mount.Source}:{mount.Root}@{mount.MountPoint}", device.Identity);
        }
    }

    [Fact]
    public void Ext4SuperblockUuidMatchesWhatMkfsWrote()
    {
        string image = _tree.Path("fs.img");
        const string uuid = "3f2b9c7e-1d44-4e55-9a0b-6c7d8e9fa012";
        TempTree.Run("truncate", "-s", "8M", image);
        TempTree.Run("mkfs.ext4", "-q", "-F", "-U", uuid, image);
        Assert.True(LinuxDeviceIdentity.TrySuperblockUuid(image, out var read));
        Assert.Equal(uuid, read);
        Assert.Equal(uuid, TempTree.Run("blkid", "-s", "UUID", "-o", "value", image).Trim());
    }

    [Fact]
    public void NonFilesystemDataHasNoSuperblockUuid()
    {
        string junk = _tree.WriteFile("junk.img", new string('j', 70000));
        Assert.False(LinuxDeviceIdentity.TrySuperblockUuid(junk, out _));
    }

    [Fact]
    public void MissingPathIsAnErrorNamingIt()
    {
        var e = Assert.Throws<HashallException>(() => new DeviceLocator().Locate(_tree.Path("gone")));
        Assert.Equal("PathNotFound", e.ErrorId);
    }
}
