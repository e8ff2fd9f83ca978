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
      3. link      Finishes the link plans an earlier run of this script made and left unfinished (named
                   'nightly <date>'; plans made by hand are left alone), then plans and links duplicate files
                   on each -LinkDevice (New-HashallLinkPlan, Invoke-HashallLinkPlan).
      4. orphans   Remove-HashallOrphan to -RecycleBin (a rename on the same device), with the
                   -OrphanMaximumCount / -OrphanMaximumBytes guard; then the bin is emptied of runs older
                   than -RecycleBinRetention. Skipped without -RecycleBin.
      5. tags      Set-HashallTorrentTag: -NoHLTag on torrents with no hard link outside the seeding roots,
                   removed from linked ones.
      6. rehome    The plans an earlier run did not finish (a crash, or a job that failed; their JSON is
                   kept under -StateDirectory) are run again first, which resumes or rolls back their jobs;
                   then New-RehomePlan -Demote by policy (-FreeSpaceTarget, -MinimumAge, -LinkStatus
                   NotLinked, -RehomeLimit, -RehomeMaximumBytes) | Invoke-RehomePlan. Every plan is tried
                   even when one fails; only plans whose job failed and can be resumed are kept for the next
                   run (one that is done, rolled back or no longer valid, e.g. its torrent was deleted, is
                   dropped and the payload planned anew). Skipped without -PoolTarget.

    A step that fails is recorded and the next steps still run, except that nothing after a failed sync
    acts on the catalog's view of qBittorrent (orphans, tags, rehome are then skipped). The script writes
    one summary object and exits 1 when any step failed, else 0.

    Two runs at once: the second finds the run lock (-LockFile, an exclusive lock the system drops when
    the process ends, so a crash never leaves it behind) and exits 0 at once with Locked set, changing
    nothing. Inside a run, each cmdlet takes its own leases (catalog writes, one rehome job per payload).
    After a crash, the next run is safe: scan and sync are idempotent, link plans and rehome jobs resume
    from their journals, and orphans are re-checked against the disk and the catalog before each move.

    -WhatIf is a dry run of every step: nothing in qBittorrent, under the seeding roots, in the recycle bin
    or in the link and rehome state changes, and each cmdlet says what it would do. It is not an exact
    preview of the real run:
      - the scan and the sync still update the catalog (Hashall's record of the disk and of qBittorrent,
        which no step acts on by itself; the catalog is created when missing), and the run still creates
        -StateDirectory and the lock file; it creates neither -RecycleBin nor -LogDirectory (without an
        existing -LogDirectory it writes no transcript);
      - each step sees the state before the earlier steps' changes: the duplicates are not linked, the
        orphans not moved, the bin not emptied, the tags not set, and the rehome step counts the free space
        the stash has now, not what the orphans would free;
      - unfinished link plans and the rehome plans of an interrupted run are shown, not run.

    Durations (-OrphanMinimumAge, -RecycleBinRetention, -MinimumAge) are read the same way from a shell and
    from `pwsh -File` (cron, systemd), where every argument is text: a number of days (30), a number and a
    unit (12h, 90m, 2w, 1.5d), TimeSpan text (7.00:00:00) or a [timespan]. A value that is none of these
    stops the run before any step (exit code 1).

    Link plans: the script names the plans it makes 'nightly <date>' and finishes only its own unfinished
    plans; a plan made by hand (New-HashallLinkPlan, for review) is left for you to run.

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
    # Durations are untyped: a [timespan] parameter would take 30 as 30 ticks from a shell and fail on 12h under -File.
    $OrphanMinimumAge = '1d',
    [string[]] $OrphanExclude = @('*.!qB', '*.parts', '.stfolder', '.stversions'),
    [long] $OrphanMaximumCount = 1000,
    [long] $OrphanMaximumBytes = 100GB,
    $RecycleBinRetention = '14d',
    [string] $NoHLTag = 'noHL',
    [string] $FreeSpaceTarget = '20%',
    $MinimumAge = '30d',
    [int] $RehomeLimit = 25,
    [long] $RehomeMaximumBytes = 500GB,
    [string] $StateDirectory = (Join-Path ([Environment]::GetFolderPath('UserProfile')) '.hashall'),
    [string] $LockFile,
    [string] $LogDirectory
)

$ErrorActionPreference = 'Stop'
Import-Module Hashall -ErrorAction Stop

# Durations, read by the cmdlets' own rule (30 = 30 days, 12h, 2w, TimeSpan text), before anything is done.
$duration = [Hashall.PowerShell.DurationTransformationAttribute]::new()
foreach ($name in 'OrphanMinimumAge', 'RecycleBinRetention', 'MinimumAge') {
    $value = Get-Variable -Name $name -ValueOnly
    try {
        Set-Variable -Name $name -Value ([timespan]$duration.Transform($ExecutionContext, $value))
    } catch {
        $PSCmdlet.ThrowTerminatingError([System.Management.Automation.ErrorRecord]::new(
            [System.ArgumentException]::new("-${name}: $($_.Exception.GetBaseException().Message) Nothing was done.", $name),
            'NightlyInvalidDuration', 'InvalidArgument', $value))
    }
}

# The defaults below are this script's: a copy of the caller's table, so that none of them stays in the caller's session.
$PSDefaultParameterValues = if ($null -ne $PSDefaultParameterValues) { $PSDefaultParameterValues.Clone() } else { @{} }
if ($Database) { $PSDefaultParameterValues['*-Hashall*:Database'] = $Database; $PSDefaultParameterValues['*-Rehome*:Database'] = $Database }
if ($Uri) { foreach ($c in 'Sync-HashallPayload', 'Remove-HashallOrphan', 'Set-HashallTorrentTag', 'Invoke-RehomePlan') { $PSDefaultParameterValues["${c}:Uri"] = $Uri } }
if ($Credential) { foreach ($c in 'Sync-HashallPayload', 'Remove-HashallOrphan', 'Set-HashallTorrentTag', 'Invoke-RehomePlan') { $PSDefaultParameterValues["${c}:Credential"] = $Credential } }
$dryRun = [bool]$WhatIfPreference
# Made under -WhatIf too: the lock keeps a dry run and a real run apart.
$StateDirectory = $ExecutionContext.SessionState.Path.GetUnresolvedProviderPathFromPSPath($StateDirectory)
$null = New-Item -ItemType Directory -Force -Path $StateDirectory -WhatIf:$false
$LockFile = if ($LockFile) { $ExecutionContext.SessionState.Path.GetUnresolvedProviderPathFromPSPath($LockFile) } else { Join-Path $StateDirectory 'nightly.lock' }
$pendingPlans = Join-Path $StateDirectory 'nightly-rehome.json'
$linkPlanPrefix = 'nightly '   # the link plans this script makes: 'nightly <date>'

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
    # Only a sharing violation means another run holds the lock (EWOULDBLOCK from flock; Windows: sharing or lock violation).
    # Anything else (a read-only or missing state directory, a full disk) fails the run.
    $e = $_.Exception
    $held = if ($IsWindows) { ($e.HResult -band 0xFFFF) -in 32, 33 } else { $e.HResult -eq $(if ($IsMacOS) { 35 } else { 11 }) }
    if (-not $held) {
        $PSCmdlet.ThrowTerminatingError([System.Management.Automation.ErrorRecord]::new(
            [System.IO.IOException]::new("Cannot take the run lock '$LockFile': $($e.Message) Nothing was done.", $e),
            'NightlyLockFileError', 'WriteError', $LockFile))
    }
    Log "Another run holds '$LockFile': nothing done."
    $summary.Locked = $true
    $summary.FinishedAt = [datetime]::UtcNow
    $summary
    exit 0
}

if ($LogDirectory -and -not (Test-Path -LiteralPath $LogDirectory -PathType Container) -and $dryRun) {
    Log "no transcript: '$LogDirectory' does not exist and -WhatIf does not create it"
    $LogDirectory = $null
}
if ($LogDirectory) {
    $null = New-Item -ItemType Directory -Force -Path $LogDirectory -WhatIf:$false
    $null = Start-Transcript -LiteralPath (Join-Path $LogDirectory ('nightly-{0:yyyyMMdd-HHmmss}.log' -f [datetime]::UtcNow)) -WhatIf:$false
}

# Runs one step: logs it, records its outcome (Done, Failed or Skipped), how many things it changed, and what it said.
# An action fails by throwing, or by returning an Error along with the changes it made.
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
            if ($result.Error) {
                $step.Status = 'Failed'
                $step.Error = [string]$result.Error
                $summary.Failed++
                Log "${Name}: FAILED, $($step.Changes) change(s): $($step.Error). $($step.Detail)"
            } else {
                Log "${Name}: done, $($step.Changes) change(s). $($step.Detail)"
            }
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

# Runs rehome plans, every one even when one fails, and writes what became of each. Returns the summary
# and the plans worth running again: those whose job failed and is still open (the next run resumes it
# from its journal), and those not run. Done, rolled back, invalid and never-started ones are dropped.
function Invoke-Plans([Hashall.Core.Rehome.RehomePlan[]] $Plans) {
    $done = $Plans | Invoke-RehomePlan -Confirm:$false -Summary -ErrorAction SilentlyContinue
    $byPlan = @{}
    foreach ($r in $done.Results) {
        $byPlan["$($r.PayloadHash)|$($r.SourcePath)|$($r.TargetPath)"] = $r
        if ($r.Status -notin 'Done', 'AlreadyDone') { Log "rehome: '$($r.Name)': $($r.Status): $($r.Message) [$($r.ErrorId)]" }
    }
    $again = @(foreach ($p in $Plans) {
            $r = $byPlan["$($p.PayloadHash)|$($p.SourcePath)|$($p.TargetPath)"]
            if ($null -eq $r -or ($r.Status -eq 'Failed' -and $null -ne $r.JobId)) { $p }
        })
    [pscustomobject]@{ Summary = $done; Again = $again }
}

# Keeps the plans to run again under -StateDirectory (a crash before they finish has the next run run them), or removes the file.
function Save-Plans([object[]] $Plans) {
    if ($dryRun) { return }
    if ($Plans.Count -gt 0) {
        [System.IO.File]::WriteAllText($pendingPlans, [Hashall.Core.Rehome.RehomePlanFile]::Serialize([Hashall.Core.Rehome.RehomePlan[]]$Plans))
    } elseif (Test-Path -LiteralPath $pendingPlans) {
        Remove-Item -LiteralPath $pendingPlans
    }
}

try {
    $roots = @((Get-HashallSeedingRoot).Path)
    if (-not $ScanPath) { $ScanPath = $roots }

    $null = Step 'scan' {
        # Under -WhatIf too: the catalog is Hashall's record of the disk, and a dry run must see the disk as it is.
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
        # The plans an earlier run of this script left unfinished (a crash, a stop) are finished first; plans made by hand are not ours to run.
        $open = @(Get-HashallLinkPlan -Status pending, running, incomplete, partial | Where-Object { "$($_.Name)".StartsWith($linkPlanPrefix, [StringComparison]::Ordinal) })
        $devices = if ($LinkDevice) { $LinkDevice } else { @($StashDevice) }
        $new = @(foreach ($d in $devices) { New-HashallLinkPlan -Device $d -Name "$linkPlanPrefix$([datetime]::UtcNow.ToString('yyyy-MM-dd'))" })
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
        # The bin is a folder on the stash, outside the seeding roots; made when missing (not under -WhatIf).
        if (-not $dryRun) { $null = New-Item -ItemType Directory -Force -Path $RecycleBin }
        $moved = Remove-HashallOrphan -RecycleBin $RecycleBin -MinimumAge $OrphanMinimumAge -Exclude $OrphanExclude `
            -MaximumCount $OrphanMaximumCount -MaximumBytes $OrphanMaximumBytes -Confirm:$false
        $emptied = if (Test-Path -LiteralPath $RecycleBin -PathType Container) {
            Remove-HashallOrphan -RecycleBin $RecycleBin -EmptyRecycleBin -OlderThan $RecycleBinRetention -Confirm:$false
        }
        @{ Changes = [int]$moved.MovedToRecycleBin + [int]$moved.Removed + [int]$moved.FoldersRemoved + [int]$emptied.Runs
           Detail = "$([int]$moved.MovedToRecycleBin) file(s) to '$RecycleBin' ($([int]$moved.Kept) kept on re-check), $([int]$moved.FoldersRemoved) empty folder(s) removed; $([int]$emptied.Runs) old bin run(s) emptied" }
    } -SkipReason $(if (-not $synced) { 'the sync failed' } elseif (-not $RecycleBin) { 'no -RecycleBin' })

    $null = Step 'tags' {
        $changes = @(Set-HashallTorrentTag -Tag $NoHLTag -Confirm:$false)
        @{ Changes = $changes.Count; Detail = "'$NoHLTag' " + (($changes | Group-Object Action | ForEach-Object { "$($_.Name) $($_.Count)" }) -join ', ') }
    } -SkipReason $(if (-not $synced) { 'the sync failed' })

    $null = Step 'rehome' {
        $failed = 0; $resumed = 0; $dropped = 0; $keep = @()
        if (Test-Path -LiteralPath $pendingPlans) {
            # The plans of a run that crashed or whose jobs failed: run again (each resumes or rolls back its job).
            Log "rehome: running again the plans an earlier run did not finish ($pendingPlans)"
            $pending = [Hashall.Core.Rehome.RehomePlanFile]::Deserialize((Get-Content -LiteralPath $pendingPlans -Raw), $pendingPlans)
            $again = Invoke-Plans $pending
            $keep = $again.Again
            $resumed = $again.Summary.Done
            # One no longer valid (its torrent deleted, its files moved) is dropped: its payload is planned anew below.
            $dropped = $again.Summary.Invalid
            $failed += $again.Summary.Failed + $again.Summary.RolledBack
            Save-Plans $keep
        }
        $kept = @($keep | ForEach-Object PayloadHash)
        $plans = @(New-RehomePlan -Demote -FreeSpaceTarget $FreeSpaceTarget -MinimumAge $MinimumAge -LinkStatus NotLinked `
                -Limit $RehomeLimit -MaximumBytes $RehomeMaximumBytes -StashDevice $StashDevice -PoolDevice $PoolDevice -TargetPath $PoolTarget |
                Where-Object { $_.Decision -ne 'Block' -and $_.PayloadHash -notin $kept })
        $done = $null
        if ($plans.Count -gt 0) {
            # Kept until they finish: a crash before then has the next run run them again.
            Save-Plans (@($keep) + $plans)
            $new = Invoke-Plans $plans
            $done = $new.Summary
            $failed += $done.Failed + $done.RolledBack + $done.Invalid
            Save-Plans (@($keep) + $new.Again)
        }
        @{ Changes = [int]$done.Done + $resumed
           Detail = "$($plans.Count) planned, $([int]$done.Done) done, $([long]$done.BytesCopied) byte(s) copied; $resumed resumed, $dropped dropped (no longer valid), $(@($keep).Count) kept for the next run"
           Error = if ($failed -gt 0) { "$failed rehome job(s) failed or rolled back, or plan(s) invalid (see the log; a failed job is run again by the next run)" } }
    } -SkipReason $(if (-not $synced) { 'the sync failed' } elseif (-not $PoolTarget) { 'no -PoolTarget' })
} finally {
    $summary.FinishedAt = [datetime]::UtcNow
    Log "finished: $($summary.Changes) change(s), $($summary.Failed) step(s) failed"
    if ($LogDirectory) { $null = Stop-Transcript }
    $lock.Dispose()
}
$summary
exit ([int]($summary.Failed -gt 0))
