using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Management.Automation;

namespace Hashall.PowerShell.Linking
{
    /// <summary>
    /// -KeepPath, -ProtectPath and Undo's -Path: PowerShell wildcards over full paths (case-sensitive,
    /// as Linux paths are; '*' also matches '/'). A pattern is resolved as other path parameters are
    /// (relative to the current location, '~', '..'). A pattern that names an existing file or folder, or
    /// that has no wildcard characters, is taken literally: that path and everything under it (so a
    /// torrent folder such as '[Group] Show' names itself, not a character class).
    /// </summary>
    internal static class PathPatterns
    {
        /// <summary>One predicate per pattern; <paramref name="resolve"/> turns a typed path into a full one (HashallCmdlet.ResolvePath).</summary>
        public static IReadOnlyList<Func<string, bool>> For(IEnumerable<string>? patterns, Func<string, string> resolve) =>
            patterns == null ? Array.Empty<Func<string, bool>>() : patterns.Select(p => One(p, resolve)).ToList();

        public static Func<string, bool> One(string pattern, Func<string, string> resolve)
        {
            string full = resolve(pattern);
            if (full.Length > 1)
                full = full.TrimEnd('/');
            if (File.Exists(full) || Directory.Exists(full) || !WildcardPattern.ContainsWildcardCharacters(full))
            {
                string folder = full.EndsWith("/", StringComparison.Ordinal) ? full : full + "/";
                return path => path == full || path.StartsWith(folder, StringComparison.Ordinal);
            }
            var wildcard = new WildcardPattern(full, WildcardOptions.None);
            return wildcard.IsMatch;
        }

        /// <summary>True when any of <paramref name="patterns"/> matches (none given: always).</summary>
        public static Func<string, bool>? Any(IEnumerable<string>? patterns, Func<string, string> resolve)
        {
            var list = For(patterns, resolve);
            if (list.Count == 0)
                return null;
            return path => list.Any(p => p(path));
        }

        /// <summary>
        /// The predicates of <paramref name="patterns"/>, each noting in <paramref name="matched"/> (same
        /// index) whether it ever matched a path, to name the patterns that matched nothing.
        /// </summary>
        public static IReadOnlyList<Func<string, bool>> Counted(IReadOnlyList<string>? patterns, Func<string, string> resolve, bool[] matched) =>
            patterns == null ? Array.Empty<Func<string, bool>>() : patterns.Select((p, i) =>
            {
                var one = One(p, resolve);
                return (Func<string, bool>)(path =>
                {
                    bool hit = one(path);
                    if (hit)
                        matched[i] = true;
                    return hit;
                });
            }).ToList();
    }
}
