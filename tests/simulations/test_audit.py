"""`privfl audit` in-process on the digits task: a non-private run built to memorise its
canaries is caught (ε lower bound >= 1 at 95%), a DP run's bound stays below its claimed
ε, and bad settings stop with one line."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import torch
from hydra import compose, initialize_config_module

from conf.audit_schema import AuditConfig, validate_audit
from conf.errors import ConfigError
from conf.precheck import precheck
from privacy.ledger import Ledger
from simulations.audit import run_audit_command
from simulations.audit_site import run_site


@pytest.fixture(autouse=True)
def one_thread() -> Iterator[None]:
    """Tiny models train several times faster on one thread of a busy 2-core machine."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def audit(out: Path, *overrides: str) -> dict:
    with initialize_config_module(config_module="conf", version_base="1.3"):
        raw = compose("audit", overrides=[*overrides, f"output_dir={out}"])
    return run_audit_command(raw, list(overrides))


def test_memorising_nonprivate_run_gives_a_bound_of_at_least_one(tmp_path: Path, capsys
                                                                 ) -> None:
    record = audit(tmp_path, "privacy=none", "rounds=1", "local_epochs=30",
                   "audit.canaries=100")
    assert record["epsilon_lower_bound"] >= 1.0
    assert record["claimed_epsilon"] is None and record["private"] is False
    assert record["mean_loss_included"] < record["mean_loss_excluded"]
    assert json.loads((tmp_path / "audit.json").read_text()) == record
    printed = capsys.readouterr().out.splitlines()
    assert printed[-1] == f"privfl audit: {record['summary']}"
    assert printed[-1].startswith(f"privfl audit: empirical ε ≥ "
                                  f"{record['epsilon_lower_bound']:.3g} at 95% confidence")
    assert "m=100 canaries" in printed[-1] and "black-box loss attack" in printed[-1]
    assert any(line.startswith("privfl audit: round 1/1 trained on") for line in printed)


def test_dp_run_bound_stays_below_the_claimed_epsilon(tmp_path: Path) -> None:
    record = audit(tmp_path, "privacy.epsilon=3", "rounds=2", "reproducible=true",
                   "audit.canaries=100")
    assert 2.9 < record["claimed_epsilon"] <= 3.0
    assert record["epsilon_lower_bound"] <= record["claimed_epsilon"]
    assert record["accountant"] == "rdp" and record["delta"] == 1e-5
    assert record["unit"] == "record" and record["dp_noise_seeded"] is True
    ledger = Ledger.load(tmp_path / "ledgers" / "site-0.json")  # charged like a real site
    assert ledger.run_epsilon("audit") == pytest.approx(record["claimed_epsilon"])
    assert len(ledger.events) == 2
    # σ and q were planned on the actual training rows, canaries included
    assert record["sample_rate"] == pytest.approx(16 / record["training_rows"])
    assert record["training_rows"] == record["site_rows"] + record["canaries_included"]


@pytest.mark.parametrize(("override", "message"), [
    ("audit.confidence=0.4", "audit.confidence=0.4: out of range; must be > 0.5 and < 1"),
    ("audit.site=10", "audit.site=10: must be below sites (10)"),
    ("audit.attack=gradient", "audit.attack='gradient': unknown; allowed: loss"),
    ("synthetic.publish=true", "synthetic.publish=true: the audit measures DP-SGD"),
    ("audit.canaries=5", "audit.canaries=5: out of range; must be >= 10"),
])
def test_bad_audit_settings_stop_with_one_line(override: str, message: str) -> None:
    with pytest.raises(ConfigError) as err:
        precheck([override], "audit", validate_audit)
    assert str(err.value).startswith(message)
    assert "\n" not in str(err.value)


def test_run_dir_refuses_experiment_overrides_and_non_run_folders(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"privacy\.epsilon=8: run_dir=.* audits that run's"):
        run_site(tmp_path, AuditConfig(), tmp_path / "out", ["privacy.epsilon=8",
                                                             "audit.canaries=10"])
    with pytest.raises(ConfigError, match=r"no config\.yaml there"):
        run_site(tmp_path, AuditConfig(), tmp_path / "out", ["audit.canaries=10"])


def test_more_canaries_than_rows_outside_the_site_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"audit\.canaries=5000: only 1653 rows lie outside"):
        audit(tmp_path, "audit.canaries=5000")
