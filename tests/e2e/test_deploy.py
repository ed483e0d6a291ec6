"""A real deployment on loopback: ``privfl certs``, ``privfl deploy superlink``, three
``privfl deploy supernode`` sites (each with its own CSV file, ledger folder and config
file) and ``privfl deploy run`` with DP-SGD and SecAgg+, plus the refusals around it."""

from __future__ import annotations

import json
import re
import shutil
import signal
import subprocess
import time
import tomllib
from pathlib import Path

import pytest
import tomli_w
import torch
import yaml
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from privacy.ledger import Ledger
from tests.support.deployment import Deployment, free_port, running_deployment, wait_until

pytestmark = pytest.mark.slow

SITES = 3
RUN = ["experiment=quick", "task=tabular", "secagg=secaggplus", "privacy.epsilon=3",
       f"sites={SITES}", "rounds=2"]


@pytest.fixture(scope="module")
def deployment(tmp_path_factory) -> Deployment:
    with running_deployment(tmp_path_factory.mktemp("deploy"), SITES, RUN) as deployment:
        yield deployment


@pytest.fixture(scope="module")
def main_run(deployment) -> subprocess.CompletedProcess:
    """``privfl deploy run`` of the three-site, two-round experiment."""
    return deployment.privfl("deploy", "run", *RUN, f"server_test_data={deployment.test_file}",
                             f"hydra.run.dir={_run_dir(deployment, 'main')}")


def _run_dir(deployment: Deployment, name: str) -> Path:
    return deployment.root / "coordinator" / "runs" / name


def test_three_sites_two_rounds_with_dp_sgd_and_secagg(deployment, main_run):
    run = main_run
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


def test_each_site_keeps_its_ledger_on_its_own_disk(deployment, main_run):
    out = _run_dir(deployment, "main")
    privacy = json.loads((out / "privacy.json").read_text())
    for i in range(SITES):
        ledger = Ledger.load(deployment.site_dir(i) / "ledger" / "ledger.json")
        run_ids = {event.run_id for event in ledger.events}
        assert len(run_ids) == 1 and len(ledger.events) == 2  # two rounds, charged once each
        spent = ledger.spent()
        assert 0 < spent <= 3.0 + 1e-6
        # under secure aggregation the site reports no ε (it would reveal its row count)
        assert "lifetime_epsilon" not in privacy["sites"][f"site-{i}"]
        assert not (out / "ledgers").exists()  # the coordinator holds no ledger
    assert privacy["site_epsilon_withheld"] is True
    ledger_cli = deployment.privfl("ledger", str(deployment.site_dir(0) / "ledger" /
                                                 "ledger.json"))
    assert ledger_cli.returncode == 0 and "site-0" in ledger_cli.stdout


def test_a_different_app_is_refused_by_every_site(deployment, main_run):
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


def _supernode(deployment: Deployment, name: str, *args: str) -> tuple[str, str]:
    """Run a bare flower-supernode to its end (bounded retries); its log and what the
    SuperLink logged meanwhile."""
    before = len(deployment.processes.log("superlink"))
    process = deployment.processes.start(name, [
        "flower-supernode", "--superlink", f"127.0.0.1:{deployment.port}", "--max-retries",
        "1", "--max-wait-time", "20", "--port", str(free_port()), *args])
    process.wait(timeout=120)
    assert process.returncode != 0
    log = deployment.processes.log(name)
    assert "SuperNode ID" not in log, log[-2000:]
    return log, deployment.processes.log("superlink")[before:]


def test_a_site_whose_key_is_not_registered_is_refused(deployment):
    keys = deployment.site_dir(0) / "keys"
    log, superlink = _supernode(deployment, "stranger", "--root-certificates",
                                str(keys / "ca.crt"), "--auth-supernode-private-key",
                                str(_new_auth_key(deployment.root)))
    assert "Failed to activate SuperNode" in log
    assert "No SuperNode found with the given public key" in superlink


def test_a_node_without_the_ca_certificate_cannot_connect(deployment):
    """Without the deployment's CA the TLS handshake fails: no request reaches the
    SuperLink, even with a registered key."""
    keys = deployment.site_dir(0) / "keys"
    log, superlink = _supernode(deployment, "no-ca", "--auth-supernode-private-key",
                                str(keys / "auth.key"))
    assert "CERTIFICATE_VERIFY_FAILED" in log
    assert "activate-node" not in superlink


def _charges(deployment: Deployment) -> list[int]:
    return [len(Ledger.load(deployment.site_dir(i) / "ledger" / "ledger.json").entries)
            for i in range(SITES)]


def test_sigterm_to_deploy_run_stops_the_run_on_the_superlink(deployment, main_run):
    """SIGTERM to ``privfl deploy run`` once round 1 is charged: it stops the run on the
    SuperLink (flwr stop), says so, exits 143, and no site is charged for it afterwards."""
    before = _charges(deployment)
    process = deployment.processes.privfl(
        "interrupted-run", "deploy", "run", *RUN, "rounds=20",
        f"hydra.run.dir={_run_dir(deployment, 'interrupted')}")
    wait_until(lambda: _charges(deployment) > before, 600, lambda: process.poll() is not None,
               lambda: deployment.processes.log("interrupted-run")[-3000:])
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=120) == 128 + signal.SIGTERM
    log = deployment.processes.log("interrupted-run")
    run_id = re.search(r"Successfully started run (\d+)", log).group(1)
    assert (f"privfl: interrupted by SIGTERM: stopped run {run_id} on the SuperLink (flwr "
            "stop): no site trains or is charged for it any more") in log
    listed = subprocess.run(["flwr", "ls", "privfl", "--run-id", run_id], env=deployment.env,
                            capture_output=True, text=True, check=False)
    assert "stopped" in listed.stdout.lower(), listed.stdout + listed.stderr
    charged = _charges(deployment)
    time.sleep(10)  # the sites poll the SuperLink every few seconds
    assert _charges(deployment) == charged


def test_a_site_killed_mid_round_does_not_stall_the_run(deployment):
    """site-2 dies once it has its third SecAgg+ message of round 1 (collect masked
    inputs). The coordinator learns it within the stage timeout (the SuperLink answers for
    the dead node, or the stage times out) and does not stall: with three sites SecAgg+
    cannot recover a survivor's self-mask from one share (threshold 2), so the round is
    discarded, the model kept, and with no site trained (below min_sites) the run stops
    cleanly, naming each site and why."""
    stage_timeout = 60
    out = _run_dir(deployment, "killed")
    process = deployment.processes.privfl(
        "killed-run", "deploy", "run", *RUN, "rounds=1", f"secagg.stage_timeout={stage_timeout}",
        "strategy.round_timeout=300", f"hydra.run.dir={out}")
    marker = "Receiving: train message"  # one per SecAgg+ stage
    before = deployment.processes.log("site-2").count(marker)
    deadline = time.monotonic() + 600
    while deployment.processes.log("site-2").count(marker) < before + 3:
        assert time.monotonic() < deadline and process.poll() is None
        time.sleep(0.2)
    deployment.processes.kill("site-2")
    killed_at = time.monotonic()
    process.wait(timeout=900)
    after_kill = time.monotonic() - killed_at
    outcome = json.loads((out / "outcome.json").read_text())
    assert outcome["status"] == "stopped" and outcome["rounds_completed"] == 0, outcome
    reason = outcome["reason"]
    assert reason.startswith("round 1: only 0 of 3 sampled site(s) trained"), reason
    left_out = reason.split("(left out: ", 1)[1]
    assert all(f"site-{i}: " in left_out for i in range(3))
    assert "node-1" not in left_out  # never the SuperLink's own node
    dead = left_out.split("site-2: ", 1)[1]
    assert "Node Unavailable" in dead or f"no reply within {stage_timeout} s" in dead, dead
    assert "round discarded" in left_out.split("site-0: ", 1)[1]
    # the survivors waited at most one stage timeout for the dead site
    assert after_kill < stage_timeout + 240, after_kill


def test_a_node_claiming_another_sites_name_never_replaces_its_row(deployment):
    """A SuperNode authenticated with site-2's key (site-2 is gone) says it is site-0. The
    coordinator keys its records by node: one node keeps the name, the other is recorded
    as ``node-<id> (claims 'site-0')`` and left out; neither row replaces the other. (The
    run asks for privacy=none, which every site refuses at preflight: the rows are made
    there, and the run stops without a round.)"""
    if deployment.processes.started["site-2"].poll() is None:
        deployment.processes.kill("site-2")
    folder = deployment.site_dir(2)
    config = yaml.safe_load((folder / "site.yaml").read_text())
    impostor = folder / "impostor.yaml"
    impostor.write_text(yaml.safe_dump({**config, "site": "site-0",
                                        "ledger_path": "ledger/impostor.json"}))
    _start_impostor(deployment, impostor)
    out = _run_dir(deployment, "duplicate")
    plain = [o for o in RUN if not o.startswith("privacy.")]
    run = deployment.privfl("deploy", "run", *plain, "rounds=1", "privacy=none",
                            "strategy.round_timeout=120", f"hydra.run.dir={out}")
    assert run.returncode == 3, run.stdout[-3000:] + run.stderr[-3000:]
    sites = json.loads((out / "privacy.json").read_text())["sites"]
    claims = [name for name in sites if name.endswith("(claims 'site-0')")]
    assert "site-0" in sites and len(claims) == 1, sites
    holder, claimer = sites["site-0"], sites[claims[0]]
    assert holder["node_id"] != claimer["node_id"]
    assert claims[0] == f"node-{claimer['node_id']} (claims 'site-0')"
    assert claimer["excluded"] == (f"site name 'site-0' is already used by node "
                                   f"{holder['node_id']}")
    assert holder["excluded"] is None or "already used" not in holder["excluded"]


def _start_impostor(deployment: Deployment, config: Path) -> None:
    """Start the impostor's SuperNode; the SuperLink refuses to activate site-2's key
    again until it has marked the dead site-2 offline (its heartbeat expired): retry."""
    deadline = time.monotonic() + 300
    init = ["--init-ledger"]
    while True:
        process = deployment.processes.privfl("impostor", "deploy", "supernode", f"site={config}",
                                              f"runtime_port={free_port()}", *init)
        init = []  # the impostor's ledger exists after the first try
        wait_until(lambda p=process: "SuperNode ID" in deployment.processes.log("impostor")
                   or p.poll() is not None, 180, lambda: False,
                   lambda: deployment.processes.log("impostor")[-3000:])
        if process.poll() is None:
            return
        assert "Failed to activate SuperNode" in deployment.processes.log("impostor")
        assert time.monotonic() < deadline, deployment.processes.log("impostor")[-3000:]
        time.sleep(10)
