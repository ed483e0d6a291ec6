import hashlib

import pandas as pd
import pyarrow as pa
import pytest

from conf.errors import PrivflError
from tasks.errors import DataError
from tasks.io import TABLE_SUFFIXES, file_sha256, read_table, write_table

TABLE = pd.DataFrame(
    {"age": [31, 45, 27], "income": [1.5, 2.25, 0.0], "colour": ["red", "green", "blue"]}
)


def test_data_error_is_a_privfl_error():
    assert issubclass(DataError, PrivflError)


@pytest.mark.parametrize("suffix", TABLE_SUFFIXES)
def test_roundtrip_keeps_values_and_types(tmp_path, suffix):
    path = tmp_path / f"site-0{suffix}"
    write_table(TABLE, path)
    pd.testing.assert_frame_equal(read_table(path), TABLE)
    assert [p.name for p in tmp_path.iterdir()] == [path.name]  # no temp file left behind


def test_suffix_is_case_insensitive(tmp_path):
    write_table(TABLE, tmp_path / "DATA.CSV")
    pd.testing.assert_frame_equal(read_table(tmp_path / "DATA.CSV"), TABLE)


def test_write_replaces_an_existing_file(tmp_path):
    path = tmp_path / "t.parquet"
    write_table(TABLE, path)
    write_table(TABLE.head(1), path)
    assert len(read_table(path)) == 1


def test_failed_write_keeps_the_old_file_and_leaves_no_temp_file(tmp_path):
    path = tmp_path / "t.parquet"
    write_table(TABLE, path)
    before = file_sha256(path)
    unwritable = pd.DataFrame({"mixed": [1, "a", 2.5]})  # pyarrow cannot type this column
    with pytest.raises(pa.ArrowException):
        write_table(unwritable, path)
    assert file_sha256(path) == before
    assert [p.name for p in tmp_path.iterdir()] == ["t.parquet"]


def test_sha256_matches_hashlib(tmp_path):
    path = tmp_path / "t.csv"
    write_table(TABLE, path)
    assert file_sha256(path) == hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("absent.csv", None, "absent.csv: no such data file"),
        ("table.xlsx", b"whatever", r"table.xlsx: unsupported file type '.xlsx'; use one of"),
        ("broken.parquet", b"not parquet at all", "broken.parquet: cannot read it as .parquet"),
        ("empty.csv", b"", "empty.csv: cannot read it as .csv"),
        ("ragged.csv", b"a,b\n1,2\n1,2,3,4\n", "ragged.csv: cannot read it as .csv"),
        ("header.csv", b"a,b\n", "header.csv: the table has no rows"),
    ],
)
def test_read_errors_name_the_file(tmp_path, name, content, message):
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(DataError, match=message):
        read_table(path)


def test_write_rejects_unsupported_suffix(tmp_path):
    with pytest.raises(DataError, match=r"unsupported file type '\.json'"):
        write_table(TABLE, tmp_path / "t.json")
    assert list(tmp_path.iterdir()) == []


def test_sha256_of_missing_file_raises(tmp_path):
    with pytest.raises(DataError, match="no such data file"):
        file_sha256(tmp_path / "absent.parquet")
