"""A lying coordinator as a real ServerApp, for Flower's Simulation Runtime (tests only).

It sends the sites, through the runtime and its Ray ClientApp actors, what an honest
privfl coordinator never would: a synthesis query before any preflight, a plain train
message with the model (skipping SecAgg+), a mask stage that no advertise opened, the
advertise of one round twice, and a federated evaluation under secure aggregation. Every
site's answer to each is written to ``<output_dir>/liar.json`` (and ``outcome.json``, which
``privfl simulate`` reads back); :func:`simulate` runs it with ``privfl simulate``.
"""

from __future__ import annotations

import json
from pathlib import Path

from flwr.app import ArrayRecord, ConfigRecord, Context, Message, RecordDict
from flwr.app.message_type import MessageType
from flwr.serverapp import Grid, ServerApp

from conf import protocol
from conf.run_config import from_run_config
from server.preflight import wait_for_sites
from server.replies import error_reason, site_record
from tasks.registry import get_task

APP_REF = "tests.support.lying_server_app:app"
REPLIES = "liar.json"

app = ServerApp()


@app.main()
def main(grid: Grid, context: Context) -> None:
    cfg = from_run_config(context.run_config)
    nodes = sorted(wait_for_sites(grid, cfg.sites, cfg.strategy.round_timeout))
    arrays = ArrayRecord(get_task(cfg.task).build_model().state_dict())
    model = {protocol.ARRAYS: arrays}

    def stage(name: str, server_round: int = 1) -> dict:
        return {protocol.CONFIG: ConfigRecord({"server-round": server_round,
                                               protocol.SECAGG_STAGE: name}),
                protocol.SECAGG: ConfigRecord({protocol.PAYLOAD: b""})}

    attacks = [
        ("synthesize before preflight", f"query.{protocol.SYNTHESIZE}", {}),
        ("preflight", f"query.{protocol.PREFLIGHT}", {}),
        ("plain train", MessageType.TRAIN,
         {**model, protocol.CONFIG: ConfigRecord({"server-round": 1})}),
        ("mask without advertise", MessageType.TRAIN, {**model, **stage(protocol.MASK)}),
        ("advertise", MessageType.TRAIN, stage(protocol.ADVERTISE)),
        ("advertise again", MessageType.TRAIN, stage(protocol.ADVERTISE)),
        ("evaluate", MessageType.EVALUATE,
         {**model, protocol.CONFIG: ConfigRecord({"server-round": 1})}),
    ]
    answers: dict[str, dict[str, dict]] = {}
    for name, kind, content in attacks:
        messages = [Message(RecordDict({protocol.CONFIG: ConfigRecord(), **content}),
                            dst_node_id=node, message_type=kind) for node in nodes]
        answers[name] = {
            str(reply.metadata.src_node_id): _answer(reply)
            for reply in grid.send_and_receive(messages, timeout=cfg.strategy.round_timeout)
        }
    out = Path(cfg.output_dir)
    (out / REPLIES).write_text(json.dumps(answers, indent=1))
    (out / "outcome.json").write_text(json.dumps({"status": "finished", "reason": None}))


def _answer(reply: Message) -> dict:
    site = site_record(reply)
    if site is None:
        return {"status": "error", "reason": error_reason(reply) if reply.has_error() else ""}
    return {"site": str(site["site"]), "status": str(site[protocol.STATUS]),
            "reason": str(site.get(protocol.REASON, ""))}


def simulate(overrides: list[str]) -> int:
    """``privfl simulate OVERRIDES`` with this ServerApp in the Simulation Runtime."""
    import simulations.runtime
    from privfl.cli import main as privfl

    simulations.runtime.SERVER_APP = APP_REF  # read by write_app_dir and run_federation
    return privfl(["simulate", *overrides])
