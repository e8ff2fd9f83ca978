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
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
btport=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
url="http://127.0.0.1:$port"

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
cat > "$work/profile/qBittorrent/config/qBittorrent.conf" <<CONF
[LegalNotice]
Accepted=true
[Network]
PortForwardingEnabled=false
[BitTorrent]
Session\DHTEnabled=false
Session\PeXEnabled=false
Session\LSDEnabled=false
Session\InterfaceAddress=127.0.0.1
Session\Port=$btport
[Preferences]
WebUI\Address=127.0.0.1
WebUI\Port=$port
WebUI\LocalHostAuth=false
WebUI\CSRFProtection=false
WebUI\HostHeaderValidation=false
Connection\UPnP=false
CONF
qbittorrent-nox --profile="$work/profile" >/dev/null 2>&1 &
qbt=$!
trap 'curl -s -X POST "$url/api/v2/app/shutdown" >/dev/null 2>&1; wait $qbt 2>/dev/null || true' EXIT
until curl -sf "$url/api/v2/app/version" >/dev/null; do sleep 0.2; done
for t in "$work"/torrents/*.torrent; do
    curl -sf -F "torrents=@$t" -F "savepath=$work/data" -F "category=bench" "$url/api/v2/torrents/add" >/dev/null
done
# wait until qBittorrent has checked every torrent against its data
until [ "$(curl -sf "$url/api/v2/torrents/info?category=bench" | python3 -c 'import json,sys; t=json.load(sys.stdin); print(sum(1 for x in t if not x["state"].startswith("checking") and x["state"] not in ("metaDL","allocating","unknown")))')" -ge "$count" ]; do sleep 0.5; done

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
