"""``privfl ledger init|set-budget|upgrade`` and refusals of altered or missing ledgers
through the CLI: one line, exit 2, nothing started."""

from __future__ import annotations

import json
from pathlib import Path

from privacy.ledger import Ledger
from tests.e2e.conftest import run_privfl


def _one_line(result) -> str:
    assert result.returncode == 2, result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


def test_init_print_set_budget_and_refuse_an_edit(tmp_path: Path) -> None:
    path = tmp_path / "ledger.json"
    init = run_privfl("ledger", "init", str(path), "--site", "clinic", "--budget", "4",
                      "--delta", "1e-6", cwd=tmp_path)
    assert init.returncode == 0, init.stderr
    assert f"created the ledger of site 'clinic' at {path}" in init.stdout
    assert "budget ε=4 (rdp, δ=1e-06, unit=record)" in init.stdout
    again = run_privfl("ledger", "init", str(path), "--site", "clinic", "--budget", "4",
                       "--delta", "1e-6", cwd=tmp_path)
    assert "exists already: a site has one ledger for life" in _one_line(again)

    raised = run_privfl("ledger", "set-budget", str(path), "6", cwd=tmp_path)
    assert raised.returncode == 0, raised.stderr
    assert "lifetime budget ε 4 -> 6 (rdp, δ=1e-06, unit=record)" in raised.stdout
    shown = run_privfl("ledger", str(path), cwd=tmp_path)
    assert "lifetime budget  ε 6 (rdp, δ=1e-06, unit=record)" in shown.stdout

    document = json.loads(path.read_text())
    document["budget"] = 100.0  # the edit the probe made by hand
    path.write_text(json.dumps(document))
    line = _one_line(run_privfl("ledger", str(path), "--json", cwd=tmp_path))
    assert line.startswith(f"privfl: error: ledger {path} was altered: record 1 does not "
                           "follow the one before it")
    assert line.endswith("restore the ledger and its key from the site's latest backup; never "
                         "delete or recreate a ledger (a fresh one would forget the site's "
                         "charges)")


def test_upgrade_seals_an_old_ledger_as_it_stands(tmp_path: Path) -> None:
    path = tmp_path / "old.json"
    event = {"mechanism": "dp_sgd", "run_id": "r", "round": 1, "noise_multiplier": 1.5,
             "sample_rate": 0.1, "steps": 10, "charged_at": "2026-11-01T00:00:00+00:00",
             "released_at": "2026-11-01T00:01:00+00:00"}
    path.write_text(json.dumps({"format": "privfl-ledger/1", "site": "s", "unit": "record",
                                "delta": 1e-5, "accountant": "rdp", "budget": 8.0,
                                "created": "2026-11-01T00:00:00+00:00", "events": [event]}))
    old = _one_line(run_privfl("ledger", str(path), cwd=tmp_path))
    assert f"privfl ledger upgrade {path}" in old
    upgraded = run_privfl("ledger", "upgrade", str(path), cwd=tmp_path)
    assert upgraded.returncode == 0, upgraded.stderr
    assert "1 charge(s) carried over" in upgraded.stdout
    ledger = Ledger.load(path)
    assert [e.event.noise_multiplier for e in ledger.entries] == [1.5]
    assert ledger.entries[0].released_at == event["released_at"]


def test_simulate_refuses_missing_and_altered_ledgers_before_anything_starts(
        tmp_path: Path) -> None:
    ledgers = tmp_path / "ledgers"
    missing = run_privfl("simulate", "sites=2", "rounds=1", f"simulation.ledger_dir={ledgers}",
                         f"hydra.run.dir={tmp_path / 'a'}", cwd=tmp_path)
    assert _one_line(missing) == (
        f"privfl: error: simulation.ledger_dir={ledgers}: site-0 has no ledger there "
        "(site-0.json); add simulation.init_ledgers=true to create the missing ones (a "
        "site's ledger is created once, explicitly)")
    for site in ("site-0", "site-1"):
        Ledger.create(ledgers / f"{site}.json", site=site, delta=1e-5, accountant="rdp",
                      budget=10.0)
    document = json.loads((ledgers / "site-1.json").read_text())
    document["records"] = [{"kind": "budget", "budget": 99.0, "set_at": "now", "prev": "0"}]
    (ledgers / "site-1.json").write_text(json.dumps(document))
    altered = run_privfl("simulate", "sites=2", "rounds=1", f"simulation.ledger_dir={ledgers}",
                         "simulation.init_ledgers=true", f"hydra.run.dir={tmp_path / 'b'}",
                         cwd=tmp_path)
    assert _one_line(altered).startswith(
        f"privfl: error: ledger {ledgers / 'site-1.json'} was altered")
    assert "privfl run" not in altered.stdout  # no start line: nothing started
    (ledgers / "site-0.json").unlink()
    deleted = run_privfl("simulate", "sites=2", "rounds=1", f"simulation.ledger_dir={ledgers}",
                         "simulation.init_ledgers=true", f"hydra.run.dir={tmp_path / 'c'}",
                         cwd=tmp_path)
    assert "is missing but its key" in _one_line(deleted)
    assert not (ledgers / "site-0.json").exists()
