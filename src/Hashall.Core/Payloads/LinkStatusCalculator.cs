using System;
using System.Collections.Generic;
using System.Linq;
using Hashall.Core.Catalog;
using Hashall.Core.Platform;
using Microsoft.Data.Sqlite;

namespace Hashall.Core.Payloads
{
    /// <summary>Whether a torrent's files have hard links outside every seeding root (qbit_manage's "noHL", done exactly).</summary>
    public enum LinkStatus
    {
        /// <summary>At least one file shares its inode with a path outside every seeding root (a media library).</summary>
        Linked,
        /// <summary>Every link of every file is known to the catalog and none is outside the seeding roots.</summary>
        NotLinked,
        /// <summary>No external link is known, but a file has more links than the catalog knows (or the payload is not catalogued): scan where they may be.</summary>
        Unknown,
    }

    /// <summary>The link status of one payload or torrent.</summary>
    public sealed class LinkStatusResult
    {
        public LinkStatus Status { get; set; } = LinkStatus.Unknown;
        /// <summary>Paths outside every seeding root sharing an inode with the files, sorted.</summary>
        public List<string> ExternalLinks { get; } = new List<string>();
        /// <summary>Links on disk (st_nlink) that the catalog does not know, summed over the files.</summary>
        public long UnknownLinks { get; set; }
        /// <summary>The files examined (catalogued files of the torrent).</summary>
        public int Files { get; set; }
        /// <summary>Why the status is Unknown (null otherwise).</summary>
        public string? Reason { get; set; }
    }

    /// <summary>
    /// Computes <see cref="LinkStatus"/> from the catalog: every hard link of a torrent's files, as
    /// catalogued, is classified by where it is. Links inside any seeding root (cross-seed link folders,
    /// sibling torrents, the payload's own names) do not count; a link outside every root makes the
    /// torrent Linked. A file whose link count (on disk now when it is there, else as scanned) exceeds
    /// the links the catalog knows makes it Unknown, unless a known external link already decides.
    /// Reads only. One instance caches per payload root: reuse it for many torrents.
    /// </summary>
    public sealed class LinkStatusCalculator
    {
        private readonly CatalogDatabase _db;
        private readonly Dictionary<long, Devices.HashallDevice> _devices;
        private readonly Dictionary<long, List<LinkedFile>> _byPayload = new Dictionary<long, List<LinkedFile>>();
        private Dictionary<(string, string), HashSet<string>>? _torrentFiles;

        /// <param name="checkDisk">Also read each file's link count on disk now (lstat), not only the scan's.</param>
        public LinkStatusCalculator(CatalogDatabase db, bool checkDisk = true)
        {
            _db = db;
            CheckDisk = checkDisk;
            _devices = new Devices.DeviceStore(db).List().ToDictionary(d => d.DeviceId);
        }

        public bool CheckDisk { get; }

        /// <summary>
        /// The link status of a torrent: its files as the last sync recorded them (torrent_files), else
        /// every catalogued file under its payload's root, against <paramref name="seedingRoots"/>
        /// (absolute; see <see cref="SeedingRootStore.Resolve"/>).
        /// </summary>
        public LinkStatusResult ForTorrent(HashallTorrent torrent, IReadOnlyList<string> seedingRoots)
        {
            if (torrent.PayloadId == null || torrent.DeviceId == null)
                return new LinkStatusResult { Reason = "the torrent's payload is not on a catalogued device" };
            var files = PayloadFiles(torrent.PayloadId.Value);
            var own = TorrentFiles(torrent.Instance, torrent.TorrentHash);
            if (own != null)
                files = files.Where(f => own.Contains(f.FullName)).ToList();
            return Classify(files, PayloadRoot(torrent), seedingRoots);
        }

        /// <summary>The link status of a stored payload (every catalogued file under its root).</summary>
        public LinkStatusResult ForPayload(HashallPayload payload, IReadOnlyList<string> seedingRoots)
        {
            if (payload.DeviceId == null || payload.PayloadId == 0)
                return new LinkStatusResult { Reason = "the payload is not on a catalogued device" };
            return Classify(PayloadFiles(payload.PayloadId), payload.FullName, seedingRoots);
        }

        private LinkStatusResult Classify(List<LinkedFile> files, string payloadRoot, IReadOnlyList<string> roots)
        {
            var result = new LinkStatusResult { Files = files.Count };
            var external = new SortedSet<string>(StringComparer.Ordinal);
            foreach (var f in files)
            {
                foreach (string link in f.Links)
                    if (!PathText.IsUnder(link, payloadRoot) && !roots.Any(r => PathText.IsUnder(link, r)))
                        external.Add(link);
                long count = f.LinkCount;
                if (CheckDisk && FileSystemApi.TryLstat(f.FullName, out var now) == 0 && unchecked((long)now.Inode) == f.Inode)
                    count = now.LinkCount;
                if (count > f.Links.Count)
                    result.UnknownLinks += count - f.Links.Count;
            }
            result.ExternalLinks.AddRange(external);
            if (external.Count > 0)
                result.Status = LinkStatus.Linked;
            else if (files.Count == 0)
                result.Reason = "the catalog has none of its files: scan its root";
            else if (result.UnknownLinks > 0)
                result.Reason = $"its files have {result.UnknownLinks} hard link(s) the catalog does not know: scan where they may be (a media library)";
            else
                result.Status = LinkStatus.NotLinked;
            return result;
        }

        private static string PayloadRoot(HashallTorrent t) => t.ContentPath.TrimEnd('/');

        /// <summary>Every catalogued file under a stored payload's root with the full paths of all its active links.</summary>
        private List<LinkedFile> PayloadFiles(long payloadId)
        {
            if (_byPayload.TryGetValue(payloadId, out var cached))
                return cached;
            var list = new List<LinkedFile>();
            long? deviceId = null;
            string root = "";
            try
            {
                using (var c = _db.Command("SELECT device_id, root_path FROM payloads WHERE payload_id = $id;"))
                {
                    c.Parameters.AddWithValue("$id", payloadId);
                    using var r = c.ExecuteReader();
                    if (r.Read() && !r.IsDBNull(0))
                    {
                        deviceId = r.GetInt64(0);
                        root = r.GetString(1);
                    }
                }
                if (deviceId != null && _devices.TryGetValue(deviceId.Value, out var device))
                {
                    using var c = _db.Command(@"SELECT f.path, f.inode, f.link_count, g.path FROM files f
JOIN files g INDEXED BY ix_files_inode ON g.device_id = f.device_id AND g.inode = f.inode AND g.status = 'active'
WHERE f.device_id = $d AND f.status = 'active'" + FileStore.PrefixClause(root, "f.path") + " ORDER BY f.path;");
                    c.Parameters.AddWithValue("$d", deviceId.Value);
                    FileStore.AddPrefixParameters(c, root);
                    using var r = c.ExecuteReader();
                    LinkedFile? current = null;
                    while (r.Read())
                    {
                        string path = r.GetString(0);
                        if (current == null || current.Path != path)
                        {
                            current = new LinkedFile
                            {
                                Path = path, FullName = Full(device, path), Inode = r.GetInt64(1), LinkCount = r.GetInt64(2),
                            };
                            list.Add(current);
                        }
                        current.Links.Add(Full(device, r.GetString(3)));
                    }
                }
            }
            catch (SqliteException e)
            {
                throw CatalogDatabase.Translate(e, _db.Path);
            }
            if (_byPayload.Count >= 4096)
                _byPayload.Clear();
            _byPayload[payloadId] = list;
            return list;
        }

        /// <summary>The full paths of a torrent's files as the last sync recorded them; null when none are recorded.</summary>
        private HashSet<string>? TorrentFiles(string instance, string hash)
        {
            if (_torrentFiles == null)
            {
                _torrentFiles = new Dictionary<(string, string), HashSet<string>>();
                try
                {
                    using var c = _db.Command("SELECT instance, torrent_hash, full_path FROM torrent_files;");
                    using var r = c.ExecuteReader();
                    while (r.Read())
                    {
                        var key = (r.GetString(0), r.GetString(1));
                        if (!_torrentFiles.TryGetValue(key, out var set))
                            _torrentFiles[key] = set = new HashSet<string>(StringComparer.Ordinal);
                        set.Add(r.GetString(2));
                    }
                }
                catch (SqliteException e)
                {
                    throw CatalogDatabase.Translate(e, _db.Path);
                }
            }
            return _torrentFiles.TryGetValue((instance, hash), out var files) ? files : null;
        }

        private static string Full(Devices.HashallDevice device, string path) =>
            PathText.UnderMount(device.MountPoint, device.MountRoot, path) ?? PathText.Join(device.MountPoint, path);

        private sealed class LinkedFile
        {
            public string Path = "";
            public string FullName = "";
            public long Inode;
            public long LinkCount;
            public readonly List<string> Links = new List<string>();
        }
    }
}
