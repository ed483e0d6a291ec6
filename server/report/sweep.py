"""The sweep report: one row per member run and the privacy–utility plot (final accuracy
against the record-level ε each member spent; non-private members as a reference line)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from server.report.document import Alert, Block, Document, Figure, Section, Table
from server.report.record import RunDirError, RunRecord, is_run_dir, load_run
from server.report.sections import fmt
from server.report.svg import ReferenceLine, Series, line_chart

PRIVACY_UTILITY_ID = "plot-privacy-utility"


@dataclass(frozen=True)
class Member:
    """One run of the sweep."""

    name: str
    overrides: str
    run: RunRecord

    @property
    def accuracy(self) -> float | None:
        return (self.run.final or {}).get("accuracy")

    @property
    def epsilon(self) -> float | None:
        """The highest record-level ε any site spent in this run (None without DP-SGD)."""
        spent = [s["run_epsilon"] for s in self.run.privacy.get("sites", {}).values()
                 if s.get("run_epsilon") is not None]
        return max(spent) if self.run.record_level and spent else None

    @property
    def label(self) -> str:
        """``rdp, δ=1e-05, unit=record`` for this member's ε."""
        deltas = {s.get("delta") for s in self.run.privacy.get("sites", {}).values()} - {None}
        delta = f"δ={deltas.pop():g}" if len(deltas) == 1 else "δ per site"
        return f"{self.run.privacy.get('accountant')}, {delta}, unit=record"


MULTIRUN = "multirun.yaml"
"""What Hydra writes into every sweep directory."""


def is_sweep_dir(path: Path) -> bool:
    """True if ``path`` is a Hydra sweep directory."""
    return (path / MULTIRUN).is_file()


def load_members(path: Path) -> list[Member]:
    """The member runs of the sweep at ``path``, in job order."""
    children = [c for c in path.iterdir() if c.is_dir() and is_run_dir(c)]
    if not children:
        raise RunDirError(f"sweep directory {path} holds no finished run directories yet; "
                          "rebuild its report once a member run has written outcome.json")
    children.sort(key=lambda c: (not c.name.isdigit(), int(c.name) if c.name.isdigit() else 0,
                                 c.name))
    return [Member(c.name, _overrides(c), load_run(c)) for c in children]


def sweep_document(path: Path, members: list[Member]) -> Document:
    """The sweep's report."""
    sections = [
        Section("summary", "Summary", tuple(_summary(path, members))),
        Section("privacy-utility", "Privacy–utility", tuple(_privacy_utility(members))),
        Section("members", "Member runs", (_members_table(members),)),
    ]
    return Document(f"privfl sweep report: {path.name}",
                    f"{len(members)} runs in {path}", tuple(sections))


def _summary(path: Path, members: list[Member]) -> list[Block]:
    blocks: list[Block] = [f"{len(members)} member runs in {path}; each has its own report "
                           "(report.html in its folder)."]
    unfinished = [m.name for m in members if m.run.outcome.get("status") != "finished"]
    if unfinished:
        blocks.append(Alert(f"Runs that did not finish: {', '.join(unfinished)}."))
    labels = {m.label for m in members if m.epsilon is not None}
    if len(labels) > 1:
        blocks.append(Alert("The members' ε use different accountants or δ: "
                            f"{'; '.join(sorted(labels))}. Compare them with care."))
    return blocks


def _privacy_utility(members: list[Member]) -> list[Block]:
    private = sorted((m for m in members if m.epsilon is not None and m.accuracy is not None),
                     key=lambda m: m.epsilon)
    baseline = [m for m in members if not m.run.record_level and m.accuracy is not None
                and not m.run.privacy.get("site_level")]
    if not private and not baseline:
        return ["No member has both an ε and a final accuracy: nothing to plot."]
    xs = [m.epsilon for m in private]
    series = [Series("DP-SGD runs", tuple((m.epsilon, m.accuracy) for m in private),
                     line=len(set(xs)) == len(xs))] if private else []
    references = [ReferenceLine(f"non-private ({m.name})", m.accuracy) for m in baseline]
    labels = sorted({m.label for m in private})
    x_label = f"ε added by the run, highest site ({labels[0] if len(labels) == 1 else 'mixed'})"
    title = "Privacy–utility: final accuracy against ε"
    svg = line_chart(PRIVACY_UTILITY_ID, title, x_label, "final accuracy", series,
                     references=references, y_range=(0.0, 1.0), x_from_zero=True)
    blocks: list[Block] = [Figure(
        "privacy-utility", svg,
        f"{title}. Each point is one run: its final accuracy on the server's held-out set "
        "and the highest record-level ε any of its sites spent in that run; dashed lines are "
        "runs without DP (ε = ∞).")]
    site_only = [m.name for m in members if m.run.privacy.get("site_level")
                 and not m.run.record_level]
    if site_only:
        blocks.append(f"Not plotted (site-level DP only, a different unit): "
                      f"{', '.join(site_only)}.")
    return blocks


def _members_table(members: list[Member]) -> Table:
    rows = []
    for m in members:
        site_level = m.run.privacy.get("site_level") or {}
        rows.append((
            m.name, m.overrides or "—", str(m.run.outcome.get("status")),
            str(m.run.outcome.get("rounds_completed", len(m.run.rows))),
            fmt(m.run.privacy.get("target_epsilon_per_run")),
            f"{fmt(m.epsilon)} ({m.label})" if m.epsilon is not None else "— (no DP-SGD)",
            fmt(site_level.get("epsilon")),
            fmt(m.accuracy), fmt((m.run.final or {}).get("loss")),
            f"{m.name}/report.html",
        ))
    return Table(("run", "overrides", "outcome", "rounds", "target ε", "highest site ε",
                  "site-level ε", "final accuracy", "final loss", "report"), tuple(rows),
                 caption="Member runs")


def _overrides(run_dir: Path) -> str:
    """The Hydra overrides of a member (``.hydra/overrides.yaml``), comma-separated."""
    path = run_dir / ".hydra" / "overrides.yaml"
    try:
        overrides = yaml.safe_load(path.read_text(encoding="utf-8")) if path.is_file() else []
    except (OSError, yaml.YAMLError):
        return ""
    return ", ".join(str(o) for o in overrides or [])
