using System;

namespace Hashall.Core.Catalog
{
    /// <summary>A catalogued file (one path; hard links are one row per path).</summary>
    public sealed class HashallFile
    {
        public long FileId { get; set; }
        public long DeviceId { get; set; }
        /// <summary>The device's alias, else its mount point.</summary>
        public string Device { get; set; } = "";
        /// <summary>Absolute path through the device's current mount point.</summary>
        public string FullName { get; set; } = "";
        /// <summary>Path relative to the filesystem's root ('/'-separated); FullName is the absolute path.</summary>
        public string RelativePath { get; set; } = "";
        public string Name => RelativePath.Substring(RelativePath.LastIndexOf('/') + 1);
        public long Size { get; set; }
        /// <summary>Modification time in nanoseconds since the Unix epoch (full precision).</summary>
        public long MtimeNs { get; set; }
        public DateTime LastWriteTimeUtc => new DateTime(1970, 1, 1, 0, 0, 0, DateTimeKind.Utc).AddTicks(MtimeNs / 100);
        public long Inode { get; set; }
        public long LinkCount { get; set; }
        public string? Sha1 { get; set; }
        public string? Sha256 { get; set; }
        public string? QuickHash { get; set; }
        /// <summary>active, or deleted (gone from a scanned root).</summary>
        public string Status { get; set; } = "active";
        public DateTime FirstSeen { get; set; }
        public DateTime LastSeen { get; set; }
        public string Database { get; set; } = "";

        public override string ToString() => FullName;
    }
}
