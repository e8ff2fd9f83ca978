using System;
using System.Collections.Generic;
using System.Text.Json;
using Hashall.Core.Catalog;
using Microsoft.Data.Sqlite;

namespace Hashall.Core.Rehome
{
    /// <summary>
    /// The rehome_jobs and rehome_journal tables: one job per payload at a time (its lease), the step it
    /// reached, and a line per step. Every step is committed before the work it announces, so a rerun
    /// after a kill knows what may be half done.
    /// </summary>
    public sealed class RehomeJournal
    {
        private readonly CatalogDatabase _db;

        public RehomeJournal(CatalogDatabase db) => _db = db;

        /// <summary>
        /// Takes the payload's open job (running or failed) if there is one, else starts a new job.
        /// Refuses with RehomeBusy while another live run holds it.
        /// </summary>
        public (RehomeJob Job, bool Resumed) Acquire(RehomePlan plan, string planJson, string owner) => _db.Write(tx =>
        {
            var open = Open(plan.PayloadHash!, tx);
            if (open != null)
            {
                if (Lease.IsLive(open.Value.Owner, open.Value.Expires))
                    throw new HashallException("RehomeBusy", HashallErrorKind.ResourceBusy,
                        $"Payload '{plan.Name}' ({plan.PayloadHash}) is being rehomed by another run ({open.Value.Owner}, job {open.Value.Job.JobId}); it was not started twice.", plan.PayloadHash);
                Run(tx, "UPDATE rehome_jobs SET lock_owner = $o, lock_expires_at = $e, status = 'running', updated_at = $now WHERE job_id = $id;",
                    ("$o", owner), ("$e", Expiry()), ("$now", Now()), ("$id", open.Value.Job.JobId));
                open.Value.Job.Owner = owner;
                open.Value.Job.Status = "running";
                return (open.Value.Job, true);
            }
            Run(tx, @"INSERT INTO rehome_jobs (payload_hash, direction, decision, source_path, target_path, target_save_path, plan, step, status,
    started_at, updated_at, lock_owner, lock_expires_at)
VALUES ($hash, $dir, $dec, $src, $dst, $save, $plan, $step, 'running', $now, $now, $o, $e);",
                ("$hash", plan.PayloadHash), ("$dir", plan.Direction.ToString()), ("$dec", plan.Decision.ToString()), ("$src", plan.SourcePath),
                ("$dst", plan.TargetPath), ("$save", plan.TargetSavePath), ("$plan", planJson), ("$step", RehomeStep.Started.ToString()),
                ("$now", Now()), ("$o", owner), ("$e", Expiry()));
            using var last = _db.Command("SELECT last_insert_rowid();", tx);
            var job = new RehomeJob
            {
                JobId = (long)last.ExecuteScalar()!, PayloadHash = plan.PayloadHash!, SourcePath = plan.SourcePath, TargetPath = plan.TargetPath,
                Step = RehomeStep.Started, Owner = owner,
            };
            Append(tx, job.JobId, RehomeStep.Started, $"started: {plan.Decision} '{plan.SourcePath}' -> '{plan.TargetPath}'");
            return (job, false);
        });

        /// <summary>
        /// The payload's job that a rerun resumes (running, or failed without a rollback): its id, source, target
        /// and the plan it was started from (JSON, as <see cref="RehomePlanFile.Serialize"/> wrote it); null when none.
        /// </summary>
        public (long JobId, string Source, string Target, string Plan)? OpenPaths(string payloadHash)
        {
            using var c = _db.Command("SELECT job_id, source_path, target_path, plan FROM rehome_jobs WHERE payload_hash = $h AND status IN ('running', 'failed') ORDER BY job_id DESC LIMIT 1;");
            c.Parameters.AddWithValue("$h", payloadHash);
            using var r = c.ExecuteReader();
            return r.Read() ? (r.GetInt64(0), r.GetString(1), r.GetString(2), r.GetString(3)) : ((long, string, string, string)?)null;
        }

        /// <summary>The latest finished job of this payload between these paths (to tell a plan already carried out).</summary>
        public string? LastStatus(string payloadHash, string sourcePath, string targetPath)
        {
            using var c = _db.Command(@"SELECT status FROM rehome_jobs WHERE payload_hash = $h AND source_path = $s AND target_path = $t
ORDER BY job_id DESC LIMIT 1;");
            c.Parameters.AddWithValue("$h", payloadHash);
            c.Parameters.AddWithValue("$s", sourcePath);
            c.Parameters.AddWithValue("$t", targetPath);
            return c.ExecuteScalar() as string;
        }

        /// <summary>Records reaching a step (and renews the lease); a lease taken over meanwhile stops the run.</summary>
        public void Advance(RehomeJob job, RehomeStep step, string detail)
        {
            _db.Write(tx =>
            {
                if (Run(tx, "UPDATE rehome_jobs SET step = $step, updated_at = $now, lock_expires_at = $e WHERE job_id = $id AND lock_owner = $o;",
                        ("$step", step.ToString()), ("$now", Now()), ("$e", Expiry()), ("$id", job.JobId), ("$o", job.Owner)) == 0)
                    throw LeaseLost(job);
                Append(tx, job.JobId, step, detail);
                return 0;
            });
            job.Step = step;
        }

        /// <summary>A journal line without a change of step (a rollback's actions, a warning).</summary>
        public void Note(RehomeJob job, string detail) => _db.Write(tx =>
        {
            Append(tx, job.JobId, job.Step, detail);
            return 0;
        });

        public void Renew(RehomeJob job)
        {
            if (_db.Write(tx => Run(tx, "UPDATE rehome_jobs SET lock_expires_at = $e WHERE job_id = $id AND lock_owner = $o;",
                    ("$e", Expiry()), ("$id", job.JobId), ("$o", job.Owner))) == 0)
                throw LeaseLost(job);
        }

        public void SaveTorrents(RehomeJob job) => _db.Write(tx =>
            Run(tx, "UPDATE rehome_jobs SET torrents = $t WHERE job_id = $id;", ("$t", JsonSerializer.Serialize(job.Torrents)), ("$id", job.JobId)));

        public void MarkCopyCreated(RehomeJob job)
        {
            _db.Write(tx => Run(tx, "UPDATE rehome_jobs SET copy_created = 1 WHERE job_id = $id;", ("$id", job.JobId)));
            job.CopyCreated = true;
        }

        /// <summary>Journals a hard link of a torrent's own layout before it is made: a rollback or rerun then knows the name as this job's.</summary>
        public void RecordLink(RehomeJob job, RehomeLink link) => _db.Write(tx =>
        {
            Append(tx, job.JobId, RehomeStep.Linking, LinkDetail(link));
            return 0;
        });

        /// <summary>The journal line of a link: "link: 'path' -> 'copy's file'".</summary>
        public static string LinkDetail(RehomeLink link) => $"link: '{link.Path}' -> '{link.LinkTo}'";

        /// <summary>The journal lines of the hard links the job journaled (made, or about to be when it was interrupted); compare with <see cref="LinkDetail"/>.</summary>
        public HashSet<string> LinksMade(long jobId)
        {
            var lines = new HashSet<string>(StringComparer.Ordinal);
            using var c = _db.Command("SELECT detail FROM rehome_journal WHERE job_id = $id AND step = $step;");
            c.Parameters.AddWithValue("$id", jobId);
            c.Parameters.AddWithValue("$step", RehomeStep.Linking.ToString());
            using var r = c.ExecuteReader();
            while (r.Read())
                lines.Add(r.GetString(0));
            return lines;
        }

        /// <summary>Ends the run's hold on the job: done, rolled-back, or failed (open: a rerun resumes it).</summary>
        public void Finish(RehomeJob job, string status, string? message) => _db.Write(tx =>
        {
            Append(tx, job.JobId, job.Step, status + (message != null ? ": " + message : ""));
            job.Status = status;
            // Only while this run holds the job: a run whose lease was taken over must not end the new holder's work.
            return Run(tx, @"UPDATE rehome_jobs SET status = $s, message = $m, updated_at = $now, lock_owner = NULL, lock_expires_at = NULL
WHERE job_id = $id AND lock_owner = $o;", ("$s", status), ("$m", message), ("$now", Now()), ("$id", job.JobId), ("$o", job.Owner));
        });

        /// <summary>The job's journal lines, oldest first: "time step: detail".</summary>
        public List<string> Entries(long jobId)
        {
            var lines = new List<string>();
            using var c = _db.Command("SELECT at, step, detail FROM rehome_journal WHERE job_id = $id ORDER BY seq;");
            c.Parameters.AddWithValue("$id", jobId);
            using var r = c.ExecuteReader();
            while (r.Read())
                lines.Add($"{r.GetString(0)} {r.GetString(1)}: {r.GetString(2)}");
            return lines;
        }

        private (RehomeJob Job, string? Owner, string? Expires)? Open(string payloadHash, SqliteTransaction tx)
        {
            using var c = _db.Command(@"SELECT job_id, source_path, target_path, step, status, copy_created, torrents, lock_owner, lock_expires_at
FROM rehome_jobs WHERE payload_hash = $h AND status IN ('running', 'failed') ORDER BY job_id DESC LIMIT 1;", tx);
            c.Parameters.AddWithValue("$h", payloadHash);
            using var r = c.ExecuteReader();
            if (!r.Read())
                return null;
            var job = new RehomeJob
            {
                JobId = r.GetInt64(0), PayloadHash = payloadHash, SourcePath = r.GetString(1), TargetPath = r.GetString(2),
                Step = (RehomeStep)Enum.Parse(typeof(RehomeStep), r.GetString(3)), Status = r.GetString(4), CopyCreated = r.GetInt64(5) != 0,
                Torrents = JsonSerializer.Deserialize<List<RelocatedTorrent>>(r.GetString(6)) ?? new List<RelocatedTorrent>(),
            };
            return (job, r.IsDBNull(7) ? null : r.GetString(7), r.IsDBNull(8) ? null : r.GetString(8));
        }

        private void Append(SqliteTransaction tx, long jobId, RehomeStep step, string detail) =>
            Run(tx, @"INSERT INTO rehome_journal (job_id, seq, at, step, detail)
VALUES ($id, (SELECT coalesce(max(seq), 0) + 1 FROM rehome_journal WHERE job_id = $id), $now, $step, $detail);",
                ("$id", jobId), ("$now", Now()), ("$step", step.ToString()), ("$detail", detail));

        private int Run(SqliteTransaction tx, string sql, params (string Name, object? Value)[] parameters)
        {
            using var c = _db.Command(sql, tx);
            foreach (var (name, value) in parameters)
                c.Parameters.AddWithValue(name, value ?? DBNull.Value);
            return c.ExecuteNonQuery();
        }

        private static HashallException LeaseLost(RehomeJob job) =>
            new HashallException("RehomeLeaseLost", HashallErrorKind.ResourceBusy,
                $"Rehome job {job.JobId} was taken over by another run while this one worked on it; this run stopped.", job.JobId);

        private static string Now() => CatalogTime.Format(DateTime.UtcNow);

        private static string Expiry() => CatalogTime.Format(DateTime.UtcNow + Lease.Length);
    }
}
