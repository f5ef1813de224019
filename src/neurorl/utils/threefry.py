"""Straight-line (unrolled) Threefry on CPU for the training programs: the same random bits, far
fewer XLA operations per draw.

jax 0.10.2 lowers its default PRNG, Threefry-2x32, differently per platform: on GPU as 20 rounds
in straight-line code, on CPU as a ``fori_loop`` over the 5 groups of 4 rounds (smaller programs,
faster compilation). Inside the A2C training program every environment step draws random numbers
(action sampling, per-environment key splits, rewards, auto-reset draws), so each step ran several
of these little loops: about 100 tiny XLA operations per step, each paying the CPU runtime's
per-operation cost (1-3 µs on the 2-core machine of docs/benchmarks.md). Profiled on the bandit
A2C program (64 environments, LSTM 48), they took about a third of the time.

Inside ``with straight_line_threefry():`` programs lowered for CPU use jax's own straight-line
lowering (the GPU one). It computes the identical function, so every random number and trained
weight is bit-for-bit what the stock lowering gives (tests/rl/test_threefry.py checks draws and a
short training run against the stock lowering); only speed and program size change.

It is a scoped switch, not a global one, because straight-line rounds can also be slower: XLA fuses
the rounds' elementwise ops into their consumers and recomputes them per consumer element. With
gymnax's auto-reset, the pixel Harlow environment used to select between two observations over every
pixel, with a per-episode draw feeding that select, and the environment alone ran 3.4x slower under
the straight-line rounds (docs/benchmarks.md, "Session 6: straight-line Threefry in the training
program"). The trainer's programs, where the gain was measured, are lowered inside the switch
(``neurorl.rl.a2c.compile_train_batched``); everything else, including users' own JAX code in the
same process, keeps jax's stock lowering. ``NEURORL_STOCK_THREEFRY=1`` disables the switch (for
comparisons). If a future jax moves the private names used here, the switch does nothing.
"""

from __future__ import annotations

import contextlib
import contextvars
import os
from functools import partial

_active = contextvars.ContextVar("neurorl_straight_line_threefry", default=False)
_installed: bool | None = None  # None: not tried yet


def _install() -> bool:
    """Register a CPU lowering rule for threefry2x32 that follows the switch (once per process)."""
    global _installed
    if _installed is None:
        try:
            from jax._src.interpreters import mlir
            from jax._src.random import threefry2x32 as tf

            stock = tf._threefry2x32_cpu_lowering_rule  # the rolled loop jax registers for CPU
            straight = mlir.lower_fun(partial(tf._threefry2x32_lowering, use_rolled_loops=False),
                                      multiple_results=True)

            def rule(ctx, *args, **kwargs):
                return (straight if _active.get() else stock)(ctx, *args, **kwargs)

            mlir.register_lowering(tf.threefry2x32_p, rule, platform="cpu")
            _installed = True
        except (ImportError, AttributeError, TypeError):  # private jax API moved: stock lowering only
            _installed = False
    return _installed


@contextlib.contextmanager
def straight_line_threefry():
    """Programs first called (traced and lowered) inside this block use straight-line Threefry on CPU.

    Wrap the *call* of a jitted function, not its creation: jax lowers at the first call.
    """
    if os.environ.get("NEURORL_STOCK_THREEFRY", "") not in ("", "0") or not _install():
        yield
        return
    token = _active.set(True)
    try:
        yield
    finally:
        _active.reset(token)


def _inside_switch(method):
    def call(*args, **kwargs):
        with straight_line_threefry():
            return method(*args, **kwargs)

    return call


def lowered_with_straight_line_threefry(fn):
    """``fn`` (a jitted function) whose calls, and jit's ahead-of-time ``lower``/``trace``, lower inside
    :func:`straight_line_threefry`."""
    call = _inside_switch(fn)
    call.__wrapped__ = fn
    call.__doc__ = fn.__doc__
    for attr in ("lower", "trace"):
        if hasattr(fn, attr):
            setattr(call, attr, _inside_switch(getattr(fn, attr)))
    return call
