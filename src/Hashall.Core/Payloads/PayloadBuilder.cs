using System;
using System.Collections.Generic;
using System.Linq;
using Hashall.Core.Catalog;
using Hashall.Core.Devices;
using Hashall.Core.Platform;
using Hashall.Core.QBittorrent;

namespace Hashall.Core.Payloads
{
    /// <summary>
    /// Builds payloads from catalog data only (files are not read): a torrent's files mapped to their
    /// catalog rows, or every catalogued file under a directory.
    /// </summary>
    public sealed class PayloadBuilder
    {
        private readonly CatalogDatabase _db;
        private readonly FileQuery _query;
        private readonly DeviceLocator _locator = new DeviceLocator();
        private readonly Dictionary<(long, string), FileRow?> _rows = new Dictionary<(long, string), FileRow?>();

        public PayloadBuilder(CatalogDatabase db)
        {
            _db = db;
            _query = new FileQuery(db);
        }

        /// <summary>
        /// The payload of a torrent: each of its files as the catalog knows them. Paths are relative to the
        /// payload root, as the seed's reference implementation takes them: the root folder's own name is
        /// not part of them (a single-file torrent's path is its file name, even inside a folder), so the
        /// same files under another root folder name are the same payload.
        /// </summary>
        public HashallPayload ForTorrent(TorrentInfo torrent, IReadOnlyList<TorrentFile> files)
        {
            if (files.Count == 0 || string.IsNullOrEmpty(torrent.ContentPath) || !System.IO.Path.IsPathRooted(torrent.ContentPath))
            {
                // A magnet still fetching its metadata (or a torrent still loading): nothing to identify yet.
                return new HashallPayload
                {
                    FullName = torrent.ContentPath.Length > 0 ? torrent.ContentPath : torrent.SavePath,
                    RootPath = torrent.ContentPath.Length > 0 ? torrent.ContentPath : torrent.SavePath,
                    Database = _db.Path,
                    BuiltAt = DateTime.UtcNow,
                    MissingFiles = { $"{torrent.Name}: qBittorrent has no file list or content path for it yet (metadata, or still loading)" },
                    MissingCount = 1,
                };
            }
            // The files are where the content is (the save path, or the download folder while unfinished).
            // qBittorrent's content path is the root folder, or the file when there is only one (even
            // inside a root folder), or, without a root folder, the folder the names are relative to.
            string first = files[0].Name.Replace('\\', '/');
            string root = first.Contains("/") ? first.Substring(0, first.IndexOf('/')) : first;
            string content = torrent.ContentPath.TrimEnd('/', '\\');
            string dataDir, top;
            if (content.EndsWith("/" + first, StringComparison.Ordinal) || content.EndsWith("\\" + first.Replace('/', '\\'), StringComparison.Ordinal))
            {
                dataDir = content.Substring(0, content.Length - first.Length - 1);
                top = PathText.Join(dataDir, root);
            }
            else if (System.IO.Path.GetFileName(content) == root)
            {
                dataDir = System.IO.Path.GetDirectoryName(content) ?? torrent.SavePath;
                top = content;
            }
            else
            {
                dataDir = top = content;
            }
            // The path within the payload: the root folder's name (when the torrent has one) is left out; a
            // torrent of one file is that file (qBittorrent's content path), its path the file name.
            string rootPrefix = top == dataDir ? "" : root + "/";
            var entries = files.Select(f =>
            {
                string name = f.Name.Replace('\\', '/');
                string relative = files.Count == 1 ? name.Substring(name.LastIndexOf('/') + 1)
                    : rootPrefix.Length > 0 && name.StartsWith(rootPrefix, StringComparison.Ordinal) ? name.Substring(rootPrefix.Length)
                    : name;
                return (PathText.Join(dataDir, name), relative, name, f.Size, (HashallFile?)null);
            }).ToList();
            return Build(top, entries);
        }

        /// <summary>The payload of any catalogued directory or file (no torrent needed), as a torrent of it would have.</summary>
        public HashallPayload ForPath(string fullPath)
        {
            var scope = _query.ScopeOf(fullPath, _locator)
                ?? throw new HashallException("PathNotCatalogued", HashallErrorKind.NotFound, $"No catalogued device holds '{fullPath}'; scan it first.", fullPath);
            // Paths relative to the directory (its own name left out, as for a torrent's root folder); a file's is its name.
            // A torrent of it would name them from the parent: the directory's name included.
            // The files stream from one index range and each is its own catalog row: nothing is looked up again.
            string prefix = scope.Prefix;
            int parent = prefix.LastIndexOf('/') + 1;
            var entries = _query.Files(new[] { scope }, Array.Empty<string>(), includeDeleted: false).Select(f => (f.FullName,
                f.RelativePath == prefix ? f.RelativePath.Substring(f.RelativePath.LastIndexOf('/') + 1)
                    : prefix.Length == 0 ? f.RelativePath : f.RelativePath.Substring(prefix.Length + 1),
                f.RelativePath.Substring(parent), f.Size, (HashallFile?)f));
            var payload = Build(fullPath, entries);
            if (payload.FileCount == 0)
                throw new HashallException("PathNotCatalogued", HashallErrorKind.NotFound, $"The catalog has no files at or under '{fullPath}'; scan it first.", fullPath);
            return payload;
        }

        /// <summary>The payload of the entries; an entry that is a catalog row already (<c>Known</c>) is taken as it is, the others looked up.</summary>
        private HashallPayload Build(string root, IEnumerable<(string Full, string Relative, string TorrentPath, long Size, HashallFile? Known)> entries)
        {
            var payload = new HashallPayload { FullName = root, Database = _db.Path, BuiltAt = DateTime.UtcNow };
            var rootScope = _query.ScopeOf(root, _locator);
            payload.DeviceId = rootScope?.Device.DeviceId;
            payload.Device = rootScope == null ? "" : rootScope.Device.Alias ?? rootScope.Device.MountPoint;
            payload.RootPath = rootScope?.Prefix ?? root;
            foreach (var (full, relative, torrentPath, size, known) in entries)
            {
                var file = new PayloadFile { RelativePath = relative, TorrentPath = torrentPath, Size = size, FullName = full };
                bool onDevice = known != null;
                long? catalogSize = known?.Size;
                string? sha1 = known?.Sha1;
                if (known == null)
                {
                    // A file under the root is on the root's device: its catalog path follows from the root's,
                    // without locating each file again; only a miss (a mount inside the payload) looks it up.
                    var scope = rootScope != null && PathText.IsUnder(full, root)
                        ? new CatalogScope(rootScope.Device, PathText.JoinRelative(rootScope.Prefix, PathText.RelativeTo(full, root)))
                        : null;
                    var row = scope == null ? null : Row(scope.Device.DeviceId, scope.Prefix);
                    if (row == null)
                    {
                        scope = _query.ScopeOf(full, _locator);
                        row = scope == null ? null : Row(scope.Device.DeviceId, scope.Prefix);
                    }
                    onDevice = scope != null;
                    catalogSize = row?.Size;
                    sha1 = row?.Sha1;
                }
                if (!onDevice)
                    file.Missing = "not on a catalogued device";
                else if (catalogSize == null)
                    file.Missing = "not in the catalog (scan it)";
                else if (catalogSize != size)
                    file.Missing = $"the catalogued file has {catalogSize} bytes, the torrent {size} (incomplete or not this torrent's)";
                else if (sha1 == null)
                    file.Missing = "only a quick hash in the catalog (scan with -Mode Full)";
                else
                    file.Sha1 = sha1;
                payload.Files.Add(file);
                if (file.Missing != null)
                    payload.MissingFiles.Add($"{full}: {file.Missing}");
            }
            payload.FileCount = payload.Files.Count;
            payload.TotalBytes = payload.Files.Sum(f => f.Size);
            payload.MissingCount = payload.MissingFiles.Count;
            payload.PayloadHash = PayloadHash.Compute(payload.Files);
            payload.ContentHash = ContentHash.Compute(payload.Files);
            payload.Status = payload.PayloadHash == null ? "incomplete" : "complete";
            return payload;
        }


        private FileRow? Row(long deviceId, string path)
        {
            if (_rows.TryGetValue((deviceId, path), out var cached))
                return cached;
            // Torrents of one sync share rows (cross-seeds): remembered, but not without bound.
            if (_rows.Count >= 65536)
                _rows.Clear();
            return _rows[(deviceId, path)] = new FileStore(_db).ActiveByPath(deviceId, path);
        }
    }
}
