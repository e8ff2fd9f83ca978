using System.Collections;
using System.Collections.Generic;
using System.IO;
using System.Management.Automation;
using System.Management.Automation.Language;
using Hashall.Core;
using Hashall.Core.Catalog;
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
            var (path, _) = CatalogLocation.Resolve(fakeBoundParameters["Database"] as string);
            if (!File.Exists(path))
                return results; // never create a catalog just to complete a name
            var pattern = new WildcardPattern(wordToComplete.Trim('\'', '"') + "*", WildcardOptions.IgnoreCase);
            try
            {
                using var db = CatalogDatabase.Open(path);
                foreach (var device in new DeviceStore(db).List())
                {
                    string tip = $"{device.MountPoint} ({device.FileSystem}, id {device.DeviceId})";
                    if (device.Alias != null && pattern.IsMatch(device.Alias))
                        results.Add(new CompletionResult(device.Alias, device.Alias, CompletionResultType.ParameterValue, tip));
                    string id = device.DeviceId.ToString(System.Globalization.CultureInfo.InvariantCulture);
                    if (pattern.IsMatch(id))
                        results.Add(new CompletionResult(id, id, CompletionResultType.ParameterValue, tip));
                }
            }
            catch (HashallException)
            {
                // an unreadable catalog offers nothing to complete; the command itself will report why
            }
            return results;
        }
    }
}
