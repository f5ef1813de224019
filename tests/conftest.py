"""Suite-wide settings: quiet progress bars, Agg backend, a fresh runs folder per test process.

The runs folder is per process so that parallel workers (``pytest -n 2``, scripts/test.sh) and the
developer's own ``runs/`` never see each other's run folders.
"""

import os
import tempfile

os.environ.setdefault("NEURORL_NO_PROGRESS", "1")
os.environ.setdefault("MPLBACKEND", "Agg")
os.environ.setdefault("NEURORL_RUNS", tempfile.mkdtemp(prefix="neurorl-test-runs-"))
