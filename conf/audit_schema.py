"""The typed schema of ``privfl audit``: the experiment it audits plus the ``audit`` keys.

``conf/audit.yaml`` composes the experiment root (``conf/config.yaml``, every group and
override of ``privfl simulate``) and adds ``audit.*`` and ``run_dir``. The experiment part
is validated by :func:`conf.validate.validate`, the rest here; errors are one line.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from conf.errors import ConfigError
from conf.schema import SEED_RANGE, ExperimentConfig
from conf.validate import build, validate

AttackName = Literal["loss"]


@dataclass(frozen=True)
class AuditConfig:
    """The one-run audit (docs/audit.md): ``canaries`` mislabeled rows, each in the site's
    training data with probability 1/2, scored by ``attack``; the ε lower bound holds at
    ``confidence``. ``site`` is the audited site (its data file and δ); ``seed`` seeds the
    canaries and their inclusion coins (never DP noise)."""

    canaries: int = field(default=1000, metadata={"ge": 10})
    confidence: float = field(default=0.95, metadata={"gt": 0.5, "lt": 1})
    site: int = field(default=0, metadata={"ge": 0})
    seed: int = field(default=0, metadata=SEED_RANGE)
    attack: AttackName = "loss"


@dataclass(frozen=True)
class AuditSetup:
    """A whole ``privfl audit`` invocation: the experiment's settings, the audit's, and the
    run folder to audit (None: lay out the experiment's data afresh)."""

    experiment: ExperimentConfig
    audit: AuditConfig
    run_dir: str | None = None


def validate_audit(raw: Mapping[str, Any]) -> AuditSetup:
    """Validate a composed ``audit`` config; ConfigError (one line) on the first problem."""
    rest = dict(raw)
    audit = build(AuditConfig, rest.pop("audit", {}), "audit")
    run_dir = rest.pop("run_dir", None)
    if run_dir is not None and not isinstance(run_dir, str):
        raise ConfigError(f"run_dir={run_dir!r}: must be a folder path")
    experiment = validate(rest)
    check_auditable(experiment, audit)
    return AuditSetup(experiment, audit, run_dir)


def check_auditable(experiment: ExperimentConfig, audit: AuditConfig) -> None:
    """Settings the audit cannot reproduce faithfully."""
    if audit.site >= experiment.sites:
        raise ConfigError(f"audit.site={audit.site}: must be below sites ({experiment.sites}); "
                          "sites are numbered from 0")
    if experiment.synthetic.publish:
        raise ConfigError("synthetic.publish=true: the audit measures DP-SGD training alone, "
                          "and this run's ε also covers a synthetic-table release; audit with "
                          "synthetic.publish=false")
