using System;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using Hashall.Core.Catalog;
using Hashall.Core.Payloads;

namespace Hashall.PowerShell.Torrents
{
    /// <summary>Completes the qBittorrent categories of the torrents in the catalog.</summary>
    public sealed class TorrentCategoryCompleter : CatalogCompleter
    {
        protected override IEnumerable<CompletionResult> Complete(CatalogDatabase db, string word) =>
            new PayloadStore(db).Torrents(includeGone: false)
                .Where(t => t.Category.Length > 0 && t.Category.StartsWith(word, StringComparison.OrdinalIgnoreCase))
                .GroupBy(t => t.Category, StringComparer.Ordinal)
                .OrderBy(g => g.Key, StringComparer.OrdinalIgnoreCase)
                .Select(g => new CompletionResult(CompletionText(g.Key), g.Key, CompletionResultType.ParameterValue, $"{g.Key} ({g.Count()} torrent(s))"));

        private static string CompletionText(string value) =>
            value.IndexOfAny(new[] { ' ', '\'', '"', '$', '`', ';', '(', ')', '{', '}', ',', '&', '|', '@', '#' }) >= 0 ? "'" + value.Replace("'", "''") + "'" : value;
    }
}
