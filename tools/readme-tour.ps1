#requires -Version 7.4
<#
.SYNOPSIS
    Runs README.md's quick tour as written, with the real pwsh, and prints (or writes back) its output.
.DESCRIPTION
    Reads every `PS> ` command of the ```text blocks in README's "A quick tour" section and runs them,
    in order, in one new pwsh session with the built module (out/Hashall) imported and a new catalog
    in $env:HASHALL_DB. The data the tour describes is set up first, on tmpfs mounts at the README's
    paths (/srv/stash, later /srv/pool): a season pack, a copy of one episode, a hard link of
    another; before the first Sync-HashallPayload a qbittorrent-nox on 127.0.0.1:48080 seeding the
    season at two piece sizes and the copied episode; before the first New-RehomePlan a film that a
    media library hard-links, the pool device, a scan of both and a sync; before the first
    Find-HashallTorrentData a .torrent of that film under another root name in /srv/stash/watch. None of that setup is shown.

    Output is what pwsh prints at a width of 160 columns, ANSI off. -Update rewrites the output in
    README's blocks (commands and prose are kept); without it the transcript goes to stdout.
    -Root puts the tour's paths under another folder (/srv/stash becomes <Root>/srv/stash, in the
    commands run and back again in the output) and -Port moves qBittorrent, so that the tests can run
    it beside a real /srv; -Database keeps the tour's catalog at that path (else it is removed). Needs root (mount), qbittorrent-nox and mktorrent; unmounts and stops what
    it started, also on failure. Exits 1 if any tour command fails.
.EXAMPLE
    dotnet build Hashall.PowerShell.sln; sudo pwsh tools/readme-tour.ps1 -Update; git diff README.md
.EXAMPLE
    pwsh tools/readme-tour.ps1 -Root /tmp/tour -Port 48123 -AsObject    # what tests/Pester uses
#>
[CmdletBinding()]
param(
    [string] $Readme = (Join-Path $PSScriptRoot '../README.md'),
    [string] $Module = (Join-Path $PSScriptRoot '../out/Hashall/Hashall.psd1'),
    [string] $Root = '',
    [int] $Port = 48080,
    [string] $Database = '',
    [switch] $Update,
    [switch] $AsObject
)

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest
$Readme = (Resolve-Path $Readme).Path
$Module = (Resolve-Path $Module).Path
$Root = $Root.TrimEnd('/')
foreach ($tool in 'mount', 'umount', 'qbittorrent-nox', 'mktorrent') {
    if (-not (Get-Command $tool -CommandType Application -ErrorAction SilentlyContinue)) { throw "The tour needs $tool on PATH." }
}

# The tour's blocks: each a list of commands; a block's output is rebuilt from them.
$text = [IO.File]::ReadAllText($Readme)
$section = [regex]::Match($text, '(?ms)^## A quick tour\s*$.*?(?=^## )')
if (-not $section.Success) { throw "README has no '## A quick tour' section: $Readme" }
$blocks = @([regex]::Matches($section.Value, '(?ms)^```text\n(.*?)^```') | ForEach-Object {
        [pscustomobject]@{ Group = $_.Groups[1]; Commands = @($_.Groups[1].Value -split '\n' | Where-Object { $_.StartsWith('PS> ') } | ForEach-Object { $_.Substring(4) }) }
    } | Where-Object { $_.Commands.Count })
if (-not $blocks) { throw 'README''s tour has no PS> commands.' }
$commands = @($blocks | ForEach-Object Commands)
$inTour = { param([string] $s) if ($Root) { $s.Replace('/srv/', "$Root/srv/").Replace('127.0.0.1:48080', "127.0.0.1:$Port") } else { $s } }
$fromTour = { param([string] $s) if ($Root) { $s.Replace("$Root/srv/", '/srv/').Replace("127.0.0.1:$Port", '127.0.0.1:48080') } else { $s } }

$work = Join-Path ([IO.Path]::GetTempPath()) ("hashall-tour-" + [guid]::NewGuid().ToString('N').Substring(0, 8))
New-Item -ItemType Directory -Path $work | Out-Null
$catalog = if ($Database) { $Database } else { Join-Path $work 'catalog.db' }
$stash = "$Root/srv/stash"
$pool = "$Root/srv/pool"
$created = [Collections.Generic.List[string]]::new()
$qbt = $null
try {
    foreach ($dir in $stash, $pool) {
        if (Test-Path $dir) {
            if (@(Get-ChildItem -Force $dir).Count) { throw "$dir exists and is not empty; the tour mounts a tmpfs there." }
        }
        else { New-Item -ItemType Directory -Path $dir | Out-Null; $created.Add($dir) }
    }
    & mount -t tmpfs -o size=64m hashall-tour-stash $stash; if ($LASTEXITCODE) { throw "mount $stash failed" }

    # The season pack (three 3,000,000-byte episodes, an .nfo, subtitles), a copy of E01, a hard link of E02.
    $show = Join-Path $stash 'torrents/Show.S01'
    New-Item -ItemType Directory -Path $show | Out-Null
    foreach ($n in 1..3) {
        $bytes = [byte[]]::new(3000000); [Random]::new($n).NextBytes($bytes)
        [IO.File]::WriteAllBytes((Join-Path $show "Show.S01E0$n.mkv"), $bytes)
    }
    [IO.File]::WriteAllText((Join-Path $show 'Show.S01.nfo'), "Show, season 1: three episodes.`n")
    [IO.File]::WriteAllText((Join-Path $show 'Show.S01E01.srt'), "1`n00:00:01,000 --> 00:00:02,000`nHello.`n")
    $copy = Join-Path $stash 'torrents/Show.S01E01.copy.mkv'
    Copy-Item (Join-Path $show 'Show.S01E01.mkv') $copy
    # Copied later, as cp(1) would: the season's file is the older, canonical one (see New-HashallLinkPlan).
    (Get-Item $copy).LastWriteTimeUtc = (Get-Item (Join-Path $show 'Show.S01E01.mkv')).LastWriteTimeUtc.AddHours(1)
    New-Item -ItemType HardLink -Path (Join-Path $stash 'torrents/E02.hardlink.mkv') -Target (Join-Path $show 'Show.S01E02.mkv') | Out-Null
    # Data on a seedbox was written long before it is scanned: a file written in the second before a
    # scan is "racily clean" and read once more by the next scan (see Invoke-HashallScan), which the
    # tour's rescan is not about. The copy stays an hour younger than the season.
    $written = [DateTime]::UtcNow.AddDays(-1)
    Get-ChildItem -Recurse -File $stash | ForEach-Object { $_.LastWriteTimeUtc = $written }
    (Get-Item $copy).LastWriteTimeUtc = $written.AddHours(1)

    # qBittorrent with a private profile, started now, seeding from the first Sync-HashallPayload on.
    $profile = Join-Path $work 'qbt'
    New-Item -ItemType Directory -Path "$profile/qBittorrent/config" | Out-Null
    @('[LegalNotice]', 'Accepted=true', '', '[Network]', 'PortForwardingEnabled=false', '',
        '[BitTorrent]', 'Session\DHTEnabled=false', 'Session\PeXEnabled=false', 'Session\LSDEnabled=false',
        'Session\Interface=lo', 'Session\InterfaceName=lo', 'Session\InterfaceAddress=127.0.0.1', "Session\Port=$($Port + 1)", '',
        '[Preferences]', 'WebUI\Address=127.0.0.1', "WebUI\Port=$Port", 'WebUI\CSRFProtection=false', 'WebUI\HostHeaderValidation=false',
        'WebUI\LocalHostAuth=false', 'Connection\UPnP=false', 'Connection\ResolvePeerCountries=false') |
        Set-Content "$profile/qBittorrent/config/qBittorrent.conf"
    $qbt = Start-Process qbittorrent-nox -ArgumentList "--profile=$profile" -PassThru -RedirectStandardOutput "$work/qbt.out" -RedirectStandardError "$work/qbt.err"
    $api = "http://127.0.0.1:$Port/api/v2"
    $deadline = [DateTime]::UtcNow.AddSeconds(30)
    while ($true) {
        try { Invoke-RestMethod "$api/app/version" | Out-Null; break }
        catch { if ($qbt.HasExited -or [DateTime]::UtcNow -gt $deadline) { throw "qbittorrent-nox did not answer on port $Port (exited: $($qbt.HasExited))." }; Start-Sleep -Milliseconds 200 }
    }

    # Setup run inside the tour's session (not shown): torrents before the first sync, and the pool,
    # a film hard-linked into a library and its torrent before the first rehome plan.
    $addTorrent = @'
function Add-TourTorrent([string] $Content, [int] $PieceExponent, [string] $Category) {
    $file = Join-Path $tourWork ("{0}-{1}.torrent" -f (Split-Path -Leaf $Content), $PieceExponent)
    & mktorrent -p -l $PieceExponent -a http://127.0.0.1:1/announce -o $file $Content | Out-Null
    if ($LASTEXITCODE) { throw "mktorrent $Content failed" }
    $form = @{ torrents = Get-Item $file; savepath = (Split-Path $Content); category = $Category }
    Invoke-RestMethod -Method Post "$tourApi/torrents/add" -Form $form | Out-Null
}
function Wait-TourTorrents([int] $Count) {
    $deadline = [DateTime]::UtcNow.AddSeconds(60)
    do {
        Start-Sleep -Milliseconds 200
        $all = @(Invoke-RestMethod "$tourApi/torrents/info" | ForEach-Object { $_ })
        $ready = @($all | Where-Object { $_.progress -eq 1 -and $_.state -notmatch '^checking|^moving|^allocating|^metaDL' })
    } until ($ready.Count -ge $Count -or [DateTime]::UtcNow -gt $deadline)
    if ($ready.Count -lt $Count) { throw "qBittorrent has $($ready.Count) of $Count torrents complete: $(($all | ForEach-Object { "$($_.name) $($_.state)" }) -join ', ')" }
}
'@
    $beforeSync = @'
Invoke-RestMethod -Method Post "$tourApi/torrents/createCategory" -Form @{ category = 'tv'; savePath = '' } | Out-Null
Add-TourTorrent (Join-Path $tourStash 'torrents/Show.S01') 18 tv
Add-TourTorrent (Join-Path $tourStash 'torrents/Show.S01') 20 tv
Add-TourTorrent (Join-Path $tourStash 'torrents/Show.S01E01.copy.mkv') 16 tv
# The same season from another tracker under another root name, hard-linked as cross-seeding does.
$other = Join-Path $tourStash 'torrents/Show S01 1080p WEB'
New-Item -ItemType Directory -Path $other | Out-Null
Get-ChildItem (Join-Path $tourStash 'torrents/Show.S01') -File | ForEach-Object { New-Item -ItemType HardLink -Path (Join-Path $other $_.Name) -Target $_.FullName | Out-Null }
Invoke-HashallScan $tourStash | Out-Null
Add-TourTorrent $other 19 tv
Wait-TourTorrents 4
'@
    $beforeRehome = @'
& mount -t tmpfs -o size=64m hashall-tour-pool $tourPool; if ($LASTEXITCODE) { throw "mount $tourPool failed" }
$film = New-Item -ItemType Directory -Path (Join-Path $tourStash 'torrents/Film.2019')
$bytes = [byte[]]::new(4000000); [Random]::new(2019).NextBytes($bytes)
[IO.File]::WriteAllBytes((Join-Path $film 'Film.2019.mkv'), $bytes)
New-Item -ItemType Directory -Path (Join-Path $tourStash 'library') | Out-Null
New-Item -ItemType HardLink -Path (Join-Path $tourStash 'library/Film (2019).mkv') -Target (Join-Path $film 'Film.2019.mkv') | Out-Null
Invoke-RestMethod -Method Post "$tourApi/torrents/createCategory" -Form @{ category = 'movies'; savePath = '' } | Out-Null
Add-TourTorrent $film.FullName 18 tv
Wait-TourTorrents 5
Set-HashallDevice -Device $tourPool -Alias pool
Invoke-HashallScan $tourStash | Out-Null
Invoke-HashallScan $tourPool | Out-Null
Sync-HashallPayload -Uri "http://127.0.0.1:$tourPort" | Out-Null
$env:QBITTORRENT_URL = "http://127.0.0.1:$tourPort"  # the README's Invoke-RehomePlan has no -Uri
'@

    $beforeFind = @'
# A .torrent of the film under another root name, as another tracker would pack it.
New-Item -ItemType Directory -Path (Join-Path $tourStash 'watch') | Out-Null
& mktorrent -p -l 18 -n Film.2019.1080p -a http://127.0.0.1:1/announce -o (Join-Path $tourStash 'watch/Film.2019.1080p.torrent') (Join-Path $tourStash 'torrents/Film.2019') | Out-Null
if ($LASTEXITCODE) { throw 'mktorrent Film.2019.1080p failed' }
'@

    # The session: each command echoed after a marker line, then what pwsh prints for it.
    $marker = "##TOUR-" + [guid]::NewGuid().ToString('N')
    $script = [Text.StringBuilder]::new()
    [void] $script.AppendLine(@"
`$ErrorActionPreference = 'Continue'
`$PSStyle.OutputRendering = 'PlainText'
`$ProgressPreference = 'SilentlyContinue'
`$env:HASHALL_DB = '$catalog'
`$tourWork = '$work'; `$tourStash = '$stash'; `$tourPool = '$pool'; `$tourPort = $Port; `$tourApi = '$api'
Set-Location '$work'
Import-Module '$Module'
$addTorrent
`$tourFailed = 0
"@)
    $syncDone = $false; $rehomeDone = $false; $findDone = $false
    for ($i = 0; $i -lt $commands.Count; $i++) {
        $command = $commands[$i]
        $setup = $null
        if (-not $syncDone -and $command -match '^Sync-HashallPayload') { $setup = $beforeSync; $syncDone = $true }
        if (-not $rehomeDone -and $command -match '^New-RehomePlan') { $setup = $beforeRehome; $rehomeDone = $true }
        if (-not $findDone -and $command -match 'Find-HashallTorrentData') { $setup = $beforeFind; $findDone = $true }
        if ($setup) { [void] $script.AppendLine("try {`n$setup`n} catch { `$tourFailed++; `"$marker ERROR setup: `$(`$_.Exception.Message)`" }; `$Error.Clear()") }
        $run = (& $inTour $command).Replace("'", "''")
        [void] $script.AppendLine(@"
'$marker $i'
try { Invoke-Expression '$run' | Out-String -Stream -Width 160 }
catch { `$tourFailed++; "$marker ERROR `$(`$_.FullyQualifiedErrorId): `$(`$_.Exception.Message)" }
if (`$Error.Count) { `$Error | ForEach-Object { "$marker ERROR `$(`$_.FullyQualifiedErrorId): `$(`$_.Exception.Message)" }; `$tourFailed += `$Error.Count; `$Error.Clear() }
"@)
    }
    [void] $script.AppendLine("'$marker END'; exit [int](`$tourFailed -gt 0)")
    $scriptFile = Join-Path $work 'tour.ps1'
    Set-Content -Path $scriptFile -Value $script.ToString()
    $env:COLUMNS = 160
    $lines = @(& (Get-Process -Id $PID).Path -NoProfile -NonInteractive -File $scriptFile 2>&1 | ForEach-Object { "$_" })
    $exit = $LASTEXITCODE
}
finally {
    if ($qbt -and -not $qbt.HasExited) { Stop-Process -Id $qbt.Id; $qbt.WaitForExit(10000) | Out-Null }
    foreach ($dir in $pool, $stash) {
        if ((Get-Content /proc/mounts) -match " $([regex]::Escape($dir)) ") { & umount -l $dir }
    }
    Remove-Item $work -Recurse -Force -ErrorAction SilentlyContinue
    foreach ($dir in $created) { if (-not @(Get-ChildItem -Force $dir -ErrorAction SilentlyContinue).Count) { Remove-Item $dir -ErrorAction SilentlyContinue } }
    if ($Root -and (Test-Path "$Root/srv") -and -not @(Get-ChildItem -Force "$Root/srv").Count) { Remove-Item "$Root/srv" }
}

# Split the transcript by command: output lines after each marker, paths back to the README's.
$outputs = @{}; $errors = [Collections.Generic.List[string]]::new(); $current = -1
foreach ($line in $lines) {
    if ($line.StartsWith($marker)) {
        $rest = $line.Substring($marker.Length + 1)
        if ($rest.StartsWith('ERROR')) { $errors.Add("$($commands[$current]): $rest"); continue }
        if ($rest -eq 'END') { $current = -1; continue }
        $current = [int] $rest; $outputs[$current] = [Collections.Generic.List[string]]::new(); continue
    }
    if ($current -ge 0) { $outputs[$current].Add((& $fromTour $line).TrimEnd()) }
    elseif ($line.Trim()) { $errors.Add("setup: $line") }
}
if ($exit -ne 0 -and -not $errors.Count) { $errors.Add("the tour's pwsh exited with $exit") }

# Each command's block text: "PS> command", its output; a blank line after pipeline output, as pwsh shows it.
$index = 0
$transcripts = foreach ($block in $blocks) {
    $sb = [Text.StringBuilder]::new()
    foreach ($command in $block.Commands) {
        [void] $sb.Append("PS> $command`n")
        $out = @(if ($outputs.ContainsKey($index)) { $outputs[$index] })
        $last = $out.Count - 1
        while ($last -ge 0 -and -not $out[$last]) { $last-- }
        if ($last -ge 0) { foreach ($l in $out[0..$last]) { [void] $sb.Append("$l`n") } }
        # pwsh leaves a blank line after formatted output, none after host lines (What if: ...).
        if ($last -ge 0 -and $command -ne $block.Commands[-1] -and $out[$last] -notmatch '^(What if:|  \d+\. )') { [void] $sb.Append("`n") }
        $index++
    }
    [pscustomobject]@{ Old = $block.Group.Value; New = $sb.ToString() }
}

if ($AsObject) {
    [pscustomobject]@{ Commands = $commands; Outputs = @(0..($commands.Count - 1) | ForEach-Object { , @($(if ($outputs.ContainsKey($_)) { $outputs[$_] } else { @() })) }); Errors = @($errors); Blocks = @($transcripts) }
}
elseif ($Update) {
    if ($errors.Count) { throw "The tour failed; README not changed:`n  $($errors -join "`n  ")" }
    $newSection = $section.Value
    foreach ($t in $transcripts) { $newSection = $newSection.Replace("``````text`n$($t.Old)``````", "``````text`n$($t.New)``````") }
    [IO.File]::WriteAllText($Readme, $text.Substring(0, $section.Index) + $newSection + $text.Substring($section.Index + $section.Length))
    Write-Host "README tour updated: $($commands.Count) commands in $($blocks.Count) blocks."
}
else {
    foreach ($t in $transcripts) { '```text'; $t.New.TrimEnd("`n"); '```'; '' }
}
if ($errors.Count) { Write-Error "The tour failed:`n  $($errors -join "`n  ")" -ErrorAction Continue; exit 1 }
