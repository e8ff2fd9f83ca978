using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using Hashall.Core.Catalog;
using Hashall.Core.QBittorrent;

namespace Hashall.Core.Payloads
{
    /// <summary>
    /// Reads qBittorrent's torrents (optionally one category or tag), builds each one's payload from
    /// the catalog and records torrents and payloads; torrents of the selection that qBittorrent no
    /// longer has are marked gone. Idempotent. With <c>write</c> false it reads and computes only.
    /// </summary>
    public sealed class PayloadSync
    {
        private readonly CatalogDatabase _db;

        public PayloadSync(CatalogDatabase db) => _db = db;

        /// <summary>Records one torrent of qBittorrent (by its id) and its payload, as a sync of just that torrent would; nothing else is marked gone.</summary>
        public void Record(QBittorrentClient client, string hash)
        {
            var torrent = client.Torrents(hashes: new[] { hash }).FirstOrDefault()
                ?? throw new HashallException("TorrentNotFound", HashallErrorKind.NotFound, $"qBittorrent at {client.Instance} has no torrent {hash}.", hash);
            var files = client.Files(torrent.Hash);
            var payload = new PayloadBuilder(_db).ForTorrent(torrent, files);
            var store = new PayloadStore(_db);
            using var batch = new WriteBatch(_db);
            long payloadId = store.SavePayload(batch, payload);
            store.SaveTorrent(batch, client.Instance, torrent, payloadId);
            // Its files by name, as a full sync records them: orphans and link status read these, and a
            // torrent just added (or repaired under names qBittorrent renamed) must protect its files at once.
            store.SaveTorrentFiles(batch, client.Instance, torrent.Hash, payload, files);
            store.DeleteOrphans(batch);
            batch.Commit();
        }

        public PayloadSyncResult Run(QBittorrentClient client, string? category, string? tag, bool write, Action<int, int, string> progress)
        {
            var clock = Stopwatch.StartNew();
            client.Connect();
            var result = new PayloadSyncResult
            {
                QBittorrentVersion = client.Version ?? "",
                WebApiVersion = client.WebApiVersion?.ToString() ?? "",
                WhatIf = !write,
                Database = _db.Path,
            };
            var torrents = client.Torrents(category, tag);
            // Every network call happens before the catalog is locked for writing.
            var built = new List<(TorrentInfo Torrent, HashallPayload Payload, IReadOnlyList<TorrentFile> Files)>();
            using (var reader = System.IO.File.Exists(_db.Path) ? CatalogDatabase.OpenReader(_db.Path) : null)
            {
                var builder = new PayloadBuilder(reader ?? _db); // no file yet: -WhatIf's in-memory stand-in
                for (int i = 0; i < torrents.Count; i++)
                {
                    progress(i, torrents.Count, torrents[i].Name);
                    var files = client.Files(torrents[i].Hash);
                    built.Add((torrents[i], builder.ForTorrent(torrents[i], files), files));
                }
            }
            // Gone means gone from qBittorrent, not out of the filter (recategorised, untagged).
            var present = category == null && tag == null ? null : new HashSet<string>(client.Torrents().Select(t => t.Hash));
            var hashes = new Dictionary<string, int>();
            foreach (var (_, payload, _) in built)
            {
                result.Torrents++;
                if (payload.PayloadHash != null)
                {
                    result.Complete++;
                    hashes[payload.PayloadHash] = hashes.TryGetValue(payload.PayloadHash, out int n) ? n + 1 : 1;
                }
                else
                {
                    result.Incomplete++;
                }
            }
            if (write)
            {
                var store = new PayloadStore(_db);
                using var batch = new WriteBatch(_db);
                foreach (var (torrent, payload, files) in built)
                {
                    long payloadId = store.SavePayload(batch, payload);
                    if (store.SaveTorrent(batch, client.Instance, torrent, payloadId))
                        result.Added++;
                    else
                        result.Updated++;
                    store.SaveTorrentFiles(batch, client.Instance, torrent.Hash, payload, files);
                }
                batch.Commit();
                result.Gone = store.MarkGone(batch, client.Instance, present ?? new HashSet<string>(torrents.Select(t => t.Hash)));
                store.DeleteOrphans(batch);
                store.RecordSync(batch, client.Instance, category, tag);
                batch.Commit();
            }
            result.SiblingGroups = hashes.Count(kv => kv.Value > 1);
            result.Duration = clock.Elapsed;
            return result;
        }
    }
}
