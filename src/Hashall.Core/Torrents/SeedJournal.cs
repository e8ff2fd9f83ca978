using System;
using System.Collections.Generic;
using System.Linq;
using Hashall.Core.Catalog;
using Microsoft.Data.Sqlite;

namespace Hashall.Core.Torrents
{
    /// <summary>A job of <see cref="TorrentSeeder"/>: one torrent added (or repaired), its lease and the step it reached.</summary>
    public sealed class SeedJob
    {
        public long JobId { get; set; }
        public string TorrentHash { get; set; } = "";
        public string Mode { get; set; } = "add";
        public string SavePath { get; set; } = "";
        public string Step { get; set; } = "";
        public bool TorrentAdded { get; set; }
        public string Owner { get; set; } = "";
        public bool Resumed { get; set; }
    }

    /// <summary>One journalled folder, hard link or copy of a seeding job.</summary>
    public sealed class SeedLinkRow
    {
        public string Path { get; set; } = "";
        public string Kind { get; set; } = "link";
        public string? Source { get; set; }
        public string? TempPath { get; set; }
        public long Size { get; set; }
        public string State { get; set; } = "planned";
        public ulong? DeviceNumber { get; set; }
        public ulong? Inode { get; set; }
    }

    /// <summary>
    /// The seed_jobs and seed_links tables: one open job per torrent (its lease), and every folder, link
    /// and copy it makes, committed as planned before it is made, so that a rerun after a kill knows which
    /// names are its own, and a rollback removes only those.
    /// </summary>
    public sealed class SeedJournal
    {
        private readonly CatalogDatabase _db;

        public SeedJournal(CatalogDatabase db) => _db = db;

        /// <summary>The torrent's open job (running or failed), without taking it; null when none.</summary>
        public SeedJob? OpenJob(string hash)
        {
            using var c = _db.Command(@"SELECT job_id, mode, save_path, step, torrent_added FROM seed_jobs
WHERE torrent_hash = $h AND status IN ('running', 'failed') ORDER BY job_id DESC LIMIT 1;");
            c.Parameters.AddWithValue("$h", hash.ToLowerInvariant());
            using var r = c.ExecuteReader();
            return r.Read()
                ? new SeedJob { JobId = r.GetInt64(0), TorrentHash = hash.ToLowerInvariant(), Mode = r.GetString(1), SavePath = r.GetString(2), Step = r.GetString(3), TorrentAdded = r.GetInt64(4) != 0 }
                : null;
        }

        /// <summary>
        /// Takes the torrent's open job if there is one (a rerun resumes it), else starts a new one. Refuses
        /// with TorrentSeedBusy while another live run holds it.
        /// </summary>
        public SeedJob Acquire(string hash, string name, string mode, string instance, string savePath, string owner) => _db.Write(tx =>
        {
            hash = hash.ToLowerInvariant();
            using (var c = _db.Command(@"SELECT job_id, mode, save_path, step, torrent_added, lock_owner, lock_expires_at FROM seed_jobs
WHERE torrent_hash = $h AND status IN ('running', 'failed') ORDER BY job_id DESC LIMIT 1;", tx))
            {
                c.Parameters.AddWithValue("$h", hash);
                using var r = c.ExecuteReader();
                if (r.Read())
                {
                    var job = new SeedJob
                    {
                        JobId = r.GetInt64(0), TorrentHash = hash, Mode = r.GetString(1), SavePath = r.GetString(2), Step = r.GetString(3),
                        TorrentAdded = r.GetInt64(4) != 0, Owner = owner, Resumed = true,
                    };
                    string? holder = r.IsDBNull(5) ? null : r.GetString(5);
                    string? expires = r.IsDBNull(6) ? null : r.GetString(6);
                    r.Close();
                    if (Lease.IsLive(holder, expires))
                        throw new HashallException("TorrentSeedBusy", HashallErrorKind.ResourceBusy,
                            $"Torrent '{name}' ({hash}) is being laid out by another run ({holder}, job {job.JobId}); it was not started twice.", hash);
                    Run(tx, "UPDATE seed_jobs SET lock_owner = $o, lock_expires_at = $e, status = 'running', updated_at = $now WHERE job_id = $id;",
                        ("$o", owner), ("$e", Expiry()), ("$now", Now()), ("$id", job.JobId));
                    return job;
                }
            }
            Run(tx, @"INSERT INTO seed_jobs (torrent_hash, name, mode, instance, save_path, step, status, started_at, updated_at, lock_owner, lock_expires_at)
VALUES ($h, $n, $m, $i, $s, 'started', 'running', $now, $now, $o, $e);",
                ("$h", hash), ("$n", name), ("$m", mode), ("$i", instance), ("$s", savePath), ("$now", Now()), ("$o", owner), ("$e", Expiry()));
            using var last = _db.Command("SELECT last_insert_rowid();", tx);
            return new SeedJob { JobId = (long)last.ExecuteScalar()!, TorrentHash = hash, Mode = mode, SavePath = savePath, Step = "started", Owner = owner };
        });

        /// <summary>Records reaching a step (and renews the lease); a lease taken over meanwhile stops the run (TorrentSeedLeaseLost).</summary>
        public void Advance(SeedJob job, string step, bool? torrentAdded = null)
        {
            _db.Write(tx => Run(tx, @"UPDATE seed_jobs SET step = $step, torrent_added = coalesce($added, torrent_added), updated_at = $now, lock_expires_at = $e
WHERE job_id = $id AND lock_owner = $o;", ("$step", step), ("$added", torrentAdded is bool b ? (object)(b ? 1 : 0) : null), ("$now", Now()), ("$e", Expiry()),
                ("$id", job.JobId), ("$o", job.Owner)) == 0 ? throw LeaseLost(job) : 0);
            job.Step = step;
            if (torrentAdded is bool added)
                job.TorrentAdded = added;
        }

        /// <summary>Every folder, link and copy the job journalled, by path.</summary>
        public Dictionary<string, SeedLinkRow> Links(long jobId)
        {
            var rows = new Dictionary<string, SeedLinkRow>(StringComparer.Ordinal);
            using var c = _db.Command("SELECT path, kind, source, temp_path, size, state, device_number, inode FROM seed_links WHERE job_id = $id;");
            c.Parameters.AddWithValue("$id", jobId);
            using var r = c.ExecuteReader();
            while (r.Read())
                rows[r.GetString(0)] = new SeedLinkRow
                {
                    Path = r.GetString(0), Kind = r.GetString(1), Source = r.IsDBNull(2) ? null : r.GetString(2), TempPath = r.IsDBNull(3) ? null : r.GetString(3),
                    Size = r.GetInt64(4), State = r.GetString(5),
                    DeviceNumber = r.IsDBNull(6) ? (ulong?)null : unchecked((ulong)r.GetInt64(6)), Inode = r.IsDBNull(7) ? (ulong?)null : unchecked((ulong)r.GetInt64(7)),
                };
            return rows;
        }

        /// <summary>Journals rows (planned, or a new state) in one transaction, renewing the lease; committed before the caller acts on them.</summary>
        public void Save(SeedJob job, IEnumerable<SeedLinkRow> rows) => _db.Write(tx =>
        {
            if (Run(tx, "UPDATE seed_jobs SET updated_at = $now, lock_expires_at = $e WHERE job_id = $id AND lock_owner = $o;",
                    ("$now", Now()), ("$e", Expiry()), ("$id", job.JobId), ("$o", job.Owner)) == 0)
                throw LeaseLost(job);
            using var c = _db.Command(@"INSERT INTO seed_links (job_id, path, kind, source, temp_path, size, state, device_number, inode)
VALUES ($id, $p, $k, $s, $t, $z, $st, $d, $i)
ON CONFLICT (job_id, path) DO UPDATE SET state = excluded.state, device_number = excluded.device_number, inode = excluded.inode,
    source = excluded.source, temp_path = excluded.temp_path, kind = excluded.kind, size = excluded.size;", tx);
            var p = new[] { "$id", "$p", "$k", "$s", "$t", "$z", "$st", "$d", "$i" }.Select(n => c.Parameters.Add(n, SqliteType.Text)).ToArray();
            foreach (var row in rows)
            {
                object?[] values = { job.JobId, row.Path, row.Kind, row.Source, row.TempPath, row.Size, row.State,
                    row.DeviceNumber is ulong d ? unchecked((long)d) : (object?)null, row.Inode is ulong i ? unchecked((long)i) : (object?)null };
                for (int k = 0; k < p.Length; k++)
                {
                    p[k].SqliteType = values[k] is string ? SqliteType.Text : SqliteType.Integer;
                    p[k].Value = values[k] ?? DBNull.Value;
                }
                c.ExecuteNonQuery();
            }
            return 0;
        });

        /// <summary>Ends the run's hold on the job: done, incomplete, rolled-back, or failed (open: a rerun resumes it).</summary>
        public void Finish(SeedJob job, string status, string? message) => _db.Write(tx =>
            Run(tx, @"UPDATE seed_jobs SET status = $s, message = $m, updated_at = $now, lock_owner = NULL, lock_expires_at = NULL
WHERE job_id = $id AND lock_owner = $o;", ("$s", status), ("$m", message), ("$now", Now()), ("$id", job.JobId), ("$o", job.Owner)));

        private int Run(SqliteTransaction tx, string sql, params (string Name, object? Value)[] parameters)
        {
            using var c = _db.Command(sql, tx);
            foreach (var (name, value) in parameters)
                c.Parameters.AddWithValue(name, value ?? DBNull.Value);
            return c.ExecuteNonQuery();
        }

        private static HashallException LeaseLost(SeedJob job) =>
            new HashallException("TorrentSeedLeaseLost", HashallErrorKind.ResourceBusy,
                $"Seeding job {job.JobId} ({job.TorrentHash}) was taken over by another run while this one worked on it; this run stopped.", job.JobId);

        private static string Now() => CatalogTime.Format(DateTime.UtcNow);

        private static string Expiry() => CatalogTime.Format(DateTime.UtcNow + Lease.Length);
    }
}
