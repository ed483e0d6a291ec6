"""Site-level DP samples its cohort by Poisson sampling, so the accountant's assumption
holds; its ε is recomputed independently with Google's dp-accounting (test-only)."""

from __future__ import annotations

import json
import random
import secrets
from collections import Counter
from pathlib import Path

import dp_accounting
import pytest
from opacus.accountants import RDPAccountant

from privacy.site_level import SiteLevelPlan, poisson_cohort
from tests.support.federation import build_federation

ORDERS = RDPAccountant.DEFAULT_ALPHAS


def _dp_accounting_epsilon(noise_multiplier: float, rates: list[float], delta: float) -> float:
    """ε of the releases by dp-accounting's RDP accountant (add/remove neighbours)."""
    accountant = dp_accounting.rdp.RdpAccountant(ORDERS)
    for rate in rates:
        accountant.compose(dp_accounting.PoissonSampledDpEvent(
            rate, dp_accounting.GaussianDpEvent(noise_multiplier)))
    return accountant.get_epsilon(delta)


def test_each_site_joins_independently_at_the_sampling_rate() -> None:
    population, rate, draws = list(range(30)), 0.3, 4000
    rng = secrets.SystemRandom()
    sizes, joined = Counter(), Counter()
    for _ in range(draws):
        cohort = poisson_cohort(population, rate, rng)
        sizes[len(cohort)] += 1
        joined.update(cohort)
    # the cohort size is Binomial(30, 0.3): mean 9, sd 2.51; each site joins ~30% of rounds
    mean = sum(size * n for size, n in sizes.items()) / draws
    assert abs(mean - 9) < 4 * 2.51 / draws**0.5
    assert len(sizes) > 8  # not a fixed size
    assert all(abs(joined[s] / draws - rate) < 4 * (rate * (1 - rate) / draws) ** 0.5
               for s in population)


def test_the_seeded_debug_sampler_repeats_and_an_empty_cohort_is_possible() -> None:
    assert poisson_cohort(range(10), 0.5, random.Random(7)) == \
        poisson_cohort(range(10), 0.5, random.Random(7))
    assert poisson_cohort(range(10), 0.0, random.Random(7)) == []


@pytest.mark.parametrize(("expected", "population", "rounds"), [(9, 30, 10), (3, 40, 50)])
def test_the_plans_epsilon_equals_dp_accountings(make_config, expected: int, population: int,
                                                  rounds: int) -> None:
    cfg = make_config("privacy=client_dp", f"sites={population}", f"rounds={rounds}",
                      f"strategy.fraction_train={expected / population}")
    plan = SiteLevelPlan.for_run(cfg)
    events = [plan.release("run", r, expected, population) for r in range(1, rounds + 1)]
    ours = plan.epsilon(events)
    theirs = _dp_accounting_epsilon(plan.noise_multiplier, [expected / population] * rounds,
                                    plan.delta)
    # identical RDP at integer orders; at fractional orders Opacus' series comes out up to
    # ~0.3% below dp-accounting's (9 of 30: α=2.3 gives 3.893 vs 3.904), hence 0.2% on ε
    assert ours == pytest.approx(theirs, rel=2e-3)
    assert ours == pytest.approx(cfg.privacy.client.epsilon, rel=1e-2)


def test_a_runs_privacy_json_matches_dp_accounting(make_config, tmp_path: Path) -> None:
    """6 sites, expected cohort 3 (rate 0.5), 3 rounds: whatever cohorts were drawn (an
    empty one releases the noise alone), privacy.json's ε is the Poisson-subsampled
    Gaussian's."""
    fed = build_federation(make_config("privacy=client_dp", "sites=6", "rounds=3",
                                       "min_sites=2", "strategy.fraction_train=0.5",
                                       "privacy.client.epsilon=20"), tmp_path)
    fed.run()
    site = json.loads((fed.run_dir / "privacy.json").read_text())["site_level"]
    assert site["releases"] == 3 and site["sample_rates"] == [0.5] * 3
    assert site["sampling"].startswith("Poisson sampling")
    assert site["epsilon"] == pytest.approx(_dp_accounting_epsilon(
        site["noise_multiplier"], site["sample_rates"], site["delta"]), rel=2e-3)
    rows = [json.loads(x) for x in (fed.run_dir / "metrics.jsonl").read_text().splitlines()]
    assert len(rows) == 3 and all(0 <= r["sites_sampled"] <= 6 for r in rows)
