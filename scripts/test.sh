#!/usr/bin/env bash
# Set up everything the test suite needs (Python extras, Debian chromium for the browser tests) and run it.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh server,distributed,reference,dev
if ! command -v chromium >/dev/null && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
    || echo "warning: could not install Debian chromium; browser tests will be skipped" >&2
fi
. .venv/bin/activate
export NEURORL_NO_PROGRESS=1 MPLBACKEND=Agg
# Two pytest workers (pytest-xdist): JAX compilation is single-threaded and the server, browser and Ray
# tests wait on sockets, so two workers keep both cores busy. pytest exits 5 when no test ran:
# set -e turns that (and any failure) into a failed run.
python -m pytest -p no:nengo -n 2 -q --durations=25 "$@"
