"""Under secure aggregation nothing of one site reaches the coordinator's files: every
file the ServerApp writes (run directory, W&B's offline log) is scanned for each site's
sample rate q, record-level ε, training row count and training loss. The sites' own
files (their data, settings and ledgers) are where those numbers live."""

from __future__ import annotations

import json
import math
import re
from decimal import Decimal
from pathlib import Path

import pytest

import client.app as client_app_module
from privacy.ledger import Ledger
from privacy.ledger_report import run_epsilon_by_round
from tests.support.configs import experiment_config
from tests.support.federation import build_federation
from tests.support.wandb_log import read_run

NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?")


@pytest.fixture(scope="module")
def secure_run(tmp_path_factory):
    """One secure DP-SGD run of 4 sites, 2 rounds, tracked offline; the sites' secrets."""
    monkeypatch = pytest.MonkeyPatch()
    monkeypatch.delenv("WANDB_MODE", raising=False)
    root = tmp_path_factory.mktemp("secure")
    cfg = experiment_config("sites=4", "rounds=2", "secagg=secaggplus", output_dir=str(root))
    fed = build_federation(cfg, root)
    secrets: dict[str, list[tuple[float, int]]] = {}  # site -> (value, digits to match)
    real = client_app_module.train_round

    def train_round(cfg, settings, data, *args, **kwargs):
        result = real(cfg, settings, data, *args, **kwargs)
        # a site's loss is close to the global model's (printed with 3-4 digits): it counts
        # as leaked only at 5 significant digits or more
        secrets.setdefault(settings.site, []).extend(
            [(result.stats.loss, 5), (len(data.train), 3), (result.stats.examples, 3)])
        return result

    monkeypatch.setattr(client_app_module, "train_round", train_round)
    try:
        fed.run()
    finally:
        monkeypatch.undo()
    run_id = json.loads((fed.run_dir / "outcome.json").read_text())["run_id"]
    for site in secrets:
        ledger = Ledger.load(fed.ledger_dir / f"{site}.json")
        secrets[site] += [(e.sample_rate, 3) for e in ledger.events]
        secrets[site] += [(eps, 3) for eps in run_epsilon_by_round(ledger, run_id).values()]
    return fed, secrets


def _coordinator_texts(run_dir: Path) -> dict[str, str]:
    """Every text file the coordinator wrote, and the decoded W&B log."""
    texts = {}
    for path in run_dir.rglob("*"):
        if path.is_file() and path.suffix not in (".pt", ".wandb"):
            texts[str(path.relative_to(run_dir))] = path.read_text(errors="replace")
    (wandb_dir,) = run_dir.rglob("offline-run-*")
    run = read_run(wandb_dir)
    texts["W&B log"] = json.dumps([run.config, run.history, run.summary])
    return texts


def _matches(token: str, secret: float, min_digits: int) -> bool:
    """True when ``token`` is ``secret`` written to the token's own precision (at least
    ``min_digits`` significant digits, so that short numbers do not match by chance)."""
    value = Decimal(token)
    digits = len(value.as_tuple().digits)
    if digits < min_digits or not math.isfinite(secret) or secret == 0:
        return False
    ulp = Decimal(1).scaleb(value.as_tuple().exponent)
    return abs(value - Decimal(repr(secret))) <= ulp / 2


def test_no_coordinator_file_holds_a_sites_q_epsilon_rows_or_loss(secure_run) -> None:
    fed, secrets = secure_run
    assert sorted(secrets) == [f"site-{i}" for i in range(4)]
    texts = _coordinator_texts(fed.run_dir)
    assert {"privacy.json", "metrics.jsonl", "report.html", "summary.txt", "W&B log"} <= set(texts)
    found = [(name, site, token) for name, text in texts.items()
             for token in set(NUMBER.findall(text))
             for site, values in secrets.items()
             if any(_matches(token, v, digits) for v, digits in values)]
    assert found == []


def test_the_coordinator_states_the_plan_and_the_ledgers_hold_the_spend(secure_run) -> None:
    fed, _ = secure_run
    privacy = json.loads((fed.run_dir / "privacy.json").read_text())
    assert privacy["site_epsilon_withheld"] is True
    assert "run_epsilon" not in json.dumps(privacy["sites"])
    assert "per-site spend withheld under secure aggregation" in privacy["statement"]
    summary = (fed.run_dir / "summary.txt").read_text()
    assert "ε ≤ 3 per site for the whole run, as planned (rdp" in summary
    for site in range(4):
        ledger = Ledger.load(fed.ledger(site))
        assert 2.9 < ledger.run_epsilon(ledger.events[0].run_id) <= 3.0
