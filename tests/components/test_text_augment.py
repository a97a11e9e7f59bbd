"""Text augmentation: each EDA operation on fixed seeds, synonyms from WordNet's files, train
batches only through the augmentation, and clear errors when WordNet or a translator is missing."""

from pathlib import Path

import numpy as np
import pytest
import torch
import yaml

from tests.text_samples import sentences
from tunaflow.cli import main
from tunaflow.components.augment import build_augmentation
from tunaflow.components.errors import SpecError
from tunaflow.components.spec import AugmentSpec
from tunaflow.components.text_augment import TextEDA, check_text_resources, synonym_table
from tunaflow.components.wordnet import WORDNET_DIR, WORDNET_PACKAGES, _synonyms, synonyms

ROWS = np.array([[2, 3, 4, 5, 6, 7, 0, 0], [8, 9, 10, 11, 0, 0, 0, 0]], dtype=np.float32)
TABLE = {3: np.array([20, 21]), 9: np.array([30])}


def _run(op: str, strength: float = 0.5, seed: int = 0) -> np.ndarray:
    return TextEDA([(op, 1.0, strength)], TABLE).augment_rows(ROWS, np.random.default_rng(seed))


def test_synonym_replaces_only_words_with_synonyms():
    out = _run("synonym")
    assert out[0, 1] in (20, 21) and out[1, 1] == 30
    assert np.array_equal(np.delete(out[0], 1), np.delete(ROWS[0], 1))


def test_insert_adds_synonyms_and_keeps_the_width():
    out = _run("insert", 0.34)
    assert out.shape == ROWS.shape
    assert (np.count_nonzero(out, axis=1) == [8, 5]).all()  # 2 and 1 words inserted (a third, rounded)
    assert set(out[0][out[0] > 0]) - set(ROWS[0]) <= {20, 21} and 30 in out[1]


def test_swap_keeps_the_words_and_delete_drops_some():
    swapped = _run("swap")
    assert sorted(swapped[0]) == sorted(ROWS[0]) and not np.array_equal(swapped, ROWS)
    deleted = _run("delete", 0.5)
    assert all(0 < np.count_nonzero(d) < np.count_nonzero(r) for d, r in zip(deleted, ROWS))
    kept = deleted[0][deleted[0] > 0].tolist()
    assert kept == [t for t in ROWS[0].tolist() if t in kept]  # order kept


def test_the_same_seed_gives_the_same_augmentation():
    eda = TextEDA([("synonym", 0.5, 0.3), ("swap", 0.5, 0.3), ("delete", 0.5, 0.2)], TABLE)
    draw = lambda seed: eda(torch.as_tensor(ROWS), None, torch.Generator().manual_seed(seed))[0]
    assert torch.equal(draw(1), draw(1)) and not all(torch.equal(draw(1), draw(s)) for s in range(2, 6))


def _fake_wordnet(folder):
    folder.mkdir()
    lines = {"noun": "00000001 05 n 03 film 0 movie 0 picture 0 000 | a film\n",
             "adj": "00000002 00 a 02 good(a) 0 nice 0 000 | fine\n", "verb": "", "adv": ""}
    for part, line in lines.items():
        (folder / f"data.{part}").write_text("  1 This software and database is being provided\n" + line)


def test_synonyms_come_from_wordnet_data_files(tmp_path, monkeypatch):
    _fake_wordnet(tmp_path / "wn")
    monkeypatch.setenv("TUNAFLOW_WORDNET_DIR", str(tmp_path / "wn"))
    _synonyms.cache_clear()
    assert synonyms()["movie"] == {"film", "picture"} and synonyms()["good"] == {"nice"}
    assert {k: v.tolist() for k, v in synonym_table(["movie", "film", "good", "tree"]).items()} == {2: [3], 3: [2]}


@pytest.mark.skipif(not (Path(WORDNET_DIR) / "data.noun").is_file(),
                    reason=f"the real WordNet is not installed ({WORDNET_DIR}/data.noun is absent): "
                           f"apt-get install {WORDNET_PACKAGES} (make test does)")
def test_the_real_wordnet_gives_the_synonyms_a_reader_expects(monkeypatch):
    """The Debian package's own files through tunaflow's reader, not a fake written to look like them."""
    monkeypatch.delenv("TUNAFLOW_WORDNET_DIR", raising=False)
    _synonyms.cache_clear()
    table = synonyms()
    assert {"auto", "automobile", "motorcar"} <= table["car"] and "car" in table["automobile"]
    assert {"film", "flick"} <= table["movie"]  # nouns
    assert "purchase" in table["buy"]  # verbs
    assert "large" in table["big"] and "glad" in table["happy"]  # adjectives
    assert "cognizant" in table["aware"] and "appalled" in table["aghast"]  # listed as "aware(p)", "aghast(p)"
    assert {"rapidly", "speedily"} <= table["quickly"]  # adverbs
    assert len(table) > 40_000 and all(word not in others for word, others in table.items())
    assert not [word for word in table if not word.isalpha() or word != word.lower()]  # no "hot_dog", "Car"
    assert {k: v.tolist() for k, v in synonym_table(["car", "tree", "automobile", "auto"]).items()} == \
        {2: [4, 5], 4: [2, 5], 5: [2, 4]}
    _synonyms.cache_clear()


def test_missing_wordnet_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv("TUNAFLOW_WORDNET_DIR", str(tmp_path / "none"))
    with pytest.raises(SpecError, match="augment.text.synonym.p: needs WordNet.*wordnet-base and wordnet-sense-index"):
        check_text_resources(["augment.text.synonym.p"])
    check_text_resources(["augment.text.swap"])  # swap and delete need nothing
    spec = AugmentSpec(text={"insert": {"p": 0.5}})
    with pytest.raises(SpecError, match="needs WordNet"):
        build_augmentation(spec, "text", ROWS, seed=0, n_classes=2, vocabulary=["a"])


def test_back_translation_without_a_translator_exits_2_with_one_line(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr("shutil.which", lambda name: None)
    texts, labels = sentences(40)
    folder = tmp_path / "corpus"
    for i, (text, label) in enumerate(zip(texts, labels)):
        (folder / label).mkdir(parents=True, exist_ok=True)
        (folder / label / f"{i}.txt").write_text(text)
    spec = tmp_path / "spec.yaml"
    spec.write_text(yaml.safe_dump({"name": "bt", "data": {"source": str(folder)}, "model": {"family": "fasttext"},
                                    "augment": {"text": {"back_translate": {"p": 0.3}}}}))
    assert main(["validate", str(spec)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["tunaflow: error: augment.text.back_translate: needs a translator: install the Debian packages apertium and "
                   "apertium-eng-spa (apertium not found)"]


def test_text_operations_on_a_table_are_refused():
    from tunaflow.components.augment_spec import check_augment_fits

    with pytest.raises(SpecError, match="augment.text.swap: text operation on a tabular source"):
        check_augment_fits(AugmentSpec(text={"swap": {"p": 0.2}}), "tabular", "wine", set())
