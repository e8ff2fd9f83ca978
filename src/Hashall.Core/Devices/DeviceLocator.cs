using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using Hashall.Core.Platform;

namespace Hashall.Core.Devices
{
    /// <summary>
    /// Resolves paths to the device they live on and to their path inside that filesystem.
    /// Caches the mount table and identities; one instance per command run.
    /// </summary>
    public sealed class DeviceLocator
    {
        private IReadOnlyList<MountEntry>? _mounts;
        private readonly Dictionary<string, DeviceDescriptor> _byMount = new Dictionary<string, DeviceDescriptor>(StringComparer.Ordinal);

        /// <summary>Locates an existing path (the final component is not followed if it is a symlink).</summary>
        public LocatedPath Locate(string path)
        {
            if (string.IsNullOrEmpty(path))
                throw new HashallException("PathEmpty", HashallErrorKind.InvalidArgument, "The path is empty.", path);
            string full = Canonical(Path.GetFullPath(path));
            var status = FileSystemApi.Lstat(full);
            var mount = FindMount(full, status.DeviceNumber);
            var device = Describe(FileSystemMount(mount));
            return new LocatedPath(full, device, RelativeInFileSystem(full, mount));
        }

        /// <summary>
        /// The mount that stands for the filesystem a mount shows: a bind mount (mountinfo's root is a
        /// directory inside the filesystem) maps to the mount of that filesystem with the shortest root
        /// holding it — its root mount where there is one — so a bind mount is the same device, with
        /// paths relative to the filesystem's root, never a device of its own. A bind mount of the whole
        /// filesystem (root "/" as well) maps the same way, whichever of the two is given: the one with
        /// the shorter mount point, else the one listed first. Mounts of the same source whose roots do
        /// not nest (btrfs subvolumes) stay apart.
        /// </summary>
        public MountEntry FileSystemMount(MountEntry mount)
        {
            if (FileSystemApi.IsWindows || FileSystemApi.IsMacOS)
                return mount;
            MountEntry? best = null;
            foreach (var m in Mounts)
            {
                if (m.DeviceNumber != mount.DeviceNumber || m.Source != mount.Source || m.FileSystemType != mount.FileSystemType
                    || !PathText.IsUnder(mount.Root, m.Root))
                    continue;
                if (best == null || m.Root.Length < best.Root.Length || (m.Root.Length == best.Root.Length && m.MountPoint.Length < best.MountPoint.Length))
                    best = m;
            }
            return best ?? mount;
        }

        /// <summary>Mount points strictly below <paramref name="root"/> (bind mounts of the same filesystem included).</summary>
        public HashSet<string> MountPointsBelow(string root)
        {
            var below = new HashSet<string>(StringComparer.Ordinal);
            if (FileSystemApi.IsWindows || FileSystemApi.IsMacOS)
                return below; // the walk's device-number check finds their mounts
            foreach (var m in Mounts)
                if (m.MountPoint != root && PathText.IsUnder(m.MountPoint, root))
                    below.Add(m.MountPoint);
            return below;
        }

        /// <summary>All mounted filesystems (re-read on each call of a new locator).</summary>
        public IReadOnlyList<MountEntry> Mounts => _mounts ??= MountTable.Read();

        public DeviceDescriptor Describe(MountEntry mount)
        {
            if (_byMount.TryGetValue(mount.MountPoint, out var known))
                return known;
            var (identity, kind) = MountTable.Identity(mount);
            var descriptor = new DeviceDescriptor(identity, kind, mount);
            _byMount[mount.MountPoint] = descriptor;
            return descriptor;
        }

        private static string Canonical(string full)
        {
            if (FileSystemApi.IsWindows)
                return full;
            if (full == "/")
                return full;
            string trimmed = full.TrimEnd('/');
            string parent = Path.GetDirectoryName(trimmed) ?? "/";
            string realParent = UnixPaths.RealPath(parent);
            return PathText.Join(realParent, Path.GetFileName(trimmed));
        }

        private MountEntry FindMount(string full, ulong deviceNumber)
        {
            if (FileSystemApi.IsWindows)
                return MountTable.WindowsMountOf(full);
            if (FileSystemApi.IsMacOS)
                return MountTable.MacMountOf(full, deviceNumber);
            // The deepest mount containing the path with the path's device number; among mounts stacked
            // on one point the last listed is the visible one.
            MountEntry? best = null;
            foreach (var m in Mounts)
            {
                if (m.DeviceNumber != deviceNumber || !PathText.IsUnder(full, m.MountPoint))
                    continue;
                if (best == null || m.MountPoint.Length >= best.MountPoint.Length)
                    best = m;
            }
            // btrfs: stat gives each subvolume's files an anonymous device number that mountinfo does not
            // list (it shows the filesystem's): the deepest mount holding the path whose mount point stats
            // with the path's device number, else the deepest btrfs mount holding it.
            if (best == null)
            {
                foreach (var m in Mounts)
                {
                    if (!PathText.IsUnder(full, m.MountPoint) || (best != null && m.MountPoint.Length < best.MountPoint.Length))
                        continue;
                    if ((FileSystemApi.TryLstat(m.MountPoint, out var st) == 0 && st.DeviceNumber == deviceNumber) || m.FileSystemType == "btrfs")
                        best = m;
                }
            }
            return best ?? throw new HashallException("MountNotFound", HashallErrorKind.NotFound,
                $"No mounted filesystem in /proc/self/mountinfo holds '{full}'.", full);
        }

        private static string RelativeInFileSystem(string full, MountEntry mount)
        {
            string inMount = PathText.RelativeTo(full, mount.MountPoint);
            return PathText.JoinRelative(mount.Root.Trim('/'), inMount);
        }
    }
}
