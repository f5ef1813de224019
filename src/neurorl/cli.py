"""The ``neurorl`` command. Subsystems add commands through ``neurorl.cli_registry``.

Common conventions for every command:
- ``--json`` prints one JSON object with the metrics on stdout (progress goes to stderr);
- ``--out DIR`` chooses the run folder (default ``runs/<experiment>/<timestamp>``);
- ``--config.section.key=value`` overrides any field of the command's config.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import typer

from neurorl.cli_registry import PLOTTERS, app, play_app, reproduce_app

app.add_typer(reproduce_app, name="reproduce")
app.add_typer(play_app, name="play")


@app.command("plot")
def plot_cmd(run_dir: Path = typer.Argument(..., help="A finished run folder (holds run.json)."),
             json_out: bool = typer.Option(False, "--json", help="Print the written figure paths as JSON.")):
    """Redraw every figure of a finished run from its saved data."""
    from neurorl.experiments import load_all
    from neurorl.utils.runs import RunDir

    load_all()
    try:
        run = RunDir.open(run_dir)
    except FileNotFoundError as e:
        raise typer.BadParameter(str(e)) from None
    experiment = run.experiment
    if experiment not in PLOTTERS:
        raise typer.BadParameter(f"no plotter for experiment {experiment!r}; known: {sorted(PLOTTERS)}")
    paths = PLOTTERS[experiment](run.path)
    if json_out:
        print(json.dumps({"figures": [str(p) for p in paths]}))
    else:
        for p in paths:
            print(p)


def main(argv: list[str] | None = None) -> None:
    from neurorl.experiments import load_all

    load_all()
    app(args=argv if argv is not None else sys.argv[1:], prog_name="neurorl")


if __name__ == "__main__":
    main()
