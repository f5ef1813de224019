"""The trainer: GAE against a hand computation, learning well above chance, exact resume."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from neurorl.rl.a2c import gae
from neurorl.rl.config import A2CConfig, EnvConfig, RunConfig, TrainConfig
from neurorl.rl.evaluate import evaluate_episodes
from neurorl.rl.trainer import load_agent, train
from neurorl.utils.runs import RunDir


def test_gae_matches_hand_computation():
    # T=3, one env; episode ends after step 1 (dones[1] = 1).
    r = jnp.array([[1.0], [0.0], [2.0]])
    v = jnp.array([[0.5], [0.2], [0.1]])
    d = jnp.array([[0.0], [1.0], [0.0]])
    last = jnp.array([0.4])
    g, lam = 0.9, 1.0
    adv, ret = gae(r, v, d, last, g, lam)
    # returns: R2 = 2 + .9*.4 = 2.36; R1 = 0 (episode ends); R0 = 1 + .9*R1 = 1.0
    np.testing.assert_allclose(ret[:, 0], [1.0, 0.0, 2.36], rtol=1e-6)
    np.testing.assert_allclose(adv[:, 0], [0.5, -0.2, 2.26], rtol=1e-6)
    # lambda = 0: one-step TD errors
    adv0, _ = gae(r, v, d, last, g, 0.0)
    np.testing.assert_allclose(adv0[:, 0], [1 + 0.9 * 0.2 - 0.5, -0.2, 2 + 0.9 * 0.4 - 0.1], rtol=1e-6)


def small_cfg(**a2c) -> TrainConfig:
    base = dict(num_envs=32, unroll_length=100, num_updates=300, gamma=0.9)
    base.update(a2c)
    return TrainConfig(
        name="test-easy", family="bandit", env=EnvConfig(id="neurorl/Bandit-dependent-easy-v0"),
        a2c=A2CConfig(**base), run=RunConfig(seeds=2, chunk_updates=100, eval_every_updates=100, eval_episodes=64),
    ).validate()


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    cfg = small_cfg()
    run = RunDir.create(cfg.name, cfg, path=tmp_path_factory.mktemp("run"))
    return cfg, run, train(cfg, run, quiet=True)


def test_short_training_beats_random_by_a_wide_margin(trained):
    """Easy bandit (arms 0.9/0.1): random earns 0.5 per trial; Bayes-optimal 0.894 (meta_rl.md §8.1)."""
    cfg, run, res = trained
    for s in range(cfg.run.seeds):
        params = jax.tree_util.tree_map(lambda x: x[s], res.params)
        traj = evaluate_episodes(res.env, res.env_params, res.net, params, episodes=500, seed=1, greedy=False)
        per_trial = traj["reward"].mean()
        # 500 episodes x 100 trials of a random policy: sd of the mean 0.0022; 0.8 is > 100 sd above chance
        assert per_trial > 0.80, f"seed {s}: {per_trial:.3f} per trial"
    rows = run.metrics("metrics.csv").read()
    assert len(rows) == 3 * cfg.run.seeds and rows[-1]["update"] == "300"
    evals = run.metrics("evaluator.csv").read()
    assert {r["update"] for r in evals} == {"100", "200", "300"}


def test_seeds_are_independent(trained):
    _, _, res = trained
    a, b = (jax.tree_util.tree_leaves(jax.tree_util.tree_map(lambda x: x[i], res.params))[0] for i in (0, 1))
    assert not np.allclose(a, b)


def test_agent_checkpoint_round_trip(trained):
    cfg, run, res = trained
    agent = load_agent(run.path)
    assert agent.cfg == cfg and agent.num_seeds == 2
    for x, y in zip(jax.tree_util.tree_leaves(agent.params), jax.tree_util.tree_leaves(res.params)):
        np.testing.assert_array_equal(np.asarray(x), np.asarray(y))
    with pytest.raises(ValueError, match="out of range"):
        agent.seed_params(5)


def test_interrupted_run_resumes_exactly(tmp_path):
    """Stop after 2 of 4 chunks, resume: parameters equal an uninterrupted run's, bit for bit."""
    cfg = small_cfg(num_updates=40, num_envs=8, unroll_length=20)
    cfg = TrainConfig(**{**cfg.__dict__, "run": RunConfig(seeds=1, chunk_updates=10, eval_every_updates=0)})
    full_cfg = TrainConfig(**{**cfg.__dict__, "run": RunConfig(seeds=1, chunk_updates=10, eval_every_updates=0, tensorboard=True)})
    full = train(full_cfg, RunDir.create("a", full_cfg, path=tmp_path / "full"), quiet=True)
    assert list((tmp_path / "full" / "tensorboard").glob("events.out.tfevents.*")), "optional TensorBoard event file"
    part_run = RunDir.create("b", cfg, path=tmp_path / "part")
    train(cfg, part_run, quiet=True, stop_after_updates=20)
    assert len(part_run.metrics("metrics.csv").read()) == 2
    resumed = train(cfg, RunDir.create("b", cfg, path=tmp_path / "part"), resume=True, quiet=True)
    for x, y in zip(jax.tree_util.tree_leaves(full.params), jax.tree_util.tree_leaves(resumed.params)):
        np.testing.assert_array_equal(np.asarray(x), np.asarray(y))
    rows = part_run.metrics("metrics.csv").read()
    assert [r["update"] for r in rows] == ["10", "20", "30", "40"]


def test_batched_init_has_no_batched_lapack_call():
    """Regression for the 4+-seed hang (docs/harlow.md "Known problem", fixed): vmapping the
    initialisation batched the orthogonal initialisers' QR, a LAPACK custom call that fans out into
    the XLA intra-op pool it runs on and can deadlock it. Rows must be initialised unbatched."""
    import re

    from neurorl.rl import a2c
    from neurorl.rl.presets import get_preset
    from neurorl.rl.trainer import build_network, make_env
    from neurorl.utils.config import apply_overrides

    cfg = apply_overrides(get_preset("harlow-1d"), ["--config.a2c.num_envs=2", "--config.run.seeds=4"])
    env, env_params = make_env(cfg.env)
    net = build_network(cfg, env, env_params)
    b_init, _ = a2c.compile_train_batched(cfg, env, env_params, net)
    keys = a2c.seed_keys(cfg)
    hps = a2c.stack_hyperparams([a2c.hyperparams(cfg)] * 4)
    hlo = b_init.lower(keys, hps).as_text()
    calls = [ln for ln in hlo.splitlines() if "lapack" in ln and "custom_call" in ln]
    assert calls, "expected the orthogonal initialisers' QR in the init program"
    for ln in calls:
        # operand types look like tensor<4x256x256xf32> when batched, tensor<256x256xf32> when not
        ranks = [len(t.split("x")) - 1 for t in re.findall(r"tensor<([0-9x]+)x?f32>", ln)]
        assert ranks and max(ranks) <= 2, f"batched LAPACK call in the init program: {ln.strip()[:200]}"


def test_sequential_seed_layout_gives_each_seed_its_one_seed_run(tmp_path):
    """run.seed_layout="sequential": seed i of a 3-seed run has exactly the weights of a one-seed run with
    random_seed + i (same program, same key), and matches the vmapped layout up to float rounding."""
    import dataclasses

    base = small_cfg(num_updates=20, num_envs=8, unroll_length=20)

    def run_with(seeds: int, layout: str, random_seed: int = 0):
        cfg = dataclasses.replace(base, run=RunConfig(seeds=seeds, chunk_updates=10, eval_every_updates=0,
                                                      seed_layout=layout),
                                  agent=dataclasses.replace(base.agent, random_seed=random_seed)).validate()
        return train(cfg, RunDir.create(layout, cfg, path=tmp_path / f"{layout}{seeds}_{random_seed}"), quiet=True)

    seq = run_with(3, "sequential")
    vm = run_with(3, "vmap")
    one = run_with(1, "vmap", random_seed=2)
    for s, o, v in zip(*(jax.tree_util.tree_leaves(r.params) for r in (seq, one, vm))):
        np.testing.assert_array_equal(np.asarray(s)[2], np.asarray(o)[0])
        np.testing.assert_allclose(np.asarray(s), np.asarray(v), atol=1e-4)
    assert not np.allclose(*(np.asarray(jax.tree_util.tree_leaves(seq.params)[0])[i] for i in (0, 1)))
    from neurorl.utils.config import ConfigError

    with pytest.raises(ConfigError, match="run.seed_layout must be one of"):
        dataclasses.replace(base, run=RunConfig(seed_layout="threads")).validate()
