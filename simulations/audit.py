"""``privfl audit``: the empirical privacy audit of one site's training (docs/audit.md).

Draws m mislabeled canaries from rows outside the site, includes each with probability
1/2, trains exactly as the run would (``client.audit_training``), scores every canary by
its loss and writes ``audit.json`` (also into ``run_dir`` when auditing a finished run).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import hydra
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig, OmegaConf

from client.audit_training import AuditTraining
from client.local_data import load_local_data
from conf.audit_schema import AuditConfig, validate_audit
from conf.errors import ConfigError, PrivflError
from privacy.audit.canaries import draw_canaries
from privacy.audit.report import Claim, audit_record, write_audit
from privacy.audit.runner import run_audit
from server.report.write import write_report_safely
from simulations.audit_site import AuditedSite, fresh_site, run_site
from tasks.registry import get_task

AUDIT_RUN_ID = "audit"
TRAINING = ("one-site federation: the run's rounds x local_epochs of its local training "
            "(client.local_training.train_round), each round starting from the site's "
            "previous model; σ and q planned on the actual training rows, canaries included")


@hydra.main(config_path="pkg://conf", config_name="audit", version_base="1.3")
def audit(raw: DictConfig) -> None:
    """Hydra entry point: exit 0 with audit.json written, 2 on bad input."""
    try:
        run_audit_command(raw, list(HydraConfig.get().overrides.task))
    except PrivflError as err:
        print(f"privfl: error: {err}", file=sys.stderr, flush=True)
        sys.exit(2)


def run_audit_command(raw: DictConfig, overrides: list[str]) -> dict:
    """Validate, lay out or find the site, audit it; returns the audit.json object."""
    started = time.monotonic()
    setup = validate_audit(OmegaConf.to_container(raw, resolve=True))
    out = Path(setup.experiment.output_dir)
    out.mkdir(parents=True, exist_ok=True)
    site = (run_site(Path(setup.run_dir), setup.audit, out, overrides) if setup.run_dir
            else fresh_site(setup.experiment, setup.audit, out))
    record = audit_site(site, setup.audit, started)
    write_audit(out / "audit.json", record)
    if setup.run_dir:
        write_audit(Path(setup.run_dir) / "audit.json", record)
        write_report_safely(Path(setup.run_dir))  # the run's report shows the audit now
    print(f"privfl audit: {record['summary']}", flush=True)
    return record


def audit_site(site: AuditedSite, audit: AuditConfig, started: float) -> dict:
    """Draw the canaries, train, score, bound: the audit.json object."""
    cfg, settings = site.cfg, site.settings
    pool = site.canary_pool()
    if audit.canaries > len(pool):
        raise ConfigError(f"audit.canaries={audit.canaries}: only {len(pool)} rows lie outside "
                          f"{settings.site} to draw canaries from; lower audit.canaries")
    task = get_task(cfg.task)
    canaries = draw_canaries(pool, len(task.label.classes), audit.canaries, audit.seed)
    local = load_local_data(cfg, settings)
    print(f"privfl audit: {settings.site} of task={cfg.task.name}, {len(local.train)} training "
          f"rows + {int(canaries.included.sum())} of m={audit.canaries} mislabeled canaries "
          f"(each included w.p. 1/2), {cfg.rounds} rounds x {cfg.local_epochs} local epochs, "
          f"privacy={cfg.privacy.name}", flush=True)
    training = AuditTraining(cfg, settings, local, AUDIT_RUN_ID,
                             progress=lambda line: print(f"privfl audit: {line}", flush=True))
    outcome = run_audit(canaries, training, delta=settings.delta, confidence=audit.confidence)
    report = training.privacy
    record_level = cfg.privacy.record_level
    claim = Claim(epsilon=report.run_epsilon if report else None,
                  target_epsilon=cfg.privacy.epsilon if record_level else None,
                  delta=settings.delta,
                  accountant=cfg.privacy.accountant if record_level else None,
                  noise_seeded=record_level and cfg.reproducible)
    context = {
        "site": settings.site,
        "task": cfg.task.name,
        "privacy": cfg.privacy.name,
        "training": TRAINING,
        "site_rows": len(local.train),
        "training_rows": training.rows,
        "rounds": cfg.rounds,
        "local_epochs": cfg.local_epochs,
        "steps": report.steps if report else None,
        "noise_multiplier": report.noise_multiplier if report else None,
        "sample_rate": report.sample_rate if report else None,
        "max_grad_norm": cfg.privacy.max_grad_norm if record_level else None,
        "canary_source": (f"{len(canaries)} rows drawn from the {len(site.pool_files)} data "
                          f"files outside {settings.site}, each relabelled to a random other "
                          "class"),
        "seed": audit.seed,
        "seconds": round(time.monotonic() - started, 2),
    }
    return audit_record(outcome, claim, context)
