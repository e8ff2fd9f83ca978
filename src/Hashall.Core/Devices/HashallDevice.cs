using System;

namespace Hashall.Core.Devices
{
    /// <summary>A device (filesystem) the catalog knows, with what the catalog holds of it.</summary>
    public sealed class HashallDevice
    {
        public long DeviceId { get; set; }
        public string? Alias { get; set; }
        public string Identity { get; set; } = "";
        public DeviceIdentityKind IdentityKind { get; set; }
        public string MountPoint { get; set; } = "";
        /// <summary>The filesystem directory mounted at MountPoint ("/" unless a bind mount or subvolume).</summary>
        public string MountRoot { get; set; } = "/";
        public string FileSystem { get; set; } = "";
        public string Source { get; set; } = "";
        /// <summary>Active files catalogued on the device (paths; hard links count once per path). This and the other totals are filled by DeviceStore.WithTotals.</summary>
        public long Files { get; set; }
        /// <summary>Bytes those files take, each inode counted once.</summary>
        public long Bytes { get; set; }
        /// <summary>Bytes that hard links would free: per group of identical files, the size times the inodes beyond the first.</summary>
        public long ReclaimableBytes { get; set; }
        /// <summary>Link plans with paths still to link (the seed's "link status").</summary>
        public long LinkPlansPending { get; set; }
        /// <summary>Link plans executed to the end.</summary>
        public long LinkPlansDone { get; set; }
        public DateTime FirstSeen { get; set; }
        public DateTime LastSeen { get; set; }
        public DateTime? LastScan { get; set; }
        /// <summary>The catalog file this record came from, so later cmdlets in a pipeline use the same one.</summary>
        public string Database { get; set; } = "";

        public override string ToString() => Alias ?? MountPoint;
    }
}
