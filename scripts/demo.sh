#!/usr/bin/env bash
# Set up and run the main demo: meta-RL on the two-armed bandit (Wang et al. 2018), figures and a
# table beside the published/Bayes-optimal numbers, written to runs/demo/.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
. .venv/bin/activate
neurorl reproduce bandit-independent --out runs/demo "$@"
