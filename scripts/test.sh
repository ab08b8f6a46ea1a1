#!/usr/bin/env bash
# Install everything the tests need (Debian libraries for headless Qt, the package with its test extra), check the
# code (ruff, mypy) and run the test suite on the CPU, without a display. Arguments go to pytest:
#   bash scripts/test.sh                  # everything (CI)
#   bash scripts/test.sh -m "not slow"    # the quick tier for everyday runs (under a minute)
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install_system_deps.sh
python3 -m pip install -q -e '.[test]'
python3 -m ruff check gan_studio tests benchmarks scripts
python3 -m mypy
export QT_QPA_PLATFORM=offscreen
exec python3 -m pytest -q "$@"
