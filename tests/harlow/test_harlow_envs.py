"""Invariants of the Harlow tasks (meta_rl.md §3.1): fixation, rewards, trial count, side swapping,
distinct objects, held-out split, observation layout, rendering, Gymnasium check_env."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from neurorl.envs.harlow import CENTRE, FIXATION_CODE, OBJ_OFFSET, WINDOW, Harlow1D
from neurorl.envs.harlow_visual import OBJ_OFFSET_UNITS, TEST, HarlowVisual, object_images


def _scripted_policy_1d(env, params, key, correct_first: bool = False, steps: int = 250):
    """A scripted player of the 1-D task: walks to the cross, then to an object.

    Trial 1 picks the left object; later trials pick the object that was rewarded (read from the
    observation's codes), so it must reach 50 % on trial 1 and 100 % on trials 2-6.
    """
    obs, state = env.reset(key, params)
    records = []
    target_code = None
    for _ in range(steps):
        window = np.asarray(obs[:WINDOW])
        mid = WINDOW // 2
        if FIXATION_CODE in window:
            pos = int(np.where(window == FIXATION_CODE)[0][0])
        else:
            objs = [i for i, c in enumerate(window) if c != 0]
            if target_code is not None and any(window[i] == target_code for i in objs):
                pos = next(i for i in objs if window[i] == target_code)
            else:
                pos = objs[0]
        action = 1 if pos > mid else 0  # action 1 rolls -1: the gaze moves right
        chosen_code = float(window[pos])
        key, k = jax.random.split(key)
        obs, state2, reward, term, trunc, info = env.step(k, state, action, params)
        r = float(reward)
        if bool(info["choice_made"]):
            target_code = chosen_code if r > 0 else [c for c in np.asarray(state.codes) if c != chosen_code][0]
        records.append((r, {k2: np.asarray(v) for k2, v in info.items() if k2 != "final_observation"}, bool(term), bool(trunc)))
        state = state2
        if bool(term) or bool(trunc):
            break
    return records


def test_1d_observation_layout_and_start():
    env = Harlow1D()
    params = env.default_params
    for s in range(20):
        obs, state = env.reset(jax.random.PRNGKey(s), params)
        assert obs.shape == (WINDOW + 3,) and obs.dtype == jnp.float32
        window = np.asarray(obs[:WINDOW])
        # the cross starts 1-3 cells off the gaze, never on it; no object yet
        assert (window == FIXATION_CODE).sum() == 1 and window[WINDOW // 2] == 0
        assert set(np.unique(window)) <= {0.0, 1.0}
        np.testing.assert_array_equal(np.asarray(obs[WINDOW:]), 0.0)  # no previous action/reward
        codes = np.asarray(state.codes)
        assert codes[0] != codes[1], "objects must be distinct (bug 2 fixed)"
        assert np.all((codes > 0) & (codes < FIXATION_CODE)), "object codes must never equal the cross (bug 1 fixed)"


def test_1d_fixed_codes_never_collide_over_many_resets():
    env = Harlow1D()
    keys = jax.random.split(jax.random.PRNGKey(0), 20000)
    _, states = jax.vmap(env.reset, in_axes=(0, None))(keys, env.default_params)
    codes = np.asarray(states.codes)
    assert np.all(codes[:, 0] != codes[:, 1])
    assert np.all(codes < 1.0) and np.all(codes > 0.0)
    ids = np.asarray(states.ids)
    assert ids.min() >= 0 and ids.max() < 1000 and len(np.unique(ids)) > 900


def test_1d_legacy_reproduces_both_bugs():
    env = Harlow1D(legacy=True)
    keys = jax.random.split(jax.random.PRNGKey(1), 20000)
    _, states = jax.vmap(env.reset, in_axes=(0, None))(keys, env.default_params)
    codes = np.asarray(states.codes)
    assert (codes == 1.0).any(), "legacy: id 1000 gives the fixation code 1.0"
    assert (codes[:, 0] == codes[:, 1]).any(), "legacy: objects may be identical"


def test_1d_rewards_fixation_choice_and_trial_count():
    env = Harlow1D()
    params = env.default_params
    for s in range(4):
        recs = _scripted_policy_1d(env, params, jax.random.PRNGKey(s))
        rewards = [r for r, *_ in recs]
        fix = [bool(i["fixated"]) for _, i, *_ in recs]
        chose = [bool(i["choice_made"]) for _, i, *_ in recs]
        assert sum(fix) == 6 and sum(chose) == 6
        # a fixation is always followed (later) by exactly one choice, alternating
        events = [("F" if f else "C") for f, c in zip(fix, chose) if f or c]
        assert "".join(events) == "FC" * 6
        for r, i, *_ in recs:
            if i["fixated"]:
                assert r == pytest.approx(0.2)
            elif i["choice_made"]:
                assert r in (1.0, -1.0) and (r > 0) == bool(i["correct"])
            else:
                assert r == 0.0
        trials = [int(i["trial"]) for _, i, *_ in recs if i["choice_made"]]
        assert trials == list(range(6))
        assert recs[-1][2] and not any(t for _, _, t, _ in recs[:-1]), "terminated exactly after trial 6"
        corr = [bool(i["correct"]) for _, i, *_ in recs if i["choice_made"]]
        assert all(corr[1:]), "an informed player is right on trials 2-6"


def test_1d_truncates_at_250_steps_and_auto_resets():
    env = Harlow1D()
    params = env.default_params
    _, state = env.reset(jax.random.PRNGKey(3), params)
    state = state.replace(strip=jnp.zeros(17))  # nothing to fixate: the episode can only time out

    def body(st, k):
        obs, st2, r, term, trunc, info = env.step(k, st, 0, params)
        return st2, (trunc, term, st2.time, r)

    _, (trunc, term, times, r) = jax.lax.scan(body, state, jax.random.split(jax.random.PRNGKey(4), 260))
    trunc, term, times = np.asarray(trunc), np.asarray(term), np.asarray(times)
    assert not term.any() and np.all(np.asarray(r)[:250] == 0)
    assert trunc[249] and not trunc[:249].any(), "truncated at step 250 (max_length)"
    assert times[249] == 0 and times[250] == 1, "auto-reset after truncation"


def test_1d_side_swapping_is_random_per_trial():
    env = Harlow1D()
    params = env.default_params
    # fixate from a state with the cross one cell to the right: action 1 moves the gaze right
    lefts = []
    for s in range(200):
        obs, state = env.reset(jax.random.PRNGKey(s), params)
        state = state.replace(strip=jnp.zeros(17).at[CENTRE + 1].set(1.0))
        obs, state2, r, *_ = env.step(jax.random.PRNGKey(1000 + s), state, 1, params)
        assert float(r) == pytest.approx(0.2)
        strip = np.asarray(state2.strip)
        assert strip[CENTRE] == 0 and strip[CENTRE - OBJ_OFFSET] != 0 and strip[CENTRE + OBJ_OFFSET] != 0
        lefts.append(strip[CENTRE - OBJ_OFFSET] == np.asarray(state.codes)[0])
    frac = np.mean(lefts)
    assert 0.35 < frac < 0.65, f"object 1 on the left in {frac:.2f} of trials; expected about 0.5"


def test_1d_random_policy_trial_accuracy_is_chance():
    env = Harlow1D()
    params = env.default_params

    def run(key):
        _, st = env.reset(key, params)

        def f(st, k):
            ka, ks = jax.random.split(k)
            _, st, r, te, tr, info = env.step(ks, st, jax.random.randint(ka, (), 0, 2), params)
            return st, (info["choice_made"], info["correct"])

        return jax.lax.scan(f, st, jax.random.split(key, 1000))[1]

    ch, co = jax.jit(jax.vmap(run))(jax.random.split(jax.random.PRNGKey(0), 64))
    acc = float(co.sum() / ch.sum())
    assert ch.sum() > 1000 and 0.45 < acc < 0.55


def test_visual_observation_fixation_and_choice():
    env = HarlowVisual(size=32)
    params = env.default_params
    obs, state = env.reset(jax.random.PRNGKey(0), params)
    assert obs["image"].shape == (32, 32, 3) and obs["image"].dtype == jnp.float32
    assert obs["vector"].shape == (3,)
    img = np.asarray(obs["image"])
    assert img.min() >= 0 and img.max() <= 1
    assert int(state.gaze) != 0 and abs(int(state.gaze)) <= 3
    # walk to the cross
    key = jax.random.PRNGKey(1)
    a = 1 if int(state.gaze) < 0 else 0
    rewards = []
    while int(state.phase) == 0:
        key, k = jax.random.split(key)
        obs, state, r, te, tr, info = env.step(k, state, a, params)
        rewards.append(float(r))
    assert rewards[-1] == pytest.approx(0.2) and all(r == 0 for r in rewards[:-1]) and int(state.gaze) == 0
    assert bool(info["fixated"])
    # both images visible at the centre; the cross is gone (no pure-red pixels)
    img = np.asarray(obs["image"])
    red = (img[..., 0] == 1) & (img[..., 1] == 0) & (img[..., 2] == 0)
    assert not red.any()
    assert (img.sum(-1) > 0).sum() >= 2 * env.obj_size ** 2 * 0.9
    # choose the left image
    for _ in range(OBJ_OFFSET_UNITS):
        key, k = jax.random.split(key)
        obs, state2, r, te, tr, info = env.step(k, state, 0, params)
        if not bool(info["choice_made"]):
            assert float(r) == 0.0
        state_before, state = state, state2
    assert bool(info["choice_made"]) and int(info["trial"]) == 0
    assert float(r) == (1.0 if bool(state_before.rewarded_left) else -1.0)
    assert bool(info["correct"]) == bool(state_before.rewarded_left)
    assert int(state.trial) == 1 and int(state.phase) == 0  # cross back


def test_visual_side_swap_trial_count_and_accuracy_of_informed_player():
    env = HarlowVisual(size=32)
    params = env.default_params

    def informed(key):
        """Scripted player with privileged state: fixates, then takes the rewarded side from trial 2."""
        _, st = env.reset(key, params)

        def f(st, k):
            go_to = jnp.where(st.phase == 0, 0, jnp.where(st.trial == 0, -OBJ_OFFSET_UNITS,
                                                          jnp.where(st.rewarded_left, -OBJ_OFFSET_UNITS, OBJ_OFFSET_UNITS)))
            a = jnp.where(go_to < st.gaze, 0, 1)
            _, st2, r, te, tr, info = env.step(k, st, a, params)
            return st2, (r, te, tr, info["trial"], info["choice_made"], info["correct"], info["fixated"], st.rewarded_left)

        return jax.lax.scan(f, st, jax.random.split(key, 60))[1]

    r, te, tr, trial, ch, co, fx, left = [np.asarray(x) for x in jax.jit(jax.vmap(informed))(jax.random.split(jax.random.PRNGKey(0), 400))]
    # each episode: first 6 fixations and 6 choices before the first termination
    first_end = te.argmax(1)
    assert te.any(1).all() and not tr[:, :first_end.min() + 1].any()
    for e in range(20):
        n = first_end[e] + 1
        assert ch[e, :n].sum() == 6 and fx[e, :n].sum() == 6
        assert list(trial[e, :n][ch[e, :n]]) == list(range(6))
    acc = np.array([[co[e, :first_end[e] + 1][ch[e, :first_end[e] + 1]][k] for k in range(6)] for e in range(400)])
    assert 0.4 < acc[:, 0].mean() < 0.6 and acc[:, 1:].all()
    # side of the rewarded image re-drawn per trial: about half left, and it changes within episodes
    sides = np.array([[left[e, :first_end[e] + 1][ch[e, :first_end[e] + 1]][k] for k in range(6)] for e in range(400)])
    assert 0.4 < sides.mean() < 0.6
    assert (sides[:, 1:] != sides[:, :-1]).mean() > 0.35


def test_visual_step_equals_gymnax_auto_reset_step():
    """HarlowVisual.step selects the state and renders once; gymnax renders both and selects pixels.
    Same keys, so every output (observations, states, rewards, flags, infos) must be identical,
    across episode ends."""
    from gymnax.environments import environment

    env = HarlowVisual(size=32)
    params = env.default_params.replace(n_trials=2)  # short episodes: several resets in the rollout
    batch, steps = 8, 120

    def rollout(step_fn, key):
        _, st = jax.vmap(env.reset, in_axes=(0, None))(jax.random.split(key, batch), params)

        def f(st, k):
            ka, ks = jax.random.split(k)
            a = jax.random.randint(ka, (batch,), 0, 2)
            obs, st, r, term, trunc, info = jax.vmap(step_fn, in_axes=(0, 0, 0, None))(
                jax.random.split(ks, batch), st, a, params)
            return st, (obs, r, term, trunc, info)

        return jax.lax.scan(f, st, jax.random.split(key, steps))

    ours = jax.jit(lambda k: rollout(env.step, k))(jax.random.PRNGKey(5))
    generic = jax.jit(lambda k: rollout(lambda *a: environment.Environment.step(env, *a), k))(jax.random.PRNGKey(5))
    assert int(np.asarray(ours[1][2]).sum()) >= batch  # episodes did end (and auto-reset) in the rollout
    a, b = jax.tree_util.tree_leaves(ours), jax.tree_util.tree_leaves(generic)
    assert len(a) == len(b)
    for x, y in zip(a, b):
        np.testing.assert_array_equal(np.asarray(x), np.asarray(y))


def test_visual_held_out_split_and_distinct_objects():
    env = HarlowVisual(size=32)
    p_train = env.default_params
    p_test = p_train.replace(split=TEST)
    keys = jax.random.split(jax.random.PRNGKey(0), 3000)
    _, s_tr = jax.vmap(env.reset, in_axes=(0, None))(keys, p_train)
    _, s_te = jax.vmap(env.reset, in_axes=(0, None))(keys, p_test)
    ids_tr, ids_te = np.asarray(s_tr.ids), np.asarray(s_te.ids)
    assert ids_tr.max() < p_train.n_train and ids_tr.min() >= 0
    assert ids_te.min() >= p_train.n_train and ids_te.max() < p_train.n_train + p_train.n_test
    assert np.all(ids_tr[:, 0] != ids_tr[:, 1]) and np.all(ids_te[:, 0] != ids_te[:, 1])
    assert not (set(ids_tr.ravel()) & set(ids_te.ravel()))
    # images are a deterministic function of the id
    np.testing.assert_array_equal(np.asarray(s_te.images[:5]), np.asarray(object_images(ids_te[:5], 0, env.obj_size)))


def test_object_set_is_large_and_distinct():
    imgs = np.asarray(object_images(jnp.arange(3000), 0, 12)).reshape(3000, -1)
    assert imgs.min() >= 0 and imgs.max() <= 1
    # pairwise mean squared distance: no duplicates among 3000 objects
    sq = (imgs ** 2).sum(1)
    d = (sq[:, None] + sq[None] - 2 * imgs @ imgs.T) / imgs.shape[1]
    np.fill_diagonal(d, np.inf)
    assert d.min() > 1e-3
    # another seed gives another set
    other = np.asarray(object_images(jnp.arange(10), 1, 12)).reshape(10, -1)
    assert not np.allclose(other, imgs[:10])


@pytest.mark.parametrize("size", [32, 64])
def test_render_shapes(size):
    env = HarlowVisual(size=size)
    obs, state = env.reset(jax.random.PRNGKey(0), env.default_params)
    frame = env.render(state)
    assert frame.dtype == np.uint8 and frame.ndim == 3 and frame.shape[2] == 3
    assert frame.shape[0] == 4 * size
    env1 = Harlow1D()
    _, s1 = env1.reset(jax.random.PRNGKey(0), env1.default_params)
    f1 = env1.render(s1)
    assert f1.dtype == np.uint8 and f1.shape == (72, 17 * 24, 3)
    assert "+" in env1.render_text(s1) and "+" in env.render_text(state)


def test_bad_construction_raises():
    with pytest.raises(ValueError, match="size"):
        HarlowVisual(size=8)
    with pytest.raises(ValueError, match="gaze_range"):
        HarlowVisual(gaze_range=2)


@pytest.mark.parametrize("env_id,kwargs", [("neurorl/Harlow1D-v0", {}), ("neurorl/Harlow1D-legacy-v0", {}),
                                           ("neurorl/HarlowVisual-v0", {}), ("neurorl/HarlowVisual-v0", {"split": 1})])
def test_gymnasium_check_env(env_id, kwargs):
    import gymnasium
    from gymnasium.utils.env_checker import check_env

    import neurorl.envs  # noqa: F401  (registers the ids)

    env = gymnasium.make(env_id, render_mode="rgb_array", **kwargs)
    check_env(env.unwrapped)
    obs, _ = env.reset(seed=3)
    assert env.observation_space.contains(obs)
    frame = env.render()
    assert frame.dtype == np.uint8 and frame.ndim == 3


def test_gif_export(tmp_path):
    from PIL import Image

    from neurorl.envs.render import save_episode

    env = Harlow1D()
    _, s = env.reset(jax.random.PRNGKey(0), env.default_params)
    frames = [env.render(s)]
    for t in range(5):
        _, s, *_ = env.step(jax.random.PRNGKey(t), s, t % 2, env.default_params)
        frames.append(env.render(s))
    path = save_episode(frames, tmp_path / "ep.gif", fps=4)
    with Image.open(path) as im:
        assert im.n_frames == 6
    with pytest.raises(ValueError, match="gif or .mp4"):
        save_episode(frames, tmp_path / "ep.avi")


def test_play_harlow_from_stdin(tmp_path):
    from typer.testing import CliRunner

    from neurorl.cli import app
    from neurorl.experiments import load_all

    load_all()
    # 3 moves left then 6 right visit every offset the cross can start at (1-3 cells either side)
    moves = "\n".join(["a"] * 3 + ["x"] + ["d"] * 6) + "\nq\n"
    res = CliRunner().invoke(app, ["play", "harlow", "--seed", "1"], input=moves)
    assert res.exit_code == 0, res.output
    assert "unknown move 'x'" in res.output and "quit" in res.output
    assert "fixated: +0.2" in res.output
    img = tmp_path / "screen.png"
    res = CliRunner().invoke(app, ["play", "harlow", "--visual", "--image", str(img)], input="a\nd\nq\n")
    assert res.exit_code == 0, res.output
    assert img.exists() and "[" in res.output
