"""The low-rank path (W = Ẽ·A) and the dense N×N path are the same model (follow.md §5)."""

import jax
import numpy as np
import pytest

from neurorl.follow.network import init_state, to_device, build_network

from .helpers import small_config, simulate_config


@pytest.mark.slow
def test_lowrank_equals_dense_and_semantics_switch_matters():
    rasters = {}
    for semantics in ("2.4", "3+"):
        with jax.enable_x64(True):
            out = {}
            for w in ("lowrank", "dense"):
                cfg = small_config(semantics=semantics, weights=w, eta=2e-2)  # 10x eta: large learned weights
                out[w] = simulate_config(cfg)
        (r1, W1, _, _), (r2, W2, _, _) = out["lowrank"], out["dense"]
        assert r1["raster"].sum() > 1000
        assert np.array_equal(r1["raster"], r2["raster"])  # identical spike trains
        np.testing.assert_allclose(r1["xhat"], r2["xhat"], atol=1e-12)
        assert np.abs(W1).max() > 1e-4  # learning happened
        assert np.abs(W1 - W2).max() <= 1e-10 * np.abs(W2).max()
        assert np.linalg.matrix_rank(W2[:, 120:]) == 2  # the dense learned matrix is exactly rank d
        rasters[semantics] = r1["raster"]
    # the 2.4 / Nengo-4 switch really changes the model (gain on learned input, same-step vs next-step PES)
    assert not np.array_equal(rasters["2.4"], rasters["3+"])


def test_auto_choice_and_random_init_needs_dense():
    cfg = small_config(random_init_sd=1e-4, n_ff=150)
    assert cfg.use_dense  # random initial weights break the low rank -> dense
    assert not small_config().use_dense
    with pytest.raises(ValueError, match="low rank"):
        small_config(random_init_sd=1e-4, weights="lowrank")
    cfg32 = small_config(random_init_sd=1e-4, n_ff=150, dtype="float32")
    st = init_state(cfg32, to_device(build_network(cfg32), np.float32))
    assert st["weights"].shape == (150, 300) and float(np.abs(st["weights"]).max()) > 0
    plain = small_config(dtype="float32")
    with pytest.raises(ValueError, match="shape"):
        init_state(plain, to_device(build_network(plain), np.float32), weights=np.zeros((3, 3)))


def test_config_validation():
    with pytest.raises(ValueError, match="semantics"):
        small_config(semantics="2.6")
    with pytest.raises(ValueError, match="protocol"):
        small_config(protocol="chirp")
    with pytest.raises(ValueError, match="duration"):
        small_config(duration=1.0)
    with pytest.raises(ValueError, match="whole number"):
        small_config(duration=1.5005)
    with pytest.raises(ValueError, match="positive"):
        small_config(tau_syn=float("nan"))
