#requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0.0' }
# docs/examples/nightly.ps1 against a real qBittorrent, a stash and a pool (tmpfs): -WhatIf changes
# nothing, a run does each step's work, a second run does nothing, and a run while another holds the
# lock leaves at once.

Describe 'docs/examples/nightly.ps1' {
    BeforeDiscovery {
        $has = { param($tool) [bool] @(Get-Command $tool -CommandType Application -ErrorAction SilentlyContinue).Count }
        $script:canMount = $false
        if ((& $has mount) -and (& $has umount)) {
            $probe = Join-Path ([IO.Path]::GetTempPath()) ("hashall-mount-probe-" + [guid]::NewGuid().ToString('N'))
            New-Item -ItemType Directory -Path $probe | Out-Null
            & mount -t tmpfs -o size=1m hashall-probe $probe 2>$null
            if ($LASTEXITCODE -eq 0) { $script:canMount = $true; & umount $probe }
            Remove-Item $probe
        }
        $script:skipNightly = -not ($canMount -and (& $has qbittorrent-nox) -and (& $has mktorrent))
    }

    BeforeAll {
        $script:root = Join-Path $TestDrive 'nightly'
        $script:stash = Join-Path $root 'stash'; $script:pool = Join-Path $root 'pool'
        $script:db = Join-Path $root 'catalog.db'
        $script:state = Join-Path $root 'state'
        $script:script = Join-Path $PSScriptRoot '../../docs/examples/nightly.ps1'
        $script:mounted = @()
        $script:qbt = $null
        if ($skipNightly) { return }
        $env:PSModulePath = (Resolve-Path (Join-Path $PSScriptRoot '../../out')).Path + [IO.Path]::PathSeparator + $env:PSModulePath
        Import-Module Hashall -Force
        foreach ($dir in $stash, $pool) {
            New-Item -ItemType Directory -Path $dir | Out-Null
            & mount -t tmpfs -o size=32m hashall-nightly $dir; if ($LASTEXITCODE) { throw "mount $dir failed" }
            $script:mounted += $dir
        }
        $script:tv = Join-Path $stash 'torrents/tv'
        function script:Folder([string] $Path, [int] $Seed, [int[]] $Sizes) {
            New-Item -ItemType Directory -Force -Path $Path | Out-Null
            for ($i = 0; $i -lt $Sizes.Count; $i++) {
                $b = [byte[]]::new($Sizes[$i]); [Random]::new($Seed * 10 + $i).NextBytes($b)
                [IO.File]::WriteAllBytes((Join-Path $Path "e$i.mkv"), $b)
            }
        }
        Folder (Join-Path $tv 'Old.S01') 1 @(1MB, 1MB)          # not linked: demoted
        Folder (Join-Path $tv 'Library.S01') 2 @(1MB)           # in the media library: stays, no noHL
        New-Item -ItemType Directory -Force -Path (Join-Path $stash 'library') | Out-Null
        New-Item -ItemType HardLink -Path (Join-Path $stash 'library/Library.S01.mkv') -Target (Join-Path $tv 'Library.S01/e0.mkv') | Out-Null
        Folder (Join-Path $stash 'library/Dup') 3 @(512KB)    # two copies of one file in the library: linked into one
        Copy-Item (Join-Path $stash 'library/Dup/e0.mkv') (Join-Path $stash 'library/Dup/e0 copy.mkv')
        Set-Content -Path (Join-Path $tv 'leftover.nfo') -Value 'from a torrent deleted long ago'
        $written = [DateTime]::UtcNow.AddDays(-3)
        Get-ChildItem -Recurse -File $stash | ForEach-Object { $_.LastWriteTimeUtc = $written }
        New-Item -ItemType Directory -Path (Join-Path $pool 'torrents') | Out-Null

        $listener = [Net.Sockets.TcpListener]::new([Net.IPAddress]::Loopback, 0); $listener.Start()
        $script:port = $listener.LocalEndpoint.Port; $listener.Stop()
        $profile = Join-Path $root 'qbt'
        New-Item -ItemType Directory -Path "$profile/qBittorrent/config" | Out-Null
        @('[LegalNotice]', 'Accepted=true', '', '[Network]', 'PortForwardingEnabled=false', '',
            '[BitTorrent]', 'Session\DHTEnabled=false', 'Session\PeXEnabled=false', 'Session\LSDEnabled=false',
            'Session\Interface=lo', 'Session\InterfaceName=lo', 'Session\InterfaceAddress=127.0.0.1', "Session\Port=$($port + 1)",
            'Session\QueueingSystemEnabled=false', '',
            '[Preferences]', 'WebUI\Address=127.0.0.1', "WebUI\Port=$port", 'WebUI\CSRFProtection=false', 'WebUI\HostHeaderValidation=false',
            'WebUI\LocalHostAuth=false', 'Connection\UPnP=false', 'Connection\ResolvePeerCountries=false') |
            Set-Content "$profile/qBittorrent/config/qBittorrent.conf"
        $script:qbt = Start-Process qbittorrent-nox -ArgumentList "--profile=$profile" -PassThru -RedirectStandardOutput "$root/qbt.out" -RedirectStandardError "$root/qbt.err"
        $script:api = "http://127.0.0.1:$port/api/v2"
        $deadline = [DateTime]::UtcNow.AddSeconds(30)
        while ($true) {
            try { Invoke-RestMethod "$api/app/version" | Out-Null; break }
            catch { if ($qbt.HasExited -or [DateTime]::UtcNow -gt $deadline) { throw "qbittorrent-nox did not answer on port $port" }; Start-Sleep -Milliseconds 200 }
        }
        # Adds torrents of folders under $tv to qBittorrent (category tv) and waits until they all seed.
        function script:Add-Torrent([string[]] $Names) {
            foreach ($name in $Names) {
                $file = Join-Path $root "$name.torrent"
                & mktorrent -p -l 16 -a http://127.0.0.1:1/announce -o $file (Join-Path $tv $name) | Out-Null
                Invoke-RestMethod -Method Post "$api/torrents/add" -Form @{ torrents = Get-Item $file; savepath = $tv; category = 'tv' } | Out-Null
            }
            $deadline = [DateTime]::UtcNow.AddSeconds(60)
            do {
                Start-Sleep -Milliseconds 200
                $ready = @(Invoke-RestMethod "$api/torrents/info" | ForEach-Object { $_ } | Where-Object { $_.name -in $Names -and $_.progress -eq 1 -and $_.state -match 'UP$' })
            } until ($ready.Count -eq $Names.Count -or [DateTime]::UtcNow -gt $deadline)
            $ready.Count | Should -Be $Names.Count
        }
        Add-Torrent 'Old.S01', 'Library.S01'

        Set-HashallDevice $stash stash -Database $db
        Set-HashallDevice $pool pool -Database $db
        Add-HashallSeedingRoot (Join-Path $stash 'torrents'), (Join-Path $pool 'torrents') -Database $db | Out-Null

        $script:arguments = @{
            Uri = "http://127.0.0.1:$port/"; Database = $db; StateDirectory = $state
            ScanPath = @((Join-Path $stash 'torrents'), (Join-Path $stash 'library'), (Join-Path $pool 'torrents'))
            PoolTarget = Join-Path $pool 'torrents'; RecycleBin = Join-Path $stash '.recycle'
            FreeSpaceTarget = '100%'; MinimumAge = [timespan]::Zero
        }
        function script:Tags { $t = @{}; Invoke-RestMethod "$api/torrents/info" | ForEach-Object { $_ } | ForEach-Object { $t[$_.name] = $_.tags }; $t }
        function script:Where-Torrent([string] $Name) { (Invoke-RestMethod "$api/torrents/info" | ForEach-Object { $_ } | Where-Object name -eq $Name).content_path }
        function script:Nightly([hashtable] $Extra = @{}) {
            $global:LASTEXITCODE = $null
            $all = $arguments.Clone(); foreach ($k in $Extra.Keys) { $all[$k] = $Extra[$k] }
            $summary = & $script @all 6>$null
            [pscustomobject]@{ Summary = @($summary)[-1]; ExitCode = $global:LASTEXITCODE }
        }
    }

    AfterAll {
        if ($qbt -and -not $qbt.HasExited) {
            try { Invoke-RestMethod -Method Post "$api/app/shutdown" | Out-Null } catch { }
            if (-not $qbt.WaitForExit(10000)) { $qbt.Kill() }
        }
        Remove-Module Hashall -Force -ErrorAction SilentlyContinue
        foreach ($dir in $mounted) { & umount $dir }
    }

    It 'with -WhatIf changes nothing on disk or in qBittorrent' -Skip:$skipNightly {
        $run = Nightly @{ WhatIf = $true; LogDirectory = (Join-Path $root 'logs') }
        $run.Summary.Steps | Where-Object Status -eq 'Failed' | ForEach-Object { Write-Host "$($_.Name): $($_.Error)" }
        $run.ExitCode | Should -Be 0
        $run.Summary.WhatIf | Should -BeTrue
        $run.Summary.Failed | Should -Be 0
        Join-Path $tv 'leftover.nfo' | Should -Exist
        Join-Path $tv 'Old.S01/e0.mkv' | Should -Exist
        (& stat -c %i (Join-Path $stash 'library/Dup/e0.mkv')) | Should -Not -Be (& stat -c %i (Join-Path $stash 'library/Dup/e0 copy.mkv'))
        (Tags).Values | Where-Object { $_ -match 'noHL' } | Should -BeNullOrEmpty
        Join-Path $state 'nightly-rehome.json' | Should -Not -Exist
        # Neither the recycle bin nor the log directory is made by a dry run.
        Join-Path $stash '.recycle' | Should -Not -Exist
        Join-Path $root 'logs' | Should -Not -Exist
    }

    It 'does every step: links duplicates, moves the orphan to the bin, tags noHL, demotes by policy' -Skip:$skipNightly {
        $run = Nightly
        $run.ExitCode | Should -Be 0
        $steps = @{}; $run.Summary.Steps | ForEach-Object { $steps[$_.Name] = $_ }
        ($steps.Values | Where-Object Status -ne 'Done').Name | Should -BeNullOrEmpty
        $steps.link.Changes | Should -Be 1
        (& stat -c %i (Join-Path $stash 'library/Dup/e0.mkv')) | Should -Be (& stat -c %i (Join-Path $stash 'library/Dup/e0 copy.mkv'))
        $steps.orphans.Changes | Should -Be 1
        Join-Path $tv 'leftover.nfo' | Should -Not -Exist
        @(Get-ChildItem -Recurse -File (Join-Path $stash '.recycle') | Where-Object Name -eq 'leftover.nfo').Count | Should -Be 1
        $tags = Tags
        $tags['Library.S01'] | Should -Not -Match 'noHL'
        $tags['Old.S01'] | Should -Match 'noHL'
        $steps.tags.Changes | Should -Be 1
        $steps.rehome.Changes | Should -Be 1   # Old.S01; Library.S01 is linked
        Where-Torrent 'Old.S01' | Should -Be (Join-Path $pool 'torrents/tv/Old.S01')
        Join-Path $tv 'Old.S01' | Should -Not -Exist
        Where-Torrent 'Library.S01' | Should -BeLike "$(Join-Path $tv 'Library.S01')*"
        Join-Path $state 'nightly-rehome.json' | Should -Not -Exist
        $run.Summary.Changes | Should -Be 4
    }

    It 'run again, does nothing' -Skip:$skipNightly {
        $run = Nightly
        $run.ExitCode | Should -Be 0
        $run.Summary.Failed | Should -Be 0
        $run.Summary.Changes | Should -Be 0
        $run.Summary.Steps | ForEach-Object { $_.Changes | Should -Be 0 -Because $_.Name }
        Where-Torrent 'Old.S01' | Should -Be (Join-Path $pool 'torrents/tv/Old.S01')
    }

    It 'leaves at once, changing nothing, while another run holds the lock' -Skip:$skipNightly {
        Set-Content -Path (Join-Path $tv 'another.nfo') -Value 'x'
        (Get-Item (Join-Path $tv 'another.nfo')).LastWriteTimeUtc = [DateTime]::UtcNow.AddDays(-3)
        $held = [IO.File]::Open((Join-Path $state 'nightly.lock'), 'OpenOrCreate', 'ReadWrite', 'None')
        try {
            $run = Nightly
        } finally { $held.Dispose() }
        $run.ExitCode | Should -Be 0
        $run.Summary.Locked | Should -BeTrue
        $run.Summary.Steps.Count | Should -Be 0
        Join-Path $tv 'another.nfo' | Should -Exist
    }

    It 'by hand: seeding roots, orphans with their guard, and noHL tags as a user types them' -Skip:$skipNightly {
        $uri = "http://127.0.0.1:$port/"
        # The roots the nightly uses, listed; one more added and forgotten again.
        $roots = @(Get-HashallSeedingRoot -Database $db | ForEach-Object Path)
        $roots | Should -Contain (Join-Path $stash 'torrents')
        $roots | Should -Contain (Join-Path $pool 'torrents')
        $extra = New-Item -ItemType Directory -Path (Join-Path $stash 'cross-seeds') -Force
        Add-HashallSeedingRoot $extra.FullName -Database $db | Out-Null
        Remove-HashallSeedingRoot $extra.FullName -Database $db -Confirm:$false
        @(Get-HashallSeedingRoot -Database $db | ForEach-Object Path) | Should -Not -Contain $extra.FullName
        Remove-Item $extra.FullName

        # The .nfo the locked run left is an orphan after a scan and a sync.
        Invoke-HashallScan (Join-Path $stash 'torrents') -Database $db | Out-Null
        $orphans = @(Get-HashallOrphan -Sync -Uri $uri -Database $db -Exclude '*.!qB')
        $orphans.FullName | Should -Be @(Join-Path $tv 'another.nfo')
        $orphans[0].Reason | Should -Be 'Unreferenced'
        # The guard refuses the whole run; -WhatIf changes nothing; then it goes.
        { $orphans | Remove-HashallOrphan -Uri $uri -Database $db -MaximumCount 0 -Confirm:$false } | Should -Throw -ErrorId 'OrphanLimitExceeded,Hashall.PowerShell.Housekeeping.RemoveHashallOrphanCommand'
        Join-Path $tv 'another.nfo' | Should -Exist
        $orphans | Remove-HashallOrphan -Uri $uri -Database $db -WhatIf | Out-Null
        Join-Path $tv 'another.nfo' | Should -Exist
        $removed = $orphans | Remove-HashallOrphan -Uri $uri -Database $db -MaximumCount 5 -Confirm:$false
        $removed.Removed | Should -Be 1
        Join-Path $tv 'another.nfo' | Should -Not -Exist

        # noHL under another tag name: -WhatIf changes nothing, then only the not-linked torrent gets it.
        Set-HashallTorrentTag -Uri $uri -Database $db -Tag byhand -WhatIf | Out-Null
        (Tags).Values | Where-Object { $_ -match 'byhand' } | Should -BeNullOrEmpty
        $changes = @(Set-HashallTorrentTag -Uri $uri -Database $db -Tag byhand -Confirm:$false)
        $changes | Where-Object Action -eq 'Added' | ForEach-Object Name | Should -Be 'Old.S01'
        $tags = Tags
        $tags['Old.S01'] | Should -Match 'byhand'
        $tags['Library.S01'] | Should -Not -Match 'byhand'
    }

    It 'exits non-zero when a step fails, and still runs the others' -Skip:$skipNightly {
        $run = Nightly @{ Uri = 'http://127.0.0.1:9/' }
        $run.ExitCode | Should -Be 1
        $steps = @{}; $run.Summary.Steps | ForEach-Object { $steps[$_.Name] = $_ }
        $steps.sync.Status | Should -Be 'Failed'
        $steps.scan.Status | Should -Be 'Done'
        $steps.orphans.Status | Should -Be 'Skipped'
        $steps.rehome.Status | Should -Be 'Skipped'
    }

    It 'leaves the caller''s $PSDefaultParameterValues as they were' -Skip:$skipNightly {
        $PSDefaultParameterValues = @{ 'Get-Sentinel:Value' = 1 }
        $run = Nightly
        $run.ExitCode | Should -Be 0
        @($PSDefaultParameterValues.Keys) | Should -Be @('Get-Sentinel:Value')
    }

    It 'reads a bare number as days, and refuses a value that is no duration before any step' -Skip:$skipNightly {
        $aged = Join-Path $tv 'aged.nfo'
        Set-Content -Path $aged -Value 'three days old'
        (Get-Item $aged).LastWriteTimeUtc = [DateTime]::UtcNow.AddDays(-3)
        try {
            # A run with the default -OrphanMinimumAge (1 day) would move it: the bad value stops the run first.
            { Nightly @{ RecycleBinRetention = 'soon' } } | Should -Throw -ErrorId 'NightlyInvalidDuration,nightly.ps1'
            $aged | Should -Exist
            # 30 is 30 days (not 30 ticks): a 3-day-old orphan stays.
            $run = Nightly @{ OrphanMinimumAge = 30 }
            $run.ExitCode | Should -Be 0
            ($run.Summary.Steps | Where-Object Name -eq 'orphans').Changes | Should -Be 0
            $aged | Should -Exist
        } finally { Remove-Item $aged -ErrorAction SilentlyContinue }
    }

    It 'fails (not "another run holds the lock") when the state directory is read-only' -Skip:$skipNightly {
        $ro = Join-Path $root 'ro-state'
        New-Item -ItemType Directory -Path $ro | Out-Null
        & mount -t tmpfs -o ro,size=1m hashall-ro $ro; if ($LASTEXITCODE) { throw "mount $ro failed" }
        $script:mounted += $ro
        try {
            { Nightly @{ StateDirectory = $ro } } | Should -Throw -ErrorId 'NightlyLockFileError,nightly.ps1'
        } finally { & umount $ro; $script:mounted = @($mounted | Where-Object { $_ -ne $ro }) }
    }

    It 'leaves a link plan made by hand for review alone' -Skip:$skipNightly {
        $review = Join-Path $pool 'review'
        Folder $review 6 @(256KB)
        Copy-Item (Join-Path $review 'e0.mkv') (Join-Path $review 'e0 copy.mkv')
        Invoke-HashallScan $review -Database $db | Out-Null
        $byHand = New-HashallLinkPlan -Device pool -Name 'to review' -Database $db
        $byHand.ActionCount | Should -Be 1
        $run = Nightly
        $run.ExitCode | Should -Be 0
        (Get-HashallLinkPlan -Id $byHand.PlanId -Database $db).Status | Should -Be 'pending'
        (& stat -c %i (Join-Path $review 'e0.mkv')) | Should -Not -Be (& stat -c %i (Join-Path $review 'e0 copy.mkv'))
    }

    It 'drops a stale rehome plan of an earlier run (its torrent deleted) and plans anew' -Skip:$skipNightly {
        Folder (Join-Path $tv 'Stale.S01') 7 @(256KB, 256KB)
        Folder (Join-Path $tv 'Fresh.S01') 8 @(256KB, 256KB)
        Add-Torrent 'Stale.S01', 'Fresh.S01'
        $uri = "http://127.0.0.1:$port/"
        Invoke-HashallScan (Join-Path $stash 'torrents') -Database $db | Out-Null
        Sync-HashallPayload -Uri $uri -Database $db | Out-Null
        $hash = (Invoke-RestMethod "$api/torrents/info" | ForEach-Object { $_ } | Where-Object name -eq 'Stale.S01').hash
        $stale = @(New-RehomePlan -TorrentHash $hash -Demote -StashDevice stash -PoolDevice pool -TargetPath (Join-Path $pool 'torrents') -Database $db)
        $stale.Count | Should -Be 1
        $stale[0].Decision | Should -Not -Be 'Block'
        # The plan an earlier run saved before it crashed; the torrent is deleted since (its files kept).
        $script:staleJson = [Hashall.Core.Rehome.RehomePlanFile]::Serialize([Hashall.Core.Rehome.RehomePlan[]]$stale)
        [IO.File]::WriteAllText((Join-Path $state 'nightly-rehome.json'), $staleJson)
        Invoke-RestMethod -Method Post "$api/torrents/delete" -Form @{ hashes = $hash; deleteFiles = 'false' } | Out-Null
        $deadline = [DateTime]::UtcNow.AddSeconds(30)
        while (Where-Torrent 'Stale.S01') { if ([DateTime]::UtcNow -gt $deadline) { throw 'Stale.S01 was not deleted' }; Start-Sleep -Milliseconds 200 }

        $run = Nightly
        $run.ExitCode | Should -Be 0
        $rehome = $run.Summary.Steps | Where-Object Name -eq 'rehome'
        $rehome.Status | Should -Be 'Done'
        $rehome.Detail | Should -Match '1 dropped'
        $rehome.Changes | Should -Be 1
        Where-Torrent 'Fresh.S01' | Should -Be (Join-Path $pool 'torrents/tv/Fresh.S01')
        Join-Path $tv 'Stale.S01/e0.mkv' | Should -Exist
        Join-Path $state 'nightly-rehome.json' | Should -Not -Exist
        # The night after: nothing left over.
        $run = Nightly
        $run.ExitCode | Should -Be 0
        ($run.Summary.Steps | Where-Object Name -eq 'rehome').Detail | Should -Match '0 resumed, 0 dropped'
    }

    It 'finds its pending plans under a -StateDirectory with [ ] in its name' -Skip:$skipNightly {
        $odd = Join-Path $root 'state[2]'
        [IO.Directory]::CreateDirectory($odd) | Out-Null
        $pending = Join-Path $odd 'nightly-rehome.json'
        [IO.File]::WriteAllText($pending, $staleJson)
        $run = Nightly @{ StateDirectory = $odd }
        $run.ExitCode | Should -Be 0
        ($run.Summary.Steps | Where-Object Name -eq 'rehome').Detail | Should -Match '1 dropped'
        [IO.File]::Exists($pending) | Should -BeFalse
    }

    It 'runs from cron: pwsh -NoProfile -File, durations as text (12h, 2w)' -Skip:$skipNightly {
        $out = & pwsh -NoProfile -NonInteractive -File $script -Uri "http://127.0.0.1:$port/" -Database $db -StateDirectory $state `
            -PoolTarget (Join-Path $pool 'torrents') -RecycleBin (Join-Path $stash '.recycle') -FreeSpaceTarget 100% `
            -MinimumAge 12h -OrphanMinimumAge 36h -RecycleBinRetention 2w 2>&1
        $code = $LASTEXITCODE
        if ($code) { $out | Write-Host }
        $code | Should -Be 0
        ($out | Out-String) | Should -Match 'rehome: done'
    }
}
