"""Check ``privfl synth`` overrides before Hydra runs, so every mistake is one line.

Hydra reports composition errors over several lines; here the ``synth`` config is
composed with the compose API and validated, and any error becomes a one-line
ConfigError (as ``conf.precheck`` does for ``privfl simulate``).
"""

from __future__ import annotations

from pathlib import Path

from hydra import compose, initialize_config_dir, initialize_config_module
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.errors import HydraException
from omegaconf import OmegaConf
from omegaconf.errors import OmegaConfBaseException

from conf.errors import ConfigError
from conf.groups import check_group_overrides
from conf.synth_schema import SynthConfig, validate_synth


def precheck_synth(args: list[str]) -> SynthConfig:
    """The validated config the overrides ``args`` give; ConfigError (one line) if any is bad.

    Hydra's ``--config-dir DIR`` and ``--config-name NAME`` (a config of the site's own,
    e.g. one that declares its columns) are honoured as ``privfl synth`` will run them.
    """
    overrides, flags = _overrides(args)
    name = flags.get("--config-name", "synth")
    folder = None
    if "--config-dir" in flags:
        folder = Path(flags["--config-dir"]).resolve()
        if not folder.is_dir():
            raise ConfigError(f"--config-dir {flags['--config-dir']}: no such folder")
        overrides.append("hydra.searchpath=[pkg://conf]")
    if not any(o.startswith("hydra.searchpath") for o in overrides):
        check_group_overrides(overrides)
    parser = OverridesParser.create()
    for override in overrides:
        try:
            parsed = parser.parse_overrides([override])
        except HydraException as err:
            raise ConfigError(f"cannot parse {override!r}: {_one_line(err)}") from err
        if parsed[0].is_sweep_override():
            raise ConfigError(f"{override}: privfl synth runs one config; give one value")
    # Hydra's initialize_* set global state when constructed: construct only the one used
    initialize = (initialize_config_dir(config_dir=str(folder), version_base="1.3") if folder
                  else initialize_config_module(config_module="conf", version_base="1.3"))
    with initialize:
        try:
            raw = compose(name, overrides=[*overrides, "output_dir=."])
            plain = OmegaConf.to_container(raw, resolve=True)
        except (HydraException, OmegaConfBaseException) as err:
            raise ConfigError(_compose_message(err)) from err
    return validate_synth(plain)


_FLAGS_WITH_VALUE = {"--cfg": "--cfg", "-c": "--cfg", "--package": "--package",
                     "-p": "--package", "--config-dir": "--config-dir", "-cd": "--config-dir",
                     "--config-name": "--config-name", "-cn": "--config-name",
                     "--config-path": "--config-path", "-cp": "--config-path"}


def _overrides(args: list[str]) -> tuple[list[str], dict[str, str]]:
    """The key=value overrides among ``args``, and Hydra's flags with their values."""
    overrides: list[str] = []
    flags: dict[str, str] = {}
    pending = None
    for arg in args:
        if pending:
            flags[pending], pending = arg, None
        elif arg in ("-m", "--multirun"):
            raise ConfigError(f"{arg}: privfl synth runs one config (no sweeps)")
        elif arg.split("=", 1)[0] in _FLAGS_WITH_VALUE and arg.startswith("-"):
            flag = _FLAGS_WITH_VALUE[arg.split("=", 1)[0]]
            if "=" in arg:
                flags[flag] = arg.split("=", 1)[1]
            else:
                pending = flag
        elif not arg.startswith("-"):
            overrides.append(arg)
    if "--config-path" in flags:
        raise ConfigError("--config-path: not supported; use --config-dir DIR with "
                          "--config-name NAME for a config of your own")
    return overrides, flags


def _compose_message(err: Exception) -> str:
    message = _one_line(err)
    if message.startswith("Could not override '"):
        key = message.split("'")[1]
        return (f"{key}: no such key in this config; check the spelling, or choose the "
                "synthesizer that has it (e.g. synthesizer=ctgan for synthesizer.epochs)")
    return message


def _one_line(err: Exception) -> str:
    return "; ".join(line.strip() for line in str(err).splitlines() if line.strip())
