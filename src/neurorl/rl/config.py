"""Configuration of a meta-RL training run (typed, frozen; override with --config.section.key=value).

Defaults are the meta-RL bandit setting (meta_rl.md §2.2, §7, §8.3) with the original's
defects removed (§9.2): n-step/GAE advantages instead of a 1-step TD error, a learning-rate
schedule that spans the whole run, gradient clipping *before* the optimiser, one PRNG stream
per seed and per environment, and an entropy bonus.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from typing import Literal

from neurorl.utils.config import ConfigError


def _json_object(text: str, key: str, example: str) -> dict:
    """A config value that holds a JSON object, parsed; a ConfigError naming ``key`` otherwise."""
    try:
        value = json.loads(text)
    except json.JSONDecodeError as e:
        raise ConfigError(f"{key} must be a JSON object, e.g. '{example}': {e}") from None
    if not isinstance(value, dict):
        raise ConfigError(f"{key} must be a JSON object, e.g. '{example}'")
    return value


@dataclass(frozen=True)
class EnvConfig:
    id: str = "neurorl/Bandit-independent-v0"
    params: str = "{}"  # JSON object of environment parameter overrides, e.g. '{"num_arms": 5}'

    def params_dict(self) -> dict:
        return _json_object(self.params, "env.params", '{"num_arms": 5}')


@dataclass(frozen=True)
class AgentConfig:
    core: Literal["lstm", "gru", "stacked_lstm"] = "lstm"
    num_lstm_units: int = 48  # meta_rl.md §0: LSTM 48 for bandits and two-step
    encoder: Literal["none", "mlp", "conv", "patchconv", "halves"] = "none"
    encoder_options: str = "{}"  # JSON object of encoder arguments, e.g. '{"side_code": 8}'
    random_seed: int = 42  # base seed; seed i of a multi-seed run uses random_seed + i

    def encoder_kwargs(self) -> tuple:
        """``encoder_options`` as sorted (name, value) pairs (hashable, as flax module fields must be)."""
        value = _json_object(self.encoder_options, "agent.encoder_options", '{"side_code": 8}')
        return tuple(sorted((k, tuple(v) if isinstance(v, list) else v) for k, v in value.items()))


@dataclass(frozen=True)
class OptimConfig:
    optimizer: Literal["adam", "rmsprop"] = "adam"
    learning_rate: float = 1e-3  # meta_rl.md §8.3 anchor: Adam 1e-3
    learning_rate_end: float = 1e-4  # schedule end value, reached at the LAST update (not halfway, cf. §2.4)
    schedule: Literal["constant", "linear", "cosine"] = "linear"
    max_grad_norm: float = 1.0  # clip by global norm BEFORE the optimiser (§2.4 quirk fixed)
    eps: float = 1e-5


@dataclass(frozen=True)
class A2CConfig:
    num_envs: int = 64  # episodes stepped in parallel (the original's workers, as a vmapped batch)
    unroll_length: int = 100  # BPTT truncation; 100 = one bandit episode
    num_updates: int = 8000
    gamma: float = 0.9  # meta_rl.md §2.2 / §7
    gae_lambda: float = 1.0  # 1.0: n-step returns to the end of the unroll (§8.3)
    value_coef: float = 0.05  # β_v, §2.2
    entropy_start: float = 0.05  # β_e annealed linearly (§8.3, §1.2)
    entropy_end: float = 0.0
    entropy_fraction: float = 1.0  # fraction of the run over which β_e anneals
    normalize_advantages: bool = False


SEED_LAYOUTS = ("vmap", "sequential")


@dataclass(frozen=True)
class RunConfig:
    seeds: int = 1  # seeds trained in one run
    # "vmap": the seeds are rows of one program (one call per chunk for all of them); "sequential": one call of the
    # one-seed program per seed and chunk. Sequential gives each seed exactly the weights of a one-seed run with that
    # seed, and is faster where one seed already fills the machine (pixel Harlow: 15-20 %, docs/benchmarks.md)
    seed_layout: str = "vmap"
    chunk_updates: int = 250  # updates per compiled call: progress/metrics/checkpoint granularity
    eval_every_updates: int = 1000  # the original's periodic "evaluator" (§2.5)
    eval_episodes: int = 400
    tensorboard: bool = False


@dataclass(frozen=True)
class TrainConfig:
    name: str = "custom"
    family: str = "generic"  # task family: selects the evaluator and figures ("bandit", "harlow", "two-step", ...)
    env: EnvConfig = field(default_factory=EnvConfig)
    agent: AgentConfig = field(default_factory=AgentConfig)
    optim: OptimConfig = field(default_factory=OptimConfig)
    a2c: A2CConfig = field(default_factory=A2CConfig)
    run: RunConfig = field(default_factory=RunConfig)

    def validate(self) -> "TrainConfig":
        a, o, r = self.a2c, self.optim, self.run
        checks = [
            (a.num_envs >= 1, "a2c.num_envs must be >= 1"),
            (a.unroll_length >= 1, "a2c.unroll_length must be >= 1"),
            (a.num_updates >= 1, "a2c.num_updates must be >= 1"),
            (0.0 <= a.gamma <= 1.0, "a2c.gamma must be in [0, 1]"),
            (0.0 <= a.gae_lambda <= 1.0, "a2c.gae_lambda must be in [0, 1]"),
            (a.value_coef >= 0 and a.entropy_start >= 0 and a.entropy_end >= 0, "loss coefficients must be >= 0"),
            (0.0 < a.entropy_fraction <= 1.0, "a2c.entropy_fraction must be in (0, 1]"),
            (o.learning_rate > 0 and o.learning_rate_end >= 0, "learning rates must be positive"),
            (o.max_grad_norm > 0, "optim.max_grad_norm must be > 0"),
            (self.agent.num_lstm_units >= 1, "agent.num_lstm_units must be >= 1"),
            (r.seeds >= 1, "run.seeds must be >= 1"),
            (r.seed_layout in SEED_LAYOUTS, f"run.seed_layout must be one of {SEED_LAYOUTS}, got {r.seed_layout!r}"),
            (r.chunk_updates >= 1, "run.chunk_updates must be >= 1"),
            (r.eval_every_updates >= 0 and r.eval_episodes >= 1, "run.eval_* must be positive"),
        ]
        for ok, msg in checks:
            if not ok:
                raise ConfigError(msg)
        self.env.params_dict()
        self.agent.encoder_kwargs()
        return self

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "TrainConfig":
        return cls(
            name=d.get("name", "custom"),
            family=d.get("family", "generic"),
            env=EnvConfig(**d.get("env", {})),
            agent=AgentConfig(**d.get("agent", {})),
            optim=OptimConfig(**d.get("optim", {})),
            a2c=A2CConfig(**d.get("a2c", {})),
            run=RunConfig(**d.get("run", {})),
        )
