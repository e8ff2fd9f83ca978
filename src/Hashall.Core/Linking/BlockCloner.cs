using System;
using System.Collections.Generic;
using System.Linq;
using Hashall.Core.Catalog;
using Hashall.Core.Platform;

namespace Hashall.Core.Linking
{
    public sealed partial class LinkExecutor
    {
        private sealed partial class ActionRun
        {
            /// <summary>
            /// A Clone plan's action: the duplicate inode's blocks become the canonical file's by
            /// FIDEDUPERANGE, chunk by chunk, the kernel comparing each chunk before it shares it. Every
            /// path of the inode keeps its inode, owner, mode and times. The bytes reclaimed are what
            /// FIEMAP shows: the duplicate's unshared bytes before less after.
            /// </summary>
            private void CloneInode(FileStatus cst)
            {
                var ready = new List<LinkActionPath>();
                foreach (var path in _action.Paths.Where(p => p.Status == "pending").ToList())
                {
                    int error = FileSystemApi.TryLstat(path.FullName, out var st);
                    if (error == HardLinks.ENOENT)
                        Outcome(path, "skipped", "vanished since the plan was made");
                    else if (error != 0)
                        Outcome(path, "failed", HardLinks.Describe(error));
                    else if (st.DeviceNumber != cst.DeviceNumber)
                        Outcome(path, "skipped", "on another device than the canonical file: blocks are shared within one filesystem only");
                    else if (st.Inode == cst.Inode)
                        Cloned(path, "already a hard link of the canonical file");
                    else if ((long)st.Inode != _action.DuplicateInode || st.Kind != FileKind.Regular || st.Size != _action.Size || st.MtimeNs != _action.DuplicateMtimeNs)
                        Outcome(path, "skipped", "changed since the scan (size, mtime or inode): scan again and make a new plan");
                    else
                        ready.Add(path);
                }
                if (ready.Count == 0)
                    return;

                var (status, reason, reclaimed, after) = Share(ready[0].FullName);
                if (status == null)
                    return; // stopped (Ctrl+C): the action stays pending, the next run does it again
                foreach (var path in ready)
                {
                    if (status == "linked")
                        Cloned(path, null);
                    else
                        Outcome(path, status, reason!);
                }
                if (status != "linked")
                    return;
                _action.BytesReclaimed += reclaimed;
                _result.BytesReclaimed += reclaimed;
                CloneRecords.Recorded(_batch, _device.DeviceId, _action, after);
            }

            private void Cloned(LinkActionPath path, string? reason)
            {
                path.Status = "linked";
                path.Reason = reason;
                _x._store.Record(_batch, _action, path);
                Count(path);
            }

            /// <summary>Shares the duplicate's blocks; (null, ...) when stopped part-way, else the outcome, the bytes freed and the duplicate's status after.</summary>
            private (string? Status, string? Reason, long Reclaimed, FileStatus After) Share(string duplicate)
            {
                string canonical = _action.Canonical;
                int error = BlockClones.OpenRead(canonical, out var source);
                using (source)
                {
                    if (error != 0 || BlockClones.Stat(source, out var cst) != 0 || cst.Kind != FileKind.Regular || (long)cst.Inode != _action.CanonicalInode
                        || cst.Size != _action.Size || cst.MtimeNs != _action.CanonicalMtimeNs)
                        return ("skipped", $"the canonical file '{canonical}' changed or vanished since the plan was made", 0, default);
                    error = BlockClones.OpenRead(duplicate, out var target);
                    using (target)
                    {
                        if (error != 0)
                            return ("failed", $"cannot open it: {HardLinks.Describe(error)}", 0, default);
                        // The open file is the one planned (not a file renamed over the path since the lstat).
                        if (BlockClones.Stat(target, out var dst) != 0 || (long)dst.Inode != _action.DuplicateInode || dst.Kind != FileKind.Regular
                            || dst.Size != _action.Size || dst.MtimeNs != _action.DuplicateMtimeNs)
                            return ("skipped", "changed since the scan (size, mtime or inode): scan again and make a new plan", 0, default);
                        bool measured = BlockClones.UnsharedBytes(target, out long before) == 0;
                        for (long offset = 0; offset < _action.Size;)
                        {
                            if (_cancel.IsCancellationRequested)
                                return (null, null, 0, default);
                            _keepLease();
                            long length = Math.Min(BlockClones.ChunkBytes, _action.Size - offset);
                            error = BlockClones.Dedupe(source, target, offset, length, out long deduped, out bool differs);
                            if (BlockClones.MeansUnsupported(error))
                                throw new HashallException("CloneNotSupported", HashallErrorKind.NotSupported,
                                    $"The filesystem of '{duplicate}' cannot share blocks ({SystemErrors.Describe(error)}): link plan {_plan.PlanId} was stopped; its remaining actions stay pending. Make a plan with -Method HardLink for this device.", duplicate);
                            if (error == BlockClones.EPERM || error == BlockClones.EACCES)
                                return ("failed", "permission denied: only the file's owner, a user who may write it, or root can share its blocks", 0, default);
                            if (error == BlockClones.ETXTBSY)
                                return ("failed", "the file is in use as a swap file", 0, default);
                            if (error != 0)
                                return ("failed", $"FIDEDUPERANGE failed at byte {offset}: {SystemErrors.Describe(error)}", 0, default);
                            if (differs)
                                return ("skipped", $"the kernel found its bytes {offset} to {offset + length - 1} differ from the canonical file's: its blocks were not shared (the catalog's SHA-1 is out of date: scan again)", 0, default);
                            if (deduped <= 0)
                                return ("failed", $"the kernel shared no bytes at byte {offset} of {_action.Size}", 0, default);
                            offset += Math.Min(deduped, length);
                            FaultInjection.At("clone-after-chunk");
                        }
                        BlockClones.Stat(target, out var after);
                        long reclaimed = 0;
                        if (measured && BlockClones.UnsharedBytes(target, out long left) == 0)
                            reclaimed = Math.Max(0, before - left);
                        FaultInjection.At("clone-after-share");
                        return ("linked", null, reclaimed, after);
                    }
                }
            }
        }
    }

    /// <summary>The catalog's record of inodes whose blocks a clone made another inode's (table block_clones).</summary>
    internal static class CloneRecords
    {
        /// <summary>Records that the action's duplicate inode (now <paramref name="duplicate"/>) shares the canonical file's blocks.</summary>
        public static void Recorded(WriteBatch batch, long deviceId, LinkAction action, FileStatus duplicate) =>
            batch.Run(@"INSERT OR REPLACE INTO block_clones (device_id, inode, size, mtime_ns, sha1, base_inode, base_mtime_ns, cloned_at)
VALUES ($d, $inode, $size, $mtime, $sha1, $base, $bmtime, $now);",
                ("$d", deviceId), ("$inode", action.DuplicateInode), ("$size", action.Size),
                ("$mtime", duplicate.Inode == 0 ? action.DuplicateMtimeNs : duplicate.MtimeNs), ("$sha1", action.Sha1),
                ("$base", action.CanonicalInode), ("$bmtime", action.CanonicalMtimeNs), ("$now", CatalogTime.Format(DateTime.UtcNow)));
    }
}
