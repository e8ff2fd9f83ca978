using System;
using System.Collections.Generic;
using System.Management.Automation;
using Hashall.Core.Catalog;
using Hashall.Core.Payloads;

namespace Hashall.PowerShell.Housekeeping
{
    /// <summary>Completes the catalog's stored seeding roots (by any part of the path).</summary>
    public sealed class SeedingRootCompleter : CatalogCompleter
    {
        protected override IEnumerable<CompletionResult> Complete(CatalogDatabase db, string word)
        {
            foreach (var root in new SeedingRootStore(db).List())
                if (root.Path.IndexOf(word, StringComparison.OrdinalIgnoreCase) >= 0)
                    yield return new CompletionResult("'" + root.Path.Replace("'", "''") + "'", root.Path, CompletionResultType.ParameterValue,
                        root.Exists ? root.Path : root.Path + " (missing)");
        }
    }
}
