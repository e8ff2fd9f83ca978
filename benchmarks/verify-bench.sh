#!/usr/bin/env bash
# Piece verification benchmark: Test-HashallTorrent against qBittorrent's own recheck of the same
# torrent (force recheck, polled until done) and against `openssl dgst -sha1` of the files (one
# process, and two in parallel: two cores of SHA-1), all in one run on warm page cache.
# The data: 4 files of MIB MiB (default 512) in one folder, as a v1 torrent (mktorrent, 4 MiB pieces)
# and as a hybrid v1+v2 torrent (libtorrent's Python binding, 4 MiB pieces).
# Usage: benchmarks/verify-bench.sh [-n RUNS] [MiB per file] [work-dir]
# Needs: qbittorrent-nox, mktorrent, python3-libtorrent (/usr/bin/python3), openssl, curl, pwsh.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
runs=3
if [ "${1:-}" = "-n" ]; then runs=$2; shift 2; fi
mib=${1:-512}
work=${2:-/tmp/hashall-verify-bench}
source "$root/benchmarks/lib/bench.sh"
source "$root/benchmarks/lib/qbittorrent.sh"

rm -rf "$work"; mkdir -p "$work/data/Payload.2160p" "$work/torrents"
dotnet build "$root/Hashall.PowerShell.sln" -c Release -nologo -v q >/dev/null
data="$work/data/Payload.2160p"
for i in 1 2 3 4; do head -c $((mib << 20)) /dev/urandom > "$data/part$i.mkv"; done
mktorrent -p -l 22 -a http://127.0.0.1:1/announce -o "$work/torrents/v1.torrent" "$data" >/dev/null
/usr/bin/python3 - "$data" "$work/torrents/hybrid.torrent" <<'PY'
import libtorrent as lt, os, sys
content, out = sys.argv[1], sys.argv[2]
fs = lt.file_storage(); lt.add_files(fs, content)
t = lt.create_torrent(fs, 4 << 20)
t.add_tracker("http://127.0.0.1:1/announce", 0)
lt.set_piece_hashes(t, os.path.dirname(content))
open(out, "wb").write(lt.bencode(t.generate()))
PY
warm "$data"
bytes=$((4 * mib << 20))

echo "# Hashall piece verification benchmark — $(date -u +%Y-%m-%dT%H:%MZ), $(machine), 4 x $mib MiB, $(df --output=fstype "$work" | tail -1), qBittorrent $(qbittorrent-nox --version | awk '{print $2}'), $(openssl version | cut -d' ' -f1-2), median of $runs"

# openssl: one process over the four files, and two processes of two files each (two cores)
o1=(); o2=(); s256=()
for ((r = 0; r < runs; r++)); do
    o1+=("$(timeit openssl dgst -sha1 "$data"/part1.mkv "$data"/part2.mkv "$data"/part3.mkv "$data"/part4.mkv)")
    o2+=("$(timeit sh -c "openssl dgst -sha1 '$data/part1.mkv' '$data/part2.mkv' >/dev/null & openssl dgst -sha1 '$data/part3.mkv' '$data/part4.mkv' >/dev/null; wait")")
    s256+=("$(timeit sh -c "openssl dgst -sha256 '$data/part1.mkv' '$data/part2.mkv' >/dev/null & openssl dgst -sha256 '$data/part3.mkv' '$data/part4.mkv' >/dev/null; wait")")
done
openssl1=$(median "${o1[@]}"); openssl2=$(median "${o2[@]}"); sha256two=$(median "${s256[@]}")

# Hashall: in one pwsh session (warm, -Force so every run reads), and a fresh pwsh per run (import included)
hashall() { # kind -> "<in-session median> <fresh median>"
    local torrent=$1 out fresh=()
    out=$(pwsh -NoProfile -NonInteractive -Command "Import-Module '$root/out/Hashall/Hashall.psd1'
\$db = '$work/catalog.db'
Test-HashallTorrent '$torrent' -Path '$data' -Force -Database \$db | Out-Null
\$t = foreach (\$i in 1..$runs) { \$r = \$null; (Measure-Command { \$r = Test-HashallTorrent '$torrent' -Path '$data' -Force -Database \$db }).TotalSeconds
  if (\$r.Status -ne 'Complete' -or \$r.BytesRead -ne $bytes) { throw \"unexpected: \$(\$r.Status) \$(\$r.BytesRead)\" } }
(\$t | Sort-Object)[[int][math]::Floor(\$t.Count / 2)]")
    for ((r = 0; r < runs; r++)); do
        fresh+=("$(timeit pwsh -NoProfile -NonInteractive -Command "Import-Module '$root/out/Hashall/Hashall.psd1'; Test-HashallTorrent '$torrent' -Path '$data' -Force -Database '$work/catalog.db' | Out-Null")")
    done
    printf '%.3f %s\n' "$out" "$(median "${fresh[@]}")"
}

# qBittorrent: the torrent added over the data (its first check), then force rechecks timed until progress is 1
start_qbittorrent "$work"
recheck() { # torrent file -> median seconds of a forced recheck
    local torrent=$1 hash times=() s e
    curl -sf -F "torrents=@$torrent" -F "savepath=$work/data" -F "category=bench" -F "stopped=true" -F "paused=true" "$url/api/v2/torrents/add" >/dev/null
    sleep 1
    hash=$(curl -sf "$url/api/v2/torrents/info?category=bench" | python3 -c 'import json,sys; print(json.load(sys.stdin)[-1]["hash"])')
    for ((r = 0; r < runs; r++)); do
        s=$(now)
        curl -sf -X POST -d "hashes=$hash" "$url/api/v2/torrents/recheck" >/dev/null
        # first until the recheck has begun (a finished torrent still shows progress 1 for a moment), then until it is done
        for ((w = 0; w < 100; w++)); do
            curl -sf "$url/api/v2/torrents/info?hashes=$hash" | python3 -c 'import json,sys; t=json.load(sys.stdin)[0]; sys.exit(0 if t["state"].startswith("checking") or t["progress"] < 1 else 1)' && break
            sleep 0.02
        done
        until curl -sf "$url/api/v2/torrents/info?hashes=$hash" | python3 -c 'import json,sys; t=json.load(sys.stdin)[0]; sys.exit(0 if not t["state"].startswith("checking") and t["state"] != "queuedDL" and t["progress"] == 1 else 1)'; do sleep 0.05; done
        e=$(now)
        times+=("$(awk -v s="$s" -v e="$e" 'BEGIN { printf "%.3f", e - s }')")
    done
    curl -sf -X POST -d "hashes=$hash" -d "deleteFiles=false" "$url/api/v2/torrents/delete" >/dev/null
    median "${times[@]}"
}

echo
echo "| measure | seconds | MiB/s | vs |"
echo "|---|---|---|---|"
mibs() { awk -v b="$bytes" -v t="$1" 'BEGIN { printf "%.0f", b / 1048576 / t }'; }
echo "| openssl dgst -sha1, one process | $openssl1 | $(mibs "$openssl1") | |"
echo "| openssl dgst -sha1, two processes (two cores) | $openssl2 | $(mibs "$openssl2") | |"
echo "| openssl dgst -sha256, two processes | $sha256two | $(mibs "$sha256two") | |"
for kind in v1 hybrid; do
    read -r session fresh < <(hashall "$work/torrents/$kind.torrent")
    qbt=$(recheck "$work/torrents/$kind.torrent")
    echo "| $kind: qBittorrent force recheck | $qbt | $(mibs "$qbt") | |"
    echo "| $kind: Test-HashallTorrent, in session | $session | $(mibs "$session") | $(ratio "$qbt" "$session")x faster than the recheck; $(awk -v a="$openssl2" -v b="$session" 'BEGIN { printf "%.0f", 100 * a / b }')% of two cores of SHA-1 |"
    echo "| $kind: Test-HashallTorrent, fresh pwsh + import | $fresh | $(mibs "$fresh") | $(ratio "$qbt" "$fresh")x faster than the recheck |"
done
