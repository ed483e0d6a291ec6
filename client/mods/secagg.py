"""SecAgg+ at the site: a ClientApp mod around the train handler.

A train message whose config names a ``secagg-stage`` is one stage of the protocol
(``privacy.secagg.site``); only the ``mask`` stage runs the train handler, then turns
its update into a masked, quantised vector (with site-level DP, the update is first
clipped to ``privacy.client.clipping_norm`` and weighted like every other site's).
The round's secrets stay in the node's context state until the round is unmasked or
abandoned, and never leave the site except as encrypted shares. The mask stage answers
only "ok" besides the masked vector: the training reply's privacy report (q, σ, ε) would
reveal the site's row count, so it stays at the site (its ledger holds it). Which stage
may come next is the site-policy mod's check (``client.mods.site_policy``).
"""

from __future__ import annotations

from collections.abc import Callable

from flwr.app import ConfigRecord, Context, Message, RecordDict
from flwr.app.message_type import MessageType
from flwr.clientapp.typing import ClientAppCallable

from client.message_scope import current
from client.replies import answered_ok
from client.site_policy import check_cohort_floor
from conf import protocol
from privacy.secagg import train_sums, wire
from privacy.secagg.errors import SecAggError
from privacy.secagg.params import SecAggParams
from privacy.secagg.roster import load_identity, load_roster
from privacy.secagg.site import (
    SiteRound,
    advertise,
    mask_input,
    share_keys,
    unmask,
    verify_cohort,
)
from privacy.vectors import clip_l2, flatten

STATE = "secagg-state"

Stage = Callable[[Message, Context, ClientAppCallable], Message]


def secagg_mod(msg: Message, context: Context, call_next: ClientAppCallable) -> Message:
    """Run the SecAgg+ stage the message asks for; pass anything else through.

    The round's secrets leave the node state when it is unmasked or abandoned: the
    coordinator's ``abort`` of a discarded round, a stage that fails or refuses, and any
    message that is not one of its stages end it."""
    config = msg.content.config_records.get(protocol.CONFIG)
    if msg.metadata.message_type != MessageType.TRAIN or not config or \
            protocol.SECAGG_STAGE not in config:
        wipe(context)
        return call_next(msg, context)
    stage = str(config[protocol.SECAGG_STAGE])
    try:
        reply = STAGES[stage](msg, context, call_next)
    except BaseException:
        wipe(context)
        raise
    if stage in (protocol.UNMASK, protocol.ABORT) or not answered_ok(reply):
        wipe(context)
    return reply


def wipe(context: Context) -> None:
    """Forget the round's keys and seed (a no-op when no round is open)."""
    if STATE in context.state:
        del context.state[STATE]


def _advertise(msg: Message, context: Context, call_next: ClientAppCallable) -> Message:
    settings = current().settings
    ad, state = advertise(run=str(context.run_id), server_round=_round(msg),
                          node=context.node_id, site=settings.site,
                          identity=load_identity(settings.identity_key_path))
    _save(context, state)
    return _reply(msg, state.site, wire.dump_ad(ad))


def _share(msg: Message, context: Context, call_next: ClientAppCallable) -> Message:
    """Verify the cohort, derive k and t from its size, check the site's floor, share."""
    scope = current()
    payload = wire.loads(_payload(msg))
    state = _load(context, msg)
    cohort = verify_cohort(state, wire.load_ads(payload["cohort"]),
                           load_roster(scope.settings.roster_path))
    params = SecAggParams.for_cohort(scope.cfg.secagg, len(cohort))
    check_cohort_floor(scope.settings, len(cohort), params.threshold)
    neighbours = [int(node) for node in payload["neighbours"]]
    sealed, state = share_keys(state, params, cohort, neighbours)
    _save(context, state)
    return _reply(msg, state.site, wire.dump_sealed(sealed))


def _mask(msg: Message, context: Context, call_next: ClientAppCallable) -> Message:
    cfg = current().cfg
    payload = wire.loads(_payload(msg))
    state = _load(context, msg)
    trained = call_next(msg, context)
    site = trained.content.config_records.get(protocol.SITE) if not trained.has_error() else None
    if site is None or site[protocol.STATUS] != protocol.OK:
        return trained  # an error or a refusal: the server treats the site as dropped
    update = (flatten(trained.content[protocol.ARRAYS].to_numpy_ndarrays())
              - flatten(msg.content[protocol.ARRAYS].to_numpy_ndarrays()))
    if cfg.privacy.site_level:  # DP-FedAvg: clipped at the site, equal weights
        update = clip_l2(update, cfg.privacy.client.clipping_norm)
        weight = cfg.secagg.max_weight
    else:
        weight = min(int(trained.content[protocol.METRICS][protocol.NUM_EXAMPLES]),
                     cfg.secagg.max_weight)
    values = update * (weight / cfg.secagg.max_weight)
    params = SecAggParams.for_cohort(cfg.secagg, state.cohort)
    masked, state = mask_input(state, params, values, wire.load_sealed(payload["inbox"]),
                               exact=[weight, *_train_facts(trained, params, state.cohort)])
    _save(context, state)
    payload = wire.dump_masked(masked, params.modulus_bits)
    return _reply(msg, state.site, payload)  # "ok" only: the ε report would reveal q


def _train_facts(trained: Message, params: SecAggParams, cohort: int) -> list[int]:
    """The training reply's loss, rows drawn and clipped count, as exact coordinates
    (privacy.secagg.train_sums): the coordinator learns only their sums over sites."""
    metrics = trained.content[protocol.METRICS]
    clipped = metrics.get(protocol.CLIPPED_SAMPLES)
    return train_sums.encode(float(metrics[protocol.TRAIN_LOSS]),
                             int(metrics[protocol.TRAIN_SAMPLES]),
                             None if clipped is None else int(clipped),
                             2**params.modulus_bits, cohort)


def _abort(msg: Message, context: Context, call_next: ClientAppCallable) -> Message:
    """The coordinator discarded the round: forget its secrets (``secagg_mod`` wipes)."""
    return _reply(msg, current().settings.site, b"")


def _unmask(msg: Message, context: Context, call_next: ClientAppCallable) -> Message:
    shares, state = unmask(_load(context, msg), wire.load_request(_payload(msg)))
    _save(context, state)
    return _reply(msg, state.site, wire.dump_shares(shares))


STAGES: dict[str, Stage] = {
    protocol.ADVERTISE: _advertise,
    protocol.SHARE: _share,
    protocol.MASK: _mask,
    protocol.UNMASK: _unmask,
    protocol.ABORT: _abort,
}


def _round(msg: Message) -> int:
    return int(msg.content[protocol.CONFIG]["server-round"])


def _payload(msg: Message) -> bytes:
    return msg.content[protocol.SECAGG][protocol.PAYLOAD]


def _reply(msg: Message, site: str, payload: bytes) -> Message:
    content = RecordDict({
        protocol.SITE: ConfigRecord({"site": site, protocol.STATUS: protocol.OK}),
        protocol.SECAGG: ConfigRecord({protocol.PAYLOAD: payload}),
    })
    return Message(content, reply_to=msg)


def _save(context: Context, state: SiteRound) -> None:
    context.state[STATE] = ConfigRecord({"round": state.to_bytes()})


def _load(context: Context, msg: Message) -> SiteRound:
    """This round's state; a site that lost it (restarted mid-round) cannot go on."""
    record = context.state.config_records.get(STATE)
    state = SiteRound.from_bytes(record["round"]) if record else None
    if state is None or state.round != _round(msg) or state.run != str(context.run_id):
        raise SecAggError(f"node {context.node_id} has no secure-aggregation state for round "
                          f"{_round(msg)} (restarted mid-round?); it drops out of this round")
    return state
