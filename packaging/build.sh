#!/usr/bin/env bash
# Build the one-folder bundle packaging/dist/AttnStudio/ with PyInstaller, then prove it starts.
#
#   packaging/build.sh            # fresh build; reuses packaging/build-venv if it is there
#   PYTHON=python3.12 packaging/build.sh
#
# Steps: a venv in packaging/build-venv, `pip install . pyinstaller`, `pyinstaller packaging/attnstudio.spec`,
# then `QT_QPA_PLATFORM=offscreen packaging/dist/AttnStudio/AttnStudio --smoke`, which must exit 0.
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"
venv="$root/packaging/build-venv"
dist="$root/packaging/dist"
bundle="$dist/AttnStudio"
PYINSTALLER_REQ="${PYINSTALLER_REQ:-pyinstaller>=6.10,<7}"

start=$(date +%s)
if [[ ! -x "$venv/bin/python" ]]; then
  "${PYTHON:-python3}" -m venv "$venv"
fi
"$venv/bin/python" -m pip install -q --upgrade pip
# The package (non-editable) brings the exact runtime dependencies; pyinstaller does the bundling.
"$venv/bin/python" -m pip install -q "$root" "$PYINSTALLER_REQ"

rm -rf "$bundle"
"$venv/bin/pyinstaller" --noconfirm --clean --log-level WARN \
  --workpath "$root/packaging/build" --distpath "$dist" "$root/packaging/attnstudio.spec"
# The desktop-entry installer, so an unpacked bundle can put itself in the menu (./install-desktop.sh).
install -m755 "$root/packaging/install-desktop.sh" "$bundle/install-desktop.sh"
built=$(date +%s)

echo "smoke: QT_QPA_PLATFORM=offscreen $bundle/AttnStudio --smoke"
if ! QT_QPA_PLATFORM=offscreen timeout 120 "$bundle/AttnStudio" --smoke; then
  echo "build.sh: the bundle did not start and paint (smoke failed)" >&2
  exit 1
fi
"$bundle/AttnStudio" --version

size=$(du -sh "$bundle" | cut -f1)
echo "bundle: $bundle ($size), built in $((built - start)) s"
