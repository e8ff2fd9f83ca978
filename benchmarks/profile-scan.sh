#!/usr/bin/env bash
# Profile of one full Invoke-HashallScan (issue 12's "where do the µs per file go"): a `perf record -g`
# run split into categories by lib/perf-classify.py, then (unless -S) an `strace -f -c` run for the
# syscalls per file. Each run scans TREE into a fresh catalog in WORK in a fresh `pwsh -NoProfile`.
# Usage (root): benchmarks/profile-scan.sh [-S] TREE [WORK]   (needs: perf, strace, pwsh; Release build in out/)
# perf resolves JIT-compiled frames through /tmp/perf-PID.map (DOTNET_PerfMapEnabled=1; W^X off so
# the code is not behind a memfd double mapping). Warm the tree first if you want a warm-cache profile.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
strace_too=1
if [ "${1:-}" = -S ]; then strace_too=0; shift; fi
tree=$1 work=${2:-/tmp/hashall-profile}
mkdir -p "$work"
files=$(find "$tree" -type f | wc -l)
scan() { # scan DB: one scan in pwsh; prints "<seconds> s, <files hashed> hashed, cpu <s> s"
    pwsh -NoProfile -NonInteractive -Command "Import-Module '$root/out/Hashall/Hashall.psd1'
\$sw = [Diagnostics.Stopwatch]::StartNew(); \$r = Invoke-HashallScan -Path '$tree' -Database '$1' -ErrorAction Stop
'{0:F1} s, {1} hashed, cpu {2:F1} s' -f \$sw.Elapsed.TotalSeconds, \$r.Hashed, [Diagnostics.Process]::GetCurrentProcess().TotalProcessorTime.TotalSeconds"
}
rm -f "$work"/profile.db*
echo "## perf: $files files in $tree"
DOTNET_PerfMapEnabled=1 DOTNET_EnableWriteXorExecute=0 perf record -q -F 499 -g -o "$work/perf.data" -- bash -c "$(declare -f scan); root='$root' tree='$tree'; scan '$work/profile.db'"
perf script -i "$work/perf.data" 2>/dev/null | python3 "$root/benchmarks/lib/perf-classify.py"
rm -f "$work"/profile.db*
if [ "$strace_too" = 1 ]; then
    echo; echo "## strace -f -c: syscalls per file"
    strace -f -c -o "$work/strace.txt" bash -c "$(declare -f scan); root='$root' tree='$tree'; scan '$work/profile.db'"
    awk -v n="$files" '$NF ~ /^[a-z_0-9]+$/ && $4 ~ /^[0-9]+$/ && $4 / n >= 0.01 { printf "%-16s %12d calls  %6.2f per file\n", $NF, $4, $4 / n }' "$work/strace.txt"
    rm -f "$work"/profile.db*
fi
