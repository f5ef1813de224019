"""Environment sessions (Gym over HTTP), RemoteEnv, and trained agents (act / play) on a live server."""

from __future__ import annotations

import numpy as np
import pytest

from neurorl.client import BusyError, RemoteEnv, ValidationError

BANDIT = "neurorl/Bandit-dependent-easy-v0"


def test_batched_session_steps_and_matches_in_process_env(client):
    import jax

    from neurorl.envs import make

    info = client.create_session(BANDIT, seed=7, num_envs=3)
    assert info["action_space"] == {"kind": "discrete", "n": 2, "shape": None, "low": None, "high": None, "spaces": None}
    obs = np.asarray(client.reset(info["session_id"])["observation"])
    assert obs.shape == (3, 4)  # one-hot previous action (2), previous reward, time
    total = np.zeros(3)
    for t in range(100):
        out = client.step_env(info["session_id"], [0, 1, t % 2])
        total += out["reward"]
        assert out["terminated"] == [False] * 3 or t == 99
    assert out["truncated"] == [True] * 3 or out["terminated"] == [True] * 3
    np.testing.assert_allclose(out["episode_returns"], total)
    # the best arm pays 0.9 and the other 0.1: arm 0 and arm 1 returns sum to about 100
    assert 60 < total[0] + total[1] < 140
    with pytest.raises(BusyError, match="has ended"):
        client.step_env(info["session_id"], [0, 0, 0])
    with pytest.raises(ValidationError, match="expected 3 actions"):
        client.reset(info["session_id"]) and client.step_env(info["session_id"], [0])
    with pytest.raises(ValidationError, match=r"actions must be integers in \[0, 2\)"):
        client.step_env(info["session_id"], [0, 5, 0])
    client.close_session(info["session_id"])
    env, params = make(BANDIT)
    assert env is not None and params.max_steps_in_episode == 100
    del jax


@pytest.mark.slow
def test_bandit_score_against_baselines(fake_server):
    from neurorl.client import Client

    c = Client(fake_server, timeout=600)  # the first call compiles every baseline policy
    s = c.create_session(BANDIT, seed=2)["session_id"]
    c.reset(s)
    for _ in range(100):
        c.step_env(s, [0])
    score = c.score(s)
    assert score["last_return"] is not None and score["baselines"]["oracle"] == pytest.approx(90.0, abs=0.5)
    assert score["baselines"]["random"] == pytest.approx(50.0, abs=5)
    assert score["baselines"]["bayes_optimal"] > 80


def test_autoreset_and_render(client):
    s = client.create_session(BANDIT, params={"max_steps_in_episode": 10}, seed=1, num_envs=2, autoreset=True)
    client.reset(s["session_id"])
    for _ in range(25):  # 2.5 episodes: autoreset restarts them inside step
        out = client.step_env(s["session_id"], [0, 1])
    assert client._json("GET", f"/v1/sessions/{s['session_id']}")["episodes_done"] == 4
    assert all(0 <= r <= 5 for r in out["episode_returns"])
    h = client.create_session("neurorl/Harlow1D-v0", seed=1)
    out = client.reset(h["session_id"], render=True)
    assert out["frames"][0].startswith("data:image/png;base64,")
    score = client.score(h["session_id"])
    assert score["baselines"]["ideal learner (guess once, then always right)"] == pytest.approx(6.2)


def test_remote_env_is_a_gymnasium_env(fake_server):
    from gymnasium.utils.env_checker import check_env

    env = RemoteEnv(BANDIT, fake_server, seed=3, timeout=120)
    check_env(env, skip_render_check=True)
    o1, _ = env.reset(seed=11)
    a = [env.step(i % 2)[1] for i in range(20)]
    o2, _ = env.reset(seed=11)
    b = [env.step(i % 2)[1] for i in range(20)]
    np.testing.assert_array_equal(o1, o2)
    assert a == b  # same seed, same episode
    with pytest.raises(ValueError, match="action must be an integer"):
        env.step(7)
    env.close()


@pytest.fixture(scope="module")
def trained_agent(tmp_path_factory):
    """An agent checkpoint in the trainer's own format (``save_agent``), freshly initialised.

    Training one (``neurorl train bandit-dependent-easy --config.a2c.num_updates=20 ...``) costs
    about 40 s of compilation on the 2-core CI machine; the API under test does not care whether
    the weights were trained, and the outputs are checked against the in-process network.
    """
    return make_agent_checkpoint(tmp_path_factory.mktemp("agent"))


def make_agent_checkpoint(out):
    import jax
    import jax.numpy as jnp

    from neurorl.rl.presets import get_preset
    from neurorl.rl.trainer import build_network, make_env, save_agent

    cfg = get_preset("bandit-dependent-easy")
    env, env_params = make_env(cfg.env)
    net = build_network(cfg, env, env_params)
    obs = jnp.zeros((1,) + tuple(env.observation_space(env_params).shape), jnp.float32)
    params = net.init(jax.random.key(0), net.initialize_carry(1), obs, jnp.ones((1,), bool))
    save_agent(out / "agent.ckpt", jax.tree_util.tree_map(lambda x: x[None], params), cfg)
    return out


def test_agent_act_and_play(client, trained_agent):
    from neurorl.rl.trainer import load_agent

    info = client.load_agent(str(trained_agent), agent_id="a1")
    assert info["env_id"] == BANDIT and info["num_actions"] == 2
    with pytest.raises(BusyError, match="already loaded"):
        client.load_agent(str(trained_agent), agent_id="a1")
    # act step by step with the recurrent state carried by the client; compare with the in-process network
    agent = load_agent(trained_agent)
    params = agent.seed_params(0)
    import jax.numpy as jnp

    carry = agent.net.initialize_carry(1)
    state, start = None, True
    obs = np.zeros(4, np.float32)
    for t in range(5):
        out = client.act("a1", obs, state=state, episode_start=start, greedy=True)
        carry, logits, value = agent.net.apply(params, carry, jnp.asarray(obs)[None], jnp.asarray([start]))
        np.testing.assert_allclose(out["logits"], np.asarray(logits[0]), rtol=1e-5, atol=1e-5)
        assert out["value"] == pytest.approx(float(value[0]), abs=1e-5)
        assert out["action"] == int(np.argmax(out["logits"])) and sum(out["probs"]) == pytest.approx(1.0)
        state, start = out["state"], False
        obs = np.zeros(4, np.float32)
        obs[out["action"]] = 1.0
        obs[3] = (t + 1) / 100
    with pytest.raises(ValidationError, match="expected 4 values"):
        client.act("a1", np.zeros(5))
    with pytest.raises(ValidationError, match="state: expected"):
        client.act("a1", np.zeros(4), state=[[0.0] * 3])
    ep = client.play("a1", seed=1, greedy=False)
    assert ep["steps"] == 100 and len(ep["probs"]) == 100 and len(ep["values"]) == 100
    assert ep["total_reward"] == pytest.approx(sum(ep["rewards"]))


def test_concurrent_sessions_are_independent(client, fake_server):
    """Threads stepping their own sessions at once see exactly what a lone session with the same seed sees."""
    import threading

    from neurorl.client import Client

    def run(c, seed):
        sid = c.create_session(BANDIT, seed=seed)["session_id"]
        c.reset(sid)
        rewards = [c.step_env(sid, [t % 2])["reward"][0] for t in range(15)]
        c.close_session(sid)
        return rewards

    expected = {s: run(client, s) for s in range(4)}
    got, errors = {}, []

    def worker(seed):
        try:
            with Client(fake_server, timeout=600) as c:
                got[seed] = run(c, seed)
        except Exception as e:
            errors.append(repr(e))

    threads = [threading.Thread(target=worker, args=(s,)) for s in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [] and got == expected
    assert len({tuple(v) for v in expected.values()}) > 1  # different seeds, different episodes
