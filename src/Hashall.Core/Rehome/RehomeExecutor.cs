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
using Hashall.Core.Torrents;

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

        /// <summary>Also check each relocated torrent's layout on the target against the torrent's own pieces (exported from qBittorrent) before any torrent is stopped.</summary>
        public bool VerifyPieces { get; set; }

        /// <summary>The steps a plan takes, for -WhatIf and the confirmation prompt: every hard link of a torrent's own layout too.</summary>
        public static List<string> Describe(RehomePlan plan, bool verifyPieces = false)
        {
            var relocate = plan.Torrents.Where(t => t.Role == "relocate").ToList();
            var steps = new List<string>();
            if (plan.Decision == RehomeDecision.Move)
            {
                steps.Add($"copy {plan.FileCount} file(s), {plan.TotalBytes} bytes, from '{plan.SourcePath}' to '{plan.TargetPath}' (mtime, mode and hard links kept), flush to disk");
                steps.Add("verify every copied file's size and SHA-1 against the catalog");
            }
            else
            {
                foreach (var copy in relocate.Where(t => t.Layout == "copy").Select(t => t.TargetPath).Prepend(plan.TargetPath).Distinct(StringComparer.Ordinal))
                    steps.Add($"verify the existing copy '{copy}' (size and SHA-1 of every file) against the catalog");
            }
            foreach (var link in plan.Links)
                steps.Add($"hard link '{link.Path}' to '{link.LinkTo}' ({link.Size} bytes, no bytes copied)");
            if (plan.Links.Count > 0)
                steps.Add($"verify the {plan.Links.Count} link(s) by inode and size (the copy's own files keep their names)");
            if (verifyPieces)
                steps.Add("check every piece of " + string.Join(", ", relocate.Select(t => $"'{t.Name}' at '{t.TargetPath}'")) + " against the torrent's own piece hashes (metainfo exported from qBittorrent)");
            steps.Add($"stop {string.Join(", ", relocate.Select(t => $"'{t.Name}' ({t.TorrentHash})"))}");
            steps.Add($"set their location to '{plan.TargetSavePath}', recheck, and confirm each complete at its own layout: "
                      + string.Join(", ", relocate.Select(t => $"'{t.Name}' at '{t.TargetPath}'")));
            steps.Add("start again those that were running");
            foreach (string root in RehomeValidator.SourceRoots(plan))
                steps.Add($"remove the payload's {plan.FileCount} file(s) from '{root}' (folders left empty too)");
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
            List<HashallPayload>? sources = null;
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
                if (openJob != null)
                    SamePlanAsJob(openJob.Value.JobId, openJob.Value.Plan, plan);
                if (!open && _journal.LastStatus(plan.PayloadHash!, plan.SourcePath, plan.TargetPath) == "done")
                {
                    result.Status = RehomeStatus.AlreadyDone;
                    result.Message = $"an earlier run already moved it to '{plan.TargetPath}'";
                    return result;
                }
                var live = relocator.Current(hashes);
                var validator = new RehomeValidator(_db);
                // A fresh start checks everything; a resumed job checks that its torrents are where the journal left them.
                sources = open ? validator.SourcePayloads(plan, live, _client) : validator.CheckLive(plan, live, _client);
                if (open)
                    foreach (var t in live.Values.Where(t => !TorrentRelocator.PointsAt(t, RehomeValidator.SourceOf(plan, t.Hash))
                                                             && !TorrentRelocator.PointsAt(t, RehomeValidator.TargetOf(plan, t.Hash))))
                        throw new HashallException("RehomePlanInvalid", HashallErrorKind.InvalidData,
                            $"Torrent '{t.Name}' ({t.Hash}) points at '{t.ContentPath}', neither its source nor its target of the interrupted job.", t.Hash);
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
                Run(plan, job, sources, relocator, hashes, result);
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
                    Recover(plan, job, sources!, e, result);
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

        /// <summary>
        /// A resumed job runs only the plan it was started from: everything that decides what is copied, linked,
        /// relocated or removed must equal the plan saved in its journal, else RehomePlanChanged names the field.
        /// </summary>
        private static void SamePlanAsJob(long jobId, string savedJson, RehomePlan plan)
        {
            RehomePlan saved;
            try
            {
                saved = RehomePlanFile.Deserialize(savedJson).Single();
            }
            catch (Exception e) when (e is HashallException || e is InvalidOperationException)
            {
                throw new HashallException("RehomePlanChanged", HashallErrorKind.InvalidData,
                    $"The plan saved in the journal of interrupted rehome job {jobId} of '{plan.Name}' cannot be read back ({e.Message}); the rerun was refused and nothing was changed.", plan.Name, e);
            }
            string? field = PlanDifference(saved, plan);
            if (field != null)
                throw new HashallException("RehomePlanChanged", HashallErrorKind.InvalidData,
                    $"The plan of '{plan.Name}' differs from the plan interrupted rehome job {jobId} was started from: {field}. "
                    + "Run the job's own plan again to finish it (or roll it back); nothing was changed.", plan.Name);
        }

        /// <summary>The first field that decides what is copied, linked, relocated or removed in which the plans differ ("X is 'a' in the job's plan, 'b' in this one"); null when none.</summary>
        internal static string? PlanDifference(RehomePlan saved, RehomePlan plan)
        {
            static string Diff(string field, object? was, object? now) => $"{field} is '{was}' in the job's plan, '{now}' in this one";
            if (saved.PayloadHash != plan.PayloadHash) return Diff("PayloadHash", saved.PayloadHash, plan.PayloadHash);
            if (saved.Direction != plan.Direction) return Diff("Direction", saved.Direction, plan.Direction);
            if (saved.Decision != plan.Decision) return Diff("Decision", saved.Decision, plan.Decision);
            if (saved.SourceDeviceId != plan.SourceDeviceId) return Diff("SourceDeviceId", saved.SourceDeviceId, plan.SourceDeviceId);
            if (saved.TargetDeviceId != plan.TargetDeviceId) return Diff("TargetDeviceId", saved.TargetDeviceId, plan.TargetDeviceId);
            if (saved.SourcePath != plan.SourcePath) return Diff("SourcePath", saved.SourcePath, plan.SourcePath);
            if (saved.TargetPath != plan.TargetPath) return Diff("TargetPath", saved.TargetPath, plan.TargetPath);
            if (saved.TargetSavePath != plan.TargetSavePath) return Diff("TargetSavePath", saved.TargetSavePath, plan.TargetSavePath);
            var before = saved.Torrents.GroupBy(t => t.TorrentHash.ToLowerInvariant()).ToDictionary(g => g.Key, g => g.First());
            var now = plan.Torrents.GroupBy(t => t.TorrentHash.ToLowerInvariant()).ToDictionary(g => g.Key, g => g.First());
            foreach (var hash in before.Keys.Except(now.Keys))
                return $"torrent {hash} is in the job's plan, not in this one";
            foreach (var hash in now.Keys.Except(before.Keys))
                return $"torrent {hash} is in this plan, not in the job's";
            if (plan.Torrents.Count != now.Count)
                return "this plan lists a torrent twice";
            foreach (var pair in before)
            {
                string hash = pair.Key;
                var was = pair.Value;
                var t = now[hash];
                if (was.Role != t.Role) return Diff($"Role of torrent {hash}", was.Role, t.Role);
                if (was.SourcePath != t.SourcePath) return Diff($"SourcePath of torrent {hash}", was.SourcePath, t.SourcePath);
                if (was.TargetPath != t.TargetPath) return Diff($"TargetPath of torrent {hash}", was.TargetPath, t.TargetPath);
                if (was.Layout != t.Layout) return Diff($"Layout of torrent {hash}", was.Layout, t.Layout);
            }
            if (saved.Links.Count != plan.Links.Count)
                return Diff("the number of Links", saved.Links.Count, plan.Links.Count);
            var links = plan.Links.OrderBy(l => l.Path, StringComparer.Ordinal).ToList();
            var savedLinks = saved.Links.OrderBy(l => l.Path, StringComparer.Ordinal).ToList();
            for (int i = 0; i < links.Count; i++)
            {
                if (savedLinks[i].Path != links[i].Path) return Diff("a link's Path", savedLinks[i].Path, links[i].Path);
                if (savedLinks[i].LinkTo != links[i].LinkTo) return Diff($"LinkTo of link '{links[i].Path}'", savedLinks[i].LinkTo, links[i].LinkTo);
                if (savedLinks[i].Size != links[i].Size) return Diff($"Size of link '{links[i].Path}'", savedLinks[i].Size, links[i].Size);
            }
            return null;
        }

        private void Run(RehomePlan plan, RehomeJob job, List<HashallPayload> sources, TorrentRelocator relocator, List<string> hashes, RehomeResult result)
        {
            var files = At(sources[0].Files, plan.SourcePath, plan.SourcePath);
            long total = files.Sum(f => f.Size);
            // Asked for before anything is copied: a qBittorrent that cannot export fails the plan now, not after the copy.
            var metainfo = VerifyPieces && job.Step < RehomeStep.Relocating ? ExportMetainfo(plan) : null;
            if (job.Step < RehomeStep.Verified)
            {
                if (plan.Decision == RehomeDecision.Move)
                {
                    PlaceCopy(plan, job, files, result, total);
                }
                else
                {
                    // Each copy a torrent uses as it is (its own name), by the source's paths; the files the
                    // links lay out, by the copy's own names (a content twin names them otherwise).
                    foreach (string copy in Copies(plan))
                    {
                        PayloadCopier.Verify(FilesAt(plan, sources, copy), plan.TargetSavePath, Progress(plan, job, "Verifying the copy on the target", total), _cancel);
                        _journal.Advance(job, RehomeStep.Verified, $"'{copy}' verified: {files.Count} file(s), sizes and SHA-1s match the catalog");
                    }
                    if (plan.Links.Count > 0)
                    {
                        var linked = LinkedFiles(plan, sources);
                        PayloadCopier.Verify(linked, plan.TargetSavePath, Progress(plan, job, "Verifying the copy on the target", linked.Sum(f => f.Size)), _cancel);
                        _journal.Advance(job, RehomeStep.Verified, $"'{plan.TargetPath}' verified: the {linked.Count} file(s) the links lay out, sizes and SHA-1s match the catalog");
                    }
                }
            }
            if (job.Step < RehomeStep.Linked && plan.Links.Count > 0)
                MakeLinks(plan, job);
            if (metainfo != null)
                CheckPieces(plan, job, metainfo);
            if (job.Step < RehomeStep.Relocating)
            {
                if (job.Torrents.Count == 0)
                {
                    // Recorded before anything changes in qBittorrent: a rollback or rerun restarts exactly these.
                    // A long copy later, each must still seed its source, complete and idle.
                    var current = relocator.Current(hashes);
                    foreach (var t in current.Values.Where(t => !TorrentRelocator.PointsAt(t, RehomeValidator.SourceOf(plan, t.Hash)) || !TorrentRelocator.IsComplete(t)))
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
                // source): every file of each torrent's layout must still be there before it is asked to.
                foreach (string tree in plan.Torrents.Where(t => t.Role == "relocate").Select(t => t.TargetPath).Distinct(StringComparer.Ordinal))
                {
                    var expected = plan.Links.Any(l => PathText.IsUnder(l.Path, tree))
                        ? plan.Links.Where(l => PathText.IsUnder(l.Path, tree)).Select(l => (l.Path, l.Size))
                        : FilesAt(plan, sources, tree).Select(f => (f.FullName, f.Size));
                    foreach (var (copy, size) in expected)
                        if (FileSystemApi.TryLstat(copy, out var st) != 0 || st.Size != size)
                            throw new HashallException("RehomeVerifyFailed", HashallErrorKind.InvalidData, $"'{copy}' of the verified copy is missing or changed; the torrents were not moved.", copy);
                }
                var targets = job.Torrents.ToDictionary(t => t.Hash,
                    t => TorrentRelocator.Rebase(t.ContentPathBefore, RehomeValidator.SourceOf(plan, t.Hash), RehomeValidator.TargetOf(plan, t.Hash)));
                relocator.Relocate(targets, plan.TargetSavePath, () =>
                {
                    FaultInjection.At("rehome-relocate");
                    Report(plan, "Rechecking the copy in qBittorrent", 0, 0);
                });
                _journal.Advance(job, RehomeStep.Relocated, $"qBittorrent confirmed {hashes.Count} torrent(s) complete at "
                                                            + string.Join(", ", plan.Torrents.Where(t => t.Role == "relocate").Select(t => $"'{t.TargetPath}'").Distinct()));
            }
            result.Relocated = hashes;
            if (job.Step == RehomeStep.Relocated)
            {
                var wasRunning = job.Torrents.Where(t => t.WasRunning).Select(t => t.Hash).ToList();
                var started = relocator.Start(wasRunning);
                result.Restarted = started;
                foreach (var h in wasRunning.Except(started, StringComparer.OrdinalIgnoreCase))
                    result.Warnings.Add($"torrent {h} was asked to start but qBittorrent shows it stopped or queued; its data is complete at '{RehomeValidator.TargetOf(plan, h)}'");
                _journal.Advance(job, RehomeStep.Removing, $"started {started.Count} of {wasRunning.Count} torrent(s) that were running; removing the source");
            }
            if (job.Step == RehomeStep.Removing)
            {
                Report(plan, "Removing the source copy", 0, 0);
                CheckSourceUnused(plan, job);
                // Every source root of the plan (a sibling under another name is a root of its own); the
                // linked trees on the target are the torrents' data now and stay.
                foreach (var source in sources)
                    result.FilesRemoved += PayloadRemover.Remove(source.FullName, source.Files.Select(f => (f.FullName, f.Size)));
                new RehomeCatalog(_db).Apply(plan, sources, _client, hashes);
                _journal.Advance(job, RehomeStep.Done, $"removed {result.FilesRemoved} file(s) from {string.Join(", ", sources.Select(x => $"'{x.FullName}'"))}; catalog updated");
                _journal.Finish(job, "done", null);
            }
        }

        /// <summary>The files of a torrent's tree that is a copy (not linked): its own source root's files, at the copy.</summary>
        private static List<PayloadFile> FilesAt(RehomePlan plan, List<HashallPayload> sources, string tree)
        {
            var t = plan.Torrents.FirstOrDefault(x => x.Role == "relocate" && x.Layout == "copy" && TorrentRelocator.SamePath(x.TargetPath, tree));
            var source = (t == null ? null : sources.FirstOrDefault(p => TorrentRelocator.SamePath(p.FullName, t.SourcePath))) ?? sources[0];
            return At(source.Files, source.FullName, tree);
        }

        /// <summary>The existing copies a REUSE verifies whole: each one a torrent uses as it is, under its own name.</summary>
        private static List<string> Copies(RehomePlan plan) =>
            plan.Torrents.Where(t => t.Role == "relocate" && t.Layout == "copy").Select(t => t.TargetPath).Distinct(StringComparer.Ordinal).ToList();

        /// <summary>The copy's files that links lay out, each once, with the size and SHA-1 of the source file it stands for.</summary>
        private static List<PayloadFile> LinkedFiles(RehomePlan plan, List<HashallPayload> sources)
        {
            var bySource = sources.SelectMany(p => p.Files).GroupBy(f => f.FullName, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.First(), StringComparer.Ordinal);
            var files = new List<PayloadFile>();
            foreach (var link in plan.Links.GroupBy(l => l.LinkTo, StringComparer.Ordinal).Select(g => g.First()))
            {
                string source = RehomeValidator.SourceFileOf(plan, link);
                if (!bySource.TryGetValue(source, out var file))
                    throw new HashallException("RehomePlanInvalid", HashallErrorKind.InvalidData, $"The link '{link.Path}' stands for '{source}', which is no file of the torrents to relocate.", link.Path);
                string torrentPath = PathText.RelativeTo(link.LinkTo, plan.TargetSavePath);
                files.Add(new PayloadFile { RelativePath = torrentPath, TorrentPath = torrentPath, FullName = link.LinkTo, Size = file.Size, Sha1 = file.Sha1 });
            }
            return files;
        }

        /// <summary>
        /// The payload's files as they are (or are to be) at <paramref name="to"/>: same path inside the
        /// root, the root's own name (TorrentPath = name/path, so a copier or verifier given the root's
        /// parent finds them).
        /// </summary>
        internal static List<PayloadFile> At(IEnumerable<PayloadFile> files, string from, string to)
        {
            string name = Path.GetFileName(to);
            return files.Select(f =>
            {
                string within = TorrentRelocator.SamePath(f.FullName, from) ? "" : PathText.RelativeTo(f.FullName, from);
                return new PayloadFile
                {
                    RelativePath = within.Length == 0 ? name : within, TorrentPath = within.Length == 0 ? name : name + "/" + within,
                    Size = f.Size, Sha1 = f.Sha1, Missing = f.Missing, FullName = PathText.Join(to, within),
                };
            }).ToList();
        }

        /// <summary>
        /// Lays out the torrents whose names differ from the copy's: every link of the plan, each name
        /// journaled before it is made (so a rollback, or a rerun after a kill, knows it as this job's),
        /// then every link checked to be the copy's inode with its size. A name that exists and is not a
        /// link this job made is never touched.
        /// </summary>
        private void MakeLinks(RehomePlan plan, RehomeJob job)
        {
            Report(plan, "Linking each torrent's own layout", 0, 0);
            var made = _journal.LinksMade(job.JobId);
            if (job.Step < RehomeStep.Linking)
                _journal.Advance(job, RehomeStep.Linking, $"laying out {plan.Torrents.Where(t => t.Layout == "linked").Select(t => t.TargetPath).Distinct().Count()} tree(s) "
                                                          + $"as {plan.Links.Count} hard link(s) to '{plan.TargetPath}'");
            var directories = new SortedSet<string>(StringComparer.Ordinal);
            foreach (var link in plan.Links)
            {
                _cancel.ThrowIfCancellationRequested();
                if (FileSystemApi.TryLstat(link.LinkTo, out var copy) != 0 || copy.Kind != FileKind.Regular || copy.Size != link.Size)
                    throw new HashallException("RehomeVerifyFailed", HashallErrorKind.InvalidData, $"'{link.LinkTo}' of the verified copy is missing or changed; no link to it was made.", link.LinkTo);
                if (FileSystemApi.TryLstat(link.Path, out var there) == 0)
                {
                    if (made.Contains(RehomeJournal.LinkDetail(link)) && there.Inode == copy.Inode && there.DeviceNumber == copy.DeviceNumber)
                        continue; // made before an interruption
                    throw new HashallException("RehomeTargetExists", HashallErrorKind.InvalidData, $"'{link.Path}' exists and is not a link this job made; it was left as it is.", link.Path);
                }
                if (made.Add(RehomeJournal.LinkDetail(link)))
                    _journal.RecordLink(job, link);
                string directory = Path.GetDirectoryName(link.Path)!;
                if (directories.Add(directory))
                    Directory.CreateDirectory(directory);
                int error = HardLinks.Link(link.LinkTo, link.Path);
                if (error != 0)
                    throw new HashallException("RehomeLinkFailed", HashallErrorKind.WriteError,
                        $"Cannot hard link '{link.Path}' to '{link.LinkTo}': {HardLinks.Describe(error)}.", link.Path);
                FaultInjection.At("rehome-link");
            }
            foreach (var link in plan.Links)
            {
                if (FileSystemApi.TryLstat(link.Path, out var st) != 0 || FileSystemApi.TryLstat(link.LinkTo, out var copy) != 0
                    || st.Inode != copy.Inode || st.DeviceNumber != copy.DeviceNumber || st.Size != link.Size)
                    throw new HashallException("RehomeVerifyFailed", HashallErrorKind.InvalidData,
                        $"'{link.Path}' is not a hard link of '{link.LinkTo}' with {link.Size} bytes.", link.Path);
            }
            foreach (string directory in directories.Reverse())
                FileMetadata.SyncDirectory(directory);
            FileMetadata.SyncDirectory(plan.TargetSavePath);
            _journal.Advance(job, RehomeStep.Linked, $"{plan.Links.Count} hard link(s) made and verified by inode and size; no bytes copied");
        }

        /// <summary>
        /// Rollback: removes the links this job journaled that are still links of the copy (anything else
        /// at such a name is not this job's and stays), then the folders they leave empty.
        /// </summary>
        private int RemoveLinks(RehomePlan plan, RehomeJob job)
        {
            int removed = 0;
            var made = _journal.LinksMade(job.JobId);
            foreach (string tree in plan.Torrents.Where(t => t.Role == "relocate" && t.Layout == "linked").Select(t => t.TargetPath).Distinct(StringComparer.Ordinal))
            {
                var ours = new List<(string, long)>();
                foreach (var link in plan.Links.Where(l => PathText.IsUnder(l.Path, tree) && made.Contains(RehomeJournal.LinkDetail(l))))
                {
                    int here = FileSystemApi.TryLstat(link.Path, out var st);
                    if (here != 0)
                        ours.Add((link.Path, link.Size)); // never made, or gone: its folders may still be this job's
                    else if (FileSystemApi.TryLstat(link.LinkTo, out var copy) == 0 && st.Inode == copy.Inode && st.DeviceNumber == copy.DeviceNumber && st.Kind == FileKind.Regular)
                        ours.Add((link.Path, st.Size));
                }
                if (ours.Count > 0)
                    removed += PayloadRemover.Remove(tree, ours);
            }
            return removed;
        }

        /// <summary>
        /// Just before the source goes: every relocated torrent complete on the target, and no other
        /// torrent of this qBittorrent (one added since the plan, say) using the source.
        /// </summary>
        private void CheckSourceUnused(RehomePlan plan, RehomeJob job)
        {
            var ours = new HashSet<string>(job.Torrents.Select(t => t.Hash), StringComparer.OrdinalIgnoreCase);
            var roots = RehomeValidator.SourceRoots(plan);
            foreach (var t in _client.Torrents())
            {
                if (ours.Contains(t.Hash) && !(TorrentRelocator.PointsAt(t, RehomeValidator.TargetOf(plan, t.Hash)) && TorrentRelocator.IsComplete(t)))
                    throw new HashallException("RehomeSourceInUse", HashallErrorKind.InvalidData,
                        $"Torrent '{t.Name}' ({t.Hash}) is not complete at '{RehomeValidator.TargetOf(plan, t.Hash)}' any more ('{t.State}' at '{t.ContentPath}'); the source was kept.", t.Hash);
                if (!ours.Contains(t.Hash) && t.ContentPath.Length > 0 && roots.FirstOrDefault(r => TorrentRelocator.PointsAt(t, r)) is string used)
                    throw new HashallException("RehomeSourceInUse", HashallErrorKind.InvalidData,
                        $"Torrent '{t.Name}' ({t.Hash}), not in the plan, uses '{used}'; the source was kept.", t.Hash);
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
                PayloadCopier.Verify(At(files, plan.SourcePath, plan.TargetPath), plan.TargetSavePath, Progress(plan, job, "Verifying the copy on the target", total), _cancel);
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
                // Each file is read back and hashed while the next one is copied.
                var copy = PayloadCopier.CopyAndVerify(files, staging, Progress(plan, job, "Copying to the target", total),
                    Progress(plan, job, "Verifying the copy", total), _cancel);
                result.FilesCopied = copy.Files;
                result.BytesCopied = copy.Bytes;
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
        private void Recover(RehomePlan plan, RehomeJob job, List<HashallPayload> sources, Exception failure, RehomeResult result)
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
                    result.Message = $"{what} The torrents are confirmed complete on the target ('{plan.TargetPath}'); the source at '{plan.SourcePath}' may be partly removed. Run the plan again to finish.";
                    _journal.Finish(job, "failed", result.Message);
                    return;
                }
                if (job.Step >= RehomeStep.Stopping && job.Torrents.Count > 0)
                {
                    var hashes = job.Torrents.Select(t => t.Hash).ToList();
                    relocator.Stop(hashes);
                    foreach (var group in job.Torrents.GroupBy(t => t.SavePathBefore, StringComparer.Ordinal))
                        relocator.Relocate(group.ToDictionary(t => t.Hash, t => t.ContentPathBefore), group.Key, () => { });
                    _journal.Note(job, $"rolled back: qBittorrent confirmed the torrents complete at '{plan.SourcePath}' again");
                    relocator.Start(job.Torrents.Where(t => t.WasRunning).Select(t => t.Hash).ToList());
                }
                if (job.Step >= RehomeStep.Linking && plan.Links.Count > 0)
                {
                    int links = RemoveLinks(plan, job);
                    _journal.Note(job, $"rolled back: {links} hard link(s) this job made removed; the copy's own files untouched");
                }
                if (job.CopyCreated)
                {
                    string staging = Staging(plan, job);
                    if (Directory.Exists(staging))
                        Directory.Delete(staging, recursive: true);
                    if (job.Step >= RehomeStep.Verified) // renamed into place by this job: its own copy
                    {
                        PayloadRemover.Remove(plan.TargetPath, At(sources[0].Files, plan.SourcePath, plan.TargetPath).Select(f => (f.FullName, f.Size)));
                        _journal.Note(job, $"rolled back: this job's copy at '{plan.TargetPath}' removed");
                    }
                }
                result.Status = RehomeStatus.RolledBack;
                result.Message = $"{what} Rolled back: the torrents seed '{plan.SourcePath}' as before, and this run's copy and links are removed.";
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

        /// <summary>
        /// Each torrent to relocate, checked piece by piece at its own layout on the target against the
        /// metainfo qBittorrent exports: damage the catalog's SHA-1s cannot see (a file that was already
        /// bad when scanned) fails here, naming the file, before any torrent is stopped.
        /// </summary>
        private void CheckPieces(RehomePlan plan, RehomeJob job, Dictionary<string, TorrentMetainfo> metainfo)
        {
            foreach (var t in plan.Torrents.Where(t => t.Role == "relocate"))
            {
                var meta = metainfo[t.TorrentHash];
                var check = TorrentVerifier.Verify(meta, TorrentChecker.ContentRoot(meta, t.TargetPath), new TorrentVerifyOptions(),
                    Progress(plan, job, $"Checking the pieces of '{t.Name}' on the target", meta.TotalLength), _cancel);
                if (check.Status != TorrentCheckStatus.Complete)
                {
                    var bad = check.Files.Where(f => f.Status != FileCheckStatus.Complete && f.Status != FileCheckStatus.Extra)
                        .Select(f => $"'{f.FullPath}' {f.Status}" + (f.BadRanges.Count > 0 ? $" (bytes {string.Join(", ", f.BadRanges.Take(3))}{(f.BadRanges.Count > 3 ? ", …" : "")})" : "")).ToList();
                    throw new HashallException("RehomeVerifyFailed", HashallErrorKind.InvalidData,
                        $"The copy of torrent '{t.Name}' ({t.TorrentHash}) at '{t.TargetPath}' fails {check.PiecesBad} of its {check.PiecesTotal} pieces: "
                        + string.Join("; ", bad.Take(5)) + (bad.Count > 5 ? $"; and {bad.Count - 5} more file(s)" : "") + ". No torrent was moved.",
                        check.Files.FirstOrDefault(f => f.Status == FileCheckStatus.Damaged)?.FullPath ?? t.TargetPath);
                }
                _journal.Note(job, $"'{t.TargetPath}' of torrent {t.TorrentHash}: all {check.PiecesTotal} pieces match the torrent's own hashes ({check.Version})");
            }
        }

        /// <summary>The metainfo of every torrent to relocate, exported from qBittorrent (Web API 2.8.11, qBittorrent 4.5, or later).</summary>
        private Dictionary<string, TorrentMetainfo> ExportMetainfo(RehomePlan plan) =>
            plan.Torrents.Where(t => t.Role == "relocate").ToDictionary(t => t.TorrentHash,
                t => TorrentMetainfo.Parse(_client.Export(t.TorrentHash), $"qBittorrent {_client.Instance} torrent {t.TorrentHash}"), StringComparer.OrdinalIgnoreCase);

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
