using System;
using System.Linq;
using System.Management.Automation;
using Hashall.Core.Catalog;
using Hashall.Core.Devices;
using Hashall.PowerShell.Devices;

namespace Hashall.PowerShell.Catalog
{
    /// <summary>Lists groups of files with the same size and SHA-1 on one device but more than one inode.</summary>
    [Cmdlet(VerbsCommon.Get, "HashallDuplicate")]
    [OutputType(typeof(DuplicateGroup))]
    public sealed class GetHashallDuplicateCommand : HashallCmdlet
    {
        /// <summary>Devices by alias, id or path; default: all.</summary>
        [Parameter(Position = 0, ValueFromPipelineByPropertyName = true)]
        [Alias("DeviceId")]
        [ArgumentCompleter(typeof(DeviceCompleter))]
        public string[]? Device { get; set; }

        /// <summary>Smallest file size to consider, in bytes (default 1: empty files are never duplicates worth linking).</summary>
        [Parameter]
        [ValidateRange(0, long.MaxValue)]
        public long MinimumSize { get; set; } = 1;

        protected override void Process()
        {
            var locator = new DeviceLocator();
            var store = new DeviceStore(Catalog);
            var ids = (Device ?? Array.Empty<string>()).Select(d => store.Resolve(d, locator, register: false).DeviceId).Distinct().ToList();
            foreach (var group in new FileQuery(Catalog).Duplicates(ids, MinimumSize))
            {
                if (StopToken.IsCancellationRequested)
                    return;
                WriteObject(group);
            }
        }
    }
}
