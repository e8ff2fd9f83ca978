#!/usr/bin/env bash
# Rehome benchmark: Invoke-RehomePlan MOVE of a payload (default 4 x 512 MiB = 2 GiB) from the
# stash (the disk under work-dir) to a tmpfs pool, against what a user would do by hand:
# `cp -a` to the pool followed by `sha1sum` of the copy. Warm page cache for both.
# Usage (root, for the tmpfs): benchmarks/rehome-bench.sh [MiB per file] [work-dir]
# Needs: qbittorrent-nox, mktorrent, curl, python3.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
mib=${1:-512}
work=${2:-/tmp/hashall-rehome-bench}
if mountpoint -q "$work/pool" 2>/dev/null; then umount "$work/pool"; fi
rm -rf "$work"; mkdir -p "$work/stash/Payload.2160p" "$work/torrents" "$work/pool"
mount -t tmpfs -o size=$((mib * 4 * 2 + 256))m tmpfs "$work/pool"
cleanup_extra() { umount "$work/pool" 2>/dev/null || true; }
dotnet build "$root/Hashall.PowerShell.sln" -c Release -nologo -v q >/dev/null
shell=(dotnet "$root/tools/HostedShell/bin/Release/net10.0/hashall-shell.dll")
source "$root/benchmarks/lib/qbittorrent.sh"

echo "# Hashall rehome benchmark — $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, 4 x $mib MiB, stash $(df --output=fstype "$work/stash" | tail -1) -> pool tmpfs, qBittorrent $(qbittorrent-nox --version | awk '{print $2}')"
for i in 1 2 3 4; do head -c $((mib << 20)) /dev/urandom > "$work/stash/Payload.2160p/part$i.mkv"; done
mktorrent -p -l 22 -a http://127.0.0.1:1/announce -o "$work/torrents/payload.torrent" "$work/stash/Payload.2160p" >/dev/null
cat "$work"/stash/Payload.2160p/* > /dev/null # warm the cache for both contenders

start=$(date +%s.%N)
mkdir -p "$work/pool/by-hand"
cp -a "$work/stash/Payload.2160p" "$work/pool/by-hand/"
sha1sum "$work"/pool/by-hand/Payload.2160p/* > /dev/null
baseline=$(echo "$(date +%s.%N) - $start" | bc)
rm -rf "$work/pool/by-hand"
echo "cp -a + sha1sum: ${baseline} s"

start_qbittorrent "$work"
curl -sf -F "torrents=@$work/torrents/payload.torrent" -F "savepath=$work/stash" -F "category=bench" "$url/api/v2/torrents/add" >/dev/null
wait_checked bench 1

"${shell[@]}" -Command "Import-Module '$root/out/Hashall/Hashall.psd1'
\$db = '$work/catalog.db'
Set-HashallDevice '$work/stash' stash -Database \$db | Out-Null; Set-HashallDevice '$work/pool' pool -Database \$db | Out-Null
Invoke-HashallScan '$work/stash', '$work/pool' -Database \$db | Out-Null
Sync-HashallPayload -Uri '$url' -Database \$db | Out-Null
\$plan = New-RehomePlan -Category bench -Demote -SeedingRoot '$work/stash' -StashDevice stash -PoolDevice pool -TargetPath '$work/pool/torrents' -Database \$db
\$sw = [Diagnostics.Stopwatch]::StartNew()
\$r = \$plan | Invoke-RehomePlan -Uri '$url' -Confirm:\$false -Database \$db
\$total = \$sw.Elapsed.TotalSeconds
if (\$r.Status -ne 'Done') { throw \"rehome: \$(\$r.Status) \$(\$r.Message)\" }
# Step times from the journal: 'time step: detail'
\$at = @{}; foreach (\$line in \$r.Journal) { \$t, \$rest = \$line -split ' ', 2; \$step = (\$rest -split ':')[0]; if (-not \$at.ContainsKey(\$step)) { \$at[\$step] = [datetime]::Parse(\$t).ToUniversalTime() } }
\$copy = (\$at['Verified'] - \$at['Copying']).TotalSeconds
\$qbt = (\$at['Relocated'] - \$at['Verified']).TotalSeconds
\$rest = (\$at['Done'] - \$at['Relocated']).TotalSeconds
'Invoke-RehomePlan MOVE: {0:F2} s in all ({1:N0} MiB/s)' -f \$total, (\$r.BytesCopied / 1MB / \$total)
'  copy + fsync + verify (size, SHA-1 read back): {0:F2} s = {1:F2}x the time of cp -a + sha1sum ($baseline s)' -f \$copy, (\$copy / $baseline)
'  qBittorrent stop, setLocation, recheck of the copy, confirm: {0:F2} s' -f \$qbt
'  start, remove the source, catalog update: {0:F2} s' -f \$rest
'  whole MOVE = {0:F2}x cp -a + sha1sum' -f (\$total / $baseline)"
