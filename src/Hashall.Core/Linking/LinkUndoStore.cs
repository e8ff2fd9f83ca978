using System;
using Hashall.Core.Catalog;
using Hashall.Core.Platform;

namespace Hashall.Core.Linking
{
    /// <summary>What undo needs from the catalog: each linked path's original metadata, undo outcomes, the plan's method.</summary>
    internal static class LinkUndoStore
    {
        /// <summary>Records what a path was (owner, group, permissions, mtime) just before it is replaced by a link.</summary>
        public static void RecordOriginal(WriteBatch batch, LinkAction action, LinkActionPath path, FileStatus before) =>
            batch.Run("UPDATE link_action_paths SET uid = $uid, gid = $gid, mode = $mode, mtime_ns = $mtime WHERE action_id = $action AND path = $path;",
                ("$uid", (long)before.Uid), ("$gid", (long)before.Gid), ("$mode", (long)before.Permissions), ("$mtime", before.MtimeNs),
                ("$action", action.ActionId), ("$path", path.Path));

        /// <summary>Records one path's undo outcome.</summary>
        public static void RecordUndo(WriteBatch batch, LinkAction action, LinkActionPath path) =>
            batch.Run("UPDATE link_action_paths SET undo_status = $status, undo_reason = $reason WHERE action_id = $action AND path = $path;",
                ("$status", path.UndoStatus), ("$reason", path.UndoReason), ("$action", action.ActionId), ("$path", path.Path));

        /// <summary>After a path got its own inode back: its row takes the new inode, and the canonical inode's rows their new link count.</summary>
        public static void FileUnlinked(WriteBatch batch, long deviceId, long fileId, FileStatus copy, long canonicalInode, long canonicalLinksLeft)
        {
            batch.Run("UPDATE files SET inode = $inode, size = $size, mtime_ns = $mtime, link_count = $links, ctime_ns = $ctime, status = 'active' WHERE file_id = $id;",
                ("$inode", unchecked((long)copy.Inode)), ("$size", copy.Size), ("$mtime", copy.MtimeNs), ("$links", copy.LinkCount),
                ("$ctime", copy.CtimeNs), ("$id", fileId));
            // The canonical inode lost a link (its ctime moved: forgotten, the next scan records it).
            batch.Run("UPDATE files INDEXED BY ix_files_inode SET link_count = $links, ctime_ns = NULL WHERE device_id = $d AND inode = $inode AND status = 'active';",
                ("$links", canonicalLinksLeft), ("$d", deviceId), ("$inode", canonicalInode));
        }

        /// <summary>Ends an undo run's lease and stamps the plan's undo time (its execution time stays).</summary>
        public static void Release(CatalogDatabase db, long planId, string owner, bool changed) =>
            db.Write(tx =>
            {
                using var c = db.Command(@"UPDATE link_plans SET lock_owner = NULL, lock_expires_at = NULL,
    undone_at = CASE WHEN $changed THEN $now ELSE undone_at END WHERE plan_id = $id AND lock_owner = $owner;", tx);
                c.Parameters.AddWithValue("$changed", changed ? 1 : 0);
                c.Parameters.AddWithValue("$now", CatalogTime.Format(DateTime.UtcNow));
                c.Parameters.AddWithValue("$id", planId);
                c.Parameters.AddWithValue("$owner", owner);
                return c.ExecuteNonQuery();
            });

        /// <summary>The plan's link method (link_plans.method, migration 11; HardLink for plans made before it).</summary>
        public static string MethodOf(CatalogDatabase db, long planId)
        {
            using var c = db.Command("SELECT method FROM link_plans WHERE plan_id = $id;");
            c.Parameters.AddWithValue("$id", planId);
            return c.ExecuteScalar() is string method && method.Length > 0 ? method : "HardLink";
        }
    }
}
