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

        /// <summary>Every row (deleted ones too) at <paramref name="prefix"/> or under it; "" is the whole device.</summary>
        public List<FileRow> UnderPrefix(long deviceId, string prefix)
        {
            string sql = $"SELECT {Columns} FROM files WHERE device_id = $d" + PrefixClause(prefix) + ";";
            return Query(sql, c =>
            {
                c.Parameters.AddWithValue("$d", deviceId);
                AddPrefixParameters(c, prefix);
            });
        }

        public long CountActive(long deviceId)
        {
            using var command = _db.Command("SELECT count(*) FROM files WHERE device_id = $d AND status = 'active';");
            command.Parameters.AddWithValue("$d", deviceId);
            return (long)command.ExecuteScalar()!;
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
            Query($"SELECT {Columns} FROM files WHERE device_id = $d AND inode = $i AND status = 'active';", c =>
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
        internal static string PrefixClause(string prefix, string column = "path") =>
            prefix.Length == 0 ? "" : $" AND ({column} = $prefix OR ({column} >= $prefixLow AND {column} < $prefixHigh))";

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
                using var command = _db.Command(sql);
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
