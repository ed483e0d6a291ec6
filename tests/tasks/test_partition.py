import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conf.schema import PartitionConfig
from tasks.errors import DataError
from tasks.partition import PARTITIONERS, holdout_split, local_split, partition


def check_split(parts: list[np.ndarray], n: int, min_rows: int) -> None:
    joined = np.concatenate(parts)
    assert len(joined) == n and set(joined.tolist()) == set(range(n))  # disjoint and covering
    assert min(len(p) for p in parts) >= min_rows


@settings(max_examples=60, deadline=None)
@given(
    name=st.sampled_from(sorted(PARTITIONERS)),
    sites=st.integers(2, 8),
    min_rows=st.integers(1, 5),
    extra=st.integers(0, 300),
    classes=st.integers(1, 6),
    alpha=st.floats(0.5, 20),
    seed=st.integers(0, 2**32 - 1),
)
def test_partition_is_disjoint_covering_minimal_and_seeded(
    name, sites, min_rows, extra, classes, alpha, seed
):
    n = sites * min_rows * 4 + extra
    labels = np.random.default_rng(seed).integers(0, classes, size=n)
    cfg = PartitionConfig(name=name, alpha=alpha, min_site_rows=min_rows)
    parts = partition(labels, sites, cfg, seed)
    assert len(parts) == sites
    check_split(parts, n, min_rows)
    again = partition(labels, sites, cfg, seed)
    assert all(np.array_equal(a, b) for a, b in zip(parts, again, strict=True))


def test_different_seeds_give_different_splits():
    labels = np.arange(200) % 4
    cfg = PartitionConfig(name="iid")
    assert not np.array_equal(partition(labels, 4, cfg, 1)[0], partition(labels, 4, cfg, 2)[0])


def test_iid_sizes_differ_by_at_most_one():
    parts = partition(np.zeros(103), 10, PartitionConfig(name="iid", min_site_rows=10), 0)
    assert sorted({len(p) for p in parts}) == [10, 11]


def dominant_share(labels: np.ndarray, parts: list[np.ndarray]) -> float:
    """Mean over sites of the share of a site's rows in its most frequent class."""
    return float(np.mean([np.bincount(labels[p]).max() / len(p) for p in parts]))


def test_small_alpha_skews_labels_and_large_alpha_does_not():
    labels = np.repeat(np.arange(10), 200)
    skewed = partition(labels, 10, PartitionConfig("dirichlet", alpha=0.05, min_site_rows=5), 0)
    even = partition(labels, 10, PartitionConfig("dirichlet", alpha=1000.0, min_site_rows=5), 0)
    iid = partition(labels, 10, PartitionConfig("iid", min_site_rows=5), 0)
    assert dominant_share(labels, skewed) > 0.6
    assert dominant_share(labels, even) < 0.2
    assert dominant_share(labels, iid) < 0.2


def test_dirichlet_accepts_string_labels():
    labels = np.array(["yes", "no", "no", "maybe"] * 50, dtype=object)
    parts = partition(labels, 4, PartitionConfig("dirichlet", alpha=1.0, min_site_rows=5), 3)
    check_split(parts, 200, 5)


def test_dirichlet_gives_up_with_advice():
    labels = np.repeat(np.arange(10), 60)
    cfg = PartitionConfig("dirichlet", alpha=0.01, min_site_rows=50)
    advice = r"raise partition\.alpha or lower sites or partition\.min_site_rows"
    with pytest.raises(DataError, match=advice):
        partition(labels, 10, cfg, 0)


@pytest.mark.parametrize("name", sorted(PARTITIONERS))
def test_too_few_rows_for_the_sites(name):
    with pytest.raises(DataError, match="has 99 rows, too few for 10 sites of at least 10"):
        partition(np.zeros(99), 10, PartitionConfig(name=name, min_site_rows=10), 0)


@settings(max_examples=40, deadline=None)
@given(
    counts=st.lists(st.integers(1, 60), min_size=1, max_size=5),
    fraction=st.floats(0.1, 0.5),
    seed=st.integers(0, 1000),
)
def test_holdout_is_stratified_disjoint_and_seeded(counts, fraction, seed):
    labels = np.repeat([f"c{i}" for i in range(len(counts))], counts)
    df = pd.DataFrame({"row": np.arange(len(labels)), "y": labels})
    try:
        rest, held = holdout_split(df, "y", fraction, seed)
    except DataError:
        assert all(round(fraction * c) == 0 for c in counts)
        return
    assert sorted(rest.row.tolist() + held.row.tolist()) == list(range(len(df)))
    for i, count in enumerate(counts):
        assert (held.y == f"c{i}").sum() == round(fraction * count)
    assert list(held.index) == list(range(len(held)))
    pd.testing.assert_frame_equal(held, holdout_split(df, "y", fraction, seed)[1])


def test_holdout_missing_label_column():
    with pytest.raises(DataError, match="label column 'target' is not in the table"):
        holdout_split(pd.DataFrame({"y": [0, 1]}), "target", 0.5, 0)


@given(n=st.integers(2, 500), fraction=st.floats(0.01, 0.99), seed=st.integers(0, 1000))
def test_local_split_has_rows_on_both_sides(n, fraction, seed):
    train, test = local_split(n, fraction, seed)
    assert len(train) >= 1 and len(test) >= 1
    assert sorted(np.concatenate([train, test]).tolist()) == list(range(n))
    assert len(test) == min(max(1, round(fraction * n)), n - 1)
    assert np.array_equal(test, local_split(n, fraction, seed)[1])


@pytest.mark.parametrize("n", [0, 1])
def test_local_split_needs_two_rows(n):
    with pytest.raises(DataError, match=f"has {n} row\\(s\\); at least 2"):
        local_split(n, 0.2, 0)
