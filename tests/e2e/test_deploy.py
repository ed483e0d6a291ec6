"""A real deployment on loopback: ``privfl certs``, ``privfl deploy superlink``, three
``privfl deploy supernode`` sites (each with its own CSV file, ledger folder and config
file) and ``privfl deploy run`` with DP-SGD and SecAgg+, plus the refusals around it."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import tomllib
from dataclasses import dataclass
from pathlib import Path

import pytest
import tomli_w
import torch
import yaml
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from hydra import compose, initialize_config_module
from omegaconf import OmegaConf

from conf.validate import validate
from privacy.ledger import Ledger
from simulations.site_data import write_site_data
from tasks.io import read_table, write_table
from tests.support.deployment import Processes, free_port

pytestmark = pytest.mark.slow

SITES = 3
RUN = ["experiment=quick", "task=tabular", "secagg=secaggplus", "privacy.epsilon=3",
       f"sites={SITES}", "rounds=2"]
START_SECONDS = 120


@dataclass
class Deployment:
    root: Path
    processes: Processes
    port: int
    env: dict[str, str]

    def site_dir(self, i: int) -> Path:
        return self.root / f"site-{i}"

    def privfl(self, *args: str, timeout: float = 900) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "privfl.cli", *args], env=self.env,
                              cwd=self.root / "coordinator", capture_output=True, text=True,
                              timeout=timeout)


def _site_data(root: Path) -> Path:
    """The tabular task's table split into three site CSVs and a coordinator test file."""
    with initialize_config_module(config_module="conf", version_base="1.3"):
        raw = compose("config", overrides=[*RUN, "output_dir=."])
    cfg = validate(OmegaConf.to_container(raw, resolve=True))
    data = write_site_data(cfg, root / "split")
    for i, path in enumerate(data.site_files):
        (root / f"site-{i}" / "data").mkdir(parents=True)
        (root / f"site-{i}" / "ledger").mkdir()
        write_table(read_table(path), root / f"site-{i}" / "data" / "churn.csv")
    test_file = root / "coordinator" / "test.csv"
    test_file.parent.mkdir()
    write_table(read_table(data.server_test), test_file)
    shutil.rmtree(root / "split")
    return test_file


def _site_config(deployment_root: Path, i: int, port: int) -> Path:
    """Site i's own config file; its bundle from `privfl certs` copied next to it."""
    folder = deployment_root / f"site-{i}"
    shutil.copytree(deployment_root / "certs" / "sites" / f"site-{i}", folder / "keys")
    config = {
        "site": f"site-{i}", "superlink": f"127.0.0.1:{port}",
        "data_path": "data/churn.csv", "task": "tabular",
        "ledger_path": "ledger/ledger.json", "budget": 10.0, "delta": 1e-5,
        "root_certificates": "keys/ca.crt", "auth_key": "keys/auth.key",
        "identity_key": "keys/identity.key", "roster": "keys/roster.json",
        "min_noise_multiplier": 0.3, "max_epsilon_per_run": 5.0, "max_retries": 3,
    }
    path = folder / "site.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


@pytest.fixture(scope="module")
def deployment(tmp_path_factory) -> Deployment:
    root = tmp_path_factory.mktemp("deploy")
    env = {**os.environ, "FLWR_HOME": str(root / "flwr-home"), "PYTHONUNBUFFERED": "1",
           "FLWR_TELEMETRY_ENABLED": "0"}
    processes = Processes(root / "logs", env)
    port = free_port()
    test_file = _site_data(root)
    deployment = Deployment(root, processes, port, env)
    try:
        certs = deployment.privfl("certs", f"out={root / 'certs'}", f"sites={SITES}",
                                  "hosts=[localhost,127.0.0.1]")
        assert certs.returncode == 0, certs.stderr
        processes.privfl("superlink", "deploy", "superlink", f"certs={root / 'certs'}",
                         "host=127.0.0.1", f"port={port}")
        processes.wait_for("superlink", "site keys registered", START_SECONDS)
        for i in range(SITES):
            config = _site_config(root, i, port)
            processes.privfl(f"site-{i}", "deploy", "supernode", f"site={config}",
                             f"runtime_port={free_port()}")
        for i in range(SITES):
            processes.wait_for(f"site-{i}", "SuperNode ID", START_SECONDS)
        started = time.monotonic()
        run = deployment.privfl("deploy", "run", *RUN, f"server_test_data={test_file}",
                                f"hydra.run.dir={root / 'coordinator' / 'runs' / 'main'}")
        deployment.main_run = run  # type: ignore[attr-defined]
        deployment.main_seconds = time.monotonic() - started  # type: ignore[attr-defined]
        yield deployment
    finally:
        processes.stop_all()


def _run_dir(deployment: Deployment, name: str) -> Path:
    return deployment.root / "coordinator" / "runs" / name


def test_three_sites_two_rounds_with_dp_sgd_and_secagg(deployment):
    run = deployment.main_run
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    out = _run_dir(deployment, "main")
    assert json.loads((out / "outcome.json").read_text())["status"] == "finished"
    rows = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert [r["round"] for r in rows] == [1, 2]
    assert all(r["sites_trained"] == SITES for r in rows), rows
    assert rows[-1]["accuracy"] > 0.6  # churn: majority class 73 %
    state = torch.load(out / "model.pt")
    assert all(torch.isfinite(t).all() for t in state.values())
    privacy = json.loads((out / "privacy.json").read_text())
    assert sorted(privacy["sites"]) == [f"site-{i}" for i in range(SITES)]
    assert privacy["preflight"] == []
    assert "privacy=dp_sgd ε=3 per site" in run.stdout
    assert (out / "config.yaml").exists() and (out / "manifest.json").exists()


def test_each_site_keeps_its_ledger_on_its_own_disk(deployment):
    out = _run_dir(deployment, "main")
    privacy = json.loads((out / "privacy.json").read_text())
    for i in range(SITES):
        ledger = Ledger.load(deployment.site_dir(i) / "ledger" / "ledger.json")
        run_ids = {event.run_id for event in ledger.events}
        assert len(run_ids) == 1 and len(ledger.events) == 2  # two rounds, charged once each
        spent = ledger.spent()
        assert 0 < spent <= 3.0 + 1e-6
        reported = privacy["sites"][f"site-{i}"]
        assert reported["lifetime_epsilon"] == pytest.approx(spent, rel=1e-6)
        assert not (out / "ledgers").exists()  # the coordinator holds no ledger
    ledger_cli = deployment.privfl("ledger", str(deployment.site_dir(0) / "ledger" /
                                                 "ledger.json"))
    assert ledger_cli.returncode == 0 and "site-0" in ledger_cli.stdout


def test_a_different_app_is_refused_by_every_site(deployment):
    app = _run_dir(deployment, "main") / "flwr-app"
    tampered = deployment.root / "coordinator" / "tampered-app"
    shutil.copytree(app, tampered)
    (tampered / "client").mkdir()
    (tampered / "client" / "app.py").write_text("app = None  # would shadow the site's app\n")
    project = tomllib.loads((tampered / "pyproject.toml").read_text())
    out = _run_dir(deployment, "tampered")
    config = project["tool"]["flwr"]["app"]["config"]
    config["output_dir"] = str(out)
    config["strategy.round_timeout"] = 60.0
    (tampered / "pyproject.toml").write_text(tomli_w.dumps(project))
    env = {**deployment.env, "FLWR_DISABLE_RUNTIME_DEPENDENCY_INSTALLATION": "1"}
    subprocess.run(["flwr", "run", str(tampered), "privfl", "--stream"], env=env,
                   capture_output=True, timeout=300, check=False)
    outcome = json.loads((out / "outcome.json").read_text())
    assert outcome["status"] == "stopped" and outcome["rounds_completed"] == 0
    preflight = json.loads((out / "privacy.json").read_text())["preflight"]
    assert len(preflight) == SITES and all(r["kind"] == "error" for r in preflight)
    for i in range(SITES):
        assert "refusing run" in deployment.processes.log(f"site-{i}")


def _new_auth_key(folder: Path) -> Path:
    key = ec.generate_private_key(ec.SECP384R1())
    path = folder / "stranger.key"
    path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                       serialization.PrivateFormat.OpenSSH,
                                       serialization.NoEncryption()))
    path.chmod(0o600)
    return path


def _supernode(deployment: Deployment, name: str, *args: str) -> str:
    """Run a bare flower-supernode to its end (bounded retries); its output."""
    process = deployment.processes.start(name, [
        "flower-supernode", "--superlink", f"127.0.0.1:{deployment.port}", "--max-retries",
        "1", "--max-wait-time", "20", "--port", str(free_port()), *args])
    process.wait(timeout=120)
    assert process.returncode != 0
    return deployment.processes.log(name)


def test_a_site_whose_key_is_not_registered_is_refused(deployment):
    keys = deployment.site_dir(0) / "keys"
    log = _supernode(deployment, "stranger", "--root-certificates", str(keys / "ca.crt"),
                     "--auth-supernode-private-key", str(_new_auth_key(deployment.root)))
    assert "SuperNode ID" not in log
    assert "not registered" in log.lower() or "permission" in log.lower() or \
        "unauth" in log.lower(), log[-2000:]


def test_a_node_without_the_ca_certificate_cannot_connect(deployment):
    keys = deployment.site_dir(0) / "keys"
    log = _supernode(deployment, "no-ca", "--auth-supernode-private-key",
                     str(keys / "auth.key"))
    assert "SuperNode ID" not in log
    assert "certificate" in log.lower() or "ssl" in log.lower(), log[-2000:]


def test_a_site_killed_mid_round_does_not_stall_the_run(deployment):
    stage_timeout = 20
    out = _run_dir(deployment, "killed")
    process = deployment.processes.privfl(
        "killed-run", "deploy", "run", *RUN, f"secagg.stage_timeout={stage_timeout}",
        "strategy.round_timeout=120", f"hydra.run.dir={out}")
    marker = "[RUN"
    before = deployment.processes.log("site-2").count(marker)
    deadline = time.monotonic() + 300
    while deployment.processes.log("site-2").count(marker) < before + 2:  # preflight + train
        assert time.monotonic() < deadline and process.poll() is None
        time.sleep(0.3)
    deployment.processes.kill("site-2")
    killed_at = time.monotonic()
    process.wait(timeout=600)
    after_kill = time.monotonic() - killed_at
    outcome = json.loads((out / "outcome.json").read_text())
    assert outcome["status"] == "finished", outcome
    rows = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert len(rows) == 2 and rows[0]["sites_trained"] == SITES - 1
    # each of the two rounds waits at most a few stage timeouts for the dead site
    assert after_kill < 2 * 4 * stage_timeout + 180, after_kill
