"""WordNet 3.0 synonyms read straight from the Debian package's data files (no NLTK).

Each line of ``data.noun`` (``.verb``, ``.adj``, ``.adv``) is a synset: its offset, lexicographer
file, part of speech, the hexadecimal word count, then each word with a lexical id. Words of
one synset are synonyms; a text model's tokens are single words, so multi-word lemmas
(``hot_dog``) are left out.
"""

from __future__ import annotations

import os
import re
from functools import lru_cache
from pathlib import Path

from tunaflow.components.errors import SpecError

WORDNET_DIR = "/usr/share/wordnet"
WORDNET_PACKAGES = "wordnet-base and wordnet-sense-index"
_PARTS = ("noun", "verb", "adj", "adv")
_MARKER = re.compile(r"\((a|p|ip)\)$")  # adjective position markers: "big(a)"


def wordnet_dir() -> Path:
    """Where the WordNet files are; ``TUNAFLOW_WORDNET_DIR`` overrides the Debian package's place."""
    return Path(os.environ.get("TUNAFLOW_WORDNET_DIR") or WORDNET_DIR)


def check_wordnet(where: str) -> None:
    """SpecError naming ``where`` when the WordNet data files are not installed."""
    folder = wordnet_dir()
    missing = [f"data.{part}" for part in _PARTS if not (folder / f"data.{part}").is_file()]
    if missing:
        raise SpecError(where, f"needs WordNet, and {missing[0]} is not in {folder}: install the Debian packages "
                               f"{WORDNET_PACKAGES} (make data)")


@lru_cache(maxsize=2)
def _synonyms(folder: str) -> dict[str, frozenset[str]]:
    synonyms: dict[str, set[str]] = {}
    for part in _PARTS:
        with open(Path(folder) / f"data.{part}", encoding="utf-8", errors="replace") as handle:
            for line in handle:
                if line.startswith(" "):  # the license header
                    continue
                fields = line.split(" ", 4 + 2 * 255)
                count = int(fields[3], 16)
                words = {_MARKER.sub("", w).lower() for w in fields[4:4 + 2 * count:2]}
                words = {w for w in words if "_" not in w and w.isalpha()}
                if len(words) > 1:
                    for word in words:
                        synonyms.setdefault(word, set()).update(words - {word})
    return {word: frozenset(others) for word, others in synonyms.items()}


def synonyms() -> dict[str, frozenset[str]]:
    """Each single-word lemma -> the other single-word lemmas of its synsets (read once per process)."""
    check_wordnet("augment.text")
    return _synonyms(str(wordnet_dir()))
