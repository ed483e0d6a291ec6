import numpy as np
import pandas as pd
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from conf.errors import ConfigError
from conf.schema import FeatureSpec, LabelSpec
from tasks.encoding import encode_table, encoded_width, validate_specs
from tasks.errors import DataError

AGE = FeatureSpec("age", "numeric", low=0, high=100)
COLOUR = FeatureSpec("colour", "categorical", levels=("red", "green", "blue"))
FLAG = FeatureSpec("flag", "categorical", levels=("0", "1"))
LABEL = LabelSpec("outcome", ("no", "yes"))
FEATURES = (AGE, COLOUR, FLAG)


def table(**overrides: list) -> pd.DataFrame:
    columns = {
        "age": [0, 50, 100, 150, -20],
        "colour": ["red", "green", "blue", "green", "red"],
        "flag": [1, 0, 1, 1, 0],
        "outcome": ["no", "yes", "yes", "no", "no"],
    }
    return pd.DataFrame(columns | overrides)


def test_encodes_numeric_one_hot_and_label_in_declared_order():
    x, y = encode_table(table(), FEATURES, LABEL)
    expected = [
        [0.0, 1, 0, 0, 0, 1],
        [0.5, 0, 1, 0, 1, 0],
        [1.0, 0, 0, 1, 0, 1],
        [1.0, 0, 1, 0, 0, 1],  # 150 clipped to high
        [0.0, 1, 0, 0, 1, 0],  # -20 clipped to low
    ]
    assert x.dtype == torch.float32 and y.dtype == torch.int64
    assert x.tolist() == expected
    assert y.tolist() == [0, 1, 1, 0, 0]


def test_integer_labels_match_declared_string_classes():
    label = LabelSpec("outcome", ("1", "2", "3"))
    _, y = encode_table(table(outcome=[3, 1, 2, 1, 3]), (AGE,), label)
    assert y.tolist() == [2, 0, 1, 0, 2]


def test_width_counts_one_column_per_numeric_and_per_level():
    assert encoded_width(FEATURES) == 1 + 3 + 2
    assert encode_table(table(), FEATURES, LABEL)[0].shape == (5, 6)


def test_empty_table_encodes_to_empty_tensors():
    x, y = encode_table(table().iloc[:0], FEATURES, LABEL)
    assert x.shape == (0, 6) and y.shape == (0,)


@given(
    st.lists(st.floats(-1e6, 1e6), min_size=1, max_size=20),
    st.floats(-1e3, 1e3),
    st.floats(1e-3, 1e3),
)
def test_numeric_scaling_is_declared_affine_map_clipped(values, low, span):
    spec = FeatureSpec("v", "numeric", low=low, high=low + span)
    df = pd.DataFrame({"v": values, "outcome": ["no"] * len(values)})
    x, _ = encode_table(df, (spec,), LABEL)
    expected = np.clip((np.array(values) - low) / span, 0, 1)
    np.testing.assert_allclose(x[:, 0].numpy(), expected, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize(
    ("df", "message"),
    [
        (table().drop(columns="colour"), r"\['colour'\] .* missing"),
        (table().drop(columns="outcome"), r"\['outcome'\] .* missing"),
        (table(age=[1, None, 3, None, 5]), "column 'age': 2 missing value"),
        (table(outcome=["no", None, "yes", "no", "no"]), "column 'outcome': 1 missing value"),
        (table(age=[1, "ten", 3, 4, 5]), "column 'age': 1 non-numeric value.*'ten'"),
        (table(colour=["red", "purple", "red", "purple", "red"]), r"'colour'.*'purple' \(2 rows"),
        (table(flag=[1, 0, 2, 1, 0]), "'flag'.*'2' \\(1 rows\\)"),
        (table(outcome=["no", "maybe", "yes", "no", "no"]), "label 'outcome'.*'maybe'"),
    ],
)
def test_data_errors_name_the_source_and_column(df, message):
    with pytest.raises(DataError, match=message) as err:
        encode_table(df, FEATURES, LABEL, source="site-3.parquet")
    assert str(err.value).startswith("site-3.parquet")


@pytest.mark.parametrize(
    ("features", "label", "message"),
    [
        (
            (AGE, COLOUR, FeatureSpec("income", "numeric", low=5, high=1)),
            LABEL,
            r"^task.features\[2\] \(income\): low=5 must be < high=1$",
        ),
        ((FeatureSpec("x", "numeric", low=1, high=1),), LABEL, "low=1 must be < high=1"),
        ((FeatureSpec("x", "numeric", low=0),), LABEL, r"features\[0\] \(x\): .*low and high"),
        ((FeatureSpec("c", "categorical"),), LABEL, r"features\[0\] \(c\).levels: .*at least 1"),
        (
            (FeatureSpec("c", "categorical", levels=("a", "b", "a")),),
            LABEL,
            r"\['a'\] are declared more than once",
        ),
        (
            (AGE, AGE),
            LABEL,
            r"^task.features\[1\] \(age\): column already declared as task.features\[0\]$",
        ),
        ((AGE,), LabelSpec("outcome", ("yes",)), r"task.label \(outcome\).classes: .*at least 2"),
        ((AGE,), LabelSpec("outcome", ("1", "2", "1")), r"\['1'\] are declared more than once"),
        ((AGE,), LabelSpec("age", ("0", "1")), r"task.label \(age\): .*also declared as a feature"),
        ((), LABEL, "task.features: declare at least one"),
        ((FeatureSpec("x", "text"),), LABEL, "type='text' must be one of"),  # type: ignore[arg-type]
    ],
)
def test_invalid_specs_raise_config_error_naming_the_key(features, label, message):
    with pytest.raises(ConfigError, match=message):
        validate_specs(features, label)
    with pytest.raises(ConfigError, match=message):
        encode_table(table(), features, label)
