"""Everything a run report shows, read from the run directory's files (nothing recomputed
except ε per round from the sites' ledgers, by the ledgers' own accountant)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from conf.errors import PrivflError
from server.report.audit import AuditResult, load_audit
from server.report.site_epsilon import SiteEpsilon, site_epsilon

REQUIRED = ("outcome.json", "privacy.json")
"""Written by every run that started, also a failed or stopped one."""


class RunDirError(PrivflError):
    """The directory given is not a privfl run (or sweep) directory."""


@dataclass(frozen=True)
class RunRecord:
    """A finished (or stopped, or failed) run as its files describe it."""

    path: Path
    config: dict[str, Any]
    privacy: dict[str, Any]
    outcome: dict[str, Any]
    timing: dict[str, Any]
    manifest: dict[str, Any]
    rows: list[dict[str, Any]]
    """``metrics.jsonl`` rows of the federated rounds (round >= 1), in order."""
    warm_start: dict[str, Any] | None
    """The round-0 row a warm-started run writes."""
    epsilon: SiteEpsilon
    audit: AuditResult | str | None

    @property
    def final(self) -> dict[str, Any] | None:
        """The last round's row."""
        return self.rows[-1] if self.rows else None

    @property
    def record_level(self) -> bool:
        """Whether the sites trained with DP-SGD (an accountant is named)."""
        return self.privacy.get("accountant") is not None


def is_run_dir(path: Path) -> bool:
    """True if ``path`` holds the files every run writes."""
    return all((path / name).is_file() for name in REQUIRED)


def load_run(path: Path) -> RunRecord:
    """Read the run at ``path``; RunDirError naming what is missing or unreadable."""
    path = Path(path)
    if not path.is_dir():
        raise RunDirError(f"{path} is not a directory; give a run directory "
                          "(runs/<date>/<time>) or a sweep directory")
    missing = [name for name in REQUIRED if not (path / name).is_file()]
    if missing:
        raise RunDirError(f"{path} is not a privfl run directory (no {', '.join(missing)}); "
                          "give the folder a run left behind, e.g. runs/<date>/<time>")
    rows = _jsonl(path / "metrics.jsonl")
    privacy = _json(path / "privacy.json")
    outcome = _json(path / "outcome.json")
    return RunRecord(
        path=path,
        config=_yaml(path / "config.yaml"),
        privacy=privacy,
        outcome=outcome,
        timing=_json(path / "timing.json", required=False),
        manifest=_json(path / "manifest.json", required=False),
        rows=[row for row in rows if row.get("round", 0) >= 1],
        warm_start=next((row for row in rows if row.get("round") == 0), None),
        epsilon=site_epsilon(path, privacy, outcome, rows),
        audit=load_audit(path),
    )


def _json(path: Path, *, required: bool = True) -> dict[str, Any]:
    if not path.is_file() and not required:
        return {}
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise RunDirError(f"cannot read {path}: {err}") from err
    if not isinstance(value, dict):
        raise RunDirError(f"{path} must hold a JSON object")
    return value


def _jsonl(path: Path) -> list[dict[str, Any]]:
    if not path.is_file():
        return []  # a run stopped before its first round has no rows
    try:
        return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()
                if line.strip()]
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise RunDirError(f"cannot read {path}: {err}") from err


def _yaml(path: Path) -> dict[str, Any]:
    if not path.is_file():
        return {}  # deployment: the coordinator may not have written the resolved config
    try:
        value = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as err:
        raise RunDirError(f"cannot read {path}: {err}") from err
    return value if isinstance(value, dict) else {}
