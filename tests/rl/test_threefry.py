"""neurorl's straight-line Threefry lowering on CPU changes the program, never the numbers.

Both sides run in fresh interpreters (the lowering is chosen when neurorl is imported): one with
neurorl's lowering, one with jax's stock CPU lowering (NEURORL_STOCK_THREEFRY=1).
"""

import os
import subprocess
import sys

import numpy as np

PROBE = r"""
import sys
import jax, jax.numpy as jnp, numpy as np
import neurorl
from neurorl.rl.a2c import compile_train, seed_keys
from neurorl.rl.config import A2CConfig, EnvConfig, RunConfig, TrainConfig
from neurorl.rl.trainer import build_network, make_env

key = jax.random.PRNGKey(7)
draw = jax.jit(lambda k: jax.random.uniform(k, (4,)))
out = {
    "has_loop": np.array("while" in draw.lower(key).as_text()),
    "uniform": jax.jit(lambda k: jax.random.uniform(k, (1000,)))(key),
    "split": jax.random.split(key, 17),
    "categorical": jax.random.categorical(key, jnp.log(jnp.array([0.2, 0.3, 0.5])), shape=(500,)),
    "bernoulli": jax.random.bernoulli(key, 0.3, (300,)),
}
# A short A2C run of the bandit task: sampling, environment draws and the gradient, end to end.
cfg = TrainConfig(env=EnvConfig(id="neurorl/Bandit-independent-v0"),
                  a2c=A2CConfig(num_envs=8, unroll_length=20, num_updates=3), run=RunConfig(seeds=1)).validate()
env, env_params = make_env(cfg.env)
v_init, v_chunk = compile_train(cfg, env, env_params, build_network(cfg, env, env_params))
state, metrics = v_chunk(v_init(seed_keys(cfg)), 3)
out["params"] = np.concatenate([np.ravel(x) for x in jax.tree_util.tree_leaves(state.params)])
out["reward"] = np.asarray(metrics["reward_per_step"])
np.savez(sys.argv[1], **{k: np.asarray(v) for k, v in out.items()})
"""


def _run(tmp_path, stock: bool) -> dict:
    path = tmp_path / f"{'stock' if stock else 'neurorl'}.npz"
    env = {**os.environ, "NEURORL_STOCK_THREEFRY": "1" if stock else "0", "JAX_PLATFORMS": "cpu"}
    subprocess.run([sys.executable, "-c", PROBE, str(path)], check=True, env=env, timeout=300)
    return dict(np.load(path))


def test_straight_line_threefry_gives_the_stock_bits(tmp_path):
    ours, stock = _run(tmp_path, stock=False), _run(tmp_path, stock=True)
    # The switch really changes the program: jax's CPU lowering loops over rounds, ours does not.
    assert bool(stock["has_loop"]) and not bool(ours["has_loop"])
    for name in ("uniform", "split", "categorical", "bernoulli", "params", "reward"):
        np.testing.assert_array_equal(ours[name], stock[name], err_msg=name)
