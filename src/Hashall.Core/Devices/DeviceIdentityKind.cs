namespace Hashall.Core.Devices
{
    /// <summary>Where a device's identity comes from, strongest first.</summary>
    public enum DeviceIdentityKind
    {
        /// <summary>The filesystem's UUID (/dev/disk/by-uuid, or read from an ext2/3/4, XFS or btrfs superblock).</summary>
        FilesystemUuid,
        /// <summary>The ZFS dataset's guid property.</summary>
        ZfsGuid,
        /// <summary>macOS volume UUID (diskutil).</summary>
        VolumeUuid,
        /// <summary>Windows volume GUID path (\\?\Volume{…}\).</summary>
        VolumeGuid,
        /// <summary>
        /// No identity stored in the filesystem could be read (tmpfs, overlay, network mounts, no
        /// permission to read the block device): filesystem type, mount source, mounted root and mount
        /// point. Survives reboots and st_dev renumbering, but not a change of mount point.
        /// </summary>
        MountFallback,
    }
}
