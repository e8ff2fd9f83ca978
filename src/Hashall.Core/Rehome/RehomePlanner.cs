using System;
using System.Collections.Generic;
using System.Linq;
using Hashall.Core.Catalog;
using Hashall.Core.Devices;
using Hashall.Core.Payloads;
using Hashall.Core.Platform;

namespace Hashall.Core.Rehome
{
    /// <summary>Where rehomed payloads go and which roots hold seeding data.</summary>
    public sealed class RehomeOptions
    {
        public RehomeDirection Direction { get; set; }
        /// <summary>Absolute directories that hold seeding data; a hard link outside all of them is an external consumer.</summary>
        public IList<string> SeedingRoots { get; set; } = new List<string>();
        public HashallDevice StashDevice { get; set; } = new HashallDevice();
        public HashallDevice PoolDevice { get; set; } = new HashallDevice();
        /// <summary>Demotion: the directory on the pool that receives payloads.</summary>
        public string? TargetRoot { get; set; }
        /// <summary>Sub-path under TargetRoot for a payload's save path: {category}, {tag} (first tag) and {name} are replaced; "" puts every payload directly under TargetRoot.</summary>
        public string Layout { get; set; } = "{category}";
    }

    /// <summary>
    /// Decides, per payload, BLOCK, REUSE or MOVE from the catalog (files, their hard links, payloads,
    /// torrents as of the last sync). Reads only; nothing on disk or in qBittorrent changes.
    /// </summary>
    public sealed class RehomePlanner
    {
        /// <summary>States in which qBittorrent holds complete data and can be relocated.</summary>
        private static readonly HashSet<string> MovableStates = new HashSet<string>(StringComparer.Ordinal)
        {
            "uploading", "stalledUP", "pausedUP", "stoppedUP", "queuedUP", "forcedUP",
        };

        private readonly CatalogDatabase _db;
        private readonly PayloadStore _payloads;
        private readonly FileStore _files;
        private readonly FileQuery _query;
        private readonly DeviceLocator _locator = new DeviceLocator();
        /// <summary>MOVE targets taken by earlier plans of this run: two payloads never go to one place.</summary>
        private readonly HashSet<string> _targets = new HashSet<string>(StringComparer.Ordinal);
        /// <summary>The targets the plan being made took (released when a policy drops that plan).</summary>
        private readonly List<string> _claims = new List<string>();

        public RehomePlanner(CatalogDatabase db)
        {
            _db = db;
            _payloads = new PayloadStore(db);
            _files = new FileStore(db);
            _query = new FileQuery(db);
        }

        /// <summary>
        /// One plan per distinct payload of the given torrents: per payload hash on the source device, so
        /// that siblings there under other root folder names go in the same plan (one copy on the
        /// target, one linked tree per name); an incomplete payload is its own.
        /// </summary>
        public List<RehomePlan> Plan(IEnumerable<HashallTorrent> torrents, RehomeOptions options)
        {
            CheckTarget(options);
            var all = _payloads.Torrents(includeGone: false);
            var stored = _payloads.Payloads();
            var plans = new List<RehomePlan>();
            var done = new HashSet<long>();
            _targets.Clear();
            foreach (var torrent in torrents)
            {
                if (torrent.PayloadId == null || done.Contains(torrent.PayloadId.Value))
                    continue;
                var payload = stored.First(p => p.PayloadId == torrent.PayloadId);
                var (plan, rows) = PlanOne(torrent, payload, all, stored, options);
                done.UnionWith(rows);
                if (options.Direction == RehomeDirection.Demote && plan.Decision != RehomeDecision.Block)
                    plan.FreedBytes = FreedBytes(stored.Where(p => rows.Contains(p.PayloadId)).ToList());
                plans.Add(plan);
            }
            return plans;
        }

        private void CheckTarget(RehomeOptions options)
        {
            if (options.TargetRoot != null)
            {
                var at = _query.ScopeOf(options.TargetRoot, _locator);
                if (at == null || at.Device.DeviceId != options.PoolDevice.DeviceId)
                    throw new HashallException("RehomeTargetNotOnPool", HashallErrorKind.InvalidArgument,
                        $"-TargetPath '{options.TargetRoot}' is not on the pool device {options.PoolDevice.Alias ?? options.PoolDevice.MountPoint}.", options.TargetRoot);
            }
        }

        private bool Claim(string target)
        {
            if (!_targets.Add(target))
                return false;
            _claims.Add(target);
            return true;
        }

        /// <summary>
        /// Plans by policy: the candidates' payloads on the source device that meet the policy, in its
        /// order, until -Limit, -MaximumBytes or -FreeSpaceTarget says enough. Blocked payloads that meet
        /// the policy are returned too (they say why they stay) but count toward nothing; under a
        /// free-space target a payload that frees no bytes is passed over. Each plan's Reason says why it
        /// was chosen; <see cref="RehomeSelection.Notes"/> say what was passed over and why.
        /// </summary>
        public RehomeSelection PlanByPolicy(IEnumerable<HashallTorrent> candidates, RehomeOptions options, RehomePolicy policy, Action<int, int, string>? progress = null)
        {
            CheckTarget(options);
            var selection = new RehomeSelection();
            var source = options.Direction == RehomeDirection.Demote ? options.StashDevice : options.PoolDevice;
            var order = policy.Order ?? (options.Direction == RehomeDirection.Promote ? RehomeOrder.RecentlyActive : RehomeOrder.Oldest);
            var all = _payloads.Torrents(includeGone: false);
            var stored = _payloads.Payloads();
            var byId = stored.ToDictionary(p => p.PayloadId);
            var byHash = all.GroupBy(t => t.TorrentHash, StringComparer.OrdinalIgnoreCase).ToDictionary(g => g.Key, g => g.First(), StringComparer.OrdinalIgnoreCase);
            string Key(HashallTorrent t) => t.PayloadHash ?? "#" + t.PayloadId;
            // The torrents each payload's plan would relocate: its siblings on the source device.
            var siblings = all.Where(t => t.DeviceId == source.DeviceId && t.PayloadId != null)
                .GroupBy(Key).ToDictionary(g => g.Key, g => (IReadOnlyList<HashallTorrent>)g.ToList());
            var groups = candidates.Where(t => t.PayloadId != null && t.DeviceId == source.DeviceId)
                .GroupBy(Key)
                .Select(g => (First: g.First(), Torrents: siblings[g.Key], Bytes: byId[g.First().PayloadId!.Value].TotalBytes))
                .ToList();
            int notOnSource = candidates.Count(t => t.PayloadId == null || t.DeviceId != source.DeviceId);
            if (notOnSource > 0)
                selection.Notes.Add($"{notOnSource} torrent(s) of the selection are not on the {(options.Direction == RehomeDirection.Demote ? "stash" : "pool")} device {source}: not candidates");

            var eligible = new List<(HashallTorrent First, IReadOnlyList<HashallTorrent> Torrents, IComparable Key)>();
            foreach (var g in groups)
            {
                // A first test on the payload's siblings on the source device; the plan's own torrents are tested again once it is made.
                if (policy.Meets(g.Torrents, out string not) == null)
                    selection.Notes.Add($"'{g.First.Name}' passed over: {not}");
                else
                    eligible.Add((g.First, g.Torrents, RehomePolicy.OrderKey(order, g.Torrents, g.Bytes)));
            }
            eligible = eligible.OrderBy(e => e.Key).ThenBy(e => e.First.Name, StringComparer.Ordinal).ThenBy(e => Key(e.First), StringComparer.Ordinal).ToList();

            long need = 0;
            if (policy.FreeSpaceTarget != null)
            {
                if (options.Direction != RehomeDirection.Demote)
                    throw new HashallException("RehomePolicyNotForPromote", HashallErrorKind.InvalidArgument, "-FreeSpaceTarget is a demotion policy (the stash's free space).", null);
                var space = RehomeValidator.Space(options.StashDevice.MountPoint)
                    ?? throw new HashallException("RehomeFreeSpaceUnknown", HashallErrorKind.ReadError,
                        $"The free space of the stash {source} at '{options.StashDevice.MountPoint}' cannot be read (not mounted?): -FreeSpaceTarget needs it.", options.StashDevice.MountPoint);
                selection.FreeBytes = space.Free;
                selection.WantedFreeBytes = policy.FreeSpaceTarget.For(space.Total);
                need = selection.WantedFreeBytes - selection.FreeBytes;
                if (need <= 0)
                {
                    selection.Notes.Add($"the stash {source} has {RehomePolicy.Size(selection.FreeBytes)} free, at least the {policy.FreeSpaceTarget} wanted ({RehomePolicy.Size(selection.WantedFreeBytes)}): nothing to demote");
                    return selection;
                }
            }

            _targets.Clear();
            var done = new HashSet<long>();
            int chosen = 0, seen = 0;
            long chosenBytes = 0;
            foreach (var e in eligible)
            {
                progress?.Invoke(seen++, eligible.Count, e.First.Name);
                if (done.Contains(e.First.PayloadId!.Value))
                    continue;
                _claims.Clear();
                var (plan, rows) = PlanOne(e.First, byId[e.First.PayloadId.Value], all, stored, options);
                done.UnionWith(rows);
                void Drop(string why)
                {
                    foreach (var claim in _claims)
                        _targets.Remove(claim);
                    selection.Notes.Add($"'{plan.Name}' passed over: {why}");
                }
                // The plan relocates exactly these (a content twin may join the siblings): the policy holds for each.
                var relocated = plan.Torrents.Where(t => t.Role == "relocate").Select(t => byHash.TryGetValue(t.TorrentHash, out var x) ? x : null)
                    .Where(t => t != null).Select(t => t!).ToList();
                string? why = policy.Meets(relocated, out string not);
                if (why == null)
                {
                    Drop(not);
                    continue;
                }
                plan.Reason = "policy: " + (why.Length > 0 ? why : policy.OrderWords(order, relocated, plan.TotalBytes));
                if (plan.Decision == RehomeDecision.Block)
                {
                    selection.Plans.Add(plan); // says why it stays; counts toward nothing
                    continue;
                }
                if (options.Direction == RehomeDirection.Demote)
                    plan.FreedBytes = FreedBytes(stored.Where(p => rows.Contains(p.PayloadId)).ToList());
                if (policy.FreeSpaceTarget != null && plan.FreedBytes == 0)
                {
                    Drop("it frees nothing on the stash (every file has a hard link outside the payload)");
                    continue;
                }
                if (policy.MaximumBytes is long max && chosenBytes + plan.TotalBytes > max)
                {
                    Drop($"{RehomePolicy.Size(plan.TotalBytes)} would take the run past -MaximumBytes {RehomePolicy.Size(max)} ({RehomePolicy.Size(chosenBytes)} chosen)");
                    continue;
                }
                chosen++;
                chosenBytes += plan.TotalBytes;
                selection.FreedBytes += plan.FreedBytes;
                if (policy.FreeSpaceTarget != null)
                    plan.Reason += $"; frees {RehomePolicy.Size(plan.FreedBytes)}, {chosen}{Ordinal(chosen)} toward {policy.FreeSpaceTarget} free on the stash ({RehomePolicy.Size(Math.Min(selection.FreedBytes, need))} of {RehomePolicy.Size(need)} wanted)";
                selection.Plans.Add(plan);
                if (policy.Limit is int limit && chosen >= limit)
                {
                    selection.Notes.Add($"-Limit {limit} reached");
                    break;
                }
                if (policy.FreeSpaceTarget != null && selection.FreedBytes >= need)
                    break;
            }
            selection.Chosen = chosen;
            if (policy.FreeSpaceTarget != null && selection.FreedBytes < need)
            {
                selection.TargetNotMet = $"the {policy.FreeSpaceTarget} free target is not met: the {chosen} payload(s) chosen free {RehomePolicy.Size(selection.FreedBytes)} of the {RehomePolicy.Size(need)} wanted";
                selection.Notes.Add(selection.TargetNotMet);
            }
            return selection;
        }

        private static string Ordinal(int n) => (n % 100) is 11 or 12 or 13 ? "th" : (n % 10) switch { 1 => "st", 2 => "nd", 3 => "rd", _ => "th" };

        /// <summary>
        /// The bytes the source device gets back when these payload roots are removed: each inode once,
        /// and only an inode whose every link (in the catalog, and as many as the disk counts now) is
        /// under one of the roots. A root's share is at most its payload's bytes (files under it that
        /// the torrent does not list stay).
        /// </summary>
        public long FreedBytes(IReadOnlyList<HashallPayload> roots)
        {
            var seen = new HashSet<(long, long)>();
            long total = 0;
            foreach (var root in roots.GroupBy(r => r.FullName, StringComparer.Ordinal).Select(g => g.First()))
            {
                var scope = _query.ScopeOf(root.FullName, _locator);
                if (scope == null)
                    continue;
                long freed = 0;
                foreach (var file in _query.Files(new[] { scope }, Array.Empty<string>(), includeDeleted: false))
                {
                    if (!seen.Add((file.DeviceId, file.Inode)))
                        continue;
                    var links = _files.ActiveByInode(file.DeviceId, file.Inode);
                    bool inside = links.All(l =>
                    {
                        string full = PathText.UnderMount(scope.Device.MountPoint, scope.Device.MountRoot, l.Path) ?? l.Path;
                        return roots.Any(r => PathText.IsUnder(full, r.FullName));
                    });
                    long linkCount = FileSystemApi.TryLstat(file.FullName, out var now) == 0 && unchecked((long)now.Inode) == file.Inode ? now.LinkCount : file.LinkCount;
                    if (inside && linkCount <= links.Count)
                        freed += file.Size;
                }
                total += Math.Min(freed, root.TotalBytes);
            }
            return total;
        }

        private (RehomePlan Plan, List<long> Rows) PlanOne(HashallTorrent torrent, HashallPayload payload, List<HashallTorrent> all, List<HashallPayload> stored, RehomeOptions options)
        {
            var source = options.Direction == RehomeDirection.Demote ? options.StashDevice : options.PoolDevice;
            var target = options.Direction == RehomeDirection.Demote ? options.PoolDevice : options.StashDevice;
            var plan = new RehomePlan
            {
                CreatedAt = DateTime.UtcNow,
                Direction = options.Direction,
                Decision = RehomeDecision.Move,
                PayloadHash = payload.PayloadHash,
                Name = torrent.Name,
                TotalBytes = payload.TotalBytes,
                FileCount = payload.FileCount,
                SeedingRoots = options.SeedingRoots.ToList(),
                SourceDeviceId = source.DeviceId,
                TargetDeviceId = target.DeviceId,
                SourcePath = payload.FullName,
                Database = _db.Path,
            };
            void Block(string reason)
            {
                plan.Decision = RehomeDecision.Block;
                plan.Reasons.Add(reason);
            }

            // The payload's roots on the source device: this one first, then every other root there that a
            // torrent seeds with the same payload hash (a sibling under another root folder name) or the
            // same content hash (a twin: the same files under other names), all moved with one copy.
            var rows = new List<HashallPayload> { payload };
            if (payload.PayloadHash != null && payload.DeviceId == source.DeviceId)
                rows.AddRange(stored.Where(p => p.PayloadId != payload.PayloadId && p.DeviceId == source.DeviceId && p.Status == "complete"
                                               && (p.PayloadHash == payload.PayloadHash || (payload.ContentHash != null && p.ContentHash == payload.ContentHash))
                                               && all.Any(t => t.PayloadId == p.PayloadId))
                    .OrderBy(p => p.PayloadHash == payload.PayloadHash ? 0 : 1));
            var rowIds = new HashSet<long>(rows.Select(r => r.PayloadId));

            // Siblings: every torrent with this payload hash (or, while incomplete, with this very payload), and the twins moved with it.
            var siblings = all.Where(t => payload.PayloadHash != null ? t.PayloadHash == payload.PayloadHash || rowIds.Contains(t.PayloadId ?? -1) : t.PayloadId == payload.PayloadId).ToList();
            foreach (var t in siblings)
            {
                bool here = t.PayloadId != null && rowIds.Contains(t.PayloadId.Value);
                plan.Torrents.Add(new RehomeTorrent
                {
                    TorrentHash = t.TorrentHash, Name = t.Name, State = t.State, SavePath = t.SavePath, ContentPath = t.ContentPath,
                    Role = here ? "relocate" : "elsewhere",
                    SourcePath = stored.FirstOrDefault(p => p.PayloadId == t.PayloadId)?.FullName ?? "",
                });
                if (here && !MovableStates.Contains(t.State))
                    Block($"sibling '{t.Name}' ({t.TorrentHash}) is '{t.State}': only complete, seeding torrents are moved");
            }

            foreach (var row in rows)
            {
                // A folder that also holds other torrents' data (a shared save path, a partial cross-seed)
                // cannot be moved as one payload.
                foreach (var other in all.Where(t => !rowIds.Contains(t.PayloadId ?? -1) && !siblings.Contains(t)
                                                     && t.ContentPath.Length > 0 && PathText.IsUnder(t.ContentPath, row.FullName)))
                    Block($"'{row.FullName}' also holds the data of torrent '{other.Name}' ({other.TorrentHash}), which is not a sibling");
                if (!options.SeedingRoots.Any(r => PathText.IsUnder(row.FullName, r)))
                    Block($"the payload '{row.FullName}' is outside every seeding root ({string.Join(", ", options.SeedingRoots)}): give the root that holds it with -SeedingRoot");
                FindExternalLinks(plan, row, options);
            }
            if (payload.PayloadHash == null)
                Block($"the payload is incomplete ({payload.MissingCount} file(s) without a SHA-1 in the catalog): scan it and sync again");
            if (payload.DeviceId != source.DeviceId)
                Block($"the payload is on device {payload.Device}, not on the {(options.Direction == RehomeDirection.Demote ? "stash" : "pool")} device {source.Alias ?? source.MountPoint}");

            // Only a copy that a torrent qBittorrent still has is seeding, and that is on disk now: a
            // sibling copy (same payload hash) first, one under the payload's own name before others;
            // else a content twin (the same files under other names: same content hash).
            var reusables = payload.PayloadHash == null ? new List<HashallPayload>()
                : stored.Where(p => (p.PayloadHash == payload.PayloadHash || (payload.ContentHash != null && p.ContentHash == payload.ContentHash))
                                    && p.DeviceId == target.DeviceId && p.Status == "complete"
                                    && all.Any(t => t.PayloadId == p.PayloadId) && FileSystemApi.TryLstat(p.FullName, out _) == 0)
                    .OrderBy(p => p.PayloadHash == payload.PayloadHash ? 0 : 1)
                    .ThenBy(p => System.IO.Path.GetFileName(p.FullName) == System.IO.Path.GetFileName(payload.FullName) ? 0 : 1).ToList();
            var reusable = reusables.FirstOrDefault();
            plan.ContentHash = payload.ContentHash;
            List<(string Within, long Size, string? Sha1)> copyFiles;
            if (reusable != null)
            {
                plan.TargetPath = reusable.FullName;
                plan.TargetSavePath = System.IO.Path.GetDirectoryName(reusable.FullName) ?? reusable.FullName;
                copyFiles = CatalogFiles(reusable.FullName);
                if (plan.Decision != RehomeDecision.Block)
                {
                    plan.Decision = RehomeDecision.Reuse;
                    plan.Reasons.Add(reusable.PayloadHash == payload.PayloadHash
                        ? $"a complete copy with the same payload hash is already on the target: '{reusable.FullName}'"
                        : $"a content twin (the same files under other names, same content hash) is already on the target: '{reusable.FullName}'");
                }
            }
            else if (options.Direction == RehomeDirection.Promote)
            {
                Block("promotion is reuse-only and the stash has no copy of this payload: nothing is copied blindly");
                return (plan, rows.Select(r => r.PayloadId).ToList());
            }
            else
            {
                if (options.TargetRoot == null)
                    throw new HashallException("RehomeTargetMissing", HashallErrorKind.InvalidArgument, "Demotion needs -TargetPath: the directory on the pool that receives payloads.", null);
                plan.TargetSavePath = System.IO.Path.GetFullPath(PathText.Join(options.TargetRoot, ExpandLayout(options.Layout, torrent))).TrimEnd('/');
                plan.TargetPath = PathText.Join(plan.TargetSavePath, System.IO.Path.GetFileName(payload.FullName));
                copyFiles = CatalogFiles(payload.FullName);
                if (plan.Decision == RehomeDecision.Move)
                {
                    if (!PathText.IsUnder(plan.TargetSavePath, options.TargetRoot))
                        Block($"the layout puts it at '{plan.TargetSavePath}', outside '{options.TargetRoot}' (a category or tag with '..'?)");
                    else if (FileSystemApi.TryLstat(plan.TargetPath, out _) == 0)
                        Block($"'{plan.TargetPath}' already exists on the pool and is not a catalogued copy of this payload");
                    else if (!Claim(plan.TargetPath))
                        Block($"another payload of this run already goes to '{plan.TargetPath}'");
                    else
                        plan.Reasons.Add($"no copy on the target: copy to '{plan.TargetPath}', verify, relocate {plan.Torrents.Count(t => t.Role == "relocate")} torrent(s), remove the source");
                }
            }
            if (plan.TargetSavePath.Length > 0)
                PlanLayouts(plan, rows, reusables, copyFiles, reusable?.PayloadHash ?? payload.PayloadHash, Block);
            return (plan, rows.Select(r => r.PayloadId).ToList());
        }

        /// <summary>
        /// Each relocated torrent keeps its own root name on the target: the copy itself when the names
        /// match (or another catalogued copy of that name), else its own tree of hard links to the
        /// copy's files, matched by path inside the root (siblings), else by size and SHA-1.
        /// </summary>
        private void PlanLayouts(RehomePlan plan, List<HashallPayload> rows, List<HashallPayload> reusables,
            List<(string Within, long Size, string? Sha1)> copyFiles, string? copyHash, Action<string> block)
        {
            var trees = new Dictionary<string, string?>(StringComparer.Ordinal); // linked tree -> payload hash of its layout
            foreach (var row in rows)
            {
                string name = System.IO.Path.GetFileName(row.FullName);
                string own = PathText.Join(plan.TargetSavePath, name);
                var torrents = plan.Torrents.Where(t => t.Role == "relocate" && TorrentRelocator.SamePath(t.SourcePath, row.FullName)).ToList();
                string layout = "copy";
                // A root whose layout is the copy's (same payload hash, same name) uses the copy itself; one
                // under the name of another catalogued copy with its payload hash uses that one as it is.
                if (TorrentRelocator.SamePath(own, plan.TargetPath) ? row.PayloadHash == copyHash
                    : reusables.Any(r => TorrentRelocator.SamePath(r.FullName, own) && r.PayloadHash == row.PayloadHash))
                {
                }
                else if (TorrentRelocator.SamePath(own, plan.TargetPath) || reusables.Any(r => TorrentRelocator.SamePath(r.FullName, own)))
                    block($"the copy at '{own}' has the root name of '{row.FullName}' but names its files otherwise: its names are never changed, so that torrent's own layout cannot go there");
                else if (trees.TryGetValue(own, out var treeHash))
                {
                    // Another root of the plan with this name: the same layout shares its tree, another cannot.
                    if (treeHash == row.PayloadHash)
                        layout = "linked";
                    else
                        block($"'{row.FullName}' and another root of this payload would both be laid out at '{own}' with different file names");
                }
                else if (FileSystemApi.TryLstat(own, out _) == 0)
                    block($"'{own}' already exists on the target and is not a catalogued copy of this payload: '{name}' cannot be laid out there");
                else if (!Claim(own))
                    block($"another payload of this run already goes to '{own}'");
                else
                {
                    layout = "linked";
                    trees[own] = row.PayloadHash;
                    var links = LinksFor(row, own, copyFiles, plan.TargetPath, block);
                    plan.Links.AddRange(links);
                    plan.Reasons.Add($"'{name}' is laid out at '{own}' as {links.Count} hard link(s) to the copy at '{plan.TargetPath}' (no bytes copied; the copy's names are kept)");
                }
                foreach (var t in torrents)
                {
                    t.TargetPath = own;
                    t.Layout = layout;
                }
            }
        }

        /// <summary>The links that give the payload at <paramref name="row"/> its own tree at <paramref name="own"/>, from the copy's files.</summary>
        private List<RehomeLink> LinksFor(HashallPayload row, string own, List<(string Within, long Size, string? Sha1)> copyFiles, string copyRoot, Action<string> block)
        {
            var links = new List<RehomeLink>();
            var files = CatalogFiles(row.FullName);
            // Files under the root that are not the torrent's (the user's own): only those the copy has too count.
            if (files.Count != row.FileCount)
                files = files.Where(f => copyFiles.Any(c => c.Size == f.Size && c.Sha1 == f.Sha1)).ToList();
            if (files.Count != row.FileCount || files.Sum(f => f.Size) != row.TotalBytes)
            {
                block($"the files under '{row.FullName}' cannot be told apart from other files there ({files.Count} match the copy, the torrent has {row.FileCount}): move the extra files out, scan, and plan again");
                return links;
            }
            foreach (var f in files)
            {
                var match = copyFiles.FirstOrDefault(c => c.Within == f.Within && c.Size == f.Size && c.Sha1 == f.Sha1);
                if (match.Sha1 == null)
                    match = copyFiles.FirstOrDefault(c => c.Size == f.Size && c.Sha1 == f.Sha1);
                if (match.Sha1 == null)
                {
                    block($"the copy at '{copyRoot}' has no file with the size and SHA-1 of '{PathText.Join(row.FullName, f.Within)}'");
                    continue;
                }
                links.Add(new RehomeLink { Path = PathText.Join(own, f.Within), LinkTo = PathText.Join(copyRoot, match.Within), Size = f.Size });
            }
            return links;
        }

        /// <summary>The catalogued files at or under a payload root: path inside the root ("" for a single-file root), size, SHA-1.</summary>
        private List<(string Within, long Size, string? Sha1)> CatalogFiles(string root)
        {
            var scope = _query.ScopeOf(root, _locator);
            if (scope == null)
                return new List<(string, long, string?)>();
            return _query.Files(new[] { scope }, Array.Empty<string>(), includeDeleted: false)
                .Select(f => (TorrentRelocator.SamePath(f.FullName, root) ? "" : PathText.RelativeTo(f.FullName, root), f.Size, f.Sha1))
                .ToList();
        }

        private void FindExternalLinks(RehomePlan plan, HashallPayload payload, RehomeOptions options)
        {
            var reasons = LinkProblems(payload, options.SeedingRoots, plan.ExternalLinks);
            if (reasons.Count > 0)
            {
                plan.Decision = RehomeDecision.Block;
                plan.Reasons.AddRange(reasons);
            }
        }

        /// <summary>
        /// Why the payload's files cannot leave: every hard link outside all seeding roots (added to
        /// <paramref name="externalLinks"/>), and links on disk now that the catalog does not know.
        /// Empty when none. Used when planning and again just before executing.
        /// </summary>
        public List<string> LinkProblems(HashallPayload payload, IList<string> seedingRoots, List<string> externalLinks)
        {
            var reasons = new List<string>();
            var scope = _query.ScopeOf(payload.FullName, _locator);
            if (scope == null)
                return reasons;
            foreach (var file in _query.Files(new[] { scope }, Array.Empty<string>(), includeDeleted: false))
            {
                var links = _files.ActiveByInode(file.DeviceId, file.Inode);
                foreach (var link in links)
                {
                    string full = PathText.UnderMount(scope.Device.MountPoint, scope.Device.MountRoot, link.Path) ?? link.Path;
                    // The payload's own names (the file itself, links between its files) move with it: not consumers.
                    if (PathText.IsUnder(full, payload.FullName))
                        continue;
                    if (!seedingRoots.Any(r => PathText.IsUnder(full, r)) && !externalLinks.Contains(full))
                    {
                        externalLinks.Add(full);
                        reasons.Add($"external consumer: '{full}' is a hard link of '{file.FullName}' outside every seeding root");
                    }
                }
                // The link count on disk now, not the scan's: a library import since then adds a link.
                long linkCount = FileSystemApi.TryLstat(file.FullName, out var now) == 0 && unchecked((long)now.Inode) == file.Inode ? now.LinkCount : file.LinkCount;
                if (linkCount > links.Count)
                    reasons.Add($"'{file.FullName}' has {linkCount - links.Count} hard link(s) the catalog does not know: scan where they may be (a media library) before rehoming");
            }
            return reasons;
        }

        private static string ExpandLayout(string layout, HashallTorrent t) =>
            layout.Replace("{category}", t.Category).Replace("{tag}", t.Tags.FirstOrDefault() ?? "").Replace("{name}", t.Name)
                .Replace("//", "/").Trim('/');
    }
}
