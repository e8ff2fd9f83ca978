using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Management.Automation;
using Hashall.Core;
using Hashall.Core.Catalog;
using Hashall.Core.Devices;
using Hashall.Core.Linking;
using Hashall.Core.Platform;
using Hashall.PowerShell.Devices;
using Hashall.PowerShell.Formatting;

namespace Hashall.PowerShell.Linking
{
    /// <summary>Plans dedup of one device (hard links, or block clones) from the catalog's duplicate groups, and stores the plan.</summary>
    [Cmdlet(VerbsCommon.New, "HashallLinkPlan", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low)]
    [OutputType(typeof(LinkPlan))]
    public sealed class NewHashallLinkPlanCommand : HashallCmdlet
    {
        private readonly List<(HashallDevice Device, string Scope)> _targets = new List<(HashallDevice, string)>();
        // Which -KeepPath / -ProtectPath patterns matched a path in any plan of this run (same index).
        private bool[]? _keepMatched, _protectMatched;
        /// <summary>The device: alias, id, or any path on it. Optional when -Path is given.</summary>
        [Parameter(Position = 0, ValueFromPipelineByPropertyName = true)]
        [Alias("DeviceId")]
        [ArgumentCompleter(typeof(DeviceCompleter))]
        public string? Device { get; set; }

        /// <summary>Only files at or under this path (on the device).</summary>
        [Parameter]
        public string? Path { get; set; }

        /// <summary>Smallest file size to link, in bytes (default 1).</summary>
        [Parameter]
        [ValidateRange(0, long.MaxValue)]
        public long MinimumSize { get; set; } = 1;

        /// <summary>A name for the plan.</summary>
        [Parameter]
        public string? Name { get; set; }

        /// <summary>Wildcards over full paths, in priority order: the copy matching the first one is kept (the canonical file).</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        [SupportsWildcards]
        public string[]? KeepPath { get; set; }

        /// <summary>How the kept copy is chosen after -KeepPath: MostLinks (default), Oldest, Newest, ShortestPath, PathOrder.</summary>
        [Parameter]
        public KeepOrder KeepOrder { get; set; } = KeepOrder.MostLinks;

        /// <summary>Wildcards over full paths: a matching path is never replaced (it may only be the kept copy).</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        [SupportsWildcards]
        public string[]? ProtectPath { get; set; }
        /// <summary>Also plan paths that Undo-HashallLinkPlan gave their own copy back (left out by default).</summary>
        [Parameter]
        public SwitchParameter IncludeUndone { get; set; }

        /// <summary>HardLink (default): duplicates become hard links of the canonical file. Clone: they share its blocks (btrfs, XFS with reflink), each keeping its inode and metadata.</summary>
        [Parameter]
        public LinkMethod Method { get; set; } = LinkMethod.HardLink;

        protected override void Process()
        {
            if (Device == null && Path == null)
                throw new HashallException("LinkPlanNeedsDevice", HashallErrorKind.InvalidArgument, "Name the device to plan (-Device), or a path on it (-Path).", null);
            var locator = new DeviceLocator();
            HashallDevice device;
            string scope = "";
            if (Path != null)
            {
                string full = ResolvePath(Path);
                var at = new FileQuery(Catalog).ScopeOf(full, locator)
                    ?? throw new HashallException("PathNotCatalogued", HashallErrorKind.NotFound, $"No catalogued device holds '{full}'; scan it first.", Path);
                device = at.Device;
                scope = at.Prefix;
                if (Device != null && new DeviceStore(Catalog).Resolve(Device, locator, register: false).DeviceId != device.DeviceId)
                    throw new HashallException("PathNotOnDevice", HashallErrorKind.InvalidArgument, $"'{full}' is not on device '{Device}'.", Path);
            }
            else
            {
                device = new DeviceStore(Catalog).Resolve(Device!, locator, register: false);
            }
            // Piped groups or files name the same device many times: one plan per device and scope.
            if (!_targets.Any(t => t.Device.DeviceId == device.DeviceId && t.Scope == scope))
                _targets.Add((device, scope));
        }

        protected override void End()
        {
            foreach (var (device, scope) in _targets)
                Plan(device, scope);
            // A pattern that matched nothing is most likely mistyped: for -ProtectPath, the files meant
            // to be protected may be in the plan.
            Unmatched(nameof(ProtectPath), ProtectPath, _protectMatched, "nothing is protected by it");
            Unmatched(nameof(KeepPath), KeepPath, _keepMatched, "it chose no copy to keep");
        }

        private void Unmatched(string parameter, string[]? patterns, bool[]? matched, string consequence)
        {
            if (patterns == null || matched == null)
                return;
            for (int i = 0; i < patterns.Length; i++)
                if (!matched[i])
                    WriteWarning($"-{parameter} '{patterns[i]}' (as '{ResolvePath(patterns[i])}') matched no path in the duplicate groups read: {consequence}.");
        }

        private void Plan(HashallDevice device, string scope)
        {
            var planner = new LinkPlanner(Catalog)
            {
                Rules = new KeepRules
                {
                    Keep = PathPatterns.Counted(KeepPath, ResolvePath, _keepMatched ??= new bool[KeepPath?.Length ?? 0]),
                    Order = KeepOrder,
                    Protect = PathPatterns.Counted(ProtectPath, ResolvePath, _protectMatched ??= new bool[ProtectPath?.Length ?? 0]),
                },
                IncludeUndone = IncludeUndone,
            };
            string where = $"device '{device.Alias ?? device.MountPoint}'" + (scope.Length > 0 ? $" under '{scope}'" : "");
            if (Method == LinkMethod.Clone)
                RefuseWithoutClones(device, scope);
            // The plan is written to the catalog as its groups are read, never held whole. When the
            // store may be declined (-WhatIf, -Confirm), it is counted first, to ask with its figures.
            LinkPlan plan;
            if (MayDecline())
            {
                plan = planner.Preview(device, scope, MinimumSize, Name, Method);
                if (!Announce(plan, scope) || !ShouldProcess(where, What(plan)))
                {
                    if (plan.ActionCount > 0)
                        WriteObject(plan);
                    return;
                }
            }
            plan = planner.Store(device, scope, MinimumSize, Name, Method);
            if (!Announce(plan, scope))
                return;
            if (!ShouldProcess(where, What(plan)))
            {
                // Not expected (confirmation is asked before storing whenever it may be): undo the store.
                new LinkPlanStore(Catalog).Delete(plan.PlanId);
                plan.PlanId = 0;
                plan.Status = "preview";
            }
            WriteObject(plan);
        }

        /// <summary>Warns of files left out and of nothing to link; false when there is nothing to link (no plan stored).</summary>
        private bool Announce(LinkPlan plan, string scope)
        {
            if (plan.LeftOut > 0)
                WriteWarning($"{plan.LeftOut} file(s) in scope have only a quick (sample) hash and were left out: a plan never rests on a sample. Run Invoke-HashallScan -Mode Candidates (or Full) on them first.");
            if (plan.ActionCount > 0)
                return true;
            WriteWarning($"No duplicates to link on device '{plan.Device}'" + (scope.Length > 0 ? $" under '{scope}'" : "") + ": no plan stored.");
            return false;
        }

        /// <summary>
        /// Refuses a Clone plan for a filesystem that cannot share blocks, found by trying: two temporary
        /// files of identical bytes in the plan's folder (removed at once; also under -WhatIf).
        /// </summary>
        private void RefuseWithoutClones(HashallDevice device, string scope)
        {
            string folder = PathText.UnderMount(device.MountPoint, device.MountRoot, scope) ?? device.MountPoint;
            while (!Directory.Exists(folder) && System.IO.Path.GetDirectoryName(folder) is string parent && parent.Length > 0 && parent != folder)
                folder = parent;
            // The folder tried must be on the device (not the filesystem below an unmounted one).
            bool onDevice;
            try
            {
                onDevice = new DeviceLocator().Locate(folder).Device.Identity == device.Identity;
            }
            catch (HashallException)
            {
                onDevice = false;
            }
            if (!onDevice)
                throw new HashallException("CloneProbeFailed", HashallErrorKind.ResourceUnavailable,
                    $"Cannot tell whether device '{device.Alias ?? device.MountPoint}' can share blocks: it is not mounted at '{device.MountPoint}' now.", device.MountPoint);
            WriteVerbose($"Trying a block clone in '{folder}'.");
            string? why = BlockClones.Probe(folder);
            if (why != null)
                throw new HashallException("CloneNotSupported", HashallErrorKind.NotSupported,
                    $"The filesystem of device '{device.Alias ?? device.MountPoint}' ({device.FileSystem} at '{device.MountPoint}') cannot share blocks: {why}. Use -Method HardLink there; block clones need btrfs, XFS with reflink, or another filesystem with FIDEDUPERANGE.", folder);
        }

        private static string What(LinkPlan plan) =>
            (plan.Method == LinkMethod.Clone ? "Store a clone plan: " : "Store a link plan: ") + $"{plan.ActionCount} duplicate inode(s), {plan.PathCount} path(s), {ByteSize.Format(plan.BytesPlanned)} to reclaim";

        /// <summary>Whether ShouldProcess may say no: -WhatIf, or a confirmation asked (-Confirm, or $ConfirmPreference at Low).</summary>
        private bool MayDecline()
        {
            bool Switch(string name) => MyInvocation.BoundParameters.TryGetValue(name, out var v) && v is SwitchParameter s && s.IsPresent;
            if (MyInvocation.BoundParameters.ContainsKey("WhatIf"))
                return Switch("WhatIf");
            if (SessionState.PSVariable.GetValue("WhatIfPreference") is object whatIf && LanguagePrimitives.IsTrue(whatIf))
                return true;
            if (MyInvocation.BoundParameters.ContainsKey("Confirm"))
                return Switch("Confirm");
            var preference = SessionState.PSVariable.GetValue("ConfirmPreference");
            return preference == null
                || !LanguagePrimitives.TryConvertTo(preference, out ConfirmImpact level)
                || (level != ConfirmImpact.None && level <= ConfirmImpact.Low);
        }
    }
}
