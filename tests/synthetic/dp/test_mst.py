"""synthetic.dp.mst: the released table, its randomness, and its quality on wa_churn."""

import math

import numpy as np
import pandas as pd
import pytest
from sdmetrics.reports import QualityReport

from conf.errors import ConfigError
from conf.schema import FeatureSpec
from synthetic.dp.accounting import mst_rho
from synthetic.dp.domain import OTHER
from synthetic.dp.mechanisms import gaussian
from synthetic.dp.mst import fit_sample_mst, split_budget
from synthetic.dp.selection import spanning_tree
from tasks.tabular import TabularTask
from tests.support.insecure_rng import forbid_insecure_rng

COLUMNS = [
    FeatureSpec("income", "numeric", low=0, high=100),
    FeatureSpec("band", "categorical", levels=("low", "high")),
    FeatureSpec("children", "numeric", low=0, high=4),
    FeatureSpec("region", "categorical", levels=("north", "south")),
]
FAST = {"bins": 8, "integers": ["children"], "iters": 100}


@pytest.fixture(scope="module")
def table() -> pd.DataFrame:
    rng = np.random.default_rng(7)
    income = rng.uniform(-20, 140, 600)  # partly outside the declared [0, 100]
    return pd.DataFrame(
        {
            "secret_id": np.arange(600),
            "income": income,
            "band": np.where(income > 50, "high", "low"),
            "children": rng.integers(0, 5, 600),
            "region": rng.choice(np.array(["north", "south", "west", None], dtype=object), 600),
        }
    )


@pytest.fixture(scope="module")
def released(table: pd.DataFrame) -> pd.DataFrame:
    return fit_sample_mst(table, COLUMNS, 2.0, 250, seed=11, **FAST)


def test_release_has_the_declared_columns_and_rows(released: pd.DataFrame) -> None:
    assert list(released.columns) == [spec.name for spec in COLUMNS]
    assert len(released) == 250


def test_release_stays_inside_the_declaration(released: pd.DataFrame) -> None:
    income = released["income"].dropna()
    assert income.between(0, 100).all()
    children = released["children"].dropna()
    assert children.isin([0, 1, 2, 3, 4]).all()
    assert set(released["band"].dropna()) <= {"low", "high", OTHER}
    assert set(released["region"].dropna()) <= {"north", "south", OTHER}
    assert "west" not in set(released["region"])


def test_release_follows_the_strong_dependence(released: pd.DataFrame) -> None:
    both = released.dropna(subset=["income", "band"])
    agree = ((both["income"] > 50) == (both["band"] == "high")).mean()
    assert agree > 0.8


def test_a_seed_reproduces_the_release(table: pd.DataFrame, released: pd.DataFrame) -> None:
    again = fit_sample_mst(table, COLUMNS, 2.0, 250, seed=11, **FAST)
    pd.testing.assert_frame_equal(again, released)
    other = fit_sample_mst(table, COLUMNS, 2.0, 250, seed=12, **FAST)
    assert not other.equals(released)


def test_a_fit_uses_no_insecure_random_source(
    table: pd.DataFrame, monkeypatch: pytest.MonkeyPatch
) -> None:
    forbid_insecure_rng(monkeypatch)
    lines: list[str] = []
    out = fit_sample_mst(table, COLUMNS, 2.0, 50, progress=lines.append, **FAST)
    assert len(out) == 50 and len(lines) == 4


def test_one_column_spends_everything_on_its_marginal(table: pd.DataFrame) -> None:
    out = fit_sample_mst(table, COLUMNS[1:2], 2.0, 2000, seed=3, bins=8)
    assert list(out.columns) == ["band"]
    assert (out["band"] == "high").mean() == pytest.approx((table["income"] > 50).mean(), abs=0.05)


def test_without_rows_the_release_has_a_noisy_count_not_the_real_one(
        table: pd.DataFrame) -> None:
    """rows=None samples MST's DP estimate of the row count (600 here): close, not exact."""
    counts = [len(fit_sample_mst(table, COLUMNS[1:3], 0.05, None, bins=8)) for _ in range(6)]
    assert all(abs(n - 600) < 60 for n in counts)
    assert counts != [600] * 6


@pytest.mark.parametrize("columns", [1, 2, 5, 20])
def test_budget_split_spends_rho_in_thirds(columns: int) -> None:
    sigma_one, epsilon, sigma_two = split_budget(0.3, columns)
    one_way = columns / (2 * sigma_one**2)
    if columns == 1:
        assert one_way == pytest.approx(0.3)
        return
    selection = (columns - 1) * epsilon**2 / 8
    pairs = (columns - 1) / (2 * sigma_two**2)
    assert one_way == pytest.approx(0.1) == selection == pytest.approx(pairs)


def test_a_fit_spends_exactly_rho(table: pd.DataFrame, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every Gaussian measurement (sensitivity 1) and every selection, added up in zCDP."""
    spent: list[float] = []

    def measure(counts, sigma, generator):
        spent.append(1 / (2 * sigma**2))
        return gaussian(counts, sigma, generator)

    def select(errors, columns, epsilon, generator):
        spent.extend([epsilon**2 / 8] * (len(columns) - 1))
        return spanning_tree(errors, columns, epsilon, generator)

    monkeypatch.setattr("synthetic.dp.mst.gaussian", measure)
    monkeypatch.setattr("synthetic.dp.mst.spanning_tree", select)
    fit_sample_mst(table, COLUMNS, 0.7, 20, seed=1, **FAST)
    assert len(spent) == 4 + 3 + 3 and sum(spent) == pytest.approx(0.7)


@pytest.mark.parametrize(
    ("rho", "rows", "message"),
    [(0.0, 10, "rho must be"), (math.inf, 10, "rho must be"), (1.0, 0, "rows must be")],
)
def test_bad_arguments_are_refused(table: pd.DataFrame, rho, rows, message) -> None:
    with pytest.raises(ValueError, match=message):
        fit_sample_mst(table, COLUMNS, rho, rows)


def test_bad_tables_are_refused(table: pd.DataFrame) -> None:
    with pytest.raises(ValueError, match=r"\['band'\] are missing"):
        fit_sample_mst(table.drop(columns="band"), COLUMNS, 1.0, 10)
    with pytest.raises(ValueError, match="no rows"):
        fit_sample_mst(table.iloc[:0], COLUMNS, 1.0, 10)
    with pytest.raises(ConfigError, match="bins"):
        fit_sample_mst(table, COLUMNS, 1.0, 10, bins=1)


WA_CHURN_INTEGERS = [
    "female",
    "senior_citizen",
    "partner",
    "dependents",
    "tenure",
    "phone_service",
    "paperless_billing",
]


@pytest.fixture
def churn(make_config) -> tuple[pd.DataFrame, list[FeatureSpec]]:
    """The bundled table and its declared public schema, the label as a categorical."""
    task = TabularTask(make_config("task=tabular").task)
    label = FeatureSpec(task.label.name, "categorical", levels=task.label.classes)
    return task.source_table(), [*task.features, label]


def quality(real: pd.DataFrame, synthetic: pd.DataFrame, columns: list[FeatureSpec]) -> dict:
    sdtypes = {"numeric": "numerical", "categorical": "categorical"}
    table = {"columns": {spec.name: {"sdtype": sdtypes[spec.type]} for spec in columns}}
    report = QualityReport()
    report.generate({"t": real}, {"t": synthetic}, {"tables": {"t": table}}, verbose=False)
    scores = report.get_properties().set_index("Property")["Score"]
    return {"overall": report.get_score(), **scores.to_dict()}


@pytest.mark.slow
def test_wa_churn_quality_at_epsilon_1(churn) -> None:
    real, columns = churn
    synthetic = fit_sample_mst(
        real, columns, mst_rho(1.0, 1e-5), len(real), integers=WA_CHURN_INTEGERS
    )
    scores = quality(real, synthetic, columns)
    assert scores["overall"] >= 0.80 and scores["Column Pair Trends"] >= 0.75, scores


@pytest.mark.slow
def test_wa_churn_independent_columns_fail_the_pair_trends_bar(churn) -> None:
    """The bar is meaningful: perfect 1-way marginals without dependence do not reach it."""
    real, columns = churn
    rng = np.random.default_rng(0)
    shuffled = pd.DataFrame({name: rng.permutation(real[name].to_numpy()) for name in real})
    scores = quality(real, shuffled, columns)
    assert scores["Column Shapes"] == pytest.approx(1.0)
    assert scores["Column Pair Trends"] < 0.75, scores
