"""The sweep report, written once a Hydra multirun (``privfl simulate -m ...``) has run
its last job: Hydra calls this callback (``hydra.callbacks`` in ``conf/config.yaml``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hydra.experimental.callback import Callback
from omegaconf import DictConfig

from server.report.write import write_report_safely


class SweepReport(Callback):
    """Writes ``report.html``/``report.md`` with the privacy–utility plot into the sweep
    directory (``privfl report SWEEP_DIR`` rebuilds them)."""

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        path = write_report_safely(Path(config.hydra.sweep.dir))
        if path is not None:
            print(f"privfl: sweep report in {path}", flush=True)
