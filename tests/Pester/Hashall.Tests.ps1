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
        'Sync-HashallPayload', 'Get-HashallTorrent', 'Get-HashallPayload', 'Get-HashallSibling', 'New-RehomePlan', 'Invoke-RehomePlan') {
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
    It 'computes the payload of a scanned directory as a torrent of it would name its files' {
        $show = Join-Path $TestDrive 'payload/Show.S01'
        New-Item -ItemType Directory -Path $show | Out-Null
        Set-Content -Path (Join-Path $show 'e01.mkv') -Value 'episode' -NoNewline
        Invoke-HashallScan -Path $show | Out-Null
        $payload = Get-HashallPayload -Path $show
        $payload.Status | Should -Be 'complete'
        $sha1 = (Get-FileHash (Join-Path $show 'e01.mkv') -Algorithm SHA1).Hash.ToLowerInvariant()
        $line = [Text.Encoding]::UTF8.GetBytes("Show.S01/e01.mkv|7|$sha1`n")
        $expected = -join ([Security.Cryptography.SHA256]::HashData($line) | ForEach-Object { $_.ToString('x2') })
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
