using System.Management.Automation;
using Hashall.Tests.Shared;

namespace Hashall.PowerShell.Tests;

/// <summary>
/// Migration 7 on a catalog written by the release before it (tests/Fixtures/catalog-v6.db, made by
/// tests/Fixtures/make-catalog-v6.ps1 from a real qBittorrent sync; its data no longer exists, so the
/// migration can only have used the catalog's rows): root-relative payload hashes, content hashes, and
/// the siblings that follow.
/// </summary>
public sealed class PayloadMigrationTests : IDisposable
{
    private const string Data = "/tmp/hashall-fixture-v6/data";
    private readonly TempTree _tree = new();
    private readonly PowerShellSession _ps = new();
    private readonly string _db;
    private readonly string _pristine;

    public PayloadMigrationTests()
    {
        _pristine = _tree.Path("v6.db");
        File.Copy(Path.Combine(ModuleFolder.RepoRoot, "tests", "Fixtures", "catalog-v6.db"), _pristine);
        _db = _tree.Path("catalog.db");
        File.Copy(_pristine, _db);
    }

    public void Dispose()
    {
        _ps.Dispose();
        _tree.Dispose();
    }

    /// <summary>
    /// The SPEC's payload and content hashes of a root, by Python over the schema-6 catalog's own rows:
    /// every active file under the root, paths relative to it (its name left out; a file's is its name).
    /// </summary>
    private (string Payload, string Content) Reference(string root)
    {
        var lines = TempTree.Run("/usr/bin/python3", "-X", "utf8", "-c", """
import hashlib, sqlite3, sys
db, root = sys.argv[1], sys.argv[2]
rows = []
for path, size, sha1 in sqlite3.connect(db).execute("SELECT path, size, sha1 FROM files WHERE status = 'active'"):
    if path == root:
        rel = path.rsplit("/", 1)[-1]
    elif path.startswith(root + "/"):
        rel = path[len(root) + 1:]
    else:
        continue
    rows.append((rel, size, sha1))
print(hashlib.sha256("".join(f"{r}|{s}|{h}\n" for r, s, h in sorted(rows)).encode()).hexdigest())
print(hashlib.sha256("".join(sorted(f"{s}|{h}\n" for _, s, h in rows)).encode()).hexdigest())
""", _pristine, Data.TrimStart('/') + "/" + root).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        return (lines[0], lines[1]);
    }

    private PSObject Torrent(string name, int index = 0) =>
        _ps.Run("Get-HashallTorrent -Database $args[0] | Where-Object Name -ceq $args[1]", _db, name).Succeeded().Output.Select(o => o).ElementAt(index);

    [Fact]
    public void TheFixtureCatalogGetsTheSeedsHashesAndDifferentlyNamedSiblingsFindEachOther()
    {
        var grp = Reference("Show.S01.1080p.WEB-GRP");
        Assert.Equal(grp, Reference("Show S01 1080p WEB"));
        var movie = Reference("Movie.2024/Movie.2024.mkv");

        // Before: schema 6, the root folder's name in the hash, so the renamed season was no sibling.
        Assert.Equal("6", Sql(_pristine, "PRAGMA user_version"));
        Assert.Equal("2", Sql(_pristine, "SELECT count(DISTINCT p.payload_hash) FROM torrent_instances t JOIN payloads p USING (payload_id) WHERE t.name LIKE 'Show%WEB%'"));
        Assert.Equal(grp.Payload, Torrent("Show S01 1080p WEB").Properties["PayloadHash"].Value); // opening migrates
        // 7, 8 (the content index), 9 (piece checks) and every later step: the module's latest version.
        Assert.Equal(Sql(_db, "SELECT max(version) FROM schema_migrations"), Sql(_db, "PRAGMA user_version"));
        Assert.Equal("1", Sql(_db, "SELECT count(*) FROM schema_migrations WHERE version = 9"));
        Assert.Equal("", Sql(_db, "SELECT group_concat(payload_hash) FROM payloads WHERE payload_hash LIKE 'migrating:%'"));

        foreach (var name in new[] { "Show S01 1080p WEB", "Show.S01.1080p.WEB-GRP" })
        {
            Assert.Equal(grp.Payload, Torrent(name).Properties["PayloadHash"].Value);
            Assert.Equal(grp.Content, Torrent(name).Properties["ContentHash"].Value);
        }
        var siblings = _ps.Run("Get-HashallTorrent -Database $args[0] | Where-Object Name -ceq 'Show S01 1080p WEB' | Get-HashallSibling -Database $args[0] | ForEach-Object Name", _db)
            .Succeeded().Output.Select(o => (string)o.BaseObject).ToList();
        Assert.Equal(["Show.S01.1080p.WEB-GRP", "Show.S01.1080p.WEB-GRP"], siblings);

        // The one-file folder torrent and the single-file torrent of its file: both the file's name, siblings now.
        Assert.Equal(movie.Payload, Torrent("Movie.2024").Properties["PayloadHash"].Value);
        Assert.Equal(movie.Payload, Torrent("Movie.2024.mkv").Properties["PayloadHash"].Value);
        Assert.Equal(["Movie.2024.mkv"], _ps.Run("Get-HashallTorrent -Database $args[0] | Where-Object Name -ceq Movie.2024 | Get-HashallSibling -Database $args[0] | ForEach-Object Name", _db)
            .Succeeded().Output.Select(o => (string)o.BaseObject));
        // Names unchanged by the rule: a single file's hash stands; renamed episodes and another file name are content twins.
        var single = Reference("Movie (2024).mkv");
        Assert.Equal(single.Payload, Torrent("Movie (2024).mkv").Properties["PayloadHash"].Value);
        Assert.Equal(movie.Content, single.Content);
        Assert.Equal(movie.Content, Torrent("Movie (2024).mkv").Properties["ContentHash"].Value);
        var renamed = Reference("Show.S01.Renamed.Eps");
        Assert.Equal(renamed.Payload, Torrent("Show.S01.Renamed.Eps").Properties["PayloadHash"].Value);
        Assert.NotEqual(grp.Payload, renamed.Payload);
        Assert.Equal(grp.Content, Torrent("Show.S01.Renamed.Eps").Properties["ContentHash"].Value);

        // A folder holding a file its torrent lacks: which files were the payload cannot be told from the
        // catalog, so it has no hash until the next sync, and says so.
        var extra = _ps.Run("Get-HashallTorrent -Database $args[0] | Where-Object Name -ceq Extra.S01 | Get-HashallPayload -Database $args[0]", _db).Succeeded().Output.Single();
        Assert.Null(extra.Properties["PayloadHash"].Value);
        Assert.Equal("incomplete", extra.Properties["Status"].Value);
        Assert.Contains("run Sync-HashallPayload", string.Join("\n", ((System.Collections.IEnumerable)extra.Properties["MissingFiles"].Value).Cast<object>()));
        Assert.Equal("incomplete", Torrent("Unscanned.S01").Properties["PayloadStatus"].Value);
        Assert.Equal(9, _ps.Run("Get-HashallTorrent -Database $args[0]", _db).Succeeded().Output.Count);
    }

    [Fact]
    public void RowsThatMeetAtOneRootAndHashAreMergedAndOpenRehomeJobsFollowTheirPayload()
    {
        string extra = Data.TrimStart('/') + "/Extra.S01";
        string grp = Data.TrimStart('/') + "/Show.S01.1080p.WEB-GRP";
        string oldHash = Sql(_db, $"SELECT payload_hash FROM payloads WHERE root_path = '{grp}'");
        // An incomplete row beside Extra.S01's complete one (a second torrent of that root, not fully scanned
        // when synced), and a failed rehome job of the season, as schema 6 recorded them.
        TempTree.Run("/usr/bin/python3", "-c", """
import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
c.execute("INSERT INTO payloads (payload_id, device_id, root_path, payload_hash, status, file_count, total_bytes, missing_files, missing_detail, last_built_at) VALUES (100, 1, ?, NULL, 'incomplete', 2, 35000, 1, 'x: not in the catalog (scan it)', '2026-12-01T00:00:00.0000000Z')", (sys.argv[2],))
c.execute("INSERT INTO torrent_instances (instance, torrent_hash, name, payload_id, save_path, content_path, first_seen, last_seen) VALUES ('http://127.0.0.1:1/', 'feedfeedfeedfeedfeedfeedfeedfeedfeedfeed', 'Extra.S01 (other)', 100, '/tmp/hashall-fixture-v6/data', '/tmp/hashall-fixture-v6/data/Extra.S01', '2026-12-01T00:00:00.0000000Z', '2026-12-01T00:00:00.0000000Z')")
c.execute("INSERT INTO rehome_jobs (payload_hash, direction, decision, source_path, target_path, target_save_path, plan, step, status, started_at, updated_at) VALUES (?, 'Demote', 'Move', '/a', '/b', '/', '{}', 'copy', 'failed', '2026-12-01T00:00:00.0000000Z', '2026-12-01T00:00:00.0000000Z')", (sys.argv[3],))
c.commit()
""", _db, extra, oldHash);

        var season = Reference("Show.S01.1080p.WEB-GRP");
        Assert.Equal(season.Payload, Torrent("Show.S01.1080p.WEB-GRP").Properties["PayloadHash"].Value); // migrates
        // Both torrents of Extra.S01 now share its one row (no hash until the next sync), the other row is gone.
        Assert.Equal("1", Sql(_db, $"SELECT count(*) FROM payloads WHERE root_path = '{extra}'"));
        Assert.Equal("1", Sql(_db, $"SELECT count(DISTINCT payload_id) FROM torrent_instances WHERE name LIKE 'Extra.S01%'"));
        Assert.Equal("2", Sql(_db, $"SELECT count(*) FROM torrent_instances t JOIN payloads p USING (payload_id) WHERE p.root_path = '{extra}' AND p.payload_hash IS NULL"));
        Assert.Equal(season.Payload, Sql(_db, "SELECT payload_hash FROM rehome_jobs"));
    }

    private static string Sql(string db, string query) =>
        TempTree.Run("/usr/bin/python3", "-c", "import sqlite3, sys; v = sqlite3.connect(sys.argv[1]).execute(sys.argv[2]).fetchone()[0]; print('' if v is None else v)", db, query).Trim();
}
