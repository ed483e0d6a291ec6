"""``privfl deploy run [Hydra overrides]``: the experiment a simulation would run,
submitted to the coordinator's SuperLink.

The config is composed and validated exactly as ``privfl simulate`` does (same Hydra
configs, same schema, same flattened run config); the app folder is written to the run
directory and submitted with ``flwr run APP privfl --stream``, which blocks until the run
ends; interrupting ``privfl deploy run`` stops the run on the SuperLink (follow_run.py).
The ServerApp runs on the SuperLink's machine and writes the run's outputs to
``output_dir`` (Hydra's run directory: run this where the SuperLink runs). Nothing about
the sites' data or budgets is sent: each site's own config decides those.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import hydra
from omegaconf import DictConfig, OmegaConf

from conf.console import log_to_console
from conf.errors import ConfigError, PrivflError
from conf.flower_app import write_app_dir
from conf.run_config import to_run_config
from conf.validate import validate
from privacy.secagg.params import SecAggParams
from server.deployment.follow_run import follow_run
from server.run_start import (
    EXIT_CODES,
    fresh_run_outputs,
    start_line,
    write_run_record,
)


@hydra.main(config_path="pkg://conf", config_name="config", version_base="1.3")
def deploy_run(raw: DictConfig) -> None:
    """Hydra entry point: submit one run and wait for it."""
    try:
        outcome = submit_run(raw)
    except PrivflError as err:
        print(f"privfl: error: {err}", file=sys.stderr, flush=True)
        sys.exit(2)
    if outcome["status"] != "finished":
        sys.exit(EXIT_CODES.get(outcome["status"], 1))


def submit_run(raw: DictConfig) -> dict:
    """Validate, write the app, submit it and wait; returns the run's outcome.json."""
    log_to_console()
    cfg = validate(OmegaConf.to_container(raw, resolve=True))
    if cfg.server_test_data is not None and not Path(cfg.server_test_data).is_file():
        raise ConfigError(f"server_test_data={cfg.server_test_data}: no such file (the "
                          "coordinator's own held-out table; null: no central evaluation)")
    if cfg.secure:
        SecAggParams.for_cohort(cfg.secagg, cfg.sites)  # bad parameters stop here
    outputs = fresh_run_outputs(cfg)
    line = start_line(cfg, "deployed sites")
    run_config = to_run_config(cfg)
    write_run_record(outputs, raw, cfg, run_config, data_sha256={})
    app = write_app_dir(outputs.root / "flwr-app", run_config)
    print(line, flush=True)
    status = follow_run(app)
    outcome_file = outputs.root / "outcome.json"
    if not outcome_file.exists():
        reason = (f"`flwr run` exited with status {status} and the ServerApp left "
                  f"no outcome.json in {outputs.root}; see the output above")
        return {"status": "failed", "reason": reason}
    return json.loads(outcome_file.read_text())
