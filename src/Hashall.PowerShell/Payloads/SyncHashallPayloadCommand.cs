using System.Management.Automation;
using Hashall.Core.Payloads;
using Hashall.Core.QBittorrent;

namespace Hashall.PowerShell.Payloads
{
    /// <summary>Reads qBittorrent's torrents, maps each to its payload from the catalog, and records torrents and payloads.</summary>
    [Cmdlet(VerbsData.Sync, "HashallPayload", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low)]
    [OutputType(typeof(PayloadSyncResult))]
    public sealed class SyncHashallPayloadCommand : QBittorrentCmdlet
    {
        /// <summary>Only torrents of this category.</summary>
        [Parameter]
        public string? Category { get; set; }

        /// <summary>Only torrents with this tag.</summary>
        [Parameter]
        public string? Tag { get; set; }

        protected override void Process()
        {
            var connection = Connection();
            bool write = ShouldProcess($"catalog '{CatalogPath}'", $"Record the torrents of qBittorrent at {connection.BaseUri}" +
                (Category != null ? $" in category '{Category}'" : "") + (Tag != null ? $" tagged '{Tag}'" : "") + " and their payloads");
            using var client = new QBittorrentClient(connection, StopToken);
            var sinceProgress = System.Diagnostics.Stopwatch.StartNew();
            PayloadSyncResult result;
            try
            {
                result = new PayloadSync(Catalog).Run(client, Category, Tag, write, (done, total, name) =>
            {
                if (done > 0 && sinceProgress.ElapsedMilliseconds < 250)
                    return; // a record per torrent would cost more than the sync of small torrents
                sinceProgress.Restart();
                WriteProgress(new ProgressRecord(1, "Hashall payload sync", $"{done} of {total} torrents")
                {
                    PercentComplete = total > 0 ? done * 100 / total : 100,
                    CurrentOperation = name,
                });
            });
            }
            catch (System.OperationCanceledException)
            {
                return; // Ctrl+C: nothing was written (all of qBittorrent's answers are read first)
            }
            WriteProgress(new ProgressRecord(1, "Hashall payload sync", "Done") { RecordType = ProgressRecordType.Completed });
            WriteObject(result);
        }
    }
}
