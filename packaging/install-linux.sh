#!/usr/bin/env bash
# Install the built Linux bundle for this user, like an app: the folder in ~/.local/opt/tokenworth,
# `tokenworth` on PATH (~/.local/bin), the icon in the hicolor theme and an applications-menu entry.
# Usage: packaging/build.sh && packaging/install-linux.sh      (remove again: --uninstall)
set -euo pipefail
cd "$(dirname "$0")/.."

PREFIX="${PREFIX:-$HOME/.local}"
DATA="${XDG_DATA_HOME:-$HOME/.local/share}"
target="$PREFIX/opt/tokenworth"
icons=app/tokenworth/resources/icons
sizes="16 22 24 32 48 64 128 256 512"

if [ "${1:-}" = "--uninstall" ]; then
  if [ -x "$target/tokenworth" ]; then "$target/tokenworth" autostart off || true; fi
  rm -rf "$target"
  rm -f "$PREFIX/bin/tokenworth" "$DATA/applications/tokenworth.desktop" \
    "$DATA/icons/hicolor/scalable/apps/tokenworth.svg"
  for size in $sizes; do rm -f "$DATA/icons/hicolor/${size}x${size}/apps/tokenworth.png"; done
  echo "Removed Tokenworth from $PREFIX (your data and logs are kept; \`tokenworth doctor\` showed where)."
  exit 0
fi

if [ ! -x dist/tokenworth/tokenworth ]; then
  echo "No bundle in dist/tokenworth: run packaging/build.sh first." >&2
  exit 2
fi
rm -rf "$target"
mkdir -p "$PREFIX/opt" "$PREFIX/bin"
cp -a dist/tokenworth "$target"
ln -sf "$target/tokenworth" "$PREFIX/bin/tokenworth"
for size in $sizes; do
  install -D -m 644 "$icons/tokenworth-$size.png" "$DATA/icons/hicolor/${size}x${size}/apps/tokenworth.png"
done
install -D -m 644 "$icons/tokenworth.svg" "$DATA/icons/hicolor/scalable/apps/tokenworth.svg"
mkdir -p "$DATA/applications"
sed -e "s|^Exec=.*|Exec=\"$target/tokenworth\"|" -e "s|^TryExec=.*|TryExec=$target/tokenworth|" \
  app/tokenworth/resources/tokenworth.desktop > "$DATA/applications/tokenworth.desktop"
if command -v update-desktop-database >/dev/null 2>&1; then update-desktop-database -q "$DATA/applications" || true; fi
if command -v gtk-update-icon-cache >/dev/null 2>&1; then gtk-update-icon-cache -q "$DATA/icons/hicolor" || true; fi
echo "Installed Tokenworth in $target; run \`tokenworth\` (or pick it from the menu)."
echo "Start it at login: tokenworth autostart on"
