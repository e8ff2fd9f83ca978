using System;
using System.Collections.Generic;
using System.Linq;
using Hashall.Core.Catalog;
using Hashall.Core.QBittorrent;
using Microsoft.Data.Sqlite;

namespace Hashall.Core.Payloads
{
    /// <summary>The payloads and torrent_instances tables: upserts from a sync, and the queries of the Get- cmdlets.</summary>
    public sealed class PayloadStore
    {
        private const string SelectTorrents = @"
SELECT t.torrent_hash, t.infohash_v1, t.infohash_v2, t.name, t.payload_id, p.payload_hash, coalesce(p.status, 'incomplete'), p.device_id,
       coalesce(d.alias, d.mount_point, ''), t.save_path, t.content_path, t.category, t.tags, t.state, t.first_seen, t.last_seen, t.gone_at,
       t.instance, p.content_hash, t.completion_on, t.seeding_time, t.ratio, t.last_activity
FROM torrent_instances t LEFT JOIN payloads p ON p.payload_id = t.payload_id LEFT JOIN devices d ON d.device_id = p.device_id";

        private const string SelectPayloads = @"
SELECT p.payload_id, p.payload_hash, p.status, p.device_id, coalesce(d.alias, d.mount_point, ''), p.root_path, p.file_count, p.total_bytes,
       p.missing_files, p.last_built_at, d.mount_point, d.mount_root, p.missing_detail, p.content_hash
FROM payloads p LEFT JOIN devices d ON d.device_id = p.device_id";

        private readonly CatalogDatabase _db;

        public PayloadStore(CatalogDatabase db) => _db = db;

        /// <summary>
        /// Stores a payload by its root and hash (torrents without a root folder of their own share a
        /// save path, not a payload; an incomplete payload is one row per root) and returns its id.
        /// </summary>
        public long SavePayload(WriteBatch batch, HashallPayload payload)
        {
            using (var find = batch.Command(@"SELECT payload_id FROM payloads
WHERE coalesce(device_id, 0) = $d AND root_path = $root AND coalesce(payload_hash, '') = $hash;"))
            {
                find.Parameters.AddWithValue("$d", payload.DeviceId ?? 0);
                find.Parameters.AddWithValue("$root", payload.RootPath);
                find.Parameters.AddWithValue("$hash", payload.PayloadHash ?? "");
                if (find.ExecuteScalar() is long id)
                {
                    batch.Run(@"UPDATE payloads SET payload_hash = $hash, content_hash = $content, status = $status, file_count = $files, total_bytes = $bytes,
    missing_files = $missing, missing_detail = $detail, last_built_at = $now WHERE payload_id = $id;",
                        ("$hash", payload.PayloadHash), ("$content", payload.ContentHash), ("$status", payload.Status), ("$files", payload.FileCount), ("$bytes", payload.TotalBytes),
                        ("$missing", payload.MissingCount), ("$detail", string.Join("\n", payload.MissingFiles)),
                        ("$now", CatalogTime.Format(DateTime.UtcNow)), ("$id", id));
                    return id;
                }
            }
            batch.Run(@"INSERT INTO payloads (device_id, root_path, payload_hash, content_hash, status, file_count, total_bytes, missing_files, missing_detail, last_built_at)
VALUES ($d, $root, $hash, $content, $status, $files, $bytes, $missing, $detail, $now);",
                ("$d", payload.DeviceId), ("$root", payload.RootPath), ("$hash", payload.PayloadHash), ("$content", payload.ContentHash), ("$status", payload.Status),
                ("$files", payload.FileCount), ("$bytes", payload.TotalBytes), ("$missing", payload.MissingCount),
                ("$detail", string.Join("\n", payload.MissingFiles)), ("$now", CatalogTime.Format(DateTime.UtcNow)));
            using var last = batch.Command("SELECT last_insert_rowid();");
            return (long)last.ExecuteScalar()!;
        }

        /// <summary>Inserts or refreshes a torrent; true when it is new (or back after being gone).</summary>
        public bool SaveTorrent(WriteBatch batch, string instance, TorrentInfo t, long payloadId)
        {
            bool known;
            using (var find = batch.Command("SELECT gone_at IS NULL FROM torrent_instances WHERE instance = $i AND torrent_hash = $h;"))
            {
                find.Parameters.AddWithValue("$i", instance);
                find.Parameters.AddWithValue("$h", t.Hash);
                known = find.ExecuteScalar() is long present && present == 1;
            }
            string now = CatalogTime.Format(DateTime.UtcNow);
            batch.Run(@"INSERT INTO torrent_instances (instance, torrent_hash, infohash_v1, infohash_v2, name, payload_id, save_path, content_path, category, tags, state, first_seen, last_seen,
    completion_on, seeding_time, ratio, last_activity)
VALUES ($i, $h, $v1, $v2, $name, $payload, $save, $content, $category, $tags, $state, $now, $now, $completed, $seeding, $ratio, $active)
ON CONFLICT (instance, torrent_hash) DO UPDATE SET infohash_v1 = excluded.infohash_v1, infohash_v2 = excluded.infohash_v2, name = excluded.name,
    payload_id = excluded.payload_id, save_path = excluded.save_path, content_path = excluded.content_path, category = excluded.category,
    tags = excluded.tags, state = excluded.state, last_seen = excluded.last_seen, gone_at = NULL, completion_on = excluded.completion_on,
    seeding_time = excluded.seeding_time, ratio = excluded.ratio, last_activity = excluded.last_activity;",
                ("$i", instance), ("$h", t.Hash), ("$v1", NullIfEmpty(t.InfohashV1)), ("$v2", NullIfEmpty(t.InfohashV2)), ("$name", t.Name), ("$payload", payloadId),
                ("$save", t.SavePath), ("$content", t.ContentPath), ("$category", t.Category), ("$tags", string.Join(", ", t.Tags)),
                ("$state", t.State), ("$now", now), ("$completed", t.CompletionOn is DateTime c ? CatalogTime.Format(c) : null),
                ("$seeding", (long)t.SeedingTime.TotalSeconds), ("$ratio", t.Ratio), ("$active", t.LastActivity is DateTime a ? CatalogTime.Format(a) : null));
            return !known;
        }

        /// <summary>
        /// Replaces the torrent's recorded files (torrent_files): each file's full path as the payload
        /// was built (<paramref name="payload"/>.Files, in the order of <paramref name="files"/>), size and priority.
        /// </summary>
        public void SaveTorrentFiles(WriteBatch batch, string instance, string torrentHash, HashallPayload payload, IReadOnlyList<TorrentFile> files)
        {
            batch.Run("DELETE FROM torrent_files WHERE instance = $i AND torrent_hash = $h;", ("$i", instance), ("$h", torrentHash));
            if (payload.Files.Count != files.Count)
                return; // no file list yet (metadata still fetching): nothing to record
            using var insert = batch.Command("INSERT OR REPLACE INTO torrent_files (instance, torrent_hash, ordinal, full_path, size, priority) VALUES ($i, $h, $o, $p, $s, $pr);");
            var i = insert.Parameters.Add("$i", SqliteType.Text);
            var h = insert.Parameters.Add("$h", SqliteType.Text);
            var o = insert.Parameters.Add("$o", SqliteType.Integer);
            var path = insert.Parameters.Add("$p", SqliteType.Text);
            var size = insert.Parameters.Add("$s", SqliteType.Integer);
            var priority = insert.Parameters.Add("$pr", SqliteType.Integer);
            for (int n = 0; n < files.Count; n++)
            {
                i.Value = instance;
                h.Value = torrentHash;
                o.Value = n;
                path.Value = payload.Files[n].FullName;
                size.Value = files[n].Size;
                priority.Value = files[n].Priority;
                batch.Execute(insert);
            }
        }

        /// <summary>Records a sync that wrote (category and tag "" when it read the whole instance).</summary>
        public void RecordSync(WriteBatch batch, string instance, string? category, string? tag) =>
            batch.Run("INSERT INTO payload_syncs (instance, category, tag, finished_at) VALUES ($i, $c, $t, $now);",
                ("$i", instance), ("$c", category ?? ""), ("$t", tag ?? ""), ("$now", CatalogTime.Format(DateTime.UtcNow)));

        /// <summary>The newest whole-instance sync of each instance that has torrents in the catalog (null: never synced whole since recording began).</summary>
        public Dictionary<string, DateTime?> LastFullSyncs()
        {
            var result = new Dictionary<string, DateTime?>(StringComparer.Ordinal);
            foreach (var instance in Query("SELECT DISTINCT instance FROM torrent_instances WHERE gone_at IS NULL;", Array.Empty<(string, object)>(), r => r.GetString(0)))
                result[instance] = null;
            foreach (var (instance, at) in Query("SELECT instance, max(finished_at) FROM payload_syncs WHERE category = '' AND tag = '' GROUP BY instance;",
                         Array.Empty<(string, object)>(), r => (r.GetString(0), CatalogTime.Parse(r.GetString(1)))))
                result[instance] = at;
            return result;
        }

        /// <summary>Drops payload rows no torrent refers to any more (a payload whose content changed gets a new row).</summary>
        public void DeleteOrphans(WriteBatch batch) =>
            batch.Run("DELETE FROM payloads WHERE payload_id NOT IN (SELECT payload_id FROM torrent_instances WHERE payload_id IS NOT NULL);");

        /// <summary>Marks gone the torrents of this qBittorrent that it no longer lists at all; returns how many.</summary>
        public int MarkGone(WriteBatch batch, string instance, ISet<string> present)
        {
            var gone = Torrents(includeGone: false).Where(t => t.Instance == instance && !present.Contains(t.TorrentHash)).ToList();
            foreach (var t in gone)
            {
                batch.Run("UPDATE torrent_instances SET gone_at = $now WHERE instance = $i AND torrent_hash = $h;",
                    ("$now", CatalogTime.Format(DateTime.UtcNow)), ("$i", instance), ("$h", t.TorrentHash));
                batch.Run("DELETE FROM torrent_files WHERE instance = $i AND torrent_hash = $h;", ("$i", instance), ("$h", t.TorrentHash));
            }
            return gone.Count;
        }

        public List<HashallTorrent> Torrents(bool includeGone) =>
            QueryTorrents(SelectTorrents + (includeGone ? "" : " WHERE t.gone_at IS NULL") + " ORDER BY t.name, t.torrent_hash;");

        public List<HashallTorrent> TorrentsWithPayloadHash(string payloadHash) =>
            QueryTorrents(SelectTorrents + " WHERE p.payload_hash = $p AND t.gone_at IS NULL ORDER BY t.name, t.torrent_hash;", ("$p", payloadHash));

        public List<HashallTorrent> TorrentsWithContentHash(string contentHash) =>
            QueryTorrents(SelectTorrents + " WHERE p.content_hash = $c AND t.gone_at IS NULL ORDER BY t.name, t.torrent_hash;", ("$c", contentHash));

        public List<HashallPayload> Payloads() => QueryPayloads(SelectPayloads + " ORDER BY p.payload_id;");

        private List<HashallTorrent> QueryTorrents(string sql, params (string, object)[] parameters) =>
            Query(sql, parameters, r => new HashallTorrent
            {
                TorrentHash = r.GetString(0), InfohashV1 = r.IsDBNull(1) ? null : r.GetString(1), InfohashV2 = r.IsDBNull(2) ? null : r.GetString(2),
                Name = r.GetString(3), PayloadId = r.IsDBNull(4) ? (long?)null : r.GetInt64(4), PayloadHash = r.IsDBNull(5) ? null : r.GetString(5),
                PayloadStatus = r.GetString(6), DeviceId = r.IsDBNull(7) ? (long?)null : r.GetInt64(7), Device = r.GetString(8),
                SavePath = r.GetString(9), ContentPath = r.GetString(10), Category = r.GetString(11),
                Tags = r.GetString(12).Split(new[] { ", " }, StringSplitOptions.RemoveEmptyEntries), State = r.GetString(13),
                FirstSeen = CatalogTime.Parse(r.GetString(14)), LastSeen = CatalogTime.Parse(r.GetString(15)),
                GoneAt = r.IsDBNull(16) ? (DateTime?)null : CatalogTime.Parse(r.GetString(16)), Instance = r.GetString(17), ContentHash = r.IsDBNull(18) ? null : r.GetString(18), Database = _db.Path,
                CompletedOn = r.IsDBNull(19) ? (DateTime?)null : CatalogTime.Parse(r.GetString(19)),
                SeedingTime = r.IsDBNull(20) ? (TimeSpan?)null : TimeSpan.FromSeconds(r.GetInt64(20)),
                Ratio = r.IsDBNull(21) ? (double?)null : r.GetDouble(21),
                LastActivity = r.IsDBNull(22) ? (DateTime?)null : CatalogTime.Parse(r.GetString(22)),
            });

        private List<HashallPayload> QueryPayloads(string sql, params (string, object)[] parameters) =>
            Query(sql, parameters, r => new HashallPayload
            {
                PayloadId = r.GetInt64(0), PayloadHash = r.IsDBNull(1) ? null : r.GetString(1), Status = r.GetString(2),
                DeviceId = r.IsDBNull(3) ? (long?)null : r.GetInt64(3), Device = r.GetString(4), RootPath = r.GetString(5),
                FullName = r.IsDBNull(10) ? r.GetString(5) : Platform.PathText.UnderMount(r.GetString(10), r.GetString(11), r.GetString(5)) ?? r.GetString(5),
                FileCount = (int)r.GetInt64(6), TotalBytes = r.GetInt64(7), MissingCount = (int)r.GetInt64(8),
                BuiltAt = CatalogTime.Parse(r.GetString(9)), Database = _db.Path,
                MissingFiles = r.GetString(12).Split(new[] { '\n' }, StringSplitOptions.RemoveEmptyEntries).ToList(),
                ContentHash = r.IsDBNull(13) ? null : r.GetString(13),
            });

        private List<T> Query<T>(string sql, (string Name, object Value)[] parameters, Func<SqliteDataReader, T> read)
        {
            var list = new List<T>();
            try
            {
                using var c = _db.Command(sql);
                foreach (var (name, value) in parameters)
                    c.Parameters.AddWithValue(name, value);
                using var r = c.ExecuteReader();
                while (r.Read())
                    list.Add(read(r));
            }
            catch (SqliteException e)
            {
                throw CatalogDatabase.Translate(e, _db.Path);
            }
            return list;
        }

        private static object? NullIfEmpty(string s) => s.Length == 0 ? null : s;
    }
}
