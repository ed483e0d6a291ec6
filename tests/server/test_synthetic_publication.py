"""Federated publication over the in-process grid: real ServerApp, ClientApp, SDV, MST
and Opacus. Two runs serve every assertion here (module-scoped):

- ``dp_run``: three sites publish DP MST tables (ε=1 of a total ε=3 per site) and the
  coordinator warm-starts the model on the pool; site-2's lifetime budget (ε=2) cannot
  cover the run, so it refuses at preflight and is neither asked nor trained.
- ``nondp_run``: a DP-SGD run asking for Gaussian-copula tables (not DP): site-0 opted in
  (and allows statistics), site-2 opted in, site-1 did not and refuses.
"""

from __future__ import annotations

import json
import warnings
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest
import torch
from hydra import compose, initialize_config_module
from omegaconf import OmegaConf
from opacus.accountants import RDPAccountant

from conf.validate import validate
from privacy.events import DpSgdEvent, GaussianEvent
from privacy.ledger import Ledger
from server.synthetic_pool import read_pooled
from synthetic.dp.accounting import MST_LABEL, mst_noise_multiplier
from synthetic.dp.domain import OTHER
from tasks.registry import get_task
from tests.support.churn import COLUMNS, write_churn_task
from tests.support.federation import Federation, build_federation

DELTA = 1e-5


@dataclass
class Finished:
    """A finished in-process run and what it left behind."""

    fed: Federation

    def json(self, name: str) -> dict:
        return json.loads((self.fed.run_dir / name).read_text())

    @property
    def pooled(self) -> pd.DataFrame:
        task = get_task(self.fed.cfg.task)
        return read_pooled((self.fed.run_dir / "synthetic" / "pooled.csv").read_bytes(), task)

    @property
    def metrics(self) -> list[dict]:
        lines = (self.fed.run_dir / "metrics.jsonl").read_text().splitlines()
        return [json.loads(line) for line in lines]


def _run(root: Path, *overrides: str, node_overrides: dict | None = None,
         budgets: dict | None = None) -> Finished:
    _, _, conf_dir = write_churn_task(root)
    with initialize_config_module(config_module="conf", version_base="1.3"):
        raw = compose("config", overrides=[f"hydra.searchpath=[file://{conf_dir}]", "task=churn",
                                           "sites=3", *overrides,
                                           f"output_dir={root / 'run'}"])
    fed = build_federation(validate(OmegaConf.to_container(raw, resolve=True)), root,
                           node_overrides=node_overrides, budgets=budgets)
    fed.run()
    return Finished(fed)


@pytest.fixture(scope="module")
def dp_run(tmp_path_factory) -> Finished:
    return _run(tmp_path_factory.mktemp("dp"), "rounds=2", "synthetic.publish=true",
                "synthetic.warm_start=true", budgets={2: 2.0})


@pytest.fixture(scope="module")
def nondp_run(tmp_path_factory) -> Finished:
    opted_in = {"allow-nondp-synthetic": True}
    return _run(tmp_path_factory.mktemp("nondp"), "rounds=1", "synthetic.publish=true",
                "synthetic.synthesizer=gaussian_copula",
                node_overrides={0: {**opted_in, "allow-synthetic-statistics": True},
                                2: opted_in})


def test_pooled_table_holds_each_sites_rows_with_provenance(dp_run: Finished) -> None:
    pooled, provenance = dp_run.pooled, dp_run.json("synthetic/provenance.json")
    assert list(pooled.columns) == ["site", *COLUMNS]
    assert set(pooled["site"]) == {"site-0", "site-1"}
    assert provenance["pooled_rows"] == len(pooled)
    assert provenance["provenance_column"] == "site"
    # the task's columns are complete: MST's domain has no missing or `<other>` cells
    assert pooled[COLUMNS].notna().all().all() and not pooled[COLUMNS].isin([OTHER]).any().any()
    assert (provenance["synthesizer"], provenance["differentially_private"]) == ("dp_mst", True)
    for name in ("site-0", "site-1"):
        entry = provenance["sites"][name]
        assert entry["status"] == "published"
        assert entry["rows"] == int((pooled["site"] == name).sum()) > 0
        assert entry["privacy"] == {"differentially_private": True, "epsilon": 1.0,
                                    "delta": DELTA, "accountant": "rdp", "unit": "record",
                                    "included_in_run_epsilon": True}
        report = entry["report"]
        assert report["synthesizer"] == "dp_mst" and report["columns"] == COLUMNS
        assert "inside the site's record-level ε for this run" in report["privacy"]["statement"]
        assert report["statistics"] is None  # the site did not allow statistics
        assert "fit_sample" in report["timings_seconds"]


def test_a_site_whose_budget_cannot_cover_the_run_is_neither_asked_nor_trained(
        dp_run: Finished) -> None:
    entry = dp_run.json("synthetic/provenance.json")["sites"]["site-2"]
    assert entry["status"] == "excluded"
    assert "over the site's lifetime budget" in entry["reason"]
    privacy = dp_run.json("privacy.json")
    assert privacy["preflight"][0]["kind"] == "BudgetExceededError"
    assert privacy["sites"]["site-2"]["rounds_trained"] == 0
    assert Ledger.load(dp_run.fed.ledger(2)).events == ()
    assert [row["sites_trained"] for row in dp_run.metrics[1:]] == [2, 2]


def test_synthesis_is_charged_first_and_composes_with_dp_sgd(dp_run: Finished) -> None:
    """The ledger holds the synthesis (round 0, released) before the rounds; the site's
    ε for the run is their composition, equal to an independent Opacus recomputation
    from both history entries, and at most privacy.epsilon."""
    privacy = dp_run.json("privacy.json")
    for i in (0, 1):
        ledger = Ledger.load(dp_run.fed.ledger(i))
        first, *rounds = ledger.entries
        assert isinstance(first.event, GaussianEvent) and first.event.label == MST_LABEL
        assert first.event.round == 0 and first.released_at is not None
        assert first.event.noise_multiplier == mst_noise_multiplier(1.0, DELTA)
        assert [e.event.round for e in rounds] == [1, 2]
        assert all(isinstance(e.event, DpSgdEvent) for e in rounds)
        assert first.charged_at <= rounds[0].charged_at
        site = privacy["sites"][f"site-{i}"]
        independent = RDPAccountant()
        independent.history = [(first.event.noise_multiplier, 1.0, 1),
                               (site["noise_multiplier"], site["sample_rate"], site["steps"])]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            expected = independent.get_epsilon(DELTA)
        assert site["run_epsilon"] == pytest.approx(expected, rel=1e-9)
        assert 3.0 - 0.011 <= site["run_epsilon"] <= 3.0
        assert ledger.spent() == pytest.approx(site["run_epsilon"], rel=1e-12)
        assert site["synthesis"]["included_in_run_epsilon"] is True
    assert "inside that site's ε for this run" in privacy["statement"]
    assert privacy["synthetic"]["sites"]["site-2"]["status"] == "excluded"


def test_warm_start_trains_the_initial_model_before_round_one(dp_run: Finished) -> None:
    warm, *rounds = dp_run.metrics
    assert (warm["round"], warm["stage"]) == (0, "warm_start")
    assert [r["round"] for r in rounds] == [1, 2]
    assert warm["warm_start_rows"] + warm["warm_start_rows_dropped"] == len(dp_run.pooled)
    assert warm["warm_start_rows"] == len(dp_run.pooled)  # complete tables: nothing to drop
    assert warm["warm_start_sites"] == ["site-0", "site-1"]
    assert len(warm["warm_start_train_loss"]) == warm["warm_start_epochs"] == 5
    assert warm["loss"] < warm["loss_before_warm_start"]
    cfg = dp_run.fed.cfg
    torch.manual_seed(cfg.seed)
    fresh = get_task(cfg.task).build_model().state_dict()
    initial = torch.load(dp_run.fed.run_dir / "checkpoints" / "round-000.pt")
    assert any(not torch.equal(fresh[k], initial[k]) for k in fresh)
    summary = (dp_run.fed.run_dir / "summary.txt").read_text()
    assert "warm start: 5 epochs on" in summary and "synthetic: " in summary
    timing = dp_run.json("timing.json")
    assert timing["synthetic_seconds"] > 0 and timing["warm_start_seconds"] > 0
    assert dp_run.json("privacy.json")["synthetic"]["warm_start"]["rows"] == \
        warm["warm_start_rows"]


def test_nondp_tables_only_from_sites_that_opted_in(nondp_run: Finished) -> None:
    provenance = nondp_run.json("synthetic/provenance.json")
    assert set(nondp_run.pooled["site"]) == {"site-0", "site-2"}
    refused = provenance["sites"]["site-1"]
    assert (refused["status"], refused["kind"]) == ("refused", "SitePolicyError")
    assert "allow-nondp-synthetic=true" in refused["reason"]
    for name in ("site-0", "site-2"):
        entry = provenance["sites"][name]
        assert entry["privacy"]["differentially_private"] is False
        assert entry["report"]["privacy"]["statement"].startswith("NOT differentially private")
    # the run trained with DP-SGD, which the non-DP synthesis does not touch
    assert [r["sites_trained"] for r in nondp_run.metrics] == [3]
    for i in range(3):
        assert all(isinstance(e, DpSgdEvent) for e in Ledger.load(nondp_run.fed.ledger(i)).events)


def test_statistics_only_with_the_sites_consent_and_listed_as_uncovered(
        nondp_run: Finished) -> None:
    sites = nondp_run.json("synthetic/provenance.json")["sites"]
    stats = sites["site-0"]["report"]["statistics"]
    assert stats["covered_by_epsilon"] is False
    assert 0 <= stats["quality"]["score"] <= 1
    assert all(check["passed"] for check in stats["gate"])
    assert sites["site-2"]["report"]["statistics"] is None
    uncovered = nondp_run.json("privacy.json")["uncovered_releases"]
    assert any("synthetic tables of site-0, site-2 (gaussian_copula): NOT differentially "
               "private" in line for line in uncovered)
    assert any("statistics in the synthesis reports of site-0:" in line for line in uncovered)
    assert nondp_run.json("privacy.json")["synthetic"]["differentially_private"] is False
