"""neurorl: brain-inspired learning experiments, reproduced fast in JAX.

Subpackages (data flows down, imports point down):
  cli, server        entry points
  experiments        named reproductions (preset -> run -> metrics -> figures -> report)
  rl, hippocampus, follow
  agents, envs, baselines, analysis
"""

__version__ = "0.1.0"

from neurorl.utils.threefry import use_unrolled_threefry_on_cpu as _use_unrolled_threefry_on_cpu

# Same random bits as jax's stock CPU lowering, a fraction of the XLA operations per draw
# (neurorl/utils/threefry.py; NEURORL_STOCK_THREEFRY=1 turns it off).
_use_unrolled_threefry_on_cpu()
