using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Management.Automation;
using System.Threading;
using Hashall.Core;
using Hashall.Core.QBittorrent;
using Hashall.Core.Rehome;

namespace Hashall.PowerShell.Rehome
{
    /// <summary>Executes rehome plans: copy or reuse, verify, relocate the torrents in qBittorrent, confirm, remove the source; resumable.</summary>
    [Cmdlet(VerbsLifecycle.Invoke, "RehomePlan", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High, DefaultParameterSetName = "Plan")]
    [OutputType(typeof(RehomeResult), typeof(RehomeSummary))]
    public sealed class InvokeRehomePlanCommand : QBittorrentCmdlet
    {
        private readonly List<(RehomePlan Plan, string? Database)> _plans = new List<(RehomePlan, string?)>();
        private readonly int _pipelineThread = Thread.CurrentThread.ManagedThreadId;
        private readonly Stopwatch _sinceProgress = Stopwatch.StartNew();
        private string? _lastActivity;

        /// <summary>Plans from New-RehomePlan.</summary>
        [Parameter(Mandatory = true, ValueFromPipeline = true, ParameterSetName = "Plan")]
        public RehomePlan[] Plan { get; set; } = Array.Empty<RehomePlan>();

        /// <summary>JSON plan files saved by New-RehomePlan -OutFile.</summary>
        [Parameter(Mandatory = true, Position = 0, ParameterSetName = "Path")]
        public string[] Path { get; set; } = Array.Empty<string>();

        /// <summary>Seconds to wait for qBittorrent to stop, move and recheck one payload's torrents; default 120 plus 1 per 50 MB.</summary>
        [Parameter]
        [ValidateRange(1, 86400)]
        public int CheckTimeoutSec { get; set; }

        /// <summary>Catalog: every copied file's size and SHA-1 against the catalog. Pieces: that, and each torrent's own pieces on the target before it is moved.</summary>
        [Parameter]
        [ValidateSet("Catalog", "Pieces", IgnoreCase = true)]
        public string Verify { get; set; } = "Catalog";

        private bool VerifyPieces => string.Equals(Verify, "Pieces", StringComparison.OrdinalIgnoreCase);

        /// <summary>Stop at the first plan that fails or is refused; by default every plan is tried.</summary>
        [Parameter]
        public SwitchParameter StopOnError { get; set; }

        /// <summary>Write one summary object (with every result in it) instead of a result per plan.</summary>
        [Parameter]
        public SwitchParameter Summary { get; set; }

        protected override void Process()
        {
            if (ParameterSetName == "Path")
            {
                foreach (string path in Path)
                {
                    string file = ResolvePath(path);
                    if (!File.Exists(file))
                        throw new HashallException("RehomePlanFileNotFound", HashallErrorKind.NotFound, $"No plan file '{file}'.", file);
                    foreach (var plan in RehomePlanFile.Deserialize(File.ReadAllText(file), file))
                        _plans.Add((plan, Database ?? NullIfEmpty(plan.Database)));
                }
            }
            else
            {
                foreach (var plan in Plan)
                    _plans.Add((plan, Database ?? NullIfEmpty(plan.Database)));
            }
        }

        protected override void End()
        {
            var summary = new RehomeSummary { Plans = _plans.Count };
            var clock = Stopwatch.StartNew();
            QBittorrentClient? client = null;
            try
            {
                for (int i = 0; i < _plans.Count; i++)
                {
                    var (plan, database) = _plans[i];
                    WriteProgress(new ProgressRecord(1, "Rehoming payloads", $"{i + 1} of {_plans.Count}: {plan.Name}") { PercentComplete = i * 100 / _plans.Count });
                    var result = Decide(plan, database, ref client);
                    if (result == null)
                        continue; // -WhatIf, or declined
                    summary.Add(result);
                    if (!Summary)
                        WriteObject(result);
                    if (result.ErrorId != null)
                    {
                        WriteHashallError(new HashallException(result.ErrorId, result.Status == RehomeStatus.Invalid ? HashallErrorKind.InvalidData : HashallErrorKind.WriteError,
                            $"'{plan.Name}': {result.Status}: {result.Message}", plan.Name));
                        if (StopOnError)
                            break;
                    }
                }
            }
            finally
            {
                client?.Dispose();
                WriteProgress(new ProgressRecord(1, "Rehoming payloads", "Done") { RecordType = ProgressRecordType.Completed });
            }
            summary.Skipped = summary.Plans - summary.Results.Count;
            summary.Duration = clock.Elapsed;
            if (Summary)
                WriteObject(summary);
        }

        private RehomeResult? Decide(RehomePlan plan, string? database, ref QBittorrentClient? client)
        {
            if (plan.Decision == RehomeDecision.Block)
                return WhatIfActive ? null : RehomeResult.Blocked(plan, plan.Database); // no prompt, no qBittorrent
            var steps = RehomeExecutor.Describe(plan, VerifyPieces);
            string description = $"Rehome '{plan.Name}' ({plan.Decision}, {plan.Direction}):" + string.Concat(steps.Select((s, n) => $"\n  {n + 1}. {s}"));
            if (!ShouldProcess(description, $"Rehome '{plan.Name}' ({plan.Decision}) to '{plan.TargetPath}' and remove '{plan.SourcePath}'?", "Invoke-RehomePlan"))
                return null;
            if (client == null)
            {
                client = NewClient();
                client.Connect(); // unreachable: a terminating error before anything changed
            }
            Database = database;
            // A plan executes against the catalog it was made from: one that is not there is not made anew.
            if (!File.Exists(CatalogPath))
            {
                var missing = RehomeResult.For(plan, CatalogPath);
                missing.Status = RehomeStatus.Invalid;
                missing.ErrorId = "RehomeCatalogNotFound";
                missing.Message = $"The catalog '{CatalogPath}' does not exist; give -Database with the catalog the plan was made from.";
                return missing;
            }
            var executor = new RehomeExecutor(Catalog, client, Report, StopToken);
            if (CheckTimeoutSec > 0)
                executor.Timeout = TimeSpan.FromSeconds(CheckTimeoutSec);
            executor.VerifyPieces = VerifyPieces;
            var result = executor.Execute(plan);
            foreach (var warning in result.Warnings)
                WriteWarning($"'{plan.Name}': {warning}");
            if (result.ErrorId == "RehomeStopped")
                throw new PipelineStoppedException();
            return result;
        }

        private void Report(RehomeProgress p)
        {
            // Verification reports from worker threads too; PowerShell takes records from the pipeline thread only.
            // A new activity always shows; byte counts within one at most four times a second.
            if (Thread.CurrentThread.ManagedThreadId != _pipelineThread
                || (p.Activity == _lastActivity && _sinceProgress.ElapsedMilliseconds < 250 && p.BytesDone < p.BytesTotal))
                return;
            _lastActivity = p.Activity;
            _sinceProgress.Restart();
            WriteProgress(new ProgressRecord(2, p.Activity, p.BytesTotal > 0 ? $"{p.BytesDone / 1048576} of {p.BytesTotal / 1048576} MiB" : p.Name)
            {
                ParentActivityId = 1,
                PercentComplete = p.BytesTotal > 0 ? (int)(p.BytesDone * 100 / p.BytesTotal) : -1,
                CurrentOperation = p.Name,
            });
        }

        private static string? NullIfEmpty(string s) => string.IsNullOrEmpty(s) ? null : s;
    }
}
