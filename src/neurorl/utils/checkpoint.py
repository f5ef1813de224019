"""Checkpoints: a pytree of arrays plus JSON metadata (config, versions, git revision), one file, atomic.

Format: a msgpack document (flax.serialization) ``{"tree": <state dict>, "meta": <json string>}``.
Loading needs a template pytree only to restore exact container types; without one the plain
nested-dict form is returned, which is what shipped agents use.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np
from flax import serialization

from neurorl.utils.atomic import atomic_write_bytes, to_jsonable
from neurorl.utils.provenance import provenance


def save_checkpoint(path: str | os.PathLike, tree: Any, meta: dict | None = None) -> Path:
    """Write ``tree`` (any pytree of arrays) and ``meta`` atomically. Provenance is added to meta."""
    meta = dict(meta or {})
    meta.setdefault("provenance", provenance())
    state = serialization.to_state_dict(_to_numpy(tree))
    payload = {"tree": state, "meta": json.dumps(to_jsonable(meta))}
    return atomic_write_bytes(path, serialization.msgpack_serialize(payload))


def load_checkpoint(path: str | os.PathLike, template: Any = None) -> tuple[Any, dict]:
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"no checkpoint at {path}")
    try:
        payload = serialization.msgpack_restore(path.read_bytes())
    except Exception as e:  # corrupt or not a checkpoint
        raise ValueError(f"{path} is not a readable neurorl checkpoint: {e}") from e
    if not isinstance(payload, dict) or "tree" not in payload or "meta" not in payload:
        raise ValueError(f"{path} is not a neurorl checkpoint (expected keys 'tree' and 'meta')")
    tree = payload["tree"]
    if template is not None:
        tree = serialization.from_state_dict(template, tree)
    return tree, json.loads(payload["meta"])


def _to_numpy(tree: Any) -> Any:
    import jax

    return jax.tree_util.tree_map(lambda x: np.asarray(x) if hasattr(x, "shape") or np.isscalar(x) else x, tree)
