#!/usr/bin/env bash
# Block-clone benchmark: Invoke-HashallScan + New-HashallLinkPlan -Method Clone + Invoke-HashallLinkPlan
# against `duperemove -dr` (default and -b 4096) and `jdupes -r -B` (both FIDEDUPERANGE, as ours), in the same run, each on a
# fresh loop-mounted XFS image (mkfs.xfs -m reflink=1) holding the same tree: 20,000 files (1-64 KiB) in
# nested directories, 30% of them copies of other files, written with write(2) (no reflinks). Each tool
# starts with the data synced to disk and in the page cache. Bytes reclaimed are the filesystem's own
# count: free blocks (statvfs, after syncfs) after the run less before.
# Usage: benchmarks/clone-bench.sh [work-dir]   (as root; needs: mkfs.xfs, duperemove, jdupes, filefrag, python3, dotnet)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
work=${1:-/tmp/hashall-clone-bench}
source "$root/benchmarks/lib/bench.sh"
[ "$(id -u)" = 0 ] || { echo "clone-bench: needs root (loop mounts)" >&2; exit 1; }
for tool in mkfs.xfs duperemove jdupes python3; do
    command -v "$tool" >/dev/null || { echo "clone-bench: $tool is missing (apt-get install xfsprogs duperemove jdupes)" >&2; exit 1; }
done
mounts=()
cleanup() { for m in "${mounts[@]}"; do umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT
rm -rf "$work"; mkdir -p "$work"
dotnet build "$root/Hashall.PowerShell.sln" -c Release -nologo -v q >/dev/null
shell=(dotnet "$root/tools/HostedShell/bin/Release/net10.0/hashall-shell.dll")

# fresh NAME: a new XFS image mounted at $work/NAME with the benchmark's tree (the same bytes every time)
fresh() {
    local mnt="$work/$1"
    mkdir -p "$mnt"
    truncate -s 2G "$work/$1.img"
    mkfs.xfs -q -m reflink=1 "$work/$1.img"
    mount -o loop "$work/$1.img" "$mnt"
    mounts+=("$mnt")
    python3 "$root/benchmarks/lib/make-dup-tree.py" "$mnt/data"
    sync -f "$mnt"
    warm "$mnt"
}

echo "# Hashall block-clone benchmark — $(date -u +%Y-%m-%dT%H:%MZ), $(machine)"
echo "# $(uname -r), $(mkfs.xfs -V | head -1), $(duperemove --version 2>&1 | head -1), $(jdupes -v | head -1 | cut -d' ' -f1-2)"

fresh hashall
mnt="$work/hashall"
dup_bytes=$(python3 - "$mnt/data" <<'PY'
import hashlib, os, sys
seen, dup = set(), 0
for d, _, files in os.walk(sys.argv[1]):
    for f in files:
        p = os.path.join(d, f)
        h = hashlib.sha1(open(p, "rb").read()).hexdigest()
        if h in seen:
            dup += os.path.getsize(p)
        seen.add(h)
print(dup)
PY
)
files=$(find "$mnt/data" -type f | wc -l)
before=$(free_bytes "$mnt")
read -r scan plan clone reclaimed linked < <(hashall_dedup "$mnt/data" "$work/catalog.db" -Method Clone)
ht=$(awk -v a="$scan" -v b="$plan" -v c="$clone" 'BEGIN { printf "%.3f", a + b + c }')
hfreed=$(( $(free_bytes "$mnt") - before ))
umount "$mnt"; rm -f "$work/hashall.img"

# tool NAME CMD...: on a fresh image NAME (mounted at $mnt, the tree at $mnt/data) sets $took (seconds of
# CMD) and $freed (bytes it freed); {} in CMD stands for the tree's path.
tool() {
    local name=$1 before; shift
    fresh "$name"
    mnt="$work/$name"
    before=$(free_bytes "$mnt")
    took=$(timeit "${@//\{\}/$mnt/data}")
    freed=$(( $(free_bytes "$mnt") - before ))
}
tool duperemove duperemove -dr -q --hashfile="$work/duperemove.hash" {}
dt=$took; dfreed=$freed
umount "$mnt"; rm -f "$work/duperemove.img"
# duperemove hashes 128 KiB blocks by default, so files smaller than that (all of these) are never
# deduplicated; -b 4096 (its smallest block size) is what this tree needs.
tool duperemove4k duperemove -dr -q -b 4096 --hashfile="$work/duperemove4k.hash" {}
d4t=$took; d4freed=$freed
umount "$mnt"; rm -f "$work/duperemove4k.img"
tool jdupes jdupes -r -B -q {}
jt=$took; jfreed=$freed
# jdupes -B works on XFS: some duplicate's extents are shared now
shared=$(find "$mnt/data" -type f -print0 | xargs -0 filefrag -v 2>/dev/null | grep -c shared || true)
umount "$mnt"; rm -f "$work/jdupes.img"

echo
echo "$files files, $dup_bytes bytes in duplicates (by SHA-1 of every file)"
echo
echo "| tool (fresh XFS image each) | seconds | bytes reclaimed (statvfs free after - before) | time vs Hashall |"
echo "|---|---|---|---|"
echo "| Invoke-HashallScan + New-HashallLinkPlan -Method Clone + Invoke-HashallLinkPlan | $ht (scan $scan, plan $plan, clone $clone) | $hfreed (its own FIEMAP count: $reclaimed; $linked paths) | 1.00 |"
echo "| duperemove -dr (--hashfile; default 128 KiB blocks) | $dt | $dfreed | $(ratio "$dt" "$ht") |"
echo "| duperemove -dr -b 4096 (--hashfile) | $d4t | $d4freed | $(ratio "$d4t" "$ht") |"
echo "| jdupes -r -B | $jt | $jfreed ($shared shared extents seen after) | $(ratio "$jt" "$ht") |"
