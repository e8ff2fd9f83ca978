using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Management.Automation;
using Hashall.Core;
using Hashall.Core.Devices;
using Hashall.Core.Payloads;
using Hashall.Core.Rehome;
using Hashall.PowerShell.Devices;
using Hashall.PowerShell.Payloads;

namespace Hashall.PowerShell.Rehome
{
    /// <summary>Plans moving payloads between stash and pool: BLOCK, REUSE or MOVE per payload, covering every sibling torrent.</summary>
    [Cmdlet(VerbsCommon.New, "RehomePlan", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low)]
    [OutputType(typeof(RehomePlan))]
    public sealed class NewRehomePlanCommand : HashallCmdlet
    {
        private readonly HashSet<string> _torrents = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        private readonly HashSet<string> _payloads = new HashSet<string>(StringComparer.OrdinalIgnoreCase);

        /// <summary>Torrents to rehome (with their siblings); torrents from Get-HashallTorrent bind here.</summary>
        [Parameter(ValueFromPipelineByPropertyName = true)]
        [ArgumentCompleter(typeof(TorrentHashCompleter))]
        public string[]? TorrentHash { get; set; }

        /// <summary>Payloads to rehome; payloads from Get-HashallPayload bind here.</summary>
        [Parameter(ValueFromPipelineByPropertyName = true)]
        public string[]? PayloadHash { get; set; }

        /// <summary>Every torrent with this tag.</summary>
        [Parameter]
        public string? Tag { get; set; }

        /// <summary>Every torrent of this category.</summary>
        [Parameter]
        public string? Category { get; set; }

        /// <summary>Stash to pool.</summary>
        [Parameter]
        public SwitchParameter Demote { get; set; }

        /// <summary>Pool to stash, only onto a copy already on the stash.</summary>
        [Parameter]
        public SwitchParameter Promote { get; set; }

        /// <summary>Directories that hold seeding data; a hard link outside all of them blocks the payload.</summary>
        [Parameter(Mandatory = true)]
        public string[] SeedingRoot { get; set; } = Array.Empty<string>();

        /// <summary>The stash device: alias, id or path.</summary>
        [Parameter(Mandatory = true)]
        [ArgumentCompleter(typeof(DeviceCompleter))]
        public string StashDevice { get; set; } = "";

        /// <summary>The pool device: alias, id or path.</summary>
        [Parameter(Mandatory = true)]
        [ArgumentCompleter(typeof(DeviceCompleter))]
        public string PoolDevice { get; set; } = "";

        /// <summary>Demotion: the directory on the pool that receives payloads.</summary>
        [Parameter]
        public string? TargetPath { get; set; }

        /// <summary>Sub-path under -TargetPath for each payload's save path: {category}, {tag}, {name}; default {category}.</summary>
        [Parameter]
        public string Layout { get; set; } = "{category}";

        /// <summary>Also save the plans as JSON here, for review.</summary>
        [Parameter]
        public string? OutFile { get; set; }

        protected override void Process()
        {
            foreach (var h in TorrentHash ?? Array.Empty<string>())
                _torrents.Add(h);
            foreach (var h in PayloadHash ?? Array.Empty<string>())
                if (!string.IsNullOrEmpty(h))
                    _payloads.Add(h);
        }

        protected override void End()
        {
            if (Demote == Promote)
                throw new HashallException("RehomeDirectionMissing", HashallErrorKind.InvalidArgument, "Say -Demote (stash to pool) or -Promote (pool to stash).", null);
            if (_torrents.Count == 0 && _payloads.Count == 0 && Tag == null && Category == null)
                throw new HashallException("RehomeNothingSelected", HashallErrorKind.InvalidArgument,
                    "Name what to rehome: -TorrentHash, -PayloadHash, -Tag, -Category, or torrents or payloads on the pipeline.", null);
            var locator = new DeviceLocator();
            var devices = new DeviceStore(Catalog);
            var options = new RehomeOptions
            {
                Direction = Demote ? RehomeDirection.Demote : RehomeDirection.Promote,
                SeedingRoots = SeedingRoot.Select(r => ResolvePath(r).TrimEnd('/')).ToList(),
                StashDevice = devices.Resolve(StashDevice, locator, register: false),
                PoolDevice = devices.Resolve(PoolDevice, locator, register: false),
                TargetRoot = TargetPath == null ? null : ResolvePath(TargetPath).TrimEnd('/'),
                Layout = Layout,
            };
            if (options.StashDevice.DeviceId == options.PoolDevice.DeviceId)
                throw new HashallException("RehomeSameDevice", HashallErrorKind.InvalidArgument, "-StashDevice and -PoolDevice name the same device.", PoolDevice);
            var selected = new PayloadStore(Catalog).Torrents(includeGone: false).Where(t =>
                _torrents.Contains(t.TorrentHash) || (t.PayloadHash != null && _payloads.Contains(t.PayloadHash))
                || (Tag != null && t.Tags.Contains(Tag)) || (Category != null && t.Category == Category)).ToList();
            foreach (var missing in _torrents.Where(h => !selected.Any(t => string.Equals(t.TorrentHash, h, StringComparison.OrdinalIgnoreCase))))
                WriteHashallError(new HashallException("TorrentNotFound", HashallErrorKind.NotFound, $"No torrent '{missing}' in the catalog; run Sync-HashallPayload first.", missing));
            var plans = new RehomePlanner(Catalog).Plan(selected, options);
            if (OutFile != null)
            {
                string file = ResolvePath(OutFile);
                if (ShouldProcess(file, $"Save {plans.Count} rehome plan(s) as JSON"))
                    File.WriteAllText(file, RehomePlanFile.Serialize(plans));
            }
            WriteObject(plans, enumerateCollection: true);
        }
    }
}
