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

        /// <summary>Directories that hold seeding data; a hard link outside all of them blocks the payload. Default: the catalog's seeding roots (Add-HashallSeedingRoot).</summary>
        [Parameter]
        public string[]? SeedingRoot { get; set; }

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

        /// <summary>Demotion policy: only payloads whose every torrent has seeded at least this long (days, or 12h, 2w, a TimeSpan).</summary>
        [Parameter]
        [DurationTransformation]
        public TimeSpan? MinimumSeedingTime { get; set; }

        /// <summary>Demotion policy: only payloads whose every torrent completed at least this long ago.</summary>
        [Parameter]
        [DurationTransformation]
        public TimeSpan? MinimumAge { get; set; }

        /// <summary>Demotion policy: only payloads whose every torrent has at least this share ratio.</summary>
        [Parameter]
        [ValidateRange(0.0, double.MaxValue)]
        public double? Ratio { get; set; }

        /// <summary>Policy: only payloads whose every torrent has this link status (NotLinked: no hard link outside the seeding roots, so library-linked payloads stay).</summary>
        [Parameter]
        public LinkStatus? LinkStatus { get; set; }

        /// <summary>Demotion policy: choose payloads until the stash would have this much free: a share ('20%') or a size ('500GB').</summary>
        [Parameter]
        public string? FreeSpaceTarget { get; set; }

        /// <summary>Promotion policy: only payloads with a torrent active (upload or download) within this span.</summary>
        [Parameter]
        [DurationTransformation]
        public TimeSpan? ActiveWithin { get; set; }

        /// <summary>The order a policy takes payloads in: Oldest (demotion's default), Largest, RecentlyActive (promotion's default).</summary>
        [Parameter]
        public RehomeOrder? Order { get; set; }

        /// <summary>At most this many payloads that move or reuse in this run.</summary>
        [Parameter]
        [ValidateRange(1, int.MaxValue)]
        public int? Limit { get; set; }

        /// <summary>At most this many payload bytes in this run.</summary>
        [Parameter]
        [ValidateRange(1L, long.MaxValue)]
        public long? MaximumBytes { get; set; }

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
            var policy = new RehomePolicy
            {
                MinimumSeedingTime = MinimumSeedingTime, MinimumAge = MinimumAge, MinimumRatio = Ratio, ActiveWithin = ActiveWithin,
                FreeSpaceTarget = FreeSpaceTarget == null ? null : Hashall.Core.Rehome.FreeSpaceTarget.Parse(FreeSpaceTarget),
                Limit = Limit, MaximumBytes = MaximumBytes, Order = Order,
            };
            bool selects = policy.Selects || LinkStatus != null;
            string? wrong = Promote ? new[] { (MinimumSeedingTime != null, "-MinimumSeedingTime"), (MinimumAge != null, "-MinimumAge"), (Ratio != null, "-Ratio"), (FreeSpaceTarget != null, "-FreeSpaceTarget") }.FirstOrDefault(p => p.Item1).Item2
                : ActiveWithin != null ? "-ActiveWithin" : null;
            if (wrong != null)
                throw new HashallException("RehomePolicyDirection", HashallErrorKind.InvalidArgument,
                    $"{wrong} is a {(Promote ? "demotion" : "promotion")} policy; it does not go with {(Promote ? "-Promote" : "-Demote")}.", wrong);
            bool named = _torrents.Count > 0 || _payloads.Count > 0 || Tag != null || Category != null;
            if (!named && !selects)
                throw new HashallException("RehomeNothingSelected", HashallErrorKind.InvalidArgument,
                    "Name what to rehome: -TorrentHash, -PayloadHash, -Tag, -Category, torrents or payloads on the pipeline, or a policy (-MinimumAge, -LinkStatus, -FreeSpaceTarget, -ActiveWithin, ...).", null);
            var locator = new DeviceLocator();
            var devices = new DeviceStore(Catalog);
            var options = new RehomeOptions
            {
                Direction = Demote ? RehomeDirection.Demote : RehomeDirection.Promote,
                SeedingRoots = new SeedingRootStore(Catalog).Resolve(SeedingRoot?.Select(ResolvePath), "-SeedingRoot"),
                StashDevice = devices.Resolve(StashDevice, locator, register: false),
                PoolDevice = devices.Resolve(PoolDevice, locator, register: false),
                TargetRoot = TargetPath == null ? null : ResolvePath(TargetPath).TrimEnd('/'),
                Layout = Layout,
            };
            if (LinkStatus is LinkStatus wanted)
            {
                var links = new LinkStatusCalculator(Catalog);
                var roots = options.SeedingRoots.ToList();
                policy.Filter = t => links.ForTorrent(t, roots).Status == wanted;
                policy.FilterName = wanted.ToString();
            }
            if (options.StashDevice.DeviceId == options.PoolDevice.DeviceId)
                throw new HashallException("RehomeSameDevice", HashallErrorKind.InvalidArgument, "-StashDevice and -PoolDevice name the same device.", PoolDevice);
            var selected = new PayloadStore(Catalog).Torrents(includeGone: false).Where(t => !named || SelectedBy(t) != null).ToList();
            foreach (var missing in _torrents.Where(h => !selected.Any(t => string.Equals(t.TorrentHash, h, StringComparison.OrdinalIgnoreCase))))
                WriteHashallError(new HashallException("TorrentNotFound", HashallErrorKind.NotFound, $"No torrent '{missing}' in the catalog; run Sync-HashallPayload first.", missing));
            var planner = new RehomePlanner(Catalog);
            var namedBy = named ? selected.GroupBy(t => t.TorrentHash, StringComparer.OrdinalIgnoreCase).ToDictionary(g => g.Key, g => SelectedBy(g.First())!, StringComparer.OrdinalIgnoreCase)
                : new Dictionary<string, string>();
            List<RehomePlan> plans;
            if (policy.Selects)
            {
                var selection = planner.PlanByPolicy(selected, options, policy, (i, n, name) =>
                    WriteProgress(new ProgressRecord(1, "Planning by policy", $"{i} of {n} candidate payloads") { CurrentOperation = name, PercentComplete = n == 0 ? 0 : (int)(100L * i / n) }));
                WriteProgress(new ProgressRecord(1, "Planning by policy", "Done") { RecordType = ProgressRecordType.Completed });
                foreach (var note in selection.Notes)
                    WriteVerbose(note);
                if (selection.TargetNotMet != null)
                    WriteWarning(selection.TargetNotMet);
                WriteInformation(new InformationRecord(
                    $"{selection.Chosen} payload(s) chosen ({RehomePolicy.Size(selection.Plans.Where(p => p.Decision != RehomeDecision.Block).Sum(p => p.TotalBytes))}), "
                    + $"{selection.Plans.Count(p => p.Decision == RehomeDecision.Block)} blocked"
                    + (policy.FreeSpaceTarget != null ? $"; the stash has {RehomePolicy.Size(selection.FreeBytes)} free, {RehomePolicy.Size(selection.WantedFreeBytes)} wanted, the plans free {RehomePolicy.Size(selection.FreedBytes)}" : ""),
                    "New-RehomePlan"));
                plans = selection.Plans;
                if (named)
                    foreach (var plan in plans)
                        plan.Reason = SelectedBy(plan, namedBy) + "; " + plan.Reason;
            }
            else
            {
                plans = planner.Plan(selected, options);
                foreach (var plan in plans)
                    plan.Reason = SelectedBy(plan, namedBy);
            }
            if (OutFile != null)
            {
                string file = ResolvePath(OutFile);
                if (ShouldProcess(file, $"Save {plans.Count} rehome plan(s) as JSON"))
                    File.WriteAllText(file, RehomePlanFile.Serialize(plans));
            }
            WriteObject(plans, enumerateCollection: true);
        }

        /// <summary>The parameter that named this torrent ("-Tag hd"), or null.</summary>
        private string? SelectedBy(HashallTorrent t) =>
            _torrents.Contains(t.TorrentHash) ? "-TorrentHash " + t.TorrentHash
            : t.PayloadHash != null && _payloads.Contains(t.PayloadHash) ? "-PayloadHash " + t.PayloadHash
            : Tag != null && t.Tags.Contains(Tag) ? "-Tag " + Tag
            : Category != null && t.Category == Category ? "-Category " + Category
            : null;

        private static string SelectedBy(RehomePlan plan, Dictionary<string, string> named)
        {
            foreach (var rt in plan.Torrents)
                if (named.TryGetValue(rt.TorrentHash, out var why))
                    return "selected by " + why;
            return "selected";
        }
    }
}
