"""What a data site accepts: the one schema of a site's policy.

Its three forms are derived from :class:`SitePolicy`: the keys of a site's deployment
YAML (snake case, at the top level of the file), its SuperNode's node config (the same
names in kebab case, :func:`node_key`) and a simulation's ``simulation.site_policy``
group (the same snake-case names, every one optional: ``null`` lets the launcher derive
the value from the run, ``conf.schema.SimulatedSitePolicy``). The site enforces it on
every message it receives (``client.mods.site_policy``).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

MIN_COHORT = 3  # below it a sum of masked inputs reveals the other site's input to each


@dataclass(frozen=True)
class SitePolicy:
    """A site's floor and opt-ins (docs/deployment.md, "What a site enforces")."""

    require_secure_aggregation: bool = False  # train only inside the SecAgg+ mask stage
    min_cohort: int = field(default=MIN_COHORT, metadata={"ge": MIN_COHORT})
    min_threshold: int = field(default=2, metadata={"ge": 2})
    max_epsilon_per_run: float | None = field(default=None, metadata={"gt": 0})
    min_noise_multiplier: float = field(default=0.0, metadata={"ge": 0})
    allow_nonprivate: bool = False
    allow_reproducible: bool = False
    allow_nondp_synthetic: bool = False
    allow_synthetic_statistics: bool = False


POLICY_KEYS = tuple(f.name for f in dataclasses.fields(SitePolicy))


def node_key(name: str) -> str:
    """The node-config spelling of policy key ``name`` (``min_cohort`` → ``min-cohort``)."""
    return name.replace("_", "-")


def to_node_config(policy: SitePolicy) -> dict[str, bool | int | float]:
    """The policy as node-config entries (unset optional values left out)."""
    return {node_key(name): value for name, value in dataclasses.asdict(policy).items()
            if value is not None}
