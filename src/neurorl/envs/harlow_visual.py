"""Harlow task from pixels, in the spirit of DeepMind Lab PsychLab (pure JAX, gymnax 1.0 API).

No external engine: the screen is drawn in JAX. Design (sources in ../shared/reference/meta_rl.md):

- A black display wider than the agent's view holds a red fixation cross at its centre
  (PsychLab `harlow_factory.lua`: black background, red cross, §3.6). The agent sees an
  ``size x size`` RGB window centred on its gaze.
- Discrete saccades: action 0 moves the gaze one unit left, action 1 one unit right (the 2-action
  space of the 1-D task, §3.1, and of mtrazzi's PsychLab agent, §5.1). The gaze is clamped to
  ``+-gaze_range`` units. One unit is ``3/32`` of the screen width.
- Fixating the cross (gaze on the centre while the cross is shown): +0.2; the cross disappears and
  two object images appear 3 units left and right of the centre, sides swapped at random per trial.
- Fixating an image chooses it: +1 if it is the rewarded image, -1 otherwise; the images disappear
  and the cross reappears at the centre (the gaze stays where it was, 3 units off, as in the 1-D
  task where the new cross appears 3 cells away). Same reward scheme as 1-D (§3.1).
- 6 trials per episode, at most 250 steps (§3.1).
- Objects: a procedurally generated image set (``object_images``): coloured shapes (8 kinds) with
  textures (6 kinds), colours, size and rotation drawn from ``fold_in(seed, id)``. Ids
  ``[0, n_train)`` are training objects and ``[n_train, n_train + n_test)`` the held-out test
  objects (PsychLab: 1000 train / 1000 test images, §3.6); ``params.split`` picks the set. The
  two objects of an episode are always distinct (PsychLab draws distinct ids, §3.6).

Observation (team convention): ``{"image": float32 (size, size, 3) in [0, 1],
"vector": float32 [one-hot previous action (2), previous reward]}``.
``info``: ``trial``, ``choice_made``, ``correct``, ``fixated`` (as in ``Harlow1D``).
"""

from __future__ import annotations

import functools
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from flax import struct
from gymnax.environments import environment, spaces

NUM_ACTIONS = 2
OBJ_OFFSET_UNITS = 3            # objects 3 saccade units from the centre (1-D task: centre +-3, §3.1)
_START_SHIFTS = (-3, -2, -1, 1, 2, 3)  # the gaze starts 1-3 units off the cross (§3.1 "Episode start")
TRAIN, TEST = 0, 1
BANK_SEED, BANK_SIZE = 0, 5000  # the default object set (4000 train + 1000 test), pre-rendered once


# ---------------------------------------------------------------------------- object images
N_SHAPES, N_TEXTURES = 8, 6


def _object_image(key: jax.Array, size: int) -> jax.Array:
    """One procedurally generated object image, float32 (size, size, 3) in [0, 1]."""
    ks = jax.random.split(key, 9)
    shape = jax.random.randint(ks[0], (), 0, N_SHAPES)
    texture = jax.random.randint(ks[1], (), 0, N_TEXTURES)
    bg = jax.random.uniform(ks[2], (3,))
    fg = jnp.mod(bg + 0.3 + 0.4 * jax.random.uniform(ks[3], (3,)), 1.0)   # >= 0.3 from bg per channel (circularly)
    tc = jnp.mod(fg + 0.25 + 0.5 * jax.random.uniform(ks[4], (3,)), 1.0)  # texture colour, differs from fg
    scale = jax.random.uniform(ks[5], (), minval=0.6, maxval=0.95)
    theta = jax.random.uniform(ks[6], (), maxval=2 * jnp.pi)
    freq = jax.random.randint(ks[7], (), 2, 6).astype(jnp.float32)
    phase = jax.random.uniform(ks[8], (), maxval=2 * jnp.pi)

    n = 2 * size  # 2x supersampling, averaged below
    c = (jnp.arange(n, dtype=jnp.float32) + 0.5) / n * 2.0 - 1.0
    y, x = jnp.meshgrid(c, c, indexing="ij")
    ct, st = jnp.cos(theta), jnp.sin(theta)
    xr, yr = (ct * x + st * y) / scale, (-st * x + ct * y) / scale
    rad = jnp.sqrt(xr ** 2 + yr ** 2)
    ang = jnp.arctan2(yr, xr)
    masks = jnp.stack([
        rad <= 1.0,                                                          # disc
        jnp.maximum(jnp.abs(xr), jnp.abs(yr)) <= 0.8,                        # square
        jnp.abs(xr) + jnp.abs(yr) <= 1.0,                                    # diamond
        (yr <= 0.6) & (yr >= 2.2 * jnp.abs(xr) - 1.0),                      # triangle
        (rad <= 1.0) & (rad >= 0.5),                                         # ring
        ((jnp.abs(xr) <= 0.3) | (jnp.abs(yr) <= 0.3)) & (jnp.maximum(jnp.abs(xr), jnp.abs(yr)) <= 0.95),  # plus
        rad <= 0.65 + 0.3 * jnp.cos(5.0 * ang),                              # star
        (rad <= 1.0) & ((xr - 0.45) ** 2 + yr ** 2 > 0.55 ** 2),             # crescent
    ])
    textures = jnp.stack([
        jnp.ones_like(x, bool),                                              # solid
        jnp.sin(jnp.pi * freq * xr + phase) > 0,                             # stripes
        jnp.sin(jnp.pi * freq * yr + phase) > 0,                             # stripes, other axis
        jnp.sin(jnp.pi * freq * xr + phase) * jnp.sin(jnp.pi * freq * yr) > 0,  # checker
        jnp.cos(jnp.pi * freq * x) * jnp.cos(jnp.pi * freq * y) < 0.4,       # dots (holes)
        jnp.sin(1.5 * jnp.pi * freq * rad + phase) > 0,                      # concentric rings
    ])
    inside = masks[shape][..., None]
    tex = textures[texture][..., None]
    img = jnp.where(inside, jnp.where(tex, fg, tc), bg)
    return img.reshape(size, 2, size, 2, 3).mean(axis=(1, 3))


@functools.partial(jax.jit, static_argnames=("size",))
def object_images(ids: jax.Array, seed: int | jax.Array, size: int) -> jax.Array:
    """Images of objects ``ids`` (any shape) of the set generated from ``seed``: ``ids.shape + (size, size, 3)``.

    Deterministic: the image of an id depends only on (seed, id, size).
    """
    ids = jnp.asarray(ids, jnp.int32)
    base = jax.random.PRNGKey(seed)
    flat = ids.reshape(-1)
    imgs = jax.vmap(lambda i: _object_image(jax.random.fold_in(base, i), size))(flat)
    return imgs.reshape(ids.shape + (size, size, 3))


# ---------------------------------------------------------------------------- environment
@struct.dataclass
class HarlowVisualState(environment.EnvState):
    gaze: jax.Array            # int32 gaze position in saccade units, 0 = screen centre
    phase: jax.Array           # int32 0: cross shown, 1: images shown
    ids: jax.Array             # (2,) int32 [rewarded id, unrewarded id]
    images: jax.Array          # (2, S, S, 3) float32 [rewarded image, unrewarded image]
    rewarded_left: jax.Array   # bool, this trial's side of the rewarded image
    trial: jax.Array           # int32 trials completed
    last_action: jax.Array     # int32, -1 at episode start
    last_reward: jax.Array     # float32
    time: jax.Array            # int32


@struct.dataclass
class HarlowVisualParams(environment.EnvParams):
    max_steps_in_episode: int = 250   # as 1-D (§3.1)
    n_trials: int = 6                 # §3.1 / PsychLab 6 trials (§3.6)
    fix_reward: float = 0.2           # §3.1
    obj_reward: float = 1.0           # §3.1
    split: int = TRAIN                # 0: training objects, 1: held-out test objects
    n_train: int = 4000
    n_test: int = 1000
    object_seed: int = 0              # seed of the procedurally generated image set


class HarlowVisual(environment.Environment[HarlowVisualState, HarlowVisualParams]):
    """Pixel Harlow task. ``size``: screen side in pixels (>= 16); ``gaze_range``: clamp in saccade units."""

    def __init__(self, size: int = 32, gaze_range: int = 6):
        super().__init__()
        if not isinstance(size, (int, np.integer)) or size < 16:
            raise ValueError(f"size must be an int >= 16, got {size!r}")
        if gaze_range < OBJ_OFFSET_UNITS + 1:
            raise ValueError(f"gaze_range must be >= {OBJ_OFFSET_UNITS + 1}, got {gaze_range}")
        self.size = int(size)
        self.gaze_range = int(gaze_range)
        self.unit = max(1, round(3 * self.size / 32))           # saccade step in pixels
        self.obj_size = max(6, round(12 * self.size / 32))       # object image side
        self.world_w = self.size + 2 * self.gaze_range * self.unit
        self._cross = self._cross_canvas()
        self._bank = None  # (BANK_SIZE, S, S, 3) images of the default object set, rendered on first use

    @property
    def default_params(self) -> HarlowVisualParams:
        return HarlowVisualParams()

    @property
    def name(self) -> str:
        return f"HarlowVisual-{self.size}"

    @property
    def num_actions(self) -> int:
        return NUM_ACTIONS

    def action_space(self, params: HarlowVisualParams | None = None) -> spaces.Discrete:
        return spaces.Discrete(NUM_ACTIONS)

    def observation_space(self, params: HarlowVisualParams | None = None) -> spaces.Dict:
        p = params or self.default_params
        big = float(max(p.obj_reward, p.fix_reward))
        vlow = np.zeros(NUM_ACTIONS + 1, np.float32)
        vhigh = np.ones(NUM_ACTIONS + 1, np.float32)
        vlow[-1], vhigh[-1] = -big, big
        return spaces.Dict({
            "image": spaces.Box(0.0, 1.0, (self.size, self.size, 3), jnp.float32),
            "vector": spaces.Box(jnp.asarray(vlow), jnp.asarray(vhigh), (NUM_ACTIONS + 1,), jnp.float32),
        })

    # ------------------------------------------------------------------ geometry
    def _cross_canvas(self) -> np.ndarray:
        h, w = self.size, self.world_w
        canvas = np.zeros((h, w, 3), np.float32)
        arm = max(2, round(3 * self.size / 32))          # PsychLab cross size 0.1 of the screen (§3.6)
        thick = max(1, self.size // 32)
        cy, cx = h // 2, w // 2
        red = np.array([1.0, 0.0, 0.0], np.float32)
        canvas[cy - thick:cy + thick, cx - arm:cx + arm] = red
        canvas[cy - arm:cy + arm, cx - thick:cx + thick] = red
        return canvas

    def _slots(self) -> tuple[int, int, int]:
        """(top row, left image column, right image column) of the object images on the display."""
        s = self.obj_size
        cx = self.world_w // 2
        off = OBJ_OFFSET_UNITS * self.unit
        return self.size // 2 - s // 2, cx - off - s // 2, cx + off - s // 2

    def display(self, state: HarlowVisualState) -> jax.Array:
        """The whole display (size, world_w, 3) float32 for a state."""
        s = self.obj_size
        top, xl, xr = self._slots()
        left = jnp.where(state.rewarded_left, state.images[0], state.images[1])
        right = jnp.where(state.rewarded_left, state.images[1], state.images[0])
        objects = jnp.zeros((self.size, self.world_w, 3), jnp.float32)
        objects = objects.at[top:top + s, xl:xl + s].set(left).at[top:top + s, xr:xr + s].set(right)
        return jnp.where(state.phase == 1, objects, jnp.asarray(self._cross))

    def _view_left(self, gaze: jax.Array) -> jax.Array:
        return self.world_w // 2 - self.size // 2 + gaze * self.unit

    # ------------------------------------------------------------------ dynamics
    def _draw_objects(self, key: jax.Array, params: HarlowVisualParams):
        n_train, n_test = params.n_train, params.n_test
        lo = jnp.where(params.split == TEST, n_train, 0)
        n = jnp.where(params.split == TEST, n_test, n_train)
        k1, k2 = jax.random.split(key)
        first = jax.random.randint(k1, (), 0, n)
        other = jnp.mod(first + jax.random.randint(k2, (), 1, n), n)  # distinct from `first`
        ids = (lo + jnp.stack([first, other])).astype(jnp.int32)
        # gymnax's step computes a reset at every step (auto-reset), so drawing the images there would
        # cost two supersampled renders per step. The default object set is rendered once into a bank
        # (first use) and gathered; other seeds or larger sets fall back to rendering. The predicate
        # depends on params only (unbatched under vmap), so lax.cond stays a real branch.
        use_bank = (params.object_seed == BANK_SEED) & (n_train + n_test <= BANK_SIZE)
        bank = self._object_bank()
        images = jax.lax.cond(use_bank, lambda i: bank[jnp.clip(i, 0, BANK_SIZE - 1)],
                              lambda i: object_images(i, params.object_seed, self.obj_size), ids)
        return ids, images

    def _object_bank(self) -> jax.Array:
        if self._bank is None:
            with jax.ensure_compile_time_eval():  # concrete even when first used inside a jit trace
                self._bank = np.asarray(object_images(jnp.arange(BANK_SIZE), BANK_SEED, self.obj_size))
        return jnp.asarray(self._bank)

    def reset_env(self, key: jax.Array, params: HarlowVisualParams):
        k_gaze, k_obj, k_side = jax.random.split(key, 3)
        gaze = jnp.asarray(_START_SHIFTS)[jax.random.randint(k_gaze, (), 0, len(_START_SHIFTS))]
        ids, images = self._draw_objects(k_obj, params)
        state = HarlowVisualState(
            gaze=gaze.astype(jnp.int32), phase=jnp.int32(0), ids=ids, images=images,
            rewarded_left=jax.random.bernoulli(k_side), trial=jnp.int32(0),
            last_action=jnp.int32(-1), last_reward=jnp.float32(0.0), time=jnp.int32(0))
        return self.get_obs(state, params), state

    def step_env(self, key: jax.Array, state: HarlowVisualState, action: Any, params: HarlowVisualParams):
        action = jnp.asarray(action, jnp.int32)
        gaze = jnp.clip(state.gaze + jnp.where(action == 0, -1, 1), -self.gaze_range, self.gaze_range)
        shown = state.phase == 1
        on_fix = (~shown) & (gaze == 0)
        on_left = shown & (gaze == -OBJ_OFFSET_UNITS)
        on_right = shown & (gaze == OBJ_OFFSET_UNITS)
        chose = on_left | on_right
        correct = (on_left & state.rewarded_left) | (on_right & ~state.rewarded_left)
        reward = jnp.where(on_fix, params.fix_reward, 0.0) + jnp.where(
            chose, jnp.where(correct, params.obj_reward, -params.obj_reward), 0.0)
        reward = reward.astype(jnp.float32)
        new_state = state.replace(
            gaze=gaze,
            phase=jnp.where(on_fix, 1, jnp.where(chose, 0, state.phase)).astype(jnp.int32),
            rewarded_left=jnp.where(on_fix, jax.random.bernoulli(key), state.rewarded_left),  # new sides per trial
            trial=state.trial + chose.astype(jnp.int32),
            last_action=action, last_reward=reward, time=state.time + 1)
        info = {
            "trial": jnp.minimum(state.trial, params.n_trials - 1).astype(jnp.int32),
            "choice_made": chose,
            "correct": chose & correct,
            "fixated": on_fix,
        }
        return self.get_obs(new_state, params), new_state, reward, new_state.trial >= params.n_trials, info

    @functools.partial(jax.jit, static_argnames=("self",))
    def step(self, key: jax.Array, state: HarlowVisualState, action: Any, params: HarlowVisualParams | None = None):
        """gymnax's auto-resetting step (same keys, same outputs), rendered once: the state is selected
        between the stepped and the fresh episode and then rendered, where gymnax renders both and
        selects every pixel. Same values (the observation is a function of the state); the env alone
        ran ≈ 2.5x faster, learning ≈ 1.2-1.4x (docs/benchmarks.md)."""
        params = self.default_params if params is None else params
        key_step, key_reset = jax.random.split(key)
        obs_st, state_st, reward, terminated, info = self.step_env(key_step, state, action, params)
        truncated = self.is_truncated(state_st, params)
        done = jnp.logical_or(terminated, truncated)
        _, state_re = self.reset_env(key_reset, params)  # its observation is never used: XLA drops it
        state = jax.tree.map(lambda x, y: jax.lax.select(done, x, y), state_re, state_st)
        info = {**info, "terminated": terminated, "truncated": truncated, "final_observation": obs_st}
        return self.get_obs(state, params), state, reward, terminated, truncated, info

    def is_terminated(self, state: HarlowVisualState, params: HarlowVisualParams) -> jax.Array:
        return state.trial >= params.n_trials

    def get_obs(self, state: HarlowVisualState, params: HarlowVisualParams | None = None, key=None) -> dict:
        view = jax.lax.dynamic_slice(self.display(state), (0, self._view_left(state.gaze), 0),
                                     (self.size, self.size, 3))
        prev_a = jax.nn.one_hot(state.last_action, NUM_ACTIONS, dtype=jnp.float32)
        return {"image": view, "vector": jnp.concatenate([prev_a, state.last_reward[None]]).astype(jnp.float32)}

    # ------------------------------------------------------------------ rendering
    def render(self, state: HarlowVisualState, params: HarlowVisualParams | None = None, scale: int = 4) -> np.ndarray:
        """RGB uint8 frame: the whole display with the agent's view outlined (left) and the view (right).

        A small green square marks the rewarded image (an observer's aid; the agent does not see it).
        """
        from neurorl.envs.render import hstack_frames, to_uint8, upscale

        world = np.array(self.display(state))
        x0 = int(self._view_left(state.gaze))
        view = world[:, x0:x0 + self.size].copy()  # what the agent sees (no observer marks)
        if int(state.phase) == 1:
            top, xl, xr = self._slots()
            x = xl if bool(state.rewarded_left) else xr
            world[top - 3:top - 1, x:x + 3] = (0.1, 0.9, 0.2)
        w = to_uint8(world)
        outline = np.array([255, 230, 60], np.uint8)
        w[0, x0:x0 + self.size] = outline
        w[-1, x0:x0 + self.size] = outline
        w[:, x0] = outline
        w[:, min(x0 + self.size - 1, w.shape[1] - 1)] = outline
        return hstack_frames([upscale(w, scale), upscale(to_uint8(view), scale)], gap=2 * scale, fill=40)

    def render_rgb(self, state: HarlowVisualState, params: HarlowVisualParams | None = None) -> np.ndarray:
        """Gymnasium ``rgb_array`` hook (same frame as ``render``)."""
        return self.render(state, params)

    def render_text(self, state: HarlowVisualState, params: HarlowVisualParams | None = None) -> str:
        """ASCII sketch of the display: gaze positions ``-R..R``; ``+`` cross, ``A``/``B`` the two images
        (``A`` is always the image with the smaller object id, so it names an object, not its side), ``^`` the gaze."""
        r = self.gaze_range
        cells = ["."] * (2 * r + 1)
        if int(state.phase) == 1:
            ids = [int(i) for i in np.asarray(state.ids)]
            names = {min(ids): "A", max(ids): "B"}
            left_id = ids[0] if bool(state.rewarded_left) else ids[1]
            right_id = ids[1] if bool(state.rewarded_left) else ids[0]
            cells[r - OBJ_OFFSET_UNITS] = names[left_id]
            cells[r + OBJ_OFFSET_UNITS] = names[right_id]
        else:
            cells[r] = "+"
        line = " ".join(cells)
        marker = " " * (2 * (int(state.gaze) + r)) + "^"
        trial = min(int(state.trial) + 1, 6)
        return f"[{line}]  trial {trial}, step {int(state.time)}\n {marker}"
