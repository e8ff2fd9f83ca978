#requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0.0' }
# Pester 5 suite for pwsh users: the same cmdlets the xunit hosted-engine tests cover, run from a real
# pwsh against the built module folder (./build.ps1 -Task Build, Pester).

BeforeAll {
    $script:moduleDir = Join-Path $PSScriptRoot '../../out/Hashall'
    Import-Module (Join-Path $moduleDir 'Hashall.psd1') -Force -ErrorAction Stop
    $script:db = Join-Path $TestDrive 'catalog.db'
    $PSDefaultParameterValues['*-Hashall*:Database'] = $db
    $PSDefaultParameterValues['*-Rehome*:Database'] = $db
}

AfterAll {
    Remove-Module Hashall -ErrorAction SilentlyContinue
}

Describe 'Module' {
    It 'exports the cmdlets its manifest lists' {
        $manifest = Test-ModuleManifest (Join-Path $moduleDir 'Hashall.psd1')
        (Get-Module Hashall).ExportedCmdlets.Keys | Sort-Object |
            Should -Be ($manifest.ExportedCmdlets.Keys | Sort-Object)
    }

    It 'has full help for <_>' -ForEach @('Invoke-HashallScan', 'Get-HashallFile', 'Get-HashallDuplicate', 'Get-HashallDevice', 'Set-HashallDevice',
        'New-HashallLinkPlan', 'Get-HashallLinkPlan', 'Invoke-HashallLinkPlan',
        'Sync-HashallPayload', 'Get-HashallTorrent', 'Get-HashallPayload', 'Get-HashallSibling', 'New-RehomePlan', 'Invoke-RehomePlan',
        'Test-HashallTorrent', 'Find-HashallTorrentData') {
        $help = Get-Help $_ -Full
        $help.Synopsis | Should -Not -BeNullOrEmpty
        $help.Description | Should -Not -BeNullOrEmpty
        @($help.Examples.Example).Count | Should -BeGreaterThan 0
    }
}

Describe 'Set-HashallDevice and Get-HashallDevice' {
    BeforeAll {
        $script:dir = Join-Path $TestDrive 'data'
        New-Item -ItemType Directory -Path $dir | Out-Null
    }

    It 'previews registration with -WhatIf and changes nothing' {
        Set-HashallDevice -Device $dir -Alias scratch -WhatIf
        $db | Should -Not -Exist
        { Get-HashallDevice -ErrorAction Stop } |
            Should -Throw -ErrorId 'CatalogNotFound,Hashall.PowerShell.Devices.GetHashallDeviceCommand'
    }

    It 'registers the filesystem of a path and names it' {
        $device = Set-HashallDevice -Device $dir -Alias scratch -PassThru
        $device.Alias | Should -Be 'scratch'
        $device.PSObject.TypeNames[0] | Should -Be 'Hashall.Core.Devices.HashallDevice'
        (Get-HashallDevice -Device scratch).DeviceId | Should -Be $device.DeviceId
    }

    It 'filters in the pipeline and binds devices by property name' {
        Get-HashallDevice | Where-Object Alias -eq 'scratch' | Set-HashallDevice -Alias renamed -Confirm:$false
        (Get-HashallDevice -Device 'ren*').Alias | Should -Be 'renamed'
    }

    It 'refuses an unknown alias with a stable error id' {
        { Get-HashallDevice -Device nosuch -ErrorAction Stop } |
            Should -Throw -ErrorId 'DeviceNotFound,Hashall.PowerShell.Devices.GetHashallDeviceCommand'
    }

    It 'refuses a catalog in a missing directory and creates nothing' {
        $missing = Join-Path $TestDrive 'missing/catalog.db'
        { Get-HashallDevice -Database $missing } |
            Should -Throw -ErrorId 'CatalogNotFound,Hashall.PowerShell.Devices.GetHashallDeviceCommand'
        { Set-HashallDevice -Device $dir -Alias x -Database $missing } |
            Should -Throw -ErrorId 'CatalogDirectoryNotFound,Hashall.PowerShell.Devices.SetHashallDeviceCommand'
        Join-Path $TestDrive 'missing' | Should -Not -Exist
    }

    It 'never creates a catalog from a query, a typo or a special name' {
        $typo = Join-Path $TestDrive 'typo.db'
        { Get-HashallFile -Database $typo } | Should -Throw -ErrorId 'CatalogNotFound,Hashall.PowerShell.Catalog.GetHashallFileCommand'
        $typo | Should -Not -Exist
        { Set-HashallDevice -Device $dir -Alias x -Database /dev/null } | Should -Throw -ErrorId 'CatalogNotAFile,Hashall.PowerShell.Devices.SetHashallDeviceCommand'
        { Set-HashallDevice -Device $dir -Alias x -Database ':memory:' } | Should -Throw -ErrorId 'CatalogPathInvalid,Hashall.PowerShell.Devices.SetHashallDeviceCommand'
        { Set-HashallDevice -Device $dir -Alias x -Database ' ' } | Should -Throw -ErrorId 'CatalogPathInvalid,Hashall.PowerShell.Devices.SetHashallDeviceCommand'
    }
}

Describe 'Invoke-HashallScan, Get-HashallFile and Get-HashallDuplicate' {
    BeforeAll {
        $script:tree = Join-Path $TestDrive 'tree'
        New-Item -ItemType Directory -Path (Join-Path $tree 'a'), (Join-Path $tree 'b') | Out-Null
        $bytes = [byte[]]::new(20000); [Random]::new(1).NextBytes($bytes)
        [IO.File]::WriteAllBytes((Join-Path $tree 'a/one.bin'), $bytes)
        [IO.File]::WriteAllBytes((Join-Path $tree 'b/copy.bin'), $bytes)
        Set-Content -Path (Join-Path $tree 'a/note.txt') -Value 'hello'
        # Files hashed within 2 s of being written are racily clean and read once more by the next
        # scan (as in git's index): give them the age files usually have.
        Get-ChildItem $tree -Recurse -File | ForEach-Object { $_.LastWriteTimeUtc = [datetime]::UtcNow.AddHours(-1) }
    }

    It 'previews a scan with -WhatIf and writes nothing' {
        Invoke-HashallScan -Path $tree -WhatIf | Should -BeNullOrEmpty
        $db | Should -Not -Exist
        { Get-HashallFile -Path $tree -ErrorAction Stop } |
            Should -Throw -ErrorId 'CatalogNotFound,Hashall.PowerShell.Catalog.GetHashallFileCommand'
    }

    It 'catalogs every file with the hash Get-FileHash computes' {
        $result = Invoke-HashallScan -Path $tree
        $result.Added | Should -Be 3
        $result.Completed | Should -BeTrue
        foreach ($file in Get-ChildItem $tree -Recurse -File) {
            (Get-HashallFile -Path $file.FullName).Sha1 | Should -Be (Get-FileHash $file.FullName -Algorithm SHA1).Hash.ToLowerInvariant()
        }
    }

    It 'rescans without reading unchanged files' {
        $again = Invoke-HashallScan -Path $tree
        $again.Unchanged | Should -Be 3
        $again.Hashed | Should -Be 0
    }

    It 'accepts directories from Get-ChildItem' {
        $result = Get-ChildItem $tree -Directory | Invoke-HashallScan
        @($result.Roots).Count | Should -Be 2
    }

    It 'finds the duplicate pair and what linking would reclaim' {
        $group = Get-HashallDuplicate
        $group.FileCount | Should -Be 2
        $group.ReclaimableBytes | Should -Be 20000
    }

    It 'filters files in the pipeline' {
        Get-HashallFile -Path $tree | Where-Object Size -gt 1000 | Should -HaveCount 2
    }
}

Describe 'New-HashallLinkPlan, Get-HashallLinkPlan and Invoke-HashallLinkPlan' {
    BeforeAll {
        $script:links = Join-Path $TestDrive 'links'
        New-Item -ItemType Directory -Path $links | Out-Null
        $bytes = [byte[]]::new(30000); [Random]::new(2).NextBytes($bytes)
        [IO.File]::WriteAllBytes((Join-Path $links 'one.bin'), $bytes)
        [IO.File]::WriteAllBytes((Join-Path $links 'two.bin'), $bytes)
        Invoke-HashallScan -Path $links | Out-Null
    }

    It 'previews a plan with -WhatIf and stores nothing' {
        $preview = New-HashallLinkPlan -Path $links -WhatIf
        $preview.Status | Should -Be 'preview'
        Get-HashallLinkPlan | Should -BeNullOrEmpty
    }

    It 'plans, executes and records the outcome' {
        $result = New-HashallLinkPlan -Path $links -Name pester | Invoke-HashallLinkPlan -Confirm:$false
        $result.Linked | Should -Be 1
        $result.BytesReclaimed | Should -Be 30000
        (Get-HashallLinkPlan -Status done).Name | Should -Contain 'pester'
        (Get-Item (Join-Path $links 'two.bin')).LinkType | Should -Be 'HardLink'
        (Get-FileHash (Join-Path $links 'two.bin')).Hash | Should -Be (Get-FileHash (Join-Path $links 'one.bin')).Hash
    }
}

Describe 'Get-HashallPayload -Path' {
    It 'computes the payload of a scanned directory with paths relative to it, as a torrent of it would' {
        $show = Join-Path $TestDrive 'payload/Show.S01'
        New-Item -ItemType Directory -Path $show | Out-Null
        Set-Content -Path (Join-Path $show 'e01.mkv') -Value 'episode' -NoNewline
        Invoke-HashallScan -Path $show | Out-Null
        $payload = Get-HashallPayload -Path $show
        $payload.Status | Should -Be 'complete'
        $sha1 = (Get-FileHash (Join-Path $show 'e01.mkv') -Algorithm SHA1).Hash.ToLowerInvariant()
        $line = [Text.Encoding]::UTF8.GetBytes("e01.mkv|7|$sha1`n")
        $expected = -join ([Security.Cryptography.SHA256]::Create().ComputeHash($line) | ForEach-Object { $_.ToString('x2') })
        $payload.PayloadHash | Should -Be $expected
    }

    It 'refuses a qBittorrent that is not there with a clear error' {
        { Sync-HashallPayload -Uri 'http://127.0.0.1:9' } |
            Should -Throw -ErrorId 'QBittorrentUnreachable,Hashall.PowerShell.Payloads.SyncHashallPayloadCommand'
    }
}

Describe 'Invoke-RehomePlan without qBittorrent' {
    BeforeAll {
        $script:move = [Hashall.Core.Rehome.RehomePlan]@{
            Name = 'Show.S01'; Decision = 'Move'; Direction = 'Demote'; PayloadHash = ('ab' * 32)
            SourcePath = '/srv/stash/torrents/Show.S01'; TargetPath = '/mnt/pool/torrents/tv/Show.S01'; TargetSavePath = '/mnt/pool/torrents/tv'
            FileCount = 3; TotalBytes = 3000
        }
        $move.SeedingRoots.Add('/srv/stash/torrents')
        $move.Torrents.Add([Hashall.Core.Rehome.RehomeTorrent]@{ TorrentHash = ('cd' * 20); Name = 'Show.S01'; Role = 'relocate' })
    }

    It 'lists every step with -WhatIf and writes nothing' {
        $move | Invoke-RehomePlan -WhatIf | Should -BeNullOrEmpty
    }

    It 'reports a blocked plan as Blocked without contacting qBittorrent' {
        $blocked = [Hashall.Core.Rehome.RehomePlan]@{ Name = 'Film.2019'; Decision = 'Block' }
        $blocked.Reasons.Add('external consumer')
        $result = $blocked | Invoke-RehomePlan -Uri 'http://127.0.0.1:9' -Confirm:$false
        $result.Status | Should -Be 'Blocked'
        $result.Message | Should -Be 'external consumer'
    }

    It 'refuses a file that is not a plan with a stable error id' {
        $bad = Join-Path $TestDrive 'bad.json'
        Set-Content -Path $bad -Value '{ not json'
        { Invoke-RehomePlan -Path $bad -Confirm:$false } |
            Should -Throw -ErrorId 'RehomePlanFileInvalid,Hashall.PowerShell.Rehome.InvokeRehomePlanCommand'
    }

    It 'refuses a qBittorrent that is not there before changing anything' {
        { $move | Invoke-RehomePlan -Uri 'http://127.0.0.1:9' -Confirm:$false } |
            Should -Throw -ErrorId 'QBittorrentUnreachable,Hashall.PowerShell.Rehome.InvokeRehomePlanCommand'
    }
}

Describe 'Test-HashallTorrent' {
    BeforeAll {
        $script:content = Join-Path $TestDrive 'Show [2024] S01'
        New-Item -ItemType Directory -Path (Join-Path $content 'Subs') | Out-Null
        $rng = [Random]::new(13)
        foreach ($f in @(@('e01.mkv', 200000), @('e02.mkv', 150001), @('Subs/en.srt', 3000))) {
            $b = [byte[]]::new($f[1]); $rng.NextBytes($b); [IO.File]::WriteAllBytes((Join-Path $content $f[0]), $b)
        }
        $script:torrents = Join-Path $TestDrive 'watch'
        New-Item -ItemType Directory -Path $torrents | Out-Null
        $script:torrent = Join-Path $torrents 'Show [2024] S01.torrent'
        & mktorrent -p -l 15 -a http://127.0.0.1:1/announce -o $torrent $content | Out-Null
        $script:haveMktorrent = $LASTEXITCODE -eq 0
    }

    It 'checks .torrent files piped from Get-ChildItem, brackets in the name taken literally' {
        if (-not $haveMktorrent) { Set-ItResult -Skipped -Because 'mktorrent is not installed' }
        $r = Get-ChildItem $torrents -Filter *.torrent | Test-HashallTorrent -SavePath $TestDrive
        $r.Status | Should -Be Complete
        $r.PiecesBad | Should -Be 0
        $r.Files.Count | Should -Be 3
        ($r | Format-Table | Out-String) | Should -Match 'Complete\s+11\s+0'
    }

    It 'names the damaged file and its bad bytes' {
        if (-not $haveMktorrent) { Set-ItResult -Skipped -Because 'mktorrent is not installed' }
        $file = Join-Path $content 'e02.mkv'
        $bytes = [IO.File]::ReadAllBytes($file); $bytes[70000] = $bytes[70000] -bxor 1; [IO.File]::WriteAllBytes($file, $bytes)
        $r = Test-HashallTorrent $torrent -Path $content
        $r.Status | Should -Be Damaged
        $bad = $r.Files | Where-Object Status -eq Damaged
        $bad.RelativePath | Should -Be 'e02.mkv'
        $bad.BadRanges.Count | Should -Be 1
    }

    It 'previews with -WhatIf and refuses -Path with -SavePath by a stable error id' {
        if (-not $haveMktorrent) { Set-ItResult -Skipped -Because 'mktorrent is not installed' }
        Test-HashallTorrent $torrent -Path $content -WhatIf | Should -BeNullOrEmpty
        { Test-HashallTorrent $torrent -Path $content -SavePath $TestDrive -ErrorAction Stop } |
            Should -Throw -ErrorId 'TorrentPathConflict,Hashall.PowerShell.Torrents.TestHashallTorrentCommand'
    }
}

Describe 'Find-HashallTorrentData' {
    BeforeAll {
        # The torrent is made from the data under its release names; the catalog holds a copy under other names.
        $script:release = Join-Path $TestDrive 'release/Film [2021]'
        $script:library = Join-Path $TestDrive 'library/films'
        New-Item -ItemType Directory -Path $release, $library | Out-Null
        $rng = [Random]::new(21)
        foreach ($f in @(@('film.mkv', 'Film (2021).mkv', 300000), @('film.srt', 'Film (2021).en.srt', 4000))) {
            $b = [byte[]]::new($f[2]); $rng.NextBytes($b)
            [IO.File]::WriteAllBytes((Join-Path $release $f[0]), $b)
            [IO.File]::WriteAllBytes((Join-Path $library $f[1]), $b)
        }
        $script:watch = Join-Path $TestDrive 'find-watch'
        New-Item -ItemType Directory -Path $watch | Out-Null
        & mktorrent -p -l 15 -a http://127.0.0.1:1/announce -o (Join-Path $watch 'Film [2021].torrent') $release | Out-Null
        $script:haveMktorrent = $LASTEXITCODE -eq 0
        Remove-Item -Recurse -LiteralPath (Join-Path $TestDrive 'release')
        Invoke-HashallScan $library | Out-Null
    }

    It 'finds renamed data for .torrent files piped from Get-ChildItem, and says CatalogNotFound without a catalog' {
        if (-not $haveMktorrent) { Set-ItResult -Skipped -Because 'mktorrent is not installed' }
        $r = Get-ChildItem $watch -Filter *.torrent | Find-HashallTorrentData | Where-Object Status -eq Complete
        $r.Name | Should -Be 'Film [2021]'
        $r.Share | Should -Be 1
        ($r.Files | Where-Object RelativePath -eq 'film.mkv').MatchedPath | Should -Be (Join-Path $library 'Film (2021).mkv')
        ($r | Format-Table | Out-String) | Should -Match 'Complete\s+100\.0 %'
        $missing = Join-Path $TestDrive 'no-such.db'
        { Find-HashallTorrentData $watch -Database $missing -ErrorAction Stop } |
            Should -Throw -ErrorId 'CatalogNotFound,Hashall.PowerShell.Torrents.FindHashallTorrentDataCommand'
        Test-Path $missing | Should -BeFalse
    }
}

Describe 'Get-Help as pwsh renders it' {
    BeforeDiscovery {
        $script:cmdlets = (Import-PowerShellDataFile (Join-Path $PSScriptRoot '../../Hashall.psd1')).CmdletsToExport
    }

    It 'renders -Full for <_> with every section, parameter and example, and no Markdown left over' -ForEach $cmdlets {
        $text = Get-Help $_ -Full | Out-String -Width 1000
        foreach ($section in 'NAME', 'SYNOPSIS', 'SYNTAX', 'DESCRIPTION', 'PARAMETERS', 'INPUTS', 'OUTPUTS', 'RELATED LINKS') {
            $text | Should -Match "(?m)^$section\s*$"
        }
        $text | Should -Match "(?m)^\s+$_ "
        $common = [Management.Automation.Cmdlet]::CommonParameters + [Management.Automation.Cmdlet]::OptionalCommonParameters
        foreach ($parameter in (Get-Command $_).Parameters.Keys | Where-Object { $_ -notin $common }) {
            $text | Should -Match "(?m)^\s+-$parameter( <[^>]+>)?\s*$" -Because "-$parameter is documented"
        }
        $examples = @((Get-Help $_).Examples.Example)
        $examples.Count | Should -BeGreaterThan 0
        $text | Should -Match 'Example 1:'
        $text | Should -Match ([regex]::Escape(($examples[0].Code -split "`n")[0].Trim()))
        $text | Should -Not -Match '```'
        $text | Should -Not -Match '\u0080'
    }

    It 'renders -Examples for <_>: each example titled, with its code, and no parameter section' -ForEach $cmdlets {
        $text = Get-Help $_ -Examples | Out-String -Width 1000
        $examples = @((Get-Help $_).Examples.Example)
        for ($i = 1; $i -le $examples.Count; $i++) { $text | Should -Match "Example ${i}:" }
        foreach ($example in $examples) { $text | Should -Match ([regex]::Escape(($example.Code -split "`n")[0].Trim())) }
        $text | Should -Not -Match '(?m)^PARAMETERS\s*$'
    }
}

Describe 'Tab completion (TabExpansion2)' {
    BeforeAll {
        $script:cdb = Join-Path $TestDrive 'completion.db'
        $dir = Join-Path $TestDrive 'completion'
        New-Item -ItemType Directory -Path $dir | Out-Null
        $bytes = [byte[]]::new(5000); [Random]::new(3).NextBytes($bytes)
        [IO.File]::WriteAllBytes((Join-Path $dir 'a.bin'), $bytes)
        [IO.File]::WriteAllBytes((Join-Path $dir 'b.bin'), $bytes)
        Set-HashallDevice -Device $dir -Alias tabdevice -Database $cdb
        Invoke-HashallScan -Path $dir -Database $cdb | Out-Null
        $script:plan = New-HashallLinkPlan -Path $dir -Name tabplan -Database $cdb
        function script:Complete([string] $line) { (TabExpansion2 -inputScript $line -cursorColumn $line.Length).CompletionMatches }
    }

    It 'offers device aliases for -Device' {
        $matches = Complete "Get-HashallDevice -Database '$cdb' -Device tab"
        $matches.CompletionText | Should -Be @('tabdevice')
    }

    It 'offers device aliases and ids for -Device of every cmdlet that takes one' -ForEach @('Get-HashallFile', 'Get-HashallDuplicate', 'New-HashallLinkPlan', 'Set-HashallDevice') {
        (Complete "$_ -Database '$cdb' -Device ").CompletionText | Should -Contain 'tabdevice'
    }

    It 'offers link plan ids, with their name, for -Id' {
        $matches = @(Complete "Get-HashallLinkPlan -Database '$cdb' -Id ")
        $matches.CompletionText | Should -Be @("$($plan.PlanId)")
        $matches[0].ListItemText | Should -Match 'tabplan'
        (Complete "Invoke-HashallLinkPlan -Database '$cdb' -Id ").CompletionText | Should -Be @("$($plan.PlanId)")
    }

    It 'offers nothing, and creates nothing, for a catalog that does not exist' {
        $missing = Join-Path $TestDrive 'no-such.db'
        Complete "Get-HashallDevice -Database '$missing' -Device " | Should -BeNullOrEmpty
        $missing | Should -Not -Exist
    }
}

Describe 'What a script sees' {
    BeforeAll {
        $script:pwsh = (Get-Process -Id $PID).Path
        $script:manifest = (Resolve-Path (Join-Path $moduleDir 'Hashall.psd1')).Path
        $script:sdb = Join-Path $TestDrive 'script.db'
        $script:sdir = Join-Path $TestDrive 'script-data'
        New-Item -ItemType Directory -Path $sdir | Out-Null
        Set-HashallDevice -Device $sdir -Alias scripted -Database $sdb
    }

    It 'prints -WhatIf text to the host, naming the operation and the device, and changes nothing' {
        # -WhatIf writes to the host, not the pipeline: a new pwsh's stdout is what a user sees.
        $out = & $pwsh -NoProfile -NonInteractive -Command "Import-Module '$manifest'; Set-HashallDevice -Device scripted -Alias renamed -WhatIf -Database '$sdb'"
        $LASTEXITCODE | Should -Be 0
        ($out -join "`n") | Should -Match ([regex]::Escape("What if: Performing the operation `"Set alias 'renamed'`" on target `"device ") + "\d+ 'scripted' at '" + [regex]::Escape((Get-HashallDevice -Device scripted -Database $sdb).MountPoint) + "'`"")
        (Get-HashallDevice -Database $sdb).Alias | Should -Be 'scripted'
    }

    It 'stops a script at a terminating error with the stable error id, which try/catch sees' {
        $script = Join-Path $TestDrive 'stop.ps1'
        Set-Content -Path $script -Value @"
`$ErrorActionPreference = 'Stop'
Import-Module '$manifest'
try {
    Get-HashallDevice -Device nosuch -Database '$sdb'
    'not reached'
}
catch {
    "caught `$(`$_.FullyQualifiedErrorId) `$(`$_.CategoryInfo.Category)"
}
Get-HashallDevice -Device nosuch -Database '$sdb'
'after the uncaught error'
"@
        $out = & $pwsh -NoProfile -NonInteractive -File $script 2>&1 | ForEach-Object { "$_" }
        $LASTEXITCODE | Should -Be 1
        $out | Should -Contain 'caught DeviceNotFound,Hashall.PowerShell.Devices.GetHashallDeviceCommand ObjectNotFound'
        $out | Should -Not -Contain 'not reached'
        $out | Should -Not -Contain 'after the uncaught error'
        ($out -join "`n") | Should -Match 'nosuch'
    }

    It 'continues after a non-terminating error when the preference is Continue' {
        $out = & $pwsh -NoProfile -NonInteractive -Command "Import-Module '$manifest'; Get-HashallFile -Path '$(Join-Path $TestDrive 'not-scanned')' -Database '$sdb'; 'after'" 2>&1 | ForEach-Object { "$_" }
        $out | Should -Contain 'after'
    }
}

Describe "README's quick tour, run as written" {
    BeforeDiscovery {
        # Capabilities, not the OS name: the tour mounts tmpfs filesystems and starts a qBittorrent.
        $script:canMount = $false
        $has = { param($tool) [bool] @(Get-Command $tool -CommandType Application -ErrorAction SilentlyContinue).Count }
        if ((& $has mount) -and (& $has umount)) {
            $probe = Join-Path ([IO.Path]::GetTempPath()) ("hashall-mount-probe-" + [guid]::NewGuid().ToString('N'))
            New-Item -ItemType Directory -Path $probe | Out-Null
            & mount -t tmpfs -o size=1m hashall-probe $probe 2>$null
            if ($LASTEXITCODE -eq 0) { $script:canMount = $true; & umount $probe }
            Remove-Item $probe
        }
        $script:hasQbt = (& $has qbittorrent-nox) -and (& $has mktorrent)
        $script:skipTour = -not ($canMount -and $hasQbt)
    }

    BeforeAll {
        $listener = [Net.Sockets.TcpListener]::new([Net.IPAddress]::Loopback, 0); $listener.Start()
        $port = $listener.LocalEndpoint.Port; $listener.Stop()
        $script:tourDb = Join-Path $TestDrive 'tour.db'
        if (-not $skipTour) {
            $script:tour = & (Join-Path $PSScriptRoot '../../tools/readme-tour.ps1') -Root (Join-Path $TestDrive 'tour') -Port $port -Database $tourDb -AsObject
        }

        # The shape of a command's output: table headers, list labels, What if: lines up to the first quote.
        function script:Get-Shape([string[]] $lines) {
            for ($i = 0; $i -lt $lines.Count; $i++) {
                $line = $lines[$i]
                if ($i + 1 -lt $lines.Count -and $lines[$i + 1] -match '^\s*-{2,}[- ]*$') { 'table: ' + ($line.Trim() -replace '\s+', ' ') }
                elseif ($line -match '^(\w+)\s+: ') { 'list: ' + $Matches[1] }
                elseif ($line -match '^What if: ([^''"]*)') { 'whatif: ' + $Matches[1] }
            }
        }
    }

    It 'runs every command without an error' -Skip:$skipTour {
        $tour.Errors | Should -BeNullOrEmpty
        $tour.Commands.Count | Should -BeGreaterThan 10
    }

    It 'prints what README shows for each command: the same tables, lists and What if lines' -Skip:$skipTour {
        $index = 0; $compared = 0
        foreach ($block in $tour.Blocks) {
            $shown = [Collections.Generic.List[object]]::new()
            foreach ($line in $block.Old -split "`n") {
                if ($line.StartsWith('PS> ')) { $shown.Add([Collections.Generic.List[string]]::new()) }
                elseif ($shown.Count) { $shown[$shown.Count - 1].Add($line) }
            }
            foreach ($lines in $shown) {
                $expected = @(Get-Shape $lines)
                $compared += $expected.Count
                $actual = @(Get-Shape $tour.Outputs[$index])
                ($actual -join "`n") | Should -BeExactly ($expected -join "`n") -Because "PS> $($tour.Commands[$index])"
                $index++
            }
        }
        $index | Should -Be $tour.Commands.Count
        $compared | Should -BeGreaterThan 20
    }

    It 'completes torrent hashes by name for -TorrentHash from the tour''s catalog' -Skip:$skipTour {
        $line = "Get-HashallTorrent -Database '$tourDb' -TorrentHash Show.S01E01"
        $matches = @((TabExpansion2 -inputScript $line -cursorColumn $line.Length).CompletionMatches)
        $matches.Count | Should -Be 1
        $matches[0].CompletionText | Should -Match '^[0-9a-f]{40}$'
        $matches[0].ListItemText | Should -Be 'Show.S01E01.copy.mkv'
        (Get-HashallTorrent -Database $tourDb -TorrentHash $matches[0].CompletionText).Name | Should -Be 'Show.S01E01.copy.mkv'
        $line = "New-RehomePlan -Database '$tourDb' -TorrentHash Show.S01"
        @((TabExpansion2 -inputScript $line -cursorColumn $line.Length).CompletionMatches).Count | Should -Be 3
    }
}
