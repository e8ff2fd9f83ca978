using System;
using System.Collections.Generic;
using System.Linq;
using Hashall.Core.Catalog;

namespace Hashall.Core.Linking
{
    /// <summary>How a duplicate group's canonical inode (the copy that is kept) is chosen after -KeepPath.</summary>
    public enum KeepOrder
    {
        /// <summary>The inode with the most links, then the oldest mtime, then the shortest path, then the first path (ordinal).</summary>
        MostLinks,
        /// <summary>The oldest mtime first, then as MostLinks.</summary>
        Oldest,
        /// <summary>The newest mtime first, then as MostLinks.</summary>
        Newest,
        /// <summary>The shortest path first, then as MostLinks.</summary>
        ShortestPath,
        /// <summary>Only the -KeepPath list decides, then the first path in ordinal order.</summary>
        PathOrder,
    }

    /// <summary>
    /// Which copy of a duplicate group is kept, and which copies are never replaced. Patterns are
    /// predicates over full paths (the cmdlet passes wildcards), so the engine knows no wildcard syntax.
    /// <para>The canonical inode is chosen by, in order: (1) when any inode has a path matching a
    /// protect pattern, only such inodes may be canonical; (2) the first keep pattern (in priority order)
    /// that one of the inode's paths matches, an inode matching none ranking last; (3) the
    /// <see cref="KeepOrder"/>. Every inode with a protected path is left as it is: protected inodes other
    /// than the canonical one get no action (they stay separate copies), the unprotected ones are
    /// linked to the canonical inode.</para>
    /// </summary>
    public sealed class KeepRules
    {
        public static KeepRules Default { get; } = new KeepRules();

        /// <summary>Keep patterns in priority order (the first is the most wanted).</summary>
        public IReadOnlyList<Func<string, bool>> Keep { get; set; } = Array.Empty<Func<string, bool>>();

        public KeepOrder Order { get; set; } = KeepOrder.MostLinks;

        /// <summary>Protect patterns: a path matching any is never replaced.</summary>
        public IReadOnlyList<Func<string, bool>> Protect { get; set; } = Array.Empty<Func<string, bool>>();

        public bool IsProtected(string fullPath) => Protect.Any(p => p(fullPath));

        /// <summary>
        /// Orders a group's inodes (each the list of its catalogued paths, ordinal order) so that the first
        /// is the canonical one; <paramref name="full"/> turns a catalog path into the full path the
        /// patterns see.
        /// </summary>
        /// <para>Every keep and protect pattern is asked about every path of every inode, so a caller can
        /// tell which of its patterns matched no path at all.</para>
        public List<List<FileRow>> Rank(IEnumerable<List<FileRow>> inodes, Func<string, string> full)
        {
            var ranked = inodes.Select(paths => new Ranked(paths, this, full)).ToList();
            IOrderedEnumerable<Ranked> order = ranked
                .OrderBy(r => r.Protected ? 0 : 1)
                .ThenBy(r => r.KeepIndex);
            switch (Order)
            {
                case KeepOrder.Oldest:
                    order = order.ThenBy(r => r.Mtime);
                    break;
                case KeepOrder.Newest:
                    order = order.ThenByDescending(r => r.Mtime);
                    break;
                case KeepOrder.ShortestPath:
                    order = order.ThenBy(r => r.ShortestPath);
                    break;
                case KeepOrder.PathOrder:
                    order = order.ThenBy(r => r.FirstPath, StringComparer.Ordinal);
                    break;
            }
            return order
                .ThenByDescending(r => r.Links)
                .ThenBy(r => r.Mtime)
                .ThenBy(r => r.ShortestPath)
                .ThenBy(r => r.FirstPath, StringComparer.Ordinal)
                .Select(r => r.Paths)
                .ToList();
        }

        /// <summary>Whether an inode (its catalogued paths) holds a protected path, so it is never replaced.</summary>
        public bool IsProtected(List<FileRow> paths, Func<string, string> full) =>
            Protect.Count > 0 && paths.Any(f => IsProtected(full(f.Path)));

        private sealed class Ranked
        {
            public Ranked(List<FileRow> paths, KeepRules rules, Func<string, string> full)
            {
                Paths = paths;
                var fulls = rules.Keep.Count > 0 || rules.Protect.Count > 0 ? paths.Select(f => full(f.Path)).ToList() : null;
                KeepIndex = rules.Keep.Count;
                // Every pattern is asked about every path (no short cut), so a caller counting the
                // matches of its patterns sees each one that matches anything.
                if (fulls != null)
                    foreach (string path in fulls)
                    {
                        foreach (var protect in rules.Protect)
                            if (protect(path))
                                Protected = true;
                        for (int i = 0; i < rules.Keep.Count; i++)
                            if (rules.Keep[i](path) && i < KeepIndex)
                                KeepIndex = i;
                    }
                Links = paths.Max(f => f.LinkCount);
                Mtime = paths[0].MtimeNs;
                ShortestPath = paths.Min(f => f.Path.Length);
                FirstPath = paths[0].Path;
            }

            public List<FileRow> Paths { get; }
            public bool Protected { get; }
            public int KeepIndex { get; }
            public long Links { get; }
            public long Mtime { get; }
            public int ShortestPath { get; }
            public string FirstPath { get; }
        }
    }
}
