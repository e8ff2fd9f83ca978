using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Security.Cryptography;
using System.Threading;
using Hashall.Core.Catalog;
using Hashall.Core.Payloads;
using Hashall.Core.Platform;
using Hashall.Core.QBittorrent;
using Hashall.Core.Rehome;
using Hashall.Core.Scanning;

namespace Hashall.Core.Torrents
{
    /// <summary>
    /// Seeds a torrent from data the catalog proved (Find-HashallTorrentData's match): lays out the
    /// torrent's tree with hard links to the matched files (or verified copies), adds the .torrent to
    /// qBittorrent stopped, rechecks it, and starts it once qBittorrent reports the expected progress;
    /// or, for a repair, lays out the files a torrent in qBittorrent misses where it expects them and
    /// rechecks it. <see cref="Plan"/> decides everything and refuses before anything changes (unsafe
    /// paths, existing files, another device); <see cref="Execute"/> journals each folder, link and copy
    /// before making it (<see cref="SeedJournal"/>): a failure removes only what this job made, and the
    /// torrent it added; a rerun after a kill resumes the job.
    /// </summary>
    public sealed class TorrentSeeder
    {
        /// <summary>Links journalled per transaction (planned before the batch, made after it).</summary>
        internal const int LinkBatch = 256;

        /// <summary>Slack on the progress comparison (qBittorrent rounds progress it reports).</summary>
        internal const double ProgressTolerance = 1e-4;

        private static readonly string[] CheckingStates = { "checkingUP", "checkingDL", "checkingResumeData", "queuedForChecking", "allocating", "moving", "metaDL", "unknown" };

        private readonly CatalogDatabase _db;
        private readonly QBittorrentClient _client;
        private readonly SeedJournal _journal;

        public TorrentSeeder(CatalogDatabase db, QBittorrentClient client)
        {
            _db = db ?? throw new ArgumentNullException(nameof(db));
            _client = client ?? throw new ArgumentNullException(nameof(client));
            _journal = new SeedJournal(db);
        }

        // ---------------------------------------------------------------- plan

        /// <summary>
        /// Decides the layout and checks it; reads only (qBittorrent's torrent list, lstat, the journal).
        /// Throws HashallException: TorrentDataMismatch, TorrentNotFound / TorrentAlreadyAdded,
        /// TorrentPathUnsafe, TorrentRepairLayoutMismatch, TorrentLayoutPathExists, TorrentSourceChanged,
        /// TorrentDataOtherDevice, TorrentNothingMatched, TorrentResumeSavePathDiffers.
        /// </summary>
        public SeedPlan Plan(SeedRequest request)
        {
            var meta = request.Meta;
            var match = request.Match;
            if (!string.Equals(meta.Hash, match.Hash, StringComparison.OrdinalIgnoreCase))
                throw new HashallException("TorrentDataMismatch", HashallErrorKind.InvalidArgument,
                    $"The match is for torrent {match.Hash} but the metainfo of '{match.Name}' is torrent {meta.Hash}; run Find-HashallTorrentData on it again.", match.Hash);
            var plan = new SeedPlan { Request = request, Hash = meta.Hash, Name = meta.Name, Instance = _client.Instance };
            var open = _journal.OpenJob(meta.Hash);
            plan.Resumes = open != null;
            var journalled = open != null ? _journal.Links(open.JobId) : new Dictionary<string, SeedLinkRow>(StringComparer.Ordinal);
            plan.Existing = _client.Torrents(hashes: new[] { meta.Hash }).FirstOrDefault();

            var dataFiles = meta.Files.Where(f => !f.IsPad).ToList();
            List<string[]> relative; // per data file: its path below the save path, as components
            if (request.Repair)
            {
                if (plan.Existing == null)
                    throw new HashallException("TorrentNotFound", HashallErrorKind.NotFound,
                        $"qBittorrent at {_client.Instance} has no torrent {meta.Hash} ('{meta.Name}') to repair; add it without -Repair.", meta.Hash);
                var info = plan.Existing;
                // The data is where qBittorrent looks for it: its download folder while unfinished, when it uses one.
                plan.SavePath = info.DownloadPath.Length > 0 && PathText.IsUnder(info.ContentPath, info.DownloadPath) ? info.DownloadPath : info.SavePath;
                var names = _client.Files(meta.Hash);
                if (names.Count != dataFiles.Count || names.Where((n, i) => n.Size != dataFiles[i].Length).Any())
                    throw new HashallException("TorrentRepairLayoutMismatch", HashallErrorKind.InvalidData,
                        $"qBittorrent lists {names.Count} file(s) for '{meta.Name}' ({meta.Hash}) that do not line up with the {dataFiles.Count} of its metainfo (by order and size); nothing was laid out.", meta.Hash);
                relative = names.Select(n => n.Name.Replace('\\', '/').Split('/')).ToList();
                string first = names.Count > 0 ? names[0].Name.Replace('\\', '/') : meta.Name;
                plan.ContentPath = info.ContentPath.Length > 0 ? info.ContentPath : PathText.Join(plan.SavePath, first.Split('/')[0]);
            }
            else
            {
                if (plan.Existing != null && !(open != null && open.Mode == "add"))
                    throw new HashallException("TorrentAlreadyAdded", HashallErrorKind.InvalidArgument,
                        $"qBittorrent at {_client.Instance} already has torrent '{meta.Name}' ({meta.Hash}); to lay out files it misses, use -Repair.", meta.Hash);
                // A resumed add goes on where it started: its links (and the torrent, if added) are under the journalled save path.
                if (open != null && open.Mode == "add" && open.SavePath.Length > 0 && !string.Equals(open.SavePath.TrimEnd('/'), request.SavePath.TrimEnd('/'), StringComparison.Ordinal))
                    throw new HashallException("TorrentResumeSavePathDiffers", HashallErrorKind.InvalidArgument,
                        $"An earlier run of '{meta.Name}' ({meta.Hash}), job {open.JobId}, was interrupted while laying it out under '{open.SavePath}'; this run asks for '{request.SavePath}'. Nothing was changed: rerun with -SavePath '{open.SavePath}' to finish that job.", request.SavePath);
                plan.SavePath = request.SavePath;
                // qBittorrent's names with the Original layout: the root folder (multi-file) and the torrent's paths, as libtorrent sanitises them.
                string root = Sanitise(meta.Name);
                relative = dataFiles.Select(f => meta.IsSingleFile ? new[] { root } : new[] { root }.Concat(f.Path.Select(Sanitise)).ToArray()).ToList();
                plan.ContentPath = PathText.Join(plan.SavePath, root);
            }
            if (!Path.IsPathRooted(plan.SavePath))
                throw new HashallException("TorrentSavePathInvalid", HashallErrorKind.InvalidArgument,
                    $"The save path '{plan.SavePath}' for '{meta.Name}' is not an absolute path.", plan.SavePath);
            // Every name is checked before anything is made: no '..', '.', empty, absolute or NUL component.
            for (int i = 0; i < relative.Count; i++)
                foreach (string component in relative[i])
                    if (Unsafe(component))
                        throw new HashallException("TorrentPathUnsafe", HashallErrorKind.InvalidData,
                            $"Torrent '{meta.Name}' ({meta.Hash}) names a file '{string.Join("/", relative[i])}' with an unsafe component ('{component}'): it could land outside '{plan.SavePath}'. Nothing was laid out.", string.Join("/", relative[i]));

            var byRelative = new Dictionary<string, TorrentFileMatch>(StringComparer.Ordinal);
            foreach (var f in match.Files)
                byRelative[f.RelativePath] = f;
            ulong? saveDevice = null;
            var present = new bool[dataFiles.Count];
            var folders = new HashSet<string>(StringComparer.Ordinal);
            for (int i = 0; i < dataFiles.Count; i++)
            {
                var file = dataFiles[i];
                string target = PathText.Join(plan.SavePath, string.Join("/", relative[i]));
                if (file.Length == 0 || file.SymlinkPath != null)
                {
                    present[i] = true; // no bytes in any piece: libtorrent makes empty files and links itself
                    continue;
                }
                int error = FileSystemApi.TryLstat(target, out var existing);
                if (error == 0)
                {
                    journalled.TryGetValue(target, out var row);
                    if (row != null && Ours(row, existing))
                    {
                        plan.Actions.Add(new SeedAction { Kind = "done", Target = target, Source = row.Source, Size = file.Length, RelativePath = file.RelativePath });
                        present[i] = true;
                        continue;
                    }
                    if (request.Repair && existing.Kind == FileKind.Regular)
                    {
                        plan.Actions.Add(new SeedAction { Kind = "keep", Target = target, Size = file.Length, RelativePath = file.RelativePath });
                        present[i] = true;
                        continue;
                    }
                    throw new HashallException("TorrentLayoutPathExists", HashallErrorKind.InvalidArgument,
                        $"'{target}' already exists: Add-HashallTorrent never replaces anything; '{meta.Name}' ({meta.Hash}) was not laid out. Move it away or choose another -SavePath.", target);
                }
                if (!byRelative.TryGetValue(file.RelativePath, out var m) || m.MatchedPath == null)
                    continue; // missing: qBittorrent downloads it
                int sourceError = FileSystemApi.TryLstat(m.MatchedPath, out var source);
                if (sourceError != 0 || source.Kind != FileKind.Regular || source.Size != file.Length)
                    throw new HashallException("TorrentSourceChanged", HashallErrorKind.InvalidData,
                        $"'{m.MatchedPath}', the data found for '{file.RelativePath}' of '{meta.Name}', is {(sourceError != 0 ? "gone" : source.Kind != FileKind.Regular ? "no longer a regular file" : $"{source.Size} bytes now, not {file.Length}")}; run Find-HashallTorrentData again. Nothing was laid out.", m.MatchedPath);
                saveDevice ??= DeviceOf(plan.SavePath);
                string kind = "link";
                if (source.DeviceNumber != saveDevice)
                {
                    if (!request.AllowCopy)
                        throw new HashallException("TorrentDataOtherDevice", HashallErrorKind.InvalidArgument,
                            $"'{m.MatchedPath}' ({file.RelativePath} of '{meta.Name}') is on another filesystem than the save path '{plan.SavePath}': a hard link cannot cross filesystems. Choose a -SavePath on its device, or give -AllowCopy to copy (verified). Nothing was laid out.", m.MatchedPath);
                    kind = "copy";
                }
                plan.Actions.Add(new SeedAction { Kind = kind, Target = target, Source = m.MatchedPath, Size = file.Length, RelativePath = file.RelativePath, SourceDeviceId = m.DeviceId ?? match.DeviceId });
                present[i] = true;
                // The folders above it that are missing; an existing one must be a real folder (no symlink inside the layout).
                for (string? dir = Path.GetDirectoryName(target); dir != null && dir.Length > 0; dir = Path.GetDirectoryName(dir))
                {
                    if (folders.Contains(dir))
                        break;
                    int e = FileSystemApi.TryLstat(dir, out var st);
                    if (e == 0)
                    {
                        bool inside = PathText.IsUnder(dir, plan.SavePath) && dir.Length > plan.SavePath.TrimEnd('/').Length;
                        if (st.Kind != FileKind.Directory && (inside || !Directory.Exists(dir)))
                            throw new HashallException("TorrentLayoutPathExists", HashallErrorKind.InvalidArgument,
                                $"'{dir}' is in the way of '{meta.Name}' ({meta.Hash}): it is {(st.Kind == FileKind.SymbolicLink ? "a symbolic link" : "not a folder")}. Nothing was laid out.", dir);
                        break;
                    }
                    folders.Add(dir);
                }
            }
            plan.Folders.AddRange(folders.OrderBy(f => f.Length).ThenBy(f => f, StringComparer.Ordinal));
            if (plan.Actions.Count(a => a.Kind != "keep") == 0 && !request.Repair && dataFiles.Any(f => f.Length > 0))
                throw new HashallException("TorrentNothingMatched", HashallErrorKind.InvalidArgument,
                    $"No file of '{meta.Name}' ({meta.Hash}) was found ({match.Status}): there is nothing to lay out.", meta.Hash);
            plan.ExpectedProgress = ExpectedProgress(meta, dataFiles, present);
            return plan;
        }

        /// <summary>
        /// The progress libtorrent reports after a recheck when exactly the <paramref name="present"/> files
        /// hold the right bytes: the bytes (pad files not counted) of the pieces whose data files are all
        /// present, over all data bytes. A piece shared with a missing file fails its hash, so a Partial
        /// torrent ends a little below its matched share.
        /// </summary>
        internal static double ExpectedProgress(TorrentMetainfo meta, IReadOnlyList<MetainfoFile> dataFiles, IReadOnlyList<bool> present)
        {
            long total = dataFiles.Sum(f => f.Length);
            if (total == 0)
                return 1;
            long pl = meta.PieceLength;
            long pieces = (meta.PieceStreamLength + pl - 1) / pl;
            var bad = new System.Collections.BitArray((int)Math.Max(1, pieces));
            for (int i = 0; i < dataFiles.Count; i++)
                if (!present[i] && dataFiles[i].Length > 0)
                    for (long p = dataFiles[i].Offset / pl; p <= (dataFiles[i].Offset + dataFiles[i].Length - 1) / pl; p++)
                        bad[(int)p] = true;
            long done = 0;
            for (int i = 0; i < dataFiles.Count; i++)
            {
                var f = dataFiles[i];
                if (!present[i] || f.Length == 0)
                    continue;
                for (long p = f.Offset / pl; p <= (f.Offset + f.Length - 1) / pl; p++)
                    if (!bad[(int)p])
                        done += Math.Min(f.Offset + f.Length, (p + 1) * pl) - Math.Max(f.Offset, p * pl);
            }
            return (double)done / total;
        }

        private static string Sanitise(string component) => ContentFile.LibtorrentName(component) ?? component;

        /// <summary>A path component that could leave the save path or name nothing.</summary>
        public static bool Unsafe(string component) =>
            component.Length == 0 || component == "." || component == ".." || component.IndexOf('\0') >= 0 || component.IndexOf('/') >= 0
            || (FileSystemApi.IsWindows && (component.IndexOf('\\') >= 0 || component.IndexOf(':') >= 0));

        /// <summary>True when what is at a journalled path is what the job made there (the same inode, or for a planned link the source's).</summary>
        private static bool Ours(SeedLinkRow row, FileStatus existing)
        {
            if (existing.Kind != FileKind.Regular)
                return false;
            if (row.Inode is ulong inode)
                return existing.Inode == inode && existing.DeviceNumber == row.DeviceNumber;
            if (row.Kind == "link" && row.Source != null && FileSystemApi.TryLstat(row.Source, out var source) == 0)
                return source.Inode == existing.Inode && source.DeviceNumber == existing.DeviceNumber;
            return false;
        }

        /// <summary>st_dev of the nearest existing folder at or above <paramref name="path"/> (through a symlinked folder: its target's).</summary>
        private static ulong DeviceOf(string path)
        {
            for (string? dir = path; dir != null && dir.Length > 0; dir = Path.GetDirectoryName(dir))
                if (FileSystemApi.TryLstat(dir.TrimEnd('/') + "/.", out var st) == 0)
                    return st.DeviceNumber;
            return FileSystemApi.Lstat("/").DeviceNumber;
        }

        // ---------------------------------------------------------------- execute

        /// <summary>
        /// Carries out <paramref name="plan"/>. <paramref name="log"/> gets a line per step (verbose);
        /// <paramref name="bytesDone"/> gets bytes linked or copied. A failure before the recheck is waited
        /// for rolls back (the result is RolledBack, with its ErrorId and Message); a recheck that does not
        /// reach the expected progress leaves the torrent stopped (Incomplete). A kill leaves the job open:
        /// the next run for this torrent resumes it.
        /// </summary>
        public TorrentSeedResult Execute(SeedPlan plan, Action<string> log, Action<long> bytesDone, Action<string> warn, CancellationToken cancel,
            Action<string, double>? checking = null)
        {
            var clock = Stopwatch.StartNew();
            var request = plan.Request;
            var result = new TorrentSeedResult
            {
                Hash = plan.Hash, Name = plan.Name, SavePath = plan.SavePath, ContentPath = plan.ContentPath, ExpectedProgress = plan.ExpectedProgress,
                Category = request.Repair ? plan.Existing?.Category ?? "" : request.Category ?? "", Tags = request.Repair ? plan.Existing?.Tags.ToArray() ?? Array.Empty<string>() : request.Tags.ToArray(),
                Instance = _client.Instance, Database = _db.Path,
            };
            var job = _journal.Acquire(plan.Hash, plan.Name, request.Repair ? "repair" : "add", _client.Instance, plan.SavePath, Lease.NewOwner());
            result.JobId = job.JobId;
            result.Resumed = job.Resumed;
            if (job.Resumed)
                log($"Resuming job {job.JobId} of '{plan.Name}' (step {job.Step}).");
            try
            {
                return Run(plan, job, result, clock, log, bytesDone, warn, cancel, checking);
            }
            catch (Exception e)
            {
                // Whatever escaped (an error of a kind no step expects): the job must not stay 'running' with this
                // process's live lease, or every rerun in this session would be refused as busy. Failed, it stays
                // open: a rerun resumes it. No-op when a step already ended the job.
                try
                {
                    _journal.Finish(job, "failed", $"Stopped by an unexpected error: {e.GetType().Name}: {e.Message}");
                }
                catch (Exception finish)
                {
                    warn($"Job {job.JobId} of '{plan.Name}' could not be ended ({finish.Message}); its lease runs out by itself.");
                }
                throw;
            }
        }

        private TorrentSeedResult Run(SeedPlan plan, SeedJob job, TorrentSeedResult result, Stopwatch clock, Action<string> log, Action<long> bytesDone, Action<string> warn,
            CancellationToken cancel, Action<string, double>? checking)
        {
            var request = plan.Request;
            try
            {
                Layout(plan, job, result, log, bytesDone, cancel);
                if (!request.Repair)
                    AddTorrent(plan, job, log);
                _journal.Advance(job, "checking");
                // A torrent that errored (missingFiles) and still runs never ends a recheck on qBittorrent 4.5
                // (it sits in checkingUP at 0 %): stopped first, it checks at once. An added torrent is stopped already.
                if (request.Repair)
                    _client.Stop(new[] { plan.Hash });
                _client.Recheck(new[] { plan.Hash });
                log($"Rechecking '{plan.Name}' in qBittorrent.");
            }
            catch (Exception e) when (e is HashallException || e is IOException || e is UnauthorizedAccessException || e is OperationCanceledException)
            {
                var error = e as HashallException ?? (e is OperationCanceledException
                    ? new HashallException("TorrentSeedStopped", HashallErrorKind.ResourceUnavailable, $"Stopped while laying out '{plan.Name}'.", plan.Hash, e)
                    : new HashallException("TorrentLayoutFailed", HashallErrorKind.WriteError, $"Laying out '{plan.Name}' failed: {e.Message}", plan.Hash, e));
                Rollback(plan.Hash, plan.Name, job, result, error, log);
                result.Duration = clock.Elapsed;
                if (e is OperationCanceledException)
                    throw;
                return result;
            }

            // qBittorrent checks; the torrent stays stopped unless its progress is what the layout promises.
            // From here on nothing is rolled back: the layout and the torrent are whole, only the check is pending.
            try
            {
                var info = WaitChecked(plan, request.CheckTimeout, cancel, checking, out bool timedOut);
                result.Progress = info?.Progress ?? 0;
                result.State = info?.State ?? "";
                if (timedOut || info == null || result.Progress + ProgressTolerance < plan.ExpectedProgress || Errored(info))
                {
                    result.Status = TorrentSeedStatus.Incomplete;
                    result.ErrorId = timedOut ? "TorrentCheckTimeout" : "TorrentProgressShort";
                    result.Message = timedOut
                        ? $"qBittorrent did not finish checking '{plan.Name}' within {request.CheckTimeout.TotalSeconds:0} s (state {result.State}, progress {result.Progress:P1}); it was left stopped. Start it when its check is done."
                        : Errored(info!)
                            ? $"qBittorrent still reports '{plan.Name}' as {result.State} (at {result.Progress:P2}) after its recheck was asked for twice: its files are not where it looks for them. It was left stopped, with its files in place."
                            : $"qBittorrent reports '{plan.Name}' at {result.Progress:P2} after its recheck, less than the {plan.ExpectedProgress:P2} laid out: some data is not what the torrent needs. It was left stopped, with its files in place.";
                    _journal.Finish(job, "incomplete", result.Message);
                }
                else
                {
                    // The new names into the catalog while the torrent is still stopped: once started, qBittorrent
                    // writes the files of a Partial torrent it downloads, and they must not be hashed half written.
                    ScanLayout(plan, warn, cancel);
                    if (!request.NoStart)
                    {
                        _journal.Advance(job, "starting");
                        _client.Start(new[] { plan.Hash });
                        info = WaitStarted(plan.Hash, cancel) ?? info;
                        result.State = info.State;
                    }
                    result.Status = request.Repair ? TorrentSeedStatus.Repaired : TorrentSeedStatus.Added;
                    _journal.Finish(job, "done", null);
                    log($"'{plan.Name}' is at {result.Progress:P1} in qBittorrent ({result.State}).");
                }
            }
            catch (Exception e) when (e is HashallException || e is OperationCanceledException)
            {
                // Ctrl+C or qBittorrent gone while it checks: the job ends (a rerun must not find it held), the torrent stays as it is.
                string message = e is OperationCanceledException
                    ? $"Stopped while qBittorrent checked '{plan.Name}': it was left as it is (stopped unless it had been started)."
                    : $"'{plan.Name}' is laid out and in qBittorrent, but its check could not be followed: {e.Message}";
                _journal.Finish(job, "incomplete", message);
                if (e is OperationCanceledException)
                    throw;
                result.Status = TorrentSeedStatus.Incomplete;
                result.ErrorId = ((HashallException)e).ErrorId;
                result.Message = message;
                result.Duration = clock.Elapsed;
                return result;
            }
            SyncTorrent(plan, warn);
            result.Duration = clock.Elapsed;
            return result;
        }

        private void Layout(SeedPlan plan, SeedJob job, TorrentSeedResult result, Action<string> log, Action<long> bytesDone, CancellationToken cancel)
        {
            foreach (var done in plan.Actions.Where(a => a.Kind == "done" || a.Kind == "keep"))
            {
                if (done.Kind == "keep")
                    result.Kept++;
                else if (FileSystemApi.TryLstat(done.Source ?? "", out var s) == 0 && FileSystemApi.TryLstat(done.Target, out var t) == 0 && s.Inode == t.Inode && s.DeviceNumber == t.DeviceNumber)
                {
                    result.Links++;
                    result.BytesLinked += done.Size;
                }
                else
                {
                    result.Copies++;
                    result.BytesCopied += done.Size;
                }
            }
            // A job killed just after it told qBittorrent to add the torrent stays at 'adding': that step is how the
            // add below knows the torrent qBittorrent lists now is this job's own.
            _journal.Advance(job, job.Step == "adding" ? "adding" : "linking");
            foreach (string folder in plan.Folders)
            {
                cancel.ThrowIfCancellationRequested();
                var row = new SeedLinkRow { Path = folder, Kind = "folder" };
                _journal.Save(job, new[] { row });
                if (FileSystemApi.TryLstat(folder, out _) == 0)
                    continue; // made meanwhile by someone else (or by this job before a kill): left planned, removed only if empty
                Directory.CreateDirectory(folder);
                var st = FileSystemApi.Lstat(folder);
                row.State = "made";
                row.DeviceNumber = st.DeviceNumber;
                row.Inode = st.Inode;
                _journal.Save(job, new[] { row });
            }
            var links = plan.Actions.Where(a => a.Kind == "link").ToList();
            for (int at = 0; at < links.Count; at += LinkBatch)
            {
                cancel.ThrowIfCancellationRequested();
                var batch = links.Skip(at).Take(LinkBatch).Select(a => (Action: a, Row: new SeedLinkRow { Path = a.Target, Kind = "link", Source = a.Source, Size = a.Size })).ToList();
                _journal.Save(job, batch.Select(b => b.Row));
                var made = new List<SeedLinkRow>();
                try
                {
                    foreach (var (action, row) in batch)
                    {
                        int error = HardLinks.Link(action.Source!, action.Target);
                        if (error == HardLinks.EEXIST)
                            throw new HashallException("TorrentLayoutPathExists", HashallErrorKind.InvalidArgument,
                                $"'{action.Target}' appeared while '{plan.Name}' was laid out: it was not replaced, and the layout was rolled back.", action.Target);
                        if (error != 0)
                            throw new HashallException("TorrentLinkFailed", HashallErrorKind.WriteError,
                                $"Cannot link '{action.Target}' to '{action.Source}': {HardLinks.Describe(error)}.", action.Target);
                        FaultInjection.At("seed-link");
                        var st = FileSystemApi.Lstat(action.Target);
                        row.State = "made";
                        row.DeviceNumber = st.DeviceNumber;
                        row.Inode = st.Inode;
                        made.Add(row);
                        result.Links++;
                        result.BytesLinked += action.Size;
                        bytesDone(action.Size);
                    }
                }
                finally
                {
                    if (made.Count > 0)
                        _journal.Save(job, made);
                }
            }
            if (links.Count > 0)
                log($"Linked {links.Count} file(s) of '{plan.Name}' under '{plan.SavePath}'.");
            var journalled = job.Resumed ? _journal.Links(job.JobId) : null;
            foreach (var action in plan.Actions.Where(a => a.Kind == "copy"))
            {
                cancel.ThrowIfCancellationRequested();
                string temp = CopyTempPath(job, action.Target);
                // This job's half copy from before a kill: under the name the journal holds (an older run may have named it otherwise), and under this one.
                string? before = journalled != null && journalled.TryGetValue(action.Target, out var old) && old.State == "planned" ? old.TempPath : null;
                if (before != null && before != temp && FileSystemApi.TryLstat(before, out _) == 0)
                    HardLinks.Remove(before);
                var row = new SeedLinkRow { Path = action.Target, Kind = "copy", Source = action.Source, TempPath = temp, Size = action.Size };
                _journal.Save(job, new[] { row });
                if (FileSystemApi.TryLstat(temp, out _) == 0)
                    HardLinks.Remove(temp);
                var source = FileSystemApi.Lstat(action.Source!);
                try
                {
                    PayloadCopier.CopyOne(action.Source!, temp, source, bytesDone, cancel);
                }
                catch (HashallException e) when (e.ErrorId == "RehomeSourceChanged" || e.ErrorId == "RehomeCopyFailed")
                {
                    throw e.ErrorId == "RehomeSourceChanged"
                        ? new HashallException("TorrentSourceChanged", HashallErrorKind.InvalidData, $"'{action.Source}' changed while it was copied for '{action.Target}'; run Find-HashallTorrentData again. {e.Message}", action.Source, e)
                        : new HashallException("TorrentCopyFailed", HashallErrorKind.WriteError, e.Message, action.Target, e);
                }
                FaultInjection.At("seed-copy");
                // The copy is read back and compared with the catalog's SHA-1 of the source (the source hashed only when the catalog has none for it as it is now).
                var st = FileSystemApi.Lstat(temp);
                string expected = CatalogSha1(action.SourceDeviceId, source) ?? FileHasher.Hash(action.Source!, source, HashAlgorithms.Sha1, quick: false, cancel).Sha1!;
                string copied = FileHasher.Hash(temp, st, HashAlgorithms.Sha1, quick: false, cancel).Sha1!;
                if (!string.Equals(expected, copied, StringComparison.OrdinalIgnoreCase))
                    throw new HashallException("TorrentCopyVerifyFailed", HashallErrorKind.InvalidData,
                        $"The copy of '{action.Source}' for '{action.Target}' has SHA-1 {copied}, the source {expected}; it was removed.", action.Target);
                row.DeviceNumber = st.DeviceNumber;
                row.Inode = st.Inode;
                _journal.Save(job, new[] { row });
                int error = HardLinks.RenameNoReplace(temp, action.Target);
                if (error == HardLinks.EEXIST)
                    throw new HashallException("TorrentLayoutPathExists", HashallErrorKind.InvalidArgument,
                        $"'{action.Target}' appeared while '{plan.Name}' was laid out: it was not replaced, and the layout was rolled back.", action.Target);
                if (error != 0)
                    throw new HashallException("TorrentLinkFailed", HashallErrorKind.WriteError, $"Cannot rename the copy to '{action.Target}': {HardLinks.Describe(error)}.", action.Target);
                row.State = "made";
                _journal.Save(job, new[] { row });
                result.Copies++;
                result.BytesCopied += action.Size;
            }
            if (result.Copies > 0)
                log($"Copied {result.Copies} file(s) of '{plan.Name}' (verified).");
        }

        /// <summary>The temporary name of a copy until it is verified: beside its target, the same on every run of the job (so a rerun finds a killed run's half copy).</summary>
        internal static string CopyTempPath(SeedJob job, string target)
        {
            using var sha1 = SHA1.Create();
            string tag = FileHasher.Hex(sha1.ComputeHash(System.Text.Encoding.UTF8.GetBytes(target))).Substring(0, 16);
            return PathText.Join(Path.GetDirectoryName(target)!, $".hashall-seed-{job.JobId}-{tag}.part");
        }

        /// <summary>The catalog's SHA-1 of a file as it is now (same inode, size and mtime); null when it has none.</summary>
        private string? CatalogSha1(long? deviceId, FileStatus source) =>
            deviceId is long device
                ? new FileStore(_db).ActiveByInode(device, unchecked((long)source.Inode)).FirstOrDefault(r => r.Sha1 != null && r.SameFileAs(source.Size, source.MtimeNs, unchecked((long)source.Inode)))?.Sha1
                : null;

        private void AddTorrent(SeedPlan plan, SeedJob job, Action<string> log)
        {
            var request = plan.Request;
            if (job.TorrentAdded)
                return;
            var present = _client.Torrents(hashes: new[] { plan.Hash }).FirstOrDefault();
            if (present != null && job.Step != "adding")
                throw new HashallException("TorrentAlreadyAdded", HashallErrorKind.InvalidArgument,
                    $"qBittorrent at {_client.Instance} already has torrent '{plan.Name}' ({plan.Hash}), not added by this job; to lay out files it misses, use -Repair.", plan.Hash);
            if (present == null)
            {
                _journal.Advance(job, "adding");
                _client.AddTorrent(request.TorrentBytes ?? throw new InvalidOperationException("No .torrent bytes to add."), request.TorrentFileName, plan.SavePath, request.Category, request.Tags);
                FaultInjection.At("seed-add");
                var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
                while (_client.Torrents(hashes: new[] { plan.Hash }).FirstOrDefault() == null)
                {
                    if (DateTime.UtcNow > deadline)
                        throw new HashallException("TorrentAddFailed", HashallErrorKind.ResourceUnavailable,
                            $"qBittorrent at {_client.Instance} accepted '{plan.Name}' but does not list torrent {plan.Hash} after 30 s.", plan.Hash);
                    Thread.Sleep(100);
                }
                log($"Added '{plan.Name}' to qBittorrent, stopped, at '{plan.SavePath}'.");
            }
            _journal.Advance(job, "added", torrentAdded: true);
        }

        /// <summary>A recheck that shows no sign of running for this long is asked for again (once), and then judged.</summary>
        private static readonly TimeSpan RecheckSettle = TimeSpan.FromSeconds(3);

        private static bool Errored(TorrentInfo t) => t.State == "missingFiles" || t.State == "error";

        /// <summary>
        /// Polls until qBittorrent's check is over, with evidence that it ran in this run: a checking state seen;
        /// for an added torrent (which starts at 0), the expected progress reached; for a repair, the progress
        /// changed from what qBittorrent reported before, or its state left missingFiles/error (a torrent that
        /// lost its files can still report the progress it had, as TorrentRelocator also assumes). Without
        /// evidence after a short wait, the recheck is asked for once more (a request can be lost while
        /// qBittorrent is busy with the torrent, or a tiny check ran between two polls), and judged after another.
        /// </summary>
        private TorrentInfo? WaitChecked(SeedPlan plan, TimeSpan timeout, CancellationToken cancel, Action<string, double>? checking, out bool timedOut)
        {
            var clock = Stopwatch.StartNew();
            var sinceAsked = Stopwatch.StartNew();
            bool askedAgain = false, evidence = false;
            var before = plan.Request.Repair ? plan.Existing : null;
            TorrentInfo? info = null;
            while (true)
            {
                cancel.ThrowIfCancellationRequested();
                info = _client.Torrents(hashes: new[] { plan.Hash }).FirstOrDefault();
                bool busy = info == null || CheckingStates.Contains(info.State);
                if (info != null)
                {
                    checking?.Invoke(info.State, info.Progress);
                    evidence |= busy || (before == null
                        ? info.Progress + ProgressTolerance >= plan.ExpectedProgress
                        : Math.Abs(info.Progress - before.Progress) > ProgressTolerance || (Errored(before) && !Errored(info)));
                }
                if (!busy && (evidence || (askedAgain && sinceAsked.Elapsed > RecheckSettle)))
                {
                    timedOut = false;
                    return info;
                }
                if (clock.Elapsed > timeout)
                {
                    timedOut = true;
                    return info;
                }
                if (!busy && !askedAgain && sinceAsked.Elapsed > RecheckSettle)
                {
                    _client.Recheck(new[] { plan.Hash });
                    askedAgain = true;
                    sinceAsked.Restart();
                }
                Thread.Sleep(100);
            }
        }

        private TorrentInfo? WaitStarted(string hash, CancellationToken cancel)
        {
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
            TorrentInfo? info = null;
            while (DateTime.UtcNow < deadline)
            {
                cancel.ThrowIfCancellationRequested();
                info = _client.Torrents(hashes: new[] { hash }).FirstOrDefault();
                if (info != null && !info.State.StartsWith("paused", StringComparison.Ordinal) && !info.State.StartsWith("stopped", StringComparison.Ordinal))
                    return info;
                Thread.Sleep(100);
            }
            return info;
        }

        /// <summary>
        /// The refusals of <see cref="Plan"/> that mean something is in the way of an open job for good (a name
        /// that is not its own, a source that changed, data on another device): only these roll an open job back.
        /// Anything else (qBittorrent slow or gone, a busy catalog, a stale or mismatched input) leaves it for a rerun.
        /// </summary>
        internal static readonly string[] InTheWay = { "TorrentLayoutPathExists", "TorrentSourceChanged", "TorrentDataOtherDevice" };

        /// <summary>
        /// After <see cref="Plan"/> refused a torrent that has an open job (an earlier run killed mid-way, and
        /// now something is in the way, see <see cref="InTheWay"/>): removes what that job made and the torrent
        /// it added, so nothing stays half made. Returns the rolled-back result; null when there was no open job
        /// or the refusal is of another kind (the job is left as it is: a later run resumes it).
        /// </summary>
        public TorrentSeedResult? RollbackOpen(string hash, string name, HashallException reason, Action<string> log)
        {
            if (!InTheWay.Contains(reason.ErrorId) || _journal.OpenJob(hash) == null)
                return null;
            var job = _journal.Acquire(hash, name, "add", _client.Instance, "", Lease.NewOwner());
            var result = new TorrentSeedResult { Hash = hash, Name = name, JobId = job.JobId, Resumed = true, SavePath = job.SavePath, Instance = _client.Instance, Database = _db.Path };
            Rollback(hash, name, job, result, reason, log);
            return result;
        }

        private void Rollback(string hash, string name, SeedJob job, TorrentSeedResult result, HashallException error, Action<string> log)
        {
            var cancel = _client.Cancellation;
            _client.Cancellation = CancellationToken.None;
            try
            {
                if (job.TorrentAdded || job.Step == "adding")
                {
                    if (_client.Torrents(hashes: new[] { hash }).Any())
                    {
                        _client.Delete(new[] { hash });
                        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
                        while (_client.Torrents(hashes: new[] { hash }).Any() && DateTime.UtcNow < deadline)
                            Thread.Sleep(100);
                    }
                    _journal.Advance(job, "rolling back", torrentAdded: false);
                }
                var rows = _journal.Links(job.JobId).Values.ToList();
                var removed = new List<SeedLinkRow>();
                foreach (var row in rows.Where(r => r.Kind != "folder" && r.State != "removed"))
                {
                    if (row.TempPath != null && row.State == "planned" && FileSystemApi.TryLstat(row.TempPath, out _) == 0)
                        HardLinks.Remove(row.TempPath);
                    if (FileSystemApi.TryLstat(row.Path, out var st) == 0 && Ours(row, st))
                        HardLinks.Remove(row.Path);
                    row.State = "removed";
                    removed.Add(row);
                }
                foreach (var row in rows.Where(r => r.Kind == "folder" && r.State != "removed").OrderByDescending(r => r.Path.Length))
                {
                    if (Directory.Exists(row.Path) && !Directory.EnumerateFileSystemEntries(row.Path).Any())
                        Directory.Delete(row.Path);
                    row.State = "removed";
                    removed.Add(row);
                }
                _journal.Save(job, removed);
                _journal.Finish(job, "rolled-back", error.Message);
                log($"Rolled back '{name}': {removed.Count(r => r.Kind != "folder")} name(s) and {removed.Count(r => r.Kind == "folder")} folder(s) this job made removed{(job.Step == "rolling back" ? ", and the torrent it added" : "")}.");
                result.Links = result.Copies = 0;
                result.BytesLinked = result.BytesCopied = 0;
            }
            catch (Exception e) when (e is HashallException || e is IOException || e is UnauthorizedAccessException)
            {
                _journal.Finish(job, "failed", error.Message + " Rollback failed: " + e.Message);
                result.Message = error.Message + $" The rollback failed too ({e.Message}): a rerun resumes job {job.JobId}.";
            }
            finally
            {
                _client.Cancellation = cancel;
            }
            result.Status = TorrentSeedStatus.RolledBack;
            result.ErrorId = error.ErrorId;
            result.Message ??= error.Message;
        }

        /// <summary>Records the new names in the catalog (a scan of the content, hashes reused from their inodes), before the torrent is started.</summary>
        private void ScanLayout(SeedPlan plan, Action<string> warn, CancellationToken cancel)
        {
            try
            {
                string root = plan.ContentPath;
                if (plan.Actions.Any(a => a.Kind == "link" || a.Kind == "copy") && (Directory.Exists(root) || File.Exists(root)))
                    new Scanner(_db, new ScanOptions(), new WarningObserver(warn)).Run(new[] { root }, cancel);
            }
            catch (HashallException e)
            {
                warn($"'{plan.Name}' is laid out, but its new names are not in the catalog: {e.Message} Run Invoke-HashallScan.");
            }
        }

        /// <summary>Records the torrent as qBittorrent has it now (a sync of it), after it was started.</summary>
        private void SyncTorrent(SeedPlan plan, Action<string> warn)
        {
            try
            {
                new PayloadSync(_db).Record(_client, plan.Hash);
            }
            catch (HashallException e)
            {
                warn($"'{plan.Name}' is seeding, but the catalog was not updated: {e.Message} Run Sync-HashallPayload.");
            }
        }

        private sealed class WarningObserver : IScanObserver
        {
            private readonly Action<string> _warn;
            public WarningObserver(Action<string> warn) => _warn = warn;
            public void Progress(ScanProgress progress) { }
            public void Error(HashallException error) => _warn(error.Message);
            public void NestedMount(string path, bool crossed) { }
        }
    }
}
