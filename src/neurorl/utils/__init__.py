"""Small shared helpers: atomic file writes, run folders, progress bars, config overrides."""
