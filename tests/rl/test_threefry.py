"""neurorl's straight-line Threefry lowering on CPU changes the program, never the numbers.

Both sides run in fresh interpreters (jax caches lowered programs): one with the switch working,
one with jax's stock CPU lowering forced (NEURORL_STOCK_THREEFRY=1). The training run goes through
``compile_train``, which lowers its program inside the switch.
"""

import os
import subprocess
import sys

import numpy as np

PROBE = r"""
import sys
import jax, jax.numpy as jnp, numpy as np
from neurorl.rl.a2c import compile_train, compile_train_batched, hyperparams, seed_keys, stack_hyperparams
from neurorl.rl.config import A2CConfig, EnvConfig, RunConfig, TrainConfig
from neurorl.rl.trainer import build_network, make_env
from neurorl.utils.threefry import straight_line_threefry

key = jax.random.PRNGKey(7)
draw = jax.jit(lambda k: jax.random.uniform(k, (4,)))
with straight_line_threefry():
    has_loop = "while" in draw.lower(key).as_text()
out = {
    "has_loop": np.array(has_loop),
    "loop_outside_switch": np.array("while" in jax.jit(lambda k: jax.random.normal(k, (4,))).lower(key).as_text()),
}
with straight_line_threefry():  # fresh functions: jax lowers at the first call, inside the switch
    out["uniform"] = jax.jit(lambda k: jax.random.uniform(k, (1000,)))(key)
    out["split"] = jax.jit(lambda k: jax.random.split(k, 17))(key)
    logits = jnp.log(jnp.array([0.2, 0.3, 0.5]))
    out["categorical"] = jax.jit(lambda k: jax.random.categorical(k, logits, shape=(500,)))(key)
    out["bernoulli"] = jax.jit(lambda k: jax.random.bernoulli(k, 0.3, (300,)))(key)
# A short A2C run of the bandit task: sampling, environment draws and the gradient, end to end.
cfg = TrainConfig(env=EnvConfig(id="neurorl/Bandit-independent-v0"),
                  a2c=A2CConfig(num_envs=8, unroll_length=20, num_updates=3), run=RunConfig(seeds=1)).validate()
env, env_params = make_env(cfg.env)
net = build_network(cfg, env, env_params)
v_init, v_chunk = compile_train(cfg, env, env_params, net)
state, metrics = v_chunk(v_init(seed_keys(cfg)), 3)
b_init, b_chunk = compile_train_batched(cfg, env, env_params, net)
hps = stack_hyperparams([hyperparams(cfg)])
out["train_loops"] = np.array(b_chunk.lower(b_init(seed_keys(cfg), hps), hps, 3).as_text().count("stablehlo.while"))
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
    # The switch really changes the program: jax's CPU lowering loops over rounds, ours does not;
    # outside the switch (and with NEURORL_STOCK_THREEFRY=1) programs keep jax's loop.
    assert bool(stock["has_loop"]) and not bool(ours["has_loop"])
    assert bool(ours["loop_outside_switch"]) and bool(stock["loop_outside_switch"])
    # ... and the trainer's program is lowered inside the switch: only its own scans are loops.
    assert int(ours["train_loops"]) < int(stock["train_loops"])
    for name in ("uniform", "split", "categorical", "bernoulli", "params", "reward"):
        np.testing.assert_array_equal(ours[name], stock[name], err_msg=name)
