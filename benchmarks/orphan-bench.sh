#!/usr/bin/env bash
# Get-HashallOrphan benchmark: orphans under a seeding root of ~100,000 files (100 torrents of 900 files
# in a real qBittorrent, and 10,000 orphans beside and inside them), against the naive script a user
# would write: `find` every file under the root and compare the list with the torrents' file lists
# (sort + comm), the torrents' file lists already fetched (the naive script's qBittorrent cost is not
# counted; Hashall's sync is reported apart). Same run, warm page cache.
# The naive script cannot see hard links (a torrent's file under another name is listed as an orphan);
# both must find exactly the 10,000 orphans planted here, which have no other links.
# Usage: benchmarks/orphan-bench.sh [-n RUNS] [work-dir]
# Needs: qbittorrent-nox, mktorrent, pwsh, python3, curl, GNU time.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
runs=3
if [ "${1:-}" = "-n" ]; then runs=$2; shift 2; fi
work=${1:-/tmp/hashall-orphan-bench}
source "$root/benchmarks/lib/bench.sh"

dotnet build "$root/Hashall.PowerShell.sln" -c Release -nologo -v q >/dev/null
rm -rf "$work"; mkdir -p "$work/seeding" "$work/torrents"
db="$work/catalog.db"
# The torrents' data first (the torrents are made of it), then the orphans beside and inside it.
python3 - "$work" torrents <<'PY'
import os, random, sys
work = sys.argv[1]
rng = random.Random(15)
seeding = os.path.join(work, "seeding")
for t in range(100):
    for f in range(900):
        d = os.path.join(seeding, f"Release.{t:03d}", f"CD{f // 100}")
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, f"track{f:03d}.flac"), "wb") as out:
            out.write(rng.randbytes(rng.randint(1, 64)))
PY
ls "$work/seeding" | xargs -P"$(nproc)" -I{} mktorrent -p -l 15 -a http://127.0.0.1:1/announce -o "$work/torrents/{}.torrent" "$work/seeding/{}" >/dev/null
python3 - "$work" <<'PY'
import os, random, sys
work = sys.argv[1]
rng = random.Random(16)
seeding = os.path.join(work, "seeding")
for o in range(10000):
    # half inside torrent folders (extra files), half in leftover folders
    d = os.path.join(seeding, f"Release.{o % 100:03d}", "extras") if o % 2 else os.path.join(seeding, f"leftover.{o % 500:03d}")
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, f"orphan{o:05d}.nfo"), "wb") as out:
        out.write(rng.randbytes(rng.randint(1, 64)))
PY

source "$root/benchmarks/lib/qbittorrent.sh"
start_qbittorrent "$work/qbt"
for t in "$work"/torrents/*.torrent; do curl -s -F "torrents=@$t" -F "savepath=$work/seeding" "$url/api/v2/torrents/add" >/dev/null; done
until [ "$(curl -s "$url/api/v2/torrents/info?filter=completed" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')" = 100 ]; do sleep 1; done

files=$(find "$work/seeding" -type f | wc -l)
hs() { pwsh -NoProfile -NonInteractive -Command "Import-Module '$root/out/Hashall/Hashall.psd1'; \$env:QBITTORRENT_URL = '$url'; $1"; }
scan_s=$(timeit hs "Invoke-HashallScan '$work/seeding' -Database '$db' | Out-Null")
sync_s=$(timeit hs "Sync-HashallPayload -Database '$db' | Out-Null")
hs "Add-HashallSeedingRoot '$work/seeding' -Database '$db' | Out-Null"

# The naive script's input: every torrent's files, as full paths (fetched once, not timed).
curl -s "$url/api/v2/torrents/info" | python3 -c 'import json,sys; [print(t["hash"], t["save_path"]) for t in json.load(sys.stdin)]' | while read -r h save; do
    curl -s "$url/api/v2/torrents/files?hash=$h" | python3 -c 'import json,sys; save=sys.argv[1]; [print(save.rstrip("/") + "/" + f["name"]) for f in json.load(sys.stdin)]' "$save"
done > "$work/torrent-files.txt"

echo "# Hashall Get-HashallOrphan benchmark — $(date -u +%Y-%m-%dT%H:%MZ), $(machine), $files files under the root, 100 torrents x 900 files, $(df --output=fstype "$work" | tail -1), median of $runs"
hashall_t=(); hashall_c=(); naive_t=(); naive_c=()
for ((r = 0; r < runs; r++)); do
    warm "$work/seeding"
    read -r wall cpu rss < <(cputime pwsh -NoProfile -NonInteractive -Command "Import-Module '$root/out/Hashall/Hashall.psd1'; @(Get-HashallOrphan -Database '$db').Count | Set-Content '$work/hashall.count'")
    hashall_t+=("$wall"); hashall_c+=("$cpu")
    read -r wall cpu rss < <(cputime sh -c "find '$work/seeding' -type f | LC_ALL=C sort > '$work/disk.txt'; LC_ALL=C sort '$work/torrent-files.txt' > '$work/ref.txt'; LC_ALL=C comm -23 '$work/disk.txt' '$work/ref.txt' | wc -l > '$work/naive.count'")
    naive_t+=("$wall"); naive_c+=("$cpu")
done
h_wall=$(median "${hashall_t[@]}"); h_cpu=$(median "${hashall_c[@]}"); n_wall=$(median "${naive_t[@]}"); n_cpu=$(median "${naive_c[@]}")
echo
echo "| measure | wall s | CPU s | orphans found |"
echo "|---|---|---|---|"
echo "| Get-HashallOrphan (fresh pwsh + import; catalog after scan and sync) | $h_wall | $h_cpu | $(cat "$work/hashall.count") |"
echo "| find + sort + comm against the torrents' file lists | $n_wall | $n_cpu | $(cat "$work/naive.count") |"
echo "| (once) Invoke-HashallScan of the root, first scan | $scan_s | | |"
echo "| (once) Sync-HashallPayload, 100 torrents / 90,000 files | $sync_s | | |"
echo
echo "Get-HashallOrphan takes $(ratio "$h_wall" "$n_wall")x the naive script's time (which sees no hard links, unselected files or empty folders, and re-walks the tree)."
