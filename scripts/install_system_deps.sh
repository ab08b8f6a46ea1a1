#!/usr/bin/env bash
# Debian packages Qt needs to run headless (offscreen) and under Xvfb for screenshots.
# Installs only what is missing, so it is quick on a machine that has them; uses sudo when not root.
set -euo pipefail
pkgs=(libegl1 libgl1 libxkbcommon0 libxkbcommon-x11-0 libfontconfig1 libdbus-1-3 libglib2.0-0
      xvfb libxcb-icccm4 libxcb-keysyms1 libxcb-image0 libxcb-render-util0 libxcb-cursor0 libxcb-shape0
      libxcb-xinerama0 libxcb-randr0 libxcb-xkb1 fonts-dejavu-core)
command -v dpkg >/dev/null 2>&1 || { echo "not a Debian-like system: install Qt's runtime libraries yourself"; exit 0; }
missing=()
for p in "${pkgs[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
echo "installing Debian packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
