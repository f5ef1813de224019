"""Suite-wide settings: quiet progress bars, Agg backend, a fresh runs folder and cache per test process.

The runs folder and the neurorl cache (Gittins tables, persistent XLA compilation cache) are per
process so that parallel workers (``pytest -n 2``, scripts/test.sh) and the developer's own
``runs/`` and ``~/.cache/neurorl`` never see each other's files.
"""

import os
import tempfile

os.environ.setdefault("NEURORL_NO_PROGRESS", "1")
os.environ.setdefault("MPLBACKEND", "Agg")
os.environ.setdefault("NEURORL_RUNS", tempfile.mkdtemp(prefix="neurorl-test-runs-"))
os.environ.setdefault("NEURORL_CACHE", tempfile.mkdtemp(prefix="neurorl-test-cache-"))
