using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.Linq;
using Hashall.Core.Catalog;
using Hashall.Core.Platform;
using Microsoft.Data.Sqlite;

namespace Hashall.Core.Linking
{
    /// <summary>Link plans in the catalog: saving, listing with their progress, loading actions, recording outcomes, the execution lease.</summary>
    public sealed class LinkPlanStore
    {
        /// <summary>Plans with their progress: all of them, or (<paramref name="one"/>) the plan of id $id.</summary>
        private static string SelectPlans(bool one) => @"
SELECT p.plan_id, p.name, p.device_id, coalesce(d.alias, d.mount_point), p.scope, p.minimum_size, p.left_out, p.created_at, p.executed_at,
       p.lock_owner, p.lock_expires_at,
       (SELECT count(*) FROM link_actions a WHERE a.plan_id = p.plan_id),
       (SELECT coalesce(sum(a.bytes_saved), 0) FROM link_actions a WHERE a.plan_id = p.plan_id),
       (SELECT coalesce(sum(a.bytes_reclaimed), 0) FROM link_actions a WHERE a.plan_id = p.plan_id),
       coalesce(x.linked, 0), coalesce(x.skipped, 0), coalesce(x.failed, 0), coalesce(x.pending, 0), coalesce(x.undone, 0), p.undone_at, p.method
FROM link_plans p JOIN devices d ON d.device_id = p.device_id
-- every path of a plan counted in one pass (a plan of a million paths was read four times)
LEFT JOIN (SELECT a.plan_id, sum(x.status = 'linked') AS linked, sum(x.status = 'skipped') AS skipped,
                  sum(x.status = 'failed') AS failed, sum(x.status = 'pending') AS pending, sum(x.undo_status = 'undone') AS undone
           FROM link_action_paths x JOIN link_actions a ON a.action_id = x.action_id" + (one ? " WHERE a.plan_id = $id" : "") + @"
           GROUP BY a.plan_id) x ON x.plan_id = p.plan_id" + (one ? " WHERE p.plan_id = $id" : "");

        private readonly CatalogDatabase _db;

        public LinkPlanStore(CatalogDatabase db) => _db = db;

        /// <summary>
        /// Writes a plan and its actions, in the caller's transaction, as <paramref name="actions"/>
        /// yields them (nothing of the plan is held). The plan's row is written with its first action:
        /// no actions, nothing written, and 0 is returned; else the new plan's id.
        /// </summary>
        public long Insert(SqliteTransaction tx, LinkPlan plan, IEnumerable<LinkAction> actions)
        {
            long planId = 0;
            using var insertPlan = _db.Command(@"INSERT INTO link_plans (name, device_id, scope, minimum_size, left_out, created_at, method)
VALUES ($name, $device, $scope, $min, $left, $created, $method); SELECT last_insert_rowid();", tx);
            using var insertAction = _db.Command(@"INSERT INTO link_actions (plan_id, sha1, size, canonical_file_id, canonical_path, canonical_inode,
    canonical_mtime_ns, duplicate_inode, duplicate_mtime_ns, bytes_saved, reason)
VALUES ($plan, $sha1, $size, $cfile, $cpath, $cinode, $cmtime, $dinode, $dmtime, $saved, $reason); SELECT last_insert_rowid();", tx);
            var ap = new[] { "$plan", "$sha1", "$size", "$cfile", "$cpath", "$cinode", "$cmtime", "$dinode", "$dmtime", "$saved", "$reason" }
                .Select(n => insertAction.Parameters.Add(n, n == "$sha1" || n == "$cpath" || n == "$reason" ? SqliteType.Text : SqliteType.Integer)).ToArray();
            using var insertPath = _db.Command("INSERT INTO link_action_paths (action_id, file_id, path) VALUES ($action, $file, $path);", tx);
            var pathAction = insertPath.Parameters.Add("$action", SqliteType.Integer);
            var pathFile = insertPath.Parameters.Add("$file", SqliteType.Integer);
            var pathPath = insertPath.Parameters.Add("$path", SqliteType.Text);
            foreach (var a in actions)
            {
                if (planId == 0)
                {
                    insertPlan.Parameters.AddWithValue("$name", (object?)plan.Name ?? DBNull.Value);
                    insertPlan.Parameters.AddWithValue("$device", plan.DeviceId);
                    insertPlan.Parameters.AddWithValue("$scope", plan.Scope);
                    insertPlan.Parameters.AddWithValue("$min", plan.MinimumSize);
                    insertPlan.Parameters.AddWithValue("$left", plan.LeftOut);
                    insertPlan.Parameters.AddWithValue("$created", CatalogTime.Format(plan.CreatedAt));
                    insertPlan.Parameters.AddWithValue("$method", plan.Method.ToString());
                    planId = (long)insertPlan.ExecuteScalar()!;
                    ap[0].Value = planId;
                }
                ap[1].Value = a.Sha1;
                ap[2].Value = a.Size;
                ap[3].Value = a.CanonicalFileId;
                ap[4].Value = a.CanonicalPath;
                ap[5].Value = a.CanonicalInode;
                ap[6].Value = a.CanonicalMtimeNs;
                ap[7].Value = a.DuplicateInode;
                ap[8].Value = a.DuplicateMtimeNs;
                ap[9].Value = a.BytesSaved;
                ap[10].Value = (object?)a.Reason ?? DBNull.Value;
                long actionId = (long)insertAction.ExecuteScalar()!;
                pathAction.Value = actionId;
                foreach (var p in a.Paths)
                {
                    pathFile.Value = p.FileId;
                    pathPath.Value = p.Path;
                    insertPath.ExecuteNonQuery();
                }
            }
            return planId;
        }

        /// <summary>Removes a plan with its actions and paths (in one transaction).</summary>
        public void Delete(long planId) =>
            _db.Write(tx =>
            {
                using var c = _db.Command("DELETE FROM link_plans WHERE plan_id = $id;", tx);
                c.Parameters.AddWithValue("$id", planId);
                return c.ExecuteNonQuery();
            });

        public IReadOnlyList<LinkPlan> List() => QueryPlans(SelectPlans(false) + " ORDER BY p.plan_id;", null);

        public LinkPlan? Find(long planId, bool withActions)
        {
            var plans = QueryPlans(SelectPlans(true) + ";", planId);
            if (plans.Count == 0)
                return null;
            if (withActions)
                plans[0].Actions = Actions(plans[0]);
            return plans[0];
        }

        /// <summary>The plan's actions with their paths, in execution order.</summary>
        public List<LinkAction> Actions(LinkPlan plan) => StreamActions(plan).ToList();

        /// <summary>
        /// The plan's actions with their paths, in execution order, streamed: one ordered read of the
        /// actions joined to their paths (by ix_link_actions_plan and the paths' key), one action in memory.
        /// </summary>
        public IEnumerable<LinkAction> StreamActions(LinkPlan plan)
        {
            var device = new Devices.DeviceStore(_db).FindById(plan.DeviceId);
            string Full(string relative) => device == null ? relative : PathText.UnderMount(device.MountPoint, device.MountRoot, relative) ?? relative;
            using var c = _db.Command(ActionsSql);
            c.Parameters.AddWithValue("$id", plan.PlanId);
            SqliteDataReader r;
            try { r = c.ExecuteReader(); }
            catch (SqliteException e) { throw CatalogDatabase.Translate(e, _db.Path); }
            using (r)
            {
                LinkAction? a = null;
                while (true)
                {
                    bool more;
                    try { more = r.Read(); }
                    catch (SqliteException e) { throw CatalogDatabase.Translate(e, _db.Path); }
                    if (!more)
                        break;
                    long actionId = r.GetInt64(0);
                    if (a != null && a.ActionId != actionId)
                    {
                        yield return a;
                        a = null;
                    }
                    a ??= new LinkAction
                    {
                        ActionId = actionId, LinkPlanId = plan.PlanId, Method = plan.Method, Sha1 = r.GetString(1), Size = r.GetInt64(2),
                        CanonicalFileId = r.GetInt64(3), CanonicalPath = r.GetString(4), Canonical = Full(r.GetString(4)),
                        CanonicalInode = r.GetInt64(5), CanonicalMtimeNs = r.GetInt64(6), DuplicateInode = r.GetInt64(7),
                        DuplicateMtimeNs = r.GetInt64(8), BytesSaved = r.GetInt64(9), Status = r.GetString(10),
                        Reason = r.IsDBNull(11) ? null : r.GetString(11), BytesReclaimed = r.GetInt64(12), Database = _db.Path,
                    };
                    if (!r.IsDBNull(13))
                        a.Paths.Add(new LinkActionPath
                        {
                            FileId = r.GetInt64(13), Path = r.GetString(14), FullName = Full(r.GetString(14)),
                            Status = r.GetString(15), Reason = r.IsDBNull(16) ? null : r.GetString(16),
                            UndoStatus = r.IsDBNull(17) ? null : r.GetString(17), UndoReason = r.IsDBNull(18) ? null : r.GetString(18),
                            OriginalUid = r.IsDBNull(19) ? (uint?)null : (uint)r.GetInt64(19), OriginalGid = r.IsDBNull(20) ? (uint?)null : (uint)r.GetInt64(20),
                            OriginalMode = r.IsDBNull(21) ? (int?)null : (int)r.GetInt64(21), OriginalMtimeNs = r.IsDBNull(22) ? (long?)null : r.GetInt64(22),
                        });
                }
                if (a != null)
                    yield return a;
            }
        }

        /// <summary>A plan's actions and their paths in execution order (action id, then path), by index: no sort.</summary>
        internal const string ActionsSql = @"SELECT a.action_id, a.sha1, a.size, a.canonical_file_id, a.canonical_path, a.canonical_inode, a.canonical_mtime_ns,
    a.duplicate_inode, a.duplicate_mtime_ns, a.bytes_saved, a.status, a.reason, a.bytes_reclaimed, x.file_id, x.path, x.status, x.reason,
    x.undo_status, x.undo_reason, x.uid, x.gid, x.mode, x.mtime_ns
FROM link_actions a LEFT JOIN link_action_paths x ON x.action_id = a.action_id
WHERE a.plan_id = $id ORDER BY a.action_id, x.path;";

        /// <summary>This process's lease owner name.</summary>
        public static string NewOwner() => Lease.NewOwner();

        /// <summary>
        /// Takes the plan's execution lease, unless another run holds a live one. A lease whose holder is
        /// a dead process on this host, or that has expired, is taken over.
        /// </summary>
        public void Acquire(long planId, string owner)
        {
            // Checked first without the write lock, which a running execution holds between its commits.
            RefuseIfHeld(planId, null);
            _db.Write(tx =>
            {
                RefuseIfHeld(planId, tx);
                using var take = _db.Command("UPDATE link_plans SET lock_owner = $owner, lock_expires_at = $expires WHERE plan_id = $id;", tx);
                take.Parameters.AddWithValue("$owner", owner);
                take.Parameters.AddWithValue("$expires", CatalogTime.Format(DateTime.UtcNow + Lease.Length));
                take.Parameters.AddWithValue("$id", planId);
                return take.ExecuteNonQuery();
            });
        }

        private void RefuseIfHeld(long planId, SqliteTransaction? tx)
        {
            using var read = _db.Command("SELECT lock_owner, lock_expires_at FROM link_plans WHERE plan_id = $id;", tx);
            read.Parameters.AddWithValue("$id", planId);
            using var r = read.ExecuteReader();
            if (!r.Read() || r.IsDBNull(0))
                return;
            string holder = r.GetString(0);
            var expires = CatalogTime.Parse(r.GetString(1));
            if (Lease.IsLive(holder, r.GetString(1)))
                throw new HashallException("LinkPlanBusy", HashallErrorKind.ResourceBusy,
                    $"Link plan {planId} is being executed by another run ({holder}, lease until {expires:u}); it was not started twice.", planId);
        }

        /// <summary>Extends this run's lease; a lease taken over meanwhile stops the run.</summary>
        public void Renew(long planId, string owner)
        {
            if (SetLease(planId, owner, CatalogTime.Format(DateTime.UtcNow + Lease.Length)) == 0)
                throw new HashallException("LinkPlanLeaseLost", HashallErrorKind.ResourceBusy,
                    $"Link plan {planId} was taken over by another run while this one executed it; this run stopped. Its links so far are recorded.", planId);
        }

        public void Release(long planId, string owner)
        {
            _db.Write(tx =>
            {
                using var c = _db.Command(@"UPDATE link_plans SET lock_owner = NULL, lock_expires_at = NULL, executed_at = $now
WHERE plan_id = $id AND lock_owner = $owner;", tx);
                c.Parameters.AddWithValue("$now", CatalogTime.Format(DateTime.UtcNow));
                c.Parameters.AddWithValue("$id", planId);
                c.Parameters.AddWithValue("$owner", owner);
                return c.ExecuteNonQuery();
            });
        }

        /// <summary>Records one path's outcome in the batch.</summary>
        public void Record(WriteBatch batch, LinkAction action, LinkActionPath path) =>
            batch.Run("UPDATE link_action_paths SET status = $status, reason = $reason WHERE action_id = $action AND path = $path;",
                ("$status", path.Status), ("$reason", path.Reason), ("$action", action.ActionId), ("$path", path.Path));

        public void RecordAction(WriteBatch batch, LinkAction action) =>
            batch.Run(@"UPDATE link_actions SET status = $status, reason = $reason, bytes_reclaimed = $reclaimed, executed_at = $now
WHERE action_id = $id;",
                ("$status", action.Status), ("$reason", action.Reason), ("$reclaimed", action.BytesReclaimed),
                ("$now", CatalogTime.Format(DateTime.UtcNow)), ("$id", action.ActionId));

        /// <summary>After a path became a link: its row takes the canonical inode, and both inodes' link counts follow.</summary>
        public void FileLinked(WriteBatch batch, long deviceId, long fileId, FileStatus canonicalNow, long duplicateInode, long? duplicateLinksLeft)
        {
            FileNow(batch, fileId, canonicalNow);
            // New link counts come with new ctimes: record the canonical's (just read), forget the
            // duplicate's (unknown; the next scan records it), so a scan does not take the link for a rewrite.
            InodeLinks(batch, deviceId, unchecked((long)canonicalNow.Inode), canonicalNow.LinkCount, canonicalNow.CtimeNs);
            if (duplicateLinksLeft != null)
                InodeLinks(batch, deviceId, duplicateInode, duplicateLinksLeft.Value, ctimeNs: null);
        }

        /// <summary>A path's catalog row after link or undo changed its inode: it takes <paramref name="now"/> (inode, size, mtime, links, ctime).</summary>
        internal static void FileNow(WriteBatch batch, long fileId, FileStatus now) =>
            batch.Run("UPDATE files SET inode = $inode, size = $size, mtime_ns = $mtime, link_count = $links, ctime_ns = $ctime, status = 'active' WHERE file_id = $id;",
                ("$inode", unchecked((long)now.Inode)), ("$size", now.Size), ("$mtime", now.MtimeNs), ("$links", now.LinkCount),
                ("$ctime", now.CtimeNs), ("$id", fileId));

        /// <summary>The rows of one inode after it gained or lost a link: its new link count, and its ctime (null: unknown, the next scan records it).</summary>
        internal static void InodeLinks(WriteBatch batch, long deviceId, long inode, long links, long? ctimeNs) =>
            batch.Run("UPDATE files INDEXED BY ix_files_inode SET link_count = $links, ctime_ns = $ctime WHERE device_id = $d AND inode = $inode AND status = 'active';",
                ("$links", links), ("$ctime", ctimeNs), ("$d", deviceId), ("$inode", inode));

        private int SetLease(long planId, string owner, string expires)
        {
            return _db.Write(tx =>
            {
                using var c = _db.Command("UPDATE link_plans SET lock_expires_at = $expires WHERE plan_id = $id AND lock_owner = $owner;", tx);
                c.Parameters.AddWithValue("$expires", expires);
                c.Parameters.AddWithValue("$id", planId);
                c.Parameters.AddWithValue("$owner", owner);
                return c.ExecuteNonQuery();
            });
        }

        private List<LinkPlan> QueryPlans(string sql, object? parameter)
        {
            var plans = new List<LinkPlan>();
            using var c = _db.Command(sql);
            if (parameter != null)
                c.Parameters.AddWithValue("$id", parameter);
            try
            {
                using var r = c.ExecuteReader();
                while (r.Read())
                {
                    var plan = new LinkPlan
                    {
                        PlanId = r.GetInt64(0), Name = r.IsDBNull(1) ? null : r.GetString(1), DeviceId = r.GetInt64(2), Device = r.GetString(3),
                        Scope = r.GetString(4), MinimumSize = r.GetInt64(5), LeftOut = r.GetInt64(6), CreatedAt = CatalogTime.Parse(r.GetString(7)),
                        ExecutedAt = r.IsDBNull(8) ? (DateTime?)null : CatalogTime.Parse(r.GetString(8)),
                        ActionCount = (int)r.GetInt64(11), BytesPlanned = r.GetInt64(12), BytesReclaimed = r.GetInt64(13),
                        Linked = (int)r.GetInt64(14), Skipped = (int)r.GetInt64(15), Failed = (int)r.GetInt64(16), Pending = (int)r.GetInt64(17),
                        Method = (LinkMethod)Enum.Parse(typeof(LinkMethod), r.GetString(20)),
                        Database = _db.Path,
                    };
                    plan.PathCount = plan.Linked + plan.Skipped + plan.Failed + plan.Pending;
                    bool running = !r.IsDBNull(9) && Lease.IsLive(r.GetString(9), r.GetString(10));
                    plan.Undone = (int)r.GetInt64(18);
                    plan.UndoneAt = r.IsDBNull(19) ? (DateTime?)null : CatalogTime.Parse(r.GetString(19));
                    plan.Status = running ? "running"
                        : plan.Undone > 0 ? (plan.Undone == plan.Linked ? "undone" : "partially-undone")
                        : plan.Pending == plan.PathCount && plan.ExecutedAt == null ? "pending"
                        : plan.Pending > 0 ? "incomplete"
                        : plan.Skipped + plan.Failed > 0 ? "partial" : "done";
                    plans.Add(plan);
                }
            }
            catch (SqliteException e)
            {
                throw CatalogDatabase.Translate(e, _db.Path);
            }
            return plans;
        }
    }
}
