"""Harlow "learning to learn" task, 1-D strip version (pure JAX, gymnax 1.0 API).

Specification: ../shared/reference/meta_rl.md §3.1 (BKHMSI/Meta-RL-Harlow ``Harlow_1D``), written
fresh from that description:

- a circular strip of 17 cells; the gaze is the centre cell (index 8); the agent sees cells 4..12
  (9 values): 0 = empty, 1 = fixation cross, otherwise the object's code;
- 2 actions: roll the strip by +1 / -1 (moves the gaze one cell, wrapping around);
- episode start: the cross sits 1-3 cells off the gaze (offset drawn as ``randint(-3, 3)`` with 0
  replaced by 1, as in the original); two objects are drawn and a fair coin picks the rewarded one;
- gaze lands on the cross: +0.2, the cross disappears and the two objects appear at centre +-3,
  their sides swapped at random every trial;
- gaze lands on an object: +1 if it is the rewarded object, -1 otherwise; the trial ends, the strip
  is cleared and a new cross appears 3 cells from the gaze on the side of the strip's origin;
- 6 trials per episode, at most 250 steps.

Two documented bugs of the original are fixed unless ``legacy=True`` (§3.1 "Latent bugs"):
1. object code ``id/1000`` with id in {2..1001} gives 1.0 for id 1000, the fixation code: fixed
   codes are ``(id + 1) / (n_objects + 1)`` with id in {0..n_objects-1}, strictly inside (0, 1);
2. the two objects could be identical: fixed draws two distinct ids.

Observation (team convention): a flat float32 vector
``[9 window cells, one-hot previous action (2), previous reward]`` (all zero at episode start).
``info`` holds per-step arrays for analysis: ``trial`` (index 0..5 of the trial the step belongs
to), ``choice_made``, ``correct``, ``fixated``.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from flax import struct
from gymnax.environments import environment, spaces

# meta_rl.md §3.1 constants
STRIP_LEN = 17          # state_len
CENTRE = STRIP_LEN // 2  # gaze cell (8)
WINDOW = 9              # cells 4..12 are observed (obs_length 8, but the slice yields 9)
WINDOW_START = CENTRE - WINDOW // 2
OBJ_OFFSET = 3          # objects at centre +-3; new cross 3 cells away
ROLL = (1, -1)          # map_action: action 0 rolls the strip +1, action 1 rolls it -1
NUM_ACTIONS = 2
FIXATION_CODE = 1.0
# randint(-3, 3) excludes 3; 0 is replaced by 1 (§3.1 "Episode start")
_START_SHIFTS = (-3, -2, -1, 1, 1, 2)


@struct.dataclass
class Harlow1DState(environment.EnvState):
    strip: jax.Array        # (17,) float32 cell codes in the rolled (gaze-centred) frame
    pointer: jax.Array      # int32, where the strip's origin sits relative to the gaze (original's `pointer`)
    codes: jax.Array        # (2,) float32 codes of object 1 and object 2
    ids: jax.Array          # (2,) int32 object ids (for rendering)
    rewarded: jax.Array     # int32 0/1: which of the two objects is rewarded
    trial: jax.Array        # int32 trials completed so far
    last_action: jax.Array  # int32, -1 at episode start
    last_reward: jax.Array  # float32
    time: jax.Array         # int32 steps taken


@struct.dataclass
class Harlow1DParams(environment.EnvParams):
    max_steps_in_episode: int = 250   # §3.1 max_length
    n_trials: int = 6                 # §3.1 n_trials
    n_objects: int = 1000             # §3.1 n_objects
    fix_reward: float = 0.2           # §3.1 fix_reward
    obj_reward: float = 1.0           # §3.1 obj_reward
    legacy: bool = struct.field(pytree_node=False, default=False)  # reproduce the two original bugs


class Harlow1D(environment.Environment[Harlow1DState, Harlow1DParams]):
    """The 1-D Harlow task of BKHMSI/Meta-RL-Harlow (meta_rl.md §3.1), bugs fixed by default."""

    obs_size = WINDOW + NUM_ACTIONS + 1

    def __init__(self, legacy: bool = False):
        super().__init__()
        self.legacy = bool(legacy)

    @property
    def default_params(self) -> Harlow1DParams:
        return Harlow1DParams(legacy=self.legacy)

    @property
    def name(self) -> str:
        return "Harlow1D-legacy" if self.legacy else "Harlow1D"

    @property
    def num_actions(self) -> int:
        return NUM_ACTIONS

    def action_space(self, params: Harlow1DParams | None = None) -> spaces.Discrete:
        return spaces.Discrete(NUM_ACTIONS)

    def observation_space(self, params: Harlow1DParams | None = None) -> spaces.Box:
        low = np.zeros(self.obs_size, np.float32)
        high = np.ones(self.obs_size, np.float32)
        p = params or self.default_params
        big = max(p.obj_reward, p.fix_reward)
        if p.legacy:
            high[:WINDOW] = (p.n_objects + 1) / p.n_objects  # legacy codes id/1000 reach 1.001
        low[-1], high[-1] = -big, big
        return spaces.Box(jnp.asarray(low), jnp.asarray(high), (self.obs_size,), jnp.float32)

    # ------------------------------------------------------------------ dynamics
    def reset_env(self, key: jax.Array, params: Harlow1DParams):
        k_shift, k_obj, k_rew = jax.random.split(key, 3)
        shift = jnp.asarray(_START_SHIFTS)[jax.random.randint(k_shift, (), 0, len(_START_SHIFTS))]
        strip = jnp.zeros(STRIP_LEN, jnp.float32).at[CENTRE].set(FIXATION_CODE)
        strip = jnp.roll(strip, shift)
        pointer = jnp.mod(CENTRE - shift, STRIP_LEN).astype(jnp.int32)
        if params.legacy:
            # original: ids from {2..1001}, not forced distinct; code id/1000 (1.0 for id 1000)
            ids = jax.random.randint(k_obj, (2,), 2, params.n_objects + 2)
            codes = ids.astype(jnp.float32) / params.n_objects
        else:
            first = jax.random.randint(k_obj, (), 0, params.n_objects)
            other = jax.random.randint(jax.random.fold_in(k_obj, 1), (), 1, params.n_objects)
            ids = jnp.stack([first, jnp.mod(first + other, params.n_objects)])  # distinct
            codes = (ids.astype(jnp.float32) + 1.0) / (params.n_objects + 1.0)
        state = Harlow1DState(
            strip=strip,
            pointer=pointer,
            codes=codes,
            ids=ids.astype(jnp.int32),
            rewarded=jax.random.bernoulli(k_rew).astype(jnp.int32),
            trial=jnp.int32(0),
            last_action=jnp.int32(-1),
            last_reward=jnp.float32(0.0),
            time=jnp.int32(0),
        )
        return self.get_obs(state, params), state

    def step_env(self, key: jax.Array, state: Harlow1DState, action: Any, params: Harlow1DParams):
        action = jnp.asarray(action, jnp.int32)
        roll = jnp.where(action == 0, ROLL[0], ROLL[1])
        strip = jnp.roll(state.strip, roll)
        pointer = jnp.mod(state.pointer - roll, STRIP_LEN)
        current = strip[CENTRE]
        # Order of the original's checks: fixation first, then object 1, then object 2.
        on_fix = current == FIXATION_CODE
        on_obj1 = (~on_fix) & (current == state.codes[0])
        on_obj2 = (~on_fix) & (~on_obj1) & (current == state.codes[1])
        chose = on_obj1 | on_obj2
        correct = (on_obj1 & (state.rewarded == 0)) | (on_obj2 & (state.rewarded == 1))

        # fixation: clear the gaze cell, put the objects at centre -+ 3 in random order
        swap = jax.random.bernoulli(key)
        left = jnp.where(swap, state.codes[1], state.codes[0])
        right = jnp.where(swap, state.codes[0], state.codes[1])
        strip_fix = strip.at[CENTRE].set(0.0).at[CENTRE - OBJ_OFFSET].set(left).at[CENTRE + OBJ_OFFSET].set(right)
        # choice: clear the strip, new cross 3 cells away on the origin's side (original `_place_fixation`)
        cross_at = jnp.where(pointer > CENTRE, CENTRE - OBJ_OFFSET, CENTRE + OBJ_OFFSET)
        strip_choice = jnp.zeros_like(strip).at[cross_at].set(FIXATION_CODE)
        new_strip = jnp.where(on_fix, strip_fix, jnp.where(chose, strip_choice, strip))

        reward = jnp.where(on_fix, params.fix_reward, 0.0) + jnp.where(
            chose, jnp.where(correct, params.obj_reward, -params.obj_reward), 0.0)
        reward = reward.astype(jnp.float32)
        new_state = state.replace(
            strip=new_strip,
            pointer=pointer.astype(jnp.int32),
            trial=state.trial + chose.astype(jnp.int32),
            last_action=action,
            last_reward=reward,
            time=state.time + 1,
        )
        terminated = new_state.trial >= params.n_trials
        info = {
            "trial": jnp.minimum(state.trial, params.n_trials - 1).astype(jnp.int32),
            "choice_made": chose,
            "correct": chose & correct,
            "fixated": on_fix,
        }
        obs = self.get_obs(new_state, params)
        return obs, new_state, reward, terminated, info

    def is_terminated(self, state: Harlow1DState, params: Harlow1DParams) -> jax.Array:
        return state.trial >= params.n_trials

    def get_obs(self, state: Harlow1DState, params: Harlow1DParams | None = None, key=None) -> jax.Array:
        window = jax.lax.dynamic_slice(state.strip, (WINDOW_START,), (WINDOW,))
        prev_a = jax.nn.one_hot(state.last_action, NUM_ACTIONS, dtype=jnp.float32)  # -1 -> zeros
        return jnp.concatenate([window, prev_a, state.last_reward[None]]).astype(jnp.float32)

    # ------------------------------------------------------------------ rendering
    def render(self, state: Harlow1DState, params: Harlow1DParams | None = None, cell: int = 24) -> np.ndarray:
        """RGB uint8 frame: the whole strip (top), the observed window outlined, the gaze marked.

        Objects get a colour derived from their id; the rewarded object carries a small green dot
        (an observer's aid; the agent does not see it).
        """
        from neurorl.envs.render import object_colour

        strip = np.asarray(state.strip)
        codes = np.asarray(state.codes)
        ids = np.asarray(state.ids)
        rewarded = int(state.rewarded)
        h = cell * 3
        img = np.full((h, cell * STRIP_LEN, 3), 30, np.uint8)
        top = cell
        for i, c in enumerate(strip):
            x0 = i * cell
            img[top + 1:top + cell - 1, x0 + 1:x0 + cell - 1] = (60, 60, 60)
            if c == FIXATION_CODE:
                m = cell // 2
                img[top + m - 2:top + m + 2, x0 + 3:x0 + cell - 3] = (230, 30, 30)
                img[top + 3:top + cell - 3, x0 + m - 2:x0 + m + 2] = (230, 30, 30)
            elif c != 0:
                k = 0 if c == codes[0] else 1
                img[top + 2:top + cell - 2, x0 + 2:x0 + cell - 2] = object_colour(int(ids[k]))
                if k == rewarded:
                    img[top + 3:top + 8, x0 + 3:x0 + 8] = (40, 220, 60)
        # observed window outline and gaze marker
        x0, x1 = WINDOW_START * cell, (WINDOW_START + WINDOW) * cell - 1
        img[top - 3:top - 1, x0:x1] = 200
        img[top + cell + 1:top + cell + 3, x0:x1] = 200
        gx = CENTRE * cell + cell // 2
        img[top + cell + 5:top + cell + 12, gx - 3:gx + 3] = (250, 220, 40)
        # trial progress dots
        for t in range(int(state.trial)):
            img[4:10, 4 + t * 10:10 + t * 10] = 220
        return img

    def render_rgb(self, state: Harlow1DState, params: Harlow1DParams | None = None) -> np.ndarray:
        """Gymnasium ``rgb_array`` hook (same frame as ``render``)."""
        return self.render(state, params)

    def render_text(self, state: Harlow1DState, params: Harlow1DParams | None = None) -> str:
        """One-line ASCII view of the 9 observed cells: ``.`` empty, ``+`` cross, ``A``/``B`` objects."""
        codes = np.asarray(state.codes)
        chars = []
        for c in np.asarray(state.strip)[WINDOW_START:WINDOW_START + WINDOW]:
            if c == FIXATION_CODE:
                chars.append("+")
            elif c == 0:
                chars.append(".")
            else:
                chars.append("A" if c == codes[0] else "B")
        cells = " ".join(chars)
        gaze = " " * (2 * (WINDOW // 2)) + "^"
        return f"[{cells}]  trial {int(state.trial) + 1 if int(state.trial) < 6 else 6}, step {int(state.time)}\n {gaze}"
