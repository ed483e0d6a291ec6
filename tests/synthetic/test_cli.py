"""``privfl synth`` as a user runs it: the console script in a subprocess (Hydra app)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.conftest import run_privfl
from tests.synthetic.tables import OUTLIER, RARE_LEVEL, mixed_table


def test_synth_writes_a_released_copy(tmp_path: Path) -> None:
    mixed_table(rows=300).to_parquet(tmp_path / "site.parquet", index=False)
    result = run_privfl("synth", f"data={tmp_path / 'site.parquet'}", f"out={tmp_path / 'out'}",
                        "rows=200", "checks.synthetic_rows=100", "checks.max_rows=300",
                        f"hydra.run.dir={tmp_path / 'run'}", cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    assert {p.name for p in (tmp_path / "out").iterdir()} == {
        "synthetic.parquet", "metadata.json", "release.json"}  # what the site shares
    assert {p.name for p in (tmp_path / "out-review").iterdir()} == {
        "report.json", "report.md", "report.html"}  # statistics of the real rows: its own
    for step in ("fitting gaussian_copula on 240 rows", "sampling 200 rows",
                 "DCRBaselineProtection", "wrote 200 synthetic rows"):
        assert step in result.stdout
    # Hydra's log and config beside the run hold no data-derived values either
    for path in (tmp_path / "run").rglob("*"):
        if path.is_file():
            text = path.read_text(errors="replace")
            assert RARE_LEVEL not in text and repr(OUTLIER) not in text, path


@pytest.mark.parametrize(("args", "message"), [
    (["data={tmp}/nope.csv"], "privfl: error: data={tmp}/nope.csv: no such file; check the path"),
    (["data={tmp}/x.csv", "synthesizer=gan"],
     "privfl: error: synthesizer=gan: unknown; allowed: copulagan, ctgan, dp_mst, "
     "gaussian_copula, tvae"),
    (["data={tmp}/x.csv", "synthesizer.epochs=5"],
     "privfl: error: synthesizer.epochs: no such key in this config"),
    (["data={tmp}/x.csv", "synthesizer=dp_mst"], "privfl: error: columns: missing;"),
    (["out={tmp}/out"], "privfl: error: data: missing"),
])
def test_synth_bad_input_exits_2_with_one_line(tmp_path: Path, args: list[str],
                                               message: str) -> None:
    args = [a.format(tmp=tmp_path) for a in args]
    if not any(a.startswith("out=") for a in args):
        args.append(f"out={tmp_path / 'out'}")
    result = run_privfl("synth", *args, f"hydra.run.dir={tmp_path / 'run'}", cwd=tmp_path)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert lines[-1].startswith(message.format(tmp=tmp_path)), result.stderr[-2000:]
    assert not (tmp_path / "out").exists()
