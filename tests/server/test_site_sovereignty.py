"""A lying coordinator against the real ClientApp (in-process): every message it sends
outside the script is refused by the site, with a reason naming the site's setting or
protocol rule, and the site's ledger is byte-for-byte unchanged."""

from __future__ import annotations

from pathlib import Path

import pytest
from flwr.app import ArrayRecord, ConfigRecord, Message, RecordDict
from flwr.app.message_type import MessageType

from client.mods.secagg import STATE
from conf import protocol
from conf.run_config import to_run_config
from privacy.secagg import wire
from privacy.secagg.messages import Advertisement
from tasks.registry import get_task
from tests.support.federation import Federation, build_federation, node_id

TARGET = 0


def _ledger_bytes(fed: Federation, site: int = TARGET) -> bytes | None:
    path = fed.ledger(site)
    return path.read_bytes() if path.exists() else None


def _stage(fed: Federation, site: int, stage: str, server_round: int, payload: bytes = b"",
           *, with_model: bool = False) -> Message:
    records = {
        protocol.CONFIG: ConfigRecord({"server-round": server_round,
                                       protocol.SECAGG_STAGE: stage}),
        protocol.SECAGG: ConfigRecord({protocol.PAYLOAD: payload}),
    }
    if with_model:
        records[protocol.ARRAYS] = _model(fed)
    return fed.send(site, MessageType.TRAIN, RecordDict(records))


def _model(fed: Federation) -> ArrayRecord:
    return ArrayRecord(get_task(fed.cfg.task).build_model().state_dict())


def _plain_train(fed: Federation, site: int) -> Message:
    content = RecordDict({protocol.ARRAYS: _model(fed),
                          protocol.CONFIG: ConfigRecord({"server-round": 1})})
    return fed.send(site, MessageType.TRAIN, content)


def _refusal(reply: Message) -> tuple[str, str]:
    site = reply.content[protocol.SITE]
    assert site[protocol.STATUS] == protocol.REFUSED
    assert protocol.SECAGG not in reply.content.config_records
    assert protocol.ARRAYS not in reply.content.config_records
    return str(site[protocol.KIND]), str(site[protocol.REASON])


def _preflight_all(fed: Federation) -> Federation:
    for site in range(fed.cfg.sites):
        assert fed.preflight(site)[protocol.STATUS] == protocol.OK
    return fed


def _advertise(fed: Federation, server_round: int = 1) -> dict[int, Advertisement]:
    ads = {}
    for site in range(fed.cfg.sites):
        reply = _stage(fed, site, protocol.ADVERTISE, server_round)
        ads[node_id(site)] = wire.load_ad(reply.content[protocol.SECAGG][protocol.PAYLOAD])
    return ads


def _share(fed: Federation, ads: dict[int, Advertisement], neighbours: list[int],
           site: int = TARGET) -> Message:
    payload = wire.dumps({"cohort": wire.dump_ads(ads), "neighbours": sorted(neighbours)})
    return _stage(fed, site, protocol.SHARE, 1, payload)


@pytest.fixture
def five(tmp_path: Path, make_config) -> Federation:
    """5 sites under SecAgg+ with DP-SGD; site 0 requires secure aggregation, a cohort
    of 4 and a threshold of 3, and allows at most ε=2 per run."""
    cfg = make_config("sites=5", "rounds=1", "secagg=secaggplus", "privacy.epsilon=1")
    return _preflight_all(build_federation(cfg, tmp_path, node_overrides={TARGET: {
        "require-secure-aggregation": True, "min-cohort": 4, "min-threshold": 3,
        "max-epsilon-per-run": 2.0}}))


def test_a_plain_train_message_is_refused_where_secure_aggregation_is_required(
        five: Federation) -> None:
    before = _ledger_bytes(five)
    kind, reason = _refusal(_plain_train(five, TARGET))
    assert kind == "SitePolicyError"
    assert "require-secure-aggregation=true" in reason
    assert _ledger_bytes(five) == before
    # a site without the setting refuses it too: the run was set up with secagg=secaggplus
    kind, reason = _refusal(_plain_train(five, 1))
    assert "set up with secagg=secaggplus" in reason
    assert b'"records": []' in _ledger_bytes(five, 1)


def test_a_cohort_below_the_sites_floor_is_refused(five: Federation) -> None:
    """Only 3 of the 5 advertisements shown: below the site's min-cohort of 4."""
    before = _ledger_bytes(five)
    ads = _advertise(five)
    shown = {n: ads[n] for n in sorted(ads)[:3]}
    _, reason = _refusal(_share(five, shown, [n for n in shown if n != node_id(TARGET)]))
    assert "min-cohort" in reason and "only 3 signed advertisements" in reason
    assert STATE not in five.grid.contexts[node_id(TARGET)].state  # round abandoned
    assert _ledger_bytes(five) == before


def test_a_threshold_below_the_sites_floor_is_refused(five: Federation) -> None:
    """The run config asks for t=2 among k=2 neighbours: below the site's min-threshold."""
    context = five.grid.contexts[node_id(TARGET)]
    saved = context.run_config
    context.run_config = {**saved, "secagg.neighbours": 2, "secagg.threshold": 2}
    try:
        before = _ledger_bytes(five)
        ads = _advertise(five)
        _, reason = _refusal(_share(five, ads, [node_id(1), node_id(2)]))
        assert "min-threshold" in reason and "t=2" in reason
        assert _ledger_bytes(five) == before
    finally:
        context.run_config = saved


def test_a_false_cohort_with_more_neighbours_than_it_holds_is_refused(five: Federation) -> None:
    """The first attack: the target told the cohort is 3 but given 4 neighbours (so that
    two answer for its seed and two for its mask key); site 1 keeps the default floor."""
    ads = _advertise(five)
    told = {n: ads[n] for n in sorted(ads)[:3]}
    others = [n for n in ads if n != node_id(1)]
    _, reason = _refusal(_share(five, told, others, site=1))
    assert "distinct other members of the verified cohort" in reason


def test_skipping_preflight_and_asking_above_the_run_ceiling_is_refused(
        five: Federation, make_config) -> None:
    """A coordinator that skips preflight and asks for ε above the site's per-run
    ceiling: refused before anything is charged, for training and for synthesis."""
    context = five.grid.contexts[node_id(TARGET)]
    saved_config, saved_state = context.run_config, context.state
    context.state = RecordDict()  # a fresh node: no preflight seen
    try:
        for asked in (("privacy.epsilon=3",),
                      ("privacy=none", "synthetic.publish=true", "synthetic.epsilon=3")):
            cfg = make_config("sites=5", "rounds=1", "secagg=secaggplus", *asked)
            context.run_config = to_run_config(cfg)
            before = _ledger_bytes(five)
            kind = (f"query.{protocol.SYNTHESIZE}" if "synthetic.publish=true" in asked
                    else MessageType.TRAIN)
            content = (RecordDict({protocol.CONFIG: ConfigRecord({})}) if kind != "train"
                       else None)
            reply = (five.send(TARGET, kind, content) if content is not None
                     else _stage(five, TARGET, protocol.MASK, 1, with_model=True))
            got, reason = _refusal(reply)
            assert got == "SitePolicyError"
            assert "max-epsilon-per-run" in reason and "allows at most ε=2" in reason
            assert _ledger_bytes(five) == before
        context.run_config = saved_config
        got, reason = _refusal(_stage(five, TARGET, protocol.MASK, 1, with_model=True))
        assert got == "OutOfOrderError" and "before this run's preflight" in reason
    finally:
        context.run_config, context.state = saved_config, saved_state


def test_the_mask_stage_sent_twice_is_refused_and_no_secret_stays(five: Federation) -> None:
    """An honest round, then its mask stage again: refused, nothing charged twice; and
    no site keeps its round's keys or seed after the round."""
    five.run()
    assert all(STATE not in c.state for c in five.grid.contexts.values())
    before = _ledger_bytes(five)
    assert before is not None  # the honest round was charged
    kind, reason = _refusal(_stage(five, TARGET, protocol.MASK, 1, with_model=True))
    assert kind == "OutOfOrderError" and "stage 'mask' of round 1" in reason
    assert _ledger_bytes(five) == before


def test_an_abandoned_round_leaves_no_secret(five: Federation) -> None:
    """The coordinator advertises, then moves on (an evaluate): the round is abandoned
    and the site forgets its keys and seed."""
    _advertise(five, server_round=7)
    context = five.grid.contexts[node_id(1)]
    assert STATE in context.state
    five.send(1, MessageType.EVALUATE, RecordDict({protocol.ARRAYS: _model(five),
                                                    protocol.CONFIG: ConfigRecord({})}))
    assert STATE not in context.state


def test_forty_sites_truthful_cohort_but_34_neighbours_is_refused(
        tmp_path: Path, make_config) -> None:
    """The second attack: 40 sites, the true cohort (k=32, t=17), the target given 34
    neighbours, 17 to answer for its seed and 17 for its mask key."""
    fed = _preflight_all(build_federation(make_config(
        "sites=40", "rounds=1", "secagg=secaggplus", "privacy=none"), tmp_path))
    ads = _advertise(fed)
    others = [n for n in sorted(ads) if n != node_id(TARGET)][:34]
    _, reason = _refusal(_share(fed, ads, others))
    assert "34 neighbours, more than k=32 for a cohort of 40" in reason
    honest = [n for n in sorted(ads) if n != node_id(TARGET)][:32]
    ads = _advertise(fed, server_round=2)  # k of them, in a new round: accepted
    payload = wire.dumps({"cohort": wire.dump_ads(ads), "neighbours": honest})
    ok = _stage(fed, TARGET, protocol.SHARE, 2, payload)
    assert ok.content[protocol.SITE][protocol.STATUS] == protocol.OK
    assert len(wire.load_sealed(ok.content[protocol.SECAGG][protocol.PAYLOAD])) == 32
