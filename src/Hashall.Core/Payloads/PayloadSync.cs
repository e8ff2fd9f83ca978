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
            // Catalog reads go through a second connection: this one holds the write batch open.
            using var reader = CatalogDatabase.OpenReader(_db.Path);
            var builder = new PayloadBuilder(reader);
            var store = new PayloadStore(_db);
            var hashes = new Dictionary<string, int>();
            using var batch = new WriteBatch(_db);
            for (int i = 0; i < torrents.Count; i++)
            {
                var t = torrents[i];
                progress(i, torrents.Count, t.Name);
                var payload = builder.ForTorrent(t, client.Files(t.Hash));
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
                if (!write)
                    continue;
                long payloadId = store.SavePayload(batch, payload);
                if (store.SaveTorrent(batch, t, payloadId))
                    result.Added++;
                else
                    result.Updated++;
                batch.MaybeCommit();
            }
            if (write)
            {
                batch.Commit();
                result.Gone = store.MarkGone(batch, new HashSet<string>(torrents.Select(t => t.Hash)), category, tag);
                batch.Commit();
            }
            result.SiblingGroups = hashes.Count(kv => kv.Value > 1);
            result.Duration = clock.Elapsed;
            return result;
        }
    }
}
