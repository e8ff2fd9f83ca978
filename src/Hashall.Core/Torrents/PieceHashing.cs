using System;
using System.Reflection;
using System.Security.Cryptography;

namespace Hashall.Core.Torrents
{
    /// <summary>
    /// One-shot SHA-1 and SHA-256 into a caller's array, without allocating: on .NET Core the
    /// runtime's HashAlgorithm.TryComputeHash (bound once by reflection, netstandard2.0 does not
    /// declare it); elsewhere ComputeHash and a copy.
    /// </summary>
    internal static class PieceHashing
    {
        private delegate bool TryComputeHashFn(HashAlgorithm algorithm, ReadOnlySpan<byte> source, Span<byte> destination, out int written);

        private static readonly TryComputeHashFn? TryCompute = Bind();

        private static TryComputeHashFn? Bind()
        {
            try
            {
                var method = typeof(HashAlgorithm).GetMethod("TryComputeHash", BindingFlags.Public | BindingFlags.Instance, null,
                    new[] { typeof(ReadOnlySpan<byte>), typeof(Span<byte>), typeof(int).MakeByRefType() }, null);
                return method == null ? null : (TryComputeHashFn)Delegate.CreateDelegate(typeof(TryComputeHashFn), null, method);
            }
            catch (ArgumentException) // the span types of System.Memory are not the runtime's (.NET Framework)
            {
                return null;
            }
        }

        /// <summary>Hashes <paramref name="count"/> bytes of <paramref name="source"/> into <paramref name="destination"/> at <paramref name="at"/> (source and destination may overlap).</summary>
        public static void Hash(HashAlgorithm algorithm, byte[] source, int offset, int count, byte[] destination, int at)
        {
            var fn = TryCompute;
            int size = algorithm.HashSize / 8;
            if (fn != null && fn(algorithm, new ReadOnlySpan<byte>(source, offset, count), new Span<byte>(destination, at, size), out _))
                return;
            Buffer.BlockCopy(algorithm.ComputeHash(source, offset, count), 0, destination, at, size);
        }

        public static bool Equal(byte[] a, int aAt, byte[] b, int bAt, int count)
        {
            for (int i = 0; i < count; i++)
                if (a[aAt + i] != b[bAt + i])
                    return false;
            return true;
        }
    }

    /// <summary>BEP 52 merkle trees of 32-byte SHA-256 nodes (16 KiB leaves).</summary>
    internal static class Merkle
    {
        public const int BlockSize = 16 * 1024;

        /// <summary>The hash of a piece-sized subtree of zero leaves (BEP 52 pads a layer with these).</summary>
        public static byte[] PadHash(SHA256 sha, long pieceLength)
        {
            var hash = new byte[32];
            var pair = new byte[64];
            for (long n = pieceLength / BlockSize; n > 1; n /= 2)
            {
                Buffer.BlockCopy(hash, 0, pair, 0, 32);
                Buffer.BlockCopy(hash, 0, pair, 32, 32);
                PieceHashing.Hash(sha, pair, 0, 64, hash, 0);
            }
            return hash;
        }

        /// <summary>The smallest power of two at least <paramref name="count"/> (1 for 0 or 1).</summary>
        public static int Width(int count)
        {
            int width = 1;
            while (width < count)
                width *= 2;
            return width;
        }

        /// <summary>
        /// Reduces <paramref name="count"/> nodes at the start of <paramref name="level"/> to their root,
        /// in place, padding to <paramref name="width"/> (a power of two) with <paramref name="pad"/>
        /// (null: zeros); the root is left in the first 32 bytes. <paramref name="level"/> holds at least width × 32 bytes.
        /// </summary>
        public static void Reduce(SHA256 sha, byte[] level, int count, int width, byte[]? pad)
        {
            if (pad == null)
                Array.Clear(level, count * 32, (width - count) * 32);
            else
                for (int i = count; i < width; i++)
                    Buffer.BlockCopy(pad, 0, level, i * 32, 32);
            for (; width > 1; width /= 2)
                for (int i = 0; i < width / 2; i++)
                    PieceHashing.Hash(sha, level, i * 64, 64, level, i * 32);
        }
    }
}
