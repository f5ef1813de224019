"""Trained agents shipped inside the package (``src/neurorl/agents_zoo/<name>/``).

Each folder holds ``agent.ckpt`` (parameters, config, versions) and ``README.md`` with the exact
command and seed that produced it, so ``neurorl eval <name>`` works right after install.
"""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

from neurorl.utils.atomic import atomic_write_text

ZOO_DIR = Path(__file__).resolve().parent.parent / "agents_zoo"


def shipped_agents() -> list[str]:
    if not ZOO_DIR.exists():
        return []
    return sorted(p.name for p in ZOO_DIR.iterdir() if (p / "agent.ckpt").exists())


def resolve_agent(name_or_path: str) -> Path:
    """A shipped agent's name, a run folder, or a path to an ``agent.ckpt``."""
    p = Path(name_or_path)
    if p.exists():
        return p / "agent.ckpt" if p.is_dir() else p
    if (ZOO_DIR / name_or_path / "agent.ckpt").exists():
        return ZOO_DIR / name_or_path / "agent.ckpt"
    raise FileNotFoundError(
        f"no agent named {name_or_path!r}: expected a shipped agent ({', '.join(shipped_agents()) or 'none shipped'}), "
        "a run folder or a path to agent.ckpt"
    )


def export_agent(agent_ckpt: Path, dest: Path, seed_index: int, summary: dict, command: list[str] | None = None) -> Path:
    """Copy one seed of a trained agent into ``dest`` with a README recording how it was made."""
    import jax

    from neurorl.rl.trainer import load_agent, save_agent

    agent = load_agent(agent_ckpt)
    params = jax.tree_util.tree_map(lambda x: x[seed_index:seed_index + 1], agent.params)
    seed = agent.cfg.agent.random_seed + seed_index
    dest.mkdir(parents=True, exist_ok=True)
    save_agent(dest / "agent.ckpt", params, agent.cfg, {"trained_seed": seed, "summary": summary})
    cmd = " ".join(shlex.quote(c) for c in (command or ["neurorl"] + sys.argv[1:]))
    lines = [
        f"# {dest.name}",
        "",
        f"Trained agent for preset `{agent.cfg.name}` (family `{agent.cfg.family}`, env `{agent.cfg.env.id}`).",
        "",
        "Produced by the project's own command:",
        "",
        "```",
        cmd,
        "```",
        "",
        f"JAX PRNG seed of this agent: `{seed}` (agent.random_seed {agent.cfg.agent.random_seed} + seed index {seed_index}).",
        "",
        "Summary measured at export:",
        "",
    ] + [f"- {k}: {v}" for k, v in summary.items()]
    atomic_write_text(dest / "README.md", "\n".join(lines) + "\n")
    return dest
