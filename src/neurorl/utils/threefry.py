"""Straight-line (unrolled) Threefry on CPU: the same random bits, fewer XLA operations per draw.

jax 0.10.2 lowers its default PRNG, Threefry-2x32, differently per platform: on GPU as 20 rounds
in straight-line code, on CPU as a ``fori_loop`` over the 5 groups of 4 rounds (smaller programs,
faster compilation). Inside our training programs every environment step draws random numbers
(action sampling, per-environment key splits, Bernoulli rewards), so each step ran several of
these little loops: about 100 tiny XLA operations per step, each paying the CPU runtime's
per-operation cost (1-3 µs on the 2-core machine of docs/benchmarks.md). Profiled on the bandit
A2C program (64 environments, LSTM 48), they took about a third of the time.

:func:`use_unrolled_threefry_on_cpu` registers jax's own straight-line lowering (the GPU one)
for CPU too. It computes the identical function, so every random number, trained weight and
evaluation result is bit-for-bit what the stock lowering gives (tests/utils/test_threefry.py
checks draws and a short training run against a fresh interpreter with the stock lowering);
only speed and program size change (docs/benchmarks.md, "Straight-line Threefry").

It is applied when ``neurorl`` is imported. Set ``NEURORL_STOCK_THREEFRY=1`` to keep jax's
stock CPU lowering (for comparisons). If a future jax moves the private names used here, the
function leaves jax as it is and returns False.
"""

from __future__ import annotations

import os

_applied = False


def use_unrolled_threefry_on_cpu() -> bool:
    """Register the straight-line Threefry lowering for CPU. Returns True if it is in effect."""
    global _applied
    if _applied:
        return True
    if os.environ.get("NEURORL_STOCK_THREEFRY", "") not in ("", "0"):
        return False
    try:
        from jax._src.interpreters import mlir
        from jax._src.random import threefry2x32 as tf

        # The default (non-CPU) rule: straight-line rounds, emitted as one out-of-line function.
        mlir.register_lowering(tf.threefry2x32_p, tf._threefry2x32_lowering_rule, platform="cpu", inline=False)
    except (ImportError, AttributeError, TypeError):  # private jax API moved: keep the stock lowering
        return False
    _applied = True
    return True
