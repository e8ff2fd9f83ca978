using System.Collections.Generic;

namespace Hashall.Core.Catalog
{
    /// <summary>
    /// The catalog's schema history. Append new steps at the end (never edit a shipped one): later
    /// capabilities add their tables here — link plans, payloads and torrents, the rehome journal.
    /// </summary>
    public static class Migrations
    {
        public static IReadOnlyList<Migration> All { get; } = new[]
        {
            new Migration(1, "devices and files", @"
CREATE TABLE schema_migrations (
    version     INTEGER PRIMARY KEY,
    name        TEXT NOT NULL,
    applied_at  TEXT NOT NULL
);

-- One row per filesystem, keyed by an identity that survives st_dev renumbering (see DeviceIdentityKind).
CREATE TABLE devices (
    device_id      INTEGER PRIMARY KEY,
    identity       TEXT NOT NULL UNIQUE,
    identity_kind  TEXT NOT NULL,
    alias          TEXT UNIQUE COLLATE NOCASE,
    mount_point    TEXT NOT NULL,
    mount_root     TEXT NOT NULL DEFAULT '/',
    fs_type        TEXT NOT NULL,
    source         TEXT NOT NULL,
    device_number  INTEGER,
    first_seen     TEXT NOT NULL,
    last_seen      TEXT NOT NULL,
    last_scan      TEXT
);

-- One row per path; paths are relative to the filesystem's root, '/'-separated.
CREATE TABLE files (
    file_id     INTEGER PRIMARY KEY,
    device_id   INTEGER NOT NULL REFERENCES devices(device_id),
    path        TEXT NOT NULL,
    size        INTEGER NOT NULL,
    mtime_ns    INTEGER NOT NULL,
    inode       INTEGER NOT NULL,
    link_count  INTEGER NOT NULL,
    sha1        TEXT,
    sha256      TEXT,
    quick_hash  TEXT,
    first_seen  TEXT NOT NULL,
    last_seen   TEXT NOT NULL,
    status      TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'deleted')),
    UNIQUE (device_id, path)
);
CREATE INDEX ix_files_inode ON files (device_id, inode);
CREATE INDEX ix_files_size ON files (device_id, size);
CREATE INDEX ix_files_sha1 ON files (sha1) WHERE sha1 IS NOT NULL;
"),
            new Migration(2, "scan history", @"
-- One row per root walked to the end. A file's last sighting is the later of its row's last_seen
-- (set when the row is written) and the newest complete scan of a root holding it, so an unchanged
-- tree costs no row writes on a rescan.
CREATE TABLE scans (
    scan_id      INTEGER PRIMARY KEY,
    device_id    INTEGER NOT NULL REFERENCES devices(device_id),
    prefix       TEXT NOT NULL,
    started_at   TEXT NOT NULL,
    finished_at  TEXT NOT NULL,
    mode         TEXT NOT NULL,
    files_seen   INTEGER NOT NULL
);
CREATE INDEX ix_scans_device ON scans (device_id, prefix, finished_at);
"),
            new Migration(3, "link plans", @"
-- A plan of hardlink dedup on one device: one action per duplicate inode, each naming the canonical
-- file it becomes a link of and every catalogued path of the duplicate inode.
CREATE TABLE link_plans (
    plan_id          INTEGER PRIMARY KEY,
    name             TEXT,
    device_id        INTEGER NOT NULL REFERENCES devices(device_id),
    scope            TEXT NOT NULL DEFAULT '',
    minimum_size     INTEGER NOT NULL,
    left_out         INTEGER NOT NULL DEFAULT 0,
    created_at       TEXT NOT NULL,
    executed_at      TEXT,
    -- execution lease: one run at a time; a crashed run's lease expires
    lock_owner       TEXT,
    lock_expires_at  TEXT
);
CREATE TABLE link_actions (
    action_id           INTEGER PRIMARY KEY,
    plan_id             INTEGER NOT NULL REFERENCES link_plans(plan_id) ON DELETE CASCADE,
    sha1                TEXT NOT NULL,
    size                INTEGER NOT NULL,
    canonical_file_id   INTEGER NOT NULL,
    canonical_path      TEXT NOT NULL,
    canonical_inode     INTEGER NOT NULL,
    canonical_mtime_ns  INTEGER NOT NULL,
    duplicate_inode     INTEGER NOT NULL,
    duplicate_mtime_ns  INTEGER NOT NULL,
    bytes_saved         INTEGER NOT NULL,
    status              TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'linked', 'skipped', 'failed')),
    reason              TEXT,
    bytes_reclaimed     INTEGER NOT NULL DEFAULT 0,
    executed_at         TEXT
);
CREATE INDEX ix_link_actions_plan ON link_actions (plan_id, action_id);
CREATE TABLE link_action_paths (
    action_id  INTEGER NOT NULL REFERENCES link_actions(action_id) ON DELETE CASCADE,
    file_id    INTEGER NOT NULL,
    path       TEXT NOT NULL,
    status     TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'linked', 'skipped', 'failed')),
    reason     TEXT,
    PRIMARY KEY (action_id, path)
);
"),
            new Migration(4, "payloads and torrents", @"
-- A payload is the content tree a torrent points to, identified by a hash of its files' paths, sizes
-- and SHA-1s (see PayloadHash); torrents with the same payload hash are siblings.
CREATE TABLE payloads (
    payload_id     INTEGER PRIMARY KEY,
    device_id      INTEGER REFERENCES devices(device_id),
    -- relative to the device's filesystem root; absolute when the content is on no catalogued device
    root_path      TEXT NOT NULL,
    payload_hash   TEXT,
    status         TEXT NOT NULL CHECK (status IN ('complete', 'incomplete')),
    file_count     INTEGER NOT NULL,
    total_bytes    INTEGER NOT NULL,
    missing_files  INTEGER NOT NULL DEFAULT 0,
    -- one line per file without a usable SHA-1: ""path: reason"" (what to scan)
    missing_detail TEXT NOT NULL DEFAULT '',
    last_built_at  TEXT NOT NULL
);
-- one row per root and content: torrents without a root folder of their own share a save path
CREATE UNIQUE INDEX ux_payloads_root ON payloads (coalesce(device_id, 0), root_path, coalesce(payload_hash, ''));
CREATE INDEX ix_payloads_hash ON payloads (payload_hash);
CREATE TABLE torrent_instances (
    -- the qBittorrent it was read from (its Web UI address): one catalog can follow several
    instance       TEXT NOT NULL,
    torrent_hash  TEXT NOT NULL,
    infohash_v1   TEXT,
    infohash_v2   TEXT,
    name          TEXT NOT NULL,
    payload_id    INTEGER REFERENCES payloads(payload_id),
    save_path     TEXT NOT NULL,
    content_path  TEXT NOT NULL,
    category      TEXT NOT NULL DEFAULT '',
    tags          TEXT NOT NULL DEFAULT '',
    state         TEXT NOT NULL DEFAULT '',
    first_seen    TEXT NOT NULL,
    last_seen     TEXT NOT NULL,
    -- set when a sync no longer finds the torrent in its qBittorrent
    gone_at       TEXT,
    PRIMARY KEY (instance, torrent_hash)
);
CREATE INDEX ix_torrents_payload ON torrent_instances (payload_id);
"),
            new Migration(5, "rehome journal", @"
-- One row per execution of a rehome plan for one payload. An open job (running or failed) is what a
-- rerun of the same plan resumes or rolls back; the lease keeps two runs off one payload.
CREATE TABLE rehome_jobs (
    job_id            INTEGER PRIMARY KEY,
    payload_hash      TEXT NOT NULL,
    direction         TEXT NOT NULL,
    decision          TEXT NOT NULL,
    source_path       TEXT NOT NULL,
    target_path       TEXT NOT NULL,
    target_save_path  TEXT NOT NULL,
    -- the plan as executed (JSON)
    plan              TEXT NOT NULL,
    -- per relocated torrent: its save path before, and whether it was running (JSON)
    torrents          TEXT NOT NULL DEFAULT '[]',
    step              TEXT NOT NULL,
    status            TEXT NOT NULL CHECK (status IN ('running', 'done', 'failed', 'rolled-back')),
    -- 1 when this job made the target copy (only then may a rollback remove it)
    copy_created      INTEGER NOT NULL DEFAULT 0,
    message           TEXT,
    started_at        TEXT NOT NULL,
    updated_at        TEXT NOT NULL,
    lock_owner        TEXT,
    lock_expires_at   TEXT
);
CREATE INDEX ix_rehome_jobs_payload ON rehome_jobs (payload_hash, job_id);
-- Every step a job took, in order: what happened, for people and for the resume.
CREATE TABLE rehome_journal (
    job_id  INTEGER NOT NULL REFERENCES rehome_jobs(job_id) ON DELETE CASCADE,
    seq     INTEGER NOT NULL,
    at      TEXT NOT NULL,
    step    TEXT NOT NULL,
    detail  TEXT NOT NULL,
    PRIMARY KEY (job_id, seq)
);
"),
            new Migration(6, "ctime and racy hashes", @"
-- Like git's index: a row's hashes are trusted only while the file's status proves it unchanged.
-- ctime_ns: the file's status-change time when last seen (NULL: not recorded yet, taken at the next
-- scan). A ctime that moved while size, mtime, inode and link count did not means the content may
-- have been rewritten with its mtime set back (utimes cannot set ctime): the next scan reads it again.
-- hashed_scan_start_ns: when the scan that read the content started; a file whose mtime is not
-- older than that (less a 2 s margin for coarse timestamps) was 'racily clean' and is read again.
ALTER TABLE files ADD COLUMN ctime_ns INTEGER;
ALTER TABLE files ADD COLUMN hashed_scan_start_ns INTEGER;
"),
            new Migration(7, "root-relative payload hashes and content hashes", @"
-- Payload hashes take each file's path relative to the payload root, the root folder's own name left
-- out (as the seed computes them): the stored hashes are recomputed from the catalog's file rows by
-- the C# step (RootRelativeMigration), and rows that now share a root and hash are merged.
-- content_hash: SHA-256 over the sorted lines ""{size}|{sha1}"", names ignored (see ContentHash):
-- torrents of the same bytes under other file and folder names share it.
ALTER TABLE payloads ADD COLUMN content_hash TEXT;
CREATE INDEX ix_payloads_content ON payloads (content_hash);
", Payloads.RootRelativeMigration.Run),
            new Migration(8, "content index", @"
-- Duplicate groups, link planning and the candidate scan read active files by device and size (then
-- SHA-1 and inode): one covering index in that order (largest first, as duplicates are listed) lets
-- them stream groups from one ordered range instead of joining every file of a size to every other.
-- It replaces ix_files_size (a prefix of it) and ix_files_sha1 (no query could use it: a hash lookup
-- matches SHA-1, SHA-256 or quick hash alike), which cost every scanned row an insert at a random place.
CREATE INDEX ix_files_content ON files (device_id, size DESC, sha1, inode) WHERE status = 'active';
DROP INDEX ix_files_size;
DROP INDEX ix_files_sha1;
"),
            new Migration(9, "torrent piece checks", @"
-- Piece checks of torrents (Test-HashallTorrent), per torrent (qBittorrent's id) and content path: only
-- the latest full check and the latest quick one, never a history, so a nightly check of thousands of
-- torrents replaces its rows instead of adding to them; recording a torrent's check drops its checks at
-- other content paths that no longer exist (it was moved). A full check replaces both; a quick one that is not Complete replaces both too (the full
-- verdict no longer holds); a quick Complete one leaves the full check alone.
CREATE TABLE torrent_checks (
    check_id        INTEGER PRIMARY KEY,
    torrent_hash    TEXT NOT NULL,
    -- the root folder (multi-file) or the file (single-file) checked, absolute
    content_path    TEXT NOT NULL,
    quick           INTEGER NOT NULL CHECK (quick IN (0, 1)),
    single_file     INTEGER NOT NULL CHECK (single_file IN (0, 1)),
    name            TEXT NOT NULL,
    version         TEXT NOT NULL,
    source          TEXT NOT NULL DEFAULT '',
    status          TEXT NOT NULL CHECK (status IN ('Complete', 'Damaged', 'Incomplete', 'Missing')),
    checked_at      TEXT NOT NULL,
    -- when reading began (Unix ns): a file whose mtime is not older (less the scanner's racy margin)
    -- may have changed in the same tick after it was read, and is never trusted as unchanged
    started_ns      INTEGER NOT NULL,
    pieces_total    INTEGER NOT NULL,
    pieces_checked  INTEGER NOT NULL,
    pieces_good     INTEGER NOT NULL,
    pieces_bad      INTEGER NOT NULL,
    bytes_read      INTEGER NOT NULL,
    duration_us     INTEGER NOT NULL,
    UNIQUE (torrent_hash, content_path, quick)
);
-- Each file's verdict, and what stat said of it when it was read: a rerun skips the torrent only while
-- every file still has the same st_dev, inode, size, mtime and ctime (NULL: not read). st_dev, not the
-- catalog's device id: a renumbered device makes the files look changed (checked again), never the
-- reverse; a restored copy keeps size and mtime but not inode and ctime.
CREATE TABLE torrent_check_files (
    check_id        INTEGER NOT NULL REFERENCES torrent_checks(check_id) ON DELETE CASCADE,
    ordinal         INTEGER NOT NULL,
    -- FileCheck.RelativePath: below the content path ('/'-separated); the file name for a single file
    path            TEXT NOT NULL,
    length          INTEGER NOT NULL,
    size_on_disk    INTEGER,
    status          TEXT NOT NULL CHECK (status IN ('Complete', 'Damaged', 'Missing', 'SizeMismatch', 'Extra')),
    detail          TEXT,
    -- 'start-lastbyte' ranges, comma-separated
    bad_ranges      TEXT NOT NULL DEFAULT '',
    pieces          INTEGER NOT NULL,
    pieces_checked  INTEGER NOT NULL,
    pieces_bad      INTEGER NOT NULL,
    device_number   INTEGER,
    inode           INTEGER,
    size            INTEGER,
    mtime_ns        INTEGER,
    ctime_ns        INTEGER,
    PRIMARY KEY (check_id, ordinal)
) WITHOUT ROWID;
"),
            new Migration(10, "torrent seeding journal", @"
-- One row per Add-HashallTorrent run for one torrent (adding it, or repairing one qBittorrent has).
-- An open job (running or failed) is what a rerun for the same torrent resumes; the lease keeps two
-- runs off one torrent.
CREATE TABLE seed_jobs (
    job_id            INTEGER PRIMARY KEY,
    torrent_hash      TEXT NOT NULL,
    name              TEXT NOT NULL,
    mode              TEXT NOT NULL CHECK (mode IN ('add', 'repair')),
    instance          TEXT NOT NULL,
    save_path         TEXT NOT NULL,
    step              TEXT NOT NULL,
    status            TEXT NOT NULL CHECK (status IN ('running', 'failed', 'done', 'incomplete', 'rolled-back')),
    -- 1 once this job added the torrent to qBittorrent (only then may a rollback delete it)
    torrent_added     INTEGER NOT NULL DEFAULT 0,
    message           TEXT,
    started_at        TEXT NOT NULL,
    updated_at        TEXT NOT NULL,
    lock_owner        TEXT,
    lock_expires_at   TEXT
);
CREATE INDEX ix_seed_jobs_torrent ON seed_jobs (torrent_hash, job_id);
-- Every folder, hard link and copy a job makes, journalled as planned BEFORE it is made and as made
-- after: a rollback removes only these (and only while they are still the inode recorded), a rerun
-- accepts a planned link that exists as the source's inode as its own.
CREATE TABLE seed_links (
    job_id        INTEGER NOT NULL REFERENCES seed_jobs(job_id) ON DELETE CASCADE,
    path          TEXT NOT NULL,
    kind          TEXT NOT NULL CHECK (kind IN ('folder', 'link', 'copy')),
    source        TEXT,
    -- a copy is written here first (same folder), then renamed to path without replacing anything
    temp_path     TEXT,
    size          INTEGER NOT NULL DEFAULT 0,
    state         TEXT NOT NULL CHECK (state IN ('planned', 'made', 'removed')),
    -- st_dev and inode of what was made (a copy's: recorded before its rename)
    device_number INTEGER,
    inode         INTEGER,
    PRIMARY KEY (job_id, path)
) WITHOUT ROWID;
"),
            new Migration(11, "block clones", @"
-- A link plan's method: HardLink (paths become links of the canonical file) or Clone (each duplicate
-- keeps its inode and metadata, its blocks become the canonical file's by FIDEDUPERANGE).
ALTER TABLE link_plans ADD COLUMN method TEXT NOT NULL DEFAULT 'HardLink' CHECK (method IN ('HardLink', 'Clone'));
-- Inodes whose blocks a clone made the same as another inode's (its base): duplicates and device
-- totals count them as one copy of the data while both files are as they were then (the row's size,
-- mtime and SHA-1 match the inode's active rows, and its base has base_mtime_ns); a rewrite of either
-- ends the sharing on disk and the row stops counting.
CREATE TABLE block_clones (
    device_id      INTEGER NOT NULL REFERENCES devices(device_id),
    inode          INTEGER NOT NULL,
    size           INTEGER NOT NULL,
    mtime_ns       INTEGER NOT NULL,
    sha1           TEXT NOT NULL,
    base_inode     INTEGER NOT NULL,
    base_mtime_ns  INTEGER NOT NULL,
    cloned_at      TEXT NOT NULL,
    PRIMARY KEY (device_id, inode)
) WITHOUT ROWID;
"),
            new Migration(12, "link undo", @"
-- What a linked path was before it became a link (lstat just before the rename over it), so that
-- Undo-HashallLinkPlan gives it back its own owner, group, permissions and mtime. NULL for paths
-- linked before this version (undo then takes the action's recorded duplicate mtime and the shared
-- inode's owner and permissions, which were the path's own unless the plan ran with -Force).
ALTER TABLE link_action_paths ADD COLUMN uid INTEGER;
ALTER TABLE link_action_paths ADD COLUMN gid INTEGER;
ALTER TABLE link_action_paths ADD COLUMN mode INTEGER;
ALTER TABLE link_action_paths ADD COLUMN mtime_ns INTEGER;
-- Undo's outcome per path (NULL: never undone); status stays 'linked' so an undone plan is never executed again.
ALTER TABLE link_action_paths ADD COLUMN undo_status TEXT CHECK (undo_status IN ('undone', 'skipped', 'failed'));
ALTER TABLE link_action_paths ADD COLUMN undo_reason TEXT;
ALTER TABLE link_plans ADD COLUMN undone_at TEXT;
"),
            new Migration(13, "seeding roots, torrent files and sync history", @"
-- Seeding roots: absolute directories that hold seeding data (a stored setting). A hard link outside
-- all of them is an external consumer (a media library); orphans are looked for under them.
CREATE TABLE seeding_roots (
    path      TEXT PRIMARY KEY,
    added_at  TEXT NOT NULL
);
-- Every file of every torrent as the last sync read it (torrents/files): absolute path, size and
-- qBittorrent's priority (0: not selected). Orphans are the files under the seeding roots no row names.
CREATE TABLE torrent_files (
    instance      TEXT NOT NULL,
    torrent_hash  TEXT NOT NULL,
    ordinal       INTEGER NOT NULL,
    full_path     TEXT NOT NULL,
    size          INTEGER NOT NULL,
    priority      INTEGER NOT NULL,
    PRIMARY KEY (instance, torrent_hash, ordinal)
) WITHOUT ROWID;
CREATE INDEX ix_torrent_files_path ON torrent_files (full_path);
-- One row per sync that wrote (category/tag empty: the whole instance): when orphans may trust it.
CREATE TABLE payload_syncs (
    sync_id      INTEGER PRIMARY KEY,
    instance     TEXT NOT NULL,
    category     TEXT NOT NULL DEFAULT '',
    tag          TEXT NOT NULL DEFAULT '',
    finished_at  TEXT NOT NULL
);
CREATE INDEX ix_payload_syncs_instance ON payload_syncs (instance, finished_at);
"),
            new Migration(14, "torrent activity", @"
-- What qBittorrent's torrents/info says of a torrent's life at the last sync, for rehome policies
-- (New-RehomePlan -MinimumAge, -MinimumSeedingTime, -Ratio, -ActiveWithin). NULL: not known (synced
-- before this version, or not completed yet). Times are catalog time text (UTC); seeding_time is seconds.
ALTER TABLE torrent_instances ADD COLUMN completion_on TEXT;
ALTER TABLE torrent_instances ADD COLUMN seeding_time INTEGER;
ALTER TABLE torrent_instances ADD COLUMN ratio REAL;
ALTER TABLE torrent_instances ADD COLUMN last_activity TEXT;
"),
        };

        public static int Latest => All[All.Count - 1].Version;
    }
}
