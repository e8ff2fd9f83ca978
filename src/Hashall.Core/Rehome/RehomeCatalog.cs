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

        /// <param name="sources">The payload at each source root (the plan's SourcePath first).</param>
        public void Apply(RehomePlan plan, IReadOnlyList<HashallPayload> sources, QBittorrentClient client, IReadOnlyCollection<string> relocated)
        {
            var query = new FileQuery(_db);
            var locator = new DeviceLocator();
            var store = new FileStore(_db);
            // Read first: a command outside the writer's transaction cannot run while it is open.
            var gone = new List<long>();
            foreach (var payload in sources)
            {
                var source = query.ScopeOf(payload.FullName, locator);
                if (source == null)
                    continue;
                foreach (var file in payload.Files)
                    if (store.ActiveByPath(source.Device.DeviceId, PathText.JoinRelative(source.Prefix, Within(file.FullName, payload.FullName))) is FileRow row)
                        gone.Add(row.FileId);
            }
            // Each torrent's layout on the target: the copy's files, or its links, with the SHA-1s just verified.
            var bySource = sources.SelectMany(p => p.Files).Where(f => f.Sha1 != null).GroupBy(f => f.FullName, StringComparer.Ordinal)
                .ToDictionary(g => g.Key, g => g.First().Sha1!, StringComparer.Ordinal);
            var copies = new List<(long Device, string Path, FileStatus Status, string Sha1)>();
            foreach (string tree in plan.Torrents.Where(t => t.Role == "relocate").Select(t => t.TargetPath).Append(plan.TargetPath).Distinct(StringComparer.Ordinal))
            {
                var target = query.ScopeOf(tree, locator);
                if (target == null)
                    continue;
                var links = plan.Links.Where(l => PathText.IsUnder(l.Path, tree)).ToList();
                var entries = links.Count > 0
                    ? links.Select(l => (Within: Within(l.Path, tree), Sha1: bySource.TryGetValue(RehomeValidator.SourceFileOf(plan, l), out var h) ? h : null))
                    : CopyFiles(plan, sources, tree).Select(kv => (Within: kv.Key, Sha1: (string?)kv.Value));
                // No SHA-1: a rerun after this already ran once (the source rows are deleted); the copy's rows stand.
                foreach (var (within, hash) in entries)
                    if (hash != null && FileSystemApi.TryLstat(PathText.Join(tree, within), out var st) == 0)
                        copies.Add((target.Device.DeviceId, PathText.JoinRelative(target.Prefix, within), st, hash));
            }
            using (var writer = new ScanWriter(_db, DateTime.UtcNow))
            {
                foreach (long id in gone)
                    writer.MarkDeleted(id);
                foreach (var (device, path, st, hash) in copies)
                    writer.Upsert(device, path, st, hash, null, null, writer.StartedNs); // verified by reading (or by inode) just before
                writer.Commit();
            }
            // qBittorrent's view of each torrent now, read before the catalog is locked again.
            var torrents = client.Torrents(hashes: relocated).Select(t => (Torrent: t, Files: client.Files(t.Hash))).ToList();
            var builder = new PayloadBuilder(_db);
            var built = torrents.Select(t => (t.Torrent, Payload: builder.ForTorrent(t.Torrent, t.Files), t.Files)).ToList();
            var payloads = new PayloadStore(_db);
            using var batch = new WriteBatch(_db);
            foreach (var (torrent, payload, files) in built)
            {
                payloads.SaveTorrent(batch, client.Instance, torrent, payloads.SavePayload(batch, payload));
                payloads.SaveTorrentFiles(batch, client.Instance, torrent.Hash, payload, files);
            }
            payloads.DeleteOrphans(batch);
            batch.Commit();
        }

        /// <summary>A tree that is a copy: its torrent's own source files (the plan's source for the copy a MOVE made), by path inside the root.</summary>
        private static Dictionary<string, string> CopyFiles(RehomePlan plan, IReadOnlyList<HashallPayload> sources, string tree)
        {
            var t = plan.Torrents.FirstOrDefault(x => x.Role == "relocate" && x.Layout == "copy" && TorrentRelocator.SamePath(x.TargetPath, tree));
            var source = (t == null ? null : sources.FirstOrDefault(p => TorrentRelocator.SamePath(p.FullName, t.SourcePath))) ?? sources[0];
            var map = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var file in source.Files.Where(f => f.Sha1 != null))
                map[Within(file.FullName, source.FullName)] = file.Sha1!;
            return map;
        }

        private static string Within(string path, string root) => TorrentRelocator.SamePath(path, root) ? "" : PathText.RelativeTo(path, root);
    }
}
