"""Connectivity, phase schedule, the public API and learning (one trained model shared by the module)."""

import jax
import numpy as np
import pytest

from neurorl.hippocampus.dynamics import gscales, phases
from neurorl.hippocampus.experiment import corrupt_structured, nearest_pattern, random_patterns
from neurorl.hippocampus.model import HippocampusError, HippocampusModel
from neurorl.hippocampus.network import connection_counts, init_net
from neurorl.hippocampus.params import HippocampusParams

N_PATTERNS = 8


@pytest.fixture(scope="module")
def patterns():
    return random_patterns(np.random.default_rng(7), N_PATTERNS).reshape(N_PATTERNS, 6, 2, 3, 4)


@pytest.fixture(scope="module")
def trained(patterns):
    m = HippocampusModel(seed=3)
    m.set_patterns(patterns)
    info = m.train(epochs=5, runs=1)
    return m, info


def test_connectivity_counts_and_symmetry():
    net = init_net(jax.random.PRNGKey(5))
    counts = {k: np.asarray(v) for k, v in connection_counts(net).items()}
    expected = {"in_ecin": 1, "ecout_ecin": 1, "ecin_ca1": 12, "ca1_ecout": 40, "ecout_ca1": 12, "ecin_dg": 36,
                "ecin_ca3": 36, "ca3_ca3": 299, "dg_ca3": 12, "ca3_ca1": 300}  # §2.2
    for k, n in expected.items():
        assert np.all(counts[k] == n), k
    assert counts["ecin_dg"].size == 625 and counts["ca3_ca1"].size == 480 and counts["ecin_ca3"].size == 300
    w = np.asarray(net.wt["ca3_ca3"])
    np.testing.assert_array_equal(w, w.T)  # symmetrised recurrent weights
    assert np.all(np.diag(w) == 0)
    np.testing.assert_array_equal(np.asarray(net.wt["ca1_ecout"]), np.swapaxes(np.asarray(net.wt["ecout_ca1"]), 1, 2))
    learned = np.asarray(net.wt["ca3_ca1"])
    assert 0.25 <= learned.min() and learned.max() <= 0.75
    assert np.all((np.asarray(net.conn.w_dg_ca3) >= 0.89) & (np.asarray(net.conn.w_dg_ca3) <= 0.91))
    # different seeds draw different random connectivity
    other = init_net(jax.random.PRNGKey(6))
    assert not np.array_equal(np.asarray(other.conn.mask["ecin_dg"]), np.asarray(net.conn.mask["ecin_dg"]))


def test_phase_schedule_and_initial_scales():
    p = HippocampusParams()
    q1, qm, qp = phases(p, True)
    assert (q1.abs_ecin_ca1, q1.abs_ca3_ca1, q1.rel_dg_ca3, q1.clamp_ecout) == (1.0, 0.0, 0.0, False)
    assert (qm.abs_ecin_ca1, qm.abs_ca3_ca1, qm.rel_dg_ca3, qm.clamp_ecout) == (0.0, 1.0, 4.0, False)
    assert (qp.abs_ecin_ca1, qp.abs_ca3_ca1, qp.rel_dg_ca3, qp.clamp_ecout) == (1.0, 0.0, 4.0, True)
    t1, tm, tp = phases(p, False)
    assert tm.rel_dg_ca3 == 1.0 and tp.rel_dg_ca3 == 1.0 and tp.clamp_ecout is False
    lay = init_net(jax.random.PRNGKey(0)).lay
    s1, sm, st = (gscales(lay, ph, p) for ph in (q1, qm, tm))
    # §3.3 worked values: CA3 sum of Rel 1.1 (Q1), 5.1 (train Q2-Q4), 2.1 (test Q2-Q4)
    assert float(s1["ecin_ca3"]) == pytest.approx(1 / 1.1 / 9)
    assert float(s1["ca3_ca3"]) == pytest.approx(0.1 / 1.1 / 6)
    assert float(s1["dg_ca3"]) == 0.0
    assert float(sm["dg_ca3"]) == pytest.approx(4 / 5.1 / 3)
    assert float(st["dg_ca3"]) == pytest.approx(1 / 2.1 / 3)
    assert float(s1["in_ecin"]) == pytest.approx(1 / 1.5) and float(s1["ecout_ecin"]) == pytest.approx(0.5 / 1.5)
    assert float(s1["ca1_ecout"]) == pytest.approx(4 / 6)
    assert float(s1["ecin_ca1"]) == pytest.approx(1 / 3 / 4) and float(s1["ca3_ca1"]) == 0.0
    assert float(sm["ecin_ca1"]) == 0.0 and float(sm["ca3_ca1"]) == pytest.approx(1 / 3 / 6)
    assert p.cycles_per_quarter * 4 == 100


def test_training_trial_clamps_ecout_in_plus_phase(trained):
    m, _ = trained
    u = m._nets.units
    # after the last training trial: ECout ActP = clip(ECin ActM, 0, .95) (hard clamp to ECin, §2.3)
    np.testing.assert_allclose(np.asarray(u["ecout"].act_p[0]), np.clip(np.asarray(u["ecin"].act_m[0]), 0, 0.95), atol=1e-6)
    assert int(m._nets.n_wt_updates[0]) == 5 * N_PATTERNS  # one weight update per training trial


def test_trained_network_completes_partial_cues(trained, patterns):
    m, info = trained
    flat = patterns.reshape(N_PATTERNS, -1)
    cues = np.stack([corrupt_structured(p, 0.5) for p in flat])  # half of each pattern deleted
    out = m._recall(cues, flat, 0)
    idx, _ = nearest_pattern(out.recall, flat)
    acc = float(np.mean(idx == np.arange(N_PATTERNS)))
    assert acc >= 0.75  # chance is 1/8; 6 of 8 by luck has probability < 1e-4
    # the recall fills in deleted units: more target units on than in the cue
    filled = ((out.recall >= 0.5) & (flat > 0) & (cues == 0)).sum(1)
    assert filled.mean() > 6
    rewards = m.step(cues, flat)
    assert rewards.shape == (N_PATTERNS,) and rewards.mean() > 144 - 25
    # Mem improves with training
    assert info["epoch_stats"][-1]["mem"] >= info["epoch_stats"][0]["mem"]


def test_testing_does_not_change_the_network(trained, patterns):
    m, _ = trained
    before = jax.tree_util.tree_map(np.asarray, m._nets)
    r1 = m.test(patterns[0] * 0 + corrupt_structured(patterns[0], 0.3), patterns[0])
    r2 = m.test(corrupt_structured(patterns[0], 0.3), patterns[0])
    after = jax.tree_util.tree_map(np.asarray, m._nets)
    for a, b in zip(jax.tree_util.tree_leaves(before), jax.tree_util.tree_leaves(after)):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(r1["recall"], r2["recall"])
    assert r1["recall"].shape == (6, 2, 3, 4) and r1["closest_pattern"].shape == (6, 2, 3, 4)
    assert r1["closest_index"] == 0 and r1["distance"] == r1["closest_distance"]


def test_save_load_roundtrip(trained, patterns, tmp_path):
    m, _ = trained
    path = m.save(tmp_path / "hip.ckpt")
    m2 = HippocampusModel.from_checkpoint(path)
    cue = corrupt_structured(patterns[1], 0.5)
    np.testing.assert_allclose(m2.test(cue, patterns[1])["recall"], m.test(cue, patterns[1])["recall"], atol=1e-6)
    assert m2.params == m.params and m2.runs == 1


def test_api_errors(patterns, tmp_path):
    m = HippocampusModel()
    with pytest.raises(HippocampusError, match="not trained"):
        m.test(patterns[0])
    with pytest.raises(HippocampusError, match="no patterns"):
        m.train(1)
    with pytest.raises(HippocampusError, match="empty"):
        m.set_patterns([])
    with pytest.raises(HippocampusError, match="144 values"):
        m.set_patterns(np.zeros((3, 10)))
    bad = np.array(patterns, dtype=float)
    bad[0, 0, 0, 0, 0] = np.nan
    with pytest.raises(HippocampusError, match="NaN"):
        m.set_patterns(bad)
    with pytest.raises(HippocampusError, match=r"\[0, 1\]"):
        m.set_patterns(np.array(patterns) * 2)
    m.set_patterns(patterns)
    with pytest.raises(HippocampusError, match="epochs"):
        m.train(0)
    with pytest.raises(HippocampusError, match="runs"):
        m.train(1, runs=-1)
    with pytest.raises(HippocampusError):
        HippocampusModel(seed=-1)
    with pytest.raises(HippocampusError, match="params"):
        HippocampusModel(params={"legacy": True})
    with pytest.raises(FileNotFoundError):
        m.load(tmp_path / "missing.ckpt")


def test_api_input_errors_on_trained(trained, patterns):
    m, _ = trained
    with pytest.raises(HippocampusError, match="144 values"):
        m.test(np.zeros(100))
    with pytest.raises(HippocampusError, match="one target per cue"):
        m.step(patterns[:3], patterns[:2])
    with pytest.raises(HippocampusError, match="repeats"):
        m.step(patterns[:2], patterns[:2], repeats=0)
    with pytest.raises(HippocampusError, match="run"):
        m.test(patterns[0], run=1)
    with pytest.raises(HippocampusError, match="NaN"):
        m.test(np.full(144, np.nan))


@pytest.mark.slow
def test_recall_env_gymnax_and_gymnasium(trained):
    from gymnasium.utils.env_checker import check_env

    from neurorl.envs.gymnasium_adapter import GymnaxToGymnasium
    from neurorl.envs.hippocampus_recall import HippocampusRecall

    m, _ = trained
    env = HippocampusRecall(n_patterns=N_PATTERNS)
    params = HippocampusRecall.params_from_model(m, max_steps_in_episode=4)
    tabled = env.with_reward_table(params)
    table = np.asarray(tabled.reward_table)
    assert table.shape == (N_PATTERNS, 12) and np.all((table > 0.5) & (table <= 1.0))
    obs, st = env.reset(jax.random.PRNGKey(0), params)
    assert obs.shape == env.observation_space(params).shape == (144 + 12 + 1,)
    a = 5
    _, st2, r, term, trunc, info = env.step(jax.random.PRNGKey(1), st, a, params)
    assert float(r) == pytest.approx(float(table[int(st.target), a]), abs=1e-6)  # table == simulation
    assert int(st2.time) == 1 and not bool(term)
    check_env(GymnaxToGymnasium(env, tabled), skip_render_check=True)
    with pytest.raises(ValueError):
        HippocampusRecall(action_mode="bad")
