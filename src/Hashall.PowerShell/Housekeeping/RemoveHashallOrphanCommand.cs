using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Management.Automation;
using Hashall.Core;
using Hashall.Core.Orphans;
using Hashall.Core.Payloads;

namespace Hashall.PowerShell.Housekeeping
{
    /// <summary>
    /// Removes orphans (from Get-HashallOrphan on the pipeline, else found under the seeding roots), or
    /// moves them to a recycle bin on the same device; empties a recycle bin by age.
    /// </summary>
    [Cmdlet(VerbsCommon.Remove, "HashallOrphan", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High, DefaultParameterSetName = "Remove")]
    [OutputType(typeof(OrphanRemovalResult), ParameterSetName = new[] { "Remove" })]
    [OutputType(typeof(RecycleBinEmptyResult), ParameterSetName = new[] { "Empty" })]
    public sealed class RemoveHashallOrphanCommand : QBittorrentCmdlet
    {
        private readonly List<HashallOrphan> _orphans = new List<HashallOrphan>();

        /// <summary>Orphans from Get-HashallOrphan.</summary>
        [Parameter(ValueFromPipeline = true, ParameterSetName = "Remove")]
        public HashallOrphan[]? InputObject { get; set; }

        /// <summary>Without pipeline input: the seeding roots to look under (default: the stored ones).</summary>
        [Parameter(ParameterSetName = "Remove")]
        [Alias("SeedingRoot")]
        [ArgumentCompleter(typeof(SeedingRootCompleter))]
        public string[]? Root { get; set; }

        /// <summary>Without pipeline input: only orphans last written at least this long ago.</summary>
        [Parameter(ParameterSetName = "Remove")]
        [DurationTransformation]
        public TimeSpan MinimumAge { get; set; }

        /// <summary>Without pipeline input: names to leave out (wildcards).</summary>
        [Parameter(ParameterSetName = "Remove")]
        [SupportsWildcards]
        public string[]? Exclude { get; set; }

        /// <summary>Without pipeline input: sync qBittorrent first.</summary>
        [Parameter(ParameterSetName = "Remove")]
        public SwitchParameter Sync { get; set; }

        /// <summary>Move orphans here (keeping their paths, under a folder per run) instead of deleting; must be on the same device: a rename, never a copy.</summary>
        [Parameter(ParameterSetName = "Remove")]
        [Parameter(Mandatory = true, ParameterSetName = "Empty")]
        public string? RecycleBin { get; set; }

        /// <summary>Refuse the whole run when it would remove more orphans than this.</summary>
        [Parameter(ParameterSetName = "Remove")]
        [ValidateRange(0, long.MaxValue)]
        public long MaximumCount { get; set; } = -1;

        /// <summary>Refuse the whole run when it would remove more bytes than this (e.g. 50GB).</summary>
        [Parameter(ParameterSetName = "Remove")]
        [ValidateRange(0, long.MaxValue)]
        public long MaximumBytes { get; set; } = -1;

        /// <summary>Also remove orphans whose inode has a path outside the seeding roots (a library link; removing them frees nothing).</summary>
        [Parameter(ParameterSetName = "Remove")]
        public SwitchParameter IncludeLinkedOutsideRoots { get; set; }

        /// <summary>Empty the recycle bin: remove its run folders older than -OlderThan.</summary>
        [Parameter(Mandatory = true, ParameterSetName = "Empty")]
        public SwitchParameter EmptyRecycleBin { get; set; }

        /// <summary>With -EmptyRecycleBin: how old a run must be to go (e.g. 30.00:00:00).</summary>
        [Parameter(Mandatory = true, ParameterSetName = "Empty")]
        [DurationTransformation]
        public TimeSpan OlderThan { get; set; }

        protected override void Process()
        {
            if (InputObject != null)
                _orphans.AddRange(InputObject.Where(o => o != null));
        }

        protected override void End()
        {
            if (EmptyRecycleBin)
            {
                string bin = SeedingRootStore.Normalize(ResolvePath(RecycleBin!));
                var emptied = OrphanRemover.EmptyRecycleBin(bin, OlderThan, ShouldProcess, WhatIfActive);
                foreach (string kept in emptied.KeptDetail)
                    WriteWarning("Kept " + kept);
                WriteObject(emptied);
                return;
            }
            List<string> roots;
            // A pipeline that brought nothing (e.g. a Where-Object that kept nothing) removes nothing: only a
            // command with no pipeline at all looks for orphans itself.
            if (!MyInvocation.ExpectingInput)
            {
                roots = new SeedingRootStore(Catalog).Resolve(Root?.Select(ResolvePath), "-Root");
                if (Sync)
                    OrphanSync.Run(this, Catalog, ConnectedClient());
                var finder = new OrphanFinder(Catalog);
                finder.CheckFresh(roots);
                _orphans.AddRange(finder.Find(new OrphanOptions { Roots = roots, MinimumAge = MinimumAge, ExcludeName = OrphanExclusion.For(Exclude) }));
            }
            else
            {
                roots = _orphans.Select(o => o.Root).Concat(new SeedingRootStore(Catalog).Paths()).Distinct(StringComparer.Ordinal).ToList();
            }
            var options = new OrphanRemoveOptions
            {
                RecycleBin = RecycleBin == null ? null : SeedingRootStore.Normalize(ResolvePath(RecycleBin)),
                MaximumCount = MaximumCount < 0 ? (long?)null : MaximumCount,
                MaximumBytes = MaximumBytes < 0 ? (long?)null : MaximumBytes,
                IncludeLinkedOutsideRoots = IncludeLinkedOutsideRoots,
                Roots = roots,
            };
            var remover = new OrphanRemover(Catalog);
            remover.Validate(_orphans, options); // the guards refuse before qBittorrent is even asked
            // What qBittorrent has now that the catalog does not: a torrent added since the listing protects its files.
            var now = OrphanRemover.TorrentPathsNow(ConnectedClient(), Catalog);
            var progress = System.Diagnostics.Stopwatch.StartNew();
            var result = remover.Remove(_orphans, options, now, ShouldProcess, WhatIfActive, (done, total, path) =>
            {
                if (done > 0 && progress.ElapsedMilliseconds < 250)
                    return;
                progress.Restart();
                WriteProgress(new ProgressRecord(3, "Hashall orphans", $"{done} of {total}") { PercentComplete = total > 0 ? done * 100 / total : 100, CurrentOperation = path });
            });
            WriteProgress(new ProgressRecord(3, "Hashall orphans", "Done") { RecordType = ProgressRecordType.Completed });
            foreach (string kept in result.KeptDetail)
                WriteWarning("Kept " + kept);
            WriteObject(result);
        }
    }
}
