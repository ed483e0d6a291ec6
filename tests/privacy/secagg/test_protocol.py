"""Whole SecAgg+ rounds in memory: correctness, dropouts at every stage, attacks."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from conf.errors import ConfigError
from privacy.secagg.errors import ForgedKeyError
from privacy.secagg.identity import IdentityKey
from privacy.secagg.messages import UnmaskRequest
from privacy.secagg.server import RoundFailedError, ServerRound
from privacy.secagg.site import (
    CohortTooSmallError,
    UnmaskRefusedError,
    UpdateRejectedError,
    advertise,
    mask_input,
    share_keys,
    unmask,
    verify_cohort,
)
from tests.support.insecure_rng import forbid_insecure_rng
from tests.support.secagg_round import params, run_round

LENGTH = 200


def _inputs(sites: int, seed: int = 0) -> dict[int, np.ndarray]:
    rng = np.random.default_rng(seed)  # test data only, nothing secret
    return {100 + i: rng.uniform(-1, 1, LENGTH) for i in range(sites)}


def _close(result: np.ndarray, expected: np.ndarray, count: int, p) -> None:
    step = 2 * p.clipping_range / (2**p.quantization_bits - 1)
    assert np.abs(result - expected).max() <= count * step


@pytest.mark.parametrize("sites", [3, 10, 50])
def test_sum_matches_plaintext(sites: int) -> None:
    values = _inputs(sites)
    p = params(sites, neighbours=min(sites - 1, 8))
    result, count = run_round(values, p)
    assert count == sites
    _close(result, sum(values.values()), sites, p)


@pytest.mark.parametrize("stage", ["advertise", "share", "mask", "unmask"])
def test_dropouts_at_each_stage_leave_the_survivors_sum(stage: int) -> None:
    values = _inputs(8)
    p = params(8, neighbours=6, threshold=4)
    gone = {101, 105}
    result, count = run_round(values, p, drop={stage: gone})
    counted = set(values) - gone if stage != "unmask" else set(values)
    assert count == len(counted)
    _close(result, sum(values[n] for n in counted), count, p)


def test_too_few_survivors_fail_the_round_cleanly() -> None:
    values = _inputs(5)
    p = params(5, neighbours=4, threshold=3)
    with pytest.raises(RoundFailedError, match=r"below secagg\.threshold=3"):
        run_round(values, p, drop={"mask": {100, 101, 102}})


def test_tampered_ciphertext_drops_its_sender() -> None:
    values = _inputs(6)
    p = params(6, neighbours=5, threshold=3)
    result, count = run_round(values, p, tamper={(102, 104)})
    assert count == 5
    _close(result, sum(v for n, v in values.items() if n != 102), 5, p)


def test_unmask_request_for_both_secrets_of_one_site_is_refused() -> None:
    p = params(3, neighbours=2, threshold=2)
    server = ServerRound(p, run="r", round=1)
    ads, states, trusted = _advertise_three()
    hoods = server.neighbourhoods(ads)
    sealed = {}
    for node in ads:
        cohort = verify_cohort(states[node], ads, trusted)
        sealed[node], states[node] = share_keys(states[node], p, cohort, sorted(hoods[node]))
    inbox = server.route(sealed)
    _, state = mask_input(states[1], p, np.zeros(4), inbox[1])
    with pytest.raises(UnmaskRefusedError, match=r"both secrets of node\(s\) \[2\]"):
        unmask(state, UnmaskRequest(survivors=(2, 3), dropped=(2,)))
    shares, state = unmask(state, UnmaskRequest(survivors=(2,), dropped=(3,)))
    assert {kind for kind, _ in shares.values()} == {"self", "pairwise"}
    with pytest.raises(UnmaskRefusedError):  # a second request cannot flip node 3 to "self"
        unmask(state, UnmaskRequest(survivors=(3,), dropped=()))


def test_forged_key_advertisement_is_detected() -> None:
    """A coordinator swapping in its own keys: under the site's identity key the signature
    fails; under an identity key of its own the site does not trust that key."""
    ads, states, trusted = _advertise_three()
    mallory, _ = advertise(run="r", server_round=1, node=2, site="s2",
                           identity=IdentityKey.generate())
    swapped = dataclasses.replace(ads[2], cipher_public=mallory.cipher_public,
                                  mask_public=mallory.mask_public)
    with pytest.raises(ForgedKeyError):
        verify_cohort(states[1], {**ads, 2: swapped}, trusted)
    with pytest.raises(ForgedKeyError, match="not the one this site trusts"):
        verify_cohort(states[1], {**ads, 2: mallory}, trusted)


def _advertise_three():
    ads, states, trusted = {}, {}, {}
    for node in (1, 2, 3):
        identity = IdentityKey.generate()
        trusted[f"s{node}"] = identity.public_bytes
        ads[node], states[node] = advertise(run="r", server_round=1, node=node,
                                            site=f"s{node}", identity=identity)
    return ads, states, trusted


def test_site_refuses_a_cohort_below_its_minimum() -> None:
    p = params(5, neighbours=2, threshold=2, min_cohort=4)
    ads, states, trusted = _advertise_three()
    cohort = verify_cohort(states[1], ads, trusted)
    with pytest.raises(CohortTooSmallError, match=r"secagg\.min_cohort=4"):
        share_keys(states[1], p, cohort, [2, 3])


@pytest.mark.parametrize("bad", [np.array([0.1, np.nan]), np.array([0.1, 1.5])])
def test_site_refuses_to_send_a_bad_update(bad: np.ndarray) -> None:
    p = params(3, neighbours=2, threshold=2)
    _, state = advertise(run="r", server_round=1, node=1, site="s1",
                         identity=IdentityKey.generate())
    with pytest.raises(UpdateRejectedError, match="not sent"):
        mask_input(state, p, bad, {})


def test_no_numpy_or_python_random_anywhere_in_a_round(monkeypatch) -> None:
    values = _inputs(6)  # test data is drawn before the patch
    forbid_insecure_rng(monkeypatch)
    p = params(6, neighbours=4, threshold=3)
    result, count = run_round(values, p, drop={"mask": {103}})
    _close(result, sum(v for n, v in values.items() if n != 103), count, p)


@pytest.mark.parametrize(("overrides", "fragment"), [
    ({"threshold": 2, "neighbours": 4}, "must be above half of secagg.neighbours"),
    ({"threshold": 5, "neighbours": 4}, "must be above half of secagg.neighbours"),
    ({"clipping_range": 0.0}, "secagg.clipping_range"),
    ({"quantization_bits": 40}, "secagg.quantization_bits"),
    ({"min_cohort": 1, "threshold": 3}, "secagg.min_cohort=1"),
])
def test_parameters_are_validated(overrides: dict, fragment: str) -> None:
    with pytest.raises(ConfigError, match=fragment):
        params(5, **overrides)


def test_modulus_too_small_for_the_cohort_is_refused() -> None:
    p = params(5, quantization_bits=16, modulus_bits=17)
    with pytest.raises(ConfigError, match="too small for 5 sites"):
        run_round(_inputs(5), p)


def test_exact_integers_sum_exactly_next_to_the_quantised_values() -> None:
    values = _inputs(5)
    weights = {node: [117 + i, 3] for i, node in enumerate(values)}
    p = params(5, neighbours=4, threshold=3)
    result, count = run_round(values, p, drop={"mask": {102}}, exact=weights)
    survivors = [n for n in values if n != 102]
    assert list(result[LENGTH:]) == [sum(weights[n][0] for n in survivors), 3 * len(survivors)]
    _close(result[:LENGTH], sum(values[n] for n in survivors), count, p)
