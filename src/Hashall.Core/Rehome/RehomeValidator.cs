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
                Refuse(plan, $"its schema version is {plan.SchemaVersion}; this module executes version {RehomePlan.CurrentSchemaVersion} (make the plan again with New-RehomePlan)");
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
            if (!TorrentRelocator.SamePath(plan.TargetPath, PathText.Join(plan.TargetSavePath, Path.GetFileName(plan.SourcePath))))
                Refuse(plan, $"its TargetPath '{plan.TargetPath}' is not '{Path.GetFileName(plan.SourcePath)}' in its TargetSavePath '{plan.TargetSavePath}'");
            if (PathText.IsUnder(plan.TargetPath, plan.SourcePath) || PathText.IsUnder(plan.SourcePath, plan.TargetPath))
                Refuse(plan, "its source and target overlap");
            var relocate = plan.Torrents.Where(t => t.Role == "relocate").ToList();
            if (relocate.Count == 0)
                Refuse(plan, "it relocates no torrent");
            foreach (var t in plan.Torrents.Where(t => !IsHash(t.TorrentHash)))
                Refuse(plan, $"'{t.TorrentHash}' is not a torrent hash (40 or 64 hex digits)");
        }

        private static bool IsHash(string? text) =>
            text != null && (text.Length == 40 || text.Length == 64) && text.All(c => (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'));

        /// <summary>
        /// A fresh start: every torrent to relocate seeds the source, complete; the source is the
        /// catalogued payload with the plan's hash, on the source device, with no external links;
        /// the target is free (MOVE, with room on its device) or holds a catalogued copy (REUSE).
        /// Returns the payload's files as the catalog has them.
        /// </summary>
        public HashallPayload CheckLive(RehomePlan plan, IReadOnlyDictionary<string, TorrentInfo> live, QBittorrentClient client)
        {
            CheckDevices(plan);
            foreach (var t in live.Values)
            {
                if (!TorrentRelocator.PointsAt(t, plan.SourcePath))
                    Refuse(plan, $"torrent '{t.Name}' ({t.Hash}) now points at '{t.ContentPath}', not '{plan.SourcePath}'");
                if (!TorrentRelocator.IsComplete(t))
                    Refuse(plan, $"torrent '{t.Name}' ({t.Hash}) is '{t.State}' at {t.Progress:P1}: only complete torrents are moved");
            }
            // A torrent the plan does not know (added since the sync) seeding the source would lose it.
            foreach (var other in client.Torrents().Where(t => !live.ContainsKey(t.Hash) && t.ContentPath.Length > 0 && TorrentRelocator.PointsAt(t, plan.SourcePath)))
                Refuse(plan, $"torrent '{other.Name}' ({other.Hash}), not in the plan, also seeds '{plan.SourcePath}': sync and plan again");
            var payload = SourcePayload(plan, live.Values.First(), client);
            string top = Path.GetFileName(plan.SourcePath);
            var loose = payload.Files.FirstOrDefault(f => f.TorrentPath != top && !f.TorrentPath.StartsWith(top + "/", StringComparison.Ordinal));
            if (loose != null)
                Refuse(plan, $"its files do not sit under a root folder of their own ('{loose.TorrentPath}' is not under '{top}'): such torrents share their save path and are not rehomed");
            if (payload.PayloadHash != plan.PayloadHash)
                Refuse(plan, payload.PayloadHash == null
                    ? $"the catalog no longer has every file of '{plan.SourcePath}' with a SHA-1 ({string.Join("; ", payload.MissingFiles.Take(3))})"
                    : $"the payload at '{plan.SourcePath}' now has hash {payload.PayloadHash}, not {plan.PayloadHash}: its files changed");
            if (payload.DeviceId != plan.SourceDeviceId)
                Refuse(plan, $"'{plan.SourcePath}' is on device {payload.Device}, not device {plan.SourceDeviceId} of the plan");
            var links = new RehomePlanner(_db).LinkProblems(payload, plan.SeedingRoots, new List<string>());
            if (links.Count > 0)
                Refuse(plan, string.Join("; ", links));
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
                if (free < payload.TotalBytes)
                    Refuse(plan, $"the target device has {free} bytes free at '{existing}'; the payload needs {payload.TotalBytes}");
            }
            else if (FileSystemApi.TryLstat(plan.TargetPath, out _) != 0)
            {
                Refuse(plan, $"the copy to reuse, '{plan.TargetPath}', is gone");
            }
            return payload;
        }

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

        /// <summary>The payload's files at the source, from qBittorrent's file list and the catalog's rows.</summary>
        public HashallPayload SourcePayload(RehomePlan plan, TorrentInfo torrent, QBittorrentClient client)
        {
            var atSource = new TorrentInfo
            {
                Hash = torrent.Hash, Name = torrent.Name, ContentPath = plan.SourcePath,
                SavePath = Path.GetDirectoryName(plan.SourcePath) ?? plan.SourcePath,
            };
            return new PayloadBuilder(_db).ForTorrent(atSource, client.Files(torrent.Hash));
        }

        /// <summary>Bytes free for this user at a path; null when the system cannot tell (the copy then finds out).</summary>
        internal static long? FreeSpace(string path)
        {
            try
            {
                return new DriveInfo(path).AvailableFreeSpace;
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
