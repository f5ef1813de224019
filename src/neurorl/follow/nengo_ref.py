"""The same FOLLOW network built in Nengo 4.x (optional reference extra), for equivalence tests and the benchmark.

Nengo is only imported inside these functions. The model uses OUR encoders, gains, biases, decoders,
command input and reference trajectory, so the two simulators can be compared step by step. It has
Nengo ≥ 3 semantics (gain after the synapse, PES applied on the next step) = our ``semantics="3+"``.
"""

from __future__ import annotations

import numpy as np

from neurorl.follow.network import BuiltNetwork, FollowConfig, Schedule


def _gate_fns(sched: Schedule, dt: float):
    def step_of(t):
        return int(round(t / dt))

    def in_clamp(n):
        return sched.clamp > 0 and (n % sched.period) >= sched.period - sched.clamp

    def g_off(n):
        return sched.feedback and (sched.period < n < sched.n_max - sched.n_nolearn) and not in_clamp(n)

    def g_wt(n):
        ok = sched.learning and not in_clamp(n)
        if sched.gate_learning_in_test:
            ok = ok and n < sched.n_max - sched.n_nolearn
        return ok

    return step_of, in_clamp, g_off, g_wt


def build_nengo_follow(cfg: FollowConfig, net: BuiltNetwork, u: np.ndarray, x_obs: np.ndarray, sched: Schedule,
                       *, with_probes: bool = True):
    """Returns (model, probes dict, plastic connections (ff, rec))."""
    import nengo

    Nf, N, d = cfg.n_ff, cfg.n_rec, x_obs.shape[1]
    step_of, in_clamp, g_off, g_wt = _gate_fns(sched, cfg.dt)
    n_steps = len(u)
    row = lambda t: min(step_of(t), n_steps) - 1  # noqa: E731  (Nengo step n reads our row n-1)
    # Nengo >= 3 starts membranes at random voltages; ours start at 0 like Nengo 2.4
    lif = nengo.LIF(initial_state={"voltage": nengo.dists.Choice([0.0]), "refractory_time": nengo.dists.Choice([0.0])})
    with nengo.Network(seed=0) as model:
        u_node = nengo.Node(lambda t: u[row(t)], size_out=u.shape[1])
        ff = nengo.Ensemble(Nf, u.shape[1], radius=cfg.radius_ff, encoders=net.unit_enc_ff, gain=net.gain_ff,
                            bias=net.bias_ff, neuron_type=lif, normalize_encoders=False)
        rec = nengo.Ensemble(N, d, radius=cfg.radius_rec, encoders=net.unit_enc_rec, gain=net.gain_rec,
                             bias=net.bias_rec, neuron_type=lif, normalize_encoders=False)
        nengo.Connection(u_node, ff, synapse=None)
        pes = dict(learning_rate=cfg.eta, pre_synapse=nengo.Lowpass(cfg.tau_pre))
        c_ff = nengo.Connection(ff.neurons, rec.neurons, transform=np.zeros((N, Nf)), synapse=cfg.tau_syn,
                                learning_rule_type=nengo.PES(**pes))
        c_rec = nengo.Connection(rec.neurons, rec.neurons, transform=np.zeros((N, N)), synapse=cfg.tau_syn,
                                 learning_rule_type=nengo.PES(**pes))
        xhat = nengo.Node(size_in=d)
        nengo.Connection(rec.neurons, xhat, transform=net.decoders.T, synapse=cfg.tau_syn)
        ref = nengo.Node(lambda t: x_obs[row(t)], size_out=d)
        xref = nengo.Node(size_in=d)
        nengo.Connection(ref, xref, synapse=cfg.tau_syn if cfg.filter_reference else None)
        err = nengo.Node(lambda t, v: v[:d] - v[d:], size_in=2 * d)
        nengo.Connection(xhat, err[:d], synapse=None)
        nengo.Connection(xref, err[d:], synapse=None)
        err_off = nengo.Node(lambda t, v: v * g_off(step_of(t)), size_in=d)
        nengo.Connection(err, err_off, synapse=None)
        if sched.feedback:
            nengo.Connection(err_off, rec, transform=-cfg.feedback_gain, synapse=cfg.tau_feedback)
        err_wt = nengo.Node(lambda t, v: v * g_wt(step_of(t)), size_in=d)
        nengo.Connection(err_off, err_wt, synapse=cfg.tau_error)
        nengo.Connection(err_wt, c_ff.learning_rule, synapse=cfg.tau_error2)
        nengo.Connection(err_wt, c_rec.learning_rule, synapse=cfg.tau_error2)
        if sched.clamp:
            clamp = nengo.Node(lambda t: float(in_clamp(step_of(t))))
            # into .neurons Nengo multiplies by the gain after the synapse: J += gain·(−100)·lowpass_dt(clamp)
            nengo.Connection(clamp, ff.neurons, transform=cfg.clamp_current * np.ones((Nf, 1)), synapse=cfg.dt)
            nengo.Connection(clamp, rec.neurons, transform=cfg.clamp_current * np.ones((N, 1)), synapse=cfg.dt)
        probes = {}
        if with_probes:
            probes = {"xhat": nengo.Probe(xhat, synapse=None), "eps": nengo.Probe(err, synapse=None),
                      "spikes_rec": nengo.Probe(rec.neurons, synapse=None)}
    return model, probes, (c_ff, c_rec)


def run_nengo_follow(cfg, net, u, x_obs, sched, *, progress_bar=False):
    """Build and run; returns (records dict, learned W (N × (N_ff+N)), build seconds, run seconds)."""
    import time

    import nengo

    model, probes, (c_ff, c_rec) = build_nengo_follow(cfg, net, u, x_obs, sched)
    t0 = time.perf_counter()
    sim = nengo.Simulator(model, dt=cfg.dt, progress_bar=progress_bar, optimize=True)
    t1 = time.perf_counter()
    with sim:
        sim.run_steps(len(u), progress_bar=progress_bar)
        t2 = time.perf_counter()
        recs = {k: np.asarray(sim.data[p]) for k, p in probes.items()}
        # Nengo adds a step's PES delta at the start of the next step: one more step makes the weights
        # comparable with ours after len(u) steps (which already hold the last step's update)
        sim.step()
        W = np.concatenate([sim.signals[sim.model.sig[c_ff]["weights"]], sim.signals[sim.model.sig[c_rec]["weights"]]], axis=1)
    return recs, np.array(W), t1 - t0, t2 - t1
