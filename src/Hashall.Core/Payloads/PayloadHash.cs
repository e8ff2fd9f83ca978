using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Security.Cryptography;
using System.Text;
using Hashall.Core.Scanning;

namespace Hashall.Core.Payloads
{
    /// <summary>One file of a payload, as the payload hash sees it.</summary>
    public sealed class PayloadFile
    {
        /// <summary>The file's path relative to the payload root, '/'-separated: the root folder's own name is not part of it (a single-file payload: the file name).</summary>
        public string RelativePath { get; set; } = "";
        /// <summary>
        /// The file's path as a torrent of the payload names it, relative to the folder holding the root
        /// (its save path): the root folder's name included. Where a copy of the payload puts the file.
        /// </summary>
        public string TorrentPath { get; set; } = "";
        public long Size { get; set; }
        /// <summary>Lowercase hex SHA-1; null when the catalog has none (the payload is then incomplete).</summary>
        public string? Sha1 { get; set; }
        /// <summary>Why the file has no usable SHA-1, when it has none.</summary>
        public string? Missing { get; set; }
        public string FullName { get; set; } = "";
    }

    /// <summary>
    /// The seed's payload identity: lowercase hex SHA-256 over the files sorted by (path relative to the
    /// payload root, size, sha1), each contributing the UTF-8 bytes of "{path}|{size}|{sha1}\n". Paths compare by Unicode
    /// code point (= UTF-8 byte order), which differs from .NET's ordinal UTF-16 order for characters
    /// beyond the BMP. Null when any file lacks a SHA-1.
    /// </summary>
    public static class PayloadHash
    {
        public static string? Compute(IEnumerable<PayloadFile> files)
        {
            var list = files.ToList();
            if (list.Count == 0 || list.Any(f => f.Sha1 == null))
                return null; // no files (a magnet without metadata yet) identify nothing
            list.Sort((a, b) =>
            {
                int c = CodePointComparer.Instance.Compare(a.RelativePath, b.RelativePath);
                if (c != 0) return c;
                c = a.Size.CompareTo(b.Size);
                return c != 0 ? c : string.CompareOrdinal(a.Sha1, b.Sha1); // hex: ordinal is code point order
            });
            using var sha256 = SHA256.Create();
            var text = new StringBuilder();
            foreach (var f in list)
                text.Append(f.RelativePath).Append('|').Append(f.Size.ToString(CultureInfo.InvariantCulture)).Append('|').Append(f.Sha1!.ToLowerInvariant()).Append('\n');
            return FileHasher.Hex(sha256.ComputeHash(Encoding.UTF8.GetBytes(text.ToString())));
        }
    }

    /// <summary>
    /// Content identity, names ignored: lowercase hex SHA-256 over the payload's files as the UTF-8 lines
    /// "{size}|{sha1}\n", sorted by code point (a multiset: equal files count as often as they occur).
    /// Torrents whose files are the same bytes under other file and folder names (renamed episodes, a
    /// single-file torrent and a folder torrent of that one file) have the same content hash. Null when
    /// any file lacks a SHA-1.
    /// </summary>
    public static class ContentHash
    {
        public static string? Compute(IEnumerable<PayloadFile> files)
        {
            var list = files.ToList();
            if (list.Count == 0 || list.Any(f => f.Sha1 == null))
                return null;
            var lines = list.Select(f => f.Size.ToString(CultureInfo.InvariantCulture) + "|" + f.Sha1!.ToLowerInvariant() + "\n").ToList();
            lines.Sort(StringComparer.Ordinal); // digits, '|', hex and '\n' only: ordinal is code point order
            using var sha256 = SHA256.Create();
            return FileHasher.Hex(sha256.ComputeHash(Encoding.UTF8.GetBytes(string.Concat(lines))));
        }
    }

    /// <summary>Orders strings by Unicode code point (surrogate pairs as the characters they encode).</summary>
    public sealed class CodePointComparer : IComparer<string>
    {
        public static readonly CodePointComparer Instance = new CodePointComparer();

        public int Compare(string? x, string? y)
        {
            if (ReferenceEquals(x, y)) return 0;
            if (x == null) return -1;
            if (y == null) return 1;
            int i = 0, j = 0;
            while (i < x.Length && j < y.Length)
            {
                int a = Next(x, ref i), b = Next(y, ref j);
                if (a != b)
                    return a < b ? -1 : 1;
            }
            return (x.Length - i).CompareTo(y.Length - j);
        }

        /// <summary>The code point at <paramref name="i"/>, advancing past it (a lone surrogate counts as itself).</summary>
        private static int Next(string s, ref int i)
        {
            if (char.IsHighSurrogate(s[i]) && i + 1 < s.Length && char.IsLowSurrogate(s[i + 1]))
            {
                int cp = char.ConvertToUtf32(s[i], s[i + 1]);
                i += 2;
                return cp;
            }
            return s[i++];
        }
    }
}
