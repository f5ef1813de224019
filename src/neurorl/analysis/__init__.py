"""Figures, one module per figure family. Every function takes saved data and writes PNG + PDF."""
