#!/usr/bin/env bash
# Link benchmark: scan + New-HashallLinkPlan + Invoke-HashallLinkPlan against `jdupes -r -L` on an
# identical copy of the same tree, in the same run, each on data synced to disk first; compares time
# and bytes reclaimed.
# Usage: benchmarks/link-bench.sh [work-dir]   (needs: jdupes, python3, find)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
work=${1:-/tmp/hashall-link-bench}
rm -rf "$work"; mkdir -p "$work"
dotnet build "$root/Hashall.PowerShell.sln" -c Release -nologo -v q >/dev/null
shell=(dotnet "$root/tools/HostedShell/bin/Release/net10.0/hashall-shell.dll")
source "$root/benchmarks/lib/bench.sh"
# logical bytes held by distinct inodes (what hard links can free)
held() { find "$1" -type f -printf '%i %s\n' | sort -u | awk '{ s += $2 } END { print s }'; }

echo "# Hashall link benchmark — $(date -u +%Y-%m-%dT%H:%MZ), $(machine)"
echo "# work dir: $work ($(findmnt -no FSTYPE -T "$work"))"
# 20,000 files (1-64 KiB) in nested directories, 30% of them copies of other files.
python3 "$root/benchmarks/lib/make-dup-tree.py" "$work/hashall"
cp -a "$work/hashall" "$work/jdupes"
warm "$work"
files=$(find "$work/hashall" -type f | wc -l)
before_h=$(held "$work/hashall"); before_j=$(held "$work/jdupes")

# Synced to disk before each run, as a user's data would be: otherwise the copies are still dirty pages
# and replacing them costs neither tool what it costs on a real disk. (The page cache stays warm.)
sync
jt=$(timeit jdupes -r -L -q "$work/jdupes")

sync
read -r scan plan link reclaimed linked < <(hashall_dedup "$work/hashall" "$work/catalog.db")
ht=$(awk -v a="$scan" -v b="$plan" -v c="$link" 'BEGIN { printf "%.3f", a + b + c }')
after_h=$(held "$work/hashall"); after_j=$(held "$work/jdupes")

echo
echo "| tool | seconds | paths linked | bytes reclaimed (distinct-inode bytes before - after) |"
echo "|---|---|---|---|"
echo "| Invoke-HashallScan + New-HashallLinkPlan + Invoke-HashallLinkPlan (byte-verified) | $ht (scan $scan, plan $plan, link $link) | $linked | $((before_h - after_h)) (its own count: $reclaimed) |"
echo "| jdupes -r -L | $jt | | $((before_j - after_j)) |"
echo
echo "$files files; Hashall takes $(ratio "$ht" "$jt")x the time of jdupes; reclaimed bytes equal: $([ $((before_h - after_h)) -eq $((before_j - after_j)) ] && echo yes || echo NO)"
# a rescan after linking reads nothing: the catalog followed every link
"${shell[@]}" -Command "Import-Module '$root/out/Hashall/Hashall.psd1'; \$r = Invoke-HashallScan -Path '$work/hashall' -Database '$work/catalog.db'; 'rescan after linking: {0} read, {1} unchanged' -f \$r.Hashed, \$r.Unchanged"
