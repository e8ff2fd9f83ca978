using System.Collections;
using System.Collections.Generic;
using System.Globalization;
using System.Management.Automation;
using System.Management.Automation.Language;
using Hashall.Core.Linking;

namespace Hashall.PowerShell.Linking
{
    /// <summary>Completes link plan ids from the catalog named by -Database (or the default one), with their name and status.</summary>
    public sealed class LinkPlanCompleter : IArgumentCompleter
    {
        public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete,
            CommandAst commandAst, IDictionary fakeBoundParameters)
        {
            var results = new List<CompletionResult>();
            using var db = CompletionCatalog.TryOpen(fakeBoundParameters);
            if (db == null)
                return results;
            foreach (var plan in new LinkPlanStore(db).List())
            {
                string id = plan.PlanId.ToString(CultureInfo.InvariantCulture);
                if (id.StartsWith(wordToComplete, System.StringComparison.Ordinal))
                    results.Add(new CompletionResult(id, $"{id} {plan.Name}", CompletionResultType.ParameterValue,
                        $"{plan.Name ?? "(unnamed)"} on {plan.Device}: {plan.Status}, {plan.ActionCount} action(s)"));
            }
            return results;
        }
    }
}
