#requires -Version 7.2
<#
.SYNOPSIS
    Nightly seedbox housekeeping with Hashall: scan, sync, link duplicates, orphans to the recycle bin,
    noHL tags, and rehome by policy. Replaces qbit_manage's orphan cleanup and noHL tagging and a mover.

.DESCRIPTION
    Steps, in order, each logged (information stream, and a transcript with -LogDirectory):

      1. scan      Invoke-HashallScan of -ScanPath (default: the catalog's seeding roots; add your media
                   library, so that its hard links are known).
      2. sync      Sync-HashallPayload of the whole qBittorrent (orphans trust only a whole sync).
      3. link      Finishes link plans an earlier run left unfinished, then plans and links duplicate files
                   on each -LinkDevice (New-HashallLinkPlan, Invoke-HashallLinkPlan).
      4. orphans   Remove-HashallOrphan to -RecycleBin (a rename on the same device), with the
                   -OrphanMaximumCount / -OrphanMaximumBytes guard; then the bin is emptied of runs older
                   than -RecycleBinRetention. Skipped without -RecycleBin.
      5. tags      Set-HashallTorrentTag: -NoHLTag on torrents with no hard link outside the seeding roots,
                   removed from linked ones.
      6. rehome    Plans interrupted by a crash (their JSON is kept under -StateDirectory until they finish)
                   are run again first, which resumes or rolls back their jobs; then New-RehomePlan -Demote
                   by policy (-FreeSpaceTarget, -MinimumAge, -LinkStatus NotLinked, -RehomeLimit,
                   -RehomeMaximumBytes) | Invoke-RehomePlan. Skipped without -PoolTarget.

    A step that fails is recorded and the next steps still run, except that nothing after a failed sync
    acts on the catalog's view of qBittorrent (orphans, tags, rehome are then skipped). The script writes
    one summary object and exits 1 when any step failed, else 0.

    Two runs at once: the second finds the run lock (-LockFile, an exclusive lock the system drops when
    the process ends, so a crash never leaves it behind) and exits 0 at once with Locked set, changing
    nothing. Inside a run, each cmdlet takes its own leases (catalog writes, one rehome job per payload).
    After a crash, the next run is safe: scan and sync are idempotent, link plans and rehome jobs resume
    from their journals, and orphans are re-checked against the disk and the catalog before each move.

    -WhatIf runs every step as a dry run: nothing on disk or in qBittorrent changes, and each cmdlet says
    what it would do. The scan and the sync still update the catalog (Hashall's record of the disk and of
    qBittorrent, which no step acts on by itself), so that the dry run of the first night shows what the
    real run would do.

.EXAMPLE
    ./nightly.ps1 -Uri http://127.0.0.1:8080 -StashDevice stash -PoolDevice pool -PoolTarget /mnt/pool/torrents -RecycleBin /srv/stash/.recycle -WhatIf
#>
[CmdletBinding(SupportsShouldProcess)]
param(
    [string] $Uri = $env:QBITTORRENT_URL,
    [pscredential] $Credential,
    [string] $Database,
    [string[]] $ScanPath,
    [string] $StashDevice = 'stash',
    [string] $PoolDevice = 'pool',
    [string[]] $LinkDevice,
    [string] $PoolTarget,
    [string] $RecycleBin,
    [timespan] $OrphanMinimumAge = [timespan]::FromDays(1),
    [string[]] $OrphanExclude = @('*.!qB', '*.parts', '.stfolder', '.stversions'),
    [long] $OrphanMaximumCount = 1000,
    [long] $OrphanMaximumBytes = 100GB,
    [timespan] $RecycleBinRetention = [timespan]::FromDays(14),
    [string] $NoHLTag = 'noHL',
    [string] $FreeSpaceTarget = '20%',
    [timespan] $MinimumAge = [timespan]::FromDays(30),
    [int] $RehomeLimit = 25,
    [long] $RehomeMaximumBytes = 500GB,
    [string] $StateDirectory = (Join-Path ([Environment]::GetFolderPath('UserProfile')) '.hashall'),
    [string] $LockFile,
    [string] $LogDirectory
)

$ErrorActionPreference = 'Stop'
Import-Module Hashall -ErrorAction Stop
if ($Database) { $PSDefaultParameterValues['*-Hashall*:Database'] = $Database; $PSDefaultParameterValues['*-Rehome*:Database'] = $Database }
if ($Uri) { foreach ($c in 'Sync-HashallPayload', 'Remove-HashallOrphan', 'Set-HashallTorrentTag', 'Invoke-RehomePlan') { $PSDefaultParameterValues["${c}:Uri"] = $Uri } }
if ($Credential) { foreach ($c in 'Sync-HashallPayload', 'Remove-HashallOrphan', 'Set-HashallTorrentTag', 'Invoke-RehomePlan') { $PSDefaultParameterValues["${c}:Credential"] = $Credential } }
$dryRun = [bool]$WhatIfPreference
$null = New-Item -ItemType Directory -Force -Path $StateDirectory -WhatIf:$false
if (-not $LockFile) { $LockFile = Join-Path $StateDirectory 'nightly.lock' }
$pendingPlans = Join-Path $StateDirectory 'nightly-rehome.json'

function Log([string] $Message) {
    Write-Information ('{0:yyyy-MM-dd HH:mm:ss} {1}' -f [datetime]::UtcNow, $Message) -InformationAction Continue
}

$summary = [pscustomobject]@{
    PSTypeName = 'Hashall.NightlySummary'
    StartedAt  = [datetime]::UtcNow
    FinishedAt = $null
    WhatIf     = $dryRun
    Locked     = $false
    Failed     = 0
    Changes    = 0
    Steps      = [System.Collections.Generic.List[object]]::new()
}

# One run at a time: an exclusive lock (flock) on the lock file, dropped by the system when this process ends.
try {
    $lock = [System.IO.File]::Open($LockFile, 'OpenOrCreate', 'ReadWrite', 'None')
} catch [System.IO.IOException] {
    if ($_.Exception -is [System.IO.DirectoryNotFoundException] -or $_.Exception -is [System.IO.FileNotFoundException]) { throw }
    Log "Another run holds '$LockFile': nothing done."
    $summary.Locked = $true
    $summary.FinishedAt = [datetime]::UtcNow
    $summary
    exit 0
}

if ($LogDirectory) {
    $null = New-Item -ItemType Directory -Force -Path $LogDirectory -WhatIf:$false
    $null = Start-Transcript -Path (Join-Path $LogDirectory ('nightly-{0:yyyyMMdd-HHmmss}.log' -f [datetime]::UtcNow)) -WhatIf:$false
}

# Runs one step: logs it, records its outcome (Done, Failed or Skipped), how many things it changed, and what it said.
function Step([string] $Name, [scriptblock] $Action, [string] $SkipReason) {
    $step = [pscustomobject]@{ Name = $Name; Status = 'Done'; Changes = 0; Detail = ''; Error = $null; Duration = [timespan]::Zero }
    $clock = [System.Diagnostics.Stopwatch]::StartNew()
    if ($SkipReason) {
        $step.Status = 'Skipped'
        $step.Detail = $SkipReason
        Log "${Name}: skipped ($SkipReason)"
    } else {
        Log "${Name}: started"
        try {
            $result = & $Action
            $step.Changes = [int]$result.Changes
            $step.Detail = [string]$result.Detail
            Log "${Name}: done, $($step.Changes) change(s). $($step.Detail)"
        } catch {
            $step.Status = 'Failed'
            $step.Error = $_.Exception.Message
            $summary.Failed++
            Log "${Name}: FAILED: $($_.Exception.Message) [$($_.FullyQualifiedErrorId)]"
        }
    }
    $step.Duration = $clock.Elapsed
    $summary.Changes += $step.Changes
    $summary.Steps.Add($step)
    $step
}

try {
    $roots = @((Get-HashallSeedingRoot).Path)
    if (-not $ScanPath) { $ScanPath = $roots }

    $null = Step 'scan' {
        # Under -WhatIf too: the catalog is Hashall's record of the disk, and a dry run must see what a real run would.
        $scan = @(Invoke-HashallScan -Path $ScanPath -WhatIf:$false)
        $seen = ($scan | Measure-Object Seen -Sum).Sum; $new = ($scan | Measure-Object Added -Sum).Sum
        $changed = ($scan | Measure-Object Changed -Sum).Sum; $gone = ($scan | Measure-Object Deleted -Sum).Sum
        # A scan only brings the catalog up to date with the disk: not counted as a change the run made.
        @{ Changes = 0; Detail = "$($ScanPath -join ', '): $seen file(s) seen, $new new, $changed changed, $gone deleted" }
    } -SkipReason $(if (-not $ScanPath) { 'no -ScanPath and no seeding roots stored (Add-HashallSeedingRoot)' })

    $sync = Step 'sync' {
        $r = Sync-HashallPayload -WhatIf:$false   # records qBittorrent's view in the catalog; changes nothing in qBittorrent
        @{ Changes = 0; Detail = "$($r.Torrents) torrent(s): $($r.Added) added, $($r.Updated) updated, $($r.Gone) gone, $($r.Incomplete) incomplete" }
    }
    $synced = $sync.Status -eq 'Done'

    $null = Step 'link' {
        $linked = 0; $plans = 0
        # Plans an earlier run left unfinished (a crash, a stop) are finished first.
        $open = @(Get-HashallLinkPlan -Status pending, running, incomplete, partial)
        $devices = if ($LinkDevice) { $LinkDevice } else { @($StashDevice) }
        $new = @(foreach ($d in $devices) { New-HashallLinkPlan -Device $d -Name "nightly $([datetime]::UtcNow.ToString('yyyy-MM-dd'))" })
        # Under -WhatIf a new plan is a preview that is never stored: its What if line says what it would link.
        $toRun = @($open) + @(if (-not $dryRun) { $new | Where-Object { $_ -and $_.ActionCount -gt 0 } })
        foreach ($plan in $toRun) {
            $plans++
            $results = @(Invoke-HashallLinkPlan -Id $plan.PlanId -Confirm:$false)
            $linked += ($results | Measure-Object Linked -Sum).Sum
        }
        @{ Changes = $linked; Detail = "$plans plan(s) run, $linked action(s) linked" }
    }

    $null = Step 'orphans' {
        # The bin is a folder on the stash, outside the seeding roots; made when missing (under -WhatIf too).
        $null = New-Item -ItemType Directory -Force -Path $RecycleBin -WhatIf:$false
        $moved = Remove-HashallOrphan -RecycleBin $RecycleBin -MinimumAge $OrphanMinimumAge -Exclude $OrphanExclude `
            -MaximumCount $OrphanMaximumCount -MaximumBytes $OrphanMaximumBytes -Confirm:$false
        $emptied = Remove-HashallOrphan -RecycleBin $RecycleBin -EmptyRecycleBin -OlderThan $RecycleBinRetention -Confirm:$false
        @{ Changes = [int]$moved.MovedToRecycleBin + [int]$moved.Removed + [int]$moved.FoldersRemoved + [int]$emptied.Runs
           Detail = "$([int]$moved.MovedToRecycleBin) file(s) to '$RecycleBin' ($([int]$moved.Kept) kept on re-check), $([int]$moved.FoldersRemoved) empty folder(s) removed; $([int]$emptied.Runs) old bin run(s) emptied" }
    } -SkipReason $(if (-not $synced) { 'the sync failed' } elseif (-not $RecycleBin) { 'no -RecycleBin' })

    $null = Step 'tags' {
        $changes = @(Set-HashallTorrentTag -Tag $NoHLTag -Confirm:$false)
        @{ Changes = $changes.Count; Detail = "'$NoHLTag' " + (($changes | Group-Object Action | ForEach-Object { "$($_.Name) $($_.Count)" }) -join ', ') }
    } -SkipReason $(if (-not $synced) { 'the sync failed' })

    $null = Step 'rehome' {
        $resumed = 0
        if (Test-Path $pendingPlans) {
            # A run that crashed while rehoming: its plans again (each resumes or rolls back its job).
            Log "rehome: finishing the plans of an interrupted run ($pendingPlans)"
            $again = Invoke-RehomePlan -Path $pendingPlans -Confirm:$false -Summary
            $resumed = $again.Done
            if ($again.Failed -gt 0 -or $again.Invalid -gt 0) { throw "the interrupted run's plans did not all finish: $($again.Failed) failed, $($again.Invalid) invalid (see $pendingPlans)" }
            if (-not $dryRun) { Remove-Item $pendingPlans }
        }
        $plans = @(New-RehomePlan -Demote -FreeSpaceTarget $FreeSpaceTarget -MinimumAge $MinimumAge -LinkStatus NotLinked `
                -Limit $RehomeLimit -MaximumBytes $RehomeMaximumBytes -StashDevice $StashDevice -PoolDevice $PoolDevice -TargetPath $PoolTarget) |
            Where-Object Decision -ne 'Block'
        if ($plans.Count -eq 0) { return @{ Changes = $resumed; Detail = "nothing to demote; $resumed resumed" } }
        # Kept until they finish: a crash before then has the next run run them again.
        if (-not $dryRun) { [System.IO.File]::WriteAllText($pendingPlans, [Hashall.Core.Rehome.RehomePlanFile]::Serialize([Hashall.Core.Rehome.RehomePlan[]]$plans)) }
        $done = $plans | Invoke-RehomePlan -Confirm:$false -Summary
        if (-not $dryRun -and $done.Failed -eq 0 -and $done.Invalid -eq 0) { Remove-Item $pendingPlans -ErrorAction SilentlyContinue }
        if ($done.Failed -gt 0 -or $done.Invalid -gt 0) { throw "$($done.Failed) rehome job(s) failed, $($done.Invalid) plan(s) invalid" }
        @{ Changes = $done.Done + $resumed; Detail = "$($plans.Count) planned, $($done.Done) done, $($done.BytesCopied) byte(s) copied; $resumed resumed" }
    } -SkipReason $(if (-not $synced) { 'the sync failed' } elseif (-not $PoolTarget) { 'no -PoolTarget' })
} finally {
    $summary.FinishedAt = [datetime]::UtcNow
    Log "finished: $($summary.Changes) change(s), $($summary.Failed) step(s) failed"
    if ($LogDirectory) { $null = Stop-Transcript }
    $lock.Dispose()
}
$summary
exit ([int]($summary.Failed -gt 0))
