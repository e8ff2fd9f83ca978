using System.Management.Automation;
using Hashall.Core.Devices;

namespace Hashall.PowerShell.Devices
{
    /// <summary>Names a device; a path on a filesystem the catalog does not know yet registers it.</summary>
    [Cmdlet(VerbsCommon.Set, "HashallDevice", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
    [OutputType(typeof(HashallDevice))]
    public sealed class SetHashallDeviceCommand : HashallCmdlet
    {
        /// <summary>Alias, device id, or any path on the device.</summary>
        [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
        [Alias("DeviceId")]
        [ArgumentCompleter(typeof(DeviceCompleter))]
        public string Device { get; set; } = "";

        /// <summary>The new alias; an empty string removes it.</summary>
        [Parameter(Mandatory = true, Position = 1)]
        [AllowEmptyString]
        public string Alias { get; set; } = "";

        /// <summary>Write the updated device to the pipeline.</summary>
        [Parameter]
        public SwitchParameter PassThru { get; set; }

        protected override void Process()
        {
            if (Alias.Length > 0)
                DeviceStore.ValidateAlias(Alias);
            var store = new DeviceStore(Catalog);
            var match = store.Find(Device, new DeviceLocator());
            string action = Alias.Length == 0 ? "Remove the alias" : $"Set alias '{Alias}'";
            HashallDevice? device = match.Device;
            if (device == null)
            {
                var mount = match.Uncatalogued!.Device.Mount;
                if (!ShouldProcess($"filesystem mounted at '{mount.MountPoint}' ({mount.FileSystemType}, {mount.Source})", $"Add to catalog '{Catalog.Path}' and {action.ToLowerInvariant()}"))
                    return;
                device = store.FindById(store.Register(match.Uncatalogued.Device))!;
            }
            else if (!ShouldProcess($"device {device.DeviceId} '{device.Alias ?? device.MountPoint}' at '{device.MountPoint}'", action))
            {
                return;
            }
            var updated = store.SetAlias(device.DeviceId, Alias);
            if (PassThru)
                WriteObject(store.WithTotals(updated));
        }
    }
}
