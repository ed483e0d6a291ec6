"""Training rounds under SecAgg+ through the real ServerApp and ClientApp (in-process).

The coordinator-fault tests make the in-process grid a lying coordinator
(``tests/support/lying_coordinator.py``): it rewrites what one site receives at one
stage, and the test checks what the sites and the ServerApp make of it.
"""

from __future__ import annotations

import dataclasses
import json
import secrets
import sys
from pathlib import Path

import numpy as np
import numpy.random as numpy_random
import pytest
import torch
from flwr.app import ConfigRecord, Message, RecordDict
from flwr.app.message_type import MessageType
from flwr.serverapp.strategy import strategy_utils

from client import local_data
from client.mods import secagg as site_mod
from conf import protocol
from privacy.ledger import Ledger
from privacy.secagg import wire
from privacy.secagg.messages import PAIRWISE, SELF_MASK, UnmaskRequest
from tests.support import lying_coordinator as liar
from tests.support.federation import Federation, build_federation, node_id
from tests.support.inprocess_grid import CRASH, SILENT
from tests.support.insecure_rng import forbid_insecure_rng

SECURE = ("sites=5", "secagg=secaggplus", "privacy=none")
SENDER, RECEIVER, OTHER = node_id(3), node_id(1), node_id(4)
LEFT_OUT = ("secure aggregation left out: a neighbour rejected its share ciphertext "
            "(tampered or replayed)")


def _rows(run_dir: Path) -> list[dict]:
    return [json.loads(x) for x in (run_dir / "metrics.jsonl").read_text().splitlines()]


def _model(run_dir: Path, name: str = "model.pt") -> dict[str, torch.Tensor]:
    return torch.load(run_dir / name)


def test_secure_round_equals_plaintext_fedavg(make_config, tmp_path: Path) -> None:
    overrides = ("sites=5", "rounds=1", "privacy=none")
    plain = build_federation(make_config(*overrides), tmp_path / "plain")
    plain.run()
    secure = build_federation(make_config(*overrides, "secagg=secaggplus"), tmp_path / "secure")
    secure.run()
    expected, got = _model(plain.run_dir), _model(secure.run_dir)
    assert all(torch.allclose(expected[k], got[k], atol=1e-4) for k in expected)
    row = _rows(secure.run_dir)[0]
    assert row["sites_trained"] == 5 and row["failed"] == []


@pytest.mark.parametrize("stage", ["advertise", "share", "mask", "unmask"])
@pytest.mark.parametrize("fault", [CRASH, SILENT])
def test_a_site_failing_at_any_stage_leaves_the_others_aggregated(
        make_config, tmp_path: Path, stage: str, fault: str) -> None:
    cfg = make_config("sites=5", "rounds=1", "secagg=secaggplus", "secagg.stage_timeout=5")
    fed = build_federation(cfg, tmp_path, faults={node_id(2): (f"train/{stage}", fault)})
    fed.run()
    row = _rows(fed.run_dir)[0]
    before, after = _model(fed.run_dir, "checkpoints/round-000.pt"), _model(fed.run_dir)
    assert any(not torch.equal(before[k], after[k]) for k in before)
    assert all(torch.isfinite(v).all() for v in after.values())
    if stage == "unmask":  # its masked input arrived: it still counts
        assert row["sites_trained"] == 5
    else:
        assert row["sites_trained"] == 4
        assert row["failed"][0]["site"] == "site-2"
        assert f"stage {stage}" in row["failed"][0]["reason"]


def test_below_threshold_the_round_is_discarded_and_the_model_kept(make_config,
                                                                    tmp_path: Path) -> None:
    cfg = make_config("sites=5", "rounds=1", "secagg=secaggplus", "min_sites=2")
    faults = {node_id(i): ("train/mask", CRASH) for i in (0, 1, 2)}
    fed = build_federation(cfg, tmp_path, faults=faults)
    fed.run()
    outcome = json.loads((fed.run_dir / "outcome.json").read_text())
    assert outcome["status"] == "stopped"  # 0 of 5 trained, below min_sites
    assert "round discarded" in outcome["reason"]
    before, after = _model(fed.run_dir, "checkpoints/round-000.pt"), _model(fed.run_dir)
    assert all(torch.equal(before[k], after[k]) for k in before)
    # the aborted round's keys and seeds are gone from every node (crashed or not)
    assert all(site_mod.STATE not in c.state for c in fed.grid.contexts.values())


def test_a_malformed_payload_drops_only_its_sender(make_config, tmp_path: Path,
                                                   monkeypatch) -> None:
    real = site_mod.wire.dump_masked
    monkeypatch.setattr(site_mod.wire, "dump_masked",
                        lambda m, bits: b"{not json" if m.node == node_id(3) else real(m, bits))
    fed = build_federation(make_config("sites=5", "rounds=1", "secagg=secaggplus"), tmp_path)
    fed.run()
    row = _rows(fed.run_dir)[0]
    assert row["sites_trained"] == 4
    assert row["failed"][0]["site"] == "site-3"
    assert "stage mask: malformed payload" in row["failed"][0]["reason"]


def test_a_masked_vector_of_the_wrong_length_drops_only_its_sender(make_config, tmp_path: Path,
                                                                   monkeypatch) -> None:
    real = site_mod.wire.dump_masked

    def short(masked, bits: int) -> bytes:
        if masked.node == node_id(3):
            masked = dataclasses.replace(masked, vector=masked.vector[:-5])
        return real(masked, bits)

    monkeypatch.setattr(site_mod.wire, "dump_masked", short)
    fed = build_federation(make_config("sites=5", "rounds=1", "secagg=secaggplus"), tmp_path)
    fed.run()
    row = _rows(fed.run_dir)[0]
    assert row["sites_trained"] == 4
    assert row["failed"][0]["site"] == "site-3"
    assert "masked vector is not" in row["failed"][0]["reason"]
    after = _model(fed.run_dir)
    assert all(torch.isfinite(v).all() for v in after.values())


# --- a lying coordinator ------------------------------------------------------------------


def _same(expected: dict[str, torch.Tensor], got: dict[str, torch.Tensor]) -> bool:
    return all(torch.allclose(expected[k], got[k], atol=1e-4) for k in expected)


def _changed_and_finite(fed: Federation, since: str = "checkpoints/round-000.pt") -> bool:
    before, after = _model(fed.run_dir, since), _model(fed.run_dir)
    return (any(not torch.equal(before[k], after[k]) for k in before)
            and all(torch.isfinite(v).all() for v in after.values()))


def _plain_without(make_config, root: Path, site: int) -> dict[str, torch.Tensor]:
    """The model of a plaintext FedAvg round in which ``site`` fails (the survivors' mean)."""
    fed = build_federation(make_config("sites=5", "rounds=1", "privacy=none"), root,
                           faults={node_id(site): ("train", CRASH)})
    fed.run()
    assert _rows(fed.run_dir)[0]["sites_trained"] == 4
    return _model(fed.run_dir)


def _replies(fed: Federation, node: int, kind: str) -> list[Message]:
    return [reply for n, k, reply in fed.grid.replies if n == node and k == kind]


def _sent(reply: Message) -> bytes:
    return reply.content[protocol.SECAGG][protocol.PAYLOAD]


def _assert_sender_dropped(fed: Federation, rows: list[dict]) -> None:
    """SENDER is out of the last round as a dropped site; RECEIVER said why; nobody else is."""
    row = rows[-1]
    assert row["sites_trained"] == 4 and row["refused"] == []
    assert row["failed"] == [{"site": "site-3", "stage": "train", "reason": LEFT_OUT}]
    masked = _replies(fed, RECEIVER, "train/mask")[-1]
    report = wire.load_masked(_sent(masked))
    assert report.rejected == (SENDER,) and SENDER not in report.masked_with
    # the survivors were asked for SENDER's mask-key share (a dropped site), never its seed's
    for node in (node_id(0), node_id(2), OTHER):
        shares = wire.load_shares(_sent(_replies(fed, node, "train/unmask")[-1]))
        assert shares[SENDER][0] == PAIRWISE
    assert len(_replies(fed, SENDER, "train/unmask")) == len(rows) - 1  # not asked to unmask


def test_a_tampered_share_ciphertext_drops_its_sender(make_config, tmp_path: Path) -> None:
    fed = build_federation(make_config(*SECURE, "rounds=1"), tmp_path / "secure")
    fed.grid.rewrite = rewrite = liar.flip_share(SENDER, RECEIVER)
    fed.run()
    assert rewrite.calls == 1
    _assert_sender_dropped(fed, _rows(fed.run_dir))
    assert _changed_and_finite(fed)
    assert _same(_plain_without(make_config, tmp_path / "plain", 3), _model(fed.run_dir))


@pytest.mark.parametrize("how", liar.REPLAYS)
def test_a_replayed_share_ciphertext_drops_its_sender(make_config, tmp_path: Path,
                                                      how: str) -> None:
    rounds = 2 if how == "previous-round" else 1
    fed = build_federation(make_config(*SECURE, f"rounds={rounds}"), tmp_path / "secure")
    fed.grid.rewrite = rewrite = liar.replay_share(how, SENDER, RECEIVER, OTHER)
    fed.run()
    assert rewrite.calls == rounds
    rows = _rows(fed.run_dir)
    _assert_sender_dropped(fed, rows)
    if how == "previous-round":  # round 1 was honest
        assert rows[0]["sites_trained"] == 5 and rows[0]["failed"] == []
        assert _changed_and_finite(fed, since="checkpoints/round-001.pt")
    else:
        assert _changed_and_finite(fed)
        assert _same(_plain_without(make_config, tmp_path / "plain", 3), _model(fed.run_dir))


@pytest.mark.parametrize("how", liar.FORGERIES)
def test_a_forged_key_advertisement_is_refused_by_the_site_shown_it(
        make_config, tmp_path: Path, how: str) -> None:
    rounds = 2 if how == "replayed" else 1
    fed = build_federation(make_config(*SECURE, f"rounds={rounds}"), tmp_path / "secure")
    fed.grid.rewrite = rewrite = liar.forge_ad(how, SENDER, RECEIVER, OTHER,
                                               run=str(fed.grid.run.run_id))
    fed.run()
    assert rewrite.calls == rounds
    rows = _rows(fed.run_dir)
    row = rows[-1]
    # RECEIVER refuses at the share stage: it seals nothing, so no key it was shown is used
    [refusal] = row["refused"]
    assert (refusal["site"], refusal["kind"]) == ("site-1", "ForgedKeyError")
    assert "'site-3' (node 1003)" in refusal["reason"]
    assert not _replies(fed, RECEIVER, "train/mask")[rounds - 1:]
    # ... and the others finish the round without it, as if it had dropped out
    assert row["sites_trained"] == 4 and row["failed"] == []
    if how == "replayed":
        assert rows[0]["sites_trained"] == 5 and rows[0]["refused"] == []
        assert _changed_and_finite(fed, since="checkpoints/round-001.pt")
    else:
        assert _changed_and_finite(fed)
        assert _same(_plain_without(make_config, tmp_path / "plain", 1), _model(fed.run_dir))


def test_a_share_that_is_not_even_bytes_drops_its_sender_not_its_receiver(
        make_config, tmp_path: Path, monkeypatch) -> None:
    class SitesWire:  # privacy.secagg.wire as the sites' mod sees it (not the server)
        def __getattr__(self, name: str) -> object:
            return getattr(wire, name)

        def dump_sealed(self, sealed: dict) -> bytes:  # the share stage's reply
            return wire.dump_sealed({**sealed, RECEIVER: 7} if SENDER not in sealed
                                     else sealed)

    monkeypatch.setattr(site_mod, "wire", SitesWire())
    fed = build_federation(make_config(*SECURE, "rounds=1"), tmp_path)
    fed.run()
    row = _rows(fed.run_dir)[0]
    assert [f["site"] for f in row["failed"]] == ["site-3"]
    assert row["sites_trained"] == 4


def test_a_coordinator_forging_every_key_gets_no_aggregate(make_config,
                                                           tmp_path: Path) -> None:
    fed = build_federation(make_config(*SECURE, "rounds=1"), tmp_path)
    fed.grid.rewrite = liar.forge_every_ad()
    fed.run()
    outcome = json.loads((fed.run_dir / "outcome.json").read_text())
    assert outcome["status"] == "stopped"  # 0 of 5 trained: below min_sites
    sites = json.loads((fed.run_dir / "privacy.json").read_text())["sites"]
    assert sorted(sites) == [f"site-{i}" for i in range(5)]
    assert all(s["refusals"] == 1 and s["rounds_trained"] == 0 for s in sites.values())
    assert all(f"{name}: " in outcome["reason"] for name in sites)
    assert not [kind for _, kind, _ in fed.grid.replies if kind == "train/mask"]
    before, after = _model(fed.run_dir, "checkpoints/round-000.pt"), _model(fed.run_dir)
    assert all(torch.equal(before[k], after[k]) for k in before)


def test_an_unmask_request_for_both_secrets_of_a_site_is_refused(make_config,
                                                                 tmp_path: Path) -> None:
    fed = build_federation(make_config(*SECURE, "rounds=1"), tmp_path / "secure")
    fed.grid.rewrite = rewrite = liar.ask_both(RECEIVER, about=SENDER)
    fed.run()
    assert rewrite.calls == 1
    [reply] = _replies(fed, RECEIVER, "train/unmask")
    site = reply.content[protocol.SITE]
    assert site[protocol.STATUS] == protocol.REFUSED
    assert site[protocol.KIND] == "UnmaskRefusedError"
    assert f"both secrets of node(s) [{SENDER}]" in site[protocol.REASON]
    assert protocol.SECAGG not in reply.content.config_records  # no share left the site
    # the honest sites' shares suffice: every masked input counts, the sum is exact
    row = _rows(fed.run_dir)[0]
    assert row["sites_trained"] == 5 and row["failed"] == []
    plain = build_federation(make_config("sites=5", "rounds=1", "privacy=none"),
                             tmp_path / "plain")
    plain.run()
    assert _same(_model(plain.run_dir), _model(fed.run_dir))
    # a site that gave SENDER's seed share refuses a later request for its mask-key share:
    # its round is over (each stage runs once) and its secrets are gone
    honest = node_id(0)
    shares = wire.load_shares(_sent(_replies(fed, honest, "train/unmask")[0]))
    assert shares[SENDER][0] == SELF_MASK
    again = Message(RecordDict({
        protocol.CONFIG: ConfigRecord({"server-round": 1, protocol.SECAGG_STAGE: "unmask"}),
        protocol.SECAGG: ConfigRecord({protocol.PAYLOAD: wire.dump_request(
            UnmaskRequest(survivors=(), dropped=(SENDER,)))}),
    }), dst_node_id=honest, message_type=MessageType.TRAIN)
    [late] = fed.grid.send_and_receive([again])
    assert late.content[protocol.SITE][protocol.KIND] == "OutOfOrderError"
    assert "stage 'unmask' of round 1 while at round 1 after its unmask stage" in \
        late.content[protocol.SITE][protocol.REASON]
    assert protocol.SECAGG not in late.content.config_records
    assert "secagg-state" not in fed.grid.contexts[honest].state


def test_a_whole_secure_round_uses_no_insecure_randomness(make_config, tmp_path: Path,
                                                          monkeypatch) -> None:
    fed = build_federation(make_config("sites=4", "rounds=1", "secagg=secaggplus"), tmp_path)
    forbid_insecure_rng(monkeypatch)
    # Two uses that hold no secret are let through, by name: the seeded local train/test
    # split of a site's data (a public seed), and Flower's node sampling (OS entropy here).
    split = local_data.local_split

    def seeded_split(*args: object) -> object:
        with monkeypatch.context() as allowed:
            allowed.setattr(np, "random", numpy_random)
            allowed.setitem(sys.modules, "numpy.random", numpy_random)
            return split(*args)

    monkeypatch.setattr(local_data, "local_split", seeded_split)
    monkeypatch.setattr(strategy_utils, "random", secrets.SystemRandom())
    fed.run()
    row = _rows(fed.run_dir)[0]
    assert row["sites_trained"] == 4 and row["failed"] == [] and row["refused"] == []
    assert row["max_run_epsilon"] is None and row["planned_run_epsilon"] == 3.0
    assert Ledger.load(fed.ledger(0)).events  # DP-SGD ran too, charged at the site
    assert _changed_and_finite(fed)
