using System;
using System.Buffers;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Threading;
using Hashall.Core.Catalog;
using Hashall.Core.Devices;
using Hashall.Core.Platform;
using Hashall.Core.Rehome;

namespace Hashall.Core.Linking
{
    /// <summary>How an undo run reports and asks; every call comes on the thread that runs it.</summary>
    public interface ILinkUndoObserver
    {
        /// <summary>ShouldProcess for one path; false leaves it linked (and the run incomplete).</summary>
        bool ShouldUndo(LinkAction action, LinkActionPath path);
        void Progress(long bytesDone, long bytesTotal, string current);
    }

    /// <summary>What one Undo-HashallLinkPlan run did to one plan.</summary>
    public sealed class LinkUndoResult
    {
        public long PlanId { get; set; }
        public string? Name { get; set; }
        /// <summary>The plan's link method (HardLink; a Clone plan has nothing to undo).</summary>
        public LinkMethod Method { get; set; }
        /// <summary>Paths given their own copy again (or found so on a resumed run).</summary>
        public int Undone { get; set; }
        public int Skipped { get; set; }
        public int Failed { get; set; }
        /// <summary>Bytes written to the new copies.</summary>
        public long BytesCopied { get; set; }
        /// <summary>"path: reason" for every skipped or failed path.</summary>
        public IList<string> Reasons { get; } = new List<string>();
        /// <summary>False when stopped, or when -WhatIf or -Confirm left paths out; running undo again resumes.</summary>
        public bool Completed { get; set; }
        /// <summary>Set when there was nothing to undo by design (a clone plan).</summary>
        public string? Message { get; set; }
        public TimeSpan Duration { get; set; }
        public string Database { get; set; } = "";
    }

    /// <summary>
    /// Undoes an executed hard-link plan: each linked path (or those a filter picks) gets its own inode
    /// back. Per path: the path must still be a link of the canonical inode (anything else changed since
    /// and is left alone); its bytes are copied to a temporary file in its own folder, which takes the
    /// owner, group, permissions and mtime the path had before it was linked (recorded by the execution),
    /// is flushed to disk and renamed over the path: a crash leaves the link or the copy, never neither.
    /// Folders are flushed before their outcomes are committed. A rerun resumes: a path whose record was
    /// lost with a crash is recognised by its restored mtime and identical bytes. Refuses up front when
    /// the device has not the free space for the copies. One run per plan at a time (the plan's lease).
    /// </summary>
    public sealed class LinkUndoer
    {
        private static readonly TimeSpan RenewEvery = TimeSpan.FromSeconds(30);

        /// <summary>Paths per catalog commit (three statements each).</summary>
        internal const int PathsPerCommit = 2048;

        /// <summary>
        /// Copies made before they are flushed together (one syncfs) and renamed over their paths: one
        /// journal commit for the batch instead of one fsync per file.
        /// </summary>
        internal const int CopiesPerFlush = 256;
        internal const long BytesPerFlush = 64L << 20;

        private readonly CatalogDatabase _db;
        private readonly LinkPlanStore _store;

        public LinkUndoer(CatalogDatabase db)
        {
            _db = db;
            _store = new LinkPlanStore(db);
        }

        /// <summary>Free bytes where the copies go (tests replace it).</summary>
        internal Func<string, long?> FreeBytes { get; set; } = RehomeValidator.FreeSpace;

        public LinkUndoResult Undo(long planId, Func<string, bool>? pathFilter, ILinkUndoObserver observer, CancellationToken cancel)
        {
            var clock = Stopwatch.StartNew();
            var plan = _store.Find(planId, withActions: false)
                ?? throw new HashallException("LinkPlanNotFound", HashallErrorKind.NotFound, $"No link plan with id {planId} in catalog '{_db.Path}'.", planId);
            var result = new LinkUndoResult { PlanId = plan.PlanId, Name = plan.Name, Method = plan.Method, Database = _db.Path, Completed = true };
            if (plan.Method != LinkMethod.HardLink)
            {
                result.Message = $"Link plan {planId} shares blocks ({result.Method}): its files kept their own inodes, owners and times, so there is nothing to undo.";
                result.Duration = clock.Elapsed;
                return result;
            }
            var device = new DeviceStore(_db).FindById(plan.DeviceId)!;

            // The paths to undo: linked, not undone yet, picked by the filter. Held as (action, paths)
            // pairs: a plan's linked paths, a few hundred bytes each.
            var todo = new List<(LinkAction Action, List<LinkActionPath> Paths)>();
            foreach (var action in _store.StreamActions(plan))
            {
                var paths = action.Paths.Where(p => ToUndo(p) && (pathFilter == null || pathFilter(p.FullName))).ToList();
                if (paths.Count > 0)
                    todo.Add((action, paths));
            }
            // What is still to undo once the lease is held: another run may have undone paths between
            // the read above and the lease.
            HashSet<(long, string)>? stillToUndo = null;
            RefuseWithoutSpace(plan, device, todo);

            long total = todo.Sum(t => t.Action.Size * t.Paths.Count), done = 0;
            string? owner = null;
            bool changed = false;
            var sinceRenew = Stopwatch.StartNew();
            var sinceProgress = Stopwatch.StartNew();
            var sinceCommit = Stopwatch.StartNew();
            var batch = new WriteBatch(_db); // committed by Commit() below only, after the folders are flushed
            var unsynced = new HashSet<string>(StringComparer.Ordinal);
            int uncommitted = 0;
            byte[] buffer = FileSystemApi.IsWindows || FileSystemApi.IsMacOS ? ArrayPool<byte>.Shared.Rent(1 << 20) : Array.Empty<byte>();
            var run = new PathRun(batch, device, plan, result, unsynced, buffer, cancel);
            var copies = new List<Copy>();
            long copiedBytes = 0;

            // Outcomes are committed only after the folders of the renames they record are flushed:
            // a committed 'undone' is on disk.
            void Commit()
            {
                foreach (var dir in unsynced)
                {
                    try { FileMetadata.SyncDirectory(dir); }
                    catch (IOException) { } // a folder removed meanwhile: nothing of it to flush
                }
                unsynced.Clear();
                batch.Commit();
                uncommitted = 0;
                sinceCommit.Restart();
            }

            // The copies made so far reach the disk (one syncfs), then each is renamed over its path.
            bool Flush()
            {
                if (copies.Count == 0)
                    return true;
                FileMetadata.SyncFileSystem(Path.GetDirectoryName(copies[0].Temp) ?? ".");
                bool go = true;
                foreach (var copy in copies)
                {
                    if (go)
                    {
                        run.Finish(copy);
                        if (++uncommitted >= PathsPerCommit || sinceCommit.Elapsed.TotalSeconds >= 3)
                            Commit();
                    }
                    else
                        HardLinks.Remove(copy.Temp);
                    go = go && !cancel.IsCancellationRequested;
                }
                copies.Clear();
                copiedBytes = 0;
                return go;
            }

            try
            {
                foreach (var (action, paths) in todo)
                {
                    foreach (var path in paths)
                    {
                        if (cancel.IsCancellationRequested)
                        {
                            result.Completed = false;
                            break;
                        }
                        if (sinceProgress.ElapsedMilliseconds >= 250)
                        {
                            observer.Progress(done, total, path.FullName);
                            sinceProgress.Restart();
                        }
                        if (!observer.ShouldUndo(action, path))
                        {
                            result.Completed = false;
                            done += action.Size;
                            continue;
                        }
                        if (owner == null)
                        {
                            // Taken at the first real change, so -WhatIf writes nothing.
                            owner = LinkPlanStore.NewOwner();
                            _store.Acquire(plan.PlanId, owner);
                            // Stamped before any path is recorded undone, so that a run killed before
                            // its end still marks the plan for the planner (LinkPlanner.UndonePaths).
                            LinkUndoStore.Stamp(_db, plan.PlanId, owner);
                            stillToUndo = new HashSet<(long, string)>(_store.StreamActions(plan)
                                .SelectMany(a => a.Paths.Where(ToUndo).Select(p => (a.ActionId, p.Path))));
                        }
                        if (!stillToUndo!.Contains((action.ActionId, path.Path)))
                        {
                            done += action.Size;
                            continue;
                        }
                        if (sinceRenew.Elapsed > RenewEvery)
                        {
                            Commit();
                            _store.Renew(plan.PlanId, owner);
                            sinceRenew.Restart();
                        }
                        changed = true;
                        var step = run.Prepare(action, path, out var copy);
                        if (copy != null)
                        {
                            copies.Add(copy);
                            copiedBytes += copy.Size;
                        }
                        else if (++uncommitted >= PathsPerCommit || sinceCommit.Elapsed.TotalSeconds >= 3)
                            Commit();
                        if (step == Step.Stop)
                        {
                            result.Completed = false;
                            Flush();
                            return Finish();
                        }
                        done += action.Size;
                        if ((copies.Count >= CopiesPerFlush || copiedBytes >= BytesPerFlush) && !Flush())
                            result.Completed = false;
                    }
                    if (!result.Completed && cancel.IsCancellationRequested)
                        break;
                }
                Flush();
                observer.Progress(total, total, "");
            }
            finally
            {
                try
                {
                    // Copies not renamed (a failure or a stop mid-batch) are removed; what was done on
                    // disk is recorded, even when stopping or failing.
                    foreach (var copy in copies)
                        HardLinks.Remove(copy.Temp);
                    Commit();
                }
                finally
                {
                    batch.Dispose();
                    if (buffer.Length > 0)
                        ArrayPool<byte>.Shared.Return(buffer);
                    if (owner != null)
                        LinkUndoStore.Release(_db, plan.PlanId, owner, changed);
                }
            }
            return Finish();

            LinkUndoResult Finish()
            {
                result.Duration = clock.Elapsed;
                return result;
            }
        }

        private static bool ToUndo(LinkActionPath path) => path.Status == "linked" && path.UndoStatus != "undone";

        /// <summary>Refuses the run before any copy when the device lacks the room for them (LinkUndoNotEnoughSpace).</summary>
        private void RefuseWithoutSpace(LinkPlan plan, HashallDevice device, List<(LinkAction Action, List<LinkActionPath> Paths)> todo)
        {
            long needed = 0;
            int copies = 0;
            string? where = null;
            foreach (var (action, paths) in todo)
                foreach (var path in paths)
                    if (FileSystemApi.TryLstat(path.FullName, out var st) == 0 && (long)st.Inode == action.CanonicalInode)
                    {
                        needed += st.Size;
                        copies++;
                        where ??= Path.GetDirectoryName(path.FullName);
                    }
            if (copies == 0 || where == null)
                return;
            long? free = FreeBytes(where);
            if (free != null && free < needed)
                throw new HashallException("LinkUndoNotEnoughSpace", HashallErrorKind.ResourceUnavailable,
                    $"Undoing link plan {plan.PlanId} needs {needed:N0} bytes for {copies} cop{(copies == 1 ? "y" : "ies")} on device '{device.Alias ?? device.MountPoint}' ({device.MountPoint}), "
                    + $"but only {free:N0} bytes are free: nothing was changed. Free some space, or undo part of the plan (-Path).", plan.PlanId);
        }

        private enum Step { Next, Stop }

        /// <summary>A path's copy, made and given its metadata, waiting to be flushed and renamed over the path.</summary>
        private sealed class Copy
        {
            public Copy(LinkAction action, LinkActionPath path, string temp, FileStatus linked)
            {
                Action = action;
                Path = path;
                Temp = temp;
                Linked = linked;
            }

            public LinkAction Action { get; }
            public LinkActionPath Path { get; }
            public string Temp { get; }
            /// <summary>The path as it was copied (a link of the canonical inode).</summary>
            public FileStatus Linked { get; }
            public long Size => Linked.Size;
        }

        /// <summary>Undoes one path at a time, recording each outcome in the batch.</summary>
        private sealed class PathRun
        {
            private readonly ByteComparer _comparer = new ByteComparer();
            private readonly WriteBatch _batch;
            private readonly HashallDevice _device;
            private readonly LinkPlan _plan;
            private readonly LinkUndoResult _result;
            private readonly HashSet<string> _unsynced;
            private readonly byte[] _buffer;
            private readonly CancellationToken _cancel;

            public PathRun(WriteBatch batch, HashallDevice device, LinkPlan plan, LinkUndoResult result, HashSet<string> unsynced, byte[] buffer, CancellationToken cancel)
            {
                _batch = batch;
                _device = device;
                _plan = plan;
                _result = result;
                _unsynced = unsynced;
                _buffer = buffer;
                _cancel = cancel;
            }

            /// <summary>
            /// Checks one path and copies it to its temporary name with its original metadata (not yet
            /// flushed); <paramref name="copy"/> is null when the path's outcome was recorded instead.
            /// </summary>
            public Step Prepare(LinkAction action, LinkActionPath path, out Copy? copy)
            {
                copy = null;
                string full = path.FullName;
                string dir = Path.GetDirectoryName(full) ?? ".";
                string temp = PathText.Join(dir, $".hashall-undo-{_plan.PlanId}-{path.FileId}.tmp");
                // This run's own name: a copy left there by a crashed run is removed and made again.
                if (FileSystemApi.TryLstat(temp, out _) == 0)
                    HardLinks.Remove(temp);
                long mtime = path.OriginalMtimeNs ?? action.DuplicateMtimeNs;

                int error = FileSystemApi.TryLstat(full, out var st);
                if (error == HardLinks.ENOENT)
                    return Outcome(action, path, "skipped", "vanished since it was linked");
                if (error != 0)
                    return Outcome(action, path, "failed", HardLinks.Describe(error));
                if ((long)st.Inode != action.CanonicalInode)
                {
                    // Given its own copy by a run that stopped before recording it, or changed since.
                    if (st.Kind == FileKind.Regular && st.LinkCount == 1 && st.MtimeNs == mtime && SameAsCanonical(action, full, st.Size))
                        return Done(action, path, st, "already its own copy (undone by a run that stopped before recording it)");
                    return Outcome(action, path, "skipped", "no longer a link of the canonical file (replaced or rewritten since it was linked): left alone");
                }
                if (st.Kind != FileKind.Regular)
                    return Outcome(action, path, "skipped", "no longer a regular file: left alone");

                try
                {
                    if (FileSystemApi.IsWindows || FileSystemApi.IsMacOS)
                        PayloadCopier.CopyFile(full, temp, st, _buffer, _ => { }, _cancel);
                    else
                        PayloadCopier.NativeCopy.Copy(full, temp, st, _ => { }, _cancel, flush: false); // flushed with its batch
                    FaultInjection.At("undo-after-copy");
                    var original = new FileStatus(st.DeviceNumber, st.Inode, st.Size, 1, mtime, FileKind.Regular,
                        path.OriginalMode ?? st.Permissions, path.OriginalUid ?? st.Uid, path.OriginalGid ?? st.Gid);
                    FileMetadata.CopyFrom(temp, original);
                }
                catch (OperationCanceledException)
                {
                    HardLinks.Remove(temp);
                    throw;
                }
                catch (HashallException e)
                {
                    HardLinks.Remove(temp);
                    return Outcome(action, path, "skipped", $"changed while it was copied: {e.Message}");
                }
                catch (IOException e)
                {
                    HardLinks.Remove(temp);
                    Outcome(action, path, "failed", $"cannot copy it in '{dir}': {e.Message}");
                    // A full disk stops the run: every later copy would fail the same way.
                    return PayloadCopier.IsDiskFull(e) ? Step.Stop : Step.Next;
                }
                catch (UnauthorizedAccessException e)
                {
                    HardLinks.Remove(temp);
                    return Outcome(action, path, "failed", $"cannot copy it in '{dir}': {e.Message}");
                }
                copy = new Copy(action, path, temp, st);
                return Step.Next;
            }

            /// <summary>Renames a flushed copy over its path, if the path is still the link that was copied, and records the outcome.</summary>
            public void Finish(Copy copy)
            {
                var action = copy.Action;
                var path = copy.Path;
                var st = copy.Linked;
                string full = path.FullName, temp = copy.Temp;
                string dir = Path.GetDirectoryName(full) ?? ".";
                if (FileSystemApi.TryLstat(full, out var again) != 0 || again.Inode != st.Inode || again.Size != st.Size || again.MtimeNs != st.MtimeNs)
                {
                    HardLinks.Remove(temp);
                    Outcome(action, path, "skipped", "changed while it was copied: left alone");
                    return;
                }
                FaultInjection.At("undo-before-rename");
                int error;
                error = HardLinks.Replace(temp, full);
                if (error != 0)
                {
                    HardLinks.Remove(temp);
                    Outcome(action, path, "failed", $"cannot replace it: {HardLinks.Describe(error)}");
                    return;
                }
                _unsynced.Add(dir);
                FaultInjection.At("undo-after-rename");
                _result.BytesCopied += st.Size;
                if (FileSystemApi.TryLstat(full, out var now) != 0)
                    now = new FileStatus(st.DeviceNumber, 0, st.Size, 1, path.OriginalMtimeNs ?? action.DuplicateMtimeNs, FileKind.Regular);
                Done(action, path, now, null, canonicalLinksLeft: again.LinkCount - 1);
            }

            /// <summary>Whether <paramref name="full"/> holds the canonical file's bytes (the canonical path still its inode).</summary>
            private bool SameAsCanonical(LinkAction action, string full, long size)
            {
                if (FileSystemApi.TryLstat(action.Canonical, out var cst) != 0 || (long)cst.Inode != action.CanonicalInode || cst.Size != size)
                    return false;
                try
                {
                    return _comparer.Same(action.Canonical, full, size, _cancel);
                }
                catch (Exception e) when (e is IOException || e is UnauthorizedAccessException)
                {
                    return false;
                }
            }

            private Step Done(LinkAction action, LinkActionPath path, FileStatus copy, string? reason, long? canonicalLinksLeft = null)
            {
                path.UndoStatus = "undone";
                path.UndoReason = reason;
                LinkUndoStore.RecordUndo(_batch, action, path);
                long linksLeft = canonicalLinksLeft
                    ?? (FileSystemApi.TryLstat(action.Canonical, out var cst) == 0 && (long)cst.Inode == action.CanonicalInode ? cst.LinkCount : 0);
                // The path's row takes its own inode; the canonical inode lost a link (its ctime moved:
                // forgotten, the next scan records it).
                LinkPlanStore.FileNow(_batch, path.FileId, copy);
                LinkPlanStore.InodeLinks(_batch, _device.DeviceId, action.CanonicalInode, linksLeft, ctimeNs: null);
                _result.Undone++;
                return Step.Next;
            }

            private Step Outcome(LinkAction action, LinkActionPath path, string status, string reason)
            {
                path.UndoStatus = status;
                path.UndoReason = reason;
                LinkUndoStore.RecordUndo(_batch, action, path);
                if (status == "failed") _result.Failed++; else _result.Skipped++;
                _result.Reasons.Add($"{path.FullName}: {reason}");
                return Step.Next;
            }
        }
    }
}
