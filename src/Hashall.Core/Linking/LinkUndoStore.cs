using System;
using Hashall.Core.Catalog;
using Hashall.Core.Platform;

namespace Hashall.Core.Linking
{
    /// <summary>What undo needs from the catalog: each linked path's original metadata, undo outcomes, the end of an undo run.</summary>
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

        /// <summary>Stamps the plan's undo time as an undo run takes it (before it records any path undone).</summary>
        public static void Stamp(CatalogDatabase db, long planId, string owner) =>
            db.Write(tx =>
            {
                using var c = db.Command("UPDATE link_plans SET undone_at = $now WHERE plan_id = $id AND lock_owner = $owner;", tx);
                c.Parameters.AddWithValue("$now", CatalogTime.Format(DateTime.UtcNow));
                c.Parameters.AddWithValue("$id", planId);
                c.Parameters.AddWithValue("$owner", owner);
                return c.ExecuteNonQuery();
            });

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

    }
}
