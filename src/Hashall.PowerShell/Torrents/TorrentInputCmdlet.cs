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
    /// <summary>
    /// What the cmdlets that take torrents share: -TorrentFile (files, folders, wildcards, piped files) or
    /// -TorrentHash (metainfo exported from qBittorrent), and running a long engine call with progress.
    /// </summary>
    public abstract class TorrentInputCmdlet : QBittorrentCmdlet
    {
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

        /// <summary>Calls <paramref name="file"/> for each .torrent file given, or <paramref name="exported"/> for each torrent hash; a bad pattern is a per-item error.</summary>
        protected void ForEachTorrent(Action<string> file, Action<string> exported)
        {
            if (ParameterSetName == "TorrentHash")
            {
                foreach (string hash in TorrentHash)
                {
                    // A short or odd string would match torrents by prefix in the catalog: only whole hashes are taken.
                    if (!IsTorrentHash(hash))
                        WriteHashallError(new HashallException("TorrentHashInvalid", HashallErrorKind.InvalidArgument,
                            $"'{hash}' is not a torrent hash: give qBittorrent's id or a v1 infohash (40 hexadecimal digits) or a v2 infohash (64).", hash));
                    else
                        exported(hash);
                }
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
                foreach (string path in files)
                    file(path);
            }
        }

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
                    found = Array.Empty<string>();
                }
                // A wildcard that matches nothing is named (PowerShell's own expansion is silent about it).
                if (!found.Any())
                    throw new HashallException("TorrentFileNotFound", HashallErrorKind.NotFound, $"No torrent file matches '{pattern}'.", pattern);
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

        /// <summary>
        /// The metainfo of a torrent in qBittorrent (by its id, or through the catalog by a v1/v2 infohash),
        /// via torrents/export, with its qBittorrent entry and a source text. No qBittorrent is terminating.
        /// </summary>
        protected (TorrentMetainfo Meta, TorrentInfo Info, string Source) Export(string hash)
        {
            var client = ConnectedClient();
            var info = client.Torrents(hashes: new[] { hash }).FirstOrDefault()
                ?? KnownTorrents().Where(t => Matches(t, hash)).Select(t => client.Torrents(hashes: new[] { t.TorrentHash }).FirstOrDefault()).FirstOrDefault(t => t != null)
                ?? throw new HashallException("TorrentNotFound", HashallErrorKind.NotFound, $"qBittorrent at {client.Instance} has no torrent {hash}.", hash);
            string source = $"qBittorrent {client.Instance}";
            var meta = TorrentMetainfo.Parse(client.Export(info.Hash), $"{source} torrent {info.Hash}");
            return (meta, info, source);
        }

        /// <summary>The catalog's torrents, read once per catalog for the whole pipeline.</summary>
        protected List<HashallTorrent> KnownTorrents()
        {
            if (_known == null || _known.Value.Database != Catalog.Path)
                _known = (Catalog.Path, new PayloadStore(Catalog).Torrents(includeGone: false));
            return _known.Value.Torrents;
        }

        /// <summary>True when <paramref name="hash"/> is the torrent's id, its v1 infohash, or its v2 infohash (whole, or cut to 40 digits as qBittorrent's id is).</summary>
        protected static bool Matches(HashallTorrent t, string hash) =>
            string.Equals(t.TorrentHash, hash, StringComparison.OrdinalIgnoreCase)
            || string.Equals(t.InfohashV1, hash, StringComparison.OrdinalIgnoreCase)
            || (t.InfohashV2 != null && (hash.Length == 40 || hash.Length == 64) && t.InfohashV2.StartsWith(hash, StringComparison.OrdinalIgnoreCase));

        private static bool IsTorrentHash(string hash) =>
            (hash.Length == 40 || hash.Length == 64) && hash.All(c => (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'));

        private const int ProgressId = 1;

        /// <summary>
        /// Runs <paramref name="work"/> (given a byte counter and the Ctrl+C token) on a worker thread while the
        /// pipeline thread writes progress: progress records come from the pipeline thread only, so the byte
        /// count is polled. Ctrl+C waits for the work (it uses the catalog) and stops the pipeline.
        /// </summary>
        protected T RunWithProgress<T>(string activity, long total, Func<Action<long>, CancellationToken, T> work)
        {
            long read = 0;
            var clock = System.Diagnostics.Stopwatch.StartNew();
            var task = Task.Run(() => work(n => Interlocked.Add(ref read, n), StopToken));
            try
            {
                WriteProgress(ProgressFor(activity, 0, total, clock.Elapsed));
                while (!((IAsyncResult)task).AsyncWaitHandle.WaitOne(250))
                    WriteProgress(ProgressFor(activity, Interlocked.Read(ref read), total, clock.Elapsed));
            }
            catch (PipelineStoppedException)
            {
                // Ctrl+C (StopToken is cancelled): the work stops within its current read; it uses the catalog, so wait for it.
                ((IAsyncResult)task).AsyncWaitHandle.WaitOne();
                throw;
            }
            WriteProgress(new ProgressRecord(ProgressId, activity, "Done") { RecordType = ProgressRecordType.Completed });
            try
            {
                return task.GetAwaiter().GetResult();
            }
            catch (OperationCanceledException)
            {
                throw new PipelineStoppedException();
            }
        }

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
