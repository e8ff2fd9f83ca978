using System;
using System.IO;
using System.Linq;
using System.Management.Automation;
using Hashall.Core;
using Hashall.Core.Platform;
using Hashall.Core.QBittorrent;
using Hashall.Core.Torrents;
using Hashall.PowerShell.Formatting;

namespace Hashall.PowerShell.Torrents
{
    /// <summary>
    /// Seeds torrents from data Find-HashallTorrentData proved: lays out each torrent's tree with hard links
    /// to the matched files, adds it to qBittorrent stopped, rechecks it and starts it at the expected
    /// progress; with -Repair, lays out the files a torrent in qBittorrent misses where it expects them and
    /// rechecks that torrent instead.
    /// </summary>
    [Cmdlet(VerbsCommon.Add, "HashallTorrent", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium, DefaultParameterSetName = "Add")]
    [OutputType(typeof(TorrentSeedResult))]
    public sealed class AddHashallTorrentCommand : QBittorrentCmdlet
    {
        private string? _defaultSavePath;

        /// <summary>Find-HashallTorrentData's results (pipe them in).</summary>
        [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true)]
        public TorrentDataMatch[] InputObject { get; set; } = Array.Empty<TorrentDataMatch>();

        /// <summary>The folder the torrent's root goes into (qBittorrent's save path); default: -SaveRoot (or $env:HASHALL_SAVE_ROOT, else qBittorrent's default save path) joined with the category.</summary>
        [Parameter(ParameterSetName = "Add")]
        public string? SavePath { get; set; }

        /// <summary>The folder under which each category gets its own folder, when -SavePath is not given; default $env:HASHALL_SAVE_ROOT, else qBittorrent's default save path.</summary>
        [Parameter(ParameterSetName = "Add")]
        public string? SaveRoot { get; set; }

        /// <summary>qBittorrent category of the added torrents (created if new).</summary>
        [Parameter(ParameterSetName = "Add")]
        [ArgumentCompleter(typeof(TorrentCategoryCompleter))]
        public string? Category { get; set; }

        /// <summary>qBittorrent tags of the added torrents.</summary>
        [Parameter(ParameterSetName = "Add")]
        public string[]? Tag { get; set; }

        /// <summary>For torrents qBittorrent already has: lay out the missing files where it expects them (its save path and file names) and recheck it.</summary>
        [Parameter(Mandatory = true, ParameterSetName = "Repair")]
        public SwitchParameter Repair { get; set; }

        /// <summary>Copy (and verify) matched files on another filesystem than the save path, instead of refusing.</summary>
        [Parameter]
        public SwitchParameter AllowCopy { get; set; }

        /// <summary>Seconds to wait for qBittorrent's recheck (default 600); a torrent whose check is not done by then is left stopped.</summary>
        [Parameter]
        [ValidateRange(1, 604800)]
        public int Timeout { get; set; } = 600;

        /// <summary>Leave the torrents stopped after their recheck, even at the expected progress.</summary>
        [Parameter]
        public SwitchParameter NoStart { get; set; }

        protected override void Process()
        {
            foreach (var match in InputObject)
            {
                if (match == null)
                    continue;
                try
                {
                    Seed(match);
                }
                catch (HashallException e)
                {
                    WriteHashallError(e);
                }
            }
        }

        private void Seed(TorrentDataMatch match)
        {
            var client = ConnectedClient();
            var request = new SeedRequest
            {
                Match = match,
                Repair = Repair,
                Category = Category,
                Tags = Tag ?? Array.Empty<string>(),
                AllowCopy = AllowCopy,
                CheckTimeout = TimeSpan.FromSeconds(Timeout),
                NoStart = NoStart,
            };
            if (match.TorrentFile.Length > 0)
            {
                var info = new FileInfo(match.TorrentFile);
                if (!info.Exists)
                    throw new HashallException("TorrentFileNotFound", HashallErrorKind.NotFound, $"The .torrent file '{match.TorrentFile}' of '{match.Name}' is gone.", match.TorrentFile);
                if (info.Length > TorrentLimits.Default.MaxFileSize)
                    throw new HashallException("TorrentFileTooLarge", HashallErrorKind.InvalidData, $"'{match.TorrentFile}' is {info.Length} bytes; the limit is {TorrentLimits.Default.MaxFileSize}.", match.TorrentFile);
                request.TorrentBytes = File.ReadAllBytes(match.TorrentFile);
                request.TorrentFileName = Path.GetFileName(match.TorrentFile);
                request.Meta = TorrentMetainfo.Parse(request.TorrentBytes, match.TorrentFile);
            }
            else if (Repair)
            {
                request.Meta = TorrentMetainfo.Parse(client.Export(match.Hash), $"qBittorrent {client.Instance} torrent {match.Hash}");
            }
            else
            {
                throw new HashallException("TorrentFileMissing", HashallErrorKind.InvalidArgument,
                    $"'{match.Name}' ({match.Hash}) came from qBittorrent ({match.Source}), so qBittorrent has it already: give -Repair to lay out the files it misses.", match.Hash);
            }
            if (!Repair)
                request.SavePath = ChooseSavePath(client);
            var seeder = new TorrentSeeder(Catalog, client);
            SeedPlan plan;
            try
            {
                plan = seeder.Plan(request);
            }
            catch (HashallException e) when (!WhatIfActive)
            {
                // An earlier run of this torrent was killed mid-way and now something is in its way: what it made is
                // removed. Any other refusal (qBittorrent, the catalog, a stale input) leaves that job for a rerun.
                var rolledBack = seeder.RollbackOpen(request.Meta.Hash, request.Meta.Name, e, WriteVerbose);
                if (rolledBack == null)
                    throw;
                WriteHashallError(e);
                WriteObject(rolledBack);
                return;
            }
            if (!Confirm(plan))
                return;
            TorrentSeedResult result;
            try
            {
                long total = plan.Actions.Where(a => a.Kind == "link" || a.Kind == "copy").Sum(a => a.Size), done = 0;
                var sinceProgress = System.Diagnostics.Stopwatch.StartNew();
                string activity = $"Seeding {plan.Name}";
                result = seeder.Execute(plan, WriteVerbose, n =>
                {
                    done += n;
                    if (sinceProgress.ElapsedMilliseconds < 250 && done < total)
                        return;
                    sinceProgress.Restart();
                    WriteProgress(new ProgressRecord(1, activity, $"Laid out {ByteSize.Format(done)} of {ByteSize.Format(total)}") { PercentComplete = total > 0 ? (int)Math.Min(100, done * 100 / total) : 100 });
                }, WriteWarning, StopToken, (state, progress) =>
                {
                    if (sinceProgress.ElapsedMilliseconds < 250)
                        return;
                    sinceProgress.Restart();
                    WriteProgress(new ProgressRecord(1, activity, $"qBittorrent checks it: {state}, {progress:P1} of {plan.ExpectedProgress:P1} expected") { PercentComplete = (int)Math.Min(100, progress * 100) });
                });
                WriteProgress(new ProgressRecord(1, activity, "Done") { RecordType = ProgressRecordType.Completed });
            }
            catch (OperationCanceledException)
            {
                throw new PipelineStoppedException(); // Ctrl+C: what this run laid out was rolled back, or the torrent left as it was
            }
            if (result.ErrorId != null)
                WriteError(new ErrorRecord(new HashallException(result.ErrorId, HashallErrorKind.ResourceUnavailable, result.Message ?? result.ErrorId, result.Hash),
                    result.ErrorId, result.ErrorId == "TorrentCheckTimeout" ? ErrorCategory.OperationTimeout : result.ErrorId == "TorrentProgressShort" ? ErrorCategory.InvalidResult
                        : result.Status == TorrentSeedStatus.RolledBack ? ErrorCategory.WriteError : ErrorCategory.ConnectionError, result));
            WriteObject(result);
        }

        /// <summary>-SavePath; else the save root (-SaveRoot, $env:HASHALL_SAVE_ROOT, qBittorrent's default save path) and the category's folder.</summary>
        private string ChooseSavePath(QBittorrentClient client)
        {
            if (SavePath != null)
                return ResolvePath(SavePath).TrimEnd('/', '\\') is string s && s.Length > 0 ? s : "/";
            string? root = SaveRoot ?? Environment.GetEnvironmentVariable("HASHALL_SAVE_ROOT");
            root = root != null && root.Length > 0 ? ResolvePath(root) : (_defaultSavePath ??= client.DefaultSavePath());
            root = root.TrimEnd('/', '\\');
            if (string.IsNullOrEmpty(Category))
                return root;
            if (TorrentSeeder.Unsafe(Category!) || Category!.Contains('\\'))
                throw new HashallException("TorrentCategoryInvalid", HashallErrorKind.InvalidArgument,
                    $"The category '{Category}' cannot be a folder name under '{root}'; give -SavePath.", Category);
            return PathText.Join(root, Category!);
        }

        /// <summary>-WhatIf: a line per link or copy and one for the add (or recheck). Otherwise one confirmation per torrent.</summary>
        private bool Confirm(SeedPlan plan)
        {
            var made = plan.Actions.Where(a => a.Kind == "link" || a.Kind == "copy").ToList();
            string qbt = plan.Request.Repair
                ? $"Recheck '{plan.Name}' ({plan.Hash}) at '{plan.SavePath}' and start it at {plan.ExpectedProgress:P1}"
                : $"Add '{plan.Name}' ({plan.Hash}) stopped at '{plan.SavePath}'{(plan.Request.Category != null ? $" in category '{plan.Request.Category}'" : "")}{(plan.Request.Tags.Count > 0 ? $" tagged '{string.Join(", ", plan.Request.Tags)}'" : "")}, recheck it and start it at {plan.ExpectedProgress:P1}";
            if (WhatIfActive)
            {
                foreach (string folder in plan.Folders)
                    ShouldProcess(folder, "Create folder");
                foreach (var a in made)
                    ShouldProcess(a.Target, a.Kind == "link" ? $"Hard link to '{a.Source}'" : $"Copy (verified) from '{a.Source}' ({ByteSize.Format(a.Size)})");
                ShouldProcess($"qBittorrent at {plan.Instance}", qbt);
                return false;
            }
            long bytes = made.Sum(a => a.Size);
            return ShouldProcess($"'{plan.Name}' ({plan.Hash})",
                $"Lay out {made.Count(a => a.Kind == "link")} hard link(s) and {made.Count(a => a.Kind == "copy")} copy(ies) ({ByteSize.Format(bytes)}) under '{plan.SavePath}'; {qbt}");
        }
    }
}
