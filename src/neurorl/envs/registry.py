"""One registry for every neurorl environment: ``neurorl.envs.make``, gymnax and Gymnasium.

Adding an environment is one call (e.g. at the bottom of ``neurorl/envs/__init__.py``)::

    register("neurorl/TwoStep-v0", TwoStepEnv, description="Daw two-step task (Wang 2018 Sim 4)")

``factory`` is a callable returning a gymnax ``Environment`` (a class works); ``defaults`` are keyword
arguments bound into it. The id then works in all three places:

* ``neurorl.envs.make(id, **kwargs) -> (env, env_params)``: keyword arguments that name a field of the
  env's params dataclass override ``env.default_params`` (validated by ``env.make_params`` /
  ``env.validate_params`` when the env has them); the rest go to the factory;
* ``gymnax.make(id, **ctor_kwargs)`` (gymnax 1.0.1 has ``gymnax.register``);
* ``gymnasium.make(id, **kwargs)``: our adapter, :class:`neurorl.envs.gymnasium_adapter.GymnaxToGymnasium`.
"""

from __future__ import annotations

import dataclasses
import functools
from dataclasses import dataclass, field
from typing import Any, Callable

import gymnasium
import gymnax

EnvFactory = Callable[..., Any]


@dataclass(frozen=True)
class EnvSpec:
    env_id: str
    factory: EnvFactory
    defaults: dict[str, Any] = field(default_factory=dict)
    description: str = ""


_REGISTRY: dict[str, EnvSpec] = {}


def register(
    env_id: str,
    factory: EnvFactory,
    *,
    description: str = "",
    gymnasium_register: bool = True,
    **defaults: Any,
) -> EnvSpec:
    """Register ``env_id`` with neurorl, gymnax and (by default) Gymnasium. Returns its spec."""
    if not isinstance(env_id, str) or not env_id:
        raise ValueError(f"env_id must be a non-empty string, got {env_id!r}")
    if not callable(factory):
        raise TypeError(f"factory for {env_id!r} must be callable, got {factory!r}")
    if env_id in _REGISTRY:
        raise ValueError(f"environment id {env_id!r} is already registered")
    spec = EnvSpec(env_id, factory, dict(defaults), description)
    _REGISTRY[env_id] = spec
    # gymnax's make passes its kwargs to the factory and returns (env, env.default_params)
    if env_id not in gymnax.registered_envs:
        gymnax.register(env_id, functools.partial(factory, **defaults) if defaults else factory)
    if gymnasium_register and env_id not in gymnasium.registry:
        gymnasium.register(
            id=env_id,
            entry_point="neurorl.envs.gymnasium_adapter:make_gymnasium_env",
            kwargs={"env_id": env_id},
            disable_env_checker=False,
        )
    return spec


def list_envs(prefix: str = "") -> list[str]:
    """Registered ids (optionally only those starting with ``prefix``), sorted."""
    return sorted(k for k in _REGISTRY if k.startswith(prefix))


def spec(env_id: str) -> EnvSpec:
    try:
        return _REGISTRY[env_id]
    except KeyError:
        raise ValueError(f"unknown environment id {env_id!r}; registered: {list_envs()}") from None


def make(env_id: str, **kwargs: Any) -> tuple[Any, Any]:
    """Build a registered environment: returns ``(env, env_params)``.

    Keyword arguments naming a field of the env's params dataclass override the defaults; the
    others are passed to the factory (e.g. ``num_arms``). Unknown names raise a ``ValueError``.
    """
    s = spec(env_id)
    probe = s.factory(**s.defaults) if kwargs else None
    param_fields = set(_param_fields(probe)) if probe is not None else set()
    param_kw = {k: v for k, v in kwargs.items() if k in param_fields}
    ctor_kw = {k: v for k, v in kwargs.items() if k not in param_fields}
    try:
        env = s.factory(**{**s.defaults, **ctor_kw})
    except TypeError as e:
        raise ValueError(
            f"bad arguments {sorted(ctor_kw)} for {env_id!r}: {e}. "
            f"Params fields: {sorted(param_fields)}"
        ) from None
    if hasattr(env, "make_params"):
        params = env.make_params(**param_kw)
    else:
        params = env.default_params.replace(**param_kw) if param_kw else env.default_params
        if hasattr(env, "validate_params"):
            env.validate_params(params)
    return env, params


def _param_fields(env: Any) -> list[str]:
    p = env.default_params
    return [f.name for f in dataclasses.fields(p)] if dataclasses.is_dataclass(p) else []
