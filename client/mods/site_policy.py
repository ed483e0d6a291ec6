"""Every message a site receives passes its policy first: a ClientApp mod.

It resolves the run config and the site's settings once (``client.message_scope``),
refuses what the site's policy does not allow (``client.site_policy``) and what
arrives out of order: anything but preflight before a preflight this site answered
"ok", a plain train or evaluate message when the site or the run requires secure
aggregation (its update or metrics would leave the site in the clear), and a SecAgg+
stage its round is not at (advertise, share, mask, unmask, once each, in this order; a
new round starts at advertise; ``abort`` of the current round at any point). Order is
kept in the node's context state, beside (not inside) the round's secrets; a refused
message ends any open SecAgg+ round.
"""

from __future__ import annotations

from dataclasses import dataclass

from flwr.app import ConfigRecord, Context, Message
from flwr.app.message_type import MessageType
from flwr.clientapp.typing import ClientAppCallable

from client.message_scope import MessageScope, handling
from client.mods.secagg import wipe
from client.replies import answered_ok
from client.site_policy import (
    OutOfOrderError,
    check_run_allowed,
    check_secure_evaluation,
    check_secure_training,
    check_synthesis_allowed,
)
from conf import protocol

PROGRESS = "site-policy-progress"
PREFLIGHT = f"{MessageType.QUERY}.{protocol.PREFLIGHT}"
SYNTHESIZE = f"{MessageType.QUERY}.{protocol.SYNTHESIZE}"
STAGE_ORDER = protocol.SECAGG_STAGES


@dataclass(frozen=True)
class Progress:
    """How far this run has come at this site."""

    preflight: bool = False
    round: int = 0  # the SecAgg+ round the site is in (0: none yet)
    stage: str = ""  # its last stage started

    @classmethod
    def load(cls, context: Context) -> Progress:
        record = context.state.config_records.get(PROGRESS)
        return cls(**dict(record)) if record else cls()

    def save(self, context: Context) -> None:
        context.state[PROGRESS] = ConfigRecord(
            {"preflight": self.preflight, "round": self.round, "stage": self.stage})


def site_policy_mod(msg: Message, context: Context, call_next: ClientAppCallable) -> Message:
    """Check ``msg`` against the site's policy and protocol state, then handle it."""
    kind = msg.metadata.message_type
    try:
        scope = MessageScope.resolve(context)
        _check(msg, scope, context)
    except BaseException:
        wipe(context)  # a refused message ends any open SecAgg+ round
        raise
    with handling(scope):
        reply = call_next(msg, context)
    if kind == PREFLIGHT and answered_ok(reply):
        Progress(preflight=True).save(context)
    return reply


def _check(msg: Message, scope: MessageScope, context: Context) -> None:
    """Refuse ``msg`` unless the site's policy and this run's progress allow it."""
    kind = msg.metadata.message_type
    progress = Progress.load(context)
    check_run_allowed(scope.cfg, scope.settings)
    if kind == SYNTHESIZE:
        check_synthesis_allowed(scope.cfg, scope.settings)
    if kind != PREFLIGHT and not progress.preflight:
        raise OutOfOrderError(
            f"site {scope.settings.site} got {kind} before this run's preflight; a site "
            "takes part only in a run whose plan it checked")
    if kind == MessageType.TRAIN:
        _check_train(msg, scope, progress).save(context)
    if kind == MessageType.EVALUATE:
        check_secure_evaluation(scope.cfg, scope.settings)


def _check_train(msg: Message, scope: MessageScope, progress: Progress) -> Progress:
    """The progress after this train message, or the refusal of it."""
    config = msg.content.config_records.get(protocol.CONFIG) or {}
    stage = config.get(protocol.SECAGG_STAGE)
    if stage is None:
        check_secure_training(scope.cfg, scope.settings)
        return progress
    server_round = int(config.get("server-round", 0))
    if stage == protocol.ADVERTISE:
        expected = server_round > progress.round
    elif stage == protocol.ABORT:  # forgetting the round's secrets is always allowed
        expected = server_round == progress.round
    else:
        expected = (stage in STAGE_ORDER and server_round == progress.round
                    and STAGE_ORDER.index(stage) == STAGE_ORDER.index(progress.stage) + 1)
    if not expected:
        at = (f"round {progress.round} after its {progress.stage} stage" if progress.round
              else "no secure aggregation round")
        raise OutOfOrderError(
            f"site {scope.settings.site} got SecAgg+ stage {stage!r} of round {server_round} "
            f"while at {at}; each stage runs once, in the order "
            f"{' → '.join(STAGE_ORDER)}, and a new round starts at advertise")
    return Progress(preflight=True, round=server_round, stage=str(stage))
