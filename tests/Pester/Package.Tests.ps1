#requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0.0' }
# The .nupkg that `build.ps1 -Task Package` publishes, installed the way a user installs from the
# Gallery (Install-PSResource from a repository) and used from a new pwsh: the native SQLite, the help
# and the format views must survive packaging. Everything PSResourceGet writes (its repository list,
# the installed module) goes to a temporary HOME, never the user's.

BeforeAll {
    $script:root = (Resolve-Path (Join-Path $PSScriptRoot '../..')).Path
    $script:moduleDir = Join-Path $root 'out/Hashall'
    $version = (Import-PowerShellDataFile (Join-Path $root 'Hashall.psd1')).ModuleVersion
    $script:nupkg = Join-Path $root "out/Hashall.$version.nupkg"
    $built = Get-Item (Join-Path $moduleDir 'Hashall.PowerShell.dll') -ErrorAction Stop
    if (-not (Test-Path $nupkg) -or (Get-Item $nupkg).LastWriteTimeUtc -lt $built.LastWriteTimeUtc) {
        # A package older than the build (or none): make it, as CI's `-Task Package` does.
        & (Get-Process -Id $PID).Path -NoProfile -File (Join-Path $root 'build.ps1') -Task Package | Out-Host
        if ($LASTEXITCODE -ne 0) { throw "build.ps1 -Task Package failed ($LASTEXITCODE)." }
    }
    $script:pwsh = (Get-Process -Id $PID).Path

    # Runs a script in a new pwsh whose HOME (and so PSResourceGet's and PowerShell's user folders) is
    # $home; returns what it writes as JSON.
    function script:Invoke-InNewPwsh([string] $HomeDir, [string] $Script) {
        $saved = @{ HOME = $env:HOME; XDG_DATA_HOME = $env:XDG_DATA_HOME; XDG_CONFIG_HOME = $env:XDG_CONFIG_HOME; XDG_CACHE_HOME = $env:XDG_CACHE_HOME; PSModulePath = $env:PSModulePath }
        try {
            $env:HOME = $HomeDir
            $env:XDG_DATA_HOME = Join-Path $HomeDir '.local/share'
            $env:XDG_CONFIG_HOME = Join-Path $HomeDir '.config'
            $env:XDG_CACHE_HOME = Join-Path $HomeDir '.cache'
            # .NET gives no LocalApplicationData for a folder that does not exist, and PSResourceGet then
            # keeps its repository list in the current directory: make them all.
            foreach ($dir in $env:XDG_DATA_HOME, $env:XDG_CONFIG_HOME, $env:XDG_CACHE_HOME) { New-Item -ItemType Directory -Path $dir -Force | Out-Null }
            $env:PSModulePath = $null # the new pwsh builds it from its own HOME and $PSHOME
            Push-Location $HomeDir # nothing the new pwsh writes lands in the repository
            try { $output = & $pwsh -NoProfile -NonInteractive -Command $Script 2>&1 }
            finally { Pop-Location }
            if ($LASTEXITCODE -ne 0) { throw "The new pwsh failed ($LASTEXITCODE):`n$($output -join "`n")" }
            ($output -join "`n") | ConvertFrom-Json
        }
        finally {
            foreach ($name in $saved.Keys) { Set-Item "env:$name" -Value $saved[$name] }
        }
    }

    $script:userHome = Join-Path $TestDrive 'home'
    New-Item -ItemType Directory -Path $userHome | Out-Null
    $repository = Join-Path $TestDrive 'repository'
    New-Item -ItemType Directory -Path $repository | Out-Null
    Copy-Item $nupkg $repository
    $script:install = Invoke-InNewPwsh $userHome @"
`$ErrorActionPreference = 'Stop'
Register-PSResourceRepository -Name LocalHashall -Uri '$repository' -Trusted
Install-PSResource -Name Hashall -Repository LocalHashall -Scope CurrentUser -TrustRepository -Quiet
`$r = Get-InstalledPSResource -Name Hashall -Scope CurrentUser
if (-not (Test-Path (Join-Path ([Environment]::GetFolderPath('LocalApplicationData')) 'PSResourceGet/PSResourceRepository.xml'))) { throw 'PSResourceGet kept its repository list outside the temporary HOME.' }
[pscustomobject]@{ Version = `$r.Version.ToString(); Location = `$r.InstalledLocation; UserModules = (`$env:PSModulePath -split [IO.Path]::PathSeparator)[0] } | ConvertTo-Json -Compress
"@
}

Describe 'The published package' {
    It 'is a package the Gallery would accept: its nuspec names the module, its version and release notes' {
        Add-Type -AssemblyName System.IO.Compression.FileSystem
        $zip = [IO.Compression.ZipFile]::OpenRead($nupkg)
        try {
            $entries = $zip.Entries.FullName
            [xml] $nuspec = [IO.StreamReader]::new($zip.GetEntry('Hashall.nuspec').Open()).ReadToEnd()
        }
        finally { $zip.Dispose() }
        $nuspec.package.metadata.id | Should -Be 'Hashall'
        $nuspec.package.metadata.releaseNotes | Should -Match 'first release'
        $nuspec.package.metadata.tags | Should -Match 'PSModule'
        foreach ($file in 'Hashall.psd1', 'Hashall.PowerShell.dll', 'Hashall.Format.ps1xml', 'en-US/Hashall.PowerShell.dll-Help.xml',
            'linux-x64/e_sqlite3.so', 'osx-arm64/e_sqlite3.dylib', 'win-x64/e_sqlite3.dll') {
            $entries | Should -Contain $file
        }
    }

    It 'installs with Install-PSResource into the user module folder, here the temporary HOME''s' {
        $install.Version | Should -Be '0.1.0'
        $install.Location | Should -BeLike "$($install.UserModules)*"
        # Where HOME decides the user folders (Linux, macOS) that is the temporary one; Windows takes
        # them from the user profile whatever HOME says.
        if ($install.UserModules -like "$userHome*") { $install.Location | Should -BeLike "$userHome*" }
    }

    It 'imports by name in a new pwsh and catalogs a device in a new SQLite catalog' {
        $data = Join-Path $TestDrive 'data'
        New-Item -ItemType Directory -Path $data | Out-Null
        $db = Join-Path $TestDrive 'package.db'
        $result = Invoke-InNewPwsh $userHome @"
`$ErrorActionPreference = 'Stop'
Import-Module Hashall
Set-HashallDevice -Device '$data' -Alias packaged -Database '$db'
`$device = Get-HashallDevice -Device packaged -Database '$db'
[pscustomobject]@{
    ModuleBase = (Get-Module Hashall).ModuleBase
    Alias = `$device.Alias
    Type = `$device.PSObject.TypeNames[0]
    Table = (`$device | Out-String -Width 200)
    Description = (Get-Help Set-HashallDevice -Full).Description.Text -join ' '
    Examples = @((Get-Help Set-HashallDevice -Examples).Examples.Example).Count
    About = (Get-Help about_Hashall | Out-String)
} | ConvertTo-Json -Compress
"@
        $result.ModuleBase | Should -BeLike "$($install.Location)*"
        $result.Alias | Should -Be 'packaged'
        $result.Type | Should -Be 'Hashall.Core.Devices.HashallDevice'
        # The default table view (Hashall.Format.ps1xml), not PowerShell's list of every property.
        $result.Table | Should -Match 'Id\s+Alias\s+MountPoint\s+FileSystem\s+IdentityKind'
        $result.Table | Should -Match 'packaged'
        $result.Description | Should -Match 'alias'
        $result.Examples | Should -BeGreaterThan 0
        $result.About | Should -Match 'Hashall'
        Test-Path $db | Should -BeTrue
    }
}
