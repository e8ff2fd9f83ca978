#!/usr/bin/env bash
# Scan benchmark: Invoke-HashallScan against what a user would otherwise run, in the same run, as ratios.
# Usage: benchmarks/scan-bench.sh [work-dir]   (needs: openssl, sha1sum, find, xargs, hashdeep, rhash, python3)
# Builds Release, creates the trees in work-dir (default /tmp/hashall-bench, ~4 GB), warms the page
# cache, then times each tool. Hashall times are the cmdlet's own, measured inside one PowerShell
# session (what a pwsh user waits for); process start and module import are reported separately.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
work=${1:-/tmp/hashall-bench}
mkdir -p "$work"
dotnet build "$root/Hashall.PowerShell.sln" -c Release -nologo -v q >/dev/null
shell=(dotnet "$root/tools/HostedShell/bin/Release/net10.0/hashall-shell.dll")

now() { date +%s.%N; }
# re-read a tree so the page cache holds it before each timed run (every tool starts warm)
warm() { find "$1" -type f -print0 | xargs -0 cat >/dev/null; }
# seconds a command takes (its output discarded)
timeit() { local s e; s=$(now); "$@" >/dev/null 2>&1; e=$(now); awk -v s="$s" -v e="$e" 'BEGIN { printf "%.3f", e - s }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
# hashall_scan DB ROOT [args...]: "<seconds> <files hashed> <unchanged> <peak RSS kB>" of one Invoke-HashallScan
hashall_scan() {
    local db=$1 dir=$2; shift 2
    "${shell[@]}" -Command "Import-Module '$root/out/Hashall/Hashall.psd1'
\$sw = [Diagnostics.Stopwatch]::StartNew()
\$r = Invoke-HashallScan -Path '$dir' -Database '$db' $* -ErrorAction Stop
\$sw.Stop()
\$hwm = ([IO.File]::ReadAllLines('/proc/self/status') | Where-Object { \$_ -like 'VmHWM*' }) -replace '[^0-9]', ''
'{0:F3} {1} {2} {3}' -f \$sw.Elapsed.TotalSeconds, \$r.Hashed, \$r.Unchanged, \$hwm"
}

echo "# Hashall scan benchmark — $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
echo "# work dir: $work ($(findmnt -no FSTYPE -T "$work"))"

python3 "$root/benchmarks/lib/make-scan-trees.py" "$work"
# warm the page cache
find "$work/large" "$work/small" "$work/many" -type f -print0 | xargs -0 cat >/dev/null

echo
echo "## 1. Full scan of 4 x 512 MiB (warm)"
rm -f "$work/large.db"*
warm "$work/large"
read -r hs _ _ _ < <(hashall_scan "$work/large.db" "$work/large" -ThrottleLimit "$(nproc)")
os=$(timeit openssl dgst -sha1 "$work"/large/*.bin)
ss=$(timeit sha1sum "$work"/large/*.bin)
rh=$(timeit rhash --sha1 -r "$work/large")
hd=$(timeit hashdeep -c sha1 -r "$work/large")
echo "| tool | seconds | GiB/s | hashall speed-up |"
echo "|---|---|---|---|"
for row in "Invoke-HashallScan (SHA-1, $(nproc) threads):$hs" "openssl dgst -sha1 (one process):$os" "sha1sum:$ss" "rhash -r --sha1:$rh" "hashdeep -c sha1 -r:$hd"; do
    name=${row%:*}; t=${row##*:}
    echo "| $name | $t | $(awk -v t="$t" 'BEGIN { printf "%.2f", 2 / t }') | $(ratio "$t" "$hs")x |"
done

echo
echo "## 2. 50,000 small files (1-64 KiB, nested): full scan, then rescan"
rm -f "$work/small.db"*
warm "$work/small"
read -r full _ _ _ < <(hashall_scan "$work/small.db" "$work/small")
read -r rescan hashed unchanged _ < <(hashall_scan "$work/small.db" "$work/small")
xs=$(timeit sh -c "find '$work/small' -type f -print0 | xargs -0 -P$(nproc) sha1sum")
fs=$(timeit find "$work/small" -printf '%i %s %T@\n')
rh=$(timeit rhash --sha1 -r "$work/small")
hd=$(timeit hashdeep -c sha1 -r "$work/small")
echo "| measure | seconds | ratio |"
echo "|---|---|---|"
echo "| Invoke-HashallScan, full | $full | $(ratio "$xs" "$full")x the speed of find \| xargs -P$(nproc) sha1sum |"
echo "| find \| xargs -0 -P$(nproc) sha1sum | $xs | |"
echo "| rhash -r --sha1 | $rh | $(ratio "$rh" "$full")x |"
echo "| hashdeep -c sha1 -r | $hd | $(ratio "$hd" "$full")x |"
echo "| Invoke-HashallScan, unchanged rescan ($hashed read, $unchanged unchanged) | $rescan | $(ratio "$rescan" "$fs")x the time of find -printf; full scan / rescan = $(ratio "$full" "$rescan")x |"
echo "| find -printf '%i %s %T@' (the stat floor) | $fs | |"

echo
echo "## 3. Peak memory scanning 200,000 files (a check: fails past the ceilings)"
# Ceilings of peak RSS (VmHWM) of the whole process (pwsh host and .NET runtime, about 110 MB, included):
# a rescan streams the catalog's rows (memory must not grow with the catalog: 315 MB before it did);
# a full scan holds SQLite's 64 MiB page cache while it writes.
rescan_ceiling=${HASHALL_RESCAN_RSS_CEILING_MB:-150}
scan_ceiling=${HASHALL_SCAN_RSS_CEILING_MB:-256}
rm -f "$work/many.db"*
warm "$work/many"
read -r ms _ _ hwm < <(hashall_scan "$work/many.db" "$work/many")
read -r rs _ runchanged rhwm < <(hashall_scan "$work/many.db" "$work/many")
echo "| files | seconds | peak RSS of the whole pwsh-host process | ceiling |"
echo "|---|---|---|---|"
echo "| 200,000 x 1 KiB, full scan | $ms | $((hwm / 1024)) MB | $scan_ceiling MB |"
echo "| 200,000 x 1 KiB, unchanged rescan ($runchanged unchanged) | $rs | $((rhwm / 1024)) MB | $rescan_ceiling MB |"
memory_failed=0
if [ "$runchanged" != 200000 ]; then
    echo "FAIL: the rescan found $runchanged of 200000 files unchanged" >&2
    memory_failed=1
fi
if [ $((rhwm / 1024)) -gt "$rescan_ceiling" ]; then
    echo "FAIL: the rescan of 200,000 files peaked at $((rhwm / 1024)) MB, over the ceiling of $rescan_ceiling MB" >&2
    memory_failed=1
fi
if [ $((hwm / 1024)) -gt "$scan_ceiling" ]; then
    echo "FAIL: the full scan of 200,000 files peaked at $((hwm / 1024)) MB, over the ceiling of $scan_ceiling MB" >&2
    memory_failed=1
fi

echo
startup=$(timeit "${shell[@]}" -Command "Import-Module '$root/out/Hashall/Hashall.psd1'")
echo "Process start + Import-Module (not in the figures above): ${startup} s"
exit $memory_failed
