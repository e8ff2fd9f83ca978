#!/usr/bin/env bash
# Catalog migration 7 benchmark: a schema-6 catalog with N torrents' payload rows (default 10000), each a
# root folder of 4 catalogued files with its schema-6 hash, opened by the current module, which recomputes
# every payload hash root-relative (and its content hash) from the rows. The data does not exist on disk:
# the migration can read no file. Usage: benchmarks/migration-bench.sh [count] [work-dir]
# Needs: python3. Starts from tests/Fixtures/catalog-v6.db (a real schema-6 catalog) with its rows replaced.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
count=${1:-10000}
work=${2:-/tmp/hashall-migration-bench}
rm -rf "$work"; mkdir -p "$work"
dotnet build "$root/Hashall.PowerShell.sln" -c Release -nologo -v q >/dev/null
shell=(dotnet "$root/tools/HostedShell/bin/Release/net10.0/hashall-shell.dll")

echo "# Hashall catalog migration benchmark — $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, $count torrents"
python3 - "$root/tests/Fixtures/catalog-v6.db" "$work/v6.db" "$count" <<'PY'
import hashlib, random, shutil, sqlite3, sys
src, dst, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
shutil.copy(src, dst)
c = sqlite3.connect(dst)
assert c.execute("PRAGMA user_version").fetchone()[0] == 6
c.executescript("DELETE FROM torrent_instances; DELETE FROM payloads; DELETE FROM files; DELETE FROM scans;")
now = "2026-12-01T00:00:00.0000000Z"
def phash(rows):
    return hashlib.sha256("".join(f"{p}|{s}|{h}\n" for p, s, h in sorted(rows)).encode()).hexdigest()
rnd = random.Random(1)
files, payloads, torrents = [], [], []
for n in range(count):
    rootname = f"Release.{n:05d}"
    root = f"srv/torrents/{rootname}"
    rows = []
    for name in ("video.mkv", "Subs/en.srt", "Subs/fr.srt", "info.nfo"):
        size, sha1 = rnd.randrange(1, 1 << 40), "%040x" % rnd.getrandbits(160)
        files.append((1, f"{root}/{name}", size, 0, 1000 + len(files), 1, sha1, now, now))
        rows.append((f"{rootname}/{name}", size, sha1))   # schema 6: the root folder's name in every path
    payloads.append((n + 1, 1, root, phash(rows), "complete", 4, sum(r[1] for r in rows), now))
    h = "%040x" % rnd.getrandbits(160)
    torrents.append(("http://127.0.0.1:8080/", h, h, None, rootname, n + 1, "/srv/torrents", f"/srv/torrents/{rootname}", "bench", "", "stoppedUP", now, now))
c.executemany("INSERT INTO files (device_id, path, size, mtime_ns, inode, link_count, sha1, first_seen, last_seen) VALUES (?,?,?,?,?,?,?,?,?)", files)
c.executemany("INSERT INTO payloads (payload_id, device_id, root_path, payload_hash, status, file_count, total_bytes, last_built_at) VALUES (?,?,?,?,?,?,?,?)", payloads)
c.executemany("INSERT INTO torrent_instances (instance, torrent_hash, infohash_v1, infohash_v2, name, payload_id, save_path, content_path, category, tags, state, first_seen, last_seen) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)", torrents)
c.commit()
c.execute("VACUUM")
print(f"schema-6 catalog: {count} torrents, {count} payload rows, {len(files)} file rows")
PY
cp "$work/v6.db" "$work/catalog.db"

"${shell[@]}" -Command "Import-Module '$root/out/Hashall/Hashall.psd1'
\$db = '$work/catalog.db'
\$sw = [Diagnostics.Stopwatch]::StartNew()
\$null = Get-HashallDevice -Database \$db
\$migrate = \$sw.Elapsed.TotalSeconds
\$sw.Restart()
\$null = Get-HashallDevice -Database \$db
\$open = \$sw.Elapsed.TotalSeconds
'first open (migration 7 included): {0:F3} s; open of the migrated catalog: {1:F3} s; migration: {2:F3} s' -f \$migrate, \$open, (\$migrate - \$open)
\$sw.Restart()
\$p = @(Get-HashallPayload -Database \$db)
'Get-HashallPayload of {0} payloads: {1:F3} s; complete: {2}; with content hash: {3}' -f \$p.Count, \$sw.Elapsed.TotalSeconds, @(\$p | Where-Object Status -eq complete).Count, @(\$p | Where-Object ContentHash).Count"
python3 - "$work/v6.db" "$work/catalog.db" <<'PY'
import hashlib, sqlite3, sys
old, new = sqlite3.connect(sys.argv[1]), sqlite3.connect(sys.argv[2])
bad = 0
for root, h in new.execute("SELECT root_path, payload_hash FROM payloads"):
    rows = [(p[len(root) + 1:], s, x) for p, s, x in old.execute("SELECT path, size, sha1 FROM files WHERE path LIKE ? || '/%'", (root,))]
    bad += hashlib.sha256("".join(f"{p}|{s}|{x}\n" for p, s, x in sorted(rows)).encode()).hexdigest() != h
print(f"payload hashes equal to the root-relative reference: {new.execute('SELECT count(*) FROM payloads').fetchone()[0] - bad}, different: {bad}")
PY
