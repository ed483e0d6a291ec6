"""What every launcher of a run does before the ServerApp starts (``privfl simulate``,
``privfl deploy run``): console logging, a fresh run directory, the resolved config and
manifest, and the one start line that names the privacy of the run."""

from __future__ import annotations

from pathlib import Path

from omegaconf import DictConfig, OmegaConf

from conf.errors import ConfigError
from conf.schema import ExperimentConfig
from privacy.site_level import SiteLevelPlan
from server.manifest import manifest
from server.outputs import RunOutputs

EXIT_CODES = {"stopped": 3, "failed": 1}
"""Exit status of a launcher by outcome.json's status (``finished`` is 0)."""


def fresh_run_outputs(cfg: ExperimentConfig) -> RunOutputs:
    """The run directory; ConfigError when it already holds a run."""
    out = Path(cfg.output_dir)
    if (out / "outcome.json").exists() or (out / "metrics.jsonl").exists():
        raise ConfigError(f"run directory {out} already holds a run; choose another "
                          "hydra.run.dir (or leave it at its default)")
    return RunOutputs(out)


def write_run_record(outputs: RunOutputs, raw: DictConfig, cfg: ExperimentConfig,
                     run_config: dict, data_sha256: dict[str, str]) -> None:
    """``config.yaml`` (resolved) and ``manifest.json``."""
    outputs.write_text("config.yaml", OmegaConf.to_yaml(raw, resolve=True))
    outputs.write_json("manifest.json", manifest(run_config, data_sha256, cfg.private))


def start_line(cfg: ExperimentConfig, where: str) -> str:
    """``privfl: 10 sites, 10 rounds, ..., privacy=...; outputs in DIR`` (``where``: how
    the sites run, e.g. "sites" or "deployed sites")."""
    site_level = SiteLevelPlan.for_run(cfg) if cfg.privacy.site_level else None
    return (f"privfl: {cfg.sites} {where}, {cfg.rounds} rounds, task={cfg.task.name}, "
            f"strategy={cfg.strategy.name}, secagg={cfg.secagg.name}, "
            f"privacy={_privacy_line(cfg, site_level)}{_synthetic_line(cfg)}; "
            f"outputs in {cfg.output_dir}")


def _synthetic_line(cfg: ExperimentConfig) -> str:
    syn = cfg.synthetic
    if not syn.publish:
        return ""
    what = (f"dp_mst ε={syn.epsilon:g} per site, inside privacy.epsilon" if syn.private
            and cfg.privacy.record_level else f"dp_mst ε={syn.epsilon:g} per site" if syn.private
            else f"{syn.synthesizer}, NOT DP")
    return f", synthetic publication ({what}){' + warm start' if syn.warm_start else ''}"


def _privacy_line(cfg: ExperimentConfig, site_level: SiteLevelPlan | None) -> str:
    if cfg.privacy.name == "none":
        return "none (NOT private)"
    parts = []
    if cfg.privacy.record_level:
        parts.append(f"dp_sgd ε={cfg.privacy.epsilon:g} per site for this run "
                     f"({cfg.privacy.accountant}, δ={cfg.privacy.delta:g}, unit=record)")
    if site_level is not None:
        parts.append(f"DP-FedAvg site-level ε={site_level.target_epsilon:g} for this run "
                     f"({site_level.accountant}, δ={site_level.delta:g}, unit=site; noise "
                     f"multiplier {site_level.noise_multiplier:.3f})")
    text = " + ".join(parts)
    return text + (" [reproducible=true: NOT private]" if cfg.reproducible else "")
