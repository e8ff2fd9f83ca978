using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using Hashall.Core.Catalog;
using Hashall.Core.Devices;
using Hashall.Core.Payloads;
using Hashall.Core.Platform;
using Hashall.Core.QBittorrent;
using Hashall.Core.Scanning;

namespace Hashall.Core.Orphans
{
    /// <summary>How Remove-HashallOrphan acts.</summary>
    public sealed class OrphanRemoveOptions
    {
        /// <summary>Move here (a rename on the same device, never a copy) instead of deleting; null deletes.</summary>
        public string? RecycleBin { get; set; }
        /// <summary>Refuse the whole run when more than this many would go (null: no limit).</summary>
        public long? MaximumCount { get; set; }
        /// <summary>Refuse the whole run when more than this many bytes would go (null: no limit).</summary>
        public long? MaximumBytes { get; set; }
        /// <summary>Also remove orphans whose inode has a path outside the roots (removing them frees nothing).</summary>
        public bool IncludeLinkedOutsideRoots { get; set; }
        /// <summary>The seeding roots (a recycle bin inside one is refused: its files would be orphans next time).</summary>
        public IList<string> Roots { get; set; } = new List<string>();
    }

    /// <summary>
    /// Removes (or moves to a recycle bin) listed orphans, each re-checked just before: still on disk as
    /// listed (inode, size, mtime), named by no torrent in the catalog now nor by any torrent that
    /// qBittorrent has now (<see cref="TorrentPathsNow"/>), no other name of a torrent's file. Guards
    /// refuse a run that would remove more than allowed, before anything is touched.
    /// </summary>
    public sealed class OrphanRemover
    {
        /// <summary>Name of each run's folder in a recycle bin: the UTC time the run began.</summary>
        public const string RunFormat = "yyyyMMdd'T'HHmmss'Z'";

        private readonly CatalogDatabase _db;

        public OrphanRemover(CatalogDatabase db) => _db = db;

        /// <summary>
        /// The files of qBittorrent's torrents now that the catalog does not have as they are (torrents
        /// added, or moved, since the last sync): read from qBittorrent, for the re-check before acting.
        /// </summary>
        public static List<string> TorrentPathsNow(QBittorrentClient client, CatalogDatabase db)
        {
            var known = new PayloadStore(db).Torrents(includeGone: false).Where(t => t.Instance == client.Instance)
                .ToDictionary(t => t.TorrentHash, t => t.ContentPath, StringComparer.Ordinal);
            var paths = new List<string>();
            var builder = new PayloadBuilder(db);
            foreach (var t in client.Torrents())
            {
                if (known.TryGetValue(t.Hash, out var content) && content == t.ContentPath)
                    continue;
                var files = client.Files(t.Hash);
                var payload = builder.ForTorrent(t, files);
                paths.AddRange(payload.Files.Select(f => f.FullName));
                if (payload.Files.Count == 0 && t.ContentPath.Length > 0)
                    paths.Add(t.ContentPath); // no file list yet: its whole content path is protected
            }
            return paths;
        }

        /// <summary>Checks the guards and the recycle bin before anything happens; throws OrphanLimitExceeded, OrphanRecycleBinOtherDevice, OrphanRecycleBinInsideRoot.</summary>
        public void Validate(IReadOnlyList<HashallOrphan> orphans, OrphanRemoveOptions options)
        {
            var acting = Acting(orphans, options).ToList();
            long bytes = acting.Sum(o => o.Size);
            if (options.MaximumCount != null && acting.Count > options.MaximumCount)
                throw new HashallException("OrphanLimitExceeded", HashallErrorKind.InvalidArgument,
                    $"This run would remove {acting.Count} orphan(s), more than -MaximumCount {options.MaximumCount}: nothing was removed. A sync that lost torrents makes everything look orphaned; check the list (Get-HashallOrphan), then raise the limit.", acting.Count);
            if (options.MaximumBytes != null && bytes > options.MaximumBytes)
                throw new HashallException("OrphanLimitExceeded", HashallErrorKind.InvalidArgument,
                    $"This run would remove {bytes} bytes of orphans, more than -MaximumBytes {options.MaximumBytes}: nothing was removed. Check the list (Get-HashallOrphan), then raise the limit.", bytes);
            if (options.RecycleBin == null)
                return;
            string bin = options.RecycleBin;
            foreach (string root in options.Roots)
                if (PathText.IsUnder(bin, root) || PathText.IsUnder(root, bin))
                    throw new HashallException("OrphanRecycleBinInsideRoot", HashallErrorKind.InvalidArgument,
                        $"The recycle bin '{bin}' is inside (or holds) the seeding root '{root}': what it keeps would be orphans of the next run. Put it beside the roots on the same device.", bin);
            // The bin's device: the bin, else the nearest folder above it that exists (it is created on use).
            string existing = bin;
            while (FileSystemApi.TryLstat(existing, out _) != 0)
                existing = Path.GetDirectoryName(existing) ?? "/";
            var binDevice = FileSystemApi.Lstat(existing).DeviceNumber;
            foreach (var o in acting)
                if (FileSystemApi.TryLstat(o.FullName, out var st) == 0 && st.DeviceNumber != binDevice)
                    throw new HashallException("OrphanRecycleBinOtherDevice", HashallErrorKind.InvalidArgument,
                        $"The recycle bin '{bin}' is on another filesystem than '{o.FullName}': moving there would be a copy, and orphans are only ever renamed. Give a recycle bin on the same device as the seeding root '{o.Root}'.", bin);
        }

        private static IEnumerable<HashallOrphan> Acting(IEnumerable<HashallOrphan> orphans, OrphanRemoveOptions options) =>
            orphans.Where(o => o.Reason != OrphanReason.Unselected && (options.IncludeLinkedOutsideRoots || !o.LinkedOutsideRoots));

        /// <summary>
        /// Acts on the orphans (files first, then folders, deepest first). <paramref name="shouldProcess"/>
        /// (target, action) is asked for each; under <paramref name="whatIf"/> a declined one counts as
        /// what would happen. <paramref name="torrentPathsNow"/>: from <see cref="TorrentPathsNow"/>.
        /// </summary>
        public OrphanRemovalResult Remove(IReadOnlyList<HashallOrphan> orphans, OrphanRemoveOptions options, IEnumerable<string> torrentPathsNow,
            Func<string, string, bool> shouldProcess, bool whatIf, Action<int, int, string>? progress = null)
        {
            Validate(orphans, options);
            var result = new OrphanRemovalResult { WhatIf = whatIf, Database = _db.Path };
            // The catalog now (a sync since the listing counts), plus what qBittorrent has now.
            var refs = TorrentReferences.Load(_db);
            foreach (string p in torrentPathsNow)
                refs.Add(p, true, "added since the last sync");
            var ancestors = refs.Ancestors();
            string? run = null;
            if (options.RecycleBin != null)
            {
                string stamp = DateTime.UtcNow.ToString(RunFormat, CultureInfo.InvariantCulture);
                run = PathText.Join(options.RecycleBin, stamp);
                for (int n = 2; Directory.Exists(run); n++)
                    run = PathText.Join(options.RecycleBin, stamp + "-" + n.ToString(CultureInfo.InvariantCulture));
                result.RecycleBin = run;
            }
            var store = new FileStore(_db);
            var devices = new DeviceStore(_db).List().ToDictionary(d => d.DeviceId);
            var deleted = new List<long>();
            var parentRoots = new Dictionary<string, string>(StringComparer.Ordinal); // each parent's root: folders go up to it, never past
            var gone = new HashSet<string>(StringComparer.Ordinal); // what this run removed (or, under -WhatIf, would remove)
            void Keep(HashallOrphan o, string why)
            {
                result.Kept++;
                result.KeptDetail.Add($"{o.FullName}: {why}");
            }
            var ordered = orphans.Where(o => !o.IsFolder).Concat(orphans.Where(o => o.IsFolder).OrderByDescending(o => o.FullName.Length)).ToList();
            try
            {
                for (int i = 0; i < ordered.Count; i++)
                {
                    var o = ordered[i];
                    progress?.Invoke(i, ordered.Count, o.FullName);
                    if (o.Reason == OrphanReason.Unselected)
                    {
                        Keep(o, "a torrent's unselected file: never removed");
                        continue;
                    }
                    if (o.LinkedOutsideRoots && !options.IncludeLinkedOutsideRoots)
                    {
                        Keep(o, "also linked outside the seeding roots (" + string.Join(", ", o.OutsideLinks) + "): removing this name frees nothing (-IncludeLinkedOutsideRoots removes it)");
                        continue;
                    }
                    // The re-check: on disk as listed, and no torrent's now.
                    if (FileSystemApi.TryLstat(o.FullName, out var st) != 0)
                    {
                        Keep(o, "gone since the listing");
                        continue;
                    }
                    if (o.IsFolder)
                    {
                        bool empty;
                        try
                        {
                            empty = st.Kind == FileKind.Directory && !Directory.EnumerateFileSystemEntries(o.FullName).Any();
                        }
                        catch (Exception e) when (e is IOException || e is UnauthorizedAccessException)
                        {
                            Keep(o, "could not be read: " + e.Message);
                            continue;
                        }
                        if (!empty || refs.HoldsAny(o.FullName, ancestors))
                        {
                            Keep(o, "no longer an empty folder outside every torrent");
                            continue;
                        }
                    }
                    else
                    {
                        if (st.Kind != FileKind.Regular || unchecked((long)st.Inode) != o.Inode || st.Size != o.Size || ScanWriter.Epoch.AddTicks(st.MtimeNs / 100) != o.LastWriteTimeUtc)
                        {
                            Keep(o, "changed since the listing (inode, size or modification time)");
                            continue;
                        }
                        if (refs.Paths.ContainsKey(o.FullName))
                        {
                            Keep(o, "a torrent's file now (" + string.Join(", ", refs.Paths[o.FullName].Torrents) + ")");
                            continue;
                        }
                        if (refs.HasInode(st.DeviceNumber, st.Inode))
                        {
                            Keep(o, "a torrent's file now, under another path or name (or the file qBittorrent is downloading it to)");
                            continue;
                        }
                    }
                    string? target = run == null ? null : PathText.Join(run, o.FullName.TrimStart('/'));
                    string action = target == null ? (o.IsFolder ? "Remove empty orphan folder" : $"Remove orphan ({o.Size} bytes)")
                        : $"Move orphan{(o.IsFolder ? " folder" : "")} to the recycle bin as '{target}'";
                    if (!shouldProcess(o.FullName, action))
                    {
                        if (whatIf)
                            Count(o, target != null);
                        else
                            Keep(o, "declined");
                        continue;
                    }
                    int error;
                    if (target != null)
                    {
                        try
                        {
                            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
                        }
                        catch (Exception e) when (e is IOException || e is UnauthorizedAccessException)
                        {
                            Keep(o, $"the recycle bin '{options.RecycleBin}' could not take it (creating '{Path.GetDirectoryName(target)}': {e.Message})");
                            continue;
                        }
                        error = HardLinks.RenameNoReplace(o.FullName, target); // a rename: EXDEV, never a copy
                    }
                    else if (o.IsFolder)
                    {
                        error = 0;
                        try
                        {
                            Directory.Delete(o.FullName, recursive: false);
                        }
                        catch (IOException)
                        {
                            error = HardLinks.ENOTEMPTY;
                        }
                        catch (UnauthorizedAccessException)
                        {
                            error = HardLinks.EACCES;
                        }
                    }
                    else
                    {
                        error = HardLinks.Remove(o.FullName);
                    }
                    if (error != 0)
                    {
                        Keep(o, (target != null ? $"could not be moved to '{target}': " : "could not be removed: ") + HardLinks.Describe(error));
                        continue;
                    }
                    Count(o, target != null);
                    if (!o.IsFolder && devices.TryGetValue(o.DeviceId, out var device))
                    {
                        // The path is gone now: its catalog row is found by the device's mount.
                        string? relative = PathText.IsUnder(o.FullName, device.MountPoint) ? PathText.JoinRelative(device.MountRoot.Trim('/'), PathText.RelativeTo(o.FullName, device.MountPoint)) : null;
                        if (relative != null && store.ActiveByPath(device.DeviceId, relative) is FileRow row && row.Inode == o.Inode)
                            deleted.Add(row.FileId);
                    }
                }
                // Folders the removals leave empty go too (never a root, never one holding a torrent's files);
                // under -WhatIf, the folders that would be left empty, so the preview counts what a run does.
                foreach (string dir in parentRoots.SelectMany(kv => Upward(kv.Key, kv.Value)).Distinct().OrderByDescending(d => d.Length))
                {
                    try
                    {
                        if (refs.HoldsAny(dir, ancestors) || !Directory.Exists(dir) || !Directory.EnumerateFileSystemEntries(dir).All(gone.Contains))
                            continue;
                    }
                    catch (Exception e) when (e is IOException || e is UnauthorizedAccessException)
                    {
                        continue; // unreadable: not known to be empty
                    }
                    if (!shouldProcess(dir, "Remove folder left empty by the orphans' removal"))
                    {
                        if (whatIf)
                        {
                            gone.Add(dir);
                            result.FoldersRemoved++;
                        }
                        continue;
                    }
                    try
                    {
                        Directory.Delete(dir, recursive: false);
                        gone.Add(dir);
                        result.FoldersRemoved++;
                    }
                    catch (Exception e) when (e is IOException || e is UnauthorizedAccessException)
                    {
                    }
                }
            }
            finally
            {
                // The rows of the files removed so far, also when something ended the run early.
                MarkDeleted(deleted);
            }
            return result;

            void Count(HashallOrphan o, bool moved)
            {
                gone.Add(o.FullName);
                string? parent = Path.GetDirectoryName(o.FullName);
                if (parent != null && parent != o.Root && PathText.IsUnder(parent, o.Root) && !parentRoots.ContainsKey(parent))
                    parentRoots[parent] = o.Root;
                if (o.IsFolder)
                    result.FoldersRemoved++;
                else if (moved)
                    result.MovedToRecycleBin++;
                else
                    result.Removed++;
                result.Bytes += o.Size;
            }
        }

        /// <summary>Marks the removed files' rows deleted, as a scan that no longer finds them does.</summary>
        private void MarkDeleted(List<long> fileIds)
        {
            if (fileIds.Count == 0)
                return;
            using var writer = new ScanWriter(_db, DateTime.UtcNow);
            foreach (long id in fileIds)
            {
                writer.MarkDeleted(id);
                writer.MaybeCommit();
            }
            writer.Commit();
        }

        private static IEnumerable<string> Upward(string dir, string root)
        {
            for (string? d = dir; d != null && d != root && PathText.IsUnder(d, root); d = Path.GetDirectoryName(d))
                yield return d;
        }

        /// <summary>
        /// Removes the recycle bin's run folders (named by <see cref="RunFormat"/>) older than
        /// <paramref name="olderThan"/>; other entries are left alone. <paramref name="shouldProcess"/> (target, action).
        /// </summary>
        public static RecycleBinEmptyResult EmptyRecycleBin(string bin, TimeSpan olderThan, Func<string, string, bool> shouldProcess, bool whatIf)
        {
            var result = new RecycleBinEmptyResult { RecycleBin = bin, WhatIf = whatIf };
            if (!Directory.Exists(bin))
                throw new HashallException("RecycleBinNotFound", HashallErrorKind.NotFound, $"The recycle bin '{bin}' is not a directory.", bin);
            DateTime now = DateTime.UtcNow;
            List<DirectoryInfo> runs;
            try
            {
                runs = new DirectoryInfo(bin).EnumerateDirectories().OrderBy(d => d.Name, StringComparer.Ordinal).ToList();
            }
            catch (Exception e) when (e is IOException || e is UnauthorizedAccessException)
            {
                throw new HashallException("RecycleBinNotReadable", HashallErrorKind.PermissionDenied, $"The recycle bin '{bin}' could not be read: {e.Message}", bin);
            }
            foreach (var dir in runs)
            {
                string name = dir.Name.Length > 16 ? dir.Name.Substring(0, 16) : dir.Name;
                if (!DateTime.TryParseExact(name, RunFormat, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out var at))
                    continue;
                if (now - at < olderThan)
                    continue;
                List<FileInfo> files;
                try
                {
                    files = dir.EnumerateFiles("*", SearchOption.AllDirectories).ToList();
                }
                catch (Exception e) when (e is IOException || e is UnauthorizedAccessException)
                {
                    result.KeptDetail.Add($"{dir.FullName}: could not be read: {e.Message}");
                    continue;
                }
                long bytes = files.Sum(f => f.Length);
                if (!shouldProcess(dir.FullName, $"Remove recycle bin run of {CatalogTime.Format(at)} ({files.Count} file(s), {bytes} bytes)"))
                {
                    if (!whatIf)
                        continue;
                }
                else
                {
                    try
                    {
                        dir.Delete(recursive: true);
                    }
                    catch (Exception e) when (e is IOException || e is UnauthorizedAccessException)
                    {
                        result.KeptDetail.Add($"{dir.FullName}: could not be removed (what could be is gone): {e.Message}");
                        continue;
                    }
                }
                result.Runs++;
                result.Files += files.Count;
                result.Bytes += bytes;
            }
            return result;
        }
    }
}
