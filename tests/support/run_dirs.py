"""Small run directories written the way a run leaves them, for report tests without Ray:
real ledgers charged with real DP-SGD events, privacy.json with ε from those ledgers."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from conf.site import SiteSettings
from privacy.events import DpSgdEvent
from privacy.ledger import Ledger

RUN_ID = "4242"
DELTA = 1e-5
SIGMA, RATE, STEPS = 1.1, 0.05, 20


def write_run_dir(path: Path, *, private: bool = True, sites: int = 3, rounds: int = 3,
                  site_level: bool = False, refusing_site: bool = False,
                  failing_site: bool = False, accuracy: float = 0.8) -> Path:
    """A finished run of ``sites`` sites; site-N refuses in preflight with
    ``refusing_site`` (the last one), site-0 fails round 2 with ``failing_site``."""
    path.mkdir(parents=True)
    (path / "sites").mkdir()
    names = [f"site-{i}" for i in range(sites)]
    training = names[:-1] if refusing_site else names
    site_records: dict[str, Any] = {}
    for name in names:
        ledger_path = path / "ledgers" / f"{name}.json"
        SiteSettings(site=name, data_path=str(path / "data" / f"{name}.parquet"),
                     ledger_path=str(ledger_path), budget=10.0, delta=DELTA
                     ).write(path / "sites" / f"{name}.json")
        record: dict[str, Any] = {"node_id": 100 + int(name[5:]), "rounds_trained": 0,
                                  "refusals": 0, "failures": 0, "excluded": None}
        if name not in training:
            record.update(refusals=1, excluded="budget: 9.9 of 10 spent")
        else:
            trained = [r for r in range(1, rounds + 1)
                       if not (failing_site and name == "site-0" and r == 2)]
            record.update(rounds_trained=len(trained),
                          failures=rounds - len(trained))
            if private:
                record.update(_charge(ledger_path, name, rounds))
        site_records[name] = record
    rows = [_row(r, rounds, accuracy, site_records, private, site_level, failing_site)
            for r in range(1, rounds + 1)]
    privacy = _privacy(private, site_records, site_level, refusing_site, names)
    outcome = {"status": "finished", "reason": None, "run_id": RUN_ID, "rounds_completed": rounds}
    manifest = {"private": private, "packages": {"flwr": "1.42.0"}, "config_sha256": "ab" * 32}
    (path / "metrics.jsonl").write_text("".join(json.dumps(row) + "\n" for row in rows))
    (path / "privacy.json").write_text(json.dumps(privacy, indent=2))
    (path / "outcome.json").write_text(json.dumps(outcome))
    (path / "timing.json").write_text(json.dumps({"preflight_seconds": 1.5, "rounds_seconds": 3.0}))
    (path / "manifest.json").write_text(json.dumps(manifest))
    (path / "config.yaml").write_text(yaml.safe_dump(_config(private, sites, rounds, site_level)))
    return path


def _charge(ledger_path: Path, site: str, rounds: int) -> dict[str, Any]:
    ledger = Ledger.open(ledger_path, site=site, delta=DELTA, accountant="rdp", budget=10.0,
                         create=True)
    for r in range(1, rounds + 1):  # a failed round was charged too (write-ahead)
        ledger.charge(DpSgdEvent(run_id=RUN_ID, round=r, noise_multiplier=SIGMA,
                                 sample_rate=RATE, steps=STEPS))
    return {"site": site, "mechanism": "dp_sgd", "noise_multiplier": SIGMA, "sample_rate": RATE,
            "steps": STEPS * rounds, "run_epsilon": ledger.run_epsilon(RUN_ID),
            "lifetime_epsilon": ledger.spent(), "delta": DELTA, "accountant": "rdp",
            "budget": 10.0, "remaining": ledger.remaining(), "private": True,
            "unit": "record"}


def _row(r: int, rounds: int, accuracy: float, sites: dict[str, Any], private: bool,
         site_level: bool, failing_site: bool) -> dict[str, Any]:
    failed = ([{"site": "site-0", "stage": "train", "reason": "timeout"}]
              if failing_site and r == 2 else [])
    top = max((s for s in sites.values() if "run_epsilon" in s),
              key=lambda s: s["run_epsilon"], default=None)
    trained = sum(1 for s in sites.values() if s["excluded"] is None) - len(failed)
    return {
        "round": r, "private": private, "accuracy": accuracy * r / rounds,
        "loss": 2.0 / r, "max_run_epsilon": top["run_epsilon"] * r / rounds if top else None,
        "epsilon_site": top["site"] if top else None,
        "epsilon_accountant": "rdp" if top else None, "epsilon_delta": DELTA if top else None,
        "epsilon_unit": "record" if top else None,
        "site_epsilon": 0.5 * r if site_level else None, "round_seconds": 1.0,
        "sites_sampled": trained + len(failed), "sites_trained": trained, "failed": failed,
        "refused": [], "federated_evaluation": {"eval-accuracy": accuracy * r / rounds - 0.01,
                                                "eval-loss": 2.1 / r},
    }


def _privacy(private: bool, sites: dict[str, Any], site_level: bool, refusing_site: bool,
             names: list[str]) -> dict[str, Any]:
    return {
        "private": private,
        "mechanism": "dp_sgd" if private else "none",
        "unit": "record",
        "accountant": "rdp" if private else None,
        "target_epsilon_per_run": 3.0 if private else None,
        "reproducible": False,
        "statement": ("Record-level DP-SGD at each site: each site's ε below is (ε, δ)-DP for "
                      "one record of that site's data, accountant=rdp." if private else
                      "NOT PRIVATE: privacy=none, sites trained without differential privacy."),
        "source": "each site's ε is as the site last reported it after a successful round",
        "sites": sites,
        "site_level": {
            "unit": "site", "mechanism": "DP-FedAvg", "private": True, "epsilon": 1.5,
            "target_epsilon": 2.0, "delta": 1e-4, "accountant": "rdp",
            "noise_multiplier": 0.8, "clipping_norm": 1.0, "releases": 3,
            "sample_rates": [1.0, 1.0, 1.0], "sampling": "a uniform random cohort",
        } if site_level else None,
        "synthetic": None,
        "uncovered_releases": ["num-examples: each site's training row count"],
        "preflight": ([{"site": names[-1], "stage": "preflight", "kind": "budget",
                        "reason": "budget: 9.9 of 10 spent"}] if refusing_site else []),
    }


def _config(private: bool, sites: int, rounds: int, site_level: bool) -> dict[str, Any]:
    privacy = ({"name": "none"} if not private else
               {"name": "record_and_client" if site_level else "dp_sgd", "epsilon": 3.0,
                "delta": DELTA, "accountant": "rdp", "max_grad_norm": 1.0,
                "grad_sample_mode": "hooks", "site_budget": 10.0})
    return {"task": {"name": "digits", "batch_size": 16, "learning_rate": 0.1, "momentum": 0.0,
                     "test_fraction": 0.2},
            "strategy": {"name": "fedavg"}, "privacy": privacy,
            "partition": {"name": "iid"}, "secagg": {"name": "none"},
            "sites": sites, "rounds": rounds, "seed": 0}


def write_sweep_dir(path: Path, epsilons: tuple[float, ...] = (1.0, 3.0)) -> Path:
    """A Hydra sweep directory: one member per ε plus a non-private member (last)."""
    path.mkdir(parents=True)
    (path / "multirun.yaml").write_text("hydra: {}\n")
    for i, eps in enumerate(epsilons):
        member = write_run_dir(path / str(i), accuracy=0.5 + 0.1 * i)
        privacy = json.loads((member / "privacy.json").read_text())
        for site in privacy["sites"].values():
            site["run_epsilon"] = eps  # pretend calibration hit the target exactly
        (member / "privacy.json").write_text(json.dumps(privacy))
        _overrides(member, [f"privacy.epsilon={eps:g}"])
    baseline = write_run_dir(path / str(len(epsilons)), private=False, accuracy=0.9)
    _overrides(baseline, ["privacy=none"])
    return path


def _overrides(member: Path, overrides: list[str]) -> None:
    (member / ".hydra").mkdir()
    (member / ".hydra" / "overrides.yaml").write_text(yaml.safe_dump(overrides))
