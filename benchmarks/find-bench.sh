#!/usr/bin/env bash
# Find-HashallTorrentData benchmark: the data of 1,000 torrents found in a catalog of 10,000 files, half
# of them under other names, proven against the torrents' pieces, against the naive proof: `sha1sum` of
# every catalogued file whose size matches a torrent file, in full (what a size match plus a full hash
# comparison costs), in the same run on warm page cache.
# The data: 1,000 release folders of 10 files each (sizes 2 KiB-192 KiB, one file in five of a size
# shared by many others with other bytes), a .torrent per folder by mktorrent (32 KiB pieces); the
# catalog holds a copy (hard links: no extra disk) in which half of the files are renamed and every
# folder has another name. Only the copy is scanned.
# Usage: benchmarks/find-bench.sh [-n RUNS] [-k] [work-dir]   (-k: keep the data and catalog of a previous run in work-dir)
# Needs: mktorrent, pwsh, python3, sha1sum, GNU time.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
runs=3
keep=0
if [ "${1:-}" = "-n" ]; then runs=$2; shift 2; fi
if [ "${1:-}" = "-k" ]; then keep=1; shift; fi
work=${1:-/tmp/hashall-find-bench}
source "$root/benchmarks/lib/bench.sh"

dotnet build "$root/Hashall.PowerShell.sln" -c Release -nologo -v q >/dev/null
db="$work/catalog.db"
if [ "$keep" = 0 ] || [ ! -f "$work/naive.stats" ]; then
rm -rf "$work"; mkdir -p "$work/releases" "$work/catalogued" "$work/torrents"
python3 - "$work" <<'PY'
import os, random, sys
work = sys.argv[1]
rng = random.Random(14)
common = [rng.randint(2048, 196608) for _ in range(40)]  # sizes many files share, with other bytes
for d in range(1000):
    rel = os.path.join(work, "releases", f"Release.{d:04d}")
    cat = os.path.join(work, "catalogued", f"library {d:04d} (copy)")
    os.makedirs(rel); os.makedirs(cat)
    for f in range(10):
        size = rng.choice(common) if rng.random() < 0.2 else rng.randint(2048, 196608)
        name = f"part{f:02d}.bin"
        src = os.path.join(rel, name)
        with open(src, "wb") as out:
            out.write(rng.randbytes(size))
        # half of the catalogued files under another name
        os.link(src, os.path.join(cat, name if (d * 10 + f) % 2 == 0 else f"renamed {d:04d}-{f:02d}.dat"))
PY
ls "$work/releases" | xargs -P"$(nproc)" -I{} mktorrent -p -l 15 -a http://127.0.0.1:1/announce -o "$work/torrents/{}.torrent" "$work/releases/{}" >/dev/null
pwsh -NoProfile -NonInteractive -Command "Import-Module '$root/out/Hashall/Hashall.psd1'; Invoke-HashallScan '$work/catalogued' -Database '$db' | Out-Null"
sleep 2 # past the racily-clean window of the files just written
pwsh -NoProfile -NonInteractive -Command "Import-Module '$root/out/Hashall/Hashall.psd1'; Invoke-HashallScan '$work/catalogued' -Database '$db' | Out-Null"

# The naive proof's reading list: for every file of every torrent, every catalogued file of its size, read in full.
pwsh -NoProfile -NonInteractive -Command "Import-Module '$root/out/Hashall/Hashall.psd1'; Get-HashallFile -Database '$db' | ForEach-Object { '' + \$_.Size + \"\`t\" + \$_.FullName }" > "$work/catalog.tsv"
python3 - "$work" <<'PY'
import os, sys
work = sys.argv[1]
def bdecode(b, i=0):
    c = b[i:i+1]
    if c == b"i":
        e = b.index(b"e", i); return int(b[i+1:e]), e + 1
    if c == b"l":
        i += 1; out = []
        while b[i:i+1] != b"e":
            v, i = bdecode(b, i); out.append(v)
        return out, i + 1
    if c == b"d":
        i += 1; out = {}
        while b[i:i+1] != b"e":
            k, i = bdecode(b, i); v, i = bdecode(b, i); out[k] = v
        return out, i + 1
    colon = b.index(b":", i); n = int(b[i:colon]); return b[colon+1:colon+1+n], colon + 1 + n
by_size = {}
for line in open(os.path.join(work, "catalog.tsv"), encoding="utf-8"):
    size, path = line.rstrip("\n").split("\t", 1)
    by_size.setdefault(int(size), []).append(path)
reads = 0; total = 0
with open(os.path.join(work, "naive.list"), "wb") as out:
    for t in sorted(os.listdir(os.path.join(work, "torrents"))):
        info = bdecode(open(os.path.join(work, "torrents", t), "rb").read())[0][b"info"]
        for f in info[b"files"]:
            for p in by_size.get(f[b"length"], []):
                out.write(p.encode() + b"\0"); reads += 1; total += f[b"length"]
print(reads, total, file=open(os.path.join(work, "naive.stats"), "w"))
PY
fi
read -r naive_files naive_bytes < "$work/naive.stats"
data_bytes=$(du -sb --apparent-size "$work/catalogued" | cut -f1)

echo "# Hashall Find-HashallTorrentData benchmark — $(date -u +%Y-%m-%dT%H:%MZ), $(machine), 1,000 torrents x 10 files, $((data_bytes >> 20)) MiB catalogued, $(df --output=fstype "$work" | tail -1), median of $runs"

# Hashall: one pwsh session per run over the folder of 1,000 .torrent files (import included), with the
# default -MaxCandidates (8) and with 64; the figures of its results: Complete, Partial, files matched, bytes read.
finder() { # max-candidates -> "<wall median> <cpu median> <complete> <partial> <files matched> <bytes read>"
    local times=() cpus=() wall cpu rss
    for ((r = 0; r < runs; r++)); do
        warm "$work/catalogued"
        read -r wall cpu rss < <(cputime pwsh -NoProfile -NonInteractive -Command "Import-Module '$root/out/Hashall/Hashall.psd1'
\$m = Find-HashallTorrentData '$work/torrents' -Database '$db' -MaxCandidates $1
\$c = @(\$m | Where-Object Status -eq Complete).Count
\$p = @(\$m | Where-Object Status -eq Partial).Count
\$f = @(\$m.Files | Where-Object MatchedPath).Count
\$read = (\$m | Measure-Object BytesRead -Sum).Sum
\"\$c \$p \$f \$read\" | Set-Content '$work/find.stats'")
        times+=("$wall"); cpus+=("$cpu")
    done
    echo "$(median "${times[@]}") $(median "${cpus[@]}") $(cat "$work/find.stats")"
}
read -r f8_wall f8_cpu f8_complete f8_partial f8_files f8_read < <(finder 8)
read -r f64_wall f64_cpu f64_complete f64_partial f64_files f64_read < <(finder 64)

# Naive: sha1sum of every size-matching candidate in full, on two cores (two processes).
naive_times=(); naive_cpu=()
for ((r = 0; r < runs; r++)); do
    warm "$work/catalogued"
    read -r wall cpu rss < <(cputime sh -c "xargs -0 -P2 -n 500 sha1sum < '$work/naive.list' >/dev/null")
    naive_times+=("$wall"); naive_cpu+=("$cpu")
done
naive_wall=$(median "${naive_times[@]}"); naive_cpu=$(median "${naive_cpu[@]}")

per() { awk -v a="$1" -v b="$2" 'BEGIN { if (b + 0 == 0) print "-"; else printf "%.0f", a / b }'; }
echo
echo "Catalogued: 10,000 files, half renamed; 10,000 torrent files in 1,000 torrents. The naive proof reads $naive_files candidate files."
echo
echo "| measure | wall s | CPU s | torrents/s | Complete | Partial | files matched | bytes read | bytes read per torrent |"
echo "|---|---|---|---|---|---|---|---|---|"
echo "| Find-HashallTorrentData (fresh pwsh + import) | $f8_wall | $f8_cpu | $(per 1000 "$f8_wall") | $f8_complete | $f8_partial | $f8_files | $f8_read | $(per "$f8_read" 1000) |"
echo "| Find-HashallTorrentData -MaxCandidates 64 | $f64_wall | $f64_cpu | $(per 1000 "$f64_wall") | $f64_complete | $f64_partial | $f64_files | $f64_read | $(per "$f64_read" 1000) |"
echo "| sha1sum of every size-matching candidate in full, 2 processes | $naive_wall | $naive_cpu | $(per 1000 "$naive_wall") | | | | $naive_bytes | $(per "$naive_bytes" 1000) |"
echo
echo "Find (default) reads $(awk -v a="$naive_bytes" -v b="$f8_read" 'BEGIN { if (b + 0 == 0) print "-"; else printf "%.1f", a / b }')x fewer bytes than the naive proof and takes $(ratio "$f8_wall" "$naive_wall")x its time; matches per second: $(per "$f8_complete" "$f8_wall") Complete torrents, $(per "$f8_files" "$f8_wall") files; bytes read per matched file: $(per "$f8_read" "$f8_files")."
