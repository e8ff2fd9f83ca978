# Shell functions shared by the benchmarks (source it). Times are wall seconds with 3 decimals.

now() { date +%s.%N; }
# warm DIR...: re-reads every file so the page cache holds it (each tool then starts warm)
warm() { find "$@" -type f -print0 | xargs -0 -r -P"$(nproc)" cat >/dev/null; }
# timeit CMD...: seconds CMD takes, its output discarded
timeit() { local s e; s=$(now); "$@" >/dev/null 2>&1; e=$(now); awk -v s="$s" -v e="$e" 'BEGIN { printf "%.3f", e - s }'; }
# ratio A B: A / B with 2 decimals ("-" when either is missing or B is 0)
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b == "" || b + 0 == 0 || a == "-" || b == "-") print "-"; else printf "%.2f", a / b }'; }
# median N...: the median of the numbers given (the mean of the middle two for an even count; "-" for none)
median() {
    [ $# -gt 0 ] || { echo -; return; }
    printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else printf "%.3f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
# cputime CMD...: "<wall s> <user+sys s> <peak RSS kB>" of CMD (a child process tree), from GNU time
cputime() {
    local f; f=$(mktemp)
    /usr/bin/time -o "$f" -f '%e %U %S %M' "$@" >/dev/null 2>&1 || true
    awk '{ printf "%.3f %.3f %d\n", $1, $2 + $3, $4 }' "$(tail -1 "$f" >"$f.l"; echo "$f.l")"
    rm -f "$f" "$f.l"
}
# machine: one line naming the machine the figures come from
machine() { echo "$(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo), load $(cut -d' ' -f1-3 /proc/loadavg)"; }
# free_bytes DIR: the free bytes of DIR's filesystem (statvfs after syncfs, so freed blocks are counted)
free_bytes() { sync -f "$1"; stat -f -c '%f %S' "$1" | awk '{ print $1 * $2 }'; }
# hashall_dedup DIR DB [New-HashallLinkPlan args...]: scan DIR, plan and run its link plan in one hosted
# shell ($shell, module from $root/out); prints "<scan s> <plan s> <run s> <BytesReclaimed> <Linked>"
hashall_dedup() {
    local dir=$1 db=$2; shift 2
    "${shell[@]}" -Command "Import-Module '$root/out/Hashall/Hashall.psd1'
\$sw = [Diagnostics.Stopwatch]::StartNew()
Invoke-HashallScan -Path '$dir' -Database '$db' -ErrorAction Stop | Out-Null
\$scan = \$sw.Elapsed.TotalSeconds; \$sw.Restart()
\$p = New-HashallLinkPlan -Path '$dir' -Database '$db' $* -WarningAction SilentlyContinue -ErrorAction Stop
\$plan = \$sw.Elapsed.TotalSeconds; \$sw.Restart()
\$r = \$p | Invoke-HashallLinkPlan -Confirm:\$false -ErrorAction Stop
'{0:F3} {1:F3} {2:F3} {3} {4}' -f \$scan, \$plan, \$sw.Elapsed.TotalSeconds, \$r.BytesReclaimed, \$r.Linked"
}
