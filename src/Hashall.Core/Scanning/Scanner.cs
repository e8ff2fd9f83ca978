using System.Runtime.CompilerServices;
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
        private const int BatchFiles = 64;
        private const long BatchBytes = 8L << 20;
        /// <summary>
        /// A file whose mtime is not older than the start of the scan that hashed it, less this margin
        /// (timestamps of coarse filesystems: FAT's 2 s), may have been rewritten in the same tick after
        /// it was read: racily clean, as git calls it, and read again by the next scan.
        /// </summary>
        internal const long RacyMarginNs = 2_000_000_000L;

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
        /// <summary>Rows moved to a new path this run (by any scope): never also marked deleted.</summary>
        private readonly HashSet<long> _moved = new HashSet<long>();
        /// <summary>The roots (and crossed mounts) opened this run.</summary>
        private readonly List<ScanScope> _scopes = new List<ScanScope>();
        private List<HashJob> _batch = new List<HashJob>();
        private long _batchBytes;
        private CancellationToken _cancel;

        public Scanner(CatalogDatabase db, ScanOptions options, IScanObserver observer)
        {
            _db = db;
            _options = options;
            _observer = observer;
            _devices = new DeviceStore(db);
            _files = new FileStore(db, () => _writer?.Current);
        }

        private HashAlgorithms Algorithms => _options.Algorithms | HashAlgorithms.Sha1;
        private bool Quick => _options.Mode != ScanMode.Full;

        public ScanResult Run(IEnumerable<string> roots, CancellationToken cancel)
        {
            _cancel = cancel;
            _clock.Restart();
            _result = new ScanResult { Mode = _options.Mode, Database = _db.Path };
            var scopes = _scopes;
            scopes.Clear();
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
                        Settle();
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
                    var st = FileSystemApi.Lstat(full);
                    // Before its device is registered: nothing of it goes in the catalog. Only devices, FIFOs
                    // and sockets are refused: on Windows a junction or symlinked folder given as a root
                    // lstats as a link (Unix roots are resolved by realpath first) and is walked as before.
                    if (st.Kind == FileKind.Other)
                        throw NotADirectory(full);
                    result.Add((full, st.DeviceNumber));
                }
                catch (HashallException e)
                {
                    Fail(e);
                }
            }
            // A root below another on the same device is walked with it, unless a mount point (a bind
            // mount) lies between them: the outer walk does not cross it.
            return result
                .Where(r => !result.Any(o => o.Path != r.Path && o.Dev == r.Dev && PathText.IsUnder(r.Path, o.Path)
                    && !_locator.MountPointsBelow(o.Path).Any(m => PathText.IsUnder(r.Path, m))))
                .Select(r => r.Path).Distinct();
        }

        private static HashallException NotADirectory(string root) =>
            new HashallException("NotADirectory", HashallErrorKind.InvalidArgument,
                $"'{root}' is not a directory (nor a regular file: it is a device, a FIFO or a socket); there is nothing to scan in it.", root);

        private ScanScope? OpenScope(string root)
        {
            try
            {
                var located = _locator.Locate(root);
                long deviceId = _devices.Register(located.Device);
                if (_scopes.Any(s => s.DeviceId == deviceId && (s.RelativePrefix.Length == 0 || PathText.IsUnder(located.RelativePath, s.RelativePrefix))))
                    return null; // a bind mount of a folder this scan already walks (crossed with -CrossMount)
                _result.Roots.Add(located.FullPath);
                // The root's rows stream from the catalog as the walk reaches them, on this connection
                // (in the write batch's transaction: no second connection holds a snapshot open).
                long maxId = _files.MaxFileId();
                var cursor = new CatalogCursor(_files, deviceId, located.RelativePath, maxId);
                bool deviceHadRows = maxId > 0 && _files.HasActive(deviceId);
                return new ScanScope(deviceId, located.Device, located.FullPath, located.RelativePath, cursor, deviceHadRows)
                {
                    MountPointsBelow = _locator.MountPointsBelow(located.FullPath),
                };
            }
            catch (HashallException e) when (e.Kind != HashallErrorKind.WriteError && e.Kind != HashallErrorKind.ResourceBusy)
            {
                Fail(e);
                return null;
            }
        }

        /// <summary>One directory of the walk: its entries in catalog order and the next one to visit.</summary>
        private sealed class Folder
        {
            public Folder(string full, string relative, List<DirectoryEntry> entries)
            {
                Full = full;
                Relative = relative;
                Entries = entries;
            }

            public string Full { get; }
            public string Relative { get; }
            public List<DirectoryEntry> Entries { get; }
            public int Next { get; set; }
        }

        /// <summary>
        /// Depth-first walk of one scope in the catalog's key order (each folder's entries sorted as
        /// UTF-8 bytes, a directory as its name and '/', and walked where it sorts), merged with the
        /// scope's rows streamed in the same order; returns nested mount points to walk as scopes of
        /// their own (with CrossMounts). Memory holds the listings of the folders on the current path.
        /// </summary>
        [MethodImpl(HotPath.Optimize)]
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
            if (root.Kind == FileKind.Other)
            {
                Fail(NotADirectory(scope.RootFullPath));
                scope.WalkFailed = true;
                return nested;
            }
            if (root.Kind == FileKind.Regular)
            {
                Visit(scope, new PendingFile(Path.GetDirectoryName(scope.RootFullPath) ?? "", Path.GetFileName(scope.RootFullPath), scope.RelativePrefix, root));
                if (!_cancel.IsCancellationRequested)
                    scope.PassRest();
                return nested;
            }
            var folders = new Stack<Folder>();
            if (List(scope, scope.RootFullPath, scope.RelativePrefix) is Folder top)
                folders.Push(top);
            else
                scope.WalkFailed = true;
            while (folders.Count > 0 && !_cancel.IsCancellationRequested)
            {
                var folder = folders.Peek();
                if (folder.Next == folder.Entries.Count)
                {
                    folders.Pop();
                    Pump();
                    continue;
                }
                var entry = folder.Entries[folder.Next++];
                string dir = folder.Full, dirRel = folder.Relative;
                if (!entry.ValidName)
                {
                    string shown = PathText.Join(dir, entry.Name);
                    Fail(new HashallException("InvalidUtf8Name", HashallErrorKind.InvalidData,
                        $"'{shown}' has a name that is not valid UTF-8 (shown with U+FFFD); it cannot be catalogued by name. Rename it to catalog it.", shown));
                    continue;
                }
                if (entry.StatError != 0)
                {
                    if (entry.StatError != ENOENT) // ENOENT: gone since the listing, simply not there any more
                    {
                        Fail(FileSystemApi.ErrorFor(entry.StatError, PathText.Join(dir, entry.Name)));
                        scope.FailedDirectories.Add(dirRel.Length == 0 ? entry.Name : dirRel + "/" + entry.Name);
                    }
                    continue;
                }
                switch (entry.Kind)
                {
                    case FileKind.Directory when entry.Status.DeviceNumber != scope.DeviceNumber
                        || (scope.MountPointsBelow.Count > 0 && scope.MountPointsBelow.Contains(PathText.Join(dir, entry.Name))):
                    // a bind mount of a single file (by the mount table only: overlayfs shows files of
                    // its layers with their own device numbers)
                    case FileKind.Regular when scope.MountPointsBelow.Count > 0 && scope.MountPointsBelow.Contains(PathText.Join(dir, entry.Name)):
                        string mount = PathText.Join(dir, entry.Name);
                        _result.NestedMounts.Add(mount);
                        _observer.NestedMount(mount, _options.CrossMounts);
                        scope.FailedDirectories.Add(dirRel.Length == 0 ? entry.Name : dirRel + "/" + entry.Name); // hidden under the mount, not gone
                        if (_options.CrossMounts)
                            nested.Add(mount);
                        break;
                    case FileKind.Directory:
                        if (List(scope, PathText.Join(dir, entry.Name), dirRel.Length == 0 ? entry.Name : dirRel + "/" + entry.Name) is Folder sub)
                            folders.Push(sub);
                        Pump();
                        break;
                    case FileKind.Regular:
                        Visit(scope, new PendingFile(dir, entry.Name, dirRel.Length == 0 ? entry.Name : dirRel + "/" + entry.Name, entry.Status));
                        break;
                }
            }
            if (!_cancel.IsCancellationRequested && !scope.WalkFailed)
                scope.PassRest();
            return nested;
        }

        /// <summary>A directory's entries in catalog order, or null (an error reported, the directory protected) when it cannot be listed.</summary>
        private Folder? List(ScanScope scope, string dir, string dirRel)
        {
            _progress.CurrentPath = dir;
            List<DirectoryEntry> entries;
            try
            {
                entries = DirectoryListing.Read(dir);
            }
            catch (HashallException e)
            {
                Fail(e);
                scope.FailedDirectories.Add(dirRel);
                return null;
            }
            entries.Sort(CatalogOrder.EntryComparer.Instance);
            return new Folder(dir, dirRel, entries);
        }

        [MethodImpl(HotPath.Optimize)]
        private void Visit(ScanScope scope, PendingFile file)
        {
            _result.Seen++;
            _progress.FilesSeen++;
            scope.FilesSeen++;
            Decide(scope, file, scope.Match(file.RelativePath));
        }

        /// <summary>Decides, for one regular file, whether to keep its row, reuse a known inode's hashes, or read it.</summary>
        [MethodImpl(HotPath.Optimize)]
        private void Decide(ScanScope scope, PendingFile file, FileRow? row)
        {
            string rel = file.RelativePath;
            var st = file.Status;
            long inode = unchecked((long)st.Inode);
            // Another path of an inode being read this run: counted, so the entry goes once all its links are seen.
            HashJob? linked = null;
            if (st.LinkCount > 1 && _inodeJobs.TryGetValue((scope.DeviceId, inode), out var job))
            {
                if (++job.LinksSeen >= st.LinkCount)
                    _inodeJobs.Remove((scope.DeviceId, inode));
                if (SameContent(job.Status, st))
                    linked = job;
            }
            if (row != null && row.SameFileAs(st.Size, st.MtimeNs, inode))
            {
                bool recheck = NeedsRecheck(row, st);
                if (!recheck && HasNeededHashes(row))
                {
                    _result.Unchanged++;
                    if (row.Deleted || row.LinkCount != st.LinkCount || row.CtimeNs != st.CtimeNs)
                        _writer!.Touch(row.FileId, st.LinkCount, st.CtimeNs);
                    return;
                }
                // A recheck of a row with a SHA-1 reads the whole file, quick scan or not: only the SHA-1
                // itself can show it still holds (a sample neither proves nor refutes it).
                Enqueue(new HashTarget(scope, rel, st, recheck ? TargetKind.Recheck : TargetKind.Upgrade, row), file.FullPath,
                    Quick && !(recheck && row.Sha1 != null));
                return;
            }
            var target = new HashTarget(scope, rel, st, row == null ? TargetKind.Added : TargetKind.Changed, row);
            if (linked != null)
            {
                Attach(linked, target);
                return;
            }
            if (row == null && KnownInode(scope, rel, inode, st) is FileRow source)
            {
                scope.Relinks.Add((rel, st, source));
                return;
            }
            Enqueue(target, file.FullPath);
        }

        /// <summary>
        /// Size, mtime and inode unchanged, yet the row's hashes are not proof: it was racily clean when
        /// hashed, or its ctime moved while the link count did not (a rewrite with the mtime set back;
        /// a new or removed hard link moves both, and is only metadata).
        /// </summary>
        [MethodImpl(HotPath.Optimize)]
        private static bool NeedsRecheck(FileRow row, FileStatus st) =>
            (row.HashedScanStartNs is long hashedAt && row.MtimeNs >= hashedAt - RacyMarginNs)
            || (row.CtimeNs is long ctime && ctime != st.CtimeNs && row.LinkCount == st.LinkCount);

        private bool HasNeededHashes(FileRow row)
        {
            if (Quick)
                return row.Sha1 != null || row.QuickHash != null;
            return row.Sha1 != null && ((Algorithms & HashAlgorithms.Sha256) == 0 || row.Sha256 != null);
        }

        private static bool SameContent(FileStatus a, FileStatus b) => a.Size == b.Size && a.MtimeNs == b.MtimeNs && a.Inode == b.Inode;

        /// <summary>
        /// A catalogued path of the same inode, size and mtime with the hashes this run needs: a rename or
        /// another hard link. One lookup by the inode index per new path; none on a device that had no
        /// rows (a first scan).
        /// </summary>
        private FileRow? KnownInode(ScanScope scope, string rel, long inode, FileStatus st)
        {
            if (!scope.DeviceHadRows)
                return null;
            foreach (var r in _files.ActiveByInode(scope.DeviceId, inode))
                if (r.Path != rel && r.SameFileAs(st.Size, st.MtimeNs, inode) && HasNeededHashes(r))
                    return r;
            return null;
        }

        [MethodImpl(HotPath.Optimize)]
        private void Enqueue(HashTarget target, string full) => Enqueue(target, full, Quick);

        [MethodImpl(HotPath.Optimize)]
        private void Enqueue(HashTarget target, string full, bool quick)
        {
            var job = new HashJob(full, target.Status, quick);
            job.Targets.Add(target);
            if (target.Status.LinkCount > 1)
            {
                job.LinksSeen = 1;
                _inodeJobs[(target.Scope.DeviceId, unchecked((long)target.Status.Inode))] = job;
            }
            Submit(job, job.Quick && target.Status.Size > 2L * FileHasher.SampleBytes ? 2L * FileHasher.SampleBytes : target.Status.Size);
        }

        /// <summary>Adds a job to the batch being filled; hands the batch to the workers when it is full.</summary>
        private void Submit(HashJob job, long bytes)
        {
            _progress.FilesToHash++;
            _progress.BytesToHash += bytes;
            _batch.Add(job);
            _batchBytes += bytes;
            if (_batch.Count >= BatchFiles || _batchBytes >= BatchBytes)
                FlushBatch();
        }

        [MethodImpl(HotPath.Optimize)]
        private void FlushBatch()
        {
            if (_batch.Count == 0)
                return;
            var batch = _batch;
            _batch = new List<HashJob>();
            _batchBytes = 0;
            while (!_workers!.TryAdd(batch, QueueWait))
            {
                Pump();
                if (_cancel.IsCancellationRequested)
                    return;
            }
        }

        private void Attach(HashJob job, HashTarget target)
        {
            if (!job.Written)
                job.Targets.Add(target);
            else if (job.Error == null)
                WriteTarget(job, target);
            // else the inode could not be read: its rows stay as they were (a row the walk matched is never marked deleted)
        }

        /// <summary>Writes what the workers finished, commits when due, reports progress.</summary>
        [MethodImpl(HotPath.Optimize)]
        private void Pump()
        {
            while (_workers!.Finished.TryDequeue(out var job))
            {
                _drained++;
                if (job.Error != null)
                {
                    if (job.Error.ErrorId != "ScanStopped")
                        Fail(job.Error); // its rows stay as they were: rows the walk matched are never marked deleted
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

        /// <summary>
        /// Between roots: every file of the root just walked hashed, its rows written and committed. So
        /// the next root's device registration never runs inside the write batch's transaction, and an
        /// error that ends the scan in a later root (a catalog failure, or -ErrorAction Stop) cannot
        /// roll back what earlier roots finished.
        /// </summary>
        private void Settle()
        {
            FlushBatch();
            while (_drained < _workers!.Submitted && !_cancel.IsCancellationRequested)
            {
                _workers.WaitForFinished(TimeSpan.FromMilliseconds(100));
                Pump();
            }
            _writer!.Commit();
        }

        private void DrainAll()
        {
            FlushBatch();
            while (_drained < _workers!.Submitted && !_cancel.IsCancellationRequested)
            {
                _workers.WaitForFinished(TimeSpan.FromMilliseconds(100));
                Pump();
            }
            _workers.Dispose(); // joins the threads; after a stop they finish within one buffer read
            Pump();
        }

        [MethodImpl(HotPath.Optimize)]
        private void WriteTarget(HashJob job, HashTarget t)
        {
            var r = job.Result!;
            string? sha1 = r.Sha1, sha256 = r.Sha256, quick = r.QuickHash;
            switch (t.Kind)
            {
                case TargetKind.Added: _result.Added++; break;
                case TargetKind.Changed: _result.Changed++; break;
                case TargetKind.Recheck:
                    _result.Rechecked++;
                    if (SameHashes(r, t.Row!))
                    {
                        _result.Unchanged++;
                        goto default; // the row's other hashes still hold
                    }
                    _result.Changed++; // only what was read now is known
                    break;
                default:
                    if (t.Kind == TargetKind.Upgrade)
                        _result.Unchanged++;
                    sha1 ??= t.Row?.Sha1;
                    sha256 ??= t.Row?.Sha256;
                    quick ??= t.Row?.QuickHash;
                    break;
            }
            _writer!.Upsert(t.Scope.DeviceId, t.RelativePath, t.Status, sha1, sha256, quick, _writer.StartedNs);
        }

        /// <summary>The content read now is the content the row describes (by SHA-1, else by quick hash).</summary>
        private static bool SameHashes(HashResult read, FileRow row)
        {
            if (read.Sha1 != null)
                return read.Sha1 == row.Sha1;
            return read.QuickHash != null && read.QuickHash == row.QuickHash;
        }

        /// <summary>After a complete walk: renames, deletions, last-seen times and the device's scan time.</summary>
        [MethodImpl(HotPath.Optimize)]
        private void Finalize(ScanScope scope)
        {
            if (scope.WalkFailed)
                return;
            foreach (var (path, st, source) in scope.Relinks)
            {
                if (!_moved.Contains(source.FileId) && SourceGone(scope, source))
                {
                    _writer!.Move(source.FileId, scope.DeviceId, path, st);
                    _moved.Add(source.FileId);
                    _result.Moved++;
                }
                else
                {
                    _writer!.Upsert(scope.DeviceId, path, st, source.Sha1, source.Sha256, source.QuickHash, source.HashedScanStartNs);
                    _result.Added++;
                }
            }
            foreach (var unseen in scope.Unseen)
            {
                long id = unseen.Key;
                string path = unseen.Value;
                if (!_moved.Contains(id) && !scope.UnderFailedDirectory(path))
                {
                    _writer!.MarkDeleted(id);
                    _result.Deleted++;
                }
            }
            _writer!.ScopeScanned(scope.DeviceId, scope.RelativePrefix, _options.Mode.ToString(), scope.FilesSeen);
        }

        private bool SourceGone(ScanScope scope, FileRow source)
        {
            // A row under the walked root: gone if the walk went past it (every row there was either found or passed).
            if (source.DeviceId == scope.DeviceId && scope.Holds(source.Path))
                return scope.Unseen.ContainsKey(source.FileId) && !scope.UnderFailedDirectory(source.Path);
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
                        Submit(job, st.Size);
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
