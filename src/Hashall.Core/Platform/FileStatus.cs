namespace Hashall.Core.Platform
{
    /// <summary>
    /// What the platform's stat says of one path (never following a final symlink). The pair
    /// (DeviceNumber, Inode) names the file while the system runs; DeviceNumber is the kernel's
    /// st_dev and may change between boots, so the catalog keys devices by identity instead.
    /// </summary>
    public readonly struct FileStatus
    {
        public FileStatus(ulong deviceNumber, ulong inode, long size, long linkCount, long mtimeNs, FileKind kind,
            int permissions = 0, uint uid = 0, uint gid = 0, long ctimeNs = 0)
        {
            CtimeNs = ctimeNs;
            Permissions = permissions;
            Uid = uid;
            Gid = gid;
            DeviceNumber = deviceNumber;
            Inode = inode;
            Size = size;
            LinkCount = linkCount;
            MtimeNs = mtimeNs;
            Kind = kind;
        }

        public ulong DeviceNumber { get; }
        public ulong Inode { get; }
        public long Size { get; }
        public long LinkCount { get; }
        /// <summary>Modification time in nanoseconds since the Unix epoch (Windows: 100 ns precision).</summary>
        public long MtimeNs { get; }
        /// <summary>
        /// Status-change time (st_ctime) in nanoseconds since the Unix epoch: moves on every write,
        /// chmod, link or rename, and no call can set it back (utimes sets only mtime and atime).
        /// 0 where the platform's stat does not give it (Windows).
        /// </summary>
        public long CtimeNs { get; }
        public FileKind Kind { get; }
        /// <summary>Unix permission bits (mode &amp; 07777); 0 on Windows.</summary>
        public int Permissions { get; }
        public uint Uid { get; }
        public uint Gid { get; }
    }
}
