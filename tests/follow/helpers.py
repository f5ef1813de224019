"""Small shared builders for the FOLLOW tests."""

from __future__ import annotations

import jax.numpy as jnp

from neurorl.follow.inputs import build_protocol
from neurorl.follow.network import Schedule, build_network, init_state, materialize_weights, to_device, vanderpol_config
from neurorl.follow.run import simulate


def small_config(**kw):
    base = dict(n_ff=120, n_rec=150, duration=1.5, t_period=0.5, t_clamp=0.1, t_nolearning=0.5, dtype="float64",
                chunk_seconds=0.5, test_duration=0.0)
    base.update(kw)
    return vanderpol_config(**base)


def simulate_config(cfg, *, feedback=True, learning=True, n_raster=None):
    """Run cfg for its whole duration in one chunk; returns (records, W materialised, params, built net)."""
    dtype = jnp.dtype(cfg.dtype)
    net = build_network(cfg)
    params = to_device(net, dtype)
    n = cfg.steps(cfg.duration)
    proto, arr = build_protocol(cfg.protocol, n, cfg.dt, cfg.t_period, 2, cfg.seed_input,
                                cfg.t_clamp if cfg.trial_clamp else 0.0, None)
    arr = {k: jnp.asarray(v, dtype) for k, v in arr.items()}
    sched = Schedule.for_run(cfg, feedback=feedback, learning=learning)
    st = init_state(cfg, params)
    st, recs, _ = simulate(cfg, params, st, proto, arr, sched, 0, n, cfg.n_rec if n_raster is None else n_raster)
    return recs, materialize_weights(cfg, params, st["weights"]), sched, net
