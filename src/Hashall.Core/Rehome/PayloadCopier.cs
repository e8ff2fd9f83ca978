using System;
using System.Buffers;
using System.Collections.Generic;
using System.IO;
using System.Linq;
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
        public static Outcome Copy(IReadOnlyList<PayloadFile> files, string stagingRoot, Action<long> bytesDone, CancellationToken cancel)
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
            byte[] buffer = ArrayPool<byte>.Shared.Rent(BufferBytes);
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
                    CopyFile(file.FullName, target, source, buffer, bytesDone, cancel);
                    FileMetadata.CopyFrom(target, source);
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
                ArrayPool<byte>.Shared.Return(buffer);
            }
            return outcome;
        }

        /// <summary>
        /// Reads every file under <paramref name="root"/> back (in parallel) and compares size and SHA-1
        /// with the catalog's; throws RehomeVerifyFailed naming the first file that differs.
        /// </summary>
        public static void Verify(IReadOnlyList<PayloadFile> files, string root, Action<long> bytesDone, CancellationToken cancel)
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
                if (seen.Add((st.DeviceNumber, st.Inode, file.Sha1)))
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

        private static void CopyFile(string source, string target, FileStatus expected, byte[] buffer, Action<long> bytesDone, CancellationToken cancel)
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

        /// <summary>ENOSPC or EDQUOT (Unix errno in HResult, as .NET reports it), or Windows' disk-full errors.</summary>
        private static bool IsDiskFull(IOException e)
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
