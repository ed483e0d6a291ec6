"""The report's model card: intended use, data per site (described, never shown),
metrics, limitations, known failure modes.

The data description uses only public facts: the task's declared schema and the
partition scheme. Per-site row counts, value ranges and label counts are left out: no ε
covers them in the report.
"""

from __future__ import annotations

import inspect
import logging
from typing import Any

import torch

from conf.errors import PrivflError
from conf.schema import TaskConfig
from conf.validate import build
from server.report.document import Block, Heading, Items, Section, Table
from server.report.record import RunRecord
from server.report.sections import fmt, headline_epsilon
from tasks.base import Task
from tasks.registry import get_task

log = logging.getLogger("privfl")


def model_card(run: RunRecord) -> Section:
    """The model card of the run's final model."""
    task = _task(run.config)
    blocks: list[Block] = [
        Heading("Model"),
        Table(("", ""), tuple(_model_facts(run, task))),
        Heading("Intended use"),
        Items(_intended_use(run)),
        Heading("Data per site (described, not shown)"),
        *_data(run, task),
        Heading("Metrics"),
        Items(_metrics(run)),
        Heading("Limitations"),
        Items(_limitations(run)),
        Heading("Known failure modes"),
        Items(_failure_modes(run)),
    ]
    return Section("model-card", "Model card", tuple(blocks))


def _task(config: dict[str, Any]) -> Task | None:
    try:
        return get_task(build(TaskConfig, config["task"], "task")) if "task" in config else None
    except PrivflError as err:
        log.warning("report: the model card cannot name the task's schema: %s", err)
        return None


def _model_facts(run: RunRecord, task: Task | None) -> list[tuple[str, str]]:
    facts = [("task", str(run.config.get("task", {}).get("name")))]
    if task is not None:
        facts.append(("architecture", type(task.build_model()).__name__))
        facts.append(("task description", _description(task)))
    model = run.path / "model.pt"
    if model.is_file():
        state = torch.load(model, map_location="cpu", weights_only=True)
        facts.append(("parameters", f"{sum(t.numel() for t in state.values()):,}"))
        facts.append(("file", "model.pt (a torch state dict of the final global model)"))
    facts.append(("trained by", f"{run.config.get('strategy', {}).get('name')} over "
                                f"{len(run.rows)} federated rounds"))
    return facts


def _description(task: Task) -> str:
    doc = inspect.getmodule(type(task)).__doc__ or ""
    return doc.strip().splitlines()[0] if doc.strip() else task.name


def _intended_use(run: RunRecord) -> tuple[str, ...]:
    uses = ["Research on federated learning under differential privacy: comparing utility, "
            "privacy and participation across configurations of this framework.",
            "Not for decisions about individuals: the model was not validated beyond the "
            "held-out evaluation below, and is not checked for fairness across groups."]
    if not run.privacy.get("private"):
        uses.append("NOT PRIVATE: do not share this model outside the sites' trust boundary; "
                    "its parameters may reveal records of the sites' data.")
    return tuple(uses)


def _data(run: RunRecord, task: Task | None) -> list[Block]:
    cfg = run.config
    partition = cfg.get("partition", {})
    scheme = partition.get("name", "?")
    if scheme == "dirichlet":
        scheme += f" (α={partition.get('alpha')}: label-skewed)"
    simulated = (run.path / "sites").is_dir()
    share = (f"one {scheme} partition of the task's pooled table (simulated site)" if simulated
             else "its own table, read at the site with the task's declared schema")
    test = cfg.get("task", {}).get("test_fraction")
    blocks: list[Block] = []
    if task is not None:
        numeric = sum(1 for f in task.features if f.type == "numeric")
        blocks.append(f"Declared schema (public, not fitted on the data): {len(task.features)} "
                      f"features ({numeric} numeric, {len(task.features) - numeric} "
                      f"categorical); label {task.label.name!r} with "
                      f"{len(task.label.classes)} classes.")
    sites = ", ".join(run.privacy.get("sites", {})) or "no site"
    blocks.append(f"Each site ({sites}): {share}; a fraction {test} of it is kept at the "
                  "site for local evaluation.")
    blocks.append("Row counts, value ranges and label counts per site are not reported here: "
                  "no ε covers them.")
    return blocks


def _metrics(run: RunRecord) -> tuple[str, ...]:
    final = run.final or {}
    metrics = [f"Accuracy {fmt(final.get('accuracy'))} and loss {fmt(final.get('loss'))} of the "
               "final model on the coordinator's held-out set (same distribution as the "
               "sites' data; in simulation a share of the pooled table no site holds)."]
    federated = final.get("federated_evaluation") or {}
    if federated.get("eval-accuracy") is not None:
        metrics.append(f"Accuracy {fmt(federated['eval-accuracy'])} on the sites' local test "
                       "splits, aggregated (computed on real rows without noise).")
    metrics.append(f"Privacy: {headline_epsilon(run)}; see the privacy statement.")
    return tuple(metrics)


def _limitations(run: RunRecord) -> tuple[str, ...]:
    limits = ["Evaluated only on data from the same source as the training data; no "
              "external validation, no per-class or per-group metrics."]
    if run.record_level:
        limits.append("DP-SGD trades accuracy for privacy: with few rows per site the noise "
                      "dominates each step and accuracy falls well below a non-private run.")
    limits.append("What the privacy statement lists as not covered by any ε (row counts, "
                  "training losses, local metrics) was released without noise.")
    if run.config.get("partition", {}).get("name") == "dirichlet":
        limits.append("Label-skewed sites: the global model may serve some sites' label mix "
                      "much worse than the held-out accuracy suggests.")
    return tuple(limits)


def _failure_modes(run: RunRecord) -> tuple[str, ...]:
    modes = ["A site whose remaining budget cannot cover the run refuses before round 1; "
             "with fewer than min_sites usable sites the run stops early.",
             "A site that fails or times out is left out of that round; its ledger may still "
             "hold the round's write-ahead charge."]
    sites = run.privacy.get("sites", {})
    observed = [f"{name}: excluded ({site['excluded']})" for name, site in sites.items()
                if site.get("excluded")]
    observed += [f"{name}: {site['failures']} failed round(s)" for name, site in sites.items()
                 if site.get("failures")]
    if run.outcome.get("status") not in (None, "finished"):
        observed.append(f"the run {run.outcome['status']}: {run.outcome.get('reason')}")
    modes.append("Seen in this run: " + ("; ".join(observed) if observed else "none."))
    return tuple(modes)
