#!/usr/bin/env bash
# Screenshots of the real app, for the README: starts Xvfb (a virtual X display), runs scripts/screenshots.py,
# which opens GAN Studio with the demo landscapes and walks through its main screens, and writes PNGs into
# docs/screenshots/. Needs Xvfb and Qt's X11 libraries (bash scripts/install_system_deps.sh installs them).
#
#   bash scripts/screenshots.sh                    # about 3 minutes on a laptop CPU
#   bash scripts/screenshots.sh --train-seconds 30 # quicker, blurrier samples
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v Xvfb >/dev/null 2>&1; then
  echo "screenshots.sh: Xvfb is not installed; run: bash scripts/install_system_deps.sh" >&2
  exit 1
fi

display=""
for n in $(seq 99 160); do
  if [ ! -e "/tmp/.X11-unix/X$n" ] && [ ! -e "/tmp/.X$n-lock" ]; then display=":$n"; break; fi
done
[ -n "$display" ] || { echo "screenshots.sh: no free X display number" >&2; exit 1; }

work="$(mktemp -d)"
Xvfb "$display" -screen 0 1600x1000x24 -nolisten tcp >"$work/xvfb.log" 2>&1 &
xvfb_pid=$!
cleanup() { kill "$xvfb_pid" 2>/dev/null || true; wait "$xvfb_pid" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
for _ in $(seq 1 100); do
  [ -e "/tmp/.X11-unix/X${display#:}" ] && break
  kill -0 "$xvfb_pid" 2>/dev/null || { cat "$work/xvfb.log" >&2; exit 1; }
  sleep 0.1
done

# A fresh runs folder and settings, so the pictures show a first session (and the user's runs stay theirs);
# the demo landscapes are painted once into the usual cache unless GAN_STUDIO_CACHE says otherwise.
export DISPLAY="$display" QT_QPA_PLATFORM=xcb GAN_STUDIO_RUNS="$work/runs"
exec_status=0
python3 scripts/screenshots.py --out docs/screenshots --settings "$work/settings" "$@" || exec_status=$?
exit "$exec_status"
