"""Same network in Nengo 4.x and in our JAX simulator, with identical encoders, gains, biases, decoders and inputs.

With float64 and Nengo ≥ 3 semantics (gain after the synapse, PES applied on the next step) every spike
is identical and the decoded output and learned weights agree to rounding error (~1e-14 relative):
both simulators do the same arithmetic in the same order; only summation order inside the matvecs
differs. Skipped when the optional ``reference`` extra (nengo) is absent.
"""

import jax
import numpy as np
import pytest

nengo = pytest.importorskip("nengo")

from neurorl.follow.nengo_ref import run_nengo_follow  # noqa: E402

from .helpers import small_config, simulate_config  # noqa: E402

pytestmark = [pytest.mark.reference, pytest.mark.slow]


def test_matches_nengo_spike_for_spike():
    # trial clamp on: covers the clamp current and gating paths as well (follow.md §3)
    cfg = small_config(n_ff=200, n_rec=250, duration=2.0, semantics="3+", trial_clamp=True, eta=2e-2)
    with jax.enable_x64(True):
        recs, W, sched, net = simulate_config(cfg)
    nrecs, Wn, _, _ = run_nengo_follow(cfg, net, np.asarray(recs["u"], float), np.asarray(recs["x"], float), sched)
    spikes_nengo = nrecs["spikes_rec"] > 0
    assert spikes_nengo.sum() > 10_000
    assert np.array_equal(spikes_nengo, recs["raster"])
    np.testing.assert_allclose(nrecs["xhat"], recs["xhat"], rtol=0, atol=1e-10)
    np.testing.assert_allclose(nrecs["eps"], recs["eps"], rtol=0, atol=1e-10)
    assert np.abs(Wn).max() > 1e-4
    assert np.abs(Wn - W).max() <= 1e-9 * np.abs(Wn).max()
