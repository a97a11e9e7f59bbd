"""The TableEncoder: fitted on training rows only, raw rows in, a float matrix out, JSON round trip."""

import json

import numpy as np
import pandas as pd
import pytest

from tunaflow.components.table_encoder import TableEncoder, category_keys, fit_encoder

KINDS = {"size": "numeric", "colour": "categorical", "city": "categorical"}


def _train(n=40):
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({
        "size": rng.normal(10, 2, n).round(2),
        "colour": rng.choice(["red", "green"], n),
        "city": [f"city{i % 20}" for i in range(n)],  # 20 categories: an embedding code
    })
    frame.loc[[1, 5], "size"] = np.nan
    frame.loc[[2], "colour"] = None
    return frame


def test_layout_dense_columns_first_and_codes_last():
    encoder = fit_encoder(_train(), KINDS)
    assert encoder.feature_names == ["size", "size#missing", "colour=green", "colour=red", "colour#missing",
                                     "city#code"]
    assert encoder.embedded == [21]  # codes 0..20: 0 for missing or unknown
    assert encoder.columns == ["size", "colour", "city"]
    X = encoder.transform(_train())
    assert X.dtype == np.float32 and X.shape == (40, 6)
    assert set(np.unique(X[:, -1])) == set(range(1, 21))


def test_missing_cells_get_the_training_median_and_an_indicator():
    train = _train()
    encoder = fit_encoder(train, KINDS)
    X = encoder.transform(train)
    median = float(train["size"].median())
    assert X[1, 0] == pytest.approx(median) and X[1, 1] == 1 and X[0, 1] == 0
    assert X[0, 0] == pytest.approx(train["size"][0])
    assert X[2, 2:5].tolist() == [0, 0, 1]  # missing colour: no category, indicator set


def test_no_indicator_where_training_rows_had_no_gaps():
    train = _train().fillna({"size": 1.0, "colour": "red"})
    encoder = fit_encoder(train, KINDS)
    assert "size#missing" not in encoder.feature_names and "colour#missing" not in encoder.feature_names
    X = encoder.transform(pd.DataFrame({"size": [None], "colour": [None], "city": [None]}))
    assert X[0].tolist() == pytest.approx([float(train["size"].median()), 0, 0, 0])


def test_fitted_on_the_training_rows_only():
    train = _train()
    encoder = fit_encoder(train, KINDS)
    # rows only in validation/test must not move a median or add a category
    widened = pd.concat([train, pd.DataFrame({"size": [1e6] * 50, "colour": ["purple"] * 50,
                                              "city": ["atlantis"] * 50})], ignore_index=True)
    assert fit_encoder(train, KINDS).to_dict() == encoder.to_dict()
    assert fit_encoder(widened, KINDS).to_dict() != encoder.to_dict()
    X = encoder.transform(widened.tail(1))
    assert X[0].tolist() == [1e6, 0, 0, 0, 0, 0]  # unknown colour: all zeros; unknown city: code 0


def test_raw_rows_strings_empty_cells_and_unknown_categories_never_fail():
    encoder = fit_encoder(_train(), KINDS)
    raw = pd.DataFrame({"size": ["12.5", "", None, " 3 "], "colour": ["red", "RED?", np.nan, "green"],
                        "city": ["city3", "nowhere", "", 7], "extra": [1, 2, 3, 4]})
    X = encoder.transform(raw)
    median = float(_train()["size"].median())
    assert X[:, 0].tolist() == pytest.approx([12.5, median, median, 3.0])
    assert X[:, 1].tolist() == [0, 1, 1, 0]
    assert X[:, 2:5].tolist() == [[0, 1, 0], [0, 0, 0], [0, 0, 1], [1, 0, 0]]
    assert X[0, -1] > 0 and X[1:, -1].tolist() == [0, 0, 0]


def test_missing_columns_are_named():
    encoder = fit_encoder(_train(), KINDS)
    with pytest.raises(ValueError, match="missing input column.*: colour, city"):
        encoder.transform(pd.DataFrame({"size": [1.0]}))


def test_json_round_trip_transforms_the_same():
    encoder = fit_encoder(_train(), KINDS, dropped=["id"])
    restored = TableEncoder.from_dict(json.loads(json.dumps(encoder.to_dict())))
    raw = pd.DataFrame({"size": [1, None], "colour": ["green", "pink"], "city": ["city7", None]})
    assert np.array_equal(restored.transform(raw), encoder.transform(raw))
    assert restored.feature_names == encoder.feature_names and restored.dropped == ["id"]
    assert restored.embedded == encoder.embedded


def test_embedding_keeps_the_most_frequent_categories():
    frame = pd.DataFrame({"c": ["a"] * 5 + ["b"] * 4 + [f"r{i}" for i in range(30)] * 2})
    encoder = fit_encoder(frame, {"c": "categorical"}, embed_max=2)
    assert encoder.embedded == [3]
    codes = encoder.transform(pd.DataFrame({"c": ["a", "b", "r1", None]}))[:, 0]
    assert codes.tolist() == [1, 2, 0, 0]


def test_a_category_read_as_number_or_text_is_one_category():
    frame = pd.DataFrame({"grade": [1, 2, 3, 1, 2]})
    encoder = fit_encoder(frame, {"grade": "categorical"})
    same = encoder.transform(pd.DataFrame({"grade": ["1", 1.0, " 2", True]}))
    assert same[:3].tolist() == encoder.transform(pd.DataFrame({"grade": [1, 1, 2]})).tolist()
    assert category_keys(pd.Series([True, "TRUE", 1, "x", None], dtype=object)).tolist()[:4] == [
        "true", "true", "1", "x"]


def test_a_value_of_one_training_row_is_coded_as_unknown():
    """A near-unique column (names: a few repeat) gets codes only for the values that repeat: a
    code of its own for each once-seen name let a model memorize those rows (titanic's names)."""
    names = [f"passenger {i}" for i in range(60)] + ["Kelly, Mr James"] * 3 + ["Connolly, Miss Kate"] * 2
    encoder = fit_encoder(pd.DataFrame({"name": names}), {"name": "categorical"})
    assert encoder.feature_names == ["name=Kelly, Mr James", "name=Connolly, Miss Kate"]  # 2 kept: one-hot
    X = encoder.transform(pd.DataFrame({"name": ["passenger 3", "Kelly, Mr James", "someone new"]}))
    assert X.tolist() == [[0, 0], [1, 0], [0, 0]]  # once-seen and unseen alike
    many = pd.DataFrame({"c": [f"v{i % 30}" for i in range(60)] + [f"once{i}" for i in range(40)]})
    assert fit_encoder(many, {"c": "categorical"}).embedded == [31]  # 30 repeated values + code 0
