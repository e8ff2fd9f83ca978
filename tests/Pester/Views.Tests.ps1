#requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0.0' }
# The default views as a user sees them in a real pwsh (Out-String), and what you see is what you filter:
# every column label is a property of the object, and a column showing "3.0 MiB" holds the bytes.

BeforeDiscovery {
    # One case per view of the format file, with a formatted value the rendered view must show.
    $script:viewCases = @(
        @{ View = 'HashallDevice'; Expect = '\bviews\s+.*\s6\.0 MiB\s+3\.0 MiB\s' }
        @{ View = 'HashallFile'; Expect = '(?m)^\s*3\.0 MiB\s+2\s+active\s+[0-9a-f]{40}\s+\S*/a/big\.bin\s*$' }
        @{ View = 'DuplicateGroup'; Expect = '\bviews\s+3\.0 MiB\s+2\s+3\s+3\.0 MiB\s+[0-9a-f]{12}\s' }
        @{ View = 'ScanResult'; Expect = '(?m)^Hashed\s*: 3 files, 6\.0 MiB\s*$' }
        @{ View = 'LinkPlan'; Expect = '\bdone\s+1\s+(\d)\s+\1\s+3\.0 MiB\s+3\.0 MiB\s+\d{4}-\d\d-\d\d \d\d:\d\d:\d\d' }
        @{ View = 'LinkAction'; Expect = '\blinked\s+3\.0 MiB\s+/\S+\.bin' }
        @{ View = 'LinkResult'; Expect = '\b3\.0 MiB\s+True\s+\d\d:\d\d:\d\d\.\d{3}' }
        @{ View = 'HashallTorrent'; Expect = '\btv\s+gone\s+cdcdcdcdcdcd\s+NotLinked\s+Show\.S01' }
        @{ View = 'HashallPayload'; Expect = '\bcomplete\s+[0-9a-f]{16}\s+2\s+0\s+3\.0 MiB\s+views\s' }
        @{ View = 'PayloadSyncResult'; Expect = '(?m)^v4\.5\.2\s+3\s+2\s+1\s+1\s+2\s+0\s+1\s+00:00:01\.500\s*$' }
        @{ View = 'RehomePlan'; Expect = '\bMove\s+Show\.S01\s+2\.9 KiB\s+1\s+policy: completed 60d ago\s+target has room' }
        @{ View = 'RehomeResult'; Expect = '\bBlocked\s+Block\s+Film\.2019\s+0 B\s+0\s+\d+\.\d s\s+external consumer' }
        @{ View = 'RehomeSummary'; Expect = '(?m)^Copied\s*: 0 B\s*$' }
        @{ View = 'TorrentCheck'; Expect = '(?m)^Complete\s+13\s+0\s+3\.0 MiB\s+\d+\.\d s\s+a\s*$' }
        @{ View = 'FileCheck'; Expect = '(?m)^Complete\s+3\.0 MiB\s+big\.bin\s*$' }
        @{ View = 'TorrentDataMatch'; Expect = '(?m)^Complete\s+100\.0 %\s+3\.0 MiB\s+[\d.]+ [KMG]?i?B\s+views\s+a\s*$' }
        @{ View = 'TorrentFileMatch'; Expect = '(?m)^big\.bin\s+3\.0 MiB\s+True\s+\S*/big\.bin\s*$' }
        @{ View = 'TorrentSeedResult'; Expect = '(?m)^Added\s+100\.0 %\s+2\s+3\.0 MiB\s+0 B\s+stalledUP\s+a\s*$' }
        @{ View = 'LinkUndoResult'; Expect = '\b1\s+0\s+0\s+3\.0 MiB\s+True\s+\d\d:\d\d:\d\d\.\d{3}' }
        @{ View = 'HashallSeedingRoot'; Expect = '(?m)^True\s+\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\s+/\S+/tree\s*$' }
        @{ View = 'HashallOrphan'; Expect = '(?m)^Unreferenced\s+3\.0 MiB\s+2\.5 d\s+2\s+True\s+/data/seeding/old\.bin\s*$' }
        @{ View = 'OrphanRemovalResult'; Expect = '(?m)^Bytes\s*: 3\.0 MiB\s*$' }
        @{ View = 'TorrentTagChange'; Expect = '(?m)^Added\s+noHL\s+NotLinked\s+(ab){20}\s+Show\.S01\s*$' }
    )
}

BeforeAll {
    $script:moduleDir = Join-Path $PSScriptRoot '../../out/Hashall'
    Import-Module (Join-Path $moduleDir 'Hashall.psd1') -Force -ErrorAction Stop
    $script:db = Join-Path $TestDrive 'catalog.db'
    $PSDefaultParameterValues['*-Hashall*:Database'] = $db
    $PSDefaultParameterValues['*-Rehome*:Database'] = $db

    # The views of the built module: name, type, list or table, and the column labels in order.
    $script:views = @{}
    foreach ($view in ([xml](Get-Content -Raw (Join-Path $moduleDir 'Hashall.Format.ps1xml'))).Configuration.ViewDefinitions.View) {
        if ($view.TableControl) {
            $headers = @($view.TableControl.TableHeaders.TableColumnHeader)
            $items = @($view.TableControl.TableRowEntries.TableRowEntry.TableColumnItems.TableColumnItem)
            $labels = for ($i = 0; $i -lt $headers.Count; $i++) { if ($headers[$i].Label) { $headers[$i].Label } else { $items[$i].PropertyName } }
            $list = $false
        } else {
            $labels = foreach ($item in $view.ListControl.ListEntries.ListEntry.ListItems.ListItem) { if ($item.Label) { $item.Label } else { $item.PropertyName } }
            $list = $true
        }
        $views[$view.Name] = [pscustomobject]@{ Type = $view.ViewSelectedBy.TypeName; List = $list; Labels = @($labels) }
    }

    # Real objects from the cmdlets: a 3 MiB file with a hard link and a copy, scanned, planned and linked.
    $tree = Join-Path $TestDrive 'tree'
    New-Item -ItemType Directory -Path (Join-Path $tree 'a'), (Join-Path $tree 'b'), (Join-Path $tree 'lib') | Out-Null
    $bytes = [byte[]]::new(3MB); [Random]::new(7).NextBytes($bytes)
    [IO.File]::WriteAllBytes((Join-Path $tree 'a/big.bin'), $bytes)
    [IO.File]::WriteAllBytes((Join-Path $tree 'b/big-copy.bin'), $bytes)
    New-Item -ItemType HardLink -Path (Join-Path $tree 'lib/big-link.bin') -Target (Join-Path $tree 'a/big.bin') | Out-Null
    Set-Content -Path (Join-Path $tree 'a/note.txt') -Value 'hello' -NoNewline
    Set-HashallDevice -Device $tree -Alias views
    $objects = @{}
    $objects.ScanResult = Invoke-HashallScan -Path $tree
    $objects.HashallDevice = Get-HashallDevice -Device views
    $objects.Files = Get-HashallFile
    $objects.HashallFile = $objects.Files | Where-Object FullName -like '*/a/big.bin'
    $objects.DuplicateGroup = Get-HashallDuplicate
    $objects.HashallPayload = Get-HashallPayload -Path (Join-Path $tree 'a')
    $plan = New-HashallLinkPlan -Device views
    $objects.LinkResult = Invoke-HashallLinkPlan -Id $plan.PlanId -Confirm:$false
    $objects.LinkPlan = Get-HashallLinkPlan -Id $plan.PlanId
    $objects.LinkAction = Get-HashallLinkPlan -Id $plan.PlanId -Action
    $objects.LinkUndoResult = Undo-HashallLinkPlan -Id $plan.PlanId -Path (Join-Path $tree 'b') -Confirm:$false

    # qBittorrent's types as a sync writes them (the hosted tests get them from a real qBittorrent).
    $objects.HashallTorrent = [Hashall.Core.Payloads.HashallTorrent]@{
        TorrentHash = ('ab' * 20); Name = 'Show.S01'; Category = 'tv'; State = 'stalledUP'; GoneAt = [datetime]::UtcNow
        PayloadHash = ('cd' * 32); PayloadStatus = 'complete'; LinkStatus = 'NotLinked'
    }
    $objects.HashallSeedingRoot = Add-HashallSeedingRoot -Path $tree
    $objects.HashallOrphan = [Hashall.Core.Orphans.HashallOrphan]@{
        FullName = '/data/seeding/old.bin'; Reason = 'Unreferenced'; Size = 3MB; Age = [timespan]::FromHours(60); LinkCount = 2; LinkedOutsideRoots = $true
    }
    $objects.OrphanRemovalResult = [Hashall.Core.Orphans.OrphanRemovalResult]@{ Removed = 1; Bytes = 3MB; WhatIf = $true }
    $objects.TorrentTagChange = [Hashall.Core.Payloads.TorrentTagChange]@{ Action = 'Added'; Tag = 'noHL'; LinkStatus = 'NotLinked'; TorrentHash = ('ab' * 20); Name = 'Show.S01' }
    $objects.PayloadSyncResult = [Hashall.Core.Payloads.PayloadSyncResult]@{
        QBittorrentVersion = 'v4.5.2'; Torrents = 3; Complete = 2; Incomplete = 1; Added = 1; Updated = 2; Gone = 0; SiblingGroups = 1
        Duration = [timespan]::FromSeconds(1.5)
    }
    $move = [Hashall.Core.Rehome.RehomePlan]@{ Name = 'Show.S01'; Decision = 'Move'; Direction = 'Demote'; TotalBytes = 3000 }
    $move.Reasons.Add('target has room')
    $move.Reason = 'policy: completed 60d ago'
    $move.Torrents.Add([Hashall.Core.Rehome.RehomeTorrent]@{ TorrentHash = ('cd' * 20); Name = 'Show.S01'; Role = 'relocate' })
    $move.Torrents.Add([Hashall.Core.Rehome.RehomeTorrent]@{ TorrentHash = ('ef' * 20); Name = 'Show.S01.pool'; Role = 'elsewhere' })
    $objects.RehomePlan = $move
    $blocked = [Hashall.Core.Rehome.RehomePlan]@{ Name = 'Film.2019'; Decision = 'Block' }
    $blocked.Reasons.Add('external consumer')
    $objects.RehomeResult = $blocked | Invoke-RehomePlan -Uri 'http://127.0.0.1:9' -Confirm:$false
    $objects.RehomeSummary = $blocked | Invoke-RehomePlan -Uri 'http://127.0.0.1:9' -Confirm:$false -Summary
    # A piece check of folder a (a v1 torrent by mktorrent, 256 KiB pieces: 13 of them).
    & mktorrent -p -l 18 -a http://127.0.0.1:1/announce -o (Join-Path $TestDrive 'a.torrent') (Join-Path $tree 'a') | Out-Null
    $objects.TorrentCheck = Test-HashallTorrent (Join-Path $TestDrive 'a.torrent') -Path (Join-Path $tree 'a')
    $objects.FileCheck = $objects.TorrentCheck.Files | Where-Object RelativePath -eq 'big.bin'
    $objects.TorrentDataMatch = Find-HashallTorrentData (Join-Path $TestDrive 'a.torrent')
    $objects.TorrentFileMatch = $objects.TorrentDataMatch.Files | Where-Object RelativePath -eq 'big.bin'
    # What Add-HashallTorrent writes for folder a seeded by hard links (qBittorrent is not needed to show it).
    $objects.TorrentSeedResult = [Hashall.Core.Torrents.TorrentSeedResult]@{ Status = 'Added'; Name = 'a'; Progress = 1.0; Links = 2; BytesLinked = 3145828; State = 'stalledUP' }
    $script:objects = $objects
}

AfterAll {
    Remove-Module Hashall -ErrorAction SilentlyContinue
}

Describe 'Default views' {
    It 'has a case for every view of the format file' {
        @($views.Keys | Sort-Object) | Should -Be @($viewCases.View | Sort-Object)
    }

    It 'renders <View> with its column labels and formatted values' -ForEach $viewCases {
        $v = $views[$View]
        $obj = $objects[$View]
        @($obj).Count | Should -Be 1
        $obj.PSObject.TypeNames[0] | Should -Be $v.Type
        $text = $obj | Out-String -Width 300
        if ($v.List) {
            foreach ($label in $v.Labels) { $text | Should -Match "(?m)^$([regex]::Escape($label))\s*: " }
        } else {
            $header = '(?m)^\s*' + (($v.Labels | ForEach-Object { [regex]::Escape($_) }) -join '\s+') + '\s*$'
            $text | Should -Match $header
        }
        $text | Should -Match $Expect
    }

    It 'lets <View> be filtered by every label it shows' -ForEach $viewCases {
        $obj = $objects[$View]
        foreach ($label in $views[$View].Labels) {
            $obj.PSObject.Properties[$label] | Should -Not -BeNullOrEmpty -Because "$View shows a column '$label'"
        }
    }
}

Describe 'What you see is what you filter' {
    It 'finds hard-linked files by Links and big ones by Size in bytes' {
        # As catalogued before the link plan ran (it links big-copy.bin too).
        @($objects.Files | Where-Object Links -gt 1).Name | Sort-Object | Should -Be @('big-link.bin', 'big.bin')
        @($objects.Files | Where-Object Size -gt 1MB).Count | Should -Be 3
        @($objects.Files | Where-Object Size -lt 1KB).Name | Should -Be 'note.txt'
    }

    It 'shows Size formatted and filters it as bytes on <_>' -ForEach @('HashallDevice', 'HashallPayload', 'DuplicateGroup', 'RehomePlan') {
        $obj = $objects[$_]
        $obj.Size | Should -BeOfType [long]
        @($obj | Where-Object Size -gt 1KB) | Should -HaveCount 1
    }

    It 'finds a device by DeviceId, a duplicate group by a path, a gone torrent by Status' {
        (Get-HashallDevice | Where-Object DeviceId -eq $objects.HashallDevice.DeviceId).Alias | Should -Be 'views'
        @($objects.DuplicateGroup | Where-Object Paths -like '*big-copy*') | Should -HaveCount 1
        @($objects.DuplicateGroup | Where-Object InodeCount -eq 2 | Where-Object FileCount -eq 3 | Where-Object Reclaimable -eq 3MB) | Should -HaveCount 1
        @(Get-HashallLinkPlan | Where-Object Planned -eq 3MB | Where-Object Reclaimed -eq 3MB) | Should -HaveCount 1
        @($objects.HashallTorrent | Where-Object Status -eq 'gone') | Should -HaveCount 1
        @($objects.HashallTorrent | Where-Object State -eq 'stalledUP') | Should -HaveCount 1
        @($objects.RehomePlan | Where-Object TorrentCount -eq 1) | Should -HaveCount 1
        @($objects.RehomeResult | Where-Object Detail -like '*external consumer*') | Should -HaveCount 1
        @($objects.ScanResult | Where-Object Throughput -gt 0) | Should -HaveCount 1
        @($objects.PayloadSyncResult | Where-Object qBittorrent -like 'v4.*') | Should -HaveCount 1
    }
}
