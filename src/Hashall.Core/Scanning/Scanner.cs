using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Threading;
using Hashall.Core.Catalog;
using Hashall.Core.Devices;
using Hashall.Core.Platform;

namespace Hashall.Core.Scanning
{
    /// <summary>
    /// Walks roots and brings the catalog up to date: the walk, stat and catalog writes run on the
    /// calling thread (which also receives every observer call); file contents are hashed by
    /// <see cref="HashWorkers"/>. A file whose size, mtime and inode are unchanged is not read; one
    /// inode is read once for all its paths; a rename keeps its row; files gone from a fully walked
    /// root are marked deleted.
    /// </summary>
    public sealed class Scanner
    {
        private const int ENOENT = 2;
        private static readonly TimeSpan QueueWait = TimeSpan.FromMilliseconds(50);

        private readonly CatalogDatabase _db;
        private readonly ScanOptions _options;
        private readonly IScanObserver _observer;
        private readonly DeviceLocator _locator = new DeviceLocator();
        private readonly DeviceStore _devices;
        private readonly FileStore _files;
        private readonly Dictionary<(long Device, long Inode), HashJob> _inodeJobs = new Dictionary<(long, long), HashJob>();
        private readonly ScanProgress _progress = new ScanProgress();
        private readonly Stopwatch _clock = new Stopwatch();
        private TimeSpan _lastProgress = TimeSpan.FromDays(-1);
        private ScanResult _result = new ScanResult();
        private ScanWriter? _writer;
        private HashWorkers? _workers;
        private long _drained;
        private CancellationToken _cancel;

        public Scanner(CatalogDatabase db, ScanOptions options, IScanObserver observer)
        {
            _db = db;
            _options = options;
            _observer = observer;
            _devices = new DeviceStore(db);
            _files = new FileStore(db);
        }

        private HashAlgorithms Algorithms => _options.Algorithms | HashAlgorithms.Sha1;
        private bool Quick => _options.Mode != ScanMode.Full;

        public ScanResult Run(IEnumerable<string> roots, CancellationToken cancel)
        {
            _cancel = cancel;
            _clock.Restart();
            _result = new ScanResult { Mode = _options.Mode, Database = _db.Path };
            var scopes = new List<ScanScope>();
            using (_writer = new ScanWriter(_db, DateTime.UtcNow))
            {
                using (_workers = new HashWorkers(Math.Max(1, _options.ThrottleLimit), Algorithms, cancel))
                {
                    var pending = new Queue<string>(Normalize(roots));
                    while (pending.Count > 0 && !cancel.IsCancellationRequested)
                    {
                        var scope = OpenScope(pending.Dequeue());
                        if (scope == null)
                            continue;
                        scopes.Add(scope);
                        foreach (var nested in Walk(scope))
                            pending.Enqueue(nested);
                    }
                    _progress.WalkDone = true;
                    DrainAll();
                }
                if (!cancel.IsCancellationRequested)
                {
                    foreach (var scope in scopes)
                        Finalize(scope);
                    _writer.Commit();
                    if (_options.Mode == ScanMode.Candidates)
                        HashCandidates(scopes);
                }
                _writer.Commit();
            }
            _result.Completed = !cancel.IsCancellationRequested;
            _result.Duration = _clock.Elapsed;
            Report(force: true);
            return _result;
        }

        /// <summary>Canonical roots (the root itself may be a symlink; nothing below it is followed), without repeats.</summary>
        private IEnumerable<string> Normalize(IEnumerable<string> roots)
        {
            var result = new List<(string Path, ulong Dev)>();
            foreach (var root in roots)
            {
                try
                {
                    string full = FileSystemApi.IsWindows ? Path.GetFullPath(root) : UnixPaths.RealPath(root);
                    result.Add((full, FileSystemApi.Lstat(full).DeviceNumber));
                }
                catch (HashallException e)
                {
                    Fail(e);
                }
            }
            return result
                .Where(r => !result.Any(o => o.Path != r.Path && o.Dev == r.Dev && PathText.IsUnder(r.Path, o.Path)))
                .Select(r => r.Path).Distinct();
        }

        private ScanScope? OpenScope(string root)
        {
            try
            {
                var located = _locator.Locate(root);
                var device = _devices.Register(located.Device);
                _result.Roots.Add(located.FullPath);
                var rows = _files.UnderPrefix(device.DeviceId, located.RelativePath);
                bool rowsOutside = _files.CountActive(device.DeviceId) > rows.Count(r => !r.Deleted);
                return new ScanScope(device.DeviceId, located.Device, located.FullPath, located.RelativePath, rows, rowsOutside);
            }
            catch (HashallException e) when (e.Kind != HashallErrorKind.WriteError && e.Kind != HashallErrorKind.ResourceBusy)
            {
                Fail(e);
                return null;
            }
        }

        /// <summary>Depth-first walk of one scope; returns nested mount points to walk as scopes of their own (with CrossMounts).</summary>
        private List<string> Walk(ScanScope scope)
        {
            var nested = new List<string>();
            int rootError = FileSystemApi.TryLstat(scope.RootFullPath, out var root);
            if (rootError != 0)
            {
                Fail(FileSystemApi.ErrorFor(rootError, scope.RootFullPath));
                scope.WalkFailed = true;
                return nested;
            }
            if (root.Kind == FileKind.Regular)
            {
                Visit(scope, scope.RootFullPath, root);
                return nested;
            }
            var stack = new Stack<string>();
            stack.Push(scope.RootFullPath);
            while (stack.Count > 0 && !_cancel.IsCancellationRequested)
            {
                string dir = stack.Pop();
                _progress.CurrentPath = dir;
                List<string> entries;
                try
                {
                    entries = Directory.EnumerateFileSystemEntries(dir).ToList();
                }
                catch (Exception e) when (e is UnauthorizedAccessException || e is IOException)
                {
                    string id = e is UnauthorizedAccessException ? "DirectoryUnreadable" : e is DirectoryNotFoundException ? "DirectoryVanished" : "DirectoryUnreadable";
                    Fail(new HashallException(id, e is UnauthorizedAccessException ? HashallErrorKind.PermissionDenied : HashallErrorKind.ReadError,
                        $"Cannot list directory '{dir}': {e.Message}. The catalog keeps what it knew under it.", dir, e));
                    scope.FailedDirectories.Add(scope.Relative(dir));
                    if (dir == scope.RootFullPath)
                        scope.WalkFailed = true;
                    continue;
                }
                foreach (var full in entries)
                {
                    if (_cancel.IsCancellationRequested)
                        break;
                    int error = FileSystemApi.TryLstat(full, out var st);
                    if (error != 0)
                    {
                        if (error == ENOENT && full.IndexOf('\uFFFD') >= 0)
                            Fail(new HashallException("InvalidUtf8Name", HashallErrorKind.InvalidData,
                                $"'{full}' has a name that is not valid UTF-8 (shown with U+FFFD); it cannot be catalogued by name. Rename it to catalog it.", full));
                        else if (error != ENOENT) // gone since the listing: simply not there any more
                        {
                            Fail(FileSystemApi.ErrorFor(error, full));
                            scope.FailedDirectories.Add(scope.Relative(full));
                        }
                        continue;
                    }
                    switch (st.Kind)
                    {
                        case FileKind.Directory when st.DeviceNumber != scope.DeviceNumber:
                            _result.NestedMounts.Add(full);
                            _observer.NestedMount(full, _options.CrossMounts);
                            scope.FailedDirectories.Add(scope.Relative(full)); // hidden under the mount, not gone
                            if (_options.CrossMounts)
                                nested.Add(full);
                            break;
                        case FileKind.Directory:
                            stack.Push(full);
                            break;
                        case FileKind.Regular:
                            Visit(scope, full, st);
                            break;
                    }
                }
                Pump();
            }
            return nested;
        }

        /// <summary>Decides, for one regular file, whether to keep its row, reuse a known inode's hashes, or read it.</summary>
        private void Visit(ScanScope scope, string full, FileStatus st)
        {
            _result.Seen++;
            _progress.FilesSeen++;
            string rel = scope.Relative(full);
            long inode = unchecked((long)st.Inode);
            scope.Rows.TryGetValue(rel, out var row);
            if (row != null)
                scope.SeenIds.Add(row.FileId);
            if (row != null && row.SameFileAs(st.Size, st.MtimeNs, inode))
            {
                if (HasNeededHashes(row))
                {
                    _result.Unchanged++;
                    if (row.Deleted || row.LinkCount != st.LinkCount)
                        _writer!.Touch(row.FileId, st.LinkCount);
                    return;
                }
                Enqueue(new HashTarget(scope, rel, st, TargetKind.Upgrade, row), full);
                return;
            }
            var target = new HashTarget(scope, rel, st, row == null ? TargetKind.Added : TargetKind.Changed, row);
            if (_inodeJobs.TryGetValue((scope.DeviceId, inode), out var job) && SameContent(job.Status, st))
            {
                Attach(job, target);
                return;
            }
            if (row == null && KnownInode(scope, rel, inode, st) is FileRow source)
            {
                scope.Relinks.Add((rel, st, source));
                return;
            }
            Enqueue(target, full);
        }

        private bool HasNeededHashes(FileRow row)
        {
            if (Quick)
                return row.Sha1 != null || row.QuickHash != null;
            return row.Sha1 != null && ((Algorithms & HashAlgorithms.Sha256) == 0 || row.Sha256 != null);
        }

        private static bool SameContent(FileStatus a, FileStatus b) => a.Size == b.Size && a.MtimeNs == b.MtimeNs && a.Inode == b.Inode;

        /// <summary>A catalogued path of the same inode, size and mtime with the hashes this run needs: a rename or another hard link.</summary>
        private FileRow? KnownInode(ScanScope scope, string rel, long inode, FileStatus st)
        {
            IEnumerable<FileRow> candidates = scope.ByInode.TryGetValue(inode, out var local) ? local : Enumerable.Empty<FileRow>();
            if (scope.HasRowsOutside)
                candidates = candidates.Concat(_files.ActiveByInode(scope.DeviceId, inode));
            return candidates.FirstOrDefault(r => r.Path != rel && r.SameFileAs(st.Size, st.MtimeNs, inode) && HasNeededHashes(r));
        }

        private void Enqueue(HashTarget target, string full)
        {
            var job = new HashJob(full, target.Status, Quick);
            job.Targets.Add(target);
            if (target.Status.LinkCount > 1)
                _inodeJobs[(target.Scope.DeviceId, unchecked((long)target.Status.Inode))] = job;
            _progress.FilesToHash++;
            _progress.BytesToHash += job.Quick && target.Status.Size > 2L * FileHasher.SampleBytes ? 2L * FileHasher.SampleBytes : target.Status.Size;
            while (!_workers!.TryAdd(job, QueueWait))
            {
                Pump();
                if (_cancel.IsCancellationRequested)
                    return;
            }
        }

        private void Attach(HashJob job, HashTarget target)
        {
            if (job.Written)
                WriteTarget(job, target);
            else
                job.Targets.Add(target);
        }

        /// <summary>Writes what the workers finished, commits when due, reports progress.</summary>
        private void Pump()
        {
            while (_workers!.Finished.TryDequeue(out var job))
            {
                _drained++;
                if (job.Error != null)
                {
                    if (job.Error.ErrorId != "ScanStopped")
                        Fail(job.Error);
                    foreach (var t in job.Targets)
                        if (t.Row != null)
                            t.Scope.ProtectedIds.Add(t.Row.FileId);
                }
                else
                {
                    _result.Hashed++;
                    _result.BytesHashed += job.Result!.BytesRead;
                    _progress.FilesHashed++;
                    _progress.BytesHashed += job.Result.BytesRead;
                    foreach (var t in job.Targets)
                        WriteTarget(job, t);
                }
                job.Written = true;
            }
            _writer!.MaybeCommit();
            Report(force: false);
        }

        private void DrainAll()
        {
            while (_drained < _workers!.Submitted && !_cancel.IsCancellationRequested)
            {
                _workers.WaitForFinished(TimeSpan.FromMilliseconds(100));
                Pump();
            }
            _workers.Dispose(); // joins the threads; after a stop they finish within one buffer read
            Pump();
        }

        private void WriteTarget(HashJob job, HashTarget t)
        {
            var r = job.Result!;
            string? sha1 = r.Sha1, sha256 = r.Sha256, quick = r.QuickHash;
            switch (t.Kind)
            {
                case TargetKind.Added: _result.Added++; break;
                case TargetKind.Changed: _result.Changed++; break;
                default:
                    if (t.Kind == TargetKind.Upgrade)
                        _result.Unchanged++;
                    sha1 ??= t.Row?.Sha1;
                    sha256 ??= t.Row?.Sha256;
                    quick ??= t.Row?.QuickHash;
                    break;
            }
            _writer!.Upsert(t.Scope.DeviceId, t.RelativePath, t.Status, sha1, sha256, quick);
        }

        /// <summary>After a complete walk: renames, deletions, last-seen times and the device's scan time.</summary>
        private void Finalize(ScanScope scope)
        {
            if (scope.WalkFailed)
                return;
            var moved = new HashSet<long>();
            foreach (var (path, st, source) in scope.Relinks)
            {
                if (!moved.Contains(source.FileId) && SourceGone(scope, source))
                {
                    _writer!.Move(source.FileId, scope.DeviceId, path, st);
                    moved.Add(source.FileId);
                    scope.SeenIds.Add(source.FileId);
                    _result.Moved++;
                }
                else
                {
                    _writer!.Upsert(scope.DeviceId, path, st, source.Sha1, source.Sha256, source.QuickHash);
                    _result.Added++;
                }
            }
            var keep = new List<long>(scope.ProtectedIds);
            foreach (var row in scope.Rows.Values)
            {
                if (scope.UnderFailedDirectory(row.Path))
                    keep.Add(row.FileId);
                else if (!row.Deleted && !scope.SeenIds.Contains(row.FileId) && !scope.ProtectedIds.Contains(row.FileId))
                {
                    _writer!.MarkDeleted(row.FileId);
                    _result.Deleted++;
                }
            }
            _writer!.TouchScope(scope.DeviceId, scope.RelativePrefix, keep);
            _writer.DeviceScanned(scope.DeviceId);
        }

        private bool SourceGone(ScanScope scope, FileRow source)
        {
            if (scope.Rows.ContainsKey(source.Path))
                return !scope.SeenIds.Contains(source.FileId) && !scope.UnderFailedDirectory(source.Path);
            string? full = scope.FullPath(source.Path);
            return full != null && (FileSystemApi.TryLstat(full, out var st) != 0 || unchecked((long)st.Inode) != source.Inode);
        }

        /// <summary>Candidates mode: full hashes for rows that share a size and quick hash with another inode on their device.</summary>
        private void HashCandidates(List<ScanScope> scopes)
        {
            using (_workers = new HashWorkers(Math.Max(1, _options.ThrottleLimit), Algorithms, _cancel))
            {
                _drained = 0;
                _progress.WalkDone = false;
                foreach (var scope in scopes.GroupBy(s => s.DeviceId).Select(g => g.First()))
                {
                    var byInode = new Dictionary<long, HashJob>();
                    foreach (var row in _files.DuplicateCandidates(scope.DeviceId))
                    {
                        if (_cancel.IsCancellationRequested)
                            break;
                        string? full = scope.FullPath(row.Path);
                        if (full == null || FileSystemApi.TryLstat(full, out var st) != 0 || !row.SameFileAs(st.Size, st.MtimeNs, unchecked((long)st.Inode)))
                            continue; // gone or changed since it was catalogued: the next scan sees to it
                        var target = new HashTarget(scope, row.Path, st, TargetKind.Candidate, row);
                        if (byInode.TryGetValue(row.Inode, out var job))
                        {
                            Attach(job, target);
                            continue;
                        }
                        job = new HashJob(full, st, quick: false);
                        job.Targets.Add(target);
                        byInode[row.Inode] = job;
                        _progress.FilesToHash++;
                        _progress.BytesToHash += st.Size;
                        while (!_workers.TryAdd(job, QueueWait))
                        {
                            Pump();
                            if (_cancel.IsCancellationRequested)
                                break;
                        }
                    }
                }
                _progress.WalkDone = true;
                DrainAll();
            }
        }

        private void Fail(HashallException e)
        {
            _result.Errors++;
            _observer.Error(e);
        }

        private void Report(bool force)
        {
            var now = _clock.Elapsed;
            if (!force && now - _lastProgress < _options.ProgressInterval)
                return;
            _lastProgress = now;
            _progress.Elapsed = now;
            _observer.Progress(_progress);
        }
    }
}
