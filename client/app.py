"""The privfl ClientApp: what every data site runs (simulation and deployment alike)."""

from __future__ import annotations

import json

from flwr.app import ConfigRecord, Context, Message, MetricRecord, RecordDict
from flwr.clientapp import ClientApp

from client.dp_plan import planned_events
from client.local_data import load_local_data
from client.local_training import open_ledger, train_round
from client.message_scope import current
from client.mods.refusals import refusals_mod
from client.mods.secagg import secagg_mod
from client.mods.site_policy import site_policy_mod
from client.synthetic_publication import synthesize as synthesize_table
from conf import protocol
from conf.schema import ExperimentConfig
from conf.site import SiteSettings
from tasks.registry import get_task
from tasks.training import evaluate as evaluate_model

app = ClientApp(mods=[refusals_mod, site_policy_mod, secagg_mod])


@app.query(protocol.PREFLIGHT)
def preflight(msg: Message, context: Context) -> Message:
    """Before round 1: check settings, data, δ and that the budget covers the whole run
    (every DP-SGD round and, when the run publishes DP synthetic tables, the synthesis)."""
    cfg, settings, run_id = _scope()
    data = load_local_data(cfg, settings)
    record = {"site": settings.site, protocol.STATUS: protocol.OK}
    events = planned_events(cfg, settings, len(data.train), run_id)
    if events:
        open_ledger(cfg, settings).check_affordable(events)
    return Message(RecordDict({protocol.SITE: ConfigRecord(record)}), reply_to=msg)


@app.query(protocol.SYNTHESIZE)
def synthesize(msg: Message, context: Context) -> Message:
    """Before round 1 (``synthetic.publish``): fit a synthesizer on the site's training
    rows and send only the synthetic table and a report (client/synthetic_publication.py)."""
    cfg, settings, run_id = _scope()
    publication = synthesize_table(cfg, settings, run_id)
    synthetic = ConfigRecord({protocol.TABLE: publication.csv(),
                              protocol.REPORT: json.dumps(publication.report)})
    site = ConfigRecord({"site": settings.site, protocol.STATUS: protocol.OK})
    content = RecordDict({protocol.SITE: site, protocol.SYNTHETIC: synthetic})
    publication.released()  # just before the table leaves the site
    return Message(content, reply_to=msg)


@app.train()
def train(msg: Message, context: Context) -> Message:
    """One round of local (DP-)SGD; the ledger is charged before training starts."""
    cfg, settings, run_id = _scope()
    data = load_local_data(cfg, settings)
    config = msg.content[protocol.CONFIG]
    result = train_round(
        cfg,
        settings,
        data,
        msg.content[protocol.ARRAYS],
        run_id=run_id,
        server_round=int(config["server-round"]),
        proximal_mu=float(config.get("proximal-mu", 0.0)),
    )
    site = {"site": settings.site, protocol.STATUS: protocol.OK}
    if result.privacy is not None:
        site.update(result.privacy.to_record())
    metrics = {
        protocol.NUM_EXAMPLES: len(data.train),
        protocol.TRAIN_LOSS: result.stats.loss,
        protocol.TRAIN_SAMPLES: result.stats.examples,
    }
    if result.clipped is not None:
        metrics[protocol.CLIPPED_SAMPLES] = result.clipped
    content = RecordDict({
        protocol.ARRAYS: result.arrays,
        protocol.METRICS: MetricRecord(metrics),
        protocol.SITE: ConfigRecord(site),
    })
    return Message(content, reply_to=msg)


@app.evaluate()
def evaluate(msg: Message, context: Context) -> Message:
    """Evaluate the global model on the site's local test split."""
    cfg, settings, _ = _scope()
    data = load_local_data(cfg, settings)
    model = get_task(cfg.task).build_model()
    model.load_state_dict(msg.content[protocol.ARRAYS].to_torch_state_dict())
    stats = evaluate_model(model, data.test)
    metrics = MetricRecord({
        protocol.NUM_EXAMPLES: stats.examples,
        "eval-loss": stats.loss,
        "eval-accuracy": stats.accuracy,
    })
    site = ConfigRecord({"site": settings.site, protocol.STATUS: protocol.OK})
    return Message(RecordDict({protocol.METRICS: metrics, protocol.SITE: site}), reply_to=msg)


def _scope() -> tuple[ExperimentConfig, SiteSettings, str]:
    """This message's run config, site settings and run id (checked by the site-policy
    mod before the handler runs)."""
    scope = current()
    return scope.cfg, scope.settings, scope.run_id

