using System;
using System.Collections.Generic;
using System.Globalization;
using System.Management.Automation;
using Hashall.Core.Catalog;
using Hashall.Core.Linking;

namespace Hashall.PowerShell.Linking
{
    /// <summary>Completes link plan ids, with their name and status.</summary>
    public sealed class LinkPlanCompleter : CatalogCompleter
    {
        protected override IEnumerable<CompletionResult> Complete(CatalogDatabase db, string word)
        {
            foreach (var plan in new LinkPlanStore(db).List())
            {
                string id = plan.PlanId.ToString(CultureInfo.InvariantCulture);
                if (id.StartsWith(word, StringComparison.Ordinal))
                    yield return new CompletionResult(id, $"{id} {plan.Name}", CompletionResultType.ParameterValue,
                        $"{plan.Name ?? "(unnamed)"} on {plan.Device}: {plan.Status}, {plan.ActionCount} action(s)");
            }
        }
    }
}
