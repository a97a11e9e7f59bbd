"""Back-translation: Apertium's round trip in batches, translations cached per text, alternates
for training rows only, seeded replay, and exit 2 when no translator is there."""

import shutil

import numpy as np
import pandas as pd
import pytest
import torch

from tests.text_samples import sentences
from tunaflow.components.augment import build_augmentation
from tunaflow.components.back_translate import BackTranslate, BackTranslations
from tunaflow.components.data import load_dataset, split_dataset
from tunaflow.components.default_space import DataProfile, auto_space, suggested_families
from tunaflow.components.errors import SpecError
from tunaflow.components.spec import AugmentSpec, DataSpec
from tunaflow.components.text_augment import check_text_resources
from tunaflow.components.text_encoder import tokenize
from tunaflow.components.translation_cache import round_trip
from tunaflow.components.translators import ApertiumTranslator, use_translator


class Reverser:
    """A stand-in translator: to the pivot the word order is reversed, back it is kept."""

    name = "reverser"

    def __init__(self):
        self.seen: list[str] = []

    def translate(self, texts, src, dst):
        if dst == "spa":
            self.seen += texts
            return [" ".join(reversed(tokenize(text))) for text in texts]
        return list(texts)


@pytest.fixture
def reverser():
    translator = Reverser()
    use_translator(translator)
    yield translator
    use_translator(None)


def _fake_apertium(tmp_path):
    """A script in Apertium's place that upper-cases its input and counts its calls; its modes."""
    script = tmp_path / "apertium"
    script.write_text(f"#!/bin/sh\necho \"$@\" >> {tmp_path / 'calls'}\ntr a-z A-Z\n")
    script.chmod(0o755)
    modes = tmp_path / "modes"
    modes.mkdir()
    for pair in ("eng-spa", "spa-eng"):
        (modes / f"{pair}.mode").write_text("")
    return ApertiumTranslator(str(script), modes), tmp_path / "calls"


def test_apertium_batches_documents_and_the_cache_spares_a_second_call(tmp_path):
    translator, calls = _fake_apertium(tmp_path)
    texts = ["The film was good.", "", "Two\nlines @@@ marker", "The film was good."]
    assert round_trip(texts, translator, cache_dir=tmp_path / "cache") == [
        "THE FILM WAS GOOD.", "", "TWO LINES MARKER", "THE FILM WAS GOOD."]
    assert calls.read_text().splitlines() == ["-u eng-spa", "-u spa-eng"]  # one process per direction
    assert round_trip(texts[:3], translator, cache_dir=tmp_path / "cache")[0] == "THE FILM WAS GOOD."
    assert len(calls.read_text().splitlines()) == 2  # all three were cached: no process ran


@pytest.mark.skipif(ApertiumTranslator().missing() is not None, reason="apertium-eng-spa is not installed")
def test_apertium_round_trips_english_through_spanish():
    texts = ["The movie was really good, I liked it.", "A boring and predictable film.", "The actors were great."]
    back = round_trip(texts, ApertiumTranslator())
    assert len(back) == 3 and back[1] == "A boring and predictable film."
    assert back[0] != texts[0] and "film" in back[0].lower()  # movie -> película -> film


def _splits(tmp_path):
    texts, labels = sentences(60)
    path = tmp_path / "t.csv"
    pd.DataFrame({"body": texts, "label": labels}).to_csv(path, index=False)
    spec = DataSpec(source=str(path), target="label", min_freq=1)
    return split_dataset(load_dataset(spec), spec, seed=3), texts


def test_training_and_validation_documents_are_translated_never_test_ones(tmp_path, reverser):
    splits, texts = _splits(tmp_path)
    table = splits.back_translations.table(cache_dir=tmp_path / "cache")
    test_docs = {texts[i] for i in splits.rows["test"]}
    assert sorted(reverser.seen) == sorted(texts[i] for i in np.concatenate([splits.rows["train"],
                                                                            splits.rows["val"]]))
    assert not test_docs & set(reverser.seen)
    op = BackTranslate(1.0, splits.back_translations)
    out = op.replace_rows(splits.X_train, np.random.default_rng(0))
    for row, new in zip(splits.X_train, out):  # every training row became its round trip: words reversed
        assert new[new > 0].tolist() == row[row > 0][::-1].tolist()
    assert not any(row.tobytes() in table for row in splits.X_test)
    assert np.array_equal(op.replace_rows(splits.X_test, np.random.default_rng(0)), splits.X_test)


def test_back_translation_replays_on_a_seed_and_p_sets_the_share(tmp_path, reverser):
    splits, _ = _splits(tmp_path)
    splits.back_translations.table(cache_dir=tmp_path / "cache")
    spec = AugmentSpec(text={"back_translate": {"p": 0.5}})
    augmentation = build_augmentation(spec, "text", splits.X_train, seed=0, n_classes=2,
                                      vocabulary=splits.encoder.vocabulary,
                                      back_translations=splits.back_translations)
    op = augmentation.batch_ops[0]
    X = torch.as_tensor(splits.X_train)
    draw = lambda seed: op(X, None, torch.Generator().manual_seed(seed))[0]
    assert torch.equal(draw(1), draw(1)) and not torch.equal(draw(1), draw(2))
    changed = (draw(1) != X).any(dim=1).float().mean().item()
    assert 0.2 < changed < 0.8  # about half of the rows (palindromes aside)
    assert op.describe()["translator"] == "reverser" and op.describe()["documents"] == len(
        splits.rows["train"]) + len(splits.rows["val"])


def test_a_missing_translator_is_a_spec_error_naming_the_packages(monkeypatch):
    monkeypatch.setenv("TUNAFLOW_APERTIUM", "/nonexistent/apertium")
    with pytest.raises(SpecError, match="augment.text.back_translate: needs a translator: install the Debian "
                                        "packages apertium and apertium-eng-spa"):
        check_text_resources(["augment.text.back_translate.p"])
    translator = ApertiumTranslator(shutil.which("sh"), modes="/nonexistent")
    assert "eng-spa.mode not in /nonexistent" in translator.missing()


def test_a_plugged_translator_needs_no_apertium(monkeypatch, reverser):
    monkeypatch.setenv("TUNAFLOW_APERTIUM", "/nonexistent/apertium")
    check_text_resources(["augment.text.back_translate.p"])  # no error: the reverser translates


def test_the_default_space_leaves_back_translation_out():
    from tunaflow.components.space import all_paths

    profile = DataProfile("text", "classification", n_rows=400, n_features=40)
    paths = all_paths(auto_space(suggested_families(profile), profile))
    assert "model.family" in paths and "train.lr" in paths
    assert not any(path.startswith("augment.") for path in paths)
