#!/usr/bin/env bash
# Build the Tokenworth app bundle with PyInstaller (Linux and macOS; Windows: packaging/build.ps1).
#   Linux: dist/tokenworth/tokenworth    macOS: dist/Tokenworth.app (menu-bar app, no Dock icon)
# Usage: packaging/build.sh [PYTHON]   PYTHON defaults to .venv/bin/python, with the `package` extra:
#   python3 -m venv .venv && .venv/bin/pip install -e '.[package]' && packaging/build.sh
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON="${1:-${PYTHON:-}}"
if [ -z "$PYTHON" ]; then
  if [ -x .venv/bin/python ]; then PYTHON=.venv/bin/python; else PYTHON=python3; fi
fi
if ! "$PYTHON" -m PyInstaller --version >/dev/null 2>&1; then
  echo "PyInstaller is not installed for $PYTHON: run $PYTHON -m pip install -e '.[package]'" >&2
  exit 2
fi

start=$(date +%s)
"$PYTHON" -m PyInstaller --noconfirm --clean --log-level WARN \
  --distpath dist --workpath build/pyinstaller packaging/tokenworth.spec

if [ "$(uname)" = "Darwin" ]; then
  exe=dist/Tokenworth.app/Contents/MacOS/tokenworth
else
  exe=dist/tokenworth/tokenworth
fi
"$exe" --version
echo "built $exe in $(( $(date +%s) - start )) s ($(du -sh "$(dirname "$exe")" | cut -f1) in its folder)"
