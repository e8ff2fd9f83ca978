#!/usr/bin/env bash
# Scale benchmark (issue 12): every row of the issue's table, Hashall against the tool a user has, in
# the same invocation, and a Markdown table at the end with the issue's "before" figures next to them.
#
# Usage: benchmarks/scale-bench.sh [-n RUNS] [-s pwsh|hosted] [-r ROWS] [-B] [WORK [TREE]]
#   WORK   scratch folder for catalogs and the smaller trees (default /tmp/hashall-scale-bench)
#   TREE   the 1,000,000-file tree; made there by lib/make-tree.py if it has no .complete
#          (default WORK/tree1m). Only read, never written: point it at a shared tree.
#   -n     runs per measure, median reported (default 3; 1 for a quick check)
#   -s     pwsh: real `pwsh -NoProfile` (default); hosted: tools/HostedShell (the engine the tests use)
#   -r     comma-separated rows (default all): scan1m,rescan1m,dup1m,plan1m,small,link,rehome,import,large
#   -B     do not build (use the module folder out/Hashall as it is)
# Every Hashall figure comes from a fresh process (lib/scale-step.ps1) and is the cmdlet's own time
# measured inside it; the process's peak RSS (VmHWM) is reported with it. Trees are read just before
# each row (warm page cache); `sync` runs before the link row. The link and rehome rows run
# link-bench.sh and rehome-bench.sh (which use the hosted shell) and read their figures back.
# Needs: pwsh, dotnet, python3, sha1sum, openssl, find, xargs, jdupes, qbittorrent-nox, mktorrent, curl.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
source "$root/benchmarks/lib/bench.sh"

runs=3 shellkind=pwsh rows=scan1m,rescan1m,dup1m,plan1m,small,link,rehome,import,large build=1
while getopts "n:s:r:B" opt; do
    case $opt in
        n) runs=$OPTARG ;;
        s) shellkind=$OPTARG ;;
        r) rows=$OPTARG ;;
        B) build=0 ;;
        *) sed -n '2,17p' "$0" >&2; exit 2 ;;
    esac
done
shift $((OPTIND - 1))
work=$(mkdir -p "${1:-/tmp/hashall-scale-bench}" && cd "${1:-/tmp/hashall-scale-bench}" && pwd)
tree=${2:-$work/tree1m}
module=$root/out/Hashall/Hashall.psd1
step_script=$root/benchmarks/lib/scale-step.ps1
want() { [[ ",$rows," == *",$1,"* ]]; }

if [ "$build" = 1 ]; then dotnet build "$root/Hashall.PowerShell.sln" -c Release -nologo -v q >/dev/null; fi
case $shellkind in
    pwsh) shell=(pwsh -NoProfile -NonInteractive -Command) ;;
    hosted) shell=(dotnet "$root/tools/HostedShell/bin/Release/net10.0/hashall-shell.dll" -Command) ;;
    *) echo "-s must be pwsh or hosted" >&2; exit 2 ;;
esac

# step STEP DB [PATH]: one Hashall step in a fresh process: "<seconds> <peak RSS kB> <counts...> <process cpu s>"
step() {
    local out f; f=$(mktemp)
    out=$(/usr/bin/time -o "$f" -f '%U %S' "${shell[@]}" "& '$step_script' -Step $1 -Module '$module' -Database '$2' -Path '${3:-}'" 2>&1 | tail -1)
    echo "$out $(awk '{ printf "%.2f", $1 + $2 }' "$f")"
    rm -f "$f"
    [[ $out =~ ^[0-9.]+\ [0-9]+ ]] || { echo "Hashall step $1 failed: $out" >&2; return 1; }
}
dropdb() { rm -f "$1" "$1-wal" "$1-shm" "$1-journal"; }
mb() { awk -v k="$1" 'BEGIN { printf "%.0f", k / 1024 }'; }
# f3 N: N with 3 decimals ("-" stays "-")
f3() { awk -v n="$1" 'BEGIN { if (n == "-" || n == "") print "-"; else printf "%.3f", n }'; }

# results: one Markdown row per measure, printed at the end
table=()
# row MEASURE HASHALL TOOL RATIO OLD GOAL
row() { table+=("| $1 | $2 | $3 | $4 | $5 | $6 |"); }
# ratio_words HASHALL_SECONDS TOOL_SECONDS: "2.31× the tool's time" or "0.65× (1.54× faster)"
ratio_words() {
    local r; r=$(ratio "$1" "$2")
    [ "$r" = - ] && { echo -; return; }
    awk -v r="$r" 'BEGIN { if (r < 1) printf "%.2f× (%.2f× faster)", r, 1 / r; else printf "**%.2f× slower**", r }'
}

echo "# Hashall scale benchmark — $(date -u +%Y-%m-%dT%H:%MZ), commit $(git -C "$root" rev-parse --short HEAD), Release"
echo "# $(machine); median of $runs; Hashall in a fresh $( [ "$shellkind" = pwsh ] && echo "pwsh $(pwsh -NoProfile -Command '$PSVersionTable.PSVersion.ToString()') -NoProfile" || echo "hosted-shell") process per run"
echo "# work dir: $work ($(findmnt -no FSTYPE -T "$work")); 1M tree: $tree"

# ---- the 1,000,000-file tree and its catalog
db1m=$work/tree1m.db
if want scan1m || want rescan1m || want dup1m || want plan1m; then
    if [ ! -e "$tree/.complete" ]; then
        echo "making $tree (1,000,000 files of 0-2 KiB in 1,000 folders) ..."
        python3 "$root/benchmarks/lib/make-tree.py" "$tree" 1000000 1000 2048
    fi
    files1m=$(find "$tree" -type f ! -name .complete | wc -l)
    warm "$tree"
fi

if want scan1m; then
    echo; echo "## Full scan, 1M files ($files1m)"
    hs=() hr=() ts=()
    for i in $(seq "$runs"); do
        dropdb "$db1m"
        o=$(step Scan "$db1m" "$tree"); read -r t rss hashed _ cpu <<<"$o"
        x=$(timeit sh -c "find '$tree' -type f -print0 | xargs -0 -P$(nproc) sha1sum")
        echo "- run $i: Hashall $t s (cpu $cpu s, peak RSS $(mb "$rss") MB, $hashed hashed); find | xargs -P$(nproc) sha1sum $x s"
        hs+=("$t") hr+=("$rss") ts+=("$x")
    done
    h=$(median "${hs[@]}") x=$(median "${ts[@]}")
    row "full scan, $(printf "%'d" "$files1m") files of 0–2 KiB (1,000 folders)" "$h s, peak RSS $(mb "$(median "${hr[@]}")") MB" "\`find … -print0 \| xargs -0 -P$(nproc) sha1sum\` $x s" "$(ratio_words "$h" "$x")" "54.0 s, peak RSS 199 MB; 11.1 s; 4.9× slower" "≤ 1.0× (first step ≤ 2×)"
fi

if want rescan1m || want dup1m || want plan1m; then
    if [ ! -e "$db1m" ]; then echo "(catalog for the 1M rows: one untimed full scan)"; step Scan "$db1m" "$tree" >/dev/null; fi
fi

if want rescan1m; then
    echo; echo "## Rescan, 1M files, unchanged"
    hs=() hr=() ts=()
    for i in $(seq "$runs"); do
        o=$(step Scan "$db1m" "$tree"); read -r t rss hashed unchanged cpu <<<"$o"
        x=$(timeit find "$tree" -printf '%i %s %T@\n')
        echo "- run $i: Hashall $t s (cpu $cpu s, peak RSS $(mb "$rss") MB, $hashed read, $unchanged unchanged); find -printf $x s"
        hs+=("$t") hr+=("$rss") ts+=("$x")
    done
    h=$(median "${hs[@]}") x=$(median "${ts[@]}")
    row "rescan of the same, unchanged" "$h s, peak RSS $(mb "$(median "${hr[@]}")") MB" "\`find -printf '%i %s %T@'\` $x s" "$(ratio_words "$h" "$x")" "10.3 s, peak RSS 979 MB; 3.7 s; 2.8×" "≤ 1.5×, RSS ≤ 150 MB"
fi

if want dup1m; then
    echo; echo "## Get-HashallDuplicate | Measure-Object, 1M files"
    hs=() hr=() fs=() groups=
    for i in $(seq "$runs"); do
        o=$(step Duplicates "$db1m"); read -r t rss groups cpu <<<"$o"
        o=$(step FirstDuplicate "$db1m"); read -r f _ _ _ <<<"$o"
        echo "- run $i: all $groups groups $t s (cpu $cpu s, peak RSS $(mb "$rss") MB); first group $f s (separate process)"
        hs+=("$t") hr+=("$rss") fs+=("$f")
    done
    row "\`Get-HashallDuplicate \| Measure-Object\`, 1M files, $groups groups" "$(median "${hs[@]}") s (first group $(median "${fs[@]}") s), peak RSS $(mb "$(median "${hr[@]}")") MB" "—" "—" "27.0 s (89,872 groups)" "≤ 3 s, streaming (first group < 1 s)"
fi

if want plan1m; then
    echo; echo "## New-HashallLinkPlan, 1M files"
    hs=() hr=()
    for i in $(seq "$runs"); do
        o=$(step LinkPlan "$db1m" "$tree"); read -r t rss actions paths cpu <<<"$o"
        echo "- run $i: $t s (cpu $cpu s, peak RSS $(mb "$rss") MB), $actions actions, $paths paths"
        hs+=("$t") hr+=("$rss")
    done
    row "\`New-HashallLinkPlan\` on that device" "$(median "${hs[@]}") s, peak RSS $(mb "$(median "${hr[@]}")") MB" "—" "—" "33.2 s, RSS 423 MB" "≤ 5 s, RSS ≤ 150 MB"
fi

# ---- 50,000 small files and 4 x 512 MiB (the scan benchmark's trees)
if want small; then
    echo; echo "## 50,000 files of 1-64 KiB: full scan, then rescan"
    python3 "$root/benchmarks/lib/make-scan-trees.py" "$work" small
    warm "$work/small"
    dbs=$work/small.db hs=() ts=() rs=() fs=()
    for i in $(seq "$runs"); do
        dropdb "$dbs"
        o=$(step Scan "$dbs" "$work/small"); read -r t rss _ _ cpu <<<"$o"
        x=$(timeit sh -c "find '$work/small' -type f -print0 | xargs -0 -P$(nproc) sha1sum")
        o=$(step Scan "$dbs" "$work/small"); read -r r _ hashed unchanged _ <<<"$o"
        f=$(timeit find "$work/small" -printf '%i %s %T@\n')
        echo "- run $i: full $t s (cpu $cpu s, peak RSS $(mb "$rss") MB), xargs sha1sum $x s; rescan $r s ($hashed read, $unchanged unchanged), find -printf $f s"
        hs+=("$t") ts+=("$x") rs+=("$r") fs+=("$f")
    done
    h=$(median "${hs[@]}") x=$(median "${ts[@]}")
    row "full scan, 50,000 files of 1–64 KiB" "$h s" "\`xargs -P$(nproc) sha1sum\` $x s" "$(ratio_words "$h" "$x")" "2.31 s; 1.83 s; 0.79× the speed" "≥ 1.5× the speed"
    h=$(median "${rs[@]}") x=$(median "${fs[@]}")
    row "rescan of those 50,000" "$h s" "\`find -printf\` $x s" "$(ratio_words "$h" "$x")" "0.71 s; 0.29 s; 2.47×" "≤ 1.5×"
fi

if want link; then
    echo; echo "## Scan + plan + link, 20,000 files, 30% copies (benchmarks/link-bench.sh, synced first)"
    hs=() lk=() js=()
    for i in $(seq "$runs"); do
        sync
        out=$("$root/benchmarks/link-bench.sh" "$work/link" 2>&1) || { echo "$out"; echo "link-bench.sh failed" >&2; exit 1; }
        echo "$out" | sed "s/^/    /"
        # its table: "| Invoke-HashallScan + … | <total> (scan s, plan s, link s) | …" and "| jdupes -r -L | <s> | …"
        h=$(echo "$out" | awk -F'|' '/^\| *Invoke-HashallScan/ { if (match($3, /[0-9]+\.[0-9]+/)) { print substr($3, RSTART, RLENGTH); exit } }')
        l=$(echo "$out" | awk -F'|' '/^\| *Invoke-HashallScan/ { if (match($3, /link [0-9]+\.[0-9]+/)) { print substr($3, RSTART + 5, RLENGTH - 5); exit } }')
        j=$(echo "$out" | awk -F'|' '/^\| *jdupes/ { if (match($3, /[0-9]+\.[0-9]+/)) { print substr($3, RSTART, RLENGTH); exit } }')
        if [ -n "$h" ]; then hs+=("$h"); fi; if [ -n "$l" ]; then lk+=("$l"); fi; if [ -n "$j" ]; then js+=("$j"); fi
    done
    rm -rf "$work/link"
    h=$(f3 "$(median "${hs[@]}")") j=$(f3 "$(median "${js[@]}")")
    row "scan + plan + link, 20,000 files, 30% copies, synced" "$h s (link phase $(f3 "$(median "${lk[@]}")") s; hosted shell, one session)" "\`jdupes -r -L\` $j s" "$(ratio_words "$h" "$j")" "6.68 s fresh (link 4.25 s), 4.15 s in session; 3.31 s; 2.0× / 1.25× slower" "≤ 1.0× with byte verification kept"
fi

if want rehome; then
    echo; echo "## Rehome MOVE of 4 x 512 MiB, stash -> tmpfs pool (benchmarks/rehome-bench.sh)"
    cs=() bs=() ws=() qs=()
    for i in $(seq "$runs"); do
        out=$("$root/benchmarks/rehome-bench.sh" 512 "$work/rehome" 2>&1) || { echo "$out"; echo "rehome-bench.sh failed" >&2; exit 1; }
        echo "$out" | sed "s/^/    /"
        b=$(echo "$out" | sed -nE 's/^cp -a \+ sha1sum: *([0-9.]+) s.*/\1/p' | head -1)
        c=$(echo "$out" | sed -nE 's/^ *copy \+ fsync \+ verify[^:]*: *([0-9.]+) s.*/\1/p' | head -1)
        w=$(echo "$out" | sed -nE 's/^Invoke-RehomePlan MOVE: *([0-9.]+) s.*/\1/p' | head -1)
        q=$(echo "$out" | sed -nE 's/^ *qBittorrent[^:]*: *([0-9.]+) s.*/\1/p' | head -1)
        if [ -n "$b" ]; then bs+=("$b"); fi; if [ -n "$c" ]; then cs+=("$c"); fi; if [ -n "$w" ]; then ws+=("$w"); fi; if [ -n "$q" ]; then qs+=("$q"); fi
    done
    mountpoint -q "$work/rehome/pool" 2>/dev/null && umount "$work/rehome/pool"
    rm -rf "$work/rehome"
    c=$(f3 "$(median "${cs[@]}")") b=$(f3 "$(median "${bs[@]}")")
    row "rehome MOVE of 4 × 512 MiB, ext4 stash → tmpfs pool: copy + fsync + verify" "$c s (whole MOVE $(f3 "$(median "${ws[@]}")") s, of which qBittorrent $(f3 "$(median "${qs[@]}")") s)" "\`cp -a\` + \`sha1sum\` $b s" "$(ratio_words "$c" "$b")" "7.58 s (whole MOVE 20.5 s, qBittorrent 10.4 s); 8.89 s; 1.17× faster" "≥ 2× faster"
fi

if want import; then
    echo; echo "## pwsh start + Import-Module Hashall (real pwsh -NoProfile, alternating, process wall and user+sys)"
    mkdir -p "$work/emptymod"
    printf "@{ ModuleVersion = '1.0'; GUID = '0d1b7a3e-5c1f-4a8e-9b61-3f2c8e4d7a10' }\n" >"$work/emptymod/emptymod.psd1"
    reps=$((runs * 5 > 10 ? runs * 5 : 10))
    ew=() ec=() mw=() mc=() hw=() hc=()
    for i in $(seq "$reps"); do
        read -r w c _ < <(cputime pwsh -NoProfile -Command exit); ew+=("$w") ec+=("$c")
        read -r w c _ < <(cputime pwsh -NoProfile -Command "Import-Module '$work/emptymod/emptymod.psd1'"); mw+=("$w") mc+=("$c")
        read -r w c _ < <(cputime pwsh -NoProfile -Command "Import-Module '$module'"); hw+=("$w") hc+=("$c")
    done
    e=$(median "${ew[@]}") m=$(median "${mw[@]}") h=$(median "${hw[@]}")
    echo "- $reps runs each: pwsh -Command exit $e s (cpu $(median "${ec[@]}") s); Import-Module of an empty manifest $m s (cpu $(median "${mc[@]}") s); Import-Module Hashall $h s (cpu $(median "${hc[@]}") s)"
    over=$(awk -v h="$h" -v e="$e" 'BEGIN { printf "%+.3f", h - e }')
    overc=$(awk -v h="$(median "${hc[@]}")" -v e="$(median "${ec[@]}")" 'BEGIN { printf "%+.3f", h - e }')
    overm=$(awk -v h="$h" -v e="$m" 'BEGIN { printf "%+.3f", h - e }')
    row "pwsh start + \`Import-Module Hashall\`" "$h s: $over s over pwsh's start (cpu $overc s); $overm s over importing an empty manifest" "pwsh start alone $e s" "—" "0.55 s" "import ≤ 0.1 s over pwsh's own start"
fi

if want large; then
    echo; echo "## Full scan, 4 x 512 MiB"
    python3 "$root/benchmarks/lib/make-scan-trees.py" "$work" large
    warm "$work/large"
    dbl=$work/large.db hs=() is=() ts=()
    for i in $(seq "$runs"); do
        dropdb "$dbl"; o=$(step Scan "$dbl" "$work/large"); read -r t rss _ _ cpu <<<"$o"
        dropdb "$dbl"; o=$(step ScanInSession "$dbl" "$work/large"); read -r s _ _ _ _ <<<"$o"
        x=$(timeit openssl dgst -sha1 "$work"/large/*.bin)
        echo "- run $i: fresh $t s (cpu $cpu s, peak RSS $(mb "$rss") MB), in session $s s; openssl dgst -sha1 $x s"
        hs+=("$t") is+=("$s") ts+=("$x")
    done
    dropdb "$dbl"
    h=$(median "${hs[@]}") s=$(median "${is[@]}") x=$(median "${ts[@]}")
    row "full scan, 4 × 512 MiB" "$h s fresh, $s s in session" "\`openssl dgst -sha1\` $x s" "$(ratio_words "$h" "$x") fresh, $(ratio_words "$s" "$x") in session" "1.36 s fresh, 0.91 s in session; 2.01 s; 1.48× / 2.2× faster" "≥ 1.9× faster fresh"
fi

dropdb "$db1m"; dropdb "$work/small.db"
echo
echo "## Results ($(date -u +%Y-%m-%d), median of $runs; ratio = Hashall's time ÷ the tool's)"
echo
echo "| measure | Hashall now | the tool a user has, now | ratio now | before (issue 12: Hashall; tool; ratio) | goal |"
echo "|---|---|---|---|---|---|"
printf '%s\n' "${table[@]}"
