using System;
using System.Linq;
using System.Management.Automation;
using Hashall.Core;
using Hashall.Core.Torrents;

namespace Hashall.PowerShell.Torrents
{
    /// <summary>Checks data on disk against a torrent's own piece hashes (v1, v2, hybrid) and gives a verdict per file.</summary>
    [Cmdlet(VerbsDiagnostic.Test, "HashallTorrent", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low, DefaultParameterSetName = "TorrentFile")]
    [OutputType(typeof(TorrentCheck))]
    public sealed class TestHashallTorrentCommand : TorrentInputCmdlet
    {
        /// <summary>Where the data is: the torrent's root folder, or its file for a single-file torrent (as qBittorrent's content path).</summary>
        [Parameter]
        public string? Path { get; set; }

        /// <summary>The folder that holds the torrent's content (its root folder or file is SavePath/Name).</summary>
        [Parameter]
        public string? SavePath { get; set; }

        /// <summary>Check sizes and only the first and last piece of each file.</summary>
        [Parameter]
        public SwitchParameter Quick { get; set; }

        /// <summary>Check again even when the catalog remembers a Complete check and no file changed since.</summary>
        [Parameter]
        public SwitchParameter Force { get; set; }

        /// <summary>Pieces hashed at once; default: one per core.</summary>
        [Parameter]
        [ValidateRange(1, 256)]
        public int ThrottleLimit { get; set; } = Environment.ProcessorCount;

        protected override void BeginProcessing()
        {
            base.BeginProcessing();
            if (Path != null && SavePath != null)
                ThrowTerminatingError(ErrorRecords.From(new HashallException("TorrentPathConflict", HashallErrorKind.InvalidArgument,
                    "Give -Path (the content itself) or -SavePath (the folder holding it), not both.", Path)));
        }

        protected override void Process() => ForEachTorrent(CheckFile, CheckExported);

        private void CheckFile(string file)
        {
            try
            {
                var meta = TorrentMetainfo.Load(file);
                string? content = ContentPathGiven(meta);
                if (content == null)
                {
                    var known = KnownTorrents().FirstOrDefault(t => Matches(t, meta.Hash));
                    content = known?.ContentPath ?? throw new HashallException("TorrentContentPathUnknown", HashallErrorKind.InvalidArgument,
                        $"The catalog knows no torrent {meta.Hash} ('{meta.Name}' from '{file}'): give -Path (its content) or -SavePath (the folder holding it).", file);
                }
                Check(meta, content, file);
            }
            catch (HashallException e)
            {
                WriteHashallError(e);
            }
        }

        private void CheckExported(string hash)
        {
            try
            {
                var (meta, info, source) = Export(hash);
                Check(meta, ContentPathGiven(meta) ?? info.ContentPath, source);
            }
            catch (HashallException e)
            {
                WriteHashallError(e);
            }
        }

        private string? ContentPathGiven(TorrentMetainfo meta) =>
            Path != null ? ResolvePath(Path) : SavePath != null ? System.IO.Path.Combine(ResolvePath(SavePath), meta.Name) : null;

        private void Check(TorrentMetainfo meta, string contentPath, string source)
        {
            if (!ShouldProcess($"'{meta.Name}' ({meta.Hash}) at '{contentPath}'", Quick ? "Check sizes and first and last pieces" : "Check every piece"))
                return;
            var checker = new TorrentChecker(Catalog);
            var options = new TorrentCheckOptions { Quick = Quick, ThrottleLimit = ThrottleLimit, Force = Force };
            var check = RunWithProgress($"Checking {meta.Name}", Quick ? 0 : meta.TotalLength,
                (read, cancel) => checker.Check(meta, contentPath, source, options, read, cancel));
            foreach (string warning in checker.Warnings)
                WriteWarning(warning);
            if (check.Remembered)
                WriteVerbose($"'{meta.Name}': Complete when checked at {check.CheckedAt:u}, and no file changed since (use -Force to read it again).");
            WriteObject(check);
        }
    }
}
