#!/usr/bin/env bash
# Install everything the tests need (Debian libraries for headless Qt, the package with its test extra)
# and run the whole suite on the CPU, without a display.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install_system_deps.sh
python3 -m pip install -q -e '.[test]'
export QT_QPA_PLATFORM=offscreen
exec python3 -m pytest -q "$@"
