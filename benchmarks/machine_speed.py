"""Two fixed probes of how fast this machine is right now, printed beside benchmark results.

    python benchmarks/machine_speed.py [--json]

The team's VM changes speed by up to 2x within an hour with no code change and no other process
(docs/benchmarks.md, hippocampus section, session 7). A timing is only comparable with another one
taken when these probes read about the same, so the hippocampus and bandit benchmarks record them
before and after their runs:

* ``memory_ms``: 100 cycles of the four dense matrix-vector products of one hippocampus training cycle
  (ECin -> DG, ECin -> CA3, CA3 -> CA3, CA3 -> CA1: 1.5 MB of float32 weights, more than a core's 1 MB
  of L2, as in the model), each output feeding the next cycle. Bound by memory traffic, like the
  hippocampus training program.
* ``compute_ms``: 100 steps of a 64 x 48 LSTM-sized recurrence (a 64 x 96 by 96 x 192 product and its
  gates), forward and backward, the shape that bounds the bandit trainer.

Both are the best of ``repeats`` calls after compilation, in milliseconds per call (lower = faster).
"""

from __future__ import annotations

import argparse
import json
import os
import time

import numpy as np

# hippocampus projection shapes [senders, receivers] of the four dense products (hippocampus.md §2.2)
DENSE_SHAPES = ((144, 625), (144, 300), (300, 300), (300, 480))


def _best_ms(fn, args, repeats: int, calls: int = 10) -> float:
    import jax

    jax.block_until_ready(fn(*args))  # compile
    best = float("inf")
    for _ in range(repeats):
        t = time.perf_counter()
        for _ in range(calls):
            jax.block_until_ready(fn(*args))
        best = min(best, (time.perf_counter() - t) / calls)
    return round(1e3 * best, 3)


def memory_probe(repeats: int = 7) -> float:
    import jax
    import jax.numpy as jnp

    rng = np.random.default_rng(0)
    weights = [jnp.asarray(rng.random(s, dtype=np.float32) / s[0]) for s in DENSE_SHAPES]

    @jax.jit
    def run(weights, ecin, ca3):
        def cycle(carry, _):
            ecin, ca3 = carry
            dg = ecin @ weights[0]
            ca3_in = ecin @ weights[1] + ca3 @ weights[2]
            ca1 = ca3 @ weights[3]
            return (jnp.tanh(ecin + dg[:144] + ca1[:144]), jnp.tanh(ca3_in)), None

        (ecin, ca3), _ = jax.lax.scan(cycle, (ecin, ca3), None, length=100)
        return ecin.sum() + ca3.sum()

    x = jnp.asarray(rng.random(300, dtype=np.float32))
    return _best_ms(run, (weights, x[:144], x), repeats)


def compute_probe(repeats: int = 7) -> float:
    import jax
    import jax.numpy as jnp

    rng = np.random.default_rng(1)
    w = jnp.asarray(rng.normal(0, 0.1, (96, 192)).astype(np.float32))
    xs = jnp.asarray(rng.normal(0, 1, (100, 64, 48)).astype(np.float32))

    def loss(w, xs):
        def step(carry, x):
            h, c = carry
            z = jnp.concatenate([x, h], -1) @ w
            i, f, g, o = jnp.split(z, 4, -1)
            c = jax.nn.sigmoid(f) * c + jax.nn.sigmoid(i) * jnp.tanh(g)
            h = jax.nn.sigmoid(o) * jnp.tanh(c)
            return (h, c), h.sum()

        zeros = jnp.zeros((64, 48), jnp.float32)
        _, out = jax.lax.scan(step, (zeros, zeros), xs)
        return out.sum()

    return _best_ms(jax.jit(jax.grad(loss)), (w, xs), repeats)


def probe(repeats: int = 7) -> dict:
    """Both probes and the load average (1 min) when they ran."""
    return {"memory_ms": memory_probe(repeats), "compute_ms": compute_probe(repeats),
            "load": round(os.getloadavg()[0], 2), "utc": time.strftime("%H:%M:%S", time.gmtime())}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    out = probe(args.repeats)
    if args.json:
        print(json.dumps(out))
    else:
        print(f"memory probe {out['memory_ms']:.2f} ms, compute probe {out['compute_ms']:.2f} ms "
              f"(lower is faster; load {out['load']}, {out['utc']} UTC)")


if __name__ == "__main__":
    main()
