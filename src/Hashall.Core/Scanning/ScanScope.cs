using System.Runtime.CompilerServices;
using System.Collections.Generic;
using System.Threading.Tasks;
using Hashall.Core.Catalog;
using Hashall.Core.Devices;
using Hashall.Core.Platform;

namespace Hashall.Core.Scanning
{
    /// <summary>
    /// One walked root on one device, with the catalog's rows at and under it: what the walk saw,
    /// what failed (protected from deletion), and new paths that may be renames.
    /// </summary>
    internal sealed class ScanScope
    {
        private readonly Task<(List<FileRow> Rows, bool RowsOutside)> _loading;

        public ScanScope(long deviceId, DeviceDescriptor device, string rootFullPath, string relativePrefix, Task<(List<FileRow> Rows, bool RowsOutside)> loading)
        {
            DeviceId = deviceId;
            Device = device;
            RootFullPath = rootFullPath;
            RelativePrefix = relativePrefix;
            _loading = loading;
        }

        public bool RowsReady => _loading.IsCompleted;
        public bool RowsLoaded { get; private set; }
        /// <summary>Files the walk found before the rows had loaded.</summary>
        public List<PendingFile> Deferred { get; } = new List<PendingFile>();

        /// <summary>Takes the loaded rows (waiting for them if need be); loading errors surface here.</summary>
        [MethodImpl(HotPath.Optimize)]
        public void LoadRows()
        {
            List<FileRow> rows;
            try
            {
                (rows, HasRowsOutside) = _loading.GetAwaiter().GetResult();
            }
            finally
            {
                RowsLoaded = true;
            }
            foreach (var row in rows)
            {
                Rows[row.Path] = row;
                if (!row.Deleted)
                {
                    if (!ByInode.TryGetValue(row.Inode, out var list))
                        ByInode[row.Inode] = list = new List<FileRow>(1);
                    list.Add(row);
                }
            }
        }

        public long DeviceId { get; }
        public DeviceDescriptor Device { get; }
        public ulong DeviceNumber => Device.Mount.DeviceNumber;
        public string RootFullPath { get; }
        /// <summary>The root's path relative to its filesystem's root ("" for the whole filesystem).</summary>
        public string RelativePrefix { get; }
        public Dictionary<string, FileRow> Rows { get; } = new Dictionary<string, FileRow>(System.StringComparer.Ordinal);
        public Dictionary<long, List<FileRow>> ByInode { get; } = new Dictionary<long, List<FileRow>>();
        public HashSet<long> SeenIds { get; } = new HashSet<long>();
        /// <summary>Rows whose file could not be read or listed this time: kept as they are.</summary>
        public HashSet<long> ProtectedIds { get; } = new HashSet<long>();
        /// <summary>Directories (relative) whose listing failed: nothing under them is marked deleted.</summary>
        public List<string> FailedDirectories { get; } = new List<string>();
        /// <summary>New paths whose inode, size and mtime match a catalogued row: a rename or a new hard link.</summary>
        public List<(string Path, FileStatus Status, FileRow Source)> Relinks { get; } = new List<(string, FileStatus, FileRow)>();
        public bool WalkFailed { get; set; }
        /// <summary>Mount points below the root, bind mounts of this filesystem included: reported, walked only as scopes of their own.</summary>
        public HashSet<string> MountPointsBelow { get; set; } = new HashSet<string>();
        public long FilesSeen { get; set; }
        /// <summary>The device has active rows outside this scope (so a new path's inode may be known elsewhere).</summary>
        public bool HasRowsOutside { get; private set; }

        public string? FullPath(string relative) => PathText.UnderMount(Device.Mount.MountPoint, Device.Mount.Root, relative);

        public bool UnderFailedDirectory(string relative)
        {
            foreach (var dir in FailedDirectories)
                if (relative == dir || relative.StartsWith(dir + "/", System.StringComparison.Ordinal) || dir.Length == 0)
                    return true;
            return false;
        }
    }
}
