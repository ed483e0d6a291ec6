"""``conf/synth.yaml`` + ``conf/synthesizer/*.yaml`` validate into SynthConfig; mistakes are
one line naming the key."""

from __future__ import annotations

import pytest

from conf.errors import ConfigError
from conf.synth_schema import GateConfig
from synthetic.precheck import precheck_synth

BASE = ["data=site.csv", "out=out"]


@pytest.mark.parametrize("name", ["gaussian_copula", "ctgan", "tvae", "copulagan"])
def test_every_sdv_synthesizer_composes(name: str) -> None:
    cfg = precheck_synth([*BASE, f"synthesizer={name}"])
    assert cfg.synthesizer.name == name and not cfg.synthesizer.private
    assert cfg.gate == GateConfig(max_exact_copies=0, min_new_row_synthesis=0.9,
                                  min_dcr_baseline_protection=0.03,
                                  min_dcr_overfitting_protection=0.8)


def test_dp_mst_composes_with_columns_and_a_ledger() -> None:
    cfg = precheck_synth([*BASE, "synthesizer=dp_mst", "synthesizer.epsilon=0.5", "rows=100",
                          "columns=[{name:age,type:numeric,low:0,high:110},"
                          "{name:plan,type:categorical,levels:[a,b]}]",
                          "ledger.path=ledger.json"])
    assert cfg.synthesizer.private and cfg.synthesizer.epsilon == 0.5
    assert cfg.declared("plan").levels == ("a", "b")
    assert cfg.ledger.accountant == "rdp" and cfg.ledger.delta == 1e-5


DP = ["synthesizer=dp_mst", "ledger.path=l.json", "rows=100"]


@pytest.mark.parametrize(("args", "message"), [
    (["synthesizer=gan"], "synthesizer=gan: unknown; allowed: copulagan, ctgan, dp_mst"),
    (["synthesizer.epochs=3"], "synthesizer.epochs: no such key in this config"),
    (["synthesizer=ctgan", "synthesizer.batch_size=55"],
     "synthesizer.batch_size=55: must be a multiple of synthesizer.pac (10)"),
    (["synthesizer=ctgan", "synthesizer.epochs=0"], "synthesizer.epochs=0: out of range"),
    (["rows=0"], "rows=0: out of range; must be >= 1"),
    (["checks.holdout_fraction=0.9"], "checks.holdout_fraction=0.9: out of range"),
    (["gate.min_dcr_baseline_protection=2"], "gate.min_dcr_baseline_protection=2.0: out of"),
    (["columns=[{name:a,type:numeric},{name:a,type:numeric}]"], "columns[1].name='a': declared"),
    (["columns=[{name:a,type:categorical}]"], "columns[0].levels: missing"),
    (["columns=[{name:a,type:numeric,low:5,high:1}]"], "columns[0].high=1: must be > low"),
    ([*DP], "columns: missing; synthesizer=dp_mst takes every column's bounds"),
    ([*DP, "columns=[{name:a,type:numeric,low:0}]"], "columns[0]: numeric column 'a' needs"),
    (["synthesizer=dp_mst", "rows=10", "columns=[{name:a,type:numeric,low:0,high:1}]"],
     "ledger.path: missing"),
    (["synthesizer=dp_mst", "ledger.path=l.json", "columns=[{name:a,type:numeric,low:0,high:1}]"],
     "rows: missing; synthesizer=dp_mst releases exactly `rows` rows"),
    ([*DP, "metadata=md.json", "columns=[{name:a,type:numeric,low:0,high:1}]"],
     "metadata=md.json: synthesizer=dp_mst builds its metadata from the declared columns"),
    (["-m", "rows=1,2"], "-m: privfl synth runs one config (no sweeps)"),
])
def test_mistakes_are_one_line(args: list[str], message: str) -> None:
    with pytest.raises(ConfigError) as info:
        precheck_synth([*BASE, *args])
    assert message in str(info.value)
    assert "\n" not in str(info.value)
