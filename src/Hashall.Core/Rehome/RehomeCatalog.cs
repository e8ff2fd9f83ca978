using System;
using System.Collections.Generic;
using System.Linq;
using Hashall.Core.Catalog;
using Hashall.Core.Devices;
using Hashall.Core.Payloads;
using Hashall.Core.Platform;
using Hashall.Core.QBittorrent;
using Hashall.Core.Scanning;

namespace Hashall.Core.Rehome
{
    /// <summary>
    /// Brings the catalog up to date after a rehome, without rescanning: the source's file rows are
    /// marked deleted, the copy's rows are written with the SHA-1s just verified, and the relocated
    /// torrents are re-read from qBittorrent and mapped to the payload at their new place.
    /// </summary>
    public sealed class RehomeCatalog
    {
        private readonly CatalogDatabase _db;

        public RehomeCatalog(CatalogDatabase db) => _db = db;

        public void Apply(RehomePlan plan, IReadOnlyList<PayloadFile> files, QBittorrentClient client, IReadOnlyCollection<string> relocated)
        {
            var query = new FileQuery(_db);
            var locator = new DeviceLocator();
            var store = new FileStore(_db);
            var source = query.ScopeOf(plan.SourcePath, locator);
            var target = query.ScopeOf(plan.TargetPath, locator);
            // Read first: a command outside the writer's transaction cannot run while it is open.
            var gone = new List<long>();
            var copies = new List<(string Path, FileStatus Status, string? Sha1)>();
            foreach (var file in files)
            {
                string under = file.FullName.Length > plan.SourcePath.Length ? PathText.RelativeTo(file.FullName, plan.SourcePath) : "";
                if (source != null && store.ActiveByPath(source.Device.DeviceId, PathText.JoinRelative(source.Prefix, under)) is FileRow row)
                    gone.Add(row.FileId);
                // No SHA-1: a rerun after this already ran once (the source rows are deleted); the copy's rows stand.
                if (target != null && file.Sha1 != null && FileSystemApi.TryLstat(PathText.Join(plan.TargetPath, under), out var st) == 0)
                    copies.Add((PathText.JoinRelative(target.Prefix, under), st, file.Sha1));
            }
            using (var writer = new ScanWriter(_db, DateTime.UtcNow))
            {
                foreach (long id in gone)
                    writer.MarkDeleted(id);
                foreach (var (path, st, sha1) in copies)
                    writer.Upsert(target!.Device.DeviceId, path, st, sha1, null, null, writer.StartedNs); // verified by reading just before
                writer.Commit();
            }
            // qBittorrent's view of each torrent now, read before the catalog is locked again.
            var torrents = client.Torrents(hashes: relocated).Select(t => (Torrent: t, Files: client.Files(t.Hash))).ToList();
            var builder = new PayloadBuilder(_db);
            var built = torrents.Select(t => (t.Torrent, Payload: builder.ForTorrent(t.Torrent, t.Files))).ToList();
            var payloads = new PayloadStore(_db);
            using var batch = new WriteBatch(_db);
            foreach (var (torrent, payload) in built)
                payloads.SaveTorrent(batch, client.Instance, torrent, payloads.SavePayload(batch, payload));
            payloads.DeleteOrphans(batch);
            batch.Commit();
        }

    }
}
