using System;
using System.Collections.Generic;
using System.Linq;
using Microsoft.Data.Sqlite;

namespace Hashall.Core.Payloads
{
    /// <summary>
    /// Catalog migration 7, the C# part: every stored payload hash recomputed under the root-relative rule
    /// (and its content hash computed), from the catalog's file rows alone; no file is read.
    /// </summary>
    /// <remarks>
    /// A payload row keeps its root and hash, not its file list, so the files are found again: the active
    /// catalogued files under the root whose old hash (paths with the root folder's name, as schema 6
    /// computed it) reproduces the stored one are exactly the payload's files, and their new hash follows.
    /// Tried in turn: every file under the root; for a one-file payload, each file of its size; the root
    /// itself when it is a file. A payload of a torrent without a root folder of its own (its content path is
    /// its save path) already had root-relative paths: its hash stands even when other content shares the
    /// folder. Any other payload whose files the catalog no longer reproduces (files changed or added since
    /// the sync) gets no hash and says why: the next Sync-HashallPayload identifies it again. Rows that now
    /// share a root and hash are merged, their torrents re-linked to the one kept, so siblings follow the
    /// new hashes; open rehome jobs follow their payload's new hash.
    /// </remarks>
    public static class RootRelativeMigration
    {
        public const string Stale = "the catalog's files under this root no longer reproduce the hash of the last sync (files changed or were added since); run Sync-HashallPayload to identify it again";

        private sealed class Row
        {
            public long Id;
            public long? DeviceId;
            public string Root = "";
            public string? Hash;
            public string Status = "";
            public long FileCount;
            public long TotalBytes;
            public string? NewHash;
            public string? ContentHash;
            public bool MadeStale;
        }

        public static void Run(SqliteConnection connection, SqliteTransaction transaction)
        {
            SqliteCommand Command(string sql, params (string, object?)[] parameters)
            {
                var c = connection.CreateCommand();
                c.Transaction = transaction;
                c.CommandText = sql;
                foreach (var (name, value) in parameters)
                    c.Parameters.AddWithValue(name, value ?? DBNull.Value);
                return c;
            }

            var rows = new List<Row>();
            using (var read = Command("SELECT payload_id, device_id, root_path, payload_hash, status, file_count, total_bytes FROM payloads ORDER BY payload_id;"))
            using (var r = read.ExecuteReader())
                while (r.Read())
                    rows.Add(new Row
                    {
                        Id = r.GetInt64(0), DeviceId = r.IsDBNull(1) ? (long?)null : r.GetInt64(1), Root = r.GetString(2),
                        Hash = r.IsDBNull(3) ? null : r.GetString(3), Status = r.GetString(4), FileCount = r.GetInt64(5), TotalBytes = r.GetInt64(6),
                    });
            // Payloads of torrents without a root folder of their own: qBittorrent's content path is the save path.
            var sharedFolder = new HashSet<long>();
            using (var read = Command("SELECT payload_id, save_path, content_path FROM torrent_instances WHERE payload_id IS NOT NULL;"))
            using (var r = read.ExecuteReader())
                while (r.Read())
                    if (string.Equals(r.GetString(1).TrimEnd('/', '\\'), r.GetString(2).TrimEnd('/', '\\'), StringComparison.Ordinal))
                        sharedFolder.Add(r.GetInt64(0));

            using var files = Command(@"SELECT path, size, sha1 FROM files WHERE device_id = $d AND status = 'active'
    AND (path = $root OR (path >= $lo AND path < $hi));", ("$d", 0L), ("$root", ""), ("$lo", ""), ("$hi", ""));
            files.Prepare();
            foreach (var row in rows)
            {
                row.NewHash = row.Hash;
                if (row.Hash == null || row.DeviceId == null)
                    continue; // incomplete, or on no catalogued device (then it has no catalogued files either)
                files.Parameters["$d"].Value = row.DeviceId.Value;
                files.Parameters["$root"].Value = row.Root;
                files.Parameters["$lo"].Value = row.Root.Length == 0 ? "" : row.Root + "/";
                files.Parameters["$hi"].Value = row.Root.Length == 0 ? "\U0010FFFF" : row.Root + "0"; // '0' follows '/'
                var under = new List<(string Path, long Size, string Sha1)>();
                using (var r = files.ExecuteReader())
                    while (r.Read())
                        if (!r.IsDBNull(2))
                            under.Add((r.GetString(0), r.GetInt64(1), r.GetString(2)));
                Recompute(row, under, sharedFolder.Contains(row.Id));
            }

            // Rows that now share a root and hash become one; their torrents follow the row kept.
            var groups = rows.GroupBy(r => (r.DeviceId ?? 0, r.Root, r.NewHash ?? "")).ToList();
            foreach (var group in groups)
            {
                var keep = group.OrderBy(r => r.NewHash == null ? 1 : 0).ThenBy(r => r.Id).First();
                foreach (var other in group.Where(r => r != keep))
                {
                    using (var relink = Command("UPDATE torrent_instances SET payload_id = $keep WHERE payload_id = $other;", ("$keep", keep.Id), ("$other", other.Id)))
                        relink.ExecuteNonQuery();
                    using (var delete = Command("DELETE FROM payloads WHERE payload_id = $other;", ("$other", other.Id)))
                        delete.ExecuteNonQuery();
                }
            }
            var kept = new HashSet<long>(groups.Select(g => g.OrderBy(r => r.NewHash == null ? 1 : 0).ThenBy(r => r.Id).First().Id));
            var changed = rows.Where(r => kept.Contains(r.Id) && (r.NewHash != r.Hash || r.ContentHash != null)).ToList();
            // Two passes, so that no row passes through another's (root, hash) on its way to its own.
            using (var park = Command("UPDATE payloads SET payload_hash = $h WHERE payload_id = $id;", ("$h", ""), ("$id", 0L)))
                foreach (var row in changed.Where(r => r.NewHash != r.Hash))
                {
                    park.Parameters["$h"].Value = "migrating:" + row.Id;
                    park.Parameters["$id"].Value = row.Id;
                    park.ExecuteNonQuery();
                }
            using (var update = Command("UPDATE payloads SET payload_hash = $h, content_hash = $c WHERE payload_id = $id;", ("$h", ""), ("$c", ""), ("$id", 0L)))
            using (var stale = Command(@"UPDATE payloads SET payload_hash = NULL, content_hash = NULL, status = 'incomplete', missing_files = 1, missing_detail = $detail
WHERE payload_id = $id;", ("$detail", ""), ("$id", 0L)))
                foreach (var row in changed)
                {
                    var command = row.MadeStale ? stale : update;
                    command.Parameters["$id"].Value = row.Id;
                    if (row.MadeStale)
                        stale.Parameters["$detail"].Value = row.Root + ": " + Stale;
                    else
                    {
                        update.Parameters["$h"].Value = (object?)row.NewHash ?? DBNull.Value;
                        update.Parameters["$c"].Value = (object?)row.ContentHash ?? DBNull.Value;
                    }
                    command.ExecuteNonQuery();
                }
            // Open rehome jobs are found by their payload's hash.
            foreach (var (old, now) in rows.Where(r => r.Hash != null && r.NewHash != null && r.NewHash != r.Hash).Select(r => (r.Hash!, r.NewHash!)).Distinct())
                using (var jobs = Command("UPDATE rehome_jobs SET payload_hash = $new WHERE payload_hash = $old;", ("$new", now), ("$old", old)))
                    jobs.ExecuteNonQuery();
        }

        private static void Recompute(Row row, List<(string Path, long Size, string Sha1)> under, bool sharedFolder)
        {
            string name = row.Root.Substring(row.Root.LastIndexOf('/') + 1);
            string Relative(string path) => path == row.Root ? name : row.Root.Length == 0 ? path : path.Substring(row.Root.Length + 1);
            PayloadFile File((string Path, long Size, string Sha1) f, string relative) => new PayloadFile { RelativePath = relative, Size = f.Size, Sha1 = f.Sha1 };
            bool Found(List<PayloadFile> files)
            {
                row.NewHash = PayloadHash.Compute(files);
                row.ContentHash = ContentHash.Compute(files);
                return true;
            }

            if (under.Count == 1 && under[0].Path == row.Root)
            {
                // The root is a file: its path was and is its name.
                var file = new List<PayloadFile> { File(under[0], name) };
                if (PayloadHash.Compute(file) == row.Hash && Found(file))
                    return;
            }
            else if (under.Count > 0)
            {
                // Schema 6 named the files with the root folder's name; a torrent without a root folder did not.
                if (PayloadHash.Compute(under.Select(f => File(f, name + "/" + Relative(f.Path)))) == row.Hash
                    && Found(under.Select(f => File(f, Relative(f.Path))).ToList()))
                    return;
                if (PayloadHash.Compute(under.Select(f => File(f, Relative(f.Path)))) == row.Hash
                    && Found(under.Select(f => File(f, Relative(f.Path))).ToList()))
                    return;
                // One file in a folder (beside others it does not have): qBittorrent's content path is the file.
                if (row.FileCount == 1)
                    foreach (var f in under.Where(f => f.Size == row.TotalBytes))
                        if (PayloadHash.Compute(new[] { File(f, name + "/" + Relative(f.Path)) }) == row.Hash
                            && Found(new List<PayloadFile> { File(f, f.Path.Substring(f.Path.LastIndexOf('/') + 1)) }))
                            return;
            }
            if (sharedFolder)
                return; // root-relative already; its files share the folder with other content, so no content hash here
            row.NewHash = null;
            row.MadeStale = true;
        }
    }
}
