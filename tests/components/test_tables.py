"""Reading and typing tables: kinds guessed from values, overrides, dropped columns, bad files."""

import numpy as np
import pandas as pd
import pytest

from tunaflow.components.errors import DataError
from tunaflow.components.tables import load_table, read_table


def _write(tmp_path, frame, name="t.csv"):
    path = tmp_path / name
    if name.endswith(".csv"):
        frame.to_csv(path, index=False)
    else:
        frame.to_parquet(path, index=False)
    return path


def _frame(n=60, seed=0):
    rng = np.random.default_rng(seed)
    return pd.DataFrame({
        "row": np.arange(n),                                   # a row number: dropped
        "customer": [f"c-{i:04d}" for i in rng.permutation(n)],  # unique strings: dropped
        "age": rng.integers(18, 90, n),                         # ints: numeric
        "rating": rng.integers(1, 4, n),                        # low-cardinality ints stay numeric
        "income": rng.normal(50, 10, n).round(1),
        "colour": rng.choice(["red", "green", "blue"], n),      # strings: categorical
        "member": rng.choice([True, False], n),                 # booleans: categorical
        "country": "NO",                                         # constant: dropped
        "y": rng.choice(["yes", "no"], n),
    })


def test_columns_are_typed_from_their_values(tmp_path):
    table = load_table(_write(tmp_path, _frame()), "y", {})
    assert table.kinds == {"age": "numeric", "rating": "numeric", "income": "numeric",
                           "colour": "categorical", "member": "categorical"}
    assert table.dropped == ["row", "customer", "country"]
    assert list(table.features.columns) == list(table.kinds)
    notes = "\n".join(table.notes)
    assert "dropped column 'row': an id" in notes and "dropped column 'customer': an id" in notes
    assert "dropped column 'country': constant (every row 'NO')" in notes
    assert len(table.notes) == 3


def test_distinct_integers_that_look_like_a_measurement_are_kept(tmp_path):
    rng = np.random.default_rng(1)
    frame = pd.DataFrame({"price": rng.permutation(np.arange(1000, 5000, 7))[:40], "x": rng.normal(size=40),
                          "y": [0, 1] * 20})
    assert load_table(_write(tmp_path, frame), "y", {}).kinds == {"price": "numeric", "x": "numeric"}
    named = frame.rename(columns={"price": "order_id"})
    assert load_table(_write(tmp_path, named), "y", {}).dropped == ["order_id"]


def test_overrides_win_over_the_guess(tmp_path):
    path = _write(tmp_path, _frame())
    table = load_table(path, "y", {"rating": "categorical", "colour": "drop", "row": "numeric"})
    assert table.kinds["rating"] == "categorical" and table.kinds["row"] == "numeric"
    assert "colour" not in table.kinds and "colour" in table.dropped


def test_numbers_with_placeholder_tokens_are_numeric_with_a_note(tmp_path):
    values = [str(v) for v in range(40)]
    values[3] = values[17] = "?"
    frame = pd.DataFrame({"x": values, "y": [0, 1] * 20})
    table = load_table(_write(tmp_path, frame), "y", {})
    assert table.kinds == {"x": "numeric"}
    assert table.features["x"].isna().sum() == 2 and table.features["x"].iloc[5] == 5.0
    assert any("2 non-numeric cell(s) ('?') read as missing" in note for note in table.notes)


def test_free_text_is_typed_text_unless_overridden(tmp_path):
    rng = np.random.default_rng(0)
    words = ["good", "bad", "service", "slow", "friendly", "price", "great", "never", "again", "staff"]
    reviews = [" ".join(rng.choice(words, 8)) + f" visit {i}" for i in range(40)]
    path = _write(tmp_path, pd.DataFrame({"review": reviews, "x": rng.normal(size=40), "y": [0, 1] * 20}))
    assert load_table(path, "y", {}).kinds == {"review": "text", "x": "numeric"}
    assert load_table(path, "y", {"review": "drop"}).kinds == {"x": "numeric"}
    assert load_table(path, "y", {"x": "text"}).kinds == {"review": "text", "x": "text"}


def test_rows_without_a_target_are_dropped_with_a_note(tmp_path):
    frame = pd.DataFrame({"x": range(30), "y": [1.5, np.nan, 2.5] * 10})
    table = load_table(_write(tmp_path, frame), "y", {})
    assert len(table.features) == len(table.target) == 20 and not table.target.isna().any()
    assert "dropped 10 of 30 rows whose target 'y' is missing" in table.notes


@pytest.mark.parametrize("content,message", [
    ("a,b,y\n", "no data rows (only the header: a, b, y)"),
    ("", "empty file: no header and no data rows"),
    ('a,b\n1,"2\n', "not a readable CSV file"),
])
def test_unreadable_or_empty_files(tmp_path, content, message):
    path = tmp_path / "t.csv"
    path.write_text(content)
    with pytest.raises(DataError, match=message.replace("(", r"\(").replace(")", r"\)")) as info:
        load_table(path, "y", {})
    assert str(path) in str(info.value) and "\n" not in str(info.value)


@pytest.mark.parametrize("frame,target,overrides,message", [
    (pd.DataFrame({"x": [1, 2, 3], "y": [None, None, None]}), "y", {}, "target column 'y' is empty"),
    (pd.DataFrame({"x": [1, 2, 3], "y": ["", " ", None]}), "y", {}, "target column 'y' is empty"),
    (pd.DataFrame({"x": [1, 1, 1], "k": [None] * 3, "y": [0, 1, 0]}), "y", {},
     r"no feature column left besides the target 'y' \(dropped: x, k\)"),
    (pd.DataFrame({"x": [1, 2], "y": [0, 1]}), "y", {"nope": "numeric"}, "data.columns.nope: no such column"),
    (pd.DataFrame({"x": [1, 2], "y": [0, 1]}), "y", {"y": "drop"}, "data.columns.y: is the target column"),
    (pd.DataFrame({"x": ["a", "b"], "y": [0, 1]}), "y", {"x": "numeric"},
     "data.columns.x: set to numeric, but none of its values is a number"),
])
def test_bad_tables_are_one_line_data_errors(tmp_path, frame, target, overrides, message):
    with pytest.raises(DataError, match=message) as info:
        load_table(_write(tmp_path, frame), target, overrides)
    assert "\n" not in str(info.value)


def test_a_table_needs_a_target_name(tmp_path):
    with pytest.raises(DataError, match="data.target: a table source needs the name of its target column"):
        load_table(_write(tmp_path, _frame()), None, {})


def test_parquet_keeps_types_and_reads_like_csv(tmp_path):
    frame = _frame()
    frame.loc[3, "colour"] = None
    frame.loc[5, "income"] = np.nan
    from_parquet = load_table(_write(tmp_path, frame, "t.parquet"), "y", {})
    from_csv = load_table(_write(tmp_path, frame, "t.csv"), "y", {})
    assert from_parquet.kinds == from_csv.kinds and from_parquet.dropped == from_csv.dropped
    assert read_table(tmp_path / "t.parquet").shape == frame.shape


def test_a_corrupt_parquet_file_is_a_data_error(tmp_path):
    path = tmp_path / "t.parquet"
    path.write_bytes(b"PAR1 not really")
    with pytest.raises(DataError, match="not a readable Parquet file"):
        read_table(path)


def test_many_columns_dropped_for_one_reason_make_one_note(tmp_path):
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({f"px{i}": 0 for i in range(12)} | {"x": rng.normal(size=30), "y": [0, 1, 2] * 10},
                         index=range(30))
    table = load_table(_write(tmp_path, frame), "y", {})
    assert len(table.dropped) == 12
    assert table.notes == ["dropped 12 columns: constant (px0, px1, px2, px3, px4, ...)"]
