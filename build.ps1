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
            # dotnet build already converts docs/*.md into en-US/; with PlatyPS 1.0 installed, use its
            # own exporter instead and check that it reads our pages.
            if (Get-Module -ListAvailable Microsoft.PowerShell.PlatyPS) {
                Import-Module Microsoft.PowerShell.PlatyPS
                $pages = Get-ChildItem (Join-Path $root 'docs') -Filter '*-*.md'
                $help = $pages | ForEach-Object { Import-MarkdownCommandHelp -Path $_.FullName }
                $staging = Join-Path $root 'out/platyps'
                $help | Export-MamlCommandHelp -OutputFolder $staging -Force | Out-Null
                $maml = Get-ChildItem $staging -Recurse -Filter '*.xml' | Select-Object -First 1
                Copy-Item $maml.FullName (Join-Path $moduleDir 'en-US/Hashall.PowerShell.dll-Help.xml') -Force
                Write-Host "Help exported with PlatyPS from $($pages.Count) pages."
            }
            else {
                Write-Warning 'PlatyPS (Microsoft.PowerShell.PlatyPS) is not installed; keeping the help that dotnet build made from docs/.'
            }
            Import-Module $moduleDir -Force
            foreach ($command in (Get-Module Hashall).ExportedCmdlets.Keys) {
                $h = Get-Help $command -Full
                if (-not $h.Description -or -not $h.Examples) { throw "Help for $command lacks a description or examples." }
            }
        }
        'Package' {
            $manifest = Import-PowerShellDataFile (Join-Path $root 'Hashall.psd1')
            $zip = Join-Path $root "out/Hashall-$($manifest.ModuleVersion).zip"
            if (Test-Path $zip) { Remove-Item $zip }
            Compress-Archive -Path $moduleDir -DestinationPath $zip
            Write-Host "Package: $zip"
        }
    }
}
