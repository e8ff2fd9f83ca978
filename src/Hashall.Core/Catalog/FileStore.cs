using Hashall.Core.Platform;
using System.Runtime.CompilerServices;
using System;
using System.Collections.Generic;
using System.Linq;
using Microsoft.Data.Sqlite;

namespace Hashall.Core.Catalog
{
    /// <summary>Reads of the files table that scanning needs: a scope's rows, rows by inode, duplicate candidates.</summary>
    public sealed class FileStore
    {
        internal const string Columns = "file_id, device_id, path, size, mtime_ns, inode, link_count, sha1, sha256, quick_hash, status, ctime_ns, hashed_scan_start_ns";
        /// <summary>How many columns <see cref="Columns"/> names (a query's own columns follow them).</summary>
        internal const int ColumnCount = 13;

        private readonly CatalogDatabase _db;

        public FileStore(CatalogDatabase db) => _db = db;

        /// <summary>
        /// Reads on a connection that may be inside a write batch's transaction (the scan's own
        /// connection): <paramref name="transaction"/> gives the open one, if any, for each command.
        /// </summary>
        public FileStore(CatalogDatabase db, Func<SqliteTransaction?> transaction) : this(db) => _transaction = transaction;

        private readonly Func<SqliteTransaction?>? _transaction;

        /// <summary>
        /// Up to <paramref name="limit"/> rows (deleted ones too) of a device in the catalog's key
        /// order (path, by UTF-8 bytes: the UNIQUE (device_id, path) index), at <paramref name="prefix"/>
        /// or under it ("" is the whole device), after <paramref name="after"/> (null: from the start),
        /// among the rows whose id is at most <paramref name="maxId"/>. A keyset chunk: no statement
        /// stays open between chunks, so writes in between are never blocked. The row of the prefix
        /// itself is not included (see <see cref="AtPath"/>): each query is one index range.
        /// </summary>
        [MethodImpl(HotPath.Optimize)]
        public List<FileRow> Chunk(long deviceId, string prefix, string? after, long maxId, int limit)
        {
            string range = prefix.Length == 0 ? "" : " AND path < $high";
            string from = after != null ? " AND path > $after" : prefix.Length == 0 ? "" : " AND path >= $low";
            string sql = $"SELECT {Columns} FROM files WHERE device_id = $d{from}{range} AND file_id <= $max ORDER BY path LIMIT $limit;";
            return Query(sql, c =>
            {
                c.Parameters.AddWithValue("$d", deviceId);
                c.Parameters.AddWithValue("$max", maxId);
                c.Parameters.AddWithValue("$limit", limit);
                if (after != null)
                    c.Parameters.AddWithValue("$after", after);
                if (prefix.Length > 0)
                {
                    c.Parameters.AddWithValue("$high", prefix + "0"); // '0' follows '/'
                    if (after == null)
                        c.Parameters.AddWithValue("$low", prefix + "/");
                }
            });
        }

        /// <summary>The row (deleted or not) of exactly <paramref name="path"/>, if its id is at most <paramref name="maxId"/>.</summary>
        public FileRow? AtPath(long deviceId, string path, long maxId) =>
            Query($"SELECT {Columns} FROM files WHERE device_id = $d AND path = $p AND file_id <= $max;", c =>
            {
                c.Parameters.AddWithValue("$d", deviceId);
                c.Parameters.AddWithValue("$p", path);
                c.Parameters.AddWithValue("$max", maxId);
            }).FirstOrDefault();

        /// <summary>The highest row id now (rows inserted later have higher ids).</summary>
        public long MaxFileId()
        {
            try
            {
                using var command = _db.Command("SELECT coalesce(max(file_id), 0) FROM files;", _transaction?.Invoke());
                return (long)command.ExecuteScalar()!;
            }
            catch (SqliteException e)
            {
                throw CatalogDatabase.Translate(e, _db.Path);
            }
        }

        /// <summary>Whether the device has any active row.</summary>
        public bool HasActive(long deviceId)
        {
            try
            {
                using var command = _db.Command("SELECT EXISTS (SELECT 1 FROM files WHERE device_id = $d AND status = 'active');", _transaction?.Invoke());
                command.Parameters.AddWithValue("$d", deviceId);
                return (long)command.ExecuteScalar()! != 0;
            }
            catch (SqliteException e)
            {
                throw CatalogDatabase.Translate(e, _db.Path);
            }
        }

        /// <summary>The active row of one path, if catalogued.</summary>
        public FileRow? ActiveByPath(long deviceId, string path) =>
            Query($"SELECT {Columns} FROM files WHERE device_id = $d AND path = $p AND status = 'active';", c =>
            {
                c.Parameters.AddWithValue("$d", deviceId);
                c.Parameters.AddWithValue("$p", path);
            }).FirstOrDefault();

        /// <summary>Active rows of one inode on a device (its hard links as last seen).</summary>
        public List<FileRow> ActiveByInode(long deviceId, long inode) =>
            Query($"SELECT {Columns} FROM files INDEXED BY ix_files_inode WHERE device_id = $d AND inode = $i AND status = 'active';", c =>
            {
                c.Parameters.AddWithValue("$d", deviceId);
                c.Parameters.AddWithValue("$i", inode);
            });

        /// <summary>
        /// Active rows without a SHA-1 that may have a duplicate: another active inode on the device
        /// of the same size whose quick hash matches or is unknown.
        /// </summary>
        public List<FileRow> DuplicateCandidates(long deviceId) =>
            Query($@"SELECT {Columns} FROM files f WHERE f.device_id = $d AND f.status = 'active' AND f.sha1 IS NULL
  AND EXISTS (SELECT 1 FROM files o WHERE o.device_id = f.device_id AND o.size = f.size AND o.inode <> f.inode AND o.status = 'active'
              AND (o.quick_hash IS NULL OR f.quick_hash IS NULL OR o.quick_hash = f.quick_hash))
ORDER BY f.inode;", c => c.Parameters.AddWithValue("$d", deviceId));

        /// <summary>SQL matching the path itself or anything under it, by index range (LIKE would ignore case and the index).</summary>
        /// <remarks>
        /// One index range [prefix, prefix + "0"), then the path itself or what is under it ("a.b" and
        /// "a-b" sort inside the range too): an OR of the path and a range is no range to SQLite, which
        /// then reads the whole device.
        /// </remarks>
        internal static string PrefixClause(string prefix, string column = "path") =>
            prefix.Length == 0 ? "" : $" AND {column} >= $prefix AND {column} < $prefixHigh AND ({column} = $prefix OR {column} >= $prefixLow)";

        internal static void AddPrefixParameters(SqliteCommand command, string prefix)
        {
            if (prefix.Length == 0)
                return;
            command.Parameters.AddWithValue("$prefix", prefix);
            command.Parameters.AddWithValue("$prefixLow", prefix + "/");
            command.Parameters.AddWithValue("$prefixHigh", prefix + "0"); // '0' follows '/'
        }

        [MethodImpl(HotPath.Optimize)]
        internal static FileRow Read(SqliteDataReader r) => new FileRow
        {
            FileId = r.GetInt64(0),
            DeviceId = r.GetInt64(1),
            Path = r.GetString(2),
            Size = r.GetInt64(3),
            MtimeNs = r.GetInt64(4),
            Inode = r.GetInt64(5),
            LinkCount = r.GetInt64(6),
            Sha1 = r.IsDBNull(7) ? null : r.GetString(7),
            Sha256 = r.IsDBNull(8) ? null : r.GetString(8),
            QuickHash = r.IsDBNull(9) ? null : r.GetString(9),
            Deleted = r.GetString(10) == "deleted",
            CtimeNs = r.IsDBNull(11) ? (long?)null : r.GetInt64(11),
            HashedScanStartNs = r.IsDBNull(12) ? (long?)null : r.GetInt64(12),
        };

        [MethodImpl(HotPath.Optimize)]
        private List<FileRow> Query(string sql, Action<SqliteCommand> bind)
        {
            var rows = new List<FileRow>();
            try
            {
                using var command = _db.Command(sql, _transaction?.Invoke());
                bind(command);
                using var reader = command.ExecuteReader();
                while (reader.Read())
                    rows.Add(Read(reader));
            }
            catch (SqliteException e)
            {
                throw CatalogDatabase.Translate(e, _db.Path);
            }
            return rows;
        }
    }
}
