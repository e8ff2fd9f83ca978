using System.Collections.Generic;
using System.Globalization;
using System.Management.Automation;
using Hashall.Core.Catalog;
using Hashall.Core.Devices;

namespace Hashall.PowerShell.Devices
{
    /// <summary>Completes device aliases and ids.</summary>
    public sealed class DeviceCompleter : CatalogCompleter
    {
        protected override IEnumerable<CompletionResult> Complete(CatalogDatabase db, string word)
        {
            var pattern = new WildcardPattern(word + "*", WildcardOptions.IgnoreCase);
            foreach (var device in new DeviceStore(db).List())
            {
                string tip = $"{device.MountPoint} ({device.FileSystem}, id {device.DeviceId})";
                if (device.Alias != null && pattern.IsMatch(device.Alias))
                    yield return new CompletionResult(device.Alias, device.Alias, CompletionResultType.ParameterValue, tip);
                string id = device.DeviceId.ToString(CultureInfo.InvariantCulture);
                if (pattern.IsMatch(id))
                    yield return new CompletionResult(id, id, CompletionResultType.ParameterValue, tip);
            }
        }
    }
}
