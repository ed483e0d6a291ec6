"""``privfl synth``: the Hydra app (config ``conf/synth.yaml``, group ``synthesizer``)."""

from __future__ import annotations

import sys

import hydra
from omegaconf import DictConfig, OmegaConf

from conf.errors import PrivflError
from conf.synth_schema import validate_synth
from synthetic.pipeline import run_synth


@hydra.main(config_path="pkg://conf", config_name="synth", version_base="1.3")
def synth(raw: DictConfig) -> None:
    """Hydra entry point: validate, run, exit 0 (released), 2 (bad input) or 4 (gated)."""
    try:
        outcome = run_synth(validate_synth(OmegaConf.to_container(raw, resolve=True)))
    except PrivflError as err:
        print(f"privfl: error: {err}", file=sys.stderr, flush=True)
        sys.exit(2)
    if outcome.exit_code:
        sys.exit(outcome.exit_code)
