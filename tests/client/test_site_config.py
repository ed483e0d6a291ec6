"""A site's own config file becomes its SuperNode's command line and node config."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from flwr.common.config import parse_config_args

from client.deployment.app_pin import pin_app
from client.deployment.site_config import check_site_files, load_site_config, node_config
from client.deployment.supernode import supernode_command
from conf.errors import ConfigError
from conf.flower_app import expected_app_digest
from conf.site import SiteSettings
from privfl.cli import main

SITE = {"site": "clinic-a", "superlink": "coordinator.example:8000",
        "data_path": "data/rows.csv", "task": "tabular", "ledger_path": "ledger/l.json",
        "budget": 8.0, "delta": 1e-6, "root_certificates": "keys/ca.crt",
        "auth_key": "keys/auth.key", "min_noise_multiplier": 0.8,
        "max_epsilon_per_run": 2.0}


def _write(tmp_path: Path, **changes) -> Path:
    for name in ("data/rows.csv", "keys/ca.crt", "keys/auth.key"):
        (tmp_path / name).parent.mkdir(exist_ok=True)
        (tmp_path / name).write_text("x")
    (tmp_path / "ledger").mkdir(exist_ok=True)
    path = tmp_path / "site.yaml"
    path.write_text(yaml.safe_dump({**SITE, **changes}))
    return path


def test_node_config_round_trips_through_flowers_parser(tmp_path: Path) -> None:
    cfg = load_site_config(str(_write(tmp_path)), {})
    check_site_files(cfg)
    command = supernode_command(cfg)
    text = command[command.index("--node-config") + 1]
    settings = SiteSettings.from_node_config(parse_config_args([text]))
    assert settings.data_path == str(tmp_path / "data" / "rows.csv")
    assert settings.ledger_path == str(tmp_path / "ledger" / "l.json")
    assert (settings.budget, settings.delta) == (8.0, 1e-6)
    assert (settings.policy.min_noise_multiplier, settings.policy.max_epsilon_per_run) == (0.8, 2.0)
    assert settings.task_schema == node_config(cfg)["task-schema"]
    assert command[3] == expected_app_digest()  # the app the privfl installed here builds
    assert "--insecure" not in command
    assert command[command.index("--root-certificates") + 1] == str(tmp_path / "keys/ca.crt")


def test_overrides_win_and_bad_values_name_the_key(tmp_path: Path) -> None:
    path = _write(tmp_path)
    assert load_site_config(str(path), {"budget": 4.0}).budget == 4.0
    with pytest.raises(ConfigError, match=r"^delta=2.0: out of range"):
        load_site_config(str(path), {"delta": 2})
    with pytest.raises(ConfigError, match="cannot read the site's config file"):
        load_site_config(str(tmp_path / "nope.yaml"), {})


@pytest.mark.parametrize("digest", ["abc", "G" * 64, "A" * 64, "0" * 63])
def test_an_app_sha256_that_is_not_a_digest_is_refused(tmp_path: Path, digest: str) -> None:
    with pytest.raises(ConfigError, match=r"app_sha256='.*': not a SHA-256 \(64 lowercase hex"):
        load_site_config(str(_write(tmp_path, app_sha256=digest)), {})
    assert load_site_config(str(_write(tmp_path, app_sha256="0" * 64)), {}).app_sha256 == "0" * 64


def test_tls_material_is_required_unless_insecure(tmp_path: Path) -> None:
    cfg = load_site_config(str(_write(tmp_path, root_certificates=None)), {})
    with pytest.raises(ConfigError, match="root_certificates: missing"):
        check_site_files(cfg)
    insecure = load_site_config(str(_write(tmp_path, root_certificates=None)),
                                {"insecure": True})
    check_site_files(insecure)
    assert "--insecure" in supernode_command(insecure)


def test_missing_files_are_named(tmp_path: Path) -> None:
    cfg = load_site_config(str(_write(tmp_path, data_path="data/other.csv")), {})
    with pytest.raises(ConfigError, match=r"data_path=.*other.csv: no such file"):
        check_site_files(cfg)


def test_deploy_commands_fail_in_one_line(tmp_path: Path, capsys) -> None:
    assert main(["deploy"]) == 2
    assert main(["deploy", "supernode"]) == 2
    assert main(["deploy", "superlink", "port=80000"]) == 2
    assert main(["deploy", "superlink"]) == 2
    err = capsys.readouterr().err.splitlines()
    assert err == [
        "privfl: error: privfl deploy ROLE ...: ROLE is one of superlink, supernode, "
        "app-hash, run (docs/deployment.md)",
        "privfl: error: site: missing; privfl deploy supernode site=FILE.yaml (or NAME for "
        "sites/NAME.yaml), see docs/deployment.md",
        "privfl: error: port=80000: out of range; must be >= 1 and <= 65535",
        "privfl: error: certs: missing; give the folder `privfl certs` wrote (certs=DIR), or "
        "insecure=true for a plaintext test SuperLink",
    ]


class _Fab:
    def __init__(self, content: bytes) -> None:
        self.content = content


def test_the_pin_refuses_another_app_before_flower_stores_it(tmp_path: Path) -> None:
    """flwr's message loop, wrapped: the verdict it receives as trusted_entities is truthy
    (refuse) exactly when the FAB's digest is not the pinned one."""
    from flwr.cli.build import build_fab_from_disk

    from conf.flower_app import write_app_dir

    good = build_fab_from_disk(write_app_dir(tmp_path / "good", {"rounds": 3}))
    bad_dir = write_app_dir(tmp_path / "bad", {"rounds": 3}, client_app="evil:app")
    bad = build_fab_from_disk(bad_dir)
    seen = []

    def flower_loop(**kwargs):
        kwargs["get_fab"]("hash", 1)
        seen.append(bool(kwargs["trusted_entities"]))

    pinned = pin_app(flower_loop, expected_app_digest())
    for fab in (good, bad):
        pinned(get_fab=lambda _h, _r, fab=fab: _Fab(fab), trusted_entities=None)
    assert seen == [False, True]


def test_a_site_declares_a_whole_task_schema(tmp_path: Path) -> None:
    from conf.task_schema import load_task_schema

    with pytest.raises(ConfigError, match="must declare its features and label"):
        load_task_schema("csv", tmp_path)
    with pytest.raises(ConfigError, match="neither a task of conf/task"):
        load_task_schema("nope.yaml", tmp_path)
    own = tmp_path / "mine.yaml"
    own.write_text(yaml.safe_dump({
        "name": "csv", "path": "???", "features": [{"name": "age", "type": "numeric",
                                                    "low": 0, "high": 99}],
        "label": {"name": "y", "classes": ["0", "1"]}}))
    assert load_task_schema("mine.yaml", tmp_path).features[0].name == "age"
