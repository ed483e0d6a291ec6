"""Record keys and payloads the ServerApp and the ClientApp share.

Every reply from a site carries a ConfigRecord under :data:`SITE` with the site's name
and :data:`STATUS`. A refusal carries only that record (kind + reason); a training
reply adds the site's privacy report (:class:`SitePrivacyReport`) to it; a synthesis
reply adds a :data:`SYNTHETIC` record with the table and the site's report on it.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

ARRAYS = "arrays"
METRICS = "metrics"
CONFIG = "config"
SITE = "site"
NUM_EXAMPLES = "num-examples"
TRAIN_LOSS = "train-loss"
"""A training reply's mean loss over the round's non-empty batches."""
TRAIN_SAMPLES = "train-samples"
"""A training reply's count of rows drawn this round (Poisson batches, all epochs)."""
CLIPPED_SAMPLES = "clipped-samples"
"""A DP-SGD training reply's count of per-sample gradients clipped this round."""

STATUS = "status"
OK = "ok"
REFUSED = "refused"
KIND = "kind"
REASON = "reason"

PREFLIGHT = "preflight"
SYNTHESIZE = "synthesize"
"""Query (``query.synthesize``) asking a site to publish a synthetic copy of its rows."""
SYNTHETIC = "synthetic"
"""ConfigRecord of a synthesis reply: :data:`TABLE` (CSV bytes) and :data:`REPORT` (JSON)."""
TABLE = "table"
REPORT = "report"


@dataclass(frozen=True)
class SitePrivacyReport:
    """What a site reports about its record-level privacy spend after a round.

    ``run_epsilon`` is what this run added; ``lifetime_epsilon`` covers every event in
    the site's ledger. Both are (ε, δ)-DP at unit=record under ``accountant``.
    """

    site: str
    mechanism: str
    noise_multiplier: float
    sample_rate: float
    steps: int
    run_epsilon: float
    lifetime_epsilon: float
    delta: float
    accountant: str
    budget: float
    remaining: float
    private: bool
    unit: str = "record"

    def to_record(self) -> dict[str, Any]:
        """Plain values for a Flower ConfigRecord."""
        return dataclasses.asdict(self)

    @classmethod
    def from_record(cls, record: Any) -> SitePrivacyReport:
        """Rebuild from a ConfigRecord (extra keys such as status are ignored)."""
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: record[k] for k in names if k in record})


SECAGG_STAGE = "secagg-stage"
SECAGG = "secagg"
PAYLOAD = "payload"
ADVERTISE, SHARE, MASK, UNMASK = "advertise", "share", "mask", "unmask"
SECAGG_STAGES = (ADVERTISE, SHARE, MASK, UNMASK)
ABORT = "abort"
"""Not a stage: the coordinator telling the sites of a discarded round to forget it."""
