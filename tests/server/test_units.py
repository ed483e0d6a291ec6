"""Unit tests of the coordinator's small pieces: roster, replies, outputs, summaries."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch
from flwr.app import ArrayRecord, ConfigRecord, Error, Message, MetricRecord, RecordDict
from flwr.supercore.task_identity import TaskIdentity

from conf import protocol
from conf.protocol import SitePrivacyReport
from server.outputs import RunOutputs
from server.privacy_summary import privacy_summary
from server.replies import error_reason, site_record
from server.roster import SiteRoster
from server.strategies.site_guard import _finite
from server.summary import summary_text


def _report(site: str, run_eps: float, delta: float = 1e-5) -> SitePrivacyReport:
    return SitePrivacyReport(site=site, mechanism="dp_sgd", noise_multiplier=1.0,
                             sample_rate=0.1, steps=10, run_epsilon=run_eps,
                             lifetime_epsilon=run_eps + 1, delta=delta, accountant="rdp",
                             budget=10.0, remaining=9.0 - run_eps, private=True)


def _message(content: RecordDict) -> Message:
    TaskIdentity.task_id, TaskIdentity.run_id, TaskIdentity.node_id = 1, 1, 0
    request = Message(RecordDict(), dst_node_id=7, message_type="train")
    request.metadata.__dict__["_message_id"] = "req"
    return Message(content, reply_to=request)


def test_roster_names_excludes_and_finds_the_top_spender() -> None:
    roster = SiteRoster()
    assert roster.get(5).site == "node-5"
    roster.add(5, "clinic-a")
    roster.add(6, "clinic-b")
    roster.get(5).privacy = _report("clinic-a", 2.0)
    roster.get(6).privacy = _report("clinic-b", 2.5)
    roster.exclude(6, "budget exhausted")
    assert roster.usable_ids() == [5]
    assert roster.label(6) == "clinic-b (node 6)"
    assert roster.max_run_report().site == "clinic-b"  # excluded sites still spent


def test_replies_reasons_and_site_records() -> None:
    error = Message(Error(code=0, reason="Traceback ...\nValueError: boom\n"),
                    reply_to=_message(RecordDict()))
    assert error_reason(error) == "ValueError: boom"
    assert site_record(error) is None
    assert site_record(_message(RecordDict({protocol.SITE: ConfigRecord({"site": "x"})}))) is None
    ok = ConfigRecord({"site": "x", protocol.STATUS: protocol.OK})
    assert site_record(_message(RecordDict({protocol.SITE: ok}))) == ok


def test_finite_check_covers_arrays_and_metrics() -> None:
    good = RecordDict({protocol.ARRAYS: ArrayRecord([np.ones(3)]),
                       protocol.METRICS: MetricRecord({"num-examples": 3, "loss": 0.5})})
    assert _finite(_message(good))
    bad_array = RecordDict({protocol.ARRAYS: ArrayRecord([np.array([1.0, np.nan])])})
    assert not _finite(_message(bad_array))
    bad_metric = RecordDict({protocol.METRICS: MetricRecord({"loss": float("inf")})})
    assert not _finite(_message(bad_metric))


def test_outputs_append_rows_and_save_models_atomically(tmp_path: Path) -> None:
    outputs = RunOutputs(tmp_path / "run")
    outputs.append_metrics({"round": 1})
    outputs.append_metrics({"round": 2})
    lines = outputs.metrics_path.read_text().splitlines()
    assert [json.loads(x)["round"] for x in lines] == [1, 2]
    state = {"w": torch.arange(3.0)}
    path = outputs.checkpoint(4, state)
    assert path.name == "round-004.pt"
    assert torch.equal(torch.load(path)["w"], state["w"])
    assert not list((tmp_path / "run" / "checkpoints").glob("*.tmp"))


def test_summary_and_privacy_record_say_when_a_run_is_not_private(make_config) -> None:
    roster = SiteRoster()
    roster.add(1, "site-0").privacy = _report("site-0", 2.9)
    timing = {"preflight_seconds": 1.0, "rounds_seconds": 2.0}
    rows = [{"accuracy": 0.5, "loss": 1.0}]
    debug = make_config("reproducible=true")
    text = summary_text(debug, rows, roster, None, {"status": "finished", "reason": None}, timing)
    assert "WARNING: reproducible=true seeded the DP noise: this run is NOT private" in text
    assert "(rdp, δ=1e-05, unit=record)" in text
    record = privacy_summary(debug, roster)
    assert record["private"] is False and record["statement"].startswith("NOT PRIVATE")
    assert record["sites"]["site-0"]["run_epsilon"] == 2.9
    stopped = summary_text(make_config(), [], roster, None, {"status": "stopped", "reason": "why"},
                           timing)
    assert stopped.startswith("privfl run stopped (why): 0/10 rounds")


def test_summary_labels_mixed_deltas_per_site(make_config) -> None:
    roster = SiteRoster()
    roster.add(1, "a").privacy = _report("a", 1.0, delta=1e-5)
    roster.add(2, "b").privacy = _report("b", 1.0, delta=1e-6)
    text = summary_text(make_config(), [], roster, None, {"status": "finished", "reason": None},
                        {"preflight_seconds": 0, "rounds_seconds": 0})
    assert "(per site, see privacy.json)" in text
