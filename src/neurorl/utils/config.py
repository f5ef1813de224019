"""Typed, frozen dataclass configs with command-line overrides.

Overrides use dotted paths into the nested dataclass, in any of these spellings (the first is the
form of the original meta-rl project, ../shared/reference/meta_rl.md §2.1)::

    --config.agent.random_seed=42      config.agent.random_seed=42      agent.random_seed=42

Values are parsed by the field's declared type; unknown keys and unparsable values raise
``ConfigError`` naming what was expected. Nothing is coerced silently.
"""

from __future__ import annotations

import dataclasses
import math
import types
import typing
from typing import Any, Iterable


class ConfigError(ValueError):
    pass


def _field_map(cfg: Any) -> dict[str, dataclasses.Field]:
    return {f.name: f for f in dataclasses.fields(cfg)}


def config_keys(cfg: Any, prefix: str = "") -> list[str]:
    """All dotted keys of a nested dataclass config (for error messages and --help)."""
    keys = []
    for f in dataclasses.fields(cfg):
        v = getattr(cfg, f.name)
        if dataclasses.is_dataclass(v):
            keys += config_keys(v, f"{prefix}{f.name}.")
        else:
            keys.append(prefix + f.name)
    return keys


def parse_value(text: str, tp: Any, key: str) -> Any:
    """Parse ``text`` as type ``tp`` (int, float, bool, str, Literal, Optional, tuple[...])."""
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin in (typing.Union, types.UnionType):
        if text.lower() in ("none", "null") and type(None) in args:
            return None
        errors = []
        for a in args:
            if a is type(None):
                continue
            try:
                return parse_value(text, a, key)
            except ConfigError as e:
                errors.append(str(e))
        raise ConfigError("; ".join(errors))
    if origin is typing.Literal:
        for a in args:
            if str(a) == text:
                return a
        raise ConfigError(f"{key}: expected one of {list(args)}, got {text!r}")
    if origin in (tuple, list):
        parts = [p for p in text.strip("()[] ").split(",") if p.strip() != ""]
        if origin is tuple and len(args) == 2 and args[1] is Ellipsis:
            return tuple(parse_value(p.strip(), args[0], key) for p in parts)
        if origin is tuple and args:
            if len(parts) != len(args):
                raise ConfigError(f"{key}: expected {len(args)} comma-separated values, got {text!r}")
            return tuple(parse_value(p.strip(), a, key) for p, a in zip(parts, args))
        inner = args[0] if args else str
        return origin(parse_value(p.strip(), inner, key) for p in parts)
    if tp is bool:
        low = text.lower()
        if low in ("1", "true", "yes", "on"):
            return True
        if low in ("0", "false", "no", "off"):
            return False
        raise ConfigError(f"{key}: expected a boolean (true/false), got {text!r}")
    if tp is int:
        try:
            f = float(text)
        except ValueError:
            raise ConfigError(f"{key}: expected an integer, got {text!r}") from None
        if not f.is_integer():
            raise ConfigError(f"{key}: expected an integer, got {text!r}")
        return int(f)
    if tp is float:
        try:
            v = float(text)
        except ValueError:
            raise ConfigError(f"{key}: expected a number, got {text!r}") from None
        if math.isnan(v):
            raise ConfigError(f"{key}: NaN is not allowed")
        return v
    if tp is str:
        return text
    raise ConfigError(f"{key}: cannot parse values of type {tp}")


def _normalise_key(key: str) -> str:
    key = key.lstrip("-")
    if key.startswith("config."):
        key = key[len("config."):]
    return key.replace("-", "_")


def _split_key(cfg: Any, key: str) -> tuple[str, str]:
    """First component of a dotted key, checked against ``cfg``'s fields (and that it is a section if more follows)."""
    head, _, rest = key.partition(".")
    if head not in _field_map(cfg):
        raise ConfigError(f"unknown config key {key!r}; valid keys: {', '.join(config_keys(cfg))}")
    if rest and not dataclasses.is_dataclass(getattr(cfg, head)):
        raise ConfigError(f"{head!r} is not a section; valid keys: {', '.join(config_keys(cfg))}")
    return head, rest


def set_path(cfg: Any, key: str, value: Any) -> Any:
    """Return a copy of ``cfg`` with the dotted ``key`` replaced by ``value`` (already typed)."""
    head, rest = _split_key(cfg, key)
    return dataclasses.replace(cfg, **{head: set_path(getattr(cfg, head), rest, value) if rest else value})


def _field_type(cfg: Any, key: str) -> Any:
    head, rest = _split_key(cfg, key)
    return _field_type(getattr(cfg, head), rest) if rest else typing.get_type_hints(type(cfg))[head]


def apply_overrides(cfg: Any, overrides: Iterable[str]) -> Any:
    """Apply ``key=value`` overrides (see module docstring). Returns a new config; validates it."""
    for item in overrides:
        if "=" not in item:
            raise ConfigError(f"{item!r} is not an option of this command, and a config override must look like "
                              "--config.section.key=value")
        raw_key, text = item.split("=", 1)
        key = _normalise_key(raw_key)
        cfg = set_path(cfg, key, parse_value(text, _field_type(cfg, key), key))
    validate = getattr(cfg, "validate", None)
    if callable(validate):
        validate()
    return cfg


def split_overrides(args: Iterable[str]) -> tuple[list[str], list[str]]:
    """Separate ``--config.x=y`` style tokens from other CLI tokens."""
    overrides, rest = [], []
    for a in args:
        (overrides if a.startswith("--config.") or a.startswith("config.") else rest).append(a)
    return overrides, rest
