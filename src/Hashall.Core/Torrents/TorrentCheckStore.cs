using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Threading;
using Hashall.Core.Catalog;
using Hashall.Core.Devices;
using Hashall.Core.Platform;
using Hashall.Core.Scanning;
using Microsoft.Data.Sqlite;

namespace Hashall.Core.Torrents
{
    /// <summary>What re-reading a Damaged file against its catalog row showed (see <see cref="TorrentCheckStore.DamagedSinceScan"/>).</summary>
    public enum ScanDamageVerdict
    {
        /// <summary>No active catalog row for the path (never scanned, or on no catalogued device).</summary>
        NotCatalogued,
        /// <summary>The row has no SHA-1 (a quick scan sampled it): nothing to compare with.</summary>
        NoCatalogHash,
        /// <summary>Size, mtime or inode differ from the row: the file changed since its scan, which the next scan reads anyway.</summary>
        ChangedSinceScan,
        /// <summary>Same size, mtime and inode as the row, another SHA-1: the content changed under an unchanged status (bit rot). The row is marked for re-hash.</summary>
        DamagedSinceScan,
        /// <summary>Same SHA-1 as the row: the file was already damaged when it was scanned.</summary>
        DamagedWhenScanned,
    }

    /// <summary>The outcome of <see cref="TorrentCheckStore.DamagedSinceScan"/> for one file.</summary>
    public sealed class ScanDamage
    {
        public ScanDamageVerdict Verdict { get; set; }
        public string FullPath { get; set; } = "";
        /// <summary>The catalog row compared with, when there is one.</summary>
        public long? FileId { get; set; }
        public string? CatalogSha1 { get; set; }
        /// <summary>SHA-1 of the file read now (DamagedSinceScan and DamagedWhenScanned only).</summary>
        public string? Sha1Now { get; set; }
        public override string ToString() => $"{Verdict} {FullPath}";
    }

    /// <summary>
    /// The catalog's memory of piece checks (migration 9): the latest full and the latest quick check
    /// per torrent and content path, with each file's verdict and its stat when read. A rerun asks
    /// <see cref="UnchangedSinceComplete"/> whether a Complete check still holds; a Damaged file is
    /// compared with its catalog row by <see cref="DamagedSinceScan"/>. One thread at a time (it uses
    /// the catalog's connection): the checker records after its hashing threads have finished.
    /// </summary>
    public sealed class TorrentCheckStore
    {
        private static readonly DateTime Epoch = new DateTime(1970, 1, 1, 0, 0, 0, DateTimeKind.Utc);

        private const string CheckColumns = "c.check_id, c.torrent_hash, c.content_path, c.quick, c.single_file, c.name, c.version, c.source, c.status, c.checked_at, c.started_ns, "
            + "c.pieces_total, c.pieces_checked, c.pieces_good, c.pieces_bad, c.bytes_read, c.duration_us";
        private const int FileColumnsAt = 17;
        private const string FileColumns = "f.ordinal, f.path, f.length, f.size_on_disk, f.status, f.detail, f.bad_ranges, f.pieces, f.pieces_checked, f.pieces_bad, "
            + "f.device_number, f.inode, f.size, f.mtime_ns, f.ctime_ns";

        /// <summary>The newest check of a torrent and content path, of either kind, with its files: one statement.</summary>
        internal const string LastCheckSql = "SELECT " + CheckColumns + ", " + FileColumns + @" FROM torrent_checks c LEFT JOIN torrent_check_files f ON f.check_id = c.check_id
WHERE c.check_id = (SELECT check_id FROM torrent_checks WHERE torrent_hash = $h AND content_path = $p ORDER BY checked_at DESC, check_id DESC LIMIT 1)
ORDER BY f.ordinal;";

        /// <summary>The full Complete check of a torrent and content path, with its files: one statement.</summary>
        internal const string CompleteCheckSql = "SELECT " + CheckColumns + ", " + FileColumns + @" FROM torrent_checks c LEFT JOIN torrent_check_files f ON f.check_id = c.check_id
WHERE c.torrent_hash = $h AND c.content_path = $p AND c.quick = 0 AND c.status = 'Complete'
ORDER BY f.ordinal;";

        private readonly CatalogDatabase _db;
        private FileQuery? _query;
        private DeviceLocator? _locator;

        public TorrentCheckStore(CatalogDatabase db) => _db = db;

        /// <summary>
        /// Remembers a check, replacing what it supersedes: a full check replaces the torrent's full and
        /// quick checks of the same content path; a quick one replaces the quick one, and the full one too
        /// unless it is Complete. <see cref="TorrentCheck.CheckedAt"/> unset is taken as now.
        /// </summary>
        public void Record(TorrentCheck check)
        {
            if (string.IsNullOrEmpty(check.Hash))
                throw new HashallException("TorrentHashEmpty", HashallErrorKind.InvalidArgument, "A torrent check without a torrent hash cannot be recorded.", check.Name);
            if (string.IsNullOrEmpty(check.ContentPath))
                throw new HashallException("PathEmpty", HashallErrorKind.InvalidArgument, $"The check of torrent '{check.Hash}' has no content path.", check.Hash);
            string content = ContentKey(check.ContentPath);
            DateTime checkedAt = check.CheckedAt == default ? DateTime.UtcNow : check.CheckedAt.ToUniversalTime();
            long startedNs = ToUnixNs(checkedAt - (check.Duration > TimeSpan.Zero ? check.Duration : TimeSpan.Zero));
            bool single = check.Files.Count > 0 && check.Files.All(f => SamePath(f.FullPath, check.ContentPath));
            _db.Write(transaction =>
            {
                using (var delete = _db.Command("DELETE FROM torrent_checks WHERE torrent_hash = $h AND content_path = $p AND (quick = 1 OR $full OR $notComplete);", transaction))
                {
                    delete.Parameters.AddWithValue("$h", check.Hash);
                    delete.Parameters.AddWithValue("$p", content);
                    delete.Parameters.AddWithValue("$full", check.Quick ? 0 : 1);
                    delete.Parameters.AddWithValue("$notComplete", check.Status == TorrentCheckStatus.Complete ? 0 : 1);
                    delete.ExecuteNonQuery();
                }
                long id;
                using (var insert = _db.Command(@"INSERT INTO torrent_checks (torrent_hash, content_path, quick, single_file, name, version, source, status, checked_at, started_ns,
    pieces_total, pieces_checked, pieces_good, pieces_bad, bytes_read, duration_us)
VALUES ($h, $p, $q, $single, $name, $version, $source, $status, $at, $started, $total, $checked, $good, $bad, $bytes, $us) RETURNING check_id;", transaction))
                {
                    var p = insert.Parameters;
                    p.AddWithValue("$h", check.Hash);
                    p.AddWithValue("$p", content);
                    p.AddWithValue("$q", check.Quick ? 1 : 0);
                    p.AddWithValue("$single", single ? 1 : 0);
                    p.AddWithValue("$name", check.Name ?? "");
                    p.AddWithValue("$version", check.Version.ToString());
                    p.AddWithValue("$source", check.Source ?? "");
                    p.AddWithValue("$status", check.Status.ToString());
                    p.AddWithValue("$at", CatalogTime.Format(checkedAt));
                    p.AddWithValue("$started", startedNs);
                    p.AddWithValue("$total", check.PiecesTotal);
                    p.AddWithValue("$checked", check.PiecesChecked);
                    p.AddWithValue("$good", check.PiecesGood);
                    p.AddWithValue("$bad", check.PiecesBad);
                    p.AddWithValue("$bytes", check.BytesRead);
                    p.AddWithValue("$us", check.Duration.Ticks / 10);
                    id = (long)insert.ExecuteScalar()!;
                }
                using (var file = _db.Command(@"INSERT INTO torrent_check_files (check_id, ordinal, path, length, size_on_disk, status, detail, bad_ranges, pieces, pieces_checked, pieces_bad,
    device_number, inode, size, mtime_ns, ctime_ns)
VALUES ($id, $n, $path, $length, $disk, $status, $detail, $ranges, $pieces, $checked, $bad, $dev, $inode, $size, $mtime, $ctime);", transaction))
                {
                    var names = new[] { "$id", "$n", "$path", "$length", "$disk", "$status", "$detail", "$ranges", "$pieces", "$checked", "$bad", "$dev", "$inode", "$size", "$mtime", "$ctime" };
                    var ps = names.Select(n => file.Parameters.Add(n, SqliteType.Integer)).ToArray();
                    ps[2].SqliteType = ps[5].SqliteType = ps[6].SqliteType = ps[7].SqliteType = SqliteType.Text;
                    file.Prepare();
                    for (int i = 0; i < check.Files.Count; i++)
                    {
                        var f = check.Files[i];
                        var identity = f.Identity;
                        ps[0].Value = id;
                        ps[1].Value = i;
                        ps[2].Value = f.RelativePath ?? "";
                        ps[3].Value = f.Length;
                        ps[4].Value = f.SizeOnDisk.HasValue ? f.SizeOnDisk.Value : (object)DBNull.Value;
                        ps[5].Value = f.Status.ToString();
                        ps[6].Value = f.Detail ?? (object)DBNull.Value;
                        ps[7].Value = string.Join(",", f.BadRanges.Select(r => r.ToString()));
                        ps[8].Value = f.Pieces;
                        ps[9].Value = f.PiecesChecked;
                        ps[10].Value = f.PiecesBad;
                        ps[11].Value = identity.HasValue ? unchecked((long)identity.Value.DeviceNumber) : (object)DBNull.Value;
                        ps[12].Value = identity.HasValue ? unchecked((long)identity.Value.Inode) : (object)DBNull.Value;
                        ps[13].Value = identity.HasValue ? identity.Value.Size : (object)DBNull.Value;
                        ps[14].Value = identity.HasValue ? identity.Value.MtimeNs : (object)DBNull.Value;
                        ps[15].Value = identity.HasValue ? identity.Value.CtimeNs : (object)DBNull.Value;
                        file.ExecuteNonQuery();
                    }
                }
                ForgetVanishedPaths(check.Hash, content, transaction);
                return 0;
            });
        }

        /// <summary>
        /// Drops the torrent's checks at other content paths that are no longer there (it was moved or
        /// rehomed): the rows per torrent stay bounded by where its data is. Checks at another path that
        /// still exists (a copy on another pool, checked with -Path) are kept.
        /// </summary>
        private void ForgetVanishedPaths(string hash, string content, SqliteTransaction transaction)
        {
            var others = new List<string>();
            using (var select = _db.Command("SELECT DISTINCT content_path FROM torrent_checks WHERE torrent_hash = $h AND content_path <> $p;", transaction))
            {
                select.Parameters.AddWithValue("$h", hash);
                select.Parameters.AddWithValue("$p", content);
                using var r = select.ExecuteReader();
                while (r.Read())
                    others.Add(r.GetString(0));
            }
            foreach (string other in others)
            {
                int error = FileSystemApi.TryLstat(other, out _);
                bool gone = FileSystemApi.IsWindows ? error == 2 || error == 3 : error == HardLinks.ENOENT || error == 20 /* ENOTDIR */;
                if (!gone)
                    continue;
                using var delete = _db.Command("DELETE FROM torrent_checks WHERE torrent_hash = $h AND content_path = $p;", transaction);
                delete.Parameters.AddWithValue("$h", hash);
                delete.Parameters.AddWithValue("$p", other);
                delete.ExecuteNonQuery();
            }
        }

        /// <summary>The newest remembered check (full or quick) of a torrent at a content path, or null.</summary>
        public TorrentCheck? LastCheck(string hash, string contentPath) => Load(LastCheckSql, hash, contentPath);

        /// <summary>
        /// The remembered full Complete check of a torrent at a content path when every one of its files
        /// still has the st_dev, inode, size, mtime and ctime it had when read (and was not racily clean
        /// then: an mtime not older than the check's start, less the scanner's margin); null otherwise
        /// (never checked, not Complete, superseded by a failing quick check, or a file changed, replaced,
        /// missing or not a file). <paramref name="statNow"/> gives a full path's identity now (default:
        /// lstat; null for a missing path or anything but a regular file). Extra files are not compared.
        /// The result has <see cref="TorrentCheck.Remembered"/> set.
        /// </summary>
        public TorrentCheck? UnchangedSinceComplete(string hash, string contentPath, Func<string, FileIdentity?>? statNow = null)
        {
            var check = Load(CompleteCheckSql, hash, contentPath, out var identities, out long startedNs);
            if (check == null)
                return null;
            statNow ??= Stat;
            for (int i = 0; i < check.Files.Count; i++)
            {
                var file = check.Files[i];
                if (file.Status == FileCheckStatus.Extra)
                    continue;
                if (!(identities[i] is FileIdentity then) || then.MtimeNs >= startedNs - Scanner.RacyMarginNs)
                    return null;
                if (!(statNow(file.FullPath) is FileIdentity now) || !Same(then, now))
                    return null;
            }
            check.Remembered = true;
            return check;
        }

        /// <summary>A regular file's identity by lstat; null when it is missing, unreadable or not a regular file.</summary>
        public static FileIdentity? Stat(string fullPath)
        {
            if (FileSystemApi.TryLstat(fullPath, out var st) != 0 || st.Kind != FileKind.Regular)
                return null;
            return new FileIdentity(st.DeviceNumber, st.Inode, st.Size, st.MtimeNs, st.CtimeNs);
        }

        private static bool Same(FileIdentity a, FileIdentity b) =>
            a.DeviceNumber == b.DeviceNumber && a.Inode == b.Inode && a.Size == b.Size && a.MtimeNs == b.MtimeNs && a.CtimeNs == b.CtimeNs;

        /// <summary>
        /// For a Damaged file: compares it with its active catalog row (found by path, through the
        /// catalog's devices). When the row has a SHA-1 and the file still has the row's size, mtime and
        /// inode, the file is read again: another SHA-1 means it was damaged since its last scan (bit
        /// rot), and the row is marked racily clean (hashed_scan_start_ns = its mtime) so the next scan
        /// reads it whole and records its SHA-1 now; the same SHA-1 means it was damaged already when
        /// scanned. The file's <see cref="FileCheck.Detail"/> says which. Errors reading it (it changed
        /// while read, it cannot be opened) are thrown as HashallException.
        /// </summary>
        public ScanDamage DamagedSinceScan(FileCheck file, CancellationToken cancel = default)
        {
            if (file.Status != FileCheckStatus.Damaged)
                throw new HashallException("FileNotDamaged", HashallErrorKind.InvalidArgument,
                    $"'{file.FullPath}' is {file.Status}, not Damaged: only a damaged file is compared with its catalog row.", file.FullPath);
            var result = new ScanDamage { FullPath = file.FullPath, Verdict = ScanDamageVerdict.NotCatalogued };
            _query ??= new FileQuery(_db);
            _locator ??= new DeviceLocator();
            var scope = _query.ScopeOf(file.FullPath, _locator);
            var row = scope == null ? null : new FileStore(_db).ActiveByPath(scope.Device.DeviceId, scope.Prefix);
            if (row == null)
                return result;
            result.FileId = row.FileId;
            result.CatalogSha1 = row.Sha1;
            if (row.Sha1 == null)
            {
                result.Verdict = ScanDamageVerdict.NoCatalogHash;
                return result;
            }
            var st = FileSystemApi.Lstat(file.FullPath);
            if (st.Kind != FileKind.Regular || !row.SameFileAs(st.Size, st.MtimeNs, unchecked((long)st.Inode)))
            {
                result.Verdict = ScanDamageVerdict.ChangedSinceScan;
                AddDetail(file, "changed since its last scan (size, mtime or inode differ from the catalog's)");
                return result;
            }
            result.Sha1Now = FileHasher.Hash(file.FullPath, st, HashAlgorithms.Sha1, quick: false, cancel).Sha1;
            if (string.Equals(result.Sha1Now, row.Sha1, StringComparison.OrdinalIgnoreCase))
            {
                result.Verdict = ScanDamageVerdict.DamagedWhenScanned;
                AddDetail(file, $"unchanged since its last scan (its SHA-1 {row.Sha1} is the catalog's): the damage was there when it was scanned, or lies in another file under the failed piece");
                return result;
            }
            result.Verdict = ScanDamageVerdict.DamagedSinceScan;
            MarkForRehash(row);
            AddDetail(file, $"damaged since its last scan (bit rot): SHA-1 now {result.Sha1Now}, in the catalog {row.Sha1}; the next scan reads it again");
            return result;
        }

        /// <summary>
        /// Makes the row racily clean (the scanner's own rule, see Scanner.NeedsRecheck): its mtime is not
        /// older than the start of the scan that hashed it, so the next scan reads the whole file again
        /// although size, mtime, inode and ctime are unchanged. Only while the row is as it was read.
        /// </summary>
        private void MarkForRehash(FileRow row) => _db.Write(transaction =>
        {
            using var update = _db.Command("UPDATE files SET hashed_scan_start_ns = mtime_ns WHERE file_id = $id AND sha1 = $sha1 AND size = $size AND mtime_ns = $mtime AND inode = $inode;", transaction);
            update.Parameters.AddWithValue("$id", row.FileId);
            update.Parameters.AddWithValue("$sha1", row.Sha1);
            update.Parameters.AddWithValue("$size", row.Size);
            update.Parameters.AddWithValue("$mtime", row.MtimeNs);
            update.Parameters.AddWithValue("$inode", row.Inode);
            return update.ExecuteNonQuery();
        });

        internal static void AddDetail(FileCheck file, string text) =>
            file.Detail = string.IsNullOrEmpty(file.Detail) ? text : file.Detail + "; " + text;

        private TorrentCheck? Load(string sql, string hash, string contentPath) => Load(sql, hash, contentPath, out _, out _);

        private TorrentCheck? Load(string sql, string hash, string contentPath, out List<FileIdentity?> identities, out long startedNs)
        {
            identities = new List<FileIdentity?>();
            startedNs = 0;
            string content = ContentKey(contentPath);
            try
            {
                using var command = _db.Command(sql);
                command.Parameters.AddWithValue("$h", hash);
                command.Parameters.AddWithValue("$p", content);
                using var r = command.ExecuteReader();
                TorrentCheck? check = null;
                bool single = false;
                var files = new List<FileCheck>();
                while (r.Read())
                {
                    if (check == null)
                    {
                        single = r.GetInt64(4) != 0;
                        startedNs = r.GetInt64(10);
                        check = new TorrentCheck
                        {
                            Hash = r.GetString(1),
                            ContentPath = r.GetString(2),
                            Quick = r.GetInt64(3) != 0,
                            Name = r.GetString(5),
                            Version = (TorrentVersion)Enum.Parse(typeof(TorrentVersion), r.GetString(6)),
                            Source = r.GetString(7),
                            Status = (TorrentCheckStatus)Enum.Parse(typeof(TorrentCheckStatus), r.GetString(8)),
                            CheckedAt = CatalogTime.Parse(r.GetString(9)),
                            PiecesTotal = r.GetInt32(11),
                            PiecesChecked = r.GetInt32(12),
                            PiecesGood = r.GetInt32(13),
                            PiecesBad = r.GetInt32(14),
                            BytesRead = r.GetInt64(15),
                            Duration = TimeSpan.FromTicks(r.GetInt64(16) * 10),
                            Database = _db.Path,
                        };
                    }
                    int f = FileColumnsAt;
                    if (r.IsDBNull(f))
                        continue; // a check without files
                    string rel = r.GetString(f + 1);
                    bool read = !r.IsDBNull(f + 10);
                    identities.Add(read ? new FileIdentity(unchecked((ulong)r.GetInt64(f + 10)), unchecked((ulong)r.GetInt64(f + 11)), r.GetInt64(f + 12), r.GetInt64(f + 13), r.GetInt64(f + 14)) : (FileIdentity?)null);
                    files.Add(new FileCheck
                    {
                        RelativePath = rel,
                        FullPath = single ? check.ContentPath : Path.Combine(check.ContentPath, rel.Replace('/', Path.DirectorySeparatorChar)),
                        Length = r.GetInt64(f + 2),
                        SizeOnDisk = r.IsDBNull(f + 3) ? (long?)null : r.GetInt64(f + 3),
                        Status = (FileCheckStatus)Enum.Parse(typeof(FileCheckStatus), r.GetString(f + 4)),
                        Detail = r.IsDBNull(f + 5) ? null : r.GetString(f + 5),
                        BadRanges = ParseRanges(r.GetString(f + 6)),
                        Pieces = r.GetInt32(f + 7),
                        PiecesChecked = r.GetInt32(f + 8),
                        PiecesBad = r.GetInt32(f + 9),
                        Identity = identities[identities.Count - 1],
                    });
                }
                if (check != null)
                    check.Files = files;
                return check;
            }
            catch (SqliteException e)
            {
                throw CatalogDatabase.Translate(e, _db.Path);
            }
        }

        private static IReadOnlyList<ByteRange> ParseRanges(string text)
        {
            if (text.Length == 0)
                return Array.Empty<ByteRange>();
            return text.Split(',').Select(part =>
            {
                int dash = part.IndexOf('-');
                long start = long.Parse(part.Substring(0, dash), CultureInfo.InvariantCulture);
                long last = long.Parse(part.Substring(dash + 1), CultureInfo.InvariantCulture);
                return new ByteRange(start, last - start + 1);
            }).ToList();
        }

        /// <summary>The content path as the key stores it: absolute, without a trailing separator (but "/" stays "/").</summary>
        private static string ContentKey(string path)
        {
            string full = Path.GetFullPath(path);
            string root = Path.GetPathRoot(full) ?? "";
            while (full.Length > root.Length && (full.EndsWith("/", StringComparison.Ordinal) || full.EndsWith(Path.DirectorySeparatorChar.ToString(), StringComparison.Ordinal)))
                full = full.Substring(0, full.Length - 1);
            return full;
        }

        private static bool SamePath(string a, string b) => !string.IsNullOrEmpty(a) && ContentKey(a) == ContentKey(b);

        private static long ToUnixNs(DateTime utc) => (utc - Epoch).Ticks * 100;
    }
}
