"""Every examples/*.ipynb runs top to bottom (nbclient, tiny settings via NEURORL_NOTEBOOK_QUICK=1),
and the stored notebooks match examples/build_notebooks.py (their single source)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
NOTEBOOKS = sorted(EXAMPLES.glob("*.ipynb"))


def _source_cells(nb) -> list[tuple[str, str]]:
    return [(c.cell_type, c.source) for c in nb.cells]


def test_notebooks_match_their_builder():
    sys.path.insert(0, str(EXAMPLES))
    try:
        import build_notebooks
    finally:
        sys.path.pop(0)
    assert sorted(build_notebooks.NOTEBOOKS) == [p.name for p in NOTEBOOKS]
    for p in NOTEBOOKS:
        stored = nbformat.read(p, as_version=4)
        assert _source_cells(stored) == [(c.cell_type, c.source) for c in build_notebooks.NOTEBOOKS[p.name]], (
            f"{p.name} differs from examples/build_notebooks.py: run python examples/build_notebooks.py")
        assert all(not c.get("outputs") for c in stored.cells if c.cell_type == "code"), f"{p.name} is stored with outputs"


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs_top_to_bottom(path, tmp_path, monkeypatch):
    monkeypatch.setenv("NEURORL_NOTEBOOK_QUICK", "1")
    monkeypatch.setenv("NEURORL_RUNS", str(tmp_path / "runs"))
    monkeypatch.setenv("NEURORL_NO_PROGRESS", "1")
    monkeypatch.setenv("MPLBACKEND", "Agg")
    nb = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(nb, timeout=1200, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}})
    client.execute()  # raises CellExecutionError with the failing cell's traceback
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert not errors
    assert any(c.get("outputs") for c in nb.cells if c.cell_type == "code")
