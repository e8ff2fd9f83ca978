#requires -Version 7.4
<#
.SYNOPSIS
Writes tests/Fixtures/catalog-v6.db: a catalog of schema version 6 (the release before root-relative
payload hashes), made by that release's module from a real qBittorrent sync.

.DESCRIPTION
Run with the module of the release whose catalog you want (here: the commit before "Payload hash
relative to the root", built with `dotnet build`), e.g.
  pwsh tests/Fixtures/make-catalog-v6.ps1 -Module /tmp/v6src/out/Hashall -Output tests/Fixtures/catalog-v6.db
Needs qbittorrent-nox and mktorrent on PATH. The data lives under a scratch directory that is removed
afterwards: the catalog keeps the rows (sizes, SHA-1s, paths), which is all a migration may read.
#>
param(
    [Parameter(Mandatory)] [string] $Module,
    [Parameter(Mandatory)] [string] $Output
)
$ErrorActionPreference = 'Stop'
Import-Module (Join-Path $Module 'Hashall.psd1') -Force
$Output = [IO.Path]::GetFullPath($Output)
$work = Join-Path ([IO.Path]::GetTempPath()) "hashall-fixture-v6"
if (Test-Path $work) { Remove-Item -Recurse -Force $work }
$data = Join-Path $work 'data'; $torrents = Join-Path $work 'torrents'; $profile = Join-Path $work 'qbt'
New-Item -ItemType Directory -Force $data, $torrents, (Join-Path $profile 'qBittorrent/config') | Out-Null

function Free-Port { $l = [Net.Sockets.TcpListener]::new([Net.IPAddress]::Loopback, 0); $l.Start(); $p = $l.LocalEndpoint.Port; $l.Stop(); $p }
$port = Free-Port
@('[LegalNotice]', 'Accepted=true', '', '[BitTorrent]', 'Session\DHTEnabled=false', 'Session\PeXEnabled=false', 'Session\LSDEnabled=false',
  'Session\Interface=lo', 'Session\InterfaceName=lo', "Session\Port=$(Free-Port)", '',
  '[Preferences]', 'WebUI\Address=127.0.0.1', "WebUI\Port=$port", 'WebUI\CSRFProtection=false', 'WebUI\HostHeaderValidation=false',
  'WebUI\LocalHostAuth=false', 'Connection\UPnP=false') | Set-Content (Join-Path $profile 'qBittorrent/config/qBittorrent.conf')
$qbt = Start-Process qbittorrent-nox -ArgumentList "--profile=$profile" -PassThru -RedirectStandardOutput (Join-Path $work 'qbt.out') -RedirectStandardError (Join-Path $work 'qbt.err')
$url = "http://127.0.0.1:$port/"
try {
    $deadline = (Get-Date).AddSeconds(30)
    while ($true) { try { Invoke-RestMethod "${url}api/v2/app/version" | Out-Null; break } catch { if ((Get-Date) -gt $deadline) { throw } ; Start-Sleep -Milliseconds 200 } }

    function Write-Data([string] $relative, [int] $size, [int] $seed) {
        $full = Join-Path $data $relative
        New-Item -ItemType Directory -Force (Split-Path $full) | Out-Null
        $bytes = [byte[]]::new($size); [Random]::new($seed).NextBytes($bytes)
        [IO.File]::WriteAllBytes($full, $bytes)
    }
    function Add-Torrent([string] $content, [string] $savePath, [int] $piece = 15) {
        $file = Join-Path $torrents ("{0}-{1}.torrent" -f (Split-Path $content -Leaf), [guid]::NewGuid().ToString('N'))
        & mktorrent -p -l $piece -a 'http://127.0.0.1:1/announce' -o $file $content | Out-Null
        if ($LASTEXITCODE) { throw "mktorrent $content failed" }
        $form = @{ torrents = Get-Item $file; savepath = $savePath; category = 'fixture' }
        Invoke-RestMethod -Method Post "${url}api/v2/torrents/add" -Form $form | Out-Null
    }

    # One season under two root folder names (siblings once paths are root-relative), the same content with
    # renamed episodes (a content twin), a one-file folder and a single-file torrent of its file, a single-file
    # twin under another name, a folder holding a file its torrent does not have, and a torrent never scanned.
    $show = 'Show.S01.1080p.WEB-GRP'
    Write-Data "$show/E01.mkv" 40000 1; Write-Data "$show/E02.mkv" 30000 2
    Write-Data "$show/Subs/😀.srt" 500 3; Write-Data "$show/Subs/$([char]0xFB01)rst.srt" 600 4
    & cp -a (Join-Path $data $show) (Join-Path $data 'Show S01 1080p WEB')
    New-Item -ItemType Directory -Force (Join-Path $data 'Show.S01.Renamed.Eps/Subs') | Out-Null
    Copy-Item (Join-Path $data "$show/E01.mkv") (Join-Path $data 'Show.S01.Renamed.Eps/S01E01.mkv')
    Copy-Item (Join-Path $data "$show/E02.mkv") (Join-Path $data 'Show.S01.Renamed.Eps/S01E02.mkv')
    Copy-Item (Join-Path $data "$show/Subs/😀.srt") (Join-Path $data 'Show.S01.Renamed.Eps/Subs/en.srt')
    Copy-Item (Join-Path $data "$show/Subs/$([char]0xFB01)rst.srt") (Join-Path $data 'Show.S01.Renamed.Eps/Subs/fr.srt')
    Write-Data 'Movie.2024/Movie.2024.mkv' 50000 5
    Copy-Item (Join-Path $data 'Movie.2024/Movie.2024.mkv') (Join-Path $data 'Movie (2024).mkv')
    Write-Data 'Extra.S01/E01.mkv' 20000 6; Write-Data 'Extra.S01/E02.mkv' 15000 9
    Write-Data 'Unscanned.S01/E01.mkv' 10000 7

    Add-Torrent (Join-Path $data $show) $data 15
    Add-Torrent (Join-Path $data $show) $data 16
    Add-Torrent (Join-Path $data 'Show S01 1080p WEB') $data
    Add-Torrent (Join-Path $data 'Show.S01.Renamed.Eps') $data
    Add-Torrent (Join-Path $data 'Movie.2024') $data
    Add-Torrent (Join-Path $data 'Movie.2024/Movie.2024.mkv') (Join-Path $data 'Movie.2024')
    Add-Torrent (Join-Path $data 'Movie (2024).mkv') $data
    Add-Torrent (Join-Path $data 'Extra.S01') $data
    Add-Torrent (Join-Path $data 'Unscanned.S01') $data
    Write-Data 'Extra.S01/extra.nfo' 100 8   # on disk and catalogued, not in the torrent
    Start-Sleep -Seconds 3                   # let qBittorrent check what it was given

    $db = Join-Path $work 'catalog.db'
    foreach ($dir in Get-ChildItem $data -Directory | Where-Object Name -ne 'Unscanned.S01') { Invoke-HashallScan -Path $dir.FullName -Database $db | Out-Null }
    Invoke-HashallScan -Path (Join-Path $data 'Movie (2024).mkv') -Database $db | Out-Null
    Sync-HashallPayload -Uri $url -Category fixture -Database $db | Format-List Torrents, Complete, Incomplete, SiblingGroups
    Get-HashallTorrent -Database $db | Format-Table Name, PayloadHash -AutoSize
}
finally {
    Stop-Process -Id $qbt.Id
    $qbt.WaitForExit()
}
if (Test-Path $Output) { Remove-Item $Output }
& /usr/bin/python3 -c "import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); c.execute('VACUUM INTO ?', (sys.argv[2],)); c.close(); d = sqlite3.connect(sys.argv[2]); d.execute('PRAGMA journal_mode=DELETE'); d.close()" $db $Output
if ($LASTEXITCODE) { throw 'copying the catalog failed' }
Remove-Item -Recurse -Force $work
Write-Host "Wrote $Output ($((Get-Item $Output).Length) bytes)"
