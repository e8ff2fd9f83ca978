using System;
using System.Runtime.CompilerServices;
using Hashall.Core.Catalog;
using Hashall.Core.Platform;
using Microsoft.Data.Sqlite;

namespace Hashall.Core.Scanning
{
    /// <summary>
    /// The scan's only catalog writer: row changes batched into transactions of up to 65,536 rows or
    /// 10 seconds, so a stopped scan keeps everything finished before the last commit. Large
    /// transactions because each commit writes every index page it touched: rows of one batch land
    /// all over the content index (by size and hash), and 4,096-row batches wrote about three pages
    /// per row (a million-file first scan: 78 s, then 35 s with these). Other writers wait for the
    /// commit within the busy timeout (30 s).
    /// </summary>
    internal sealed class ScanWriter : IDisposable
    {
        private readonly CatalogDatabase _db;
        private readonly WriteBatch _batch;
        private readonly string _now;
        /// <summary>The Unix epoch: file times are nanoseconds since it.</summary>
        internal static readonly DateTime Epoch = new DateTime(1970, 1, 1, 0, 0, 0, DateTimeKind.Utc);
        private SqliteCommand? _upsert, _touchRow, _move, _dropStale, _delete;
        /// <summary>
        /// SQLite's page cache (KiB) while the scan mostly reads (a rescan streams its rows once: a big
        /// cache would only hold pages never read again, and count in the process's memory), and once
        /// it writes many rows (inserts land all over the content index; a small cache would
        /// spill and re-read their pages row by row).
        /// </summary>
        internal const int ReadingCacheKiB = CatalogDatabase.CacheKiB, WritingCacheKiB = 64 * 1024;
        /// <summary>Rows written before the cache grows to <see cref="WritingCacheKiB"/>.</summary>
        internal const int WritingRows = 20_000;
        private int _written;
        internal const int BatchRows = 65_536, BatchSeconds = 10;

        public ScanWriter(CatalogDatabase db, DateTime now)
        {
            _db = db;
            _batch = new WriteBatch(db, maxRows: BatchRows, maxSeconds: BatchSeconds);
            _now = CatalogTime.Format(now);
            StartedNs = (now.ToUniversalTime() - Epoch).Ticks * 100;
            SetCache(ReadingCacheKiB);
        }

        private void SetCache(int kib)
        {
            using var c = _db.Command($"PRAGMA cache_size = -{kib};", _batch.Current);
            c.ExecuteNonQuery();
        }

        /// <summary>When this scan started, in ns since the epoch: the moment a row's hashes are as good as.</summary>
        public long StartedNs { get; }

        /// <summary>Inserts or rewrites the row of a path with what is on disk now and its hashes.</summary>
        [MethodImpl(HotPath.Optimize)]
        /// <param name="hashedScanStartNs">When the scan that read the hashes started (this one's <see cref="StartedNs"/>, or the source row's for a hard link or rename).</param>
        public void Upsert(long deviceId, string path, FileStatus st, string? sha1, string? sha256, string? quick, long? hashedScanStartNs)
        {
            var c = Prepare(ref _upsert, @"
INSERT INTO files (device_id, path, size, mtime_ns, inode, link_count, sha1, sha256, quick_hash, first_seen, last_seen, status, ctime_ns, hashed_scan_start_ns)
VALUES ($d, $p, $size, $mtime, $inode, $links, $sha1, $sha256, $quick, $now, $now, 'active', $ctime, $hashedAt)
ON CONFLICT (device_id, path) DO UPDATE SET
    size = excluded.size, mtime_ns = excluded.mtime_ns, inode = excluded.inode, link_count = excluded.link_count,
    sha1 = excluded.sha1, sha256 = excluded.sha256, quick_hash = excluded.quick_hash,
    last_seen = excluded.last_seen, status = 'active', ctime_ns = excluded.ctime_ns, hashed_scan_start_ns = excluded.hashed_scan_start_ns;",
                "$d", "$p", "$size", "$mtime", "$inode", "$links", "$sha1", "$sha256", "$quick", "$now", "$ctime", "$hashedAt");
            Run(c, deviceId, path, st.Size, st.MtimeNs, unchecked((long)st.Inode), st.LinkCount, Db(sha1), Db(sha256), Db(quick), _now,
                st.CtimeNs, hashedScanStartNs ?? (object)DBNull.Value);
            if (++_written == WritingRows)
                SetCache(WritingCacheKiB);
        }

        /// <summary>An unchanged file whose row was marked deleted, or whose link count or ctime moved (metadata only).</summary>
        public void Touch(long fileId, long linkCount, long ctimeNs) =>
            Run(Prepare(ref _touchRow, "UPDATE files SET link_count = $links, ctime_ns = $ctime, status = 'active', last_seen = $now WHERE file_id = $id;", "$links", "$ctime", "$now", "$id"),
                linkCount, ctimeNs, _now, fileId);

        /// <summary>A rename: the row (and its id, which plans refer to) follows the inode to its new path.</summary>
        public void Move(long fileId, long deviceId, string newPath, FileStatus st)
        {
            Run(Prepare(ref _dropStale, "DELETE FROM files WHERE device_id = $d AND path = $p AND file_id <> $id;", "$d", "$p", "$id"), deviceId, newPath, fileId);
            Run(Prepare(ref _move, "UPDATE files SET path = $p, link_count = $links, ctime_ns = $ctime, status = 'active', last_seen = $now WHERE file_id = $id;", "$p", "$links", "$ctime", "$now", "$id"),
                newPath, st.LinkCount, st.CtimeNs, _now, fileId);
        }

        public void MarkDeleted(long fileId) =>
            Run(Prepare(ref _delete, "UPDATE files SET status = 'deleted' WHERE file_id = $id;", "$id"), fileId);

        /// <summary>Records a root walked to the end: the device's scan time, and the sighting of every file under it.</summary>
        public void ScopeScanned(long deviceId, string prefix, string mode, long filesSeen)
        {
            using (var c = _batch.Command("UPDATE devices SET last_scan = $now, last_seen = $now WHERE device_id = $d;"))
            {
                c.Parameters.AddWithValue("$now", _now);
                c.Parameters.AddWithValue("$d", deviceId);
                _batch.Execute(c);
            }
            using (var c = _batch.Command(@"INSERT INTO scans (device_id, prefix, started_at, finished_at, mode, files_seen)
VALUES ($d, $prefix, $started, $finished, $mode, $seen);"))
            {
                c.Parameters.AddWithValue("$d", deviceId);
                c.Parameters.AddWithValue("$prefix", prefix);
                c.Parameters.AddWithValue("$started", _now);
                c.Parameters.AddWithValue("$finished", CatalogTime.Format(DateTime.UtcNow));
                c.Parameters.AddWithValue("$mode", mode);
                c.Parameters.AddWithValue("$seen", filesSeen);
                _batch.Execute(c);
            }
        }

        /// <summary>The open write transaction, if any: reads on the catalog's connection run in it.</summary>
        public SqliteTransaction? Current => _batch.Current;

        /// <summary>Commits when the batch is big or old enough.</summary>
        public void MaybeCommit() => _batch.MaybeCommit();

        public void Commit() => _batch.Commit();

        public void Dispose()
        {
            _batch.Dispose(); // uncommitted work rolls back
            try
            {
                SetCache(CatalogDatabase.CacheKiB); // the connection's own setting again (CatalogDatabase opens with it)
            }
            catch (SqliteException)
            {
                // a connection that failed meanwhile: its next user sees the error
            }
            foreach (var c in new[] { _upsert, _touchRow, _move, _dropStale, _delete })
                c?.Dispose();
        }

        private SqliteCommand Prepare(ref SqliteCommand? command, string sql, params string[] names)
        {
            if (command == null)
            {
                command = _db.Command(sql);
                foreach (var name in names)
                    command.Parameters.Add(new SqliteParameter { ParameterName = name });
            }
            return command;
        }

        [MethodImpl(HotPath.Optimize)]
        private void Run(SqliteCommand command, params object[] values)
        {
            for (int i = 0; i < values.Length; i++)
                command.Parameters[i].Value = values[i];
            _batch.Execute(command);
        }

        private static object Db(string? value) => value ?? (object)DBNull.Value;
    }
}
