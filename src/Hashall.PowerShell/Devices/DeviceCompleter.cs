using System.Collections;
using System.Collections.Generic;
using System.Globalization;
using System.Management.Automation;
using System.Management.Automation.Language;
using Hashall.Core.Devices;

namespace Hashall.PowerShell.Devices
{
    /// <summary>Completes device aliases and ids from the catalog named by -Database (or the default one).</summary>
    public sealed class DeviceCompleter : IArgumentCompleter
    {
        public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete,
            CommandAst commandAst, IDictionary fakeBoundParameters)
        {
            var results = new List<CompletionResult>();
            using var db = CompletionCatalog.TryOpen(fakeBoundParameters);
            if (db == null)
                return results;
            var pattern = new WildcardPattern(wordToComplete.Trim('\'', '"') + "*", WildcardOptions.IgnoreCase);
            foreach (var device in new DeviceStore(db).List())
            {
                string tip = $"{device.MountPoint} ({device.FileSystem}, id {device.DeviceId})";
                if (device.Alias != null && pattern.IsMatch(device.Alias))
                    results.Add(new CompletionResult(device.Alias, device.Alias, CompletionResultType.ParameterValue, tip));
                string id = device.DeviceId.ToString(CultureInfo.InvariantCulture);
                if (pattern.IsMatch(id))
                    results.Add(new CompletionResult(id, id, CompletionResultType.ParameterValue, tip));
            }
            return results;
        }
    }
}
