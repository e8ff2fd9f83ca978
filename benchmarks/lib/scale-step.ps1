# One timed Hashall step of benchmarks/scale-bench.sh, run in a fresh PowerShell process (pwsh or the
# hosted shell). Prints one line: "<seconds> <peak RSS kB> <counts...>". The seconds are the cmdlet's
# own (process start and Import-Module are measured separately by the benchmark's import row); the
# peak RSS (VmHWM) is the whole process's, so it includes PowerShell's own.
param(
    [Parameter(Mandatory = $true)]
    [ValidateSet('Scan', 'ScanInSession', 'Duplicates', 'FirstDuplicate', 'LinkPlan')]
    [string] $Step,
    [Parameter(Mandatory = $true)] [string] $Module,
    [Parameter(Mandatory = $true)] [string] $Database,
    [string] $Path
)
$ErrorActionPreference = 'Stop'
Import-Module $Module
function Get-PeakRss {
    foreach ($line in [IO.File]::ReadAllLines('/proc/self/status')) {
        if ($line.StartsWith('VmHWM:')) { return [long]($line -replace '[^0-9]', '') }
    }
}
if ($Step -eq 'ScanInSession') {
    # a first scan into a scratch catalog compiles everything; the second, into a fresh catalog, is timed
    $warmup = "$Database.warmup"
    Invoke-HashallScan -Path $Path -Database $warmup | Out-Null
    Remove-Item -LiteralPath $warmup, "$warmup-wal", "$warmup-shm" -ErrorAction SilentlyContinue
}
$sw = [Diagnostics.Stopwatch]::StartNew()
switch ($Step) {
    { $_ -in 'Scan', 'ScanInSession' } {
        $r = Invoke-HashallScan -Path $Path -Database $Database
        $sw.Stop(); $counts = '{0} {1}' -f $r.Hashed, $r.Unchanged
    }
    'Duplicates' {
        $m = Get-HashallDuplicate -Database $Database | Measure-Object
        $sw.Stop(); $counts = $m.Count
    }
    'FirstDuplicate' {
        # Select-Object -First 1 stops the cmdlet once the first group arrives: the time to first output
        $g = Get-HashallDuplicate -Database $Database | Select-Object -First 1
        $sw.Stop(); $counts = [int]($null -ne $g)
    }
    'LinkPlan' {
        $p = New-HashallLinkPlan -Path $Path -Database $Database -WarningAction SilentlyContinue -Confirm:$false
        $sw.Stop(); $counts = '{0} {1}' -f $p.ActionCount, $p.PathCount
    }
}
'{0:F3} {1} {2}' -f $sw.Elapsed.TotalSeconds, (Get-PeakRss), $counts
