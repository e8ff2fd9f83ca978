#!/usr/bin/env bash
# Undo benchmark: Undo-HashallLinkPlan (copy back, restore owner/mode/mtime, flush the copies (one syncfs per batch), rename
# over the link, flush each folder, record each path) against `cp -r --preserve=all` of the same linked
# paths to a new tree, followed by `sync` (the copies on disk, as undo's are), in the same run, on warm
# page cache. Throughput = bytes copied back / seconds.
# The data: 2,000 files of 4-128 KiB plus two of 64 MiB (larger than any copy chunk), each with a
# duplicate in another folder, linked by New-HashallLinkPlan | Invoke-HashallLinkPlan.
# Usage: benchmarks/undo-bench.sh [work-dir]   (needs: dotnet, python3, GNU cp)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
work=${1:-/tmp/hashall-undo-bench}
source "$root/benchmarks/lib/bench.sh"
rm -rf "$work"; mkdir -p "$work/tree"
dotnet build "$root/Hashall.PowerShell.sln" -c Release -nologo -v q >/dev/null
shell=(dotnet "$root/tools/HostedShell/bin/Release/net10.0/hashall-shell.dll")

echo "# Hashall undo benchmark — $(date -u +%Y-%m-%dT%H:%MZ), $(machine)"
echo "# work dir: $work ($(findmnt -no FSTYPE -T "$work"))"
python3 - "$work/tree" <<'PY'
import os, random, sys
top = sys.argv[1]
rnd = random.Random(16)
def write(rel, data):
    for side in ("library", "torrents"):
        p = os.path.join(top, side, rel)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "wb") as f:
            f.write(data)
for n in range(2000):
    write(f"d{n % 50}/f{n}.dat", os.urandom(rnd.randint(4096, 128 * 1024)))
for n in range(2):
    write(f"big/b{n}.mkv", os.urandom(64 << 20))
PY
touch -d '2024-01-01' $(find "$work/tree/library" -type f) # the library's copies are the oldest: kept
chmod -R g-r "$work/tree/torrents"                           # each torrent copy its own mode back on undo

"${shell[@]}" -Command "Import-Module '$root/out/Hashall/Hashall.psd1'
\$db = '$work/catalog.db'
Invoke-HashallScan -Path '$work/tree' -Database \$db -ErrorAction Stop | Out-Null
New-HashallLinkPlan -Path '$work/tree' -Database \$db -KeepPath '$work/tree/library/*' | Invoke-HashallLinkPlan -Force -Confirm:\$false -Database \$db | Out-Null" >/dev/null
paths=$(find "$work/tree/torrents" -type f -links +1 | wc -l)
bytes=$(find "$work/tree/torrents" -type f -links +1 -printf '%s\n' | awk '{ s += $1 } END { print s }')
warm "$work/tree"

sync
cpt=$(timeit sh -c "cp -r --preserve=all '$work/tree/torrents' '$work/cp-out' && sync")
rm -rf "$work/cp-out"; sync

read -r undo undone copied < <("${shell[@]}" -Command "Import-Module '$root/out/Hashall/Hashall.psd1'
\$sw = [Diagnostics.Stopwatch]::StartNew()
\$r = Undo-HashallLinkPlan -Id 1 -Database '$work/catalog.db' -Confirm:\$false
'{0:F3} {1} {2}' -f \$sw.Elapsed.TotalSeconds, \$r.Undone, \$r.BytesCopied")
left=$(find "$work/tree/torrents" -type f -links +1 | wc -l)

mbps() { awk -v b="$1" -v t="$2" 'BEGIN { if (t + 0 == 0) print "-"; else printf "%.1f", b / 1048576 / t }'; }
echo
echo "| tool | seconds | paths | MiB/s |"
echo "|---|---|---|---|"
echo "| Undo-HashallLinkPlan (copies flushed before each rename, owner/mode/mtime restored, folders flushed, outcomes recorded) | $undo | $undone | $(mbps "$copied" "$undo") |"
echo "| cp -r --preserve=all + sync | $cpt | $paths | $(mbps "$bytes" "$cpt") |"
echo
echo "$paths linked paths, $bytes bytes; undo takes $(ratio "$undo" "$cpt")x the time of cp --preserve=all + sync; bytes copied equal: $([ "$copied" = "$bytes" ] && echo yes || echo NO); paths still linked after undo: $left"
