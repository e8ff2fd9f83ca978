using System.Collections.Generic;
using System.Runtime.CompilerServices;
using Hashall.Core.Platform;

namespace Hashall.Core.Scanning
{
    /// <summary>
    /// The order of the catalog's key: SQLite's BINARY collation compares TEXT as UTF-8 bytes, which is
    /// Unicode code point order. .NET's ordinal order compares UTF-16 code units and differs from it
    /// where a character of U+E000..U+FFFF meets a surrogate pair (U+10000 and up): U+FF21 sorts after
    /// U+1F600 as UTF-16 but before it as UTF-8.
    /// </summary>
    internal static class CatalogOrder
    {
        /// <summary>Compares two paths as SQLite orders them.</summary>
        [MethodImpl(HotPath.Optimize)]
        public static int Compare(string a, string b) => Compare(a, false, b, false);

        /// <summary>
        /// Compares two names as SQLite orders them, each followed by '/' when its flag is set (a directory:
        /// every path below it starts with its name and '/').
        /// </summary>
        [MethodImpl(HotPath.Optimize)]
        public static int Compare(string a, bool aSlash, string b, bool bSlash)
        {
            int la = a.Length + (aSlash ? 1 : 0), lb = b.Length + (bSlash ? 1 : 0);
            int n = la < lb ? la : lb;
            for (int i = 0; i < n; i++)
            {
                char x = i < a.Length ? a[i] : '/', y = i < b.Length ? b[i] : '/';
                if (x != y)
                    return Weight(x) - Weight(y);
            }
            return la - lb;
        }

        /// <summary>Moves surrogates (U+D800..U+DFFF) above U+E000..U+FFFF, so code units compare as code points.</summary>
        private static int Weight(char c) => c < 0xD800 ? c : c >= 0xE000 ? c - 0x800 : c + 0x2000;

        /// <summary>Orders a directory's entries as the catalog orders their paths (directories as name + '/').</summary>
        public sealed class EntryComparer : IComparer<DirectoryEntry>
        {
            public static readonly EntryComparer Instance = new EntryComparer();

            public int Compare(DirectoryEntry a, DirectoryEntry b) =>
                CatalogOrder.Compare(a.Name, a.Kind == FileKind.Directory, b.Name, b.Kind == FileKind.Directory);
        }
    }
}
