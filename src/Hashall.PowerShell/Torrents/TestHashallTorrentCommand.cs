using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Management.Automation;
using System.Threading;
using System.Threading.Tasks;
using Hashall.Core;
using Hashall.Core.Payloads;
using Hashall.Core.QBittorrent;
using Hashall.Core.Torrents;
using Hashall.PowerShell.Formatting;
using Hashall.PowerShell.Payloads;

namespace Hashall.PowerShell.Torrents
{
    /// <summary>Checks data on disk against a torrent's own piece hashes (v1, v2, hybrid) and gives a verdict per file.</summary>
    [Cmdlet(VerbsDiagnostic.Test, "HashallTorrent", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low, DefaultParameterSetName = "TorrentFile")]
    [OutputType(typeof(TorrentCheck))]
    public sealed class TestHashallTorrentCommand : QBittorrentCmdlet
    {
        private QBittorrentClient? _client;
        private (string Database, List<HashallTorrent> Torrents)? _known;

        /// <summary>.torrent files, folders of them (their *.torrent files), or wildcards; a path that exists is taken literally.</summary>
        [Parameter(Mandatory = true, Position = 0, ParameterSetName = "TorrentFile", ValueFromPipelineByPropertyName = true)]
        [Alias("FullName", "PSPath")]
        [SupportsWildcards]
        public string[] TorrentFile { get; set; } = Array.Empty<string>();

        /// <summary>Torrents in qBittorrent (its id, or a v1/v2 infohash), their metainfo fetched with torrents/export; Get-HashallTorrent objects bind here.</summary>
        [Parameter(Mandatory = true, ParameterSetName = "TorrentHash", ValueFromPipelineByPropertyName = true)]
        [Alias("Hash")]
        [ArgumentCompleter(typeof(TorrentHashCompleter))]
        public string[] TorrentHash { get; set; } = Array.Empty<string>();

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

        protected override void Process()
        {
            if (ParameterSetName == "TorrentHash")
            {
                foreach (string hash in TorrentHash)
                    CheckExported(hash);
                return;
            }
            foreach (string pattern in TorrentFile)
            {
                List<string> files;
                try
                {
                    files = ExpandTorrentFiles(pattern);
                }
                catch (HashallException e)
                {
                    WriteHashallError(e);
                    continue;
                }
                foreach (string file in files)
                    CheckFile(file);
            }
        }

        protected override void End() => _client?.Dispose();

        /// <summary>A literal path as it is; otherwise PowerShell's wildcard expansion; a folder gives its *.torrent files.</summary>
        private List<string> ExpandTorrentFiles(string pattern)
        {
            string literal = ResolvePath(pattern);
            IEnumerable<string> found;
            if (File.Exists(literal) || Directory.Exists(literal) || !WildcardPattern.ContainsWildcardCharacters(pattern))
                found = new[] { literal };
            else
            {
                try
                {
                    found = SessionState.Path.GetResolvedProviderPathFromPSPath(pattern, out _);
                }
                catch (ItemNotFoundException)
                {
                    throw new HashallException("TorrentFileNotFound", HashallErrorKind.NotFound, $"No torrent file matches '{pattern}'.", pattern);
                }
            }
            var files = new List<string>();
            foreach (string path in found)
            {
                if (Directory.Exists(path))
                    files.AddRange(Directory.EnumerateFiles(path, "*.torrent").OrderBy(f => f, StringComparer.Ordinal));
                else
                    files.Add(path);
            }
            return files;
        }

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
            // No qBittorrent is a terminating error: every other torrent would fail the same way.
            var client = Client();
            try
            {
                // qBittorrent knows a torrent by its id; a v2 infohash (or a hybrid's v1) is its id through the catalog.
                var info = client.Torrents(hashes: new[] { hash }).FirstOrDefault()
                    ?? KnownTorrents().Where(t => Matches(t, hash)).Select(t => client.Torrents(hashes: new[] { t.TorrentHash }).FirstOrDefault()).FirstOrDefault(t => t != null)
                    ?? throw new HashallException("TorrentNotFound", HashallErrorKind.NotFound, $"qBittorrent at {client.Instance} has no torrent {hash}.", hash);
                string source = $"qBittorrent {client.Instance}";
                var meta = TorrentMetainfo.Parse(client.Export(info.Hash), $"{source} torrent {info.Hash}");
                Check(meta, ContentPathGiven(meta) ?? info.ContentPath, source);
            }
            catch (HashallException e)
            {
                WriteHashallError(e);
            }
        }

        /// <summary>The catalog's torrents, read once per catalog for the whole pipeline.</summary>
        private List<HashallTorrent> KnownTorrents()
        {
            if (_known == null || _known.Value.Database != Catalog.Path)
                _known = (Catalog.Path, new PayloadStore(Catalog).Torrents(includeGone: false));
            return _known.Value.Torrents;
        }

        private static bool Matches(HashallTorrent t, string hash) =>
            string.Equals(t.TorrentHash, hash, StringComparison.OrdinalIgnoreCase)
            || string.Equals(t.InfohashV1, hash, StringComparison.OrdinalIgnoreCase)
            || (t.InfohashV2 != null && t.InfohashV2.StartsWith(hash, StringComparison.OrdinalIgnoreCase));

        private string? ContentPathGiven(TorrentMetainfo meta) =>
            Path != null ? ResolvePath(Path) : SavePath != null ? System.IO.Path.Combine(ResolvePath(SavePath), meta.Name) : null;

        private QBittorrentClient Client()
        {
            if (_client == null)
            {
                var client = NewClient();
                try
                {
                    client.Connect();
                }
                catch (HashallException e)
                {
                    client.Dispose();
                    ThrowTerminatingError(ErrorRecords.From(e));
                }
                _client = client;
            }
            return _client;
        }

        private void Check(TorrentMetainfo meta, string contentPath, string source)
        {
            if (!ShouldProcess($"'{meta.Name}' ({meta.Hash}) at '{contentPath}'", Quick ? "Check sizes and first and last pieces" : "Check every piece"))
                return;
            var checker = new TorrentChecker(Catalog);
            var options = new TorrentCheckOptions { Quick = Quick, ThrottleLimit = ThrottleLimit, Force = Force };
            long read = 0;
            var clock = System.Diagnostics.Stopwatch.StartNew();
            var work = Task.Run(() => checker.Check(meta, contentPath, source, options, n => Interlocked.Add(ref read, n), StopToken));
            string activity = $"Checking {meta.Name}";
            long total = Quick ? 0 : meta.TotalLength;
            // Progress records come from the pipeline thread only: one at once, then the byte count polled while the check runs.
            try
            {
                WriteProgress(ProgressFor(activity, 0, total, clock.Elapsed));
                while (!((IAsyncResult)work).AsyncWaitHandle.WaitOne(250))
                    WriteProgress(ProgressFor(activity, Interlocked.Read(ref read), total, clock.Elapsed));
            }
            catch (PipelineStoppedException)
            {
                // Ctrl+C (StopToken is cancelled): the check stops within its current read; it uses the catalog, so wait for it.
                ((IAsyncResult)work).AsyncWaitHandle.WaitOne();
                throw;
            }
            WriteProgress(new ProgressRecord(ProgressId, activity, "Done") { RecordType = ProgressRecordType.Completed });
            TorrentCheck check;
            try
            {
                check = work.GetAwaiter().GetResult();
            }
            catch (OperationCanceledException)
            {
                throw new PipelineStoppedException();
            }
            foreach (string warning in checker.Warnings)
                WriteWarning(warning);
            if (check.Remembered)
                WriteVerbose($"'{meta.Name}': Complete when checked at {check.CheckedAt:u}, and no file changed since (use -Force to read it again).");
            WriteObject(check);
        }

        private const int ProgressId = 1;

        private static ProgressRecord ProgressFor(string activity, long read, long total, TimeSpan elapsed)
        {
            double rate = elapsed.TotalSeconds > 0 ? read / elapsed.TotalSeconds : 0;
            var record = new ProgressRecord(ProgressId, activity,
                total > 0 ? $"{ByteSize.Format(read)} of {ByteSize.Format(total)} at {ByteSize.Format((long)rate)}/s" : $"{ByteSize.Format(read)} at {ByteSize.Format((long)rate)}/s");
            if (total > 0)
            {
                record.PercentComplete = (int)Math.Min(100, read * 100 / total);
                if (rate > 0)
                    record.SecondsRemaining = (int)Math.Max(0, (total - read) / rate);
            }
            return record;
        }
    }
}
