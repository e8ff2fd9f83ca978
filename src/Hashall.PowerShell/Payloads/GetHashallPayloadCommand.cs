using System;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using Hashall.Core;
using Hashall.Core.Devices;
using Hashall.Core.Payloads;
using Hashall.PowerShell.Devices;

namespace Hashall.PowerShell.Payloads
{
    /// <summary>Lists payloads recorded by Sync-HashallPayload, or computes the payload of any directory or file.</summary>
    [Cmdlet(VerbsCommon.Get, "HashallPayload", DefaultParameterSetName = "Catalog")]
    [OutputType(typeof(HashallPayload))]
    public sealed class GetHashallPayloadCommand : HashallCmdlet
    {
        /// <summary>Payloads of these torrents.</summary>
        [Parameter(ParameterSetName = "Catalog", ValueFromPipelineByPropertyName = true)]
        [ArgumentCompleter(typeof(TorrentHashCompleter))]
        public string[]? TorrentHash { get; set; }

        /// <summary>Payloads with this hash.</summary>
        [Parameter(ParameterSetName = "Catalog")]
        public string? PayloadHash { get; set; }

        /// <summary>Payloads with this content hash (the same bytes, whatever the names).</summary>
        [Parameter(ParameterSetName = "Catalog")]
        public string? ContentHash { get; set; }

        /// <summary>complete or incomplete.</summary>
        [Parameter(ParameterSetName = "Catalog")]
        [ValidateSet("complete", "incomplete", IgnoreCase = true)]
        public string? Status { get; set; }

        /// <summary>Only payloads on these devices.</summary>
        [Parameter(ParameterSetName = "Catalog")]
        [ArgumentCompleter(typeof(DeviceCompleter))]
        public string[]? Device { get; set; }

        /// <summary>Compute the payload of a directory or file from the catalog (no torrent needed).</summary>
        [Parameter(ParameterSetName = "Path", Mandatory = true, Position = 0, ValueFromPipeline = true)]
        public string[]? Path { get; set; }

        protected override void Process()
        {
            if (ParameterSetName == "Path")
            {
                var builder = new PayloadBuilder(Catalog);
                foreach (var path in Path!)
                {
                    try
                    {
                        WriteObject(builder.ForPath(ResolvePath(path)));
                    }
                    catch (HashallException e) when (e.ErrorId == "PathNotCatalogued")
                    {
                        WriteHashallError(e);
                    }
                }
                return;
            }
            var store = new PayloadStore(Catalog);
            IEnumerable<HashallPayload> payloads = store.Payloads();
            if (TorrentHash != null)
            {
                var ids = new HashSet<long?>(store.Torrents(includeGone: true)
                    .Where(t => TorrentHash.Any(h => string.Equals(h, t.TorrentHash, StringComparison.OrdinalIgnoreCase))).Select(t => t.PayloadId));
                payloads = payloads.Where(p => ids.Contains(p.PayloadId));
            }
            if (PayloadHash != null)
                payloads = payloads.Where(p => string.Equals(p.PayloadHash, PayloadHash, StringComparison.OrdinalIgnoreCase));
            if (ContentHash != null)
                payloads = payloads.Where(p => string.Equals(p.ContentHash, ContentHash, StringComparison.OrdinalIgnoreCase));
            if (Status != null)
                payloads = payloads.Where(p => string.Equals(p.Status, Status, StringComparison.OrdinalIgnoreCase));
            if (Device != null)
            {
                var locator = new DeviceLocator();
                var devices = new DeviceStore(Catalog);
                var ids = new HashSet<long?>(Device.Select(d => (long?)devices.Resolve(d, locator, register: false).DeviceId));
                payloads = payloads.Where(p => ids.Contains(p.DeviceId));
            }
            foreach (var p in payloads)
                WriteObject(p);
        }
    }
}
