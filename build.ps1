#requires -Version 7.4
<#
.SYNOPSIS
    Builds, tests, documents and packages the Hashall module.
.DESCRIPTION
    The maintainer's entry point in pwsh. `dotnet build` alone also produces the importable module
    folder (out/Hashall/) with help made from docs/*.md; this script adds Pester, PlatyPS (when
    installed) and packaging.
.EXAMPLE
    ./build.ps1                      # build, then run xunit and Pester tests
.EXAMPLE
    ./build.ps1 -Task Build, Help, Package -Configuration Release
#>
[CmdletBinding()]
param(
    [ValidateSet('Build', 'Test', 'Pester', 'Help', 'Package', 'Clean')]
    [string[]] $Task = @('Build', 'Test', 'Pester'),

    [ValidateSet('Debug', 'Release')]
    [string] $Configuration = 'Debug'
)

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest
$root = $PSScriptRoot
$moduleDir = Join-Path $root 'out/Hashall'

function Invoke-Native {
    param([string] $File, [string[]] $Arguments)
    Write-Host "> $File $($Arguments -join ' ')" -ForegroundColor Cyan
    & $File @Arguments
    if ($LASTEXITCODE -ne 0) { throw "$File failed with exit code $LASTEXITCODE" }
}

# The parts of a MAML help file a user reads, per command, normalised so that two writers of the same
# pages compare equal: whitespace collapsed, title dashes dropped, example code taken from dev:code or,
# as PlatyPS 1.0 writes it, from the ```powershell fence at the start of the introduction.
function Get-MamlSummary([string] $Path) {
    [xml] $xml = Get-Content -Raw -LiteralPath $Path
    $ns = [Xml.XmlNamespaceManager]::new($xml.NameTable)
    $ns.AddNamespace('command', 'http://schemas.microsoft.com/maml/dev/command/2004/10')
    $ns.AddNamespace('maml', 'http://schemas.microsoft.com/maml/2004/10')
    $ns.AddNamespace('dev', 'http://schemas.microsoft.com/maml/dev/2004/10')
    $text = { param($nodes) ((@($nodes) | ForEach-Object InnerText) -join ' ' -replace '[\s\u0080]+', ' ').Trim() }
    foreach ($c in $xml.SelectNodes('//command:command', $ns)) {
        $examples = foreach ($e in $c.SelectNodes('command:examples/command:example', $ns)) {
            $code = & $text $e.SelectNodes('dev:code', $ns)
            if (-not $code) {
                $intro = (@($e.SelectNodes('maml:introduction/maml:para', $ns)) | ForEach-Object InnerText) -join "`n"
                $code = (([regex]::Matches($intro, '(?s)```powershell\s*(.*?)```') | ForEach-Object { $_.Groups[1].Value }) -join ' ' -replace '\s+', ' ').Trim()
            }
            '{0}: {1}' -f (($e.SelectSingleNode('maml:title', $ns).InnerText -replace '^[\s-]+|[\s-]+$', '') -replace '\s+', ' '), $code
        }
        [pscustomobject]@{
            Name        = $c.SelectSingleNode('command:details/command:name', $ns).InnerText.Trim()
            Synopsis    = & $text $c.SelectNodes('command:details/maml:description/maml:para', $ns)
            Description = & $text $c.SelectNodes('maml:description/maml:para', $ns)
            Syntax      = @($c.SelectNodes('command:syntax/command:syntaxItem', $ns) | ForEach-Object {
                    (@($_.SelectNodes('command:parameter', $ns) | ForEach-Object { '{0}{1}' -f $_.SelectSingleNode('maml:name', $ns).InnerText.Trim(), $(if ($_.required -eq 'true') { '!' }) } | Sort-Object) -join ' ') } | Sort-Object)
            Parameters  = @($c.SelectNodes('command:parameters/command:parameter', $ns) | ForEach-Object {
                    '-{0} required={1} position={2} pipeline={3} globbing={4} aliases={5} type={6}: {7}' -f $_.SelectSingleNode('maml:name', $ns).InnerText.Trim(),
                    $_.required, $_.position.ToLowerInvariant(), (($_.pipelineInput.ToLowerInvariant() -split '[\s,()]+' | Where-Object { $_ } | Sort-Object) -join ' '), $_.globbing, $_.aliases,
                    ($_.SelectSingleNode('dev:type/maml:name', $ns).InnerText.Trim() -replace '^System\.', ''), (& $text $_.SelectNodes('maml:description/maml:para', $ns)) } | Sort-Object)
            Examples    = @($examples)
            Inputs      = @($c.SelectNodes('command:inputTypes/command:inputType/dev:type/maml:name', $ns) | ForEach-Object { $_.InnerText.Trim() } | Sort-Object)
            Outputs     = @($c.SelectNodes('command:returnValues/command:returnValue/dev:type/maml:name', $ns) | ForEach-Object { $_.InnerText.Trim() } | Sort-Object)
            # PlatyPS adds an "Online Version" link with no address when HelpUri is empty: not a link.
            Links       = @($c.SelectNodes('command:relatedLinks/maml:navigationLink', $ns) |
                    Where-Object { $_.SelectSingleNode('maml:uri', $ns).InnerText.Trim() -or $_.SelectSingleNode('maml:linkText', $ns).InnerText.Trim() -ne 'Online Version' } |
                    ForEach-Object { $_.SelectSingleNode('maml:linkText', $ns).InnerText.Trim() })
        }
    }
}

foreach ($step in $Task) {
    switch ($step) {
        'Clean' {
            foreach ($dir in @('out') + (Get-ChildItem $root -Recurse -Directory -Include bin, obj | ForEach-Object FullName)) {
                $path = if ([IO.Path]::IsPathRooted($dir)) { $dir } else { Join-Path $root $dir }
                if (Test-Path $path) { Remove-Item $path -Recurse -Force }
            }
        }
        'Build' {
            Invoke-Native dotnet @('build', (Join-Path $root 'Hashall.PowerShell.sln'), '-c', $Configuration)
        }
        'Test' {
            Invoke-Native dotnet @('test', (Join-Path $root 'Hashall.PowerShell.sln'), '-c', $Configuration)
        }
        'Pester' {
            if (-not (Get-Module -ListAvailable Pester | Where-Object Version -ge '5.0.0')) {
                throw 'Pester 5 is not installed: Install-Module Pester -MinimumVersion 5.0 -Scope CurrentUser'
            }
            $pesterPath = Join-Path $root 'tests/Pester'
            # Pester runs in a child process so that the module DLLs it loads do not lock this session.
            $script = "Import-Module Pester -MinimumVersion 5.0; `$c = New-PesterConfiguration -Hashtable @{ Run = @{ Path = '$pesterPath'; Throw = `$true }; Output = @{ Verbosity = 'Detailed' } }; Invoke-Pester -Configuration `$c"
            Invoke-Native (Get-Process -Id $PID).Path @('-NoProfile', '-Command', $script)
        }
        'Help' {
            # dotnet build converts docs/*.md into the module's MAML (build/MarkdownHelp.cs). PlatyPS 1.0
            # checks every page, reads it, and exports its own MAML, which must say the same: the same
            # commands, synopses, descriptions, parameters (with their attributes) and examples. The
            # build's MAML is kept (PlatyPS 1.0.3 puts example code fences into the introduction text).
            if (-not (Get-Module -ListAvailable Microsoft.PowerShell.PlatyPS | Where-Object Version -ge '1.0.0')) {
                throw 'PlatyPS 1.0 is not installed: Install-PSResource Microsoft.PowerShell.PlatyPS (or ../shared/tools/install-pwsh)'
            }
            Import-Module Microsoft.PowerShell.PlatyPS
            $built = Join-Path $moduleDir 'en-US/Hashall.PowerShell.dll-Help.xml'
            if (-not (Test-Path $built)) { throw "No module help at ${built}: run the Build task (or dotnet build) first." }
            $pages = @(Get-ChildItem (Join-Path $root 'docs') -Filter '*-*.md' | Sort-Object Name)
            $failures = [Collections.Generic.List[string]]::new()
            foreach ($page in $pages) {
                $check = Test-MarkdownCommandHelp -Path $page.FullName -DetailView
                if (-not $check.IsValid) {
                    $failures.Add("$($page.Name): Test-MarkdownCommandHelp failed: $(@($check.Messages | Where-Object { $_ -notmatch '^\s*PASS' }) -join '; ')")
                }
            }
            $help = @($pages | ForEach-Object { Import-MarkdownCommandHelp -Path $_.FullName })
            $staging = Join-Path $root 'out/platyps'
            if (Test-Path $staging) { Remove-Item $staging -Recurse -Force }
            $help | Export-MamlCommandHelp -OutputFolder $staging -Force | Out-Null
            $exported = @(Get-ChildItem $staging -Recurse -Filter '*.xml')
            if ($exported.Count -ne 1) { throw "PlatyPS exported $($exported.Count) MAML files to $staging; expected one." }
            $ours = @{}; Get-MamlSummary $built | ForEach-Object { $ours[$_.Name] = $_ }
            $theirs = @{}; Get-MamlSummary $exported[0].FullName | ForEach-Object { $theirs[$_.Name] = $_ }
            foreach ($name in @($ours.Keys) + @($theirs.Keys) | Sort-Object -Unique) {
                if (-not $ours.ContainsKey($name)) { $failures.Add("$name is in PlatyPS's MAML but not in the build's ($built)."); continue }
                if (-not $theirs.ContainsKey($name)) { $failures.Add("$name is in the build's MAML but PlatyPS did not export it."); continue }
                foreach ($field in 'Synopsis', 'Description', 'Syntax', 'Parameters', 'Examples', 'Inputs', 'Outputs', 'Links') {
                    $a = @($ours[$name].$field); $b = @($theirs[$name].$field)
                    for ($i = 0; $i -lt [Math]::Max($a.Count, $b.Count); $i++) {
                        $x = if ($i -lt $a.Count) { $a[$i] } else { '(none)' }
                        $y = if ($i -lt $b.Count) { $b[$i] } else { '(none)' }
                        if ($x -cne $y) { $failures.Add("$name $field differs:`n    build:   $x`n    PlatyPS: $y"); break }
                    }
                }
            }
            # What a user sees: every exported cmdlet has a description, examples, and a description
            # of each of its own parameters, in the module as built.
            Import-Module (Join-Path $moduleDir 'Hashall.psd1') -Force
            $common = [Management.Automation.Cmdlet]::CommonParameters + [Management.Automation.Cmdlet]::OptionalCommonParameters
            foreach ($command in (Get-Module Hashall).ExportedCmdlets.Values) {
                $h = Get-Help $command.Name -Full
                if ($h -is [string] -or -not ($h.Description | Out-String).Trim()) { $failures.Add("Get-Help $($command.Name) shows no description."); continue }
                if (-not @($h.Examples.Example).Count) { $failures.Add("Get-Help $($command.Name) shows no examples.") }
                $described = @{}
                foreach ($p in @($h.Parameters.Parameter)) { $described[$p.Name] = ($p.Description | Out-String).Trim() }
                foreach ($p in $command.Parameters.Keys | Where-Object { $_ -notin $common }) {
                    if (-not $described[$p]) { $failures.Add("Get-Help $($command.Name) does not describe -$p.") }
                }
                foreach ($p in $described.Keys | Where-Object { -not $command.Parameters.ContainsKey($_) }) {
                    $failures.Add("Help for $($command.Name) describes -$p, which the cmdlet does not have.")
                }
            }
            Remove-Module Hashall
            if ($failures.Count) { throw "Help check failed ($($failures.Count)):`n  $($failures -join "`n  ")" }
            Write-Host "Help: $($pages.Count) pages pass Test-MarkdownCommandHelp; PlatyPS's MAML matches the build's for $($ours.Count) commands; every cmdlet's help is complete."
        }
        'Package' {
            # The zip (the module folder as is) and the .nupkg the PowerShell Gallery serves, made the way
            # the Gallery makes it: Publish-PSResource to a repository, here a local folder (out/), which
            # Install-PSResource can install from (tests/Pester/Package.Tests.ps1 does).
            $manifest = Import-PowerShellDataFile (Join-Path $moduleDir 'Hashall.psd1')
            $out = Join-Path $root 'out'
            $zip = Join-Path $out "Hashall-$($manifest.ModuleVersion).zip"
            if (Test-Path $zip) { Remove-Item $zip }
            Compress-Archive -Path $moduleDir -DestinationPath $zip
            Write-Host "Package: $zip"
            Import-Module Microsoft.PowerShell.PSResourceGet -ErrorAction Stop
            $nupkg = Join-Path $out "Hashall.$($manifest.ModuleVersion).nupkg"
            if (Test-Path $nupkg) { Remove-Item $nupkg }
            # A repository of this process only: registered under a unique name, removed afterwards.
            $repository = "HashallBuild-$PID"
            Register-PSResourceRepository -Name $repository -Uri $out -Trusted
            try {
                Publish-PSResource -Path $moduleDir -Repository $repository
            }
            finally {
                Unregister-PSResourceRepository -Name $repository
            }
            if (-not (Test-Path $nupkg)) { throw "Publish-PSResource did not produce $nupkg." }
            Write-Host "Package: $nupkg"
        }
    }
}
