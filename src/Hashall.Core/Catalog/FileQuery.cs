using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using Hashall.Core.Devices;
using Hashall.Core.Platform;
using Microsoft.Data.Sqlite;

namespace Hashall.Core.Catalog
{
    /// <summary>A place in the catalog: a device and a path prefix on it ("" for the whole device).</summary>
    public sealed class CatalogScope
    {
        public CatalogScope(HashallDevice device, string prefix)
        {
            Device = device;
            Prefix = prefix;
        }

        public HashallDevice Device { get; }
        public string Prefix { get; }
    }

    /// <summary>Streams catalogued files and duplicate groups, filtered in SQL by device, path prefix, hash and status.</summary>
    public sealed class FileQuery
    {
        private readonly CatalogDatabase _db;
        private readonly Dictionary<long, HashallDevice> _devices;
        private readonly Dictionary<long, List<(string Prefix, DateTime Finished)>> _scans = new Dictionary<long, List<(string, DateTime)>>();

        public FileQuery(CatalogDatabase db)
        {
            _db = db;
            _devices = new DeviceStore(db).List().ToDictionary(d => d.DeviceId);
            foreach (var (device, prefix, finished) in Stream("SELECT device_id, prefix, max(finished_at) FROM scans GROUP BY device_id, prefix;",
                         new List<(string, object)>(), r => (r.GetInt64(0), r.GetString(1), CatalogTime.Parse(r.GetString(2)))))
            {
                if (!_scans.TryGetValue(device, out var list))
                    _scans[device] = list = new List<(string, DateTime)>();
                list.Add((prefix, finished));
            }
        }

        public IReadOnlyCollection<HashallDevice> Devices => _devices.Values;

        /// <summary>The connection's open transaction, when queries run inside one (a plan stored as its groups are read).</summary>
        public SqliteTransaction? Transaction { get; set; }

        /// <summary>
        /// The device and relative prefix of an absolute path, which need not exist any more (deleted
        /// files are still catalogued): the existing path's device by identity, else the catalogued
        /// device with the longest mount point above it.
        /// </summary>
        public CatalogScope? ScopeOf(string fullPath, DeviceLocator locator)
        {
            try
            {
                var located = locator.Locate(fullPath);
                var device = _devices.Values.FirstOrDefault(d => d.Identity == located.Device.Identity);
                if (device != null)
                    return new CatalogScope(device, located.RelativePath);
            }
            catch (HashallException e) when (e.Kind == HashallErrorKind.NotFound || e.Kind == HashallErrorKind.PermissionDenied)
            {
            }
            var best = _devices.Values.Where(d => PathText.IsUnder(fullPath, d.MountPoint)).OrderByDescending(d => d.MountPoint.Length).FirstOrDefault();
            if (best == null)
                return null;
            string inMount = PathText.RelativeTo(fullPath, best.MountPoint);
            string root = best.MountRoot.Trim('/');
            return new CatalogScope(best, PathText.JoinRelative(root, inMount));
        }

        /// <summary>Files in any of the scopes (all devices when none), optionally by hash, active only unless asked.</summary>
        public IEnumerable<HashallFile> Files(IReadOnlyList<CatalogScope> scopes, IReadOnlyList<string> hashes, bool includeDeleted)
        {
            var where = new List<string>();
            var parameters = new List<(string, object)>();
            if (!includeDeleted)
                where.Add("status = 'active'");
            if (scopes.Count > 0)
            {
                var ors = new List<string>();
                for (int i = 0; i < scopes.Count; i++)
                {
                    string p = "$p" + i;
                    parameters.Add(("$d" + i, scopes[i].Device.DeviceId));
                    string clause = $"device_id = $d{i}";
                    if (scopes[i].Prefix.Length > 0)
                    {
                        // One index range [prefix, prefix + "0") of (device_id, path), then the path itself or
                        // what is under it ("a.b" and "a-b" sort inside the range too); an OR alone is no range.
                        clause += $" AND path >= {p} AND path < {p}hi AND (path = {p} OR path >= {p}lo)";
                        parameters.Add((p, scopes[i].Prefix));
                        parameters.Add((p + "lo", scopes[i].Prefix + "/"));
                        parameters.Add((p + "hi", scopes[i].Prefix + "0"));
                    }
                    ors.Add("(" + clause + ")");
                }
                where.Add("(" + string.Join(" OR ", ors) + ")");
            }
            if (hashes.Count > 0)
            {
                var ors = new List<string>();
                for (int i = 0; i < hashes.Count; i++)
                {
                    parameters.Add(("$h" + i, hashes[i]));
                    ors.Add($"sha1 = $h{i} OR sha256 = $h{i} OR quick_hash = $h{i}");
                }
                where.Add("(" + string.Join(" OR ", ors) + ")");
            }
            string sql = $"SELECT {FileStore.Columns}, first_seen, last_seen FROM files"
                + (where.Count > 0 ? " WHERE " + string.Join(" AND ", where) : "") + " ORDER BY device_id, path;";
            return Stream(sql, parameters, ToFile);
        }

        /// <summary>
        /// Duplicate groups (same size and SHA-1, more than one inode, active, one device), largest files
        /// first, then by device and SHA-1; within a group by inode, then path. Streamed: each device's
        /// groups come from one ordered range of ix_files_content (only the keys of groups with two
        /// inodes are looked up again, for their rows), and devices are merged in that order, so memory
        /// holds one group per device, never a device's files.
        /// </summary>
        public IEnumerable<DuplicateGroup> Duplicates(IReadOnlyList<long> deviceIds, long minimumSize)
        {
            var ids = (deviceIds.Count > 0 ? deviceIds : (IEnumerable<long>)_devices.Keys).Distinct().OrderBy(d => d).ToList();
            var streams = new List<IEnumerator<DuplicateGroup>>();
            try
            {
                foreach (var id in ids)
                {
                    var stream = DuplicatesOn(id, minimumSize).GetEnumerator();
                    streams.Add(stream);
                    if (!stream.MoveNext())
                    {
                        stream.Dispose();
                        streams.Remove(stream);
                    }
                }
                while (streams.Count > 0)
                {
                    int first = 0;
                    for (int i = 1; i < streams.Count; i++)
                        if (Before(streams[i].Current, streams[first].Current))
                            first = i;
                    yield return streams[first].Current;
                    if (!streams[first].MoveNext())
                    {
                        streams[first].Dispose();
                        streams.RemoveAt(first);
                    }
                }
            }
            finally
            {
                foreach (var stream in streams)
                    stream.Dispose();
            }
        }

        /// <summary>The order of groups across devices: largest first, then device id, then SHA-1 (as SQLite compares text).</summary>
        private static bool Before(DuplicateGroup a, DuplicateGroup b) =>
            a.Size != b.Size ? a.Size > b.Size
            : a.DeviceId != b.DeviceId ? a.DeviceId < b.DeviceId
            : string.CompareOrdinal(a.Sha1, b.Sha1) < 0; // lowercase hex: ordinal is SQLite's byte order

        /// <summary>
        /// SQL of one device's duplicate groups: the keys from the index in order, then each group's rows
        /// by the same index. CROSS JOIN keeps the groups outside (SQLite would otherwise read every file
        /// of the device and look each up in an automatic index of the groups, then sort).
        /// </summary>
        internal static string DuplicatesSql => $@"
SELECT {string.Join(", ", FileStore.Columns.Split(',').Select(c => "f." + c.Trim()))}, f.first_seen, f.last_seen, c.base_inode, c.base_mtime_ns
FROM (SELECT size, sha1 FROM files INDEXED BY ix_files_content
      WHERE device_id = $d AND status = 'active' AND sha1 IS NOT NULL AND size >= $min
      GROUP BY size, sha1 HAVING min(inode) <> max(inode)
      ORDER BY size DESC, sha1) g
CROSS JOIN files f INDEXED BY ix_files_content ON f.device_id = $d AND f.status = 'active' AND f.size = g.size AND f.sha1 = g.sha1
-- a block clone of the inode made while it had this size, mtime and content (see CloneSharing)
LEFT JOIN block_clones c ON c.device_id = $d AND c.inode = f.inode AND c.size = f.size AND c.mtime_ns = f.mtime_ns AND c.sha1 = f.sha1
ORDER BY g.size DESC, g.sha1;";

        /// <summary>The clone record's columns in <see cref="DuplicatesSql"/> (after the file's columns and first/last seen).</summary>
        private const int CloneBaseColumn = FileStore.ColumnCount + 2;

        private static (long?, long?) CloneBase(SqliteDataReader r) =>
            r.IsDBNull(CloneBaseColumn) ? (null, null) : (r.GetInt64(CloneBaseColumn), r.GetInt64(CloneBaseColumn + 1));

        /// <summary>
        /// One device's duplicate groups as bare catalog rows (no names or times built): what link
        /// planning reads. Same groups and order as <see cref="Duplicates"/> for that device.
        /// </summary>
        public IEnumerable<List<FileRow>> DuplicateRows(long deviceId, long minimumSize) =>
            DuplicateRowsWithClones(deviceId, minimumSize).Select(g => g.Rows);

        /// <summary><see cref="DuplicateRows"/>, each group with which of its inodes share blocks by a recorded block clone.</summary>
        public IEnumerable<(List<FileRow> Rows, CloneSharing Sharing)> DuplicateRowsWithClones(long deviceId, long minimumSize)
        {
            List<FileRow>? group = null;
            var sharing = new CloneSharing();
            var parameters = new List<(string, object)> { ("$d", deviceId), ("$min", minimumSize) };
            foreach (var (row, baseInode, baseMtime) in Stream(DuplicatesSql, parameters, r =>
            {
                var (b, m) = CloneBase(r);
                return (FileStore.Read(r), b, m);
            }))
            {
                if (group != null && (group[0].Sha1 != row.Sha1 || group[0].Size != row.Size))
                {
                    yield return (SortedRows(group), sharing);
                    group = null;
                    sharing = new CloneSharing();
                }
                group ??= new List<FileRow>();
                group.Add(row);
                sharing.Add(row.Inode, row.MtimeNs, baseInode, baseMtime);
            }
            if (group != null)
                yield return (SortedRows(group), sharing);
        }

        private static List<FileRow> SortedRows(List<FileRow> group)
        {
            for (int i = 1; i < group.Count; i++)
            {
                var (a, b) = (group[i - 1], group[i]);
                if (a.Inode > b.Inode || (a.Inode == b.Inode && Payloads.CodePointComparer.Instance.Compare(a.Path, b.Path) > 0))
                    return group.OrderBy(f => f.Inode).ThenBy(f => f.Path, Payloads.CodePointComparer.Instance).ToList();
            }
            return group;
        }

        private IEnumerable<DuplicateGroup> DuplicatesOn(long deviceId, long minimumSize)
        {
            DuplicateGroup? group = null;
            var parameters = new List<(string, object)> { ("$d", deviceId), ("$min", minimumSize) };
            foreach (var (file, baseInode, baseMtime) in Stream(DuplicatesSql, parameters, r =>
            {
                var (b, m) = CloneBase(r);
                return (ToFile(r), b, m);
            }))
            {
                if (group != null && (group.Sha1 != file.Sha1 || group.Size != file.Size))
                {
                    yield return Sorted(group);
                    group = null;
                }
                group ??= new DuplicateGroup { DeviceId = file.DeviceId, Device = file.Device, Size = file.Size, Sha1 = file.Sha1!, Database = _db.Path };
                group.Files.Add(file);
                group.Sharing.Add(file.Inode, file.MtimeNs, baseInode, baseMtime);
            }
            if (group != null)
                yield return Sorted(group);
        }

        /// <summary>A group's files by inode, then path in code point order (SQLite's order of UTF-8 text).</summary>
        private static DuplicateGroup Sorted(DuplicateGroup group)
        {
            // Rows come by inode (the index's order); only hard links of one inode may need their paths ordered.
            bool ordered = true;
            for (int i = 1; i < group.Files.Count && ordered; i++)
            {
                var (a, b) = (group.Files[i - 1], group.Files[i]);
                ordered = a.Inode < b.Inode || (a.Inode == b.Inode && Payloads.CodePointComparer.Instance.Compare(a.RelativePath, b.RelativePath) <= 0);
            }
            if (ordered)
                return group;
            var files = group.Files.OrderBy(f => f.Inode).ThenBy(f => f.RelativePath, Payloads.CodePointComparer.Instance).ToList();
            group.Files.Clear();
            foreach (var f in files)
                group.Files.Add(f);
            return group;
        }

        private HashallFile ToFile(SqliteDataReader r)
        {
            var row = FileStore.Read(r);
            _devices.TryGetValue(row.DeviceId, out var device);
            return new HashallFile
            {
                FileId = row.FileId,
                DeviceId = row.DeviceId,
                Device = device?.Alias ?? device?.MountPoint ?? "",
                FullName = device == null ? row.Path : PathText.UnderMount(device.MountPoint, device.MountRoot, row.Path) ?? row.Path,
                RelativePath = row.Path,
                Size = row.Size,
                MtimeNs = row.MtimeNs,
                Inode = row.Inode,
                LinkCount = row.LinkCount,
                Sha1 = row.Sha1,
                Sha256 = row.Sha256,
                QuickHash = row.QuickHash,
                Status = row.Deleted ? "deleted" : "active",
                FirstSeen = CatalogTime.Parse(r.GetString(FileStore.ColumnCount)),
                LastSeen = LastSeen(row, CatalogTime.Parse(r.GetString(FileStore.ColumnCount + 1))),
                Database = _db.Path,
            };
        }

        /// <summary>An active file was seen by the newest complete scan of a root holding it, if later than its row's write.</summary>
        private DateTime LastSeen(FileRow row, DateTime written)
        {
            if (row.Deleted)
                return written;
            var covering = LastScanCovering(row.DeviceId, row.Path);
            return covering != null && covering > written ? covering.Value : written;
        }

        /// <summary>The newest finished scan of a device that covered the whole of <paramref name="path"/> (a scan of it, or of a folder above it); null when none.</summary>
        public DateTime? LastScanCovering(long deviceId, string path)
        {
            if (!_scans.TryGetValue(deviceId, out var scans))
                return null;
            DateTime? latest = null;
            foreach (var (prefix, finished) in scans)
            {
                if ((latest == null || finished > latest) && (prefix.Length == 0 || path == prefix || path.StartsWith(prefix + "/", StringComparison.Ordinal)))
                    latest = finished;
            }
            return latest;
        }

        private IEnumerable<T> Stream<T>(string sql, List<(string Name, object Value)> parameters, Func<SqliteDataReader, T> read)
        {
            using var command = _db.Command(sql, Transaction);
            foreach (var (name, value) in parameters)
                command.Parameters.AddWithValue(name, value);
            SqliteDataReader reader;
            try
            {
                reader = command.ExecuteReader();
            }
            catch (SqliteException e)
            {
                throw CatalogDatabase.Translate(e, _db.Path);
            }
            using (reader)
            {
                while (true)
                {
                    bool more;
                    try { more = reader.Read(); }
                    catch (SqliteException e) { throw CatalogDatabase.Translate(e, _db.Path); }
                    if (!more)
                        yield break;
                    yield return read(reader);
                }
            }
        }
    }
}
