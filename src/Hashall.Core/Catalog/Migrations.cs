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
        };

        public static int Latest => All[All.Count - 1].Version;
    }
}
