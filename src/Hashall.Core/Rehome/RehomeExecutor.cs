using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Threading;
using Hashall.Core.Catalog;
using Hashall.Core.Payloads;
using Hashall.Core.Platform;
using Hashall.Core.QBittorrent;

namespace Hashall.Core.Rehome
{
    /// <summary>Where a rehome is: for progress reports.</summary>
    public sealed class RehomeProgress
    {
        public string Name { get; set; } = "";
        public string Activity { get; set; } = "";
        public long BytesDone { get; set; }
        public long BytesTotal { get; set; }
    }

    /// <summary>
    /// Executes rehome plans one payload at a time. MOVE: copy into a staging folder on the target,
    /// fsync, verify size and SHA-1 against the catalog, rename into place; REUSE: verify the copy
    /// that is there. Then stop the torrents, set their location onto the verified copy, recheck,
    /// confirm each complete there, start those that were running, remove the source's payload files
    /// and update the catalog. Every step is journaled first; a failure before the torrents are
    /// confirmed on the target is rolled back, and a rerun of the plan resumes an interrupted job.
    /// </summary>
    public sealed class RehomeExecutor
    {
        private readonly CatalogDatabase _db;
        private readonly QBittorrentClient _client;
        private readonly Action<RehomeProgress> _progress;
        private readonly CancellationToken _cancel;
        private readonly RehomeJournal _journal;
        private readonly string _owner = Lease.NewOwner();
        private readonly int _thread = Environment.CurrentManagedThreadId;
        private readonly Stopwatch _sinceRenewal = Stopwatch.StartNew();

        public RehomeExecutor(CatalogDatabase db, QBittorrentClient client, Action<RehomeProgress> progress, CancellationToken cancel)
        {
            _db = db;
            _client = client;
            _progress = progress;
            _cancel = cancel;
            _journal = new RehomeJournal(db);
        }

        /// <summary>Longest wait for qBittorrent to move or check one payload; default 2 minutes plus a second per 50 MB.</summary>
        public TimeSpan? Timeout { get; set; }

        /// <summary>The steps a plan takes, for -WhatIf and the confirmation prompt.</summary>
        public static List<string> Describe(RehomePlan plan)
        {
            var relocate = plan.Torrents.Where(t => t.Role == "relocate").Select(t => $"'{t.Name}' ({t.TorrentHash})").ToList();
            var steps = new List<string>();
            if (plan.Decision == RehomeDecision.Move)
            {
                steps.Add($"copy {plan.FileCount} file(s), {plan.TotalBytes} bytes, from '{plan.SourcePath}' to '{plan.TargetPath}' (mtime, mode and hard links kept), flush to disk");
                steps.Add("verify every copied file's size and SHA-1 against the catalog");
            }
            else
            {
                steps.Add($"verify the existing copy '{plan.TargetPath}' (size and SHA-1 of every file) against the catalog");
            }
            steps.Add($"stop {string.Join(", ", relocate)}");
            steps.Add($"set their location to '{plan.TargetSavePath}', recheck, and confirm each complete at '{plan.TargetPath}'");
            steps.Add("start again those that were running");
            steps.Add($"remove the payload's {plan.FileCount} file(s) from '{plan.SourcePath}' (folders left empty too)");
            steps.Add("update the catalog (files, payloads, torrents)");
            return steps;
        }

        public RehomeResult Execute(RehomePlan plan)
        {
            var clock = Stopwatch.StartNew();
            if (plan.Decision == RehomeDecision.Block)
                return RehomeResult.Blocked(plan, _db.Path);
            var result = RehomeResult.For(plan, _db.Path);
            RehomeJob? job = null;
            List<PayloadFile>? files = null;
            try
            {
                RehomeValidator.CheckShape(plan);
                var relocator = Relocator(plan, () => job);
                var hashes = plan.Torrents.Where(t => t.Role == "relocate").Select(t => t.TorrentHash).ToList();
                var openJob = _journal.OpenPaths(plan.PayloadHash!);
                bool open = openJob != null;
                if (openJob != null && (openJob.Value.Source != plan.SourcePath || openJob.Value.Target != plan.TargetPath))
                    throw new HashallException("RehomePlanInvalid", HashallErrorKind.InvalidData,
                        $"An interrupted job of this payload moves '{openJob.Value.Source}' to '{openJob.Value.Target}': run that plan again to finish it first.", plan.Name);
                if (!open && _journal.LastStatus(plan.PayloadHash!, plan.SourcePath, plan.TargetPath) == "done")
                {
                    result.Status = RehomeStatus.AlreadyDone;
                    result.Message = $"an earlier run already moved it to '{plan.TargetPath}'";
                    return result;
                }
                var live = relocator.Current(hashes);
                var validator = new RehomeValidator(_db);
                // A fresh start checks everything; a resumed job checks that its torrents are where the journal left them.
                files = (open ? validator.SourcePayload(plan, live.Values.First(), _client) : validator.CheckLive(plan, live, _client)).Files.ToList();
                if (open)
                    foreach (var t in live.Values.Where(t => !TorrentRelocator.PointsAt(t, plan.SourcePath) && !TorrentRelocator.PointsAt(t, plan.TargetPath)))
                        throw new HashallException("RehomePlanInvalid", HashallErrorKind.InvalidData,
                            $"Torrent '{t.Name}' ({t.Hash}) points at '{t.ContentPath}', neither the source nor the target of the interrupted job.", t.Hash);
                var (acquired, resumed) = _journal.Acquire(plan, RehomePlanFile.Serialize(new[] { plan }), _owner);
                job = acquired;
                result.JobId = job.JobId;
                result.Resumed = resumed;
                if (resumed)
                {
                    _journal.Note(job, $"resumed at {job.Step} by {_owner}");
                    if (job.Torrents.Count > 0 && !new HashSet<string>(job.Torrents.Select(t => t.Hash), StringComparer.OrdinalIgnoreCase).SetEquals(hashes))
                        throw new HashallException("RehomePlanInvalid", HashallErrorKind.InvalidData,
                            $"The interrupted job relocates {string.Join(", ", job.Torrents.Select(t => t.Hash))}; this plan relocates {string.Join(", ", hashes)}. Run the job's own plan again.", plan.Name);
                }
                Run(plan, job, files, relocator, hashes, result);
                result.Status = RehomeStatus.Done;
            }
            catch (HashallException e) when (job == null)
            {
                result.Status = e.ErrorId == "RehomeBusy" ? RehomeStatus.Failed : RehomeStatus.Invalid;
                result.Message = e.Message;
                result.ErrorId = e.ErrorId;
            }
            catch (Exception e) when (job == null && !(e is OperationCanceledException) && !(e is OutOfMemoryException))
            {
                // Nothing was changed yet: this plan fails, the batch goes on.
                result.Status = RehomeStatus.Failed;
                result.Message = $"{e.GetType().Name}: {e.Message} Nothing was changed.";
                result.ErrorId = "RehomeFailed";
            }
            catch (Exception e) when (job != null && !(e is OutOfMemoryException))
            {
                // Whatever went wrong, the job is ours: roll back or leave it open, and release its lease
                // (a lease held by a still-running pwsh would refuse every rerun in that session).
                result.ErrorId = (e as HashallException)?.ErrorId ?? (e is OperationCanceledException ? "RehomeStopped" : "RehomeFailed");
                if (result.ErrorId == "RehomeLeaseLost")
                {
                    // Another run owns the job now: undoing anything would undo its work.
                    result.Status = RehomeStatus.Failed;
                    result.Message = e.Message;
                }
                else
                {
                    Recover(plan, job, files!, e, result);
                }
            }
            finally
            {
                if (job != null)
                {
                    result.Step = job.Step;
                    try
                    {
                        result.Journal = _journal.Entries(job.JobId);
                    }
                    catch (HashallException e)
                    {
                        result.Warnings.Add("the journal could not be read back: " + e.Message);
                    }
                }
                result.Duration = clock.Elapsed;
            }
            return result;
        }

        private void Run(RehomePlan plan, RehomeJob job, List<PayloadFile> files, TorrentRelocator relocator, List<string> hashes, RehomeResult result)
        {
            long total = files.Sum(f => f.Size);
            if (job.Step < RehomeStep.Verified)
            {
                if (plan.Decision == RehomeDecision.Move)
                {
                    PlaceCopy(plan, job, files, result, total);
                }
                else
                {
                    PayloadCopier.Verify(files, plan.TargetSavePath, Progress(plan, job, "Verifying the copy on the target", total), _cancel);
                    _journal.Advance(job, RehomeStep.Verified, $"'{plan.TargetPath}' verified: {files.Count} file(s), sizes and SHA-1s match the catalog");
                }
            }
            if (job.Step < RehomeStep.Relocating)
            {
                if (job.Torrents.Count == 0)
                {
                    // Recorded before anything changes in qBittorrent: a rollback or rerun restarts exactly these.
                    // A long copy later, each must still seed the source, complete and idle.
                    var current = relocator.Current(hashes);
                    foreach (var t in current.Values.Where(t => !TorrentRelocator.PointsAt(t, plan.SourcePath) || !TorrentRelocator.IsComplete(t)))
                        throw new HashallException("RehomePlanInvalid", HashallErrorKind.InvalidData,
                            $"While the copy was made, torrent '{t.Name}' ({t.Hash}) changed: it is '{t.State}' at {t.Progress:P1}, content path '{t.ContentPath}'.", t.Hash);
                    job.Torrents = current.Values.Select(t => new RelocatedTorrent
                    {
                        Hash = t.Hash, Name = t.Name, SavePathBefore = t.SavePath, ContentPathBefore = t.ContentPath, WasRunning = !TorrentRelocator.IsStopped(t),
                    }).ToList();
                    _journal.SaveTorrents(job);
                }
                _journal.Advance(job, RehomeStep.Stopping, "stopping " + string.Join(", ", job.Torrents.Select(t => $"{t.Hash} ({(t.WasRunning ? "running" : "stopped")})")));
                Report(plan, "Stopping the torrents", 0, 0);
                relocator.Stop(hashes);
                _journal.Advance(job, RehomeStep.Relocating, $"torrents stopped; setting their location to '{plan.TargetSavePath}'");
            }
            if (job.Step == RehomeStep.Relocating)
            {
                Report(plan, "Relocating and rechecking in qBittorrent", 0, 0);
                relocator.Stop(hashes); // a resumed job: qBittorrent may have started them again
                // qBittorrent moves whatever is missing at the destination itself (deleting it at the
                // source): every file of the verified copy must still be there before it is asked to.
                foreach (var f in files)
                {
                    string copy = PathText.Join(plan.TargetSavePath, f.TorrentPath);
                    if (FileSystemApi.TryLstat(copy, out var st) != 0 || st.Size != f.Size)
                        throw new HashallException("RehomeVerifyFailed", HashallErrorKind.InvalidData, $"'{copy}' of the verified copy is missing or changed; the torrents were not moved.", copy);
                }
                var targets = job.Torrents.ToDictionary(t => t.Hash, t => TorrentRelocator.Rebase(t.ContentPathBefore, plan.SourcePath, plan.TargetPath));
                relocator.Relocate(targets, plan.TargetSavePath, () =>
                {
                    FaultInjection.At("rehome-relocate");
                    Report(plan, "Rechecking the copy in qBittorrent", 0, 0);
                });
                _journal.Advance(job, RehomeStep.Relocated, $"qBittorrent confirmed {hashes.Count} torrent(s) complete at '{plan.TargetPath}'");
            }
            result.Relocated = hashes;
            if (job.Step == RehomeStep.Relocated)
            {
                var wasRunning = job.Torrents.Where(t => t.WasRunning).Select(t => t.Hash).ToList();
                var started = relocator.Start(wasRunning);
                result.Restarted = started;
                foreach (var h in wasRunning.Except(started, StringComparer.OrdinalIgnoreCase))
                    result.Warnings.Add($"torrent {h} was asked to start but qBittorrent shows it stopped or queued; its data is complete at '{plan.TargetPath}'");
                _journal.Advance(job, RehomeStep.Removing, $"started {started.Count} of {wasRunning.Count} torrent(s) that were running; removing the source");
            }
            if (job.Step == RehomeStep.Removing)
            {
                Report(plan, "Removing the source copy", 0, 0);
                CheckSourceUnused(plan, job);
                result.FilesRemoved = PayloadRemover.Remove(plan.SourcePath, files.Select(f => (f.FullName, f.Size)));
                new RehomeCatalog(_db).Apply(plan, files, _client, hashes);
                _journal.Advance(job, RehomeStep.Done, $"removed {result.FilesRemoved} file(s) from '{plan.SourcePath}'; catalog updated");
                _journal.Finish(job, "done", null);
            }
        }

        /// <summary>
        /// Just before the source goes: every relocated torrent complete on the target, and no other
        /// torrent of this qBittorrent (one added since the plan, say) using the source.
        /// </summary>
        private void CheckSourceUnused(RehomePlan plan, RehomeJob job)
        {
            var ours = new HashSet<string>(job.Torrents.Select(t => t.Hash), StringComparer.OrdinalIgnoreCase);
            foreach (var t in _client.Torrents())
            {
                if (ours.Contains(t.Hash) && !(TorrentRelocator.PointsAt(t, plan.TargetPath) && TorrentRelocator.IsComplete(t)))
                    throw new HashallException("RehomeSourceInUse", HashallErrorKind.InvalidData,
                        $"Torrent '{t.Name}' ({t.Hash}) is not complete at '{plan.TargetPath}' any more ('{t.State}' at '{t.ContentPath}'); the source was kept.", t.Hash);
                if (!ours.Contains(t.Hash) && t.ContentPath.Length > 0 && TorrentRelocator.PointsAt(t, plan.SourcePath))
                    throw new HashallException("RehomeSourceInUse", HashallErrorKind.InvalidData,
                        $"Torrent '{t.Name}' ({t.Hash}), not in the plan, uses '{plan.SourcePath}'; the source was kept.", t.Hash);
            }
        }

        /// <summary>
        /// Copies into the job's staging folder, verifies there, and renames the copy into place without
        /// ever replacing anything. Only a copy this job renamed into place (step Verified) is ever
        /// removed by a rollback; a target that appeared meanwhile is left alone.
        /// </summary>
        private void PlaceCopy(RehomePlan plan, RehomeJob job, List<PayloadFile> files, RehomeResult result, long total)
        {
            string staging = Staging(plan, job);
            string staged = PathText.Join(staging, Path.GetFileName(plan.SourcePath));
            bool targetThere = FileSystemApi.TryLstat(plan.TargetPath, out _) == 0;
            if (job.Step == RehomeStep.Placing && targetThere && FileSystemApi.TryLstat(staged, out _) != 0)
            {
                // Killed right after the rename: the copy in place was verified in staging; check it again.
                PayloadCopier.Verify(files, plan.TargetSavePath, Progress(plan, job, "Verifying the copy on the target", total), _cancel);
                _journal.Advance(job, RehomeStep.Verified, $"'{plan.TargetPath}' renamed into place before the interruption; verified again");
                return;
            }
            if (targetThere)
                throw new HashallException("RehomeTargetExists", HashallErrorKind.InvalidData, $"'{plan.TargetPath}' exists and is not this job's copy; it was left as it is.", plan.TargetPath);
            if (job.Step != RehomeStep.Placing || FileSystemApi.TryLstat(staged, out _) != 0)
            {
                if (Directory.Exists(staging))
                    Directory.Delete(staging, recursive: true); // a copy cut short by a kill: start it again
                _journal.MarkCopyCreated(job);
                _journal.Advance(job, RehomeStep.Copying, $"copying {files.Count} file(s), {total} bytes, into '{staging}'");
                bool newSavePath = !Directory.Exists(plan.TargetSavePath);
                Directory.CreateDirectory(staging);
                if (newSavePath)
                    FileMetadata.SyncDirectory(Path.GetDirectoryName(plan.TargetSavePath)!);
                var copy = PayloadCopier.Copy(files, staging, Progress(plan, job, "Copying to the target", total), _cancel);
                result.FilesCopied = copy.Files;
                result.BytesCopied = copy.Bytes;
                PayloadCopier.Verify(files, staging, Progress(plan, job, "Verifying the copy", total), _cancel);
                _journal.Advance(job, RehomeStep.Placing, $"copy verified in staging; renaming it to '{plan.TargetPath}'");
            }
            int error = HardLinks.RenameNoReplace(staged, plan.TargetPath);
            if (error == HardLinks.EEXIST || error == HardLinks.ENOTEMPTY)
                throw new HashallException("RehomeTargetExists", HashallErrorKind.InvalidData, $"'{plan.TargetPath}' appeared while the copy was made; it was left as it is.", plan.TargetPath);
            if (error != 0)
                throw new HashallException("RehomeCopyFailed", HashallErrorKind.WriteError, $"Cannot rename the verified copy to '{plan.TargetPath}': {HardLinks.Describe(error)}.", plan.TargetPath);
            _journal.Advance(job, RehomeStep.Verified, $"'{plan.TargetPath}' in place: {files.Count} file(s), sizes and SHA-1s match the catalog");
            Directory.Delete(staging);
            FileMetadata.SyncDirectory(plan.TargetSavePath);
        }

        /// <summary>
        /// After a failure: before the torrents were touched, remove this job's copy; while they were
        /// being relocated (both copies whole), point them back at the source, confirm, restart; after
        /// they were confirmed on the target, only going forward makes sense: the job stays open.
        /// </summary>
        private void Recover(RehomePlan plan, RehomeJob job, List<PayloadFile> files, Exception failure, RehomeResult result)
        {
            string what = failure is OperationCanceledException ? "stopped by the user." : failure.Message;
            // Ctrl+C: undo without the stop's token, so the rollback itself is not cut short.
            var relocator = new TorrentRelocator(_client, Deadline(plan), CancellationToken.None, () => KeepLease(job));
            var cancellation = _client.Cancellation;
            _client.Cancellation = CancellationToken.None;
            try
            {
                _journal.Note(job, "failed: " + what);
                if (job.Step >= RehomeStep.Relocated)
                {
                    result.Status = RehomeStatus.Failed;
                    result.Message = $"{what} The torrents are confirmed complete at '{plan.TargetPath}'; the source at '{plan.SourcePath}' may be partly removed. Run the plan again to finish.";
                    _journal.Finish(job, "failed", result.Message);
                    return;
                }
                if (job.Step >= RehomeStep.Stopping && job.Torrents.Count > 0)
                {
                    var hashes = job.Torrents.Select(t => t.Hash).ToList();
                    relocator.Stop(hashes);
                    relocator.Relocate(job.Torrents.ToDictionary(t => t.Hash, t => t.ContentPathBefore), job.Torrents[0].SavePathBefore, () => { });
                    _journal.Note(job, $"rolled back: qBittorrent confirmed the torrents complete at '{plan.SourcePath}' again");
                    relocator.Start(job.Torrents.Where(t => t.WasRunning).Select(t => t.Hash).ToList());
                }
                if (job.CopyCreated)
                {
                    string staging = Staging(plan, job);
                    if (Directory.Exists(staging))
                        Directory.Delete(staging, recursive: true);
                    if (job.Step >= RehomeStep.Verified) // renamed into place by this job: its own copy
                    {
                        PayloadRemover.Remove(plan.TargetPath, files.Select(f => (PathText.Join(plan.TargetSavePath, f.TorrentPath), f.Size)));
                        _journal.Note(job, $"rolled back: this job's copy at '{plan.TargetPath}' removed");
                    }
                }
                result.Status = RehomeStatus.RolledBack;
                result.Message = $"{what} Rolled back: the torrents seed '{plan.SourcePath}' as before, and this run's copy is removed.";
                _journal.Finish(job, "rolled-back", result.Message);
            }
            catch (Exception e) when (!(e is OutOfMemoryException))
            {
                result.Status = RehomeStatus.Failed;
                result.Message = $"{what} The rollback failed too: {e.Message} Nothing was deleted from '{plan.SourcePath}'" +
                                 (job.CopyCreated ? $", and the copy at '{plan.TargetPath}' may remain" : "") + ". Run the plan again to resume, or check qBittorrent.";
                try
                {
                    _journal.Finish(job, "failed", result.Message);
                }
                catch (HashallException again)
                {
                    result.Warnings.Add($"the journal could not record the failure ({again.Message}); the job's lease expires by itself");
                }
            }
            finally
            {
                _client.Cancellation = cancellation;
            }
        }

        private TorrentRelocator Relocator(RehomePlan plan, Func<RehomeJob?> job) => new TorrentRelocator(_client, Deadline(plan), _cancel, () => KeepLease(job()));

        /// <summary>
        /// Renews the job's lease every 30 s during long copies, verifications and waits on qBittorrent
        /// (from this thread only: the catalog connection is not shared with the verification workers).
        /// </summary>
        private void KeepLease(RehomeJob? job)
        {
            if (job == null || Environment.CurrentManagedThreadId != _thread || _sinceRenewal.Elapsed < TimeSpan.FromSeconds(30))
                return;
            _journal.Renew(job);
            _sinceRenewal.Restart();
        }

        /// <summary>qBittorrent checks sibling torrents one after the other: the budget grows with their number.</summary>
        private TimeSpan Deadline(RehomePlan plan) =>
            Timeout ?? TimeSpan.FromSeconds(120 + plan.TotalBytes * (double)Math.Max(1, plan.Torrents.Count(t => t.Role == "relocate")) / 50_000_000.0);

        private static string Staging(RehomePlan plan, RehomeJob job) => PathText.Join(plan.TargetSavePath, $".hashall-rehome-{job.JobId}");

        /// <summary>A byte counter for one activity: it reports progress and keeps the job's lease (verification calls it from worker threads).</summary>
        private Action<long> Progress(RehomePlan plan, RehomeJob job, string activity, long total)
        {
            long done = 0;
            Report(plan, activity, 0, total);
            return n =>
            {
                Report(plan, activity, Interlocked.Add(ref done, n), total);
                KeepLease(job);
            };
        }

        private void Report(RehomePlan plan, string activity, long done, long total) =>
            _progress(new RehomeProgress { Name = plan.Name, Activity = activity, BytesDone = done, BytesTotal = total });
    }
}
