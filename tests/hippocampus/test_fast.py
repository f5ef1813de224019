"""The fast engine (fast.py, runner.*_fast) against the reference trial (dynamics.trial).

Both evaluate the same equations in float32 but sum in different orders, so single trials agree to
float rounding (checked tightly below). Over many training trials the two drift apart: Leabra has
hard thresholds (sending at Act > .1, the .005 resend delta, XCAL's 1e-4 floor), and a 1e-6
difference that moves one unit across one of them changes the rest of the run. The reference shows
the same drift against itself (the vmapped lanes vs one network per call differ by > .1 in some
weight within 3-25 trials for seeds 0-2), so whole experiments are compared statistically.
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from neurorl.hippocampus import fast
from neurorl.hippocampus.dynamics import trial_jit
from neurorl.hippocampus.experiment import corrupt_structured, random_patterns
from neurorl.hippocampus.network import init_net
from neurorl.hippocampus.params import HippocampusParams
from neurorl.hippocampus import runner
from neurorl.hippocampus.runner import Job, epoch_orders, train_jobs

P = HippocampusParams()
N_PAD, T_PAD, M_PAD, CHUNK = 32, 128, 256, 20  # the runner's smallest buckets: compiled programs are shared


def _schedule(net, pats, order, n):
    """fast.train_schedule with the runner's padded shapes."""
    pp = np.zeros((N_PAD, 144), np.float32)
    pp[: len(pats)] = pats
    oo = np.zeros(T_PAD, np.int32)
    oo[: len(order)] = order
    return fast.train_schedule(net, jnp.asarray(pp), jnp.asarray(oo), jnp.int32(n), P)


def _max_diff(a, b) -> float:
    la, lb = jax.tree_util.tree_leaves(a), jax.tree_util.tree_leaves(b)
    assert len(la) == len(lb)
    return max(float(jnp.max(jnp.abs(jnp.asarray(x, jnp.float32) - jnp.asarray(y, jnp.float32)))) for x, y in zip(la, lb))


def test_single_training_trials_match_reference():
    """16 first trials (4 networks x 4 patterns). Most agree everywhere to float32 rounding; in a few,
    one unit sits so close to a threshold that it sends one cycle earlier or later, which moves a
    few hundred synapses by < .05 (measured: 3 of 24 cases, largest .011)."""
    exact, worst = 0, 0.0
    for seed in range(4):
        pats = random_patterns(np.random.default_rng(seed), 4)
        net = init_net(jax.random.PRNGKey(seed), P)
        for i in range(4):
            ref, out_ref = trial_jit(net, pats[i], pats[i], train=True, p=P)
            new, slots = _schedule(net, pats, [i], 1)
            out = (float(out_ref.mem.mem_all), float(out_ref.mem.trg_off_was_on), float(new.lay["ca3"].act_m_avg))
            got = (float(slots.mem[0]), float(slots.trg_off_was_on[0]), float(slots.act_m_avg["ca3"][0]))
            d = max(_max_diff(new, ref), float(np.max(np.abs(np.subtract(out, got)))))
            exact += d < 2e-5
            worst = max(worst, d)
            assert int(new.n_wt_updates) == int(ref.n_wt_updates) == 1
    assert exact >= 12 and worst < 0.05, (exact, worst)


def test_schedule_matches_trial_by_trial_and_weight_balance():
    """train_schedule = a loop of single trials (incl. the WtBal update on the 10th), and its first
    trials match the reference to rounding."""
    pats = random_patterns(np.random.default_rng(1), 3)
    net = init_net(jax.random.PRNGKey(1), P)
    order = np.asarray([0, 1, 2, 2, 0, 1, 1, 2, 0, 0, 1, 2], np.int32)
    sched, slots = _schedule(net, pats, order, 12)
    loop = net
    for i in order:  # the same trials one call each
        loop, _ = _schedule(loop, pats, [i], 1)
    assert _max_diff(sched, loop) < 1e-5
    assert int(sched.n_wt_updates) == 12
    assert not np.allclose(np.asarray(sched.wb_inc["ca3_ca1"]), 1.0)  # WtBal ran at the 10th update
    mem = np.asarray(slots.mem)
    assert np.all(np.isfinite(mem[:12])) and np.all(np.isnan(mem[12:]))  # padding slots do no work
    ref = net
    for i in order[:2]:
        ref, _ = trial_jit(ref, pats[i], pats[i], train=True, p=P)
    two, _ = _schedule(net, pats, order, 2)
    assert _max_diff(two.wt, ref.wt) < 2e-5


def test_batched_tests_match_reference_on_a_trained_network():
    pats = random_patterns(np.random.default_rng(3), 6)
    net = init_net(jax.random.PRNGKey(3), P)
    for e in range(3):  # a partly trained network (reference trials)
        for i in np.random.default_rng(e).permutation(6):
            net, _ = trial_jit(net, pats[i], pats[i], train=True, p=P)
    cues = np.stack([corrupt_structured(pats[i], r) for r in (0.0, 0.3, 0.6, 0.9) for i in range(6)])
    targs = np.tile(pats, (4, 1))
    ref = [trial_jit(net, c, t, train=False, p=P)[1] for c, t in zip(cues, targs)]
    cp, tp = np.zeros((M_PAD, 144), np.float32), np.zeros((M_PAD, 144), np.float32)
    cp[:24], tp[:24] = cues, targs
    out = jax.tree_util.tree_map(lambda x: np.asarray(x)[:24],
                                 fast.test_schedule(net, jnp.asarray(cp), jnp.asarray(tp), jnp.int32(2), CHUNK, P))
    ref_recall = np.stack([np.asarray(o.recall) for o in ref])
    np.testing.assert_allclose(np.asarray(out.recall), ref_recall, atol=2e-4)
    ref_mem = np.asarray([float(o.mem.mem_cmp if int(o.mem.cmp_n) > 0 else o.mem.mem_all) for o in ref])
    np.testing.assert_array_equal(np.asarray(out.mem), ref_mem)
    np.testing.assert_array_equal(np.asarray(out.cmp_n), [int(o.mem.cmp_n) for o in ref])
    for k, v in out.act_avg.items():
        np.testing.assert_allclose(np.asarray(v), [float(o.act_avg[k]) for o in ref], atol=1e-5)


def test_engines_agree_through_the_model_api():
    """HippocampusModel with either engine (same shapes as test_model.py's fixture, so the compiled
    programs are shared): both learn the list and complete partial cues equally well, up to the
    run-to-run drift described above."""
    from neurorl.hippocampus.experiment import nearest_pattern
    from neurorl.hippocampus.model import HippocampusModel

    pats = random_patterns(np.random.default_rng(7), 8)
    cues = np.stack([corrupt_structured(p, r) for r in (0.0, 0.25, 0.5, 0.75) for p in pats])
    targs = np.tile(pats, (4, 1))
    res = {}
    for engine in ("fast", "reference"):
        m = HippocampusModel(seed=3, engine=engine)
        m.set_patterns(pats)
        info = m.train(epochs=5)
        out = m._recall(cues, targs, 0)
        acc = np.mean(nearest_pattern(out.recall, pats)[0] == np.tile(np.arange(8), 4))
        res[engine] = (acc, info["epoch_stats"][-1]["mem"], float(np.mean(out.mem)))
    (acc_f, mem_f, tmem_f), (acc_r, mem_r, tmem_r) = res["fast"], res["reference"]
    assert acc_f > 0.75 and acc_r > 0.75  # chance is 1/8
    assert abs(acc_f - acc_r) <= 0.15 and abs(mem_f - mem_r) <= 0.3 and abs(tmem_f - tmem_r) <= 0.3


def test_engine_choice_and_errors():
    pats = random_patterns(np.random.default_rng(0), 2)
    jobs = [Job(pats, epoch_orders(np.random.default_rng(0), 2, 1))]
    keys = jax.random.split(jax.random.PRNGKey(0), 1)
    with pytest.raises(ValueError, match="engine"):
        train_jobs(jobs, keys, P, engine="warp")
    with pytest.raises(ValueError, match="legacy"):
        train_jobs(jobs, keys, P.replace(legacy=True), engine="fast")
    with pytest.raises(ValueError, match="legacy"):
        fast.train_trial(init_net(jax.random.PRNGKey(0), P), pats[0], P.replace(legacy=True))
    with pytest.raises(ValueError, match="legacy"):
        runner.test_items_fast(None, np.zeros(1), pats[:1], pats[:1], P.replace(legacy=True))
