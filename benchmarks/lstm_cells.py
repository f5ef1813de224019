"""LSTM cell layouts, forward + backward through time: is the fused gate array what limits the bandit trainer?

    python benchmarks/lstm_cells.py                 # 64 episodes x 100 steps, 48 units, best and median of 7

Times ``jax.grad`` through a ``lax.scan`` of 100 steps for four cells with the same maths: flax's
``OptimizedLSTMCell`` (the agent's; one product for the four gates, then slices), flax's ``LSTMCell`` (a
product per gate), and a hand-written four-gate cell with the parameter tree of ``LSTMCell`` (so shipped
agents would load unchanged) with the logistic sigmoid or its tanh form. Calls are interleaved, because the
machine is shared. Prints env steps per second (episodes x steps per call / time) and the largest gradient
difference between the hand-written cell and flax's ``LSTMCell`` on the same parameters.
"""

from __future__ import annotations

import argparse
import json
import time

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np


class FourGateLSTM(nn.Module):
    """flax ``LSTMCell``'s equations and parameter names (ii/if/ig/io without bias, hi/hf/hg/ho with bias)."""

    features: int
    tanh_sigmoid: bool = True

    @nn.compact
    def __call__(self, carry, x):
        c, h = carry
        sig = (lambda z: 0.5 * jnp.tanh(0.5 * z) + 0.5) if self.tanh_sigmoid else jax.nn.sigmoid

        def gate(name):
            return (nn.Dense(self.features, use_bias=False, name=f"i{name}")(x)
                    + nn.Dense(self.features, use_bias=True, name=f"h{name}")(h))

        i, f, g, o = sig(gate("i")), sig(gate("f")), jnp.tanh(gate("g")), sig(gate("o"))
        c = f * c + i * g
        h = o * jnp.tanh(c)
        return (c, h), h


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--steps", type=int, default=100)
    ap.add_argument("--inputs", type=int, default=5, help="input size (2 arms one-hot + reward + time + 1)")
    ap.add_argument("--units", type=int, default=48)
    ap.add_argument("--repeats", type=int, default=7)
    args = ap.parse_args()
    B, T, H = args.batch, args.steps, args.units

    cells = {"flax OptimizedLSTMCell": nn.OptimizedLSTMCell(H), "flax LSTMCell": nn.LSTMCell(H),
             "four gates, tanh sigmoid": FourGateLSTM(H), "four gates, sigmoid": FourGateLSTM(H, tanh_sigmoid=False)}
    rng = np.random.default_rng(0)
    xs = jnp.asarray(rng.normal(size=(T, B, args.inputs)).astype(np.float32))
    ws = jnp.asarray(rng.normal(size=(T, B, H)).astype(np.float32))
    c0 = (jnp.zeros((B, H)), jnp.zeros((B, H)))
    shared = nn.LSTMCell(H).init(jax.random.PRNGKey(0), c0, xs[0])  # one parameter tree for three of the cells
    params, grads = {}, {}
    for name, cell in cells.items():
        params[name] = cell.init(jax.random.PRNGKey(0), c0, xs[0]) if name == "flax OptimizedLSTMCell" else shared

        def loss(p, cell=cell):
            _, hs = jax.lax.scan(lambda c, x: cell.apply(p, c, x), c0, xs)
            return (hs * ws).sum()

        grads[name] = jax.jit(jax.grad(loss))
        jax.block_until_ready(grads[name](params[name]))
    diff = max(float(jnp.max(jnp.abs(a - b))) for a, b in zip(
        jax.tree_util.tree_leaves(grads["four gates, tanh sigmoid"](shared)),
        jax.tree_util.tree_leaves(grads["flax LSTMCell"](shared))))
    times = {k: [] for k in cells}
    for _ in range(args.repeats):
        for name, g in grads.items():
            t = time.perf_counter()
            jax.block_until_ready(g(params[name]))
            times[name].append(time.perf_counter() - t)
    out = {name: {"best_steps_per_s": round(B * T / min(v)), "median_steps_per_s": round(B * T / float(np.median(v)))}
           for name, v in times.items()}
    for name, r in out.items():
        print(f"{name:26s} {r['best_steps_per_s']:>10,} steps/s best  {r['median_steps_per_s']:>10,} median")
    print(f"largest gradient difference, four-gate cell vs flax LSTMCell: {diff:.1e}")
    print(json.dumps({"batch": B, "steps": T, "units": H, "cells": out, "max_grad_diff": diff}))


if __name__ == "__main__":
    main()
