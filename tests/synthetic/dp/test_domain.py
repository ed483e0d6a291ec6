"""synthetic.dp.domain: cells from the declaration only, and values back from cells."""

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conf.errors import ConfigError
from conf.schema import FeatureSpec
from privacy.noise import SeededNoise
from synthetic.dp.domain import OTHER, decode_table, encode_table, make_codecs

AGE = FeatureSpec("age", "numeric", low=0, high=100)
FLAG = FeatureSpec("flag", "numeric", low=0, high=1)
COLOUR = FeatureSpec("colour", "categorical", levels=("red", "blue"))


def generator(seed: int = 0) -> SeededNoise:
    """A seeded source: the tests check distributions, not privacy."""
    return SeededNoise(seed)


@settings(max_examples=60, deadline=None)
@given(
    values=st.lists(st.floats(0, 100), min_size=1, max_size=50),
    bins=st.integers(2, 64),
)
def test_numeric_round_trip_stays_in_its_bin(values: list[float], bins: int) -> None:
    (codec,) = make_codecs([AGE], bins)
    codes = codec.encode(pd.Series(values))
    decoded = codec.decode(codes, generator())
    assert codec.size == bins + 1
    assert ((decoded >= 0) & (decoded <= 100)).all()
    np.testing.assert_array_equal(codec.encode(pd.Series(decoded)), codes)


@settings(max_examples=60, deadline=None)
@given(
    values=st.lists(st.integers(-5, 130), min_size=1, max_size=50),
    bins=st.integers(2, 64),
)
def test_integer_round_trip_gives_integers_in_the_same_cell(values: list[int], bins: int) -> None:
    (codec,) = make_codecs([FeatureSpec("tenure", "numeric", low=0, high=120)], bins, ["tenure"])
    codes = codec.encode(pd.Series(values))
    decoded = codec.decode(codes, generator())
    assert codec.size == min(bins, 121) + 1
    assert np.array_equal(decoded, np.floor(decoded)) and ((decoded >= 0) & (decoded <= 120)).all()
    np.testing.assert_array_equal(codec.encode(pd.Series(decoded)), codes)


def test_small_integer_range_round_trips_exactly() -> None:
    (codec,) = make_codecs([FLAG], 32, ["flag"])
    values = pd.Series([0, 1, 1, 0, None])
    decoded = codec.decode(codec.encode(values), generator())
    assert codec.size == 3
    np.testing.assert_array_equal(decoded, [0.0, 1.0, 1.0, 0.0, math.nan])


def test_values_outside_the_bounds_never_widen_the_domain() -> None:
    (codec,) = make_codecs([AGE], 10)
    codes = codec.encode(pd.Series([-1e9, 0, 55, 100, 1e9]))
    np.testing.assert_array_equal(codes, [0, 0, 5, 9, 9])
    assert codec.size == 11
    decoded = codec.decode(codes, generator())
    assert decoded.min() >= 0 and decoded.max() <= 100


def test_undeclared_categories_map_to_other_and_never_come_back() -> None:
    (codec,) = make_codecs([COLOUR], 8)
    codes = codec.encode(pd.Series(["red", "green", None, "blue", "mauve"]))
    np.testing.assert_array_equal(codes, [0, 2, 3, 1, 2])
    decoded = codec.decode(np.arange(codec.size), generator())
    assert list(decoded[:3]) == ["red", "blue", OTHER] and pd.isna(decoded[3])


def test_nullable_numbers_and_booleans_are_read() -> None:
    (codec,) = make_codecs([FLAG], 4, ["flag"])
    codes = codec.encode(pd.Series([1, None, 0], dtype="Int64"))
    np.testing.assert_array_equal(codes, [1, 2, 0])
    np.testing.assert_array_equal(codec.encode(pd.Series([True, False])), [1, 0])


def test_categories_are_compared_as_strings() -> None:
    (codec,) = make_codecs([FeatureSpec("term", "categorical", levels=("36", "60"))], 8)
    np.testing.assert_array_equal(codec.encode(pd.Series([36, 60, "60"])), [0, 1, 1])


def test_missing_values_get_their_own_cell_and_come_back_as_nan() -> None:
    codecs = make_codecs([AGE, COLOUR], 4)
    table = pd.DataFrame({"age": [None, 50.0], "colour": [None, "red"]})
    codes = encode_table(table, codecs)
    assert codes["age"][0] == 4 and codes["colour"][0] == 3
    out = decode_table(codes, codecs, generator())
    assert list(out.columns) == ["age", "colour"]
    assert out.isna().iloc[0].all() and out.notna().iloc[1].all()


def test_complete_columns_have_no_missing_or_other_cell() -> None:
    age, colour = make_codecs([AGE, COLOUR], 4, complete=True)
    assert (age.size, colour.size) == (4, 2)
    codes = encode_table(pd.DataFrame({"age": [0.0, 100.0], "colour": ["blue", "red"]}),
                         [age, colour])
    np.testing.assert_array_equal(codes["age"], [0, 3])
    np.testing.assert_array_equal(codes["colour"], [1, 0])
    out = decode_table({"age": np.arange(4), "colour": np.array([0, 1, 1, 0])}, [age, colour],
                       generator())
    assert out["age"].notna().all() and list(out["colour"]) == ["red", "blue", "blue", "red"]


@pytest.mark.parametrize(("column", "value", "message"), [
    (AGE, None, "'age' is declared complete but holds 1 missing value"),
    (COLOUR, None, "'colour' is declared complete but holds 1 missing value"),
    (COLOUR, "green", "'colour' is declared complete but holds 1 value.s. outside"),
])
def test_complete_columns_refuse_missing_and_undeclared_values(column, value, message) -> None:
    (codec,) = make_codecs([column], 4, complete=True)
    ok = 1.0 if column is AGE else "red"
    with pytest.raises(ValueError, match=message):
        codec.encode(pd.Series([ok, value], dtype=object))


def test_undeclared_columns_are_ignored() -> None:
    codes = encode_table(pd.DataFrame({"secret": [1], "age": [3]}), make_codecs([AGE], 4))
    assert list(codes) == ["age"]


def test_declared_column_missing_from_the_table_is_named() -> None:
    with pytest.raises(ValueError, match=r"\['colour'\] are missing"):
        encode_table(pd.DataFrame({"age": [1]}), make_codecs([AGE, COLOUR], 4))


def test_empty_table_is_refused() -> None:
    with pytest.raises(ValueError, match="no rows"):
        encode_table(pd.DataFrame({"age": []}), make_codecs([AGE], 4))


def test_datetime_column_is_refused_by_name() -> None:
    when = FeatureSpec("joined", "numeric", low=0, high=1)
    table = pd.DataFrame({"joined": pd.to_datetime(["2020-01-01", "2021-06-30"])})
    with pytest.raises(ValueError, match="'joined' holds dates or times"):
        encode_table(table, make_codecs([when], 4))


def test_text_in_a_numeric_column_is_refused_by_name() -> None:
    with pytest.raises(ValueError, match=r"'age' is declared numeric.*'old'"):
        encode_table(pd.DataFrame({"age": [1, "old"]}), make_codecs([AGE], 4))


@pytest.mark.parametrize(
    ("columns", "bins", "integers", "message"),
    [
        ([], 4, (), "at least one column"),
        ([AGE], 1, (), "bins must be"),
        ([AGE, AGE], 4, (), r"\['age'\] are declared more than once"),
        ([AGE], 4, ["colour"], "not declared numeric"),
        ([FeatureSpec("a", "numeric", low=3, high=3)], 4, (), "'a': low=3 and high=3 must span"),
        ([FeatureSpec("a", "numeric", low=0)], 4, (), "'a': a numeric column needs"),
        ([FeatureSpec("a", "numeric", low=0, high=math.inf)], 4, (), "finite"),
        ([FeatureSpec("a", "numeric", low=0.2, high=0.8)], 4, ["a"], "more than two integers"),
        ([FeatureSpec("c", "categorical")], 4, (), "'c': declare distinct levels"),
        ([FeatureSpec("c", "categorical", ("x", "x"))], 4, (), "distinct"),
        ([FeatureSpec("c", "categorical", (OTHER,))], 4, (), "distinct"),
        ([FeatureSpec("c", "text")], 4, (), "'c': type='text'"),
    ],
)
def test_bad_declarations_are_refused(columns, bins, integers, message) -> None:
    with pytest.raises(ConfigError, match=message):
        make_codecs(columns, bins, integers)
