"""Issue 16's bad configs and bad data through the CLI: exit 2 and one line, before
anything starts (no start line, no site data written, no run)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from tests.e2e.conftest import CliRun, run_privfl

FEATURES = ("task.features=[{name:age,type:numeric,low:0,high:100},"
            "{name:city,type:categorical,levels:[a,b]}]")
LABEL = "task.label={name:y,classes:[no,yes]}"


def _one_line_exit_2(result: CliRun) -> str:
    assert result.returncode == 2, result.stdout[-2000:] + result.stderr[-2000:]
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "privfl run" not in result.stdout  # the start line never came
    return lines[0]


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("bad-input")
    (folder / "myconf" / "task").mkdir(parents=True)
    (folder / "myconf" / "task" / "broken.yaml").write_text(
        "defaults: [tabular, _self_]\nbatch_size: [1, 2\n")
    (folder / "blocker").write_text("a file where a folder should be")
    rng = np.random.default_rng(0)
    table = pd.DataFrame({"age": rng.integers(20, 80, 200).astype(float),
                          "city": rng.choice(["a", "b"], 200), "y": rng.choice(["no", "yes"], 200)})
    defects = {"nan": (41, "age", np.nan), "inf": (7, "age", np.inf),
               "minus-inf": (9, "age", -np.inf), "level": (12, "city", "zz"),
               "class": (13, "y", "maybe"), "nan-label": (14, "y", np.nan)}
    for name, (row, column, value) in defects.items():
        bad = table.copy()
        bad.loc[row, column] = value
        bad.to_csv(folder / f"{name}.csv", index=False)
    return folder


CONFIGS = [
    (["hydra.searchpath=[file://{f}/myconf]", "task=broken"],
     "privfl: error: a config file is not valid YAML: while parsing a flow sequence; in "
     '"{f}/myconf/task/broken.yaml", line 2'),
    (["seed=-1"], "privfl: error: seed=-1: out of range; must be >= 0 and <= 4294967295"),
    (["seed=4294967296"], "privfl: error: seed=4294967296: out of range"),
    (["--multirun", "seed=1,-5"], "privfl: error: seed=-5: out of range"),
    (["rounds=1000000"], "privfl: error: rounds=1000000: out of range; must be >= 1 and "
                         "<= 10000"),
    (["strategy=krum", "strategy.num_malicious_nodes=9", "sites=10"],
     "privfl: error: strategy.num_malicious_nodes=9: Krum scores each update against "),
    (["hydra.run.dir={f}/blocker/run"],
     "privfl: error: hydra.run.dir={f}/blocker/run: {f}/blocker is a file, not a folder"),
    (["simulation.ledger_dir={f}/blocker/ledgers"],
     "privfl: error: simulation.ledger_dir={f}/blocker/ledgers: {f}/blocker is a file"),
]


@pytest.mark.parametrize(("args", "message"), CONFIGS,
                         ids=["yaml", "seed<0", "seed>2^32", "sweep seed", "rounds", "krum",
                              "run dir", "ledger dir"])
def test_a_bad_config_is_one_line(files: Path, tmp_path: Path, args: list[str],
                                  message: str) -> None:
    run_dir = [] if "--multirun" in args or any("run.dir" in a for a in args) else [
        f"hydra.run.dir={tmp_path / 'run'}"]
    result = run_privfl("simulate", *(a.format(f=files) for a in args), *run_dir,
                        cwd=tmp_path)
    assert _one_line_exit_2(result).startswith(message.format(f=files))
    assert not (tmp_path / "run").exists() and not (tmp_path / "multirun").exists()


DATA = [
    ("nan", "column 'age': 1 missing value(s), the first at data row 42"),
    ("inf", "column 'age': 1 infinite value(s), the first inf at data row 8"),
    ("minus-inf", "column 'age': 1 infinite value(s), the first -inf at data row 10"),
    ("level", "column 'city': value(s) 'zz' (1 rows) not among the declared levels ['a', "
              "'b'], the first at data row 13"),
    ("class", "label 'y': value(s) 'maybe' (1 rows) not among the label classes, the first at "
              "data row 14"),
    ("nan-label", "column 'y': 1 missing value(s), the first at data row 15"),
]


@pytest.mark.parametrize(("name", "message"), DATA, ids=[name for name, _ in DATA])
def test_bad_data_names_the_users_file_row_and_value(files: Path, tmp_path: Path, name: str,
                                                     message: str) -> None:
    run_dir = tmp_path / "run"
    result = run_privfl("simulate", "task=csv", f"task.path={files / f'{name}.csv'}", FEATURES,
                        LABEL, "sites=2", "rounds=1", f"hydra.run.dir={run_dir}", cwd=tmp_path)
    assert _one_line_exit_2(result).startswith(
        f"privfl: error: task.path={files / f'{name}.csv'}, {message}")
    assert not (run_dir / "data").exists()  # no site file, no server test file written


def test_a_site_config_with_a_malformed_app_pin_is_one_line(tmp_path: Path) -> None:
    config = tmp_path / "site.yaml"
    config.write_text(yaml.safe_dump({
        "site": "site-0", "superlink": "127.0.0.1:9092", "data_path": "d.csv",
        "task": "tabular", "ledger_path": "l.json", "budget": 10.0, "delta": 1e-5,
        "insecure": True, "app_sha256": "ABC"}))
    result = run_privfl("deploy", "supernode", f"site={config}", cwd=tmp_path)
    assert _one_line_exit_2(result) == (
        f"privfl: error: site config {config}: app_sha256='ABC': not a SHA-256 (64 lowercase "
        "hex digits); copy the digest `privfl deploy app-hash` prints, or leave it out to pin "
        "the app this privfl builds")
