# Build the Tokenworth bundle on Windows with PyInstaller:
#   dist\tokenworth\tokenworth.exe       the command line (console)
#   dist\tokenworth\tokenworth-tray.exe  the tray app without a console window (Start menu, login)
# Usage, from the repository root in PowerShell:
#   py -3.11 -m venv .venv; .venv\Scripts\pip install -e ".[package]"; .\packaging\build.ps1
param([string]$Python = ".venv\Scripts\python.exe")
$ErrorActionPreference = "Stop"
Set-Location (Join-Path $PSScriptRoot "..")

& $Python -m PyInstaller --version *> $null
if ($LASTEXITCODE -ne 0) {
    Write-Error "PyInstaller is not installed for ${Python}: run $Python -m pip install -e '.[package]'"
    exit 2
}
$watch = [Diagnostics.Stopwatch]::StartNew()
& $Python -m PyInstaller --noconfirm --clean --log-level WARN `
    --distpath dist --workpath build\pyinstaller packaging\tokenworth.spec
if ($LASTEXITCODE -ne 0) { exit $LASTEXITCODE }
& dist\tokenworth\tokenworth.exe --version
Write-Output ("built dist\tokenworth in {0:N0} s" -f $watch.Elapsed.TotalSeconds)
