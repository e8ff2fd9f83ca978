@{
    RootModule             = 'Hashall.PowerShell.dll'
    ModuleVersion          = '0.1.0'
    GUID                   = '4b0f6a52-3c1e-4f53-9d2f-8a7e5b1c9d40'
    Author                 = 'Hashall contributors'
    CompanyName            = 'Hashall'
    Copyright              = '(c) Hashall contributors. MIT licence.'
    Description            = 'Catalogs file hashes across disks, reclaims space with hardlinks, recognises torrents that hold the same content, and moves seed-only content between stash and pool without breaking seeding.'
    CompatiblePSEditions   = @('Desktop', 'Core')
    PowerShellVersion      = '5.1'
    DotNetFrameworkVersion = '4.7.2'
    CmdletsToExport        = @(
        'Invoke-HashallScan'
        'Get-HashallFile'
        'Get-HashallDuplicate'
        'Get-HashallDevice'
        'Set-HashallDevice'
        'New-HashallLinkPlan'
        'Get-HashallLinkPlan'
        'Invoke-HashallLinkPlan'
        'Undo-HashallLinkPlan'
        'Sync-HashallPayload'
        'Get-HashallTorrent'
        'Get-HashallPayload'
        'Get-HashallSibling'
        'New-RehomePlan', 'Invoke-RehomePlan'
        'Test-HashallTorrent'
        'Find-HashallTorrentData'
        'Add-HashallTorrent'
        'Add-HashallSeedingRoot', 'Get-HashallSeedingRoot', 'Remove-HashallSeedingRoot'
        'Get-HashallOrphan', 'Remove-HashallOrphan', 'Set-HashallTorrentTag'
    )
    FunctionsToExport      = @()
    VariablesToExport      = @()
    AliasesToExport        = @()
    FormatsToProcess       = @('Hashall.Format.ps1xml')
    TypesToProcess         = @('Hashall.Types.ps1xml')
    PrivateData            = @{
        PSData = @{
            Tags         = @('hash', 'dedup', 'hardlink', 'torrent', 'qBittorrent', 'seedbox', 'catalog', 'sqlite')
            LicenseUri   = 'https://opensource.org/licenses/MIT'
            ReleaseNotes = @'
0.1.0 - first release.
- A SQLite catalog of SHA-1 (and optionally SHA-256) hashes across devices, identified by filesystem
  UUID, ZFS guid, volume UUID/GUID or mount; incremental, parallel scans (Invoke-HashallScan).
- Queries from the pipeline: Get-HashallFile, Get-HashallDuplicate, Get-HashallDevice, Set-HashallDevice.
- Hard-link deduplication with stored, resumable plans verified byte for byte (New-, Get-, Invoke-HashallLinkPlan).
- Payload identity with qBittorrent: torrents with the same content whatever their piece size or
  v1/v2 (Sync-HashallPayload, Get-HashallTorrent, Get-HashallPayload, Get-HashallSibling).
- Moving seed-only payloads between stash and pool without breaking seeding, under a crash-safe
  journal (New-RehomePlan, Invoke-RehomePlan).
- Offline verification of data against a torrent's own pieces (v1 SHA-1, v2 merkle, hybrid), with a
  verdict per file, remembered in the catalog (Test-HashallTorrent).
- Finding a torrent's data among the catalogued files under any names, proven piece by piece without
  changing anything (Find-HashallTorrentData).
- Seeding a torrent from data already on disk: its tree laid out with hard links to the proven files,
  added stopped, rechecked and started at the expected progress, under a crash-safe journal; or the
  missing files of a torrent qBittorrent has, laid out where it expects them (Add-HashallTorrent;
  Get-HashallTorrent -State).
- Link plans can be undone: each linked path gets its own copy back with its own owner, permissions
  and mtime, crash-safe and resumable (Undo-HashallLinkPlan); keep rules choose the copy that stays
  and protect paths that must never be replaced (New-HashallLinkPlan -KeepPath, -KeepOrder,
  -ProtectPath); a large plan runs a night at a time (Invoke-HashallLinkPlan -Limit, -MaximumBytes).
- Housekeeping: seeding roots stored in the catalog (Add-, Get-, Remove-HashallSeedingRoot); hard-link
  status per torrent (LinkStatus, ExternalLinks, Get-HashallTorrent -LinkStatus) and the noHL tag in
  qBittorrent (Set-HashallTorrentTag); orphans under the seeding roots, removed or moved to a same-device
  recycle bin behind count and size guards (Get-HashallOrphan, Remove-HashallOrphan).
- Tiering by policy: New-RehomePlan chooses payloads by age, seeding time, ratio, link status and a
  free-space target on the stash (-Limit, -MaximumBytes, -Order; -ActiveWithin to promote), each plan
  saying why; a nightly script for systemd or cron (about_Hashall_Scheduling).
Tested on Linux x64 with PowerShell 7; see README for the platforms whose code paths are untested.
'@
        }
    }
}
