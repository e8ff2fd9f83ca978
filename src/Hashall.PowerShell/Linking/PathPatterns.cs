using System;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;

namespace Hashall.PowerShell.Linking
{
    /// <summary>
    /// -KeepPath, -ProtectPath and Undo's -Path: PowerShell wildcards over full paths (case-sensitive,
    /// as Linux paths are; '*' also matches '/'). A relative pattern is taken from the current folder;
    /// a pattern without wildcards names a file or a folder and everything under it.
    /// </summary>
    internal static class PathPatterns
    {
        public static IReadOnlyList<Func<string, bool>> For(IEnumerable<string>? patterns, string currentFolder) =>
            patterns == null ? Array.Empty<Func<string, bool>>() : patterns.Select(p => One(p, currentFolder)).ToList();

        public static Func<string, bool> One(string pattern, string currentFolder)
        {
            string full = pattern.StartsWith("/", StringComparison.Ordinal) || System.IO.Path.IsPathRooted(pattern)
                ? pattern
                : System.IO.Path.Combine(currentFolder, pattern);
            if (full.Length > 1)
                full = full.TrimEnd('/');
            if (!WildcardPattern.ContainsWildcardCharacters(full))
            {
                string folder = full.EndsWith("/", StringComparison.Ordinal) ? full : full + "/";
                return path => path == full || path.StartsWith(folder, StringComparison.Ordinal);
            }
            var wildcard = new WildcardPattern(full, WildcardOptions.None);
            return wildcard.IsMatch;
        }

        /// <summary>True when any of <paramref name="patterns"/> matches (none given: always).</summary>
        public static Func<string, bool>? Any(IEnumerable<string>? patterns, string currentFolder)
        {
            var list = For(patterns, currentFolder);
            if (list.Count == 0)
                return null;
            return path => list.Any(p => p(path));
        }
    }
}
