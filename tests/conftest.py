"""Suite-wide settings: quiet progress bars, Agg backend, a fresh runs folder per session."""

import os

os.environ.setdefault("NEURORL_NO_PROGRESS", "1")
os.environ.setdefault("MPLBACKEND", "Agg")
