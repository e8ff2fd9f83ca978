using System.Runtime.CompilerServices;
using System.Collections.Generic;
using Hashall.Core.Catalog;
using Hashall.Core.Devices;
using Hashall.Core.Platform;

namespace Hashall.Core.Scanning
{
    /// <summary>
    /// One walked root on one device, merged with the catalog's rows at and under it as the walk goes
    /// (both in the catalog's key order): what failed (protected from deletion), new paths that may be
    /// renames, and the rows the walk went past without finding their file (deletion candidates, once
    /// the walk is complete). Memory holds one chunk of rows, not the catalog.
    /// </summary>
    internal sealed class ScanScope
    {
        private readonly CatalogCursor _cursor;

        public ScanScope(long deviceId, DeviceDescriptor device, string rootFullPath, string relativePrefix, CatalogCursor cursor, bool deviceHadRows)
        {
            DeviceId = deviceId;
            Device = device;
            RootFullPath = rootFullPath;
            RelativePrefix = relativePrefix;
            _cursor = cursor;
            DeviceHadRows = deviceHadRows;
            // The root's own st_dev: on btrfs it is the subvolume's anonymous device, not the number
            // mountinfo lists, and every file under the root carries it.
            DeviceNumber = !FileSystemApi.IsWindows && !FileSystemApi.IsMacOS && FileSystemApi.TryLstat(rootFullPath, out var root) == 0
                ? root.DeviceNumber : device.Mount.DeviceNumber;
        }

        public long DeviceId { get; }
        public DeviceDescriptor Device { get; }
        /// <summary>The device number (st_dev) of the root and of everything the walk stays in.</summary>
        public ulong DeviceNumber { get; }
        public string RootFullPath { get; }
        /// <summary>The root's path relative to its filesystem's root ("" for the whole filesystem).</summary>
        public string RelativePrefix { get; }
        /// <summary>The device had active rows when the scope opened: a new path's inode may be catalogued (a rename or a link).</summary>
        public bool DeviceHadRows { get; }
        /// <summary>Active rows the walk went past without finding their file, by id: their paths.</summary>
        public Dictionary<long, string> Unseen { get; } = new Dictionary<long, string>();
        /// <summary>Directories (relative) whose listing failed: nothing under them is marked deleted.</summary>
        public List<string> FailedDirectories { get; } = new List<string>();
        /// <summary>New paths whose inode, size and mtime match a catalogued row: a rename or a new hard link.</summary>
        public List<(string Path, FileStatus Status, FileRow Source)> Relinks { get; } = new List<(string, FileStatus, FileRow)>();
        public bool WalkFailed { get; set; }
        /// <summary>Mount points below the root, bind mounts of this filesystem included: reported, walked only as scopes of their own.</summary>
        public HashSet<string> MountPointsBelow { get; set; } = new HashSet<string>();
        public long FilesSeen { get; set; }

        /// <summary>
        /// The row of <paramref name="relativePath"/>, the walk's next path in key order, if catalogued;
        /// rows before it that the walk did not visit are recorded as unseen.
        /// </summary>
        [MethodImpl(HotPath.Optimize)]
        public FileRow? Match(string relativePath)
        {
            while (_cursor.Current is FileRow row)
            {
                int order = CatalogOrder.Compare(row.Path, relativePath);
                if (order > 0)
                    return null;
                _cursor.Advance();
                if (order == 0)
                    return row;
                Pass(row);
            }
            return null;
        }

        /// <summary>After a complete walk: every row not visited yet is unseen.</summary>
        public void PassRest()
        {
            while (_cursor.Current is FileRow row)
            {
                _cursor.Advance();
                Pass(row);
            }
        }

        private void Pass(FileRow row)
        {
            if (!row.Deleted)
                Unseen[row.FileId] = row.Path;
        }

        /// <summary>Whether a catalog path lies at or under this scope's root.</summary>
        public bool Holds(string relative) =>
            RelativePrefix.Length == 0 || relative == RelativePrefix
            || (relative.Length > RelativePrefix.Length && relative[RelativePrefix.Length] == '/' && relative.StartsWith(RelativePrefix, System.StringComparison.Ordinal));

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
