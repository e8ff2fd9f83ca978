namespace Hashall.Core.Platform
{
    /// <summary>One mounted filesystem as the system reports it.</summary>
    public sealed class MountEntry
    {
        public MountEntry(string mountPoint, string fileSystemType, string source, string root, ulong deviceNumber)
        {
            MountPoint = mountPoint;
            FileSystemType = fileSystemType;
            Source = source;
            Root = root;
            DeviceNumber = deviceNumber;
        }

        /// <summary>Where the filesystem is mounted, e.g. /mnt/pool.</summary>
        public string MountPoint { get; }
        public string FileSystemType { get; }
        /// <summary>The mount source: a block device (/dev/sda1), a dataset (tank/media), or a pseudo name (tmpfs).</summary>
        public string Source { get; }
        /// <summary>The directory of the filesystem that is mounted here ("/" unless a bind mount or subvolume).</summary>
        public string Root { get; }
        public ulong DeviceNumber { get; }
    }
}
