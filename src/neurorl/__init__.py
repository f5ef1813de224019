"""neurorl: brain-inspired learning experiments, reproduced fast in JAX.

Subpackages (data flows down, imports point down):
  cli, server        entry points
  experiments        named reproductions (preset -> run -> metrics -> figures -> report)
  rl, hippocampus, follow
  agents, envs, baselines, analysis
"""

__version__ = "0.1.0"
