#!/usr/bin/env bash
# Install AttnStudio's menu entry, file type, AppStream metainfo and icons for the current user.
#
#   packaging/install-desktop.sh                 # from a checkout; the menu runs `attnstudio` from PATH
#   packaging/install-desktop.sh --exec PATH     # the menu runs PATH instead (a venv's or a bundle's binary)
#   packaging/install-desktop.sh --uninstall     # remove what this script installed
#   ./install-desktop.sh                         # from inside a PyInstaller bundle: runs that bundle
#
# Files go under ${XDG_DATA_HOME:-~/.local/share}; nothing needs root. The caches are refreshed with
# update-desktop-database, update-mime-database and gtk-update-icon-cache when they are installed.
set -euo pipefail

APP_ID=io.github.attnstudio.AttnStudio
SIZES=(16 24 32 48 64 128 256 512)
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
data="${XDG_DATA_HOME:-$HOME/.local/share}"

exec_path=""
uninstall=0
while (($#)); do
  case "$1" in
    --exec) exec_path="${2:?--exec needs a path}"; shift 2 ;;
    --exec=*) exec_path="${1#--exec=}"; shift ;;
    --uninstall) uninstall=1; shift ;;
    -h|--help) sed -n '2,11p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "install-desktop.sh: unknown option $1 (try --help)" >&2; exit 2 ;;
  esac
done

# Where the material is: a source checkout, or a bundle made by packaging/build.sh.
if [[ -d "$here/../resources/linux" ]]; then
  linux="$here/../resources/linux"; icons="$here/../attnstudio/data/icons"
elif [[ -d "$here/_internal/resources/linux" ]]; then
  linux="$here/_internal/resources/linux"; icons="$here/_internal/attnstudio/data/icons"
  [[ -n "$exec_path" ]] || exec_path="$here/AttnStudio"
else
  echo "install-desktop.sh: cannot find resources/linux next to $here" >&2; exit 1
fi

targets=(
  "$data/applications/$APP_ID.desktop"
  "$data/metainfo/$APP_ID.metainfo.xml"
  "$data/mime/packages/$APP_ID.xml"
  "$data/icons/hicolor/scalable/apps/$APP_ID.svg"
)
for size in "${SIZES[@]}"; do targets+=("$data/icons/hicolor/${size}x${size}/apps/$APP_ID.png"); done

if ((uninstall)); then
  rm -f -- "${targets[@]}"
  echo "removed AttnStudio's desktop entry, file type, metainfo and icons from $data"
else
  install -Dm644 "$linux/$APP_ID.metainfo.xml" "$data/metainfo/$APP_ID.metainfo.xml"
  install -Dm644 "$linux/$APP_ID.mime.xml" "$data/mime/packages/$APP_ID.xml"
  install -Dm644 "$icons/attnstudio.svg" "$data/icons/hicolor/scalable/apps/$APP_ID.svg"
  for size in "${SIZES[@]}"; do
    install -Dm644 "$icons/attnstudio-$size.png" "$data/icons/hicolor/${size}x${size}/apps/$APP_ID.png"
  done
  mkdir -p "$data/applications"
  if [[ -n "$exec_path" ]]; then
    exec_path="$(realpath -- "$exec_path")"
    [[ -x "$exec_path" ]] || { echo "install-desktop.sh: $exec_path is not an executable" >&2; exit 1; }
    # Exec= quotes its program; these four characters would need escapes we do not attempt.
    if [[ "$exec_path" == *[\"\`\$\\]* ]]; then
      echo "install-desktop.sh: cannot put a path containing \" \` \$ or \\ in Exec=: $exec_path" >&2; exit 1
    fi
    # Write through a temporary file so a failed sed never leaves half an entry behind.
    tmp="$(mktemp)"
    awk -v exe="$exec_path" '
      /^Exec=/    { print "Exec=\"" exe "\" %f"; next }
      /^TryExec=/ { print "TryExec=" exe; next }
      { print }' "$linux/$APP_ID.desktop" > "$tmp"
    install -m644 "$tmp" "$data/applications/$APP_ID.desktop"
    rm -f "$tmp"
  else
    install -m644 "$linux/$APP_ID.desktop" "$data/applications/$APP_ID.desktop"
    command -v attnstudio >/dev/null 2>&1 ||
      echo "note: 'attnstudio' is not on PATH; the menu entry stays hidden until it is (or use --exec PATH)" >&2
  fi
  echo "installed AttnStudio's desktop entry, file type, metainfo and icons into $data"
fi

# Refresh the caches the desktop reads; each tool is optional.
if command -v update-desktop-database >/dev/null 2>&1; then
  update-desktop-database -q "$data/applications" || true
fi
if command -v update-mime-database >/dev/null 2>&1 && [[ -d "$data/mime" ]]; then
  update-mime-database "$data/mime" || true
fi
if command -v gtk-update-icon-cache >/dev/null 2>&1 && [[ -d "$data/icons/hicolor" ]]; then
  gtk-update-icon-cache -q -f -t "$data/icons/hicolor" || true
fi
