using System;
using System.Collections.Generic;

namespace Hashall.Core.Orphans
{
    /// <summary>Why a path under the seeding roots is listed.</summary>
    public enum OrphanReason
    {
        /// <summary>No torrent of any qBittorrent in the catalog names the file, nor any other path of its inode.</summary>
        Unreferenced,
        /// <summary>A folder with nothing in it that no torrent's files are under.</summary>
        EmptyFolder,
        /// <summary>A torrent's file that qBittorrent has unselected (priority 0): listed apart, never removed.</summary>
        Unselected,
    }

    /// <summary>A file or empty folder under the seeding roots that no torrent uses (Get-HashallOrphan).</summary>
    public sealed class HashallOrphan
    {
        public string FullName { get; set; } = "";
        /// <summary>The seeding root it is under.</summary>
        public string Root { get; set; } = "";
        /// <summary>Its path under <see cref="Root"/>, '/'-separated.</summary>
        public string RelativePath { get; set; } = "";
        public bool IsFolder { get; set; }
        public long Size { get; set; }
        public long Inode { get; set; }
        /// <summary>Hard links on disk when listed (st_nlink).</summary>
        public long LinkCount { get; set; }
        public DateTime LastWriteTimeUtc { get; set; }
        /// <summary>How long since it was last written, when listed.</summary>
        public TimeSpan Age { get; set; }
        /// <summary>Whether its inode also has a path outside every seeding root (a media library link): removing this name frees nothing.</summary>
        public bool LinkedOutsideRoots { get; set; }
        /// <summary>Those paths outside the roots.</summary>
        public string[] OutsideLinks { get; set; } = Array.Empty<string>();
        public OrphanReason Reason { get; set; }
        /// <summary>For <see cref="OrphanReason.Unselected"/>: the torrents that name it (hash: name).</summary>
        public string[] Torrents { get; set; } = Array.Empty<string>();
        public long DeviceId { get; set; }
        public string Database { get; set; } = "";
        public override string ToString() => FullName;
    }

    /// <summary>What one Remove-HashallOrphan run did (or, under -WhatIf, would do).</summary>
    public sealed class OrphanRemovalResult
    {
        public int Removed { get; set; }
        public int MovedToRecycleBin { get; set; }
        public int FoldersRemoved { get; set; }
        /// <summary>Listed but kept: changed on disk, referenced since the listing, linked outside the roots, declined.</summary>
        public int Kept { get; set; }
        public long Bytes { get; set; }
        /// <summary>The run's folder in the recycle bin (null when files were deleted).</summary>
        public string? RecycleBin { get; set; }
        public bool WhatIf { get; set; }
        /// <summary>"path: why" for each kept one.</summary>
        public List<string> KeptDetail { get; set; } = new List<string>();
        public string Database { get; set; } = "";
    }

    /// <summary>What emptying a recycle bin did.</summary>
    public sealed class RecycleBinEmptyResult
    {
        public string RecycleBin { get; set; } = "";
        /// <summary>Run folders removed (one per Remove-HashallOrphan -RecycleBin run).</summary>
        public int Runs { get; set; }
        public int Files { get; set; }
        public long Bytes { get; set; }
        public bool WhatIf { get; set; }
        /// <summary>Run folders old enough that could not be read or removed, each with why (the cmdlet warns of each).</summary>
        public List<string> KeptDetail { get; set; } = new List<string>();
    }
}
