using System;
using System.Collections.Generic;
using System.Linq;
using Hashall.Core.Catalog;
using Hashall.Core.Devices;
using Hashall.Core.Platform;
using Microsoft.Data.Sqlite;

namespace Hashall.Core.Linking
{
    /// <summary>
    /// Builds a link plan from the catalog's duplicate groups (same size and full SHA-1, distinct inodes,
    /// one device). Per group the canonical inode is chosen by <see cref="Rules"/> (by default the one
    /// with the most links, then the oldest mtime, then the shortest path, then the first path in
    /// ordinal order); every other inode not protected becomes one action that replaces each of its
    /// paths by a link of the canonical file.
    /// Groups are streamed from the catalog and actions decided one group at a time: a plan is either
    /// counted (<see cref="Preview"/>) or written to the catalog as it is decided (<see cref="Store"/>),
    /// never held whole in memory.
    /// </summary>
    public sealed class LinkPlanner
    {
        private readonly CatalogDatabase _db;

        public LinkPlanner(CatalogDatabase db) => _db = db;

        /// <summary>
        /// Plan paths that Undo-HashallLinkPlan gave their own copy back too. Off by default: an undo says
        /// the user wants those paths separate, and a nightly plan must not link them again.
        /// </summary>
        public bool IncludeUndone { get; set; }

        /// <summary>Which copy of a group is kept and which are never replaced (see <see cref="KeepRules"/>).</summary>
        public KeepRules Rules { get; set; } = KeepRules.Default;

        /// <summary>The plan as <see cref="Store"/> would write it (counts, status preview, no actions); the catalog is only read.</summary>
        public LinkPlan Preview(HashallDevice device, string scope, long minimumSize, string? name, LinkMethod method = LinkMethod.HardLink)
        {
            var plan = NewPlan(device, scope, minimumSize, name, "preview");
            plan.Method = method;
            foreach (var action in Actions(new FileQuery(_db), device.DeviceId, scope, minimumSize, method))
                Count(plan, action);
            plan.LeftOut = CountWithoutFullHash(null, device.DeviceId, scope, minimumSize);
            return plan;
        }

        /// <summary>
        /// Plans and stores the plan in one transaction, each action written as its group is read (a
        /// plan is stored whole or not at all). Returns the stored plan without its actions, or, when
        /// there is nothing to link, the empty preview (PlanId 0): nothing is stored then.
        /// </summary>
        public LinkPlan Store(HashallDevice device, string scope, long minimumSize, string? name, LinkMethod method = LinkMethod.HardLink)
        {
            var query = new FileQuery(_db);
            var plan = NewPlan(device, scope, minimumSize, name, "preview");
            plan.Method = method;
            var store = new LinkPlanStore(_db);
            long planId = _db.Write(tx =>
            {
                query.Transaction = tx;
                try
                {
                    plan.LeftOut = CountWithoutFullHash(tx, device.DeviceId, scope, minimumSize);
                    return store.Insert(tx, plan, Actions(query, device.DeviceId, scope, minimumSize, method).Select(a => Count(plan, a)));
                }
                finally
                {
                    query.Transaction = null;
                }
            });
            return planId == 0 ? plan : store.Find(planId, withActions: false)!;
        }

        /// <summary>The actions of a plan in execution order (largest files first), decided group by group as the catalog streams them.</summary>
        public IEnumerable<LinkAction> Actions(HashallDevice device, string scope, long minimumSize, LinkMethod method = LinkMethod.HardLink) =>
            Actions(new FileQuery(_db), device.DeviceId, scope, minimumSize, method);

        private IEnumerable<LinkAction> Actions(FileQuery query, long deviceId, string scope, long minimumSize, LinkMethod method)
        {
            var device = query.Devices.FirstOrDefault(d => d.DeviceId == deviceId);
            string Full(string relative) => device == null ? relative : PathText.UnderMount(device.MountPoint, device.MountRoot, relative) ?? relative;
            var undone = IncludeUndone ? new HashSet<string>(StringComparer.Ordinal) : UndonePaths(query.Transaction, deviceId);
            foreach (var (group, sharing) in query.DuplicateRowsWithClones(deviceId, minimumSize))
            {
                var files = scope.Length == 0 ? group : group.Where(f => InScope(f.Path, scope)).ToList();
                // Paths an undo gave their own copy back are left out whole (neither replaced nor made a
                // canonical file that others link to), unless -IncludeUndone.
                if (undone.Count > 0)
                    files = files.Where(f => !undone.Contains(f.Path)).ToList();
                var inodes = Rules.Rank(files.GroupBy(f => f.Inode).Select(g => g.OrderBy(f => f.Path, StringComparer.Ordinal).ToList()), Full);
                if (inodes.Count < 2)
                    continue;
                var canonical = inodes[0][0];
                string canonicalFull = Full(canonical.Path);
                foreach (var duplicate in inodes.Skip(1))
                {
                    if (Rules.IsProtected(duplicate, Full))
                        continue; // -ProtectPath: never replaced, stays a separate copy
                    // Blocks already shared with the canonical file by a block clone: nothing to free.
                    bool cloned = sharing.Shared(duplicate[0].Inode, canonical.Inode);
                    if (cloned && method == LinkMethod.Clone)
                        continue;
                    // The inode's data is freed only when its last link goes: links outside the catalog keep
                    // it. A clone frees the duplicate's blocks whatever its links.
                    long links = method == LinkMethod.Clone ? 0 : duplicate.Max(f => f.LinkCount);
                    var action = new LinkAction
                    {
                        Sha1 = canonical.Sha1!,
                        Size = canonical.Size,
                        CanonicalFileId = canonical.FileId,
                        CanonicalPath = canonical.Path,
                        Canonical = canonicalFull,
                        CanonicalInode = canonical.Inode,
                        CanonicalMtimeNs = canonical.MtimeNs,
                        DuplicateInode = duplicate[0].Inode,
                        DuplicateMtimeNs = duplicate[0].MtimeNs,
                        Method = method,
                        BytesSaved = links <= duplicate.Count && !cloned ? canonical.Size : 0,
                        Reason = cloned ? "its blocks are already the canonical file's (a block clone): linking frees nothing"
                            : links <= duplicate.Count ? null : $"{links - duplicate.Count} link(s) of this inode are not in the catalog: linking frees nothing until they go too",
                        Database = _db.Path,
                    };
                    foreach (var f in duplicate)
                        action.Paths.Add(new LinkActionPath { FileId = f.FileId, Path = f.Path, FullName = Full(f.Path) });
                    yield return action;
                }
            }
        }

        private LinkPlan NewPlan(HashallDevice device, string scope, long minimumSize, string? name, string status) => new LinkPlan
        {
            Name = name,
            DeviceId = device.DeviceId,
            Device = device.Alias ?? device.MountPoint,
            Scope = scope,
            MinimumSize = minimumSize,
            Status = status,
            CreatedAt = DateTime.UtcNow,
            Database = _db.Path,
        };

        private static LinkAction Count(LinkPlan plan, LinkAction action)
        {
            plan.ActionCount++;
            plan.PathCount += action.Paths.Count;
            plan.Pending += action.Paths.Count;
            plan.BytesPlanned += action.BytesSaved;
            return action;
        }

        private static bool InScope(string path, string scope) =>
            scope.Length == 0 || path == scope || path.StartsWith(scope + "/", StringComparison.Ordinal);

        /// <summary>
        /// Paths of the device that an undo gave their own copy back (relative to the filesystem's root).
        /// Only plans an undo worked on are read (undone_at, stamped when an undo run takes the plan, before
        /// it records any path): a device whose plans were never undone costs no read of their paths.
        /// </summary>
        private HashSet<string> UndonePaths(SqliteTransaction? tx, long deviceId)
        {
            var paths = new HashSet<string>(StringComparer.Ordinal);
            using var command = _db.Command("SELECT DISTINCT x.path FROM link_plans p JOIN link_actions a ON a.plan_id = p.plan_id "
                + "JOIN link_action_paths x ON x.action_id = a.action_id WHERE p.device_id = $d AND p.undone_at IS NOT NULL AND x.undo_status = 'undone';", tx);
            command.Parameters.AddWithValue("$d", deviceId);
            using var reader = command.ExecuteReader();
            while (reader.Read())
                paths.Add(reader.GetString(0));
            return paths;
        }

        private long CountWithoutFullHash(SqliteTransaction? tx, long deviceId, string scope, long minimumSize)
        {
            using var command = _db.Command("SELECT count(*) FROM files WHERE device_id = $d AND status = 'active' AND sha1 IS NULL AND size >= $min"
                + FileStore.PrefixClause(scope) + ";", tx);
            command.Parameters.AddWithValue("$d", deviceId);
            command.Parameters.AddWithValue("$min", minimumSize);
            FileStore.AddPrefixParameters(command, scope);
            return (long)command.ExecuteScalar()!;
        }
    }
}
