"""The app digest a site pins: the same for every run config, different for any other
component or any file added to the FAB."""

from __future__ import annotations

from pathlib import Path

from flwr.cli.build import build_fab_from_disk

from conf.flower_app import app_digest, expected_app_digest, write_app_dir


def test_the_digest_ignores_the_run_config(tmp_path: Path) -> None:
    one = build_fab_from_disk(write_app_dir(tmp_path / "a", {"rounds": 2}))
    two = build_fab_from_disk(write_app_dir(tmp_path / "b", {"rounds": 9, "seed": 1}))
    assert one != two
    assert app_digest(one) == app_digest(two) == expected_app_digest()


def test_another_component_or_an_added_file_changes_the_digest(tmp_path: Path) -> None:
    other = write_app_dir(tmp_path / "a", {}, client_app="tests.support.slow_site_app:app")
    assert app_digest(build_fab_from_disk(other)) != expected_app_digest()
    extra = write_app_dir(tmp_path / "b", {})
    (extra / "client").mkdir()
    (extra / "client" / "app.py").write_text("app = None\n")
    assert app_digest(build_fab_from_disk(extra)) != expected_app_digest()
