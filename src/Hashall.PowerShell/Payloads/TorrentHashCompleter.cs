using System.Collections;
using System.Collections.Generic;
using System.Management.Automation;
using System.Management.Automation.Language;
using Hashall.Core.Payloads;

namespace Hashall.PowerShell.Payloads
{
    /// <summary>Completes torrent hashes known to the catalog, showing each torrent's name.</summary>
    public sealed class TorrentHashCompleter : IArgumentCompleter
    {
        public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete,
            CommandAst commandAst, IDictionary fakeBoundParameters)
        {
            var results = new List<CompletionResult>();
            using var db = CompletionCatalog.TryOpen(fakeBoundParameters);
            if (db == null)
                return results;
            string word = wordToComplete.Trim('\'', '"');
            foreach (var t in new PayloadStore(db).Torrents(includeGone: false))
            {
                if (t.TorrentHash.StartsWith(word, System.StringComparison.OrdinalIgnoreCase)
                    || t.Name.IndexOf(word, System.StringComparison.OrdinalIgnoreCase) >= 0)
                    results.Add(new CompletionResult(t.TorrentHash, t.Name, CompletionResultType.ParameterValue, $"{t.Name} ({t.PayloadStatus})"));
            }
            return results;
        }
    }
}
