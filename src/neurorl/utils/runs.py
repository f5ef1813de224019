"""Run folders: every run writes its config, seed, provenance, metrics, checkpoints, figures and report.

Layout of a run folder::

    run.json          experiment name, config, seed(s), provenance, status
    metrics*.csv      one row per logged step (appended as the run goes)
    checkpoint*.ckpt  atomic checkpoints (see neurorl.utils.checkpoint)
    data/             arrays saved for figures (``neurorl plot RUN_DIR`` redraws from these)
    figures/          PNG and PDF
    report.md         a short human-readable summary
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as _dt
import os
from pathlib import Path
from typing import Any, Iterable, Mapping

from neurorl.utils.atomic import atomic_write_json, atomic_write_text, to_jsonable
from neurorl.utils.provenance import provenance

DEFAULT_ROOT = Path(os.environ.get("NEURORL_RUNS", "runs"))


def _timestamp() -> str:
    return _dt.datetime.now().strftime("%Y%m%d-%H%M%S")


@dataclasses.dataclass
class RunDir:
    path: Path

    # ---- creation -------------------------------------------------------------------------
    @classmethod
    def create(
        cls,
        experiment: str,
        config: Any = None,
        *,
        root: str | os.PathLike | None = None,
        path: str | os.PathLike | None = None,
        seed: int | Iterable[int] | None = None,
    ) -> "RunDir":
        """Make (or reopen, for resume) a run folder and write ``run.json``.

        ``path`` names the folder exactly; otherwise ``root/experiment/<timestamp>`` is used.
        Reopening an existing folder keeps its ``run.json`` history of starts.
        """
        if path is None:
            root = Path(root) if root is not None else DEFAULT_ROOT
            path = root / experiment / _timestamp()
            n = 1
            while path.exists():
                n += 1
                path = root / experiment / f"{_timestamp()}-{n}"
        run = cls(Path(path))
        run.path.mkdir(parents=True, exist_ok=True)
        info = run.read_info() if run.info_path.exists() else {}
        starts = info.get("starts", []) + [_dt.datetime.now().isoformat(timespec="seconds")]
        info.update(
            experiment=experiment,
            config=to_jsonable(dataclasses.asdict(config) if dataclasses.is_dataclass(config) else config),
            seed=to_jsonable(list(seed) if isinstance(seed, Iterable) and not isinstance(seed, (str, int)) else seed),
            provenance=provenance(),
            starts=starts,
            status="running",
        )
        atomic_write_json(run.info_path, info)
        return run

    @classmethod
    def open(cls, path: str | os.PathLike) -> "RunDir":
        run = cls(Path(path))
        if not run.info_path.exists():
            raise FileNotFoundError(f"{path} is not a neurorl run folder (no run.json)")
        return run

    # ---- paths ----------------------------------------------------------------------------
    @property
    def info_path(self) -> Path:
        return self.path / "run.json"

    @property
    def data_dir(self) -> Path:
        d = self.path / "data"
        d.mkdir(exist_ok=True)
        return d

    @property
    def figures_dir(self) -> Path:
        d = self.path / "figures"
        d.mkdir(exist_ok=True)
        return d

    # ---- contents ---------------------------------------------------------------------------
    def read_info(self) -> dict:
        import json

        return json.loads(self.info_path.read_text())

    @property
    def experiment(self) -> str:
        return self.read_info()["experiment"]

    def update_info(self, **fields: Any) -> None:
        info = self.read_info()
        info.update(to_jsonable(fields))
        atomic_write_json(self.info_path, info)

    def finish(self, **fields: Any) -> None:
        self.update_info(status="finished", finished=_dt.datetime.now().isoformat(timespec="seconds"), **fields)

    def write_json(self, name: str, obj: Any) -> Path:
        return atomic_write_json(self.path / name, obj)

    def write_report(self, markdown: str) -> Path:
        return atomic_write_text(self.path / "report.md", markdown)

    def metrics(self, name: str = "metrics.csv", fields: Iterable[str] | None = None) -> "MetricsCSV":
        return MetricsCSV(self.path / name, list(fields) if fields is not None else None)


class MetricsCSV:
    """Append-only CSV; the header is written once. Rows are flushed at once so a kill loses nothing."""

    def __init__(self, path: Path, fields: list[str] | None):
        self.path = path
        self.fields = fields
        if path.exists() and path.stat().st_size > 0:
            with open(path, newline="") as f:
                header = next(csv.reader(f), None)
            self.fields = header

    def append(self, row: Mapping[str, Any]) -> None:
        row = {k: (v.item() if hasattr(v, "item") else v) for k, v in row.items()}
        new = not self.path.exists() or self.path.stat().st_size == 0
        if self.fields is None:
            self.fields = list(row)
        with open(self.path, "a", newline="") as f:
            w = csv.DictWriter(f, fieldnames=self.fields, extrasaction="raise")
            if new:
                w.writeheader()
            w.writerow(row)

    def extend(self, rows: Iterable[Mapping[str, Any]]) -> None:
        for r in rows:
            self.append(r)

    def truncate_after(self, column: str, value: float) -> None:
        """Drop rows with ``row[column] > value`` (used on resume, so no step is logged twice)."""
        if not self.path.exists():
            return
        with open(self.path, newline="") as f:
            rows = list(csv.DictReader(f))
        keep = [r for r in rows if float(r[column]) <= value]
        if len(keep) != len(rows):
            import io

            buf = io.StringIO()
            w = csv.DictWriter(buf, fieldnames=self.fields)
            w.writeheader()
            w.writerows(keep)
            atomic_write_text(self.path, buf.getvalue())

    def read(self) -> list[dict[str, str]]:
        if not self.path.exists():
            return []
        with open(self.path, newline="") as f:
            return list(csv.DictReader(f))
