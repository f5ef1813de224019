"""A short FOLLOW run learns; the CLI run folder, resume and continue work."""

import json

import numpy as np
import pytest

from neurorl.follow.network import vanderpol_config
from neurorl.follow.run import run_follow, segments
from neurorl.utils.runs import RunDir


def test_segments_cover_the_run():
    cfg = vanderpol_config(duration=1000.0, chunk_seconds=100.0)
    segs = segments(cfg)
    assert segs[0] == ("start", 0, 16000) and segs[-1] == ("end", 984000, 16000)
    n = 0
    for _, n0, length in segs:
        assert n0 == n
        n += length
    assert n == 1_000_000


@pytest.mark.slow
def test_short_run_reduces_error(tmp_path):
    """60 s of learning with 300+300 neurons: the feedback-driven error falls well below its initial level.

    Per-trial MSE with feedback on: trials 2-3 (right after feedback switches on, weights ~0) vs the last 3
    learning trials. A network that does not learn keeps the same error (it is driven by the same kind of
    random input), so a 3x drop cannot come from luck."""
    cfg = vanderpol_config(n_ff=300, n_rec=300, duration=76.0, chunk_seconds=20.0, test_duration=0.0)
    run = RunDir.create("follow-vanderpol", cfg, path=tmp_path / "run")
    s = run_follow(cfg, run, resume=False, quiet=True)
    m = np.load(run.data_dir / "mse.npz")
    fb = m["mse"][m["feedback"].astype(bool)]
    early, late = fb[:2].mean(), fb[-3:].mean()
    assert late < early / 3, (early, late)
    assert s["weights"]["rec"]["rank"] == 2


@pytest.mark.slow
def test_cli_resume_and_continue(tmp_path):
    from neurorl.experiments.follow import reproduce

    # start, learning and end chunks all 8 s long (one compiled scan per raster setting), no separate test
    kw = dict(duration=24.0, neurons=60, resume=True, input_seed=None, quiet=True,
              overrides=["--config.chunk_seconds=8", "--config.test_duration=0", "--config.t_nolearning=8"])
    out = tmp_path / "a"
    s1 = reproduce("vanderpol", out=out, continue_from=None, **kw)
    rows1 = (out / "mse_per_period.csv").read_text()
    for f in ("summary.json", "report.md", "checkpoint.ckpt", "data/start.npz", "data/end.npz",
              "data/mse.npz", "data/weights_end.npz", "data/params.npz", "figures/follow_learning.png",
              "figures/follow_spikes.png"):
        assert (out / f).exists(), f
    # resuming a finished run recomputes nothing and gives the same per-trial record
    s2 = reproduce("vanderpol", out=out, continue_from=None, figures=False, **kw)
    assert (out / "mse_per_period.csv").read_text() == rows1
    assert s2["mse_last_100s"] == s1["mse_last_100s"]
    # continue from the learned weights with a new input seed
    s3 = reproduce("vanderpol", out=tmp_path / "b", continue_from=out, figures=False, **kw)
    assert s3["config"]["seed_input"] == 3
    info = json.loads((tmp_path / "b" / "run.json").read_text())
    assert info["continued_from"] == str(out)
    w_prev = np.load(out / "data" / "weights_end.npz")["weights"]
    assert np.abs(w_prev).max() > 0
    # the continued run starts from the learned weights: its first open-loop trial is not the zero-weight one
    assert s3["open_loop_start"]["mse"] != pytest.approx(s1["open_loop_start"]["mse"])
