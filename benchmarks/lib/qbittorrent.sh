# Sourced by the benchmarks: starts a qbittorrent-nox on free loopback ports with a fresh profile
# under $1, sets $url, and shuts it down when the calling script exits.
start_qbittorrent() {
    local work=$1 port btport
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    btport=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    url="http://127.0.0.1:$port"
    mkdir -p "$work/profile/qBittorrent/config"
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
Session\QueueingSystemEnabled=false
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
    trap 'curl -s -X POST "$url/api/v2/app/shutdown" >/dev/null 2>&1; wait $qbt 2>/dev/null || true; cleanup_extra 2>/dev/null || true' EXIT
    until curl -sf "$url/api/v2/app/version" >/dev/null; do sleep 0.2; done
}

# Waits until qBittorrent has checked every torrent of a category against its data: wait_checked category count
wait_checked() {
    until [ "$(curl -sf "$url/api/v2/torrents/info?category=$1" | python3 -c 'import json,sys; t=json.load(sys.stdin); print(sum(1 for x in t if not x["state"].startswith("checking") and x["state"] not in ("metaDL","allocating","unknown")))')" -ge "$2" ]; do sleep 0.5; done
}
