"""Batch input files: raw table rows for a model that encodes its input, numbers for one that does not."""

import numpy as np
import pandas as pd
import pytest

from tunaflow.components.batch_input import ExpectedInput, read_batch_input
from tunaflow.components.errors import DataError

RAW = ExpectedInput(columns=["colour", "size"], optional=("customer_id",), raw=True)


@pytest.mark.parametrize("suffix", ["csv", "parquet"])
def test_raw_rows_keep_strings_and_empty_cells(tmp_path, suffix):
    path = tmp_path / f"rows.{suffix}"
    frame = pd.DataFrame({"size": [1.5, None, 3.0], "colour": ["red", None, "mauve"], "customer_id": [7, 8, 9]})
    getattr(frame, f"to_{suffix}")(path, index=False)
    rows = read_batch_input(path, RAW)
    assert list(rows.columns) == ["colour", "size", "customer_id"]
    assert rows["colour"].tolist()[0] == "red" and pd.isna(rows["colour"][1]) and np.isnan(rows["size"][1])


def test_raw_rows_still_need_the_model_columns(tmp_path):
    path = tmp_path / "rows.csv"
    pd.DataFrame({"colour": ["red"], "label": ["yes"]}).to_csv(path, index=False)
    with pytest.raises(DataError, match="missing size; extra label; expected a CSV with the 2 column"):
        read_batch_input(path, RAW)


def test_a_numeric_model_still_refuses_strings_and_gaps(tmp_path):
    expected = ExpectedInput(columns=["a", "b"])
    path = tmp_path / "rows.csv"
    pd.DataFrame({"a": [1.0, 2.0], "b": ["x", "y"]}).to_csv(path, index=False)
    with pytest.raises(DataError, match="non-numeric column"):
        read_batch_input(path, expected)
    pd.DataFrame({"a": [1.0, np.nan], "b": [1, 2]}).to_csv(path, index=False)
    with pytest.raises(DataError, match="NaN or infinite"):
        read_batch_input(path, expected)
    pd.DataFrame({"a": [1, 2], "b": [3, 4]}).to_csv(path, index=False)
    assert read_batch_input(path, expected).dtypes.tolist() == [np.float32, np.float32]
