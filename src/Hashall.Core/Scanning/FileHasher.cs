using System.Runtime.CompilerServices;
using System;
using System.Buffers;
using System.IO;
using System.Security.Cryptography;
using System.Threading;
using Hashall.Core.Platform;

namespace Hashall.Core.Scanning
{
    /// <summary>
    /// Reads one file and hashes it, streaming through a pooled buffer, and checks afterwards that the
    /// file did not change while it was read (size, mtime and inode as before, every byte read).
    /// </summary>
    public static class FileHasher
    {
        /// <summary>Bytes of the head and of the tail that a quick (sample) hash covers.</summary>
        public const int SampleBytes = 64 * 1024;
        private const int BufferBytes = 1024 * 1024;

        /// <summary>
        /// Full hashes, or (quick) the sample hash: SHA-1 over the size as 8 little-endian bytes, the
        /// first 64 KiB and the last 64 KiB. A file of at most 128 KiB is read whole either way, and
        /// then gets its full hashes too.
        /// </summary>
        [MethodImpl(HotPath.Optimize)]
        public static HashResult Hash(string path, FileStatus before, HashAlgorithms algorithms, bool quick, CancellationToken cancel)
        {
            bool whole = !quick || before.Size <= 2L * SampleBytes;
            // A buffer the size of the file (or 1 MiB): small files are read in one call.
            int bufferBytes = whole ? (int)Math.Min(BufferBytes, Math.Max(4096, before.Size)) : SampleBytes;
            byte[] buffer = ArrayPool<byte>.Shared.Rent(bufferBytes);
            try
            {
                HashResult result;
                using (var stream = Open(path, sequential: before.Size > BufferBytes))
                {
                    result = whole ? HashWhole(stream, before, algorithms, quick, buffer, cancel) : HashSample(stream, path, before, buffer);
                }
                EnsureUnchanged(path, before, result.BytesRead, whole);
                return result;
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }

        [MethodImpl(HotPath.Optimize)]
        private static HashResult HashWhole(Stream stream, FileStatus before, HashAlgorithms algorithms, bool quick,
            byte[] buffer, CancellationToken cancel)
        {
            using var sha1 = IncrementalHash.CreateHash(HashAlgorithmName.SHA1);
            using var sha256 = (algorithms & HashAlgorithms.Sha256) != 0 ? IncrementalHash.CreateHash(HashAlgorithmName.SHA256) : null;
            using var sample = quick ? SampleHash(before.Size) : null;
            long total = 0;
            int read;
            // Reads up to the size the walk saw; growth or shrinkage shows in the check after reading.
            while (total < before.Size && (read = stream.Read(buffer, 0, (int)Math.Min(buffer.Length, before.Size - total))) > 0)
            {
                cancel.ThrowIfCancellationRequested();
                sha1.AppendData(buffer, 0, read);
                sha256?.AppendData(buffer, 0, read);
                sample?.AppendData(buffer, 0, read); // small file: the sample is the whole file
                total += read;
            }
            return new HashResult(Hex(sha1.GetHashAndReset()), sha256 == null ? null : Hex(sha256.GetHashAndReset()),
                sample == null ? null : Hex(sample.GetHashAndReset()), total);
        }

        private static HashResult HashSample(Stream stream, string path, FileStatus before, byte[] buffer)
        {
            using var sample = SampleHash(before.Size);
            ReadExactly(stream, path, buffer, SampleBytes);
            sample.AppendData(buffer, 0, SampleBytes);
            stream.Position = before.Size - SampleBytes;
            ReadExactly(stream, path, buffer, SampleBytes);
            sample.AppendData(buffer, 0, SampleBytes);
            return new HashResult(null, null, Hex(sample.GetHashAndReset()), 2L * SampleBytes);
        }

        private static IncrementalHash SampleHash(long size)
        {
            var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA1);
            var prefix = BitConverter.GetBytes(size);
            if (!BitConverter.IsLittleEndian)
                Array.Reverse(prefix);
            hash.AppendData(prefix);
            return hash;
        }

        private static void ReadExactly(Stream stream, string path, byte[] buffer, int count)
        {
            int done = 0, n;
            while (done < count && (n = stream.Read(buffer, done, count - done)) > 0)
                done += n;
            if (done < count)
                throw Changed(path, "it shrank while being read");
        }

        [MethodImpl(HotPath.Optimize)]
        private static Stream Open(string path, bool sequential)
        {
            try
            {
                return FileReader.OpenRead(path, sequential);
            }
            catch (FileNotFoundException e)
            {
                throw new HashallException("FileVanished", HashallErrorKind.ReadError, $"'{path}' vanished before it could be read; its catalog entry is kept.", path, e);
            }
            catch (DirectoryNotFoundException e)
            {
                throw new HashallException("FileVanished", HashallErrorKind.ReadError, $"'{path}' vanished before it could be read; its catalog entry is kept.", path, e);
            }
            catch (UnauthorizedAccessException e)
            {
                throw new HashallException("FileUnreadable", HashallErrorKind.PermissionDenied, $"Permission denied reading '{path}'; its catalog entry is kept.", path, e);
            }
            catch (IOException e)
            {
                throw new HashallException("FileUnreadable", HashallErrorKind.ReadError, $"Cannot read '{path}': {e.Message}; its catalog entry is kept.", path, e);
            }
        }

        [MethodImpl(HotPath.Optimize)]
        private static void EnsureUnchanged(string path, FileStatus before, long bytesRead, bool whole)
        {
            int error = FileSystemApi.TryLstat(path, out var after);
            if (error != 0)
                throw new HashallException("FileVanished", HashallErrorKind.ReadError, $"'{path}' vanished while being read; its catalog entry is kept.", path);
            if (after.Inode != before.Inode || after.Size != before.Size || after.MtimeNs != before.MtimeNs)
                throw Changed(path, "its size, mtime or inode changed");
            if (whole && bytesRead != before.Size)
                throw Changed(path, $"{bytesRead} bytes were read of {before.Size}");
        }

        private static HashallException Changed(string path, string why) =>
            new HashallException("FileChangedWhileReading", HashallErrorKind.ReadError,
                $"'{path}' changed while being read ({why}); its catalog entry is kept. Scan again when it is quiet.", path);

        public static string Hex(byte[] bytes)
        {
            var chars = new char[bytes.Length * 2];
            for (int i = 0; i < bytes.Length; i++)
            {
                int b = bytes[i];
                chars[2 * i] = HexDigit(b >> 4);
                chars[2 * i + 1] = HexDigit(b & 0xF);
            }
            return new string(chars);
        }

        private static char HexDigit(int v) => (char)(v < 10 ? '0' + v : 'a' + v - 10);
    }
}
