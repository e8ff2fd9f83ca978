using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using Hashall.Core.Catalog;
using Hashall.Core.Devices;
using Hashall.Core.Payloads;
using Hashall.Core.Platform;
using Hashall.Core.Scanning;
using Microsoft.Data.Sqlite;

namespace Hashall.Core.Orphans
{
    /// <summary>What to look for under which roots.</summary>
    public sealed class OrphanOptions
    {
        /// <summary>Absolute seeding roots (see SeedingRootStore.Resolve).</summary>
        public IList<string> Roots { get; set; } = new List<string>();
        /// <summary>Only what was last written at least this long ago.</summary>
        public TimeSpan MinimumAge { get; set; }
        /// <summary>
        /// Names to leave out, matched against each name on the path below the root (a matching folder leaves
        /// out all it holds); null: none. The cmdlets make it from PowerShell wildcards (-Exclude).
        /// </summary>
        public Func<string, bool>? ExcludeName { get; set; }
        /// <summary>List the torrents' unselected files (priority 0) instead of orphans.</summary>
        public bool Unselected { get; set; }
    }

    /// <summary>The files the torrents name, as the last syncs recorded them (torrent_files of torrents not gone).</summary>
    public sealed class TorrentReferences
    {
        /// <summary>Full path → whether any torrent has it selected, and the torrents ("hash: name").</summary>
        public Dictionary<string, (bool Selected, List<string> Torrents)> Paths { get; } = new Dictionary<string, (bool, List<string>)>(StringComparer.Ordinal);
        private HashSet<(ulong, ulong)>? _inodes;

        private CatalogDatabase? _db;
        private bool _loaded = true;

        /// <summary>References read from the catalog only when first needed (a listing by SQL may never need them all).</summary>
        public static TorrentReferences Lazy(CatalogDatabase db) => new TorrentReferences { _db = db, _loaded = false };

        /// <summary>Reads every recorded file of the torrents not gone now, when <see cref="Lazy"/> deferred it.</summary>
        public TorrentReferences Loaded()
        {
            if (_loaded)
                return this;
            _loaded = true;
            var all = Load(_db!);
            foreach (var kv in all.Paths)
                Paths[kv.Key] = kv.Value;
            return this;
        }

        /// <summary>Whether any torrent not gone names a file at or under <paramref name="directory"/>, asked of the catalog (its path index) without loading the references.</summary>
        public bool CatalogHoldsAny(string directory)
        {
            if (_loaded)
                return Paths.ContainsKey(directory) || Paths.Keys.Any(p => PathText.IsUnder(p, directory));
            try
            {
                using var c = _db!.Command(@"SELECT EXISTS (SELECT 1 FROM torrent_files f JOIN torrent_instances t ON t.instance = f.instance AND t.torrent_hash = f.torrent_hash
WHERE t.gone_at IS NULL" + FileStore.PrefixClause(directory, "f.full_path") + ");");
                FileStore.AddPrefixParameters(c, directory);
                return (long)c.ExecuteScalar()! != 0;
            }
            catch (SqliteException e)
            {
                throw CatalogDatabase.Translate(e, _db!.Path);
            }
        }

        public static TorrentReferences Load(CatalogDatabase db)
        {
            var refs = new TorrentReferences();
            try
            {
                using var c = db.Command(@"SELECT f.full_path, f.priority, t.torrent_hash, t.name FROM torrent_files f
JOIN torrent_instances t ON t.instance = f.instance AND t.torrent_hash = f.torrent_hash WHERE t.gone_at IS NULL;");
                using var r = c.ExecuteReader();
                while (r.Read())
                    refs.Add(r.GetString(0), r.GetInt64(1) != 0, r.GetString(2) + ": " + r.GetString(3));
                r.Close();
                // qBittorrent's part file (libtorrent's ".<hash>.parts" in the save path, holding the pieces
                // of unselected files that border selected ones) belongs to its torrent.
                using var parts = db.Command("SELECT save_path, torrent_hash, name FROM torrent_instances WHERE gone_at IS NULL AND save_path <> '';");
                using var p = parts.ExecuteReader();
                while (p.Read())
                    refs.Add(PathText.Join(p.GetString(0), "." + p.GetString(1).ToLowerInvariant() + PartsSuffix), true, p.GetString(1) + ": " + p.GetString(2));
            }
            catch (SqliteException e)
            {
                throw CatalogDatabase.Translate(e, db.Path);
            }
            return refs;
        }

        public void Add(string path, bool selected, string torrent)
        {
            if (Paths.TryGetValue(path, out var known))
            {
                known.Torrents.Add(torrent);
                Paths[path] = (known.Selected || selected, known.Torrents);
            }
            else
            {
                Paths[path] = (selected, new List<string> { torrent });
            }
            _inodes = null;
        }

        /// <summary>The name qBittorrent gives a file it is still downloading (its "append .!qB" option): the torrent's path and this.</summary>
        public const string InProgressSuffix = ".!qB";
        /// <summary>The end of the name of libtorrent's part file in a save path: "." + info hash + this.</summary>
        public const string PartsSuffix = ".parts";

        /// <summary>
        /// Whether (st_dev, inode) is the file of any named path on disk now (selected or not): the torrent's
        /// file itself however its path is spelt (a save path given to qBittorrent through a symlink), a hard
        /// link of it under another name or in another root, or, while the named path is missing, the file
        /// qBittorrent is downloading to (the path + ".!qB"). The named paths are read (lstat) once, on first
        /// use, so catalogued or not, every torrent file counts.
        /// </summary>
        public bool HasInode(ulong device, ulong inode)
        {
            if (_inodes == null)
            {
                Loaded();
                _inodes = new HashSet<(ulong, ulong)>();
                foreach (string path in Paths.Keys)
                    if (FileSystemApi.TryLstat(path, out var st) == 0 || FileSystemApi.TryLstat(path + InProgressSuffix, out st) == 0)
                        _inodes.Add((st.DeviceNumber, st.Inode));
            }
            return _inodes.Contains((device, inode));
        }

        /// <summary>Whether a folder holds (or is) a named path: never an empty-folder orphan.</summary>
        public bool HoldsAny(string directory, HashSet<string> ancestors) => ancestors.Contains(directory) || Paths.ContainsKey(directory);

        /// <summary>Every folder above a named path, up to "/".</summary>
        public HashSet<string> Ancestors()
        {
            var set = new HashSet<string>(StringComparer.Ordinal);
            foreach (string path in Paths.Keys)
            {
                string? dir = Path.GetDirectoryName(path);
                while (!string.IsNullOrEmpty(dir) && set.Add(dir!))
                    dir = Path.GetDirectoryName(dir);
            }
            return set;
        }
    }

    /// <summary>
    /// Finds orphans: files under the seeding roots (as the catalog's last scan of them knows them, each
    /// checked on disk now) that no torrent of any qBittorrent in the catalog names, directly or through
    /// another path of the same inode, and folders with nothing in them that hold no torrent's files.
    /// Refuses (<see cref="CheckFresh"/>) when a sync is older than the last scan of a root. Reads only.
    /// </summary>
    public sealed class OrphanFinder
    {
        private readonly CatalogDatabase _db;
        private readonly FileQuery _query;
        private readonly FileStore _files;
        private readonly DeviceLocator _locator = new DeviceLocator();

        public OrphanFinder(CatalogDatabase db)
        {
            _db = db;
            _query = new FileQuery(db);
            _files = new FileStore(db);
        }

        /// <summary>
        /// Throws unless every qBittorrent in the catalog was synced whole after the last scan of each
        /// root: OrphanNoTorrents (never synced), OrphanRootNotCatalogued / OrphanRootNotScanned,
        /// OrphanSyncStale (naming the instance and both times). Returns the newest scan time.
        /// </summary>
        public DateTime CheckFresh(IReadOnlyList<string> roots)
        {
            var syncs = new PayloadStore(_db).LastFullSyncs();
            if (syncs.Count == 0)
                throw new HashallException("OrphanNoTorrents", HashallErrorKind.InvalidArgument,
                    $"The catalog '{_db.Path}' has no torrents from any qBittorrent: run Sync-HashallPayload (or -Sync) first; without them every file would be an orphan.", _db.Path);
            DateTime newestScan = DateTime.MinValue;
            foreach (string root in roots)
            {
                var scope = _query.ScopeOf(root, _locator)
                    ?? throw new HashallException("OrphanRootNotCatalogued", HashallErrorKind.NotFound, $"The seeding root '{root}' is on no catalogued device: scan it first.", root);
                var last = _query.LastScanCovering(scope.Device.DeviceId, scope.Prefix)
                    ?? throw new HashallException("OrphanRootNotScanned", HashallErrorKind.InvalidArgument, $"The seeding root '{root}' has never been scanned whole: Invoke-HashallScan '{root}' first.", root);
                if (last > newestScan)
                    newestScan = last;
                foreach (var kv in syncs)
                    if (kv.Value == null || kv.Value < last)
                        throw new HashallException("OrphanSyncStale", HashallErrorKind.InvalidArgument,
                            $"The last whole sync of qBittorrent {kv.Key} ({(kv.Value == null ? "never" : CatalogTime.Format(kv.Value.Value))}) is older than the last scan of '{root}' ({CatalogTime.Format(last)}): " +
                            "torrents added since would look like orphans. Run Sync-HashallPayload for it (or -Sync), then list orphans.", kv.Key);
            }
            return newestScan;
        }

        /// <summary>The orphans (or, with <see cref="OrphanOptions.Unselected"/>, the unselected files) under the roots, root by root, by path.</summary>
        public IEnumerable<HashallOrphan> Find(OrphanOptions options, TorrentReferences? references = null, Action<string>? progress = null)
        {
            // Orphans: the files no torrent names come from the catalog by an anti-join on the torrents'
            // files (its path index), so only candidates cross into .NET; -Unselected reads the references.
            var refs = references ?? (options.Unselected ? TorrentReferences.Load(_db) : TorrentReferences.Lazy(_db));
            bool bySql = references == null && !options.Unselected;
            var exclude = options.ExcludeName;
            var roots = options.Roots.ToList();
            DateTime now = DateTime.UtcNow;
            HashSet<string>? ancestors = null;
            foreach (string root in roots)
            {
                progress?.Invoke(root);
                var scope = _query.ScopeOf(root, _locator)
                    ?? throw new HashallException("OrphanRootNotCatalogued", HashallErrorKind.NotFound, $"The seeding root '{root}' is on no catalogued device: scan it first.", root);
                foreach (var file in bySql ? Unnamed(scope) : _query.Files(new[] { scope }, Array.Empty<string>(), includeDeleted: false))
                {
                    string full = file.FullName;
                    if (full == root || !PathText.IsUnder(full, root))
                        continue;
                    string relative = PathText.RelativeTo(full, root);
                    if (Excluded(relative, exclude))
                        continue;
                    // A root inside another root: listed once, under the outer one.
                    if (roots.Any(r => r != root && r.Length > root.Length && PathText.IsUnder(full, r) && PathText.IsUnder(r, root)) )
                        continue;
                    (bool Selected, List<string> Torrents) reference = default;
                    bool named = !bySql && refs.Paths.TryGetValue(full, out reference);
                    if (named && reference.Selected)
                        continue;
                    if (options.Unselected != named)
                        continue;
                    if (FileSystemApi.TryLstat(full, out var st) != 0 || st.Kind != FileKind.Regular || unchecked((long)st.Inode) != file.Inode)
                        continue; // gone or replaced since the scan: the next scan will know
                    var written = ScanWriter.Epoch.AddTicks(st.MtimeNs / 100);
                    if (now - written < options.MinimumAge)
                        continue;
                    var orphan = new HashallOrphan
                    {
                        FullName = full, Root = root, RelativePath = relative, Size = st.Size, Inode = unchecked((long)st.Inode), LinkCount = st.LinkCount,
                        LastWriteTimeUtc = written, Age = now - written, DeviceId = file.DeviceId, Database = _db.Path,
                        Reason = named ? OrphanReason.Unselected : OrphanReason.Unreferenced,
                        Torrents = named ? reference.Torrents!.ToArray() : Array.Empty<string>(),
                    };
                    // The torrent's file under another spelling of its path (a symlinked save path), another name
                    // of it (cross-seed, another root), or the file qBittorrent is downloading it to: in use.
                    if (!named && refs.HasInode(st.DeviceNumber, st.Inode))
                        continue;
                    if (!named && st.LinkCount > 1)
                    {
                        var outside = _files.ActiveByInode(file.DeviceId, file.Inode)
                            .Select(l => PathText.UnderMount(scope.Device.MountPoint, scope.Device.MountRoot, l.Path))
                            .Where(p => p != null && !roots.Any(r => PathText.IsUnder(p!, r))).Select(p => p!).OrderBy(p => p, StringComparer.Ordinal).ToArray();
                        orphan.OutsideLinks = outside;
                        orphan.LinkedOutsideRoots = outside.Length > 0;
                    }
                    yield return orphan;
                }
                if (options.Unselected)
                    continue;
                ancestors ??= bySql ? null : refs.Ancestors();
                foreach (var folder in EmptyFolders(root, root, exclude, refs, ancestors))
                {
                    if (FileSystemApi.TryLstat(folder, out var st) != 0)
                        continue;
                    var written = ScanWriter.Epoch.AddTicks(st.MtimeNs / 100);
                    if (now - written < options.MinimumAge)
                        continue;
                    yield return new HashallOrphan
                    {
                        FullName = folder, Root = root, RelativePath = PathText.RelativeTo(folder, root), IsFolder = true, Inode = unchecked((long)st.Inode),
                        LinkCount = st.LinkCount, LastWriteTimeUtc = written, Age = now - written, DeviceId = scope.Device.DeviceId, Database = _db.Path,
                        Reason = OrphanReason.EmptyFolder,
                    };
                }
            }
        }

        /// <summary>
        /// The active files of a scope whose full path no torrent (not gone) names, in path order: one
        /// statement, each file's full path built in SQL as the mount shows it and looked up in the
        /// torrents' files by their path index.
        /// </summary>
        private IEnumerable<HashallFile> Unnamed(CatalogScope scope)
        {
            var device = scope.Device;
            string mountRoot = device.MountRoot.Trim('/');
            string head = device.MountPoint.EndsWith("/", StringComparison.Ordinal) ? device.MountPoint : device.MountPoint + "/";
            // The catalog path under the mount's root: a bind mount of a folder shows the paths below it.
            int skip = mountRoot.Length == 0 ? 1 : mountRoot.Length + 2;
            string sql = $@"SELECT {FileStore.Columns} FROM files f
WHERE f.device_id = $d AND f.status = 'active'{FileStore.PrefixClause(scope.Prefix, "f.path")}
  AND NOT EXISTS (SELECT 1 FROM torrent_files tf JOIN torrent_instances t ON t.instance = tf.instance AND t.torrent_hash = tf.torrent_hash
                  WHERE tf.full_path = $head || substr(f.path, $skip) AND t.gone_at IS NULL)
ORDER BY f.path;";
            var rows = new List<FileRow>();
            try
            {
                using var c = _db.Command(sql);
                c.Parameters.AddWithValue("$d", device.DeviceId);
                c.Parameters.AddWithValue("$head", head);
                c.Parameters.AddWithValue("$skip", skip);
                FileStore.AddPrefixParameters(c, scope.Prefix);
                using var r = c.ExecuteReader();
                while (r.Read())
                    rows.Add(FileStore.Read(r));
            }
            catch (SqliteException e)
            {
                throw CatalogDatabase.Translate(e, _db.Path);
            }
            foreach (var row in rows)
            {
                string? full = PathText.UnderMount(device.MountPoint, device.MountRoot, row.Path);
                if (full == null)
                    continue;
                yield return new HashallFile
                {
                    FileId = row.FileId, DeviceId = row.DeviceId, FullName = full, RelativePath = row.Path, Size = row.Size, MtimeNs = row.MtimeNs,
                    Inode = row.Inode, LinkCount = row.LinkCount, Database = _db.Path,
                };
            }
        }

        /// <summary>Folders below <paramref name="directory"/> with nothing in them (symlinks are not followed; excluded names are not entered).</summary>
        private static IEnumerable<string> EmptyFolders(string directory, string root, Func<string, bool>? exclude, TorrentReferences refs, HashSet<string>? ancestors)
        {
            List<string> children;
            try
            {
                children = new DirectoryInfo(directory).EnumerateDirectories().Where(d => (d.Attributes & FileAttributes.ReparsePoint) == 0).Select(d => d.FullName).ToList();
            }
            catch (Exception e) when (e is IOException || e is UnauthorizedAccessException)
            {
                yield break;
            }
            foreach (string child in children.OrderBy(c => c, StringComparer.Ordinal))
            {
                if (Excluded(PathText.RelativeTo(child, root), exclude))
                    continue;
                bool empty;
                try
                {
                    empty = !Directory.EnumerateFileSystemEntries(child).Any();
                }
                catch (Exception e) when (e is IOException || e is UnauthorizedAccessException)
                {
                    continue;
                }
                if (empty)
                {
                    if (ancestors != null ? !refs.HoldsAny(child, ancestors) : !refs.CatalogHoldsAny(child))
                        yield return child;
                }
                else
                {
                    foreach (string f in EmptyFolders(child, root, exclude, refs, ancestors))
                        yield return f;
                }
            }
        }

        /// <summary>Whether any name on the relative path matches an exclusion.</summary>
        internal static bool Excluded(string relative, Func<string, bool>? exclude) =>
            exclude != null && relative.Split('/').Any(exclude);
    }
}
