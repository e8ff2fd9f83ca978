using System.Collections.Generic;
using System.Management.Automation;
using Hashall.Core.Devices;

namespace Hashall.PowerShell.Devices
{
    /// <summary>Lists the devices (filesystems) in the catalog with what it holds of each.</summary>
    [Cmdlet(VerbsCommon.Get, "HashallDevice")]
    [OutputType(typeof(HashallDevice))]
    public sealed class GetHashallDeviceCommand : HashallCmdlet
    {
        private readonly HashSet<long> _written = new HashSet<long>();

        /// <summary>Alias (wildcards allowed), device id, or any path on the device. Default: all devices.</summary>
        [Parameter(Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
        [Alias("DeviceId")]
        [ArgumentCompleter(typeof(DeviceCompleter))]
        [SupportsWildcards]
        public string[]? Device { get; set; }

        protected override void Process()
        {
            var store = new DeviceStore(Catalog);
            if (Device == null || Device.Length == 0)
            {
                foreach (var device in store.List())
                    Emit(device);
                return;
            }
            var locator = new DeviceLocator();
            foreach (var selector in Device)
            {
                if (WildcardPattern.ContainsWildcardCharacters(selector))
                {
                    var pattern = new WildcardPattern(selector, WildcardOptions.IgnoreCase);
                    foreach (var device in store.List())
                        if (device.Alias != null && pattern.IsMatch(device.Alias))
                            Emit(device);
                    continue;
                }
                Emit(store.Resolve(selector, locator, register: false));
            }
        }

        /// <summary>Each device once, even when several selectors name it, with its totals.</summary>
        private void Emit(HashallDevice device)
        {
            if (_written.Add(device.DeviceId))
                WriteObject(new DeviceStore(Catalog).WithTotals(device));
        }
    }
}
