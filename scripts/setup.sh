#!/usr/bin/env bash
# Create .venv (Python 3.11) and install neurorl with the pinned versions of constraints.txt.
# Usage: scripts/setup.sh [EXTRAS]   e.g. scripts/setup.sh server,distributed,reference,dev
set -euo pipefail
cd "$(dirname "$0")/.."
EXTRAS="${1:-}"
PY="${PYTHON:-}"
if [ -z "$PY" ]; then
  for c in python3.11 python3 python; do
    if command -v "$c" >/dev/null && "$c" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))'; then PY="$c"; break; fi
  done
fi
[ -n "$PY" ] || { echo "neurorl needs Python 3.11 (jax 0.10.2 is the newest for 3.11; see docs/install.md)" >&2; exit 1; }
[ -x .venv/bin/python ] || "$PY" -m venv .venv
. .venv/bin/activate
python -m pip install -q --upgrade "pip>=24" >/dev/null
SPEC="."
[ -n "$EXTRAS" ] && SPEC=".[$EXTRAS]"
# torch is only needed for the optional peer benchmark; its pin (2.13.0, CPU build) lives in constraints.txt.
python -m pip install -q -c constraints.txt -e "$SPEC"
