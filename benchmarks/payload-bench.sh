#!/usr/bin/env bash
# Payload sync benchmark: Sync-HashallPayload over N torrents (default 1000) held by a real
# qbittorrent-nox on loopback, after a scan of their data. Usage: benchmarks/payload-bench.sh [count] [work-dir]
# Needs: qbittorrent-nox, mktorrent, curl, python3.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
count=${1:-1000}
work=${2:-/tmp/hashall-payload-bench}
rm -rf "$work"; mkdir -p "$work/data" "$work/torrents" "$work/profile/qBittorrent/config"
dotnet build "$root/Hashall.PowerShell.sln" -c Release -nologo -v q >/dev/null
shell=(dotnet "$root/tools/HostedShell/bin/Release/net10.0/hashall-shell.dll")
source "$root/benchmarks/lib/qbittorrent.sh"

echo "# Hashall payload sync benchmark — $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, $count torrents, qBittorrent $(qbittorrent-nox --version | awk '{print $2}')"
python3 - "$work/data" "$count" <<'PY'
import os, sys
top, count = sys.argv[1], int(sys.argv[2])
for n in range(count):
    d = os.path.join(top, f"Release.{n:05d}")
    os.makedirs(os.path.join(d, "Subs"), exist_ok=True)
    for name, size in (("video.mkv", 40_000 + n), ("Subs/en.srt", 2_000), ("info.nfo", 300)):
        with open(os.path.join(d, name), "wb") as f:
            f.write(os.urandom(size))
PY
for d in "$work"/data/*; do mktorrent -p -l 15 -a http://127.0.0.1:1/announce -o "$work/torrents/$(basename "$d").torrent" "$d" >/dev/null; done
start_qbittorrent "$work"
for t in "$work"/torrents/*.torrent; do
    curl -sf -F "torrents=@$t" -F "savepath=$work/data" -F "category=bench" "$url/api/v2/torrents/add" >/dev/null
done
wait_checked bench "$count"

"${shell[@]}" -Command "Import-Module '$root/out/Hashall/Hashall.psd1'
\$db = '$work/catalog.db'
\$sw = [Diagnostics.Stopwatch]::StartNew()
\$scan = Invoke-HashallScan -Path '$work/data' -Database \$db
'scan of {0} files: {1:F2} s' -f \$scan.Seen, \$sw.Elapsed.TotalSeconds
\$sw.Restart()
\$first = Sync-HashallPayload -Uri '$url' -Database \$db
'first sync: {0} torrents ({1} complete) in {2:F2} s, {3:F1} ms per torrent' -f \$first.Torrents, \$first.Complete, \$sw.Elapsed.TotalSeconds, (\$sw.Elapsed.TotalMilliseconds / [Math]::Max(1, \$first.Torrents))
\$sw.Restart()
\$again = Sync-HashallPayload -Uri '$url' -Database \$db
'repeat sync: {0} torrents ({1} updated) in {2:F2} s' -f \$again.Torrents, \$again.Updated, \$sw.Elapsed.TotalSeconds
\$sw.Restart()
\$n = @(Get-HashallTorrent -Database \$db).Count
'Get-HashallTorrent of {0} torrents: {1:F3} s' -f \$n, \$sw.Elapsed.TotalSeconds"
