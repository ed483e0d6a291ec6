"""Build the typed schema from a plain mapping, checking every value.

Errors are one line: ``<key>=<value>: <what is allowed>``.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Callable, Mapping
from typing import Any, Literal, TypeVar, get_args, get_origin

from conf.errors import ConfigError
from conf.schema import MEAN_STRATEGIES, SITE_DP_STRATEGIES, ExperimentConfig

T = TypeVar("T")

_BOUNDS = {"gt": (">", float.__gt__), "ge": (">=", float.__ge__),
           "lt": ("<", float.__lt__), "le": ("<=", float.__le__)}


def validate(raw: Mapping[str, Any]) -> ExperimentConfig:
    """Validate a composed config (Hydra's, or one rebuilt from a run_config)."""
    cfg = build(ExperimentConfig, raw, "")
    if cfg.min_sites > cfg.sites:
        raise ConfigError(
            f"min_sites={cfg.min_sites}: must be <= sites ({cfg.sites}); lower min_sites "
            "or raise sites"
        )
    _check_combinations(cfg)
    return cfg


def _check_combinations(cfg: ExperimentConfig) -> None:
    """Settings that are each valid but do not work together."""
    _check_synthetic(cfg)
    strategy, client = cfg.strategy.name, cfg.privacy.client
    malicious = cfg.strategy.num_malicious_nodes
    if strategy == "krum" and malicious and cfg.sites - malicious - 2 < 1:
        raise ConfigError(
            f"strategy.num_malicious_nodes={malicious}: Krum scores each update against "
            f"sites - {malicious} - 2 others, and sites={cfg.sites} leaves none; at most "
            f"{max(cfg.sites - 3, 0)}")
    if cfg.secure and strategy not in MEAN_STRATEGIES:
        raise ConfigError(
            f"strategy={strategy}: needs every site's update in the clear, but "
            f"secagg={cfg.secagg.name} reveals only their weighted sum; use one of "
            f"{', '.join(MEAN_STRATEGIES)}, or secagg=none")
    if not cfg.privacy.site_level:
        return
    if strategy not in SITE_DP_STRATEGIES:
        raise ConfigError(
            f"strategy={strategy}: privacy={cfg.privacy.name} adds noise calibrated to the mean "
            f"of clipped updates, which {strategy} does not release; use one of "
            f"{', '.join(SITE_DP_STRATEGIES)}")
    if client.delta >= 1 / cfg.sites:
        raise ConfigError(
            f"privacy.client.delta={client.delta:g}: must be below 1/sites ({1 / cfg.sites:g}) "
            "for a meaningful site-level guarantee; lower it")
    if cfg.secure and cfg.secagg.clipping_range < client.clipping_norm:
        raise ConfigError(
            f"secagg.clipping_range={cfg.secagg.clipping_range:g}: must be >= "
            f"privacy.client.clipping_norm={client.clipping_norm:g} (one coordinate of a "
            "clipped update can reach the norm); raise secagg.clipping_range")


def _check_synthetic(cfg: ExperimentConfig) -> None:
    """Federated publication and warm start (docs/synthetic-federated.md)."""
    syn, privacy = cfg.synthetic, cfg.privacy
    if syn.warm_start and not syn.publish:
        raise ConfigError("synthetic.warm_start=true: needs synthetic.publish=true (the warm "
                          "start trains on the sites' pooled synthetic tables)")
    if not syn.publish:
        return
    if syn.warm_start and cfg.private and not syn.private:
        raise ConfigError(
            f"synthetic.warm_start=true: this run claims record-level DP "
            f"(privacy={privacy.name}), but synthetic.synthesizer={syn.synthesizer} is not DP, "
            "so a model trained on its tables would carry real-row information outside every "
            "ε; use synthetic.synthesizer=dp_mst or synthetic.warm_start=false")
    if syn.warm_start and privacy.site_level:
        raise ConfigError(
            f"synthetic.warm_start=true: privacy={privacy.name}'s site-level ε covers the "
            "rounds' noisy aggregates only, and a model trained on each site's own synthetic "
            "table depends on a whole site's data outside it; use synthetic.warm_start=false "
            "or privacy=dp_sgd")
    label = [cfg.task.label.name] if cfg.task.label else []
    if "site" in [spec.name for spec in cfg.task.features] + label:
        raise ConfigError("task.features: a column is named 'site', which the pooled "
                          "synthetic table uses for provenance; rename the column")
    if not syn.private:
        return
    if privacy.accountant != "rdp":
        raise ConfigError(
            f"privacy.accountant={privacy.accountant}: synthetic.synthesizer=dp_mst is "
            "accounted as zCDP, which only the rdp accountant composes exactly with DP-SGD; "
            "use privacy.accountant=rdp")
    if privacy.record_level and syn.epsilon >= privacy.epsilon:
        raise ConfigError(
            f"synthetic.epsilon={syn.epsilon:g}: must be below privacy.epsilon="
            f"{privacy.epsilon:g} (the synthesis is part of each site's ε for this run; "
            "DP-SGD gets what is left); lower synthetic.epsilon or raise privacy.epsilon")


def build(cls: type[T], raw: Any, prefix: str,
          spell: Callable[[str], str] = str) -> T:
    """Build dataclass ``cls`` from ``raw``, rejecting unknown keys and bad values;
    ``spell`` gives the name an error uses for a field (the node config's kebab case)."""
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{prefix or 'config'}={raw!r}: must be a mapping of keys to values")
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(raw) - set(fields))
    if unknown:
        raise ConfigError(
            f"{_key(prefix, unknown[0])}: unknown key; allowed keys are {', '.join(fields)}"
        )
    values = {}
    for name, f in fields.items():
        key = _key(prefix, spell(name))
        if name not in raw:
            if not _has_default(f):
                raise _missing(key)
            continue
        value = _convert(raw[name], hints[name], key)
        _check_bounds(value, f.metadata, key)
        values[name] = value
    return cls(**values)


def _missing(key: str) -> ConfigError:
    return ConfigError(f"{key}: missing; give it a value ({key}=... on the command line or in "
                       "a config file)")


def _key(prefix: str, name: str) -> str:
    return f"{prefix}.{name}" if prefix else name


def _has_default(f: dataclasses.Field) -> bool:
    return f.default is not dataclasses.MISSING or f.default_factory is not dataclasses.MISSING


def _allows_none(tp: Any) -> bool:
    return type(None) in get_args(tp)


def _convert(value: Any, tp: Any, key: str) -> Any:
    """Convert ``value`` to annotation ``tp`` or raise a one-line ConfigError."""
    if value == "???":
        raise _missing(key)
    origin = get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        options = [a for a in get_args(tp) if a is not type(None)]
        if value is None:
            if _allows_none(tp):
                return None
            raise _missing(key)
        return _convert(value, options[0], key)
    if value is None:
        raise _missing(key)
    if origin is Literal:
        allowed = get_args(tp)
        if value not in allowed:
            raise ConfigError(f"{key}={value!r}: unknown; allowed: {', '.join(map(str, allowed))}")
        return value
    if origin is tuple:
        item_type = get_args(tp)[0]
        if isinstance(value, str | bytes) or not isinstance(value, typing.Sequence):
            raise ConfigError(f"{key}={value!r}: must be a list")
        return tuple(_convert(v, item_type, f"{key}[{i}]") for i, v in enumerate(value))
    if dataclasses.is_dataclass(tp):
        return build(tp, value, key)
    return _convert_scalar(value, tp, key)


def _convert_scalar(value: Any, tp: type, key: str) -> Any:
    if tp is bool:
        if isinstance(value, bool):
            return value
        raise ConfigError(f"{key}={value!r}: must be true or false")
    if tp is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        raise ConfigError(f"{key}={value!r}: must be a whole number")
    if tp is float:
        if isinstance(value, int | float) and not isinstance(value, bool):
            number = float(value)
            if number != number or number in (float("inf"), float("-inf")):
                raise ConfigError(f"{key}={value!r}: must be a finite number")
            return number
        raise ConfigError(f"{key}={value!r}: must be a number")
    if tp is str:
        if isinstance(value, str) and value:
            return value
        if isinstance(value, int | float) and not isinstance(value, bool):
            return str(value)
        raise ConfigError(f"{key}={value!r}: must be a non-empty string")
    raise TypeError(f"schema type {tp!r} of {key} is not supported")


def _bound(value: float) -> str:
    """A bound as written: integers whole (4294967295, not 4.29497e+09)."""
    return str(value) if isinstance(value, int) else f"{value:g}"


def _check_bounds(value: Any, metadata: Mapping[str, Any], key: str) -> None:
    if value is None or not metadata:
        return
    broken = [
        name for name, (symbol, holds) in _BOUNDS.items()
        if name in metadata and not holds(float(value), float(metadata[name]))
    ]
    if broken:
        allowed = " and ".join(
            f"{symbol} {_bound(metadata[name])}" for name, (symbol, _) in _BOUNDS.items()
            if name in metadata
        )
        raise ConfigError(f"{key}={value!r}: out of range; must be {allowed}")
