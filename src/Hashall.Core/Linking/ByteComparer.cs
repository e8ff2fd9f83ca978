using System;
using System.IO;
using System.Threading;
using Hashall.Core.Platform;

namespace Hashall.Core.Linking
{
    /// <summary>
    /// Compares two files byte for byte (the link executor's verification, and undo's recognition of a copy
    /// made by a run that stopped before recording it). Its two read buffers are allocated at the first
    /// comparison and reused by later ones: one comparer per run, used from one thread at a time.
    /// </summary>
    internal sealed class ByteComparer
    {
        /// <summary>Files up to this size are compared with one read of each.</summary>
        public const int BufferBytes = 4 << 20;

        private byte[]? _a, _b;

        /// <summary>
        /// Whether the two files' first <paramref name="size"/> bytes are the same (both must have that
        /// many). A file up to the buffer's size takes one read; larger ones are read in large chunks, the
        /// second file's on a pool thread while this one reads the first's. <paramref name="tick"/> runs
        /// before each chunk (to renew a lease). IO errors are the caller's.
        /// </summary>
        public bool Same(string a, string b, long size, CancellationToken cancel, Action? tick = null)
        {
            bool large = size > BufferBytes;
            using var fa = FileReader.OpenRead(a, sequential: large);
            using var fb = FileReader.OpenRead(b, sequential: large);
            var ba = _a ??= new byte[BufferBytes];
            var bb = _b ??= new byte[BufferBytes];
            for (long left = size; left > 0;)
            {
                cancel.ThrowIfCancellationRequested();
                tick?.Invoke();
                int want = (int)Math.Min(left, ba.Length);
                int na, nb;
                if (large)
                {
                    var other = System.Threading.Tasks.Task.Run(() => ReadFull(fb, bb, want));
                    try
                    {
                        na = ReadFull(fa, ba, want);
                    }
                    finally
                    {
                        // Never leave with the other read running: it reads a file about to be closed into
                        // the buffer the next comparison uses.
                        nb = other.GetAwaiter().GetResult();
                    }
                }
                else
                {
                    na = ReadFull(fa, ba, want);
                    nb = ReadFull(fb, bb, want);
                }
                if (na != want || nb != want || !ba.AsSpan(0, want).SequenceEqual(bb.AsSpan(0, want)))
                    return false;
                left -= want;
            }
            return true;
        }

        private static int ReadFull(Stream s, byte[] buffer, int count)
        {
            int total = 0, n;
            while (total < count && (n = s.Read(buffer, total, count - total)) > 0)
                total += n;
            return total;
        }
    }
}
