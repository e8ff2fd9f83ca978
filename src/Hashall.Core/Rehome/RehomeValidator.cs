using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using Hashall.Core.Catalog;
using Hashall.Core.Devices;
using Hashall.Core.Payloads;
using Hashall.Core.Platform;
using Hashall.Core.QBittorrent;

namespace Hashall.Core.Rehome
{
    /// <summary>
    /// Checks a plan (perhaps loaded from a reviewed JSON file) before anything runs: its shape (schema
    /// version, every path absolute and inside the declared roots), then the catalog, the disk and
    /// qBittorrent against what it says. Throws RehomePlanInvalid naming what no longer matches.
    /// </summary>
    public sealed class RehomeValidator
    {
        private readonly CatalogDatabase _db;

        public RehomeValidator(CatalogDatabase db) => _db = db;

        /// <summary>What the plan says, without looking at anything else.</summary>
        public static void CheckShape(RehomePlan plan)
        {
            if (plan.SchemaVersion != RehomePlan.CurrentSchemaVersion)
                Refuse(plan, $"its schema version is {plan.SchemaVersion}; this module executes version {RehomePlan.CurrentSchemaVersion}"
                             + (plan.SchemaVersion < RehomePlan.CurrentSchemaVersion ? " (older plans hashed payloads with their root folder's name and give torrents no layouts of their own)" : "")
                             + ": make the plan again with New-RehomePlan");
            if (plan.Decision != RehomeDecision.Move && plan.Decision != RehomeDecision.Reuse)
                Refuse(plan, $"its decision is {plan.Decision}");
            if (string.IsNullOrEmpty(plan.PayloadHash))
                Refuse(plan, "it has no payload hash");
            foreach (var (what, path) in new[] { ("SourcePath", plan.SourcePath), ("TargetPath", plan.TargetPath), ("TargetSavePath", plan.TargetSavePath) }
                         .Concat(plan.SeedingRoots.Select(r => ("SeedingRoots", r))))
            {
                if (string.IsNullOrEmpty(path) || !Path.IsPathRooted(path) || path.Split('/', '\\').Any(part => part == ".." || part == "."))
                    Refuse(plan, $"its {what} '{path}' is not an absolute path without '.' or '..'");
            }
            if (!plan.SeedingRoots.Any(r => PathText.IsUnder(plan.SourcePath, r)))
                Refuse(plan, $"its SourcePath '{plan.SourcePath}' is outside every seeding root ({string.Join(", ", plan.SeedingRoots)})");
            if (plan.Direction == RehomeDirection.Promote && !plan.SeedingRoots.Any(r => PathText.IsUnder(plan.TargetPath, r)))
                Refuse(plan, $"its TargetPath '{plan.TargetPath}' (on the stash) is outside every seeding root");
            // A MOVE's copy keeps the source's name; a copy reused may have another (a sibling's), in the save path.
            if (plan.Decision == RehomeDecision.Move && !TorrentRelocator.SamePath(plan.TargetPath, PathText.Join(plan.TargetSavePath, Path.GetFileName(plan.SourcePath))))
                Refuse(plan, $"its TargetPath '{plan.TargetPath}' is not '{Path.GetFileName(plan.SourcePath)}' in its TargetSavePath '{plan.TargetSavePath}'");
            if (plan.Decision == RehomeDecision.Reuse && !TorrentRelocator.SamePath(Path.GetDirectoryName(plan.TargetPath) ?? "", plan.TargetSavePath))
                Refuse(plan, $"its TargetPath '{plan.TargetPath}' is not in its TargetSavePath '{plan.TargetSavePath}'");
            if (PathText.IsUnder(plan.TargetPath, plan.SourcePath) || PathText.IsUnder(plan.SourcePath, plan.TargetPath))
                Refuse(plan, "its source and target overlap");
            var relocate = plan.Torrents.Where(t => t.Role == "relocate").ToList();
            if (relocate.Count == 0)
                Refuse(plan, "it relocates no torrent");
            foreach (var t in plan.Torrents.Where(t => !IsHash(t.TorrentHash)))
                Refuse(plan, $"'{t.TorrentHash}' is not a torrent hash (40 or 64 hex digits)");
            if (!relocate.Any(t => TorrentRelocator.SamePath(t.SourcePath, plan.SourcePath)))
                Refuse(plan, $"no torrent it relocates has its SourcePath '{plan.SourcePath}'");
            foreach (var t in relocate)
            {
                foreach (var (what, path) in new[] { ("SourcePath", t.SourcePath), ("TargetPath", t.TargetPath) })
                    if (!IsCleanAbsolute(path))
                        Refuse(plan, $"the {what} '{path}' of torrent {t.TorrentHash} is not an absolute path without '.' or '..'");
                if (!plan.SeedingRoots.Any(r => PathText.IsUnder(t.SourcePath, r)))
                    Refuse(plan, $"the SourcePath '{t.SourcePath}' of torrent {t.TorrentHash} is outside every seeding root");
                if (!TorrentRelocator.SamePath(t.TargetPath, PathText.Join(plan.TargetSavePath, Path.GetFileName(t.SourcePath))))
                    Refuse(plan, $"the TargetPath '{t.TargetPath}' of torrent {t.TorrentHash} is not its own root name '{Path.GetFileName(t.SourcePath)}' in the TargetSavePath '{plan.TargetSavePath}'");
                if (PathText.IsUnder(t.TargetPath, t.SourcePath) || PathText.IsUnder(t.SourcePath, t.TargetPath))
                    Refuse(plan, $"the source and target of torrent {t.TorrentHash} overlap");
                if (t.Layout == "linked" ? TorrentRelocator.SamePath(t.TargetPath, plan.TargetPath)
                    : t.Layout != "copy" || (!TorrentRelocator.SamePath(t.TargetPath, plan.TargetPath) && plan.Decision != RehomeDecision.Reuse))
                    Refuse(plan, $"the Layout '{t.Layout}' of torrent {t.TorrentHash} does not fit its TargetPath '{t.TargetPath}'");
            }
            var linked = relocate.Where(t => t.Layout == "linked").Select(t => t.TargetPath).Distinct().ToList();
            foreach (var link in plan.Links)
            {
                if (!IsCleanAbsolute(link.Path) || !IsCleanAbsolute(link.LinkTo))
                    Refuse(plan, $"its link '{link.Path}' -> '{link.LinkTo}' is not between absolute paths without '.' or '..'");
                if (!linked.Any(root => PathText.IsUnder(link.Path, root)))
                    Refuse(plan, $"its link '{link.Path}' is not in the linked tree of a torrent it relocates");
                if (!PathText.IsUnder(link.LinkTo, plan.TargetPath))
                    Refuse(plan, $"its link '{link.Path}' links to '{link.LinkTo}', which is not in the copy at '{plan.TargetPath}'");
            }
            foreach (var root in linked.Where(root => !plan.Links.Any(l => PathText.IsUnder(l.Path, root))))
                Refuse(plan, $"the linked tree '{root}' has no links");
        }

        private static bool IsCleanAbsolute(string? path) =>
            !string.IsNullOrEmpty(path) && Path.IsPathRooted(path) && !path!.Split('/', '\\').Any(part => part == ".." || part == ".");

        private static bool IsHash(string? text) =>
            text != null && (text.Length == 40 || text.Length == 64) && text.All(c => (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'));

        /// <summary>
        /// A fresh start: every torrent to relocate seeds its own source root, complete; each source root
        /// is a catalogued payload with the plan's hash, on the source device, with no external links;
        /// the target is free (MOVE, with room on its device) or holds a catalogued copy (REUSE), and
        /// every linked tree's root is free. Returns the payload at each source root as the catalog has
        /// it, the plan's SourcePath first.
        /// </summary>
        public List<HashallPayload> CheckLive(RehomePlan plan, IReadOnlyDictionary<string, TorrentInfo> live, QBittorrentClient client)
        {
            CheckDevices(plan);
            foreach (var t in live.Values)
            {
                string source = SourceOf(plan, t.Hash);
                if (!TorrentRelocator.PointsAt(t, source))
                    Refuse(plan, $"torrent '{t.Name}' ({t.Hash}) now points at '{t.ContentPath}', not '{source}'");
                if (!TorrentRelocator.IsComplete(t))
                    Refuse(plan, $"torrent '{t.Name}' ({t.Hash}) is '{t.State}' at {t.Progress:P1}: only complete torrents are moved");
            }
            var roots = SourceRoots(plan);
            // A torrent the plan does not know (added since the sync) seeding a source would lose it.
            foreach (var other in client.Torrents().Where(t => !live.ContainsKey(t.Hash) && t.ContentPath.Length > 0 && roots.Any(r => TorrentRelocator.PointsAt(t, r))))
                Refuse(plan, $"torrent '{other.Name}' ({other.Hash}), not in the plan, also seeds '{other.ContentPath}': sync and plan again");
            var payloads = SourcePayloads(plan, live, client);
            foreach (var payload in payloads)
            {
                string root = payload.FullName;
                string top = Path.GetFileName(root);
                var loose = payload.Files.FirstOrDefault(f => !TorrentRelocator.SamePath(f.FullName, root) && !PathText.IsUnder(f.FullName, root));
                if (loose != null)
                    Refuse(plan, $"its files do not sit under a root folder of their own ('{loose.FullName}' is not under '{root}'): such torrents share their save path and are not rehomed");
                // A twin moved with it has its own payload hash and the plan's content hash.
                if (payload.PayloadHash != plan.PayloadHash && (payload.PayloadHash == null || TorrentRelocator.SamePath(root, plan.SourcePath)
                                                                || plan.ContentHash == null || payload.ContentHash != plan.ContentHash))
                    Refuse(plan, payload.PayloadHash == null
                        ? $"the catalog no longer has every file of '{root}' with a SHA-1 ({string.Join("; ", payload.MissingFiles.Take(3))})"
                        : $"the payload at '{root}' now has hash {payload.PayloadHash}, not {plan.PayloadHash}: its files changed");
                if (payload.DeviceId != plan.SourceDeviceId)
                    Refuse(plan, $"'{root}' is on device {payload.Device}, not device {plan.SourceDeviceId} of the plan");
                var links = new RehomePlanner(_db).LinkProblems(payload, plan.SeedingRoots, new List<string>());
                if (links.Count > 0)
                    Refuse(plan, string.Join("; ", links));
                CheckLinksCover(plan, payload);
            }
            var query = new FileQuery(_db);
            var locator = new DeviceLocator();
            string existing = NearestExisting(plan.TargetSavePath);
            var targetScope = query.ScopeOf(existing, locator);
            if (targetScope == null || targetScope.Device.DeviceId != plan.TargetDeviceId)
                Refuse(plan, $"'{plan.TargetSavePath}' is not on device {plan.TargetDeviceId} of the plan");
            if (plan.Decision == RehomeDecision.Move)
            {
                if (FileSystemApi.TryLstat(plan.TargetPath, out _) == 0)
                    Refuse(plan, $"'{plan.TargetPath}' exists now; it did not when the plan was made");
                long? free = FreeSpace(existing);
                if (free < payloads[0].TotalBytes)
                    Refuse(plan, $"the target device has {free} bytes free at '{existing}'; the payload needs {payloads[0].TotalBytes}");
            }
            else
            {
                foreach (var copy in plan.Torrents.Where(t => t.Role == "relocate" && t.Layout == "copy").Select(t => t.TargetPath).Append(plan.TargetPath).Distinct())
                    if (FileSystemApi.TryLstat(copy, out _) != 0)
                        Refuse(plan, $"the copy to reuse, '{copy}', is gone");
            }
            foreach (var tree in plan.Torrents.Where(t => t.Role == "relocate" && t.Layout == "linked").Select(t => t.TargetPath).Distinct())
                if (FileSystemApi.TryLstat(tree, out _) == 0)
                    Refuse(plan, $"'{tree}', where a torrent's own layout is to be linked, exists now; it did not when the plan was made");
            return payloads;
        }

        /// <summary>A linked tree's links name exactly the torrent's files (none missing, none of the user's own).</summary>
        private static void CheckLinksCover(RehomePlan plan, HashallPayload payload)
        {
            var torrent = plan.Torrents.FirstOrDefault(t => t.Role == "relocate" && t.Layout == "linked" && TorrentRelocator.SamePath(t.SourcePath, payload.FullName));
            if (torrent == null)
                return;
            var want = new HashSet<string>(payload.Files.Select(f => TorrentRelocator.Rebase(f.FullName, payload.FullName, torrent.TargetPath)), StringComparer.Ordinal);
            var have = new HashSet<string>(plan.Links.Where(l => PathText.IsUnder(l.Path, torrent.TargetPath)).Select(l => l.Path), StringComparer.Ordinal);
            if (!want.SetEquals(have))
                Refuse(plan, $"its links for '{torrent.TargetPath}' do not name the files of the torrent at '{payload.FullName}' "
                             + $"({string.Join(", ", want.Except(have).Concat(have.Except(want)).Take(3).Select(p => $"'{p}'"))}): plan again");
        }

        /// <summary>The distinct source roots of the torrents to relocate, the plan's SourcePath first.</summary>
        public static List<string> SourceRoots(RehomePlan plan) =>
            new[] { plan.SourcePath }.Concat(plan.Torrents.Where(t => t.Role == "relocate" && t.SourcePath.Length > 0).Select(t => t.SourcePath))
                .Distinct(StringComparer.Ordinal).ToList();

        /// <summary>A relocated torrent's own source root.</summary>
        public static string SourceOf(RehomePlan plan, string hash) =>
            plan.Torrents.First(t => t.Role == "relocate" && string.Equals(t.TorrentHash, hash, StringComparison.OrdinalIgnoreCase)).SourcePath;

        /// <summary>The source file a link lays out: the same path inside its torrent's source root.</summary>
        public static string SourceFileOf(RehomePlan plan, RehomeLink link)
        {
            var t = plan.Torrents.First(x => x.Role == "relocate" && x.Layout == "linked" && PathText.IsUnder(link.Path, x.TargetPath));
            return TorrentRelocator.Rebase(link.Path, t.TargetPath, t.SourcePath);
        }

        /// <summary>A relocated torrent's own root on the target.</summary>
        public static string TargetOf(RehomePlan plan, string hash) =>
            plan.Torrents.First(t => t.Role == "relocate" && string.Equals(t.TorrentHash, hash, StringComparison.OrdinalIgnoreCase)).TargetPath;

        /// <summary>
        /// Every device id of the plan against the filesystem its path is on now, found by the device
        /// locator (the mount table and the filesystem's identity), not by the catalog's mount points: a
        /// plan edited to name another device (the stash as the target, say) is refused with
        /// RehomeDeviceMismatch. A rehome always changes device.
        /// </summary>
        public void CheckDevices(RehomePlan plan)
        {
            var store = new DeviceStore(_db);
            var locator = new DeviceLocator();
            void Check(string field, long id, string path)
            {
                var device = store.FindById(id);
                if (device == null)
                    Mismatch(plan, $"its {field} {id} is no device of the catalog '{_db.Path}'");
                DeviceDescriptor actual;
                try
                {
                    actual = locator.Locate(path).Device;
                }
                catch (HashallException e)
                {
                    throw new HashallException("RehomeDeviceMismatch", HashallErrorKind.InvalidData,
                        $"The plan for '{plan.Name}' cannot run: which device '{path}' is on cannot be told ({e.Message}).", plan.Name, e);
                }
                if (actual.Identity != device!.Identity)
                {
                    var registered = store.FindByIdentity(actual.Identity);
                    string there = registered != null ? $"device {registered.DeviceId}{(registered.Alias != null ? $" '{registered.Alias}'" : "")}" : "a device the catalog does not know";
                    Mismatch(plan, $"its {field} is device {id}{(device.Alias != null ? $" '{device.Alias}'" : "")} (mounted at '{device.MountPoint}'), "
                                   + $"but '{path}' is on {there} (the {actual.Mount.FileSystemType} filesystem mounted at '{actual.Mount.MountPoint}')");
                }
            }
            Check("SourceDeviceId", plan.SourceDeviceId, plan.SourcePath);
            Check("TargetDeviceId", plan.TargetDeviceId, NearestExisting(plan.TargetSavePath));
            if (plan.SourceDeviceId == plan.TargetDeviceId)
                Mismatch(plan, $"its source and target are both on device {plan.SourceDeviceId}: a rehome moves a payload to another device");
        }

        private static void Mismatch(RehomePlan plan, string why) =>
            throw new HashallException("RehomeDeviceMismatch", HashallErrorKind.InvalidData, $"The plan for '{plan.Name}' cannot run: {why}.", plan.Name);

        /// <summary>The payload at each source root (the plan's SourcePath first), from qBittorrent's file list of a torrent of that root and the catalog's rows.</summary>
        public List<HashallPayload> SourcePayloads(RehomePlan plan, IReadOnlyDictionary<string, TorrentInfo> live, QBittorrentClient client)
        {
            var payloads = new List<HashallPayload>();
            foreach (string root in SourceRoots(plan))
            {
                var t = plan.Torrents.FirstOrDefault(x => x.Role == "relocate" && TorrentRelocator.SamePath(x.SourcePath, root) && live.ContainsKey(x.TorrentHash));
                var torrent = t != null ? live[t.TorrentHash] : live.Values.First(x => TorrentRelocator.SamePath(SourceOf(plan, x.Hash), root));
                var atSource = new TorrentInfo
                {
                    Hash = torrent.Hash, Name = torrent.Name, ContentPath = root,
                    SavePath = Path.GetDirectoryName(root) ?? root,
                };
                payloads.Add(new PayloadBuilder(_db).ForTorrent(atSource, client.Files(torrent.Hash)));
            }
            return payloads;
        }

        /// <summary>Bytes free for this user at a path; null when the system cannot tell (the copy then finds out).</summary>
        internal static long? FreeSpace(string path) => Space(path)?.Free;

        /// <summary>Bytes free for this user, and the filesystem's size, at a path; null when the system cannot tell.</summary>
        internal static (long Free, long Total)? Space(string path)
        {
            try
            {
                var drive = new DriveInfo(path);
                return (drive.AvailableFreeSpace, drive.TotalSize);
            }
            catch (Exception e) when (e is ArgumentException || e is IOException || e is UnauthorizedAccessException)
            {
                return null;
            }
        }

        private static string NearestExisting(string path)
        {
            string? p = path;
            while (p != null && !Directory.Exists(p))
                p = Path.GetDirectoryName(p);
            return p ?? "/";
        }

        private static void Refuse(RehomePlan plan, string why) =>
            throw new HashallException("RehomePlanInvalid", HashallErrorKind.InvalidData, $"The plan for '{plan.Name}' cannot run: {why}.", plan.Name);
    }
}
