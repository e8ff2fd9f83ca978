using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Threading;
using Hashall.Core.Catalog;
using Hashall.Core.Devices;
using Hashall.Core.Platform;

namespace Hashall.Core.Linking
{
    /// <summary>
    /// Executes a stored link plan. For each path of a duplicate inode: re-stat both files (skip what
    /// changed since the scan, what is already linked, what is on another device), verify the bytes,
    /// link the canonical file to a temporary name in the duplicate's directory and rename that over
    /// the duplicate — a crash leaves the old file or the new link, never neither — then record the
    /// outcome. Re-running a plan resumes it. One run per plan at a time (a lease in the catalog).
    /// </summary>
    public sealed partial class LinkExecutor
    {
        private static readonly TimeSpan RenewEvery = TimeSpan.FromSeconds(30);

        /// <summary>Catalog statements per commit: a link writes four or five, so about two thousand links.</summary>
        internal const int StatementsPerCommit = 8192;

        /// <summary>Files above this size commit the batch first, so the write lock is not held while they are read.</summary>
        private const long LongComparisonBytes = 4L << 20;
        private readonly CatalogDatabase _db;
        private readonly LinkPlanStore _store;

        public LinkExecutor(CatalogDatabase db)
        {
            _db = db;
            _store = new LinkPlanStore(db);
        }

        public LinkResult Execute(long planId, LinkOptions options, ILinkObserver observer, CancellationToken cancel)
        {
            var clock = Stopwatch.StartNew();
            var plan = _store.Find(planId, withActions: true)
                ?? throw new HashallException("LinkPlanNotFound", HashallErrorKind.NotFound, $"No link plan with id {planId} in catalog '{_db.Path}'.", planId);
            // An undone plan's pending actions (left by -Limit, a stop or a declined -Confirm) would link
            // again what the user asked to have separate.
            if (plan.Undone > 0 && plan.Actions.Any(a => a.Paths.Any(p => p.Status == "pending")))
                throw new HashallException("LinkPlanUndone", HashallErrorKind.InvalidArgument,
                    $"Link plan {planId} was undone (Undo-HashallLinkPlan): its pending actions are not run. Make a new plan; New-HashallLinkPlan -IncludeUndone also plans the paths that were undone.", planId);
            var device = new DeviceStore(_db).FindById(plan.DeviceId)!;
            var result = new LinkResult { PlanId = plan.PlanId, Name = plan.Name, Method = plan.Method, Database = _db.Path, Completed = true };
            var todo = plan.Actions.Where(a => a.Paths.Any(p => p.Status == "pending")).ToList();
            long total = todo.Sum(a => a.Size), done = 0;
            string? owner = null;
            var sinceRenew = Stopwatch.StartNew();
            var sinceProgress = Stopwatch.StartNew();
            // Outcomes are committed in batches (about two thousand links, or a second): a crash loses at
            // most the last batch of records, and the next run re-reads those paths from the disk: a
            // path whose inode is already the canonical one is recorded as linked, the rest are redone.
            // Each commit rewrites the catalog pages it touched, so fewer commits mean fewer page writes.
            var batch = new WriteBatch(_db, maxRows: StatementsPerCommit, maxSeconds: 3);
            var comparer = new ByteComparer();
            Dictionary<long, LinkAction>? current = null;
            var limit = new RunLimit(options.Limit, options.MaximumBytes);
            try
            {
                foreach (var action in todo)
                {
                    if (cancel.IsCancellationRequested)
                    {
                        result.Completed = false;
                        break;
                    }
                    if (limit.Reached(action.Size))
                    {
                        // -Limit / -MaximumBytes: the rest stays pending for the next run.
                        result.Completed = false;
                        result.Limited = true;
                        break;
                    }
                    if (sinceProgress.ElapsedMilliseconds >= 250)
                    {
                        observer.Progress(done, total, action.Canonical);
                        sinceProgress.Restart();
                    }
                    // Counted whether or not it is done now, so that -WhatIf with -Limit lists exactly the
                    // actions a real run with that limit would take.
                    bool go = observer.ShouldLink(action);
                    limit.Count(action.Size);
                    if (!go)
                    {
                        result.Completed = false;
                        continue;
                    }
                    if (owner == null)
                    {
                        // Taken at the first real change, so -WhatIf writes nothing at all; then the
                        // actions are read again, as another run may have worked on them meanwhile.
                        owner = LinkPlanStore.NewOwner();
                        _store.Acquire(plan.PlanId, owner);
                        current = _store.Actions(plan).ToDictionary(a => a.ActionId);
                    }
                    var fresh = current![action.ActionId];
                    if (fresh.Paths.All(p => p.Status != "pending"))
                        continue;
                    // Never hold the catalog's write lock through a long comparison.
                    if (fresh.Size > LongComparisonBytes)
                        batch.Commit();
                    string leaseOwner = owner;
                    void KeepLease()
                    {
                        if (sinceRenew.Elapsed <= RenewEvery)
                            return;
                        batch.Commit();
                        _store.Renew(plan.PlanId, leaseOwner);
                        sinceRenew.Restart();
                    }
                    KeepLease();
                    new ActionRun(this, batch, comparer, device, plan, fresh, options, result, cancel, KeepLease).Run();
                    batch.MaybeCommit();
                    done += action.Size;
                }
                observer.Progress(total, total, "");
            }
            finally
            {
                try
                {
                    // What was done on disk is recorded, even when stopping or failing.
                    batch.Commit();
                }
                finally
                {
                    batch.Dispose();
                    if (owner != null)
                        _store.Release(plan.PlanId, owner);
                }
            }
            result.Duration = clock.Elapsed;
            return result;
        }

        /// <summary>One action: its canonical file checked once, its bytes verified once, each path swapped.</summary>
        private sealed partial class ActionRun
        {
            private readonly LinkExecutor _x;
            private readonly WriteBatch _batch;
            private readonly ByteComparer _comparer;
            private readonly HashallDevice _device;
            private readonly LinkPlan _plan;
            private readonly LinkAction _action;
            private readonly LinkOptions _options;
            private readonly LinkResult _result;
            private readonly CancellationToken _cancel;
            private readonly Action _keepLease;
            private bool _verified;

            public ActionRun(LinkExecutor x, WriteBatch batch, ByteComparer comparer, HashallDevice device, LinkPlan plan, LinkAction action,
                LinkOptions options, LinkResult result, CancellationToken cancel, Action keepLease)
            {
                _keepLease = keepLease;
                _x = x;
                _batch = batch;
                _comparer = comparer;
                _device = device;
                _plan = plan;
                _action = action;
                _options = options;
                _result = result;
                _cancel = cancel;
            }

            public void Run()
            {
                string canonical = _action.Canonical;
                int error = FileSystemApi.TryLstat(canonical, out var cst);
                if (error != 0 || cst.Kind != FileKind.Regular || (long)cst.Inode != _action.CanonicalInode || cst.Size != _action.Size
                    || cst.MtimeNs != _action.CanonicalMtimeNs)
                {
                    SkipRest($"the canonical file '{canonical}' changed or vanished since the plan was made");
                    Finish();
                    return;
                }
                if (_plan.Method == LinkMethod.Clone)
                {
                    CloneInode(cst); // BlockCloner.cs
                    Finish();
                    return;
                }
                foreach (var path in _action.Paths.Where(p => p.Status == "pending"))
                {
                    if (_cancel.IsCancellationRequested)
                        break;
                    if (!LinkPath(path, canonical, ref cst))
                        break;
                }
                Finish();
            }

            /// <summary>Swaps one path for a link; false when the rest of the action must not be tried.</summary>
            private bool LinkPath(LinkActionPath path, string canonical, ref FileStatus cst)
            {
                string full = path.FullName;
                string temp = TempName(full);
                int error = FileSystemApi.TryLstat(full, out var dst);
                if (error == HardLinks.ENOENT)
                    return Outcome(path, "skipped", "vanished since the plan was made");
                if (error != 0)
                    return Outcome(path, "failed", HardLinks.Describe(error));
                if (dst.DeviceNumber != cst.DeviceNumber)
                    return Outcome(path, "skipped", "on another device than the canonical file: hard links cannot cross devices");
                if (dst.Inode == cst.Inode)
                {
                    // Linked by an earlier run that stopped before recording it (the duplicate inode's
                    // remaining links are unknown here: a rescan counts them).
                    Record(path, "linked", "already a link of the canonical file", cst, null, reclaimed: false);
                    return true;
                }
                if ((long)dst.Inode != _action.DuplicateInode || dst.Size != _action.Size || dst.MtimeNs != _action.DuplicateMtimeNs)
                    return Outcome(path, "skipped", "changed since the scan (size, mtime or inode): scan again and make a new plan");
                if (!_options.Force && (dst.Uid != cst.Uid || dst.Gid != cst.Gid || dst.Permissions != cst.Permissions))
                    return Outcome(path, "skipped", $"owner or permissions differ ({dst.Uid}:{dst.Gid} {Octal(dst.Permissions)} here, {cst.Uid}:{cst.Gid} {Octal(cst.Permissions)} on the canonical file): the link would show the canonical file's; -Force links anyway");
                if (!_verified)
                {
                    bool same;
                    try
                    {
                        same = _options.Verify != LinkVerification.Bytes || _comparer.Same(canonical, full, _action.Size, _cancel, _keepLease);
                    }
                    catch (System.Exception e) when (e is IOException || e is System.UnauthorizedAccessException)
                    {
                        return Outcome(path, "failed", $"cannot read it to compare with the canonical file: {e.Message}");
                    }
                    if (!same)
                    {
                        SkipRest($"its bytes differ from the canonical file '{canonical}' although the catalog's SHA-1 matches: not linked");
                        return false;
                    }
                    _verified = true;
                }

                // A temporary link left by a crashed run is met here (EEXIST): the name is this plan's
                // and action's own, so it is removed and the link made again.
                error = HardLinks.Link(canonical, temp);
                if (error == HardLinks.EEXIST && HardLinks.Remove(temp) == 0)
                    error = HardLinks.Link(canonical, temp);
                if (error != 0)
                {
                    Outcome(path, "failed", $"cannot create a link in '{Path.GetDirectoryName(full)}': {HardLinks.Describe(error)}");
                    return error != HardLinks.EMLINK; // the canonical file takes no more links
                }
                FaultInjection.At("link-before-rename");
                // The new link must be the canonical file that was verified (not a file renamed over it
                // or rewritten since, nor a symlink), and the duplicate still the file that was verified.
                if (FileSystemApi.TryLstat(temp, out var linked) != 0 || linked.Kind != FileKind.Regular || linked.Inode != cst.Inode
                    || linked.Size != cst.Size || linked.MtimeNs != cst.MtimeNs)
                {
                    HardLinks.Remove(temp);
                    SkipRest($"the canonical file '{canonical}' changed while its duplicates were being linked");
                    return false;
                }
                if (FileSystemApi.TryLstat(full, out var again) != 0 || again.Inode != dst.Inode || again.MtimeNs != dst.MtimeNs || again.Size != dst.Size)
                {
                    HardLinks.Remove(temp);
                    return Outcome(path, "skipped", "changed while being linked");
                }
                LinkUndoStore.RecordOriginal(_batch, _action, path, again); // what undo gives the path back
                error = HardLinks.Replace(temp, full);
                if (error != 0)
                {
                    HardLinks.Remove(temp);
                    return Outcome(path, "failed", $"cannot replace it: {HardLinks.Describe(error)}");
                }
                if (FileSystemApi.TryLstat(full, out var now) == 0 && now.Inode == cst.Inode)
                    cst = now; // the canonical inode with its new link count
                FaultInjection.At("link-after-rename");
                Record(path, "linked", null, cst, again.LinkCount - 1, reclaimed: again.LinkCount == 1);
                return true;
            }

            private string TempName(string full) =>
                PathText.Join(Path.GetDirectoryName(full) ?? ".", $".hashall-link-{_plan.PlanId}-{_action.ActionId}.tmp");

            /// <summary>
            /// A temporary link left by a crashed run next to a path that is not linked now is removed
            /// when it is a link of the canonical file (a path that is linked met it as EEXIST).
            /// </summary>
            private void RemoveStaleTemp(LinkActionPath path)
            {
                string temp = TempName(path.FullName);
                if (FileSystemApi.TryLstat(temp, out var st) == 0 && (long)st.Inode == _action.CanonicalInode)
                    HardLinks.Remove(temp);
            }

            private bool Outcome(LinkActionPath path, string status, string reason)
            {
                RemoveStaleTemp(path);
                path.Status = status;
                path.Reason = reason;
                _x._store.Record(_batch, _action, path);
                Count(path);
                return true;
            }

            private void Record(LinkActionPath path, string status, string? reason, FileStatus canonicalNow, long? duplicateLinksLeft, bool reclaimed)
            {
                path.Status = status;
                path.Reason = reason;
                if (reclaimed)
                {
                    _action.BytesReclaimed += _action.Size;
                    _result.BytesReclaimed += _action.Size;
                }
                _x._store.Record(_batch, _action, path);
                _x._store.FileLinked(_batch, _device.DeviceId, path.FileId, canonicalNow, _action.DuplicateInode, duplicateLinksLeft);
                Count(path);
            }

            private void SkipRest(string reason)
            {
                foreach (var path in _action.Paths.Where(p => p.Status == "pending"))
                    Outcome(path, "skipped", reason);
            }

            private void Count(LinkActionPath path)
            {
                if (path.Status == "linked")
                    _result.Linked++;
                else
                {
                    if (path.Status == "failed") _result.Failed++; else _result.Skipped++;
                    _result.Reasons.Add($"{path.FullName}: {path.Reason}");
                }
            }

            private void Finish()
            {
                if (_action.Paths.Any(p => p.Status == "pending"))
                    return; // stopped part-way: stays pending, the next run resumes it
                _action.Status = _action.Paths.All(p => p.Status == "linked") ? "linked" : _action.Paths.Any(p => p.Status == "failed") ? "failed" : "skipped";
                var first = _action.Paths.FirstOrDefault(p => p.Reason != null && p.Status != "linked");
                _action.Reason = first?.Reason ?? _action.Reason;
                _x._store.RecordAction(_batch, _action);
            }

            private static string Octal(int mode) => Convert.ToString(mode, 8).PadLeft(4, '0');
        }
    }
}
