using System;
using System.Collections.Generic;
using System.Threading;
using Hashall.Core.Catalog;

namespace Hashall.Core.Torrents
{
    /// <summary>How Test-HashallTorrent checks one torrent.</summary>
    public sealed class TorrentCheckOptions
    {
        /// <summary>Sizes, and the first and last piece of each file only.</summary>
        public bool Quick { get; set; }

        /// <summary>Pieces hashed at once.</summary>
        public int ThrottleLimit { get; set; } = Environment.ProcessorCount;

        /// <summary>Read even when the catalog remembers a Complete check and no file changed since.</summary>
        public bool Force { get; set; }
    }

    /// <summary>
    /// One torrent's check with the catalog's memory around it: a Complete full check whose files are
    /// unchanged is answered from the catalog; otherwise the pieces are read (<see cref="TorrentVerifier"/>),
    /// each Damaged file is compared with its catalog row (bit rot since the last scan marks the row for
    /// re-hash), and the check is recorded.
    /// </summary>
    public sealed class TorrentChecker
    {
        private readonly CatalogDatabase _db;

        public TorrentChecker(CatalogDatabase db) => _db = db;

        /// <summary>What the last check found worth a warning: files damaged since their last scan.</summary>
        public List<string> Warnings { get; } = new List<string>();

        /// <summary>
        /// The folder a multi-file torrent's paths start from, given qBittorrent's content path: for a
        /// torrent of one file (pad files aside) in a root folder, qBittorrent reports the file itself,
        /// so its relative path is taken off the end. Any other path is returned as it is.
        /// </summary>
        public static string ContentRoot(TorrentMetainfo meta, string contentPath)
        {
            if (meta.IsSingleFile)
                return contentPath;
            MetainfoFile? only = null;
            foreach (var f in meta.Files)
            {
                if (f.IsPad)
                    continue;
                if (only != null)
                    return contentPath;
                only = f;
            }
            string trimmed = contentPath.TrimEnd('/');
            string suffix = "/" + only?.RelativePath;
            return only != null && trimmed.EndsWith(suffix, StringComparison.Ordinal) && System.IO.File.Exists(trimmed)
                ? trimmed.Substring(0, trimmed.Length - suffix.Length)
                : contentPath;
        }

        public TorrentCheck Check(TorrentMetainfo meta, string contentPath, string source, TorrentCheckOptions options, Action<long>? bytesRead, CancellationToken cancel)
        {
            Warnings.Clear();
            contentPath = ContentRoot(meta, contentPath);
            var store = new TorrentCheckStore(_db);
            if (!options.Force && !options.Quick)
            {
                var clock = System.Diagnostics.Stopwatch.StartNew();
                var remembered = store.UnchangedSinceComplete(meta.Hash, contentPath);
                if (remembered != null)
                {
                    // Nothing was read now: the pieces and verdicts are the remembered ones, the cost is this run's.
                    remembered.BytesRead = 0;
                    remembered.Duration = clock.Elapsed;
                    remembered.Database = _db.Path;
                    return remembered;
                }
            }
            var started = DateTime.UtcNow;
            var check = TorrentVerifier.Verify(meta, contentPath, new TorrentVerifyOptions { Quick = options.Quick, ThrottleLimit = options.ThrottleLimit }, bytesRead, cancel);
            check.CheckedAt = started;
            check.Source = source;
            check.Database = _db.Path;
            foreach (var file in check.Files)
            {
                if (file.Status != FileCheckStatus.Damaged)
                    continue;
                cancel.ThrowIfCancellationRequested();
                try
                {
                    // The store says in the file's Detail what the comparison with the catalog found.
                    if (store.DamagedSinceScan(file, cancel).Verdict == ScanDamageVerdict.DamagedSinceScan)
                        Warnings.Add($"'{file.FullPath}' of '{meta.Name}' was damaged after its last scan (bit rot or a failing disk): its SHA-1 changed while its size and modification time did not. The next scan reads it again.");
                }
                catch (HashallException e)
                {
                    // Vanished or changing under the re-read: the verdict stands, without the comparison.
                    TorrentCheckStore.AddDetail(file, "not compared with the catalog: " + e.Message);
                }
            }
            store.Record(check);
            return check;
        }
    }
}
