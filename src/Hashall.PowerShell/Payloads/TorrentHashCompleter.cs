using System;
using System.Collections.Generic;
using System.Management.Automation;
using Hashall.Core.Catalog;
using Hashall.Core.Payloads;

namespace Hashall.PowerShell.Payloads
{
    /// <summary>Completes the hashes of torrents qBittorrent still has, matched by hash prefix or by part of the name.</summary>
    public sealed class TorrentHashCompleter : CatalogCompleter
    {
        protected override IEnumerable<CompletionResult> Complete(CatalogDatabase db, string word)
        {
            foreach (var t in new PayloadStore(db).Torrents(includeGone: false))
            {
                if (t.TorrentHash.StartsWith(word, StringComparison.OrdinalIgnoreCase) || t.Name.IndexOf(word, StringComparison.OrdinalIgnoreCase) >= 0)
                    yield return new CompletionResult(t.TorrentHash, t.Name, CompletionResultType.ParameterValue, $"{t.Name} ({t.PayloadStatus})");
            }
        }
    }
}
