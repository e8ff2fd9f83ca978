using System;
using System.Buffers;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Runtime.InteropServices;
using System.Threading;
using System.Threading.Tasks;
using Hashall.Core.Payloads;
using Hashall.Core.Platform;
using Hashall.Core.Scanning;

namespace Hashall.Core.Rehome
{
    /// <summary>
    /// Copies a payload's files into a staging folder like `cp -a` (mtime, mode, owner, and the hard
    /// links between the payload's files), fsyncs them, and verifies a copy by reading it back and
    /// comparing each file's size and SHA-1 with the catalog's.
    /// </summary>
    public static class PayloadCopier
    {
        private const int BufferBytes = 1 << 20;

        /// <summary>What a copy made.</summary>
        public sealed class Outcome
        {
            public int Files { get; set; }
            public long Bytes { get; set; }
        }

        /// <summary>Copies every file to <c>Join(stagingRoot, TorrentPath)</c>. Throws RehomeCopyFailed or RehomeSourceChanged naming the file.</summary>
        public static Outcome Copy(IReadOnlyList<PayloadFile> files, string stagingRoot, Action<long> bytesDone, CancellationToken cancel) =>
            Copy(files, stagingRoot, bytesDone, null, cancel);

        /// <summary>
        /// Copies every file (as <see cref="Copy(IReadOnlyList{PayloadFile}, string, Action{long}, CancellationToken)"/>)
        /// and verifies the copy (as <see cref="Verify"/>): each file is read back and hashed on a second
        /// thread while the next one is copied, and the final check hashes again only what changed since.
        /// Throws RehomeCopyFailed, RehomeSourceChanged or RehomeVerifyFailed naming the file.
        /// </summary>
        public static Outcome CopyAndVerify(IReadOnlyList<PayloadFile> files, string stagingRoot, Action<long> bytesCopied, Action<long> bytesVerified, CancellationToken cancel)
        {
            using var verifier = new PipelinedVerifier(bytesVerified, cancel);
            var outcome = Copy(files, stagingRoot, bytesCopied, verifier, cancel);
            verifier.Finish(bytesCopied);
            Verify(files, stagingRoot, bytesVerified, cancel, verifier.Verified);
            return outcome;
        }

        private static Outcome Copy(IReadOnlyList<PayloadFile> files, string stagingRoot, Action<long> bytesDone, PipelinedVerifier? verifier, CancellationToken cancel)
        {
            var outcome = new Outcome();
            // What the copy takes: each inode once (hard links inside the payload stay links).
            long needed = files.Select(f => FileSystemApi.TryLstat(f.FullName, out var st) == 0 ? (st.DeviceNumber, st.Inode, f.Size) : (0UL, 0UL, f.Size))
                .GroupBy(x => x.Item1 == 0 && x.Item2 == 0 ? (object)Guid.NewGuid() : (x.Item1, x.Item2)).Sum(g => g.First().Item3);
            long? freeAtStart = RehomeValidator.FreeSpace(stagingRoot);
            PayloadFile? current = null;
            string? currentTarget = null;
            var firstCopyOfInode = new Dictionary<(ulong, ulong), string>();
            var directories = new SortedSet<string>(StringComparer.Ordinal);
            byte[] buffer = FileSystemApi.IsWindows || FileSystemApi.IsMacOS ? ArrayPool<byte>.Shared.Rent(BufferBytes) : Array.Empty<byte>();
            try
            {
                foreach (var file in files)
                {
                    cancel.ThrowIfCancellationRequested();
                    string target = PathText.Join(stagingRoot, file.TorrentPath);
                    current = file;
                    currentTarget = target;
                    string directory = Path.GetDirectoryName(target)!;
                    if (directories.Add(directory))
                    {
                        Directory.CreateDirectory(directory);
                        for (string d = Path.GetDirectoryName(directory)!; d.Length > stagingRoot.Length && PathText.IsUnder(d, stagingRoot); d = Path.GetDirectoryName(d)!)
                            directories.Add(d);
                    }
                    if (FileSystemApi.TryLstat(file.FullName, out var source) != 0 || source.Kind != FileKind.Regular)
                        throw new HashallException("RehomeSourceChanged", HashallErrorKind.NotFound,
                            $"'{file.FullName}' is gone or no longer a regular file since the plan was made; nothing was removed.", file.FullName);
                    if (source.Size != file.Size)
                        throw new HashallException("RehomeSourceChanged", HashallErrorKind.InvalidData,
                            $"'{file.FullName}' has {source.Size} bytes, the torrent {file.Size}: it changed since the scan; nothing was removed.", file.FullName);
                    if (firstCopyOfInode.TryGetValue((source.DeviceNumber, source.Inode), out var linkOf))
                    {
                        // A hard link inside the payload stays one inode on the target.
                        int error = HardLinks.Link(linkOf, target);
                        if (error != 0)
                            throw CopyFailed(file.FullName, target, HardLinks.Describe(error), null);
                        continue;
                    }
                    CopyWithMetadata(file.FullName, target, source, buffer, bytesDone, cancel);
                    verifier?.Add(file, target);
                    firstCopyOfInode[(source.DeviceNumber, source.Inode)] = target;
                    outcome.Files++;
                    outcome.Bytes += source.Size;
                    FaultInjection.At("rehome-copy");
                }
                // Directories: their source's mode and mtime (set last: adding entries changed them), then flushed.
                // The payload's files all sit at their relative path under one folder (the torrent's data folder).
                string? sourceBase = files.Count == 0 || !files[0].FullName.Replace('\\', '/').EndsWith(files[0].TorrentPath, StringComparison.Ordinal) ? null
                    : files[0].FullName.Substring(0, files[0].FullName.Length - files[0].TorrentPath.Length);
                foreach (var directory in directories.Reverse().Where(d => d.Length > stagingRoot.Length))
                {
                    string? sourceDir = sourceBase == null ? null : sourceBase + PathText.RelativeTo(directory, stagingRoot);
                    if (sourceDir != null && FileSystemApi.TryLstat(sourceDir, out var st) == 0 && st.Kind == FileKind.Directory)
                        FileMetadata.CopyFrom(directory, st);
                    FileMetadata.SyncDirectory(directory);
                }
                FileMetadata.SyncDirectory(stagingRoot);
            }
            catch (IOException e) when (IsDiskFull(e))
            {
                throw DiskFull(current, currentTarget ?? stagingRoot, stagingRoot, needed, outcome.Bytes, freeAtStart, e);
            }
            catch (IOException e)
            {
                throw CopyFailed(current?.FullName ?? stagingRoot, currentTarget ?? stagingRoot, e.Message, e);
            }
            catch (UnauthorizedAccessException e)
            {
                throw CopyFailed(current?.FullName ?? stagingRoot, currentTarget ?? stagingRoot, e.Message, e);
            }
            finally
            {
                if (buffer.Length > 0)
                    ArrayPool<byte>.Shared.Return(buffer);
            }
            return outcome;
        }

        /// <summary>
        /// Reads every file under <paramref name="root"/> back (in parallel) and compares size and SHA-1
        /// with the catalog's; throws RehomeVerifyFailed naming the first file that differs.
        /// </summary>
        public static void Verify(IReadOnlyList<PayloadFile> files, string root, Action<long> bytesDone, CancellationToken cancel) =>
            Verify(files, root, bytesDone, cancel, null);

        /// <summary>
        /// <paramref name="verified"/>: inodes of the copy already read back and hashed by this process,
        /// with their SHA-1 and their status then; one still the same (size, mtime, and ctime unless only its link count grew) is not read again.
        /// </summary>
        private static void Verify(IReadOnlyList<PayloadFile> files, string root, Action<long> bytesDone, CancellationToken cancel,
            IReadOnlyDictionary<(ulong, ulong), (string Sha1, FileStatus Status)>? verified)
        {
            var seen = new HashSet<(ulong, ulong, string?)>();
            var work = new List<(PayloadFile File, string Path, FileStatus Status)>();
            // The copy is on the root's filesystem: a folder on the way that is a symbolic link to the
            // source (another device) would verify the source itself, and the source is removed later.
            // ("root/." is the folder itself, through a link if the root is one.)
            if (FileSystemApi.TryLstat(Path.Combine(root, "."), out var rootStatus) != 0)
                throw new HashallException("RehomeVerifyFailed", HashallErrorKind.InvalidData, $"'{root}', the folder of the copy, is missing.", root);
            foreach (var file in files)
            {
                string path = PathText.Join(root, file.TorrentPath);
                if (FileSystemApi.TryLstat(path, out var st) != 0 || st.Kind != FileKind.Regular)
                    throw new HashallException("RehomeVerifyFailed", HashallErrorKind.InvalidData, $"'{path}' is missing from the copy.", path);
                if (st.DeviceNumber != rootStatus.DeviceNumber)
                    throw new HashallException("RehomeVerifyFailed", HashallErrorKind.InvalidData,
                        $"'{path}' is on another filesystem than '{root}' (a symbolic link on the way?): it is no copy on the target.", path);
                if (st.Size != file.Size)
                    throw new HashallException("RehomeVerifyFailed", HashallErrorKind.InvalidData, $"'{path}' has {st.Size} bytes; the catalog says {file.Size}.", path);
                // Names of one inode are read once, unless the catalog expects different content for them.
                if (!seen.Add((st.DeviceNumber, st.Inode, file.Sha1)))
                    continue;
                // Unchanged since it was read back: same size, mtime and ctime; or only more links, which the
                // copy itself makes for a payload's hard links (a link moves the inode's ctime, not its bytes).
                if (verified != null && verified.TryGetValue((st.DeviceNumber, st.Inode), out var done) && done.Status.Size == st.Size
                    && done.Status.MtimeNs == st.MtimeNs && (done.Status.CtimeNs == st.CtimeNs || st.LinkCount > done.Status.LinkCount))
                {
                    if (!string.Equals(done.Sha1, file.Sha1, StringComparison.OrdinalIgnoreCase))
                        throw new HashallException("RehomeVerifyFailed", HashallErrorKind.InvalidData,
                            $"'{path}' has SHA-1 {done.Sha1}; the catalog says {file.Sha1} for '{file.FullName}'.", path);
                    continue;
                }
                work.Add((file, path, st));
            }
            HashallException? failure = null;
            // Biggest first, so one large file does not start last and keep one thread busy alone.
            Parallel.ForEach(work.OrderByDescending(w => w.Status.Size), new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount, CancellationToken = cancel },
                (w, state) =>
                {
                    try
                    {
                        var result = FileHasher.Hash(w.Path, w.Status, HashAlgorithms.Sha1, quick: false, cancel);
                        if (!string.Equals(result.Sha1, w.File.Sha1, StringComparison.OrdinalIgnoreCase))
                            throw new HashallException("RehomeVerifyFailed", HashallErrorKind.InvalidData,
                                $"'{w.Path}' has SHA-1 {result.Sha1}; the catalog says {w.File.Sha1} for '{w.File.FullName}'.", w.Path);
                        bytesDone(w.Status.Size);
                    }
                    catch (Exception e) when (e is HashallException || e is IOException || e is UnauthorizedAccessException)
                    {
                        Interlocked.CompareExchange(ref failure, e as HashallException
                            ?? new HashallException("RehomeVerifyFailed", HashallErrorKind.ReadError, $"Cannot read '{w.Path}' back: {e.Message}", w.Path, e), null);
                        state.Stop();
                    }
                });
            if (failure != null)
                throw failure;
        }

        /// <summary>
        /// One file, as <see cref="Copy(IReadOnlyList{PayloadFile}, string, Action{long}, CancellationToken)"/> copies each: the platform's
        /// copy, then the source's mode and mtime. Throws RehomeSourceChanged (the source changed while copied) or
        /// RehomeCopyFailed (cannot write it, the disk full included).
        /// </summary>
        public static void CopyOne(string source, string target, FileStatus expected, Action<long> bytesDone, CancellationToken cancel)
        {
            byte[] buffer = FileSystemApi.IsWindows || FileSystemApi.IsMacOS ? ArrayPool<byte>.Shared.Rent(BufferBytes) : Array.Empty<byte>();
            try
            {
                CopyWithMetadata(source, target, expected, buffer, bytesDone, cancel);
            }
            catch (IOException e)
            {
                throw CopyFailed(source, target, IsDiskFull(e) ? $"the disk is full ({e.Message})" : e.Message, e);
            }
            catch (UnauthorizedAccessException e)
            {
                throw CopyFailed(source, target, e.Message, e);
            }
            finally
            {
                if (buffer.Length > 0)
                    ArrayPool<byte>.Shared.Return(buffer);
            }
        }

        /// <summary>The platform's copy (copy_file_range on Linux; <paramref name="buffer"/>, rented by the caller, elsewhere), then the source's mode and mtime.</summary>
        private static void CopyWithMetadata(string source, string target, FileStatus expected, byte[] buffer, Action<long> bytesDone, CancellationToken cancel)
        {
            if (FileSystemApi.IsWindows || FileSystemApi.IsMacOS)
                CopyFile(source, target, expected, buffer, bytesDone, cancel);
            else
                NativeCopy.Copy(source, target, expected, bytesDone, cancel);
            FileMetadata.CopyFrom(target, expected);
        }

        internal static void CopyFile(string source, string target, FileStatus expected, byte[] buffer, Action<long> bytesDone, CancellationToken cancel)
        {
            using var input = FileReader.OpenRead(source, sequential: true);
            using var output = new FileStream(target, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1, FileOptions.None);
            long total = 0;
            int read;
            while ((read = input.Read(buffer, 0, buffer.Length)) > 0)
            {
                cancel.ThrowIfCancellationRequested();
                output.Write(buffer, 0, read);
                total += read;
                bytesDone(read);
            }
            if (total != expected.Size)
                throw new HashallException("RehomeSourceChanged", HashallErrorKind.InvalidData,
                    $"'{source}' changed while it was copied ({total} bytes read, {expected.Size} expected); nothing was removed.", source);
            output.Flush(flushToDisk: true);
        }

        /// <summary>
        /// Reads back and hashes each copied file on its own thread while the next file is copied. A file
        /// whose SHA-1 differs from the catalog's fails the copy at the next file (RehomeVerifyFailed).
        /// </summary>
        private sealed class PipelinedVerifier : IDisposable
        {
            private readonly BlockingCollection<(PayloadFile File, string Path)> _queue = new BlockingCollection<(PayloadFile, string)>();
            private readonly ConcurrentDictionary<(ulong, ulong), (string Sha1, FileStatus Status)> _verified = new ConcurrentDictionary<(ulong, ulong), (string, FileStatus)>();
            private readonly Action<long> _bytesDone;
            private readonly CancellationTokenSource _stop;
            private readonly Thread _thread;
            private volatile Exception? _failure;

            public PipelinedVerifier(Action<long> bytesDone, CancellationToken cancel)
            {
                _bytesDone = bytesDone;
                _stop = CancellationTokenSource.CreateLinkedTokenSource(cancel);
                _thread = new Thread(Run) { IsBackground = true, Name = "Hashall copy verifier" };
                _thread.Start();
            }

            public IReadOnlyDictionary<(ulong, ulong), (string Sha1, FileStatus Status)> Verified => _verified;

            public void Add(PayloadFile file, string path)
            {
                try
                {
                    if (_failure == null)
                    {
                        _queue.Add((file, path));
                        return;
                    }
                }
                catch (InvalidOperationException) when (_failure != null)
                {
                    // the verifier failed (and stopped taking files) between the check and the add
                }
                var e = _failure!;
                throw e is HashallException ? e : new HashallException("RehomeVerifyFailed", HashallErrorKind.ReadError, $"Cannot read the copy back: {e.Message}", path, e);
            }

            /// <summary>
            /// Waits until every file added is verified; throws the first failure. <paramref name="tick"/>
            /// is called with 0 every half second meanwhile (the executor keeps its lease in it).
            /// </summary>
            public void Finish(Action<long> tick)
            {
                _queue.CompleteAdding();
                while (!_thread.Join(500))
                    tick(0);
                _stop.Token.ThrowIfCancellationRequested();
                if (_failure is HashallException h)
                    throw h;
                if (_failure is Exception e)
                    throw new HashallException("RehomeVerifyFailed", HashallErrorKind.ReadError, $"Cannot read the copy back: {e.Message}", null, e);
            }

            private void Run()
            {
                try
                {
                    foreach (var (file, path) in _queue.GetConsumingEnumerable(_stop.Token))
                    {
                        if (FileSystemApi.TryLstat(path, out var st) != 0 || st.Kind != FileKind.Regular)
                            throw new HashallException("RehomeVerifyFailed", HashallErrorKind.InvalidData, $"'{path}' is missing from the copy.", path);
                        var result = FileHasher.Hash(path, st, HashAlgorithms.Sha1, quick: false, _stop.Token);
                        if (!string.Equals(result.Sha1, file.Sha1, StringComparison.OrdinalIgnoreCase))
                            throw new HashallException("RehomeVerifyFailed", HashallErrorKind.InvalidData,
                                $"'{path}' has SHA-1 {result.Sha1}; the catalog says {file.Sha1} for '{file.FullName}'.", path);
                        _verified[(st.DeviceNumber, st.Inode)] = (result.Sha1!, st);
                        _bytesDone(st.Size);
                    }
                }
                catch (OperationCanceledException)
                {
                }
                catch (Exception e)
                {
                    _failure = e;
                    _queue.CompleteAdding();
                }
            }

            /// <summary>Stops a verifier left running by a failed or stopped copy.</summary>
            public void Dispose()
            {
                if (!_queue.IsAddingCompleted)
                    _queue.CompleteAdding();
                _stop.Cancel();
                _thread.Join();
                _stop.Dispose();
                _queue.Dispose();
            }
        }

        /// <summary>
        /// Linux: copy_file_range(2) where the kernel offers it between the two filesystems, else read(2)
        /// and write(2) through one large page-aligned buffer; then fsync, and the copy's pages dropped
        /// from the page cache (POSIX_FADV_DONTNEED), so reading it back reads what the disk holds.
        /// </summary>
        internal static class NativeCopy
        {
            private const int ORdOnly = 0, OWrOnly = 1, OCreat = 0x40, OExcl = 0x80, OCloExec = 0x80000;
            private const int EINTR = 4, EXDEV = 18, EINVAL = 22, ENOSYS = 38, EOPNOTSUPP = 95, EBADF = 9;
            private const int FadvSequential = 2, FadvDontNeed = 4;
            private const int ChunkBytes = 1 << 20, RangeBytes = 64 << 20;

            [DllImport("libc", EntryPoint = "open", SetLastError = true)]
            private static extern unsafe int open(byte* path, int flags, int mode);

            [DllImport("libc", EntryPoint = "read", SetLastError = true)]
            private static extern unsafe IntPtr read(int fd, byte* buffer, IntPtr count);

            [DllImport("libc", EntryPoint = "write", SetLastError = true)]
            private static extern unsafe IntPtr write(int fd, byte* buffer, IntPtr count);

            [DllImport("libc", EntryPoint = "copy_file_range", SetLastError = true)]
            private static extern IntPtr copy_file_range(int fdIn, IntPtr offIn, int fdOut, IntPtr offOut, IntPtr length, uint flags);

            [DllImport("libc", EntryPoint = "fsync", SetLastError = true)]
            private static extern int fsync(int fd);

            [DllImport("libc", EntryPoint = "posix_fadvise")]
            private static extern int posix_fadvise(int fd, long offset, long length, int advice);

            [DllImport("libc", EntryPoint = "close")]
            private static extern int close(int fd);

            /// <summary>False once copy_file_range is missing from libc or the kernel (ENOSYS): not tried again.</summary>
            private static volatile bool _rangeAvailable = true;

            /// <summary>
            /// Bytes this thread copied with copy_file_range, and with read/write (tests read them). Per
            /// thread: a copy is made on its caller's thread, so copies running elsewhere never mix in.
            /// </summary>
            [ThreadStatic]
            internal static long BytesByRange, BytesByReadWrite;

            private static int ONoFollow => RuntimeInformation.ProcessArchitecture == Architecture.Arm64 || RuntimeInformation.ProcessArchitecture == Architecture.Arm ? 0x8000 : 0x20000;

            /// <param name="flush">False: the caller makes the copy durable itself (link undo flushes a batch of copies with one syncfs).</param>
            public static unsafe void Copy(string source, string target, FileStatus expected, Action<long> bytesDone, CancellationToken cancel, bool flush = true)
            {
                int input, output;
                fixed (byte* p = FileSystemApi.ToNativePath(source))
                    do
                        input = open(p, ORdOnly | OCloExec | ONoFollow, 0);
                    while (input < 0 && Marshal.GetLastWin32Error() == EINTR);
                if (input < 0)
                    throw Error("open", source, Marshal.GetLastWin32Error());
                try
                {
                    fixed (byte* p = FileSystemApi.ToNativePath(target))
                        do
                            output = open(p, OWrOnly | OCreat | OExcl | OCloExec, 0x180 /* 0600 until CopyFrom sets the mode */);
                        while (output < 0 && Marshal.GetLastWin32Error() == EINTR);
                    if (output < 0)
                        throw Error("create", target, Marshal.GetLastWin32Error());
                    try
                    {
                        long total = CopyRange(input, output, expected.Size, bytesDone, cancel, out bool ranged);
                        if (ranged)
                            BytesByRange += total;
                        else
                        {
                            total = CopyBuffered(input, output, source, target, total, bytesDone, cancel);
                            BytesByReadWrite += total;
                        }
                        if (total != expected.Size)
                            throw new HashallException("RehomeSourceChanged", HashallErrorKind.InvalidData,
                                $"'{source}' changed while it was copied ({total} bytes read, {expected.Size} expected); nothing was removed.", source);
                        if (flush)
                        {
                            if (fsync(output) != 0)
                                throw Error("fsync", target, Marshal.GetLastWin32Error());
                            // On disk now: drop its pages, so the read-back reads the disk, not what was just written.
                            // (tmpfs keeps files only in memory: there this changes nothing.)
                            posix_fadvise(output, 0, 0, FadvDontNeed);
                        }
                    }
                    finally
                    {
                        close(output);
                    }
                }
                finally
                {
                    close(input);
                }
            }

            /// <summary>Copies with copy_file_range until the end of the source; <paramref name="ranged"/> false when the kernel refuses it before any byte moved.</summary>
            private static long CopyRange(int input, int output, long size, Action<long> bytesDone, CancellationToken cancel, out bool ranged)
            {
                ranged = false;
                if (!_rangeAvailable)
                    return 0;
                long total = 0;
                while (true)
                {
                    cancel.ThrowIfCancellationRequested();
                    long n;
                    try
                    {
                        // Until it returns 0: the end of the source, whatever its size now.
                        n = (long)copy_file_range(input, IntPtr.Zero, output, IntPtr.Zero, (IntPtr)RangeBytes, 0);
                    }
                    catch (EntryPointNotFoundException)
                    {
                        _rangeAvailable = false;
                        return total;
                    }
                    if (n < 0)
                    {
                        int errno = Marshal.GetLastWin32Error();
                        if (errno == EINTR)
                            continue;
                        if (total == 0 && (errno == EXDEV || errno == EINVAL || errno == ENOSYS || errno == EOPNOTSUPP || errno == EBADF))
                        {
                            if (errno == ENOSYS)
                                _rangeAvailable = false;
                            return 0; // read and write instead (e.g. across filesystems of different types)
                        }
                        throw new IOException($"copy_file_range: {HardLinks.Describe(errno)}", errno);
                    }
                    // Some filesystems answer 0 at once for a file that is not empty (nothing copied, no
                    // error): read and write instead, as coreutils' cp does.
                    if (n == 0 && total == 0 && size > 0)
                        return 0;
                    ranged = true;
                    if (n == 0)
                        return total;
                    total += n;
                    bytesDone(n);
                }
            }

            private static unsafe long CopyBuffered(int input, int output, string source, string target, long total, Action<long> bytesDone, CancellationToken cancel)
            {
                posix_fadvise(input, 0, 0, FadvSequential);
                IntPtr block = Marshal.AllocHGlobal(ChunkBytes + 4096);
                try
                {
                    byte* buffer = (byte*)(((long)block + 4095) & ~4095L); // page-aligned
                    while (true)
                    {
                        cancel.ThrowIfCancellationRequested();
                        long n = (long)read(input, buffer, (IntPtr)ChunkBytes);
                        if (n < 0)
                        {
                            int errno = Marshal.GetLastWin32Error();
                            if (errno == EINTR)
                                continue;
                            throw Error("read", source, errno);
                        }
                        if (n == 0)
                            return total;
                        for (long written = 0; written < n;)
                        {
                            long w = (long)write(output, buffer + written, (IntPtr)(n - written));
                            if (w < 0)
                            {
                                int errno = Marshal.GetLastWin32Error();
                                if (errno == EINTR)
                                    continue;
                                throw Error("write", target, errno);
                            }
                            written += w;
                        }
                        total += n;
                        bytesDone(n);
                    }
                }
                finally
                {
                    Marshal.FreeHGlobal(block);
                }
            }

            /// <summary>An IOException carrying the errno in HResult (as .NET's own), so disk-full is recognised.</summary>
            private static IOException Error(string call, string path, int errno) =>
                new IOException($"{call} '{path}': {HardLinks.Describe(errno)}", errno);
        }

        /// <summary>ENOSPC or EDQUOT (Unix errno in HResult, as .NET reports it), or Windows' disk-full errors.</summary>
        internal static bool IsDiskFull(IOException e)
        {
            int code = e.HResult & 0xFFFF;
            return FileSystemApi.IsWindows ? code == 112 || code == 39 : e.HResult == HardLinks.ENOSPC || e.HResult == 122 || (FileSystemApi.IsMacOS && e.HResult == 69);
        }

        /// <summary>
        /// The target filesystem ran out of room: names the file being copied, the filesystem (its mount
        /// point and type), and how much the payload needs against what was free when the copy began.
        /// </summary>
        private static HashallException DiskFull(PayloadFile? file, string target, string stagingRoot, long needed, long copied, long? freeAtStart, IOException e)
        {
            string filesystem = stagingRoot;
            try
            {
                var mount = new Devices.DeviceLocator().Locate(stagingRoot).Device.Mount;
                filesystem = $"{mount.MountPoint} ({mount.FileSystemType})";
            }
            catch (HashallException) { }
            string what = file == null ? $"folders under '{stagingRoot}'" : $"'{file.FullName}' ({file.Size} bytes) to '{target}'";
            string free = freeAtStart == null ? "an unknown amount was" : $"{freeAtStart} bytes were";
            return new HashallException("RehomeCopyFailed", HashallErrorKind.WriteError,
                $"No space left on the target filesystem {filesystem} while copying {what}: the payload needs {needed} bytes "
                + $"({copied} copied so far) and {free} free when the copy began (each file also takes whole blocks and an inode). "
                + "Free space there or choose another target.", target, e);
        }

        private static HashallException CopyFailed(string source, string target, string why, Exception? inner) =>
            new HashallException("RehomeCopyFailed", HashallErrorKind.WriteError, $"Cannot copy '{source}' to '{target}': {why}", target, inner);
    }
}
