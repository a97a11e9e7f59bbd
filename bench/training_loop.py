"""Samples per second of a tunaflow trial against a plain PyTorch loop.

Same module, data, batch size, optimizer and one torch thread; both run a validation
pass after every epoch, as a trial does. MLP and CNN, on digits and on a larger
synthetic image set. The ratio is tunaflow / plain (higher is better; goal >= 0.9, issue 20).
Both on the CPU (``train.device: cpu``), so a GPU machine compares like with like.

``.venv/bin/python bench/training_loop.py [--repeats N] [CASE ...]`` runs it alone.
"""

from __future__ import annotations

import statistics
import time

import numpy as np
import torch

from tunaflow.components.data import DataSplits, load_dataset, split_dataset
from tunaflow.components.spec import DataSpec, build_spec
from tunaflow.components.trainer import prepare_module, train_model

CASES = {
    "mlp-digits": ({"family": "mlp", "layers": 2, "units": [128, 64]}, "digits", 30),
    "cnn-digits": ({"family": "cnn", "blocks": 2, "channels": [16, 32]}, "digits", 10),
    "mlp-synthetic": ({"family": "mlp", "layers": 2, "units": [256, 128]}, "synthetic", 4),
    "cnn-synthetic": ({"family": "cnn", "blocks": 2, "channels": [16, 32]}, "synthetic", 2),
}


def synthetic_splits(n: int = 24000, side: int = 28, classes: int = 10, seed: int = 0) -> DataSplits:
    """Images whose class sets the position of a bright blob, plus noise."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, classes, n)
    X = rng.normal(0, 1, (n, side, side)).astype(np.float32)
    centers = np.linspace(4, side - 5, classes).astype(int)
    for c in range(classes):
        X[y == c, centers[c] - 2:centers[c] + 2, side // 2 - 2:side // 2 + 2] += 3
    cut1, cut2 = int(n * 0.7), int(n * 0.85)
    return DataSplits(X[:cut1], y[:cut1], X[cut1:cut2], y[cut1:cut2], X[cut2:], y[cut2:],
                      classes=list(range(classes)), kind="image")


def _splits(source: str) -> DataSplits:
    if source == "synthetic":
        return synthetic_splits()
    spec = DataSpec(source=source)
    return split_dataset(load_dataset(spec), spec, 0)


def plain_loop(spec, splits: DataSplits, epochs: int) -> float:
    """A hand-written PyTorch loop: shuffle, slice batches, step; validate each epoch."""
    module = prepare_module(spec, splits.X_train, splits.n_classes, splits.kind, 0)
    optimizer = torch.optim.Adam(module.parameters(), lr=spec.train.lr)
    loss_fn = torch.nn.CrossEntropyLoss()
    X, y = torch.as_tensor(splits.X_train), torch.as_tensor(splits.y_train)
    Xv, yv = torch.as_tensor(splits.X_val), torch.as_tensor(splits.y_val)
    generator = torch.Generator().manual_seed(0)
    batch = spec.train.batch_size
    start = time.perf_counter()
    for _ in range(epochs):
        module.train()
        order = torch.randperm(len(X), generator=generator)
        for i in range(0, len(X), batch):
            index = order[i:i + batch]
            optimizer.zero_grad()
            loss = loss_fn(module(X[index]), y[index])
            loss.backward()
            optimizer.step()
        module.eval()
        with torch.no_grad():
            for i in range(0, len(Xv), 1024):
                out = module(Xv[i:i + 1024])
                loss_fn(out, yv[i:i + 1024]).item()
                (out.argmax(1) == yv[i:i + 1024]).float().mean().item()
    return len(X) * epochs / (time.perf_counter() - start)


def tunaflow_trial(spec, splits: DataSplits, epochs: int) -> float:
    _, fit = train_model(spec, splits.X_train, splits.y_train, n_classes=splits.n_classes, kind=splits.kind,
                         seed=0, valid=(splits.X_val, splits.y_val), epochs=epochs)
    return fit.samples_per_second


def run(repeats: int = 3, cases: list[str] | None = None) -> dict:
    torch.set_num_threads(1)
    results = {}
    for name, (model, source, epochs) in CASES.items():
        if cases and name not in cases:
            continue
        splits = _splits(source)
        spec = build_spec({"name": "bench", "data": {"source": "digits"}, "model": model,
                           "train": {"epochs": epochs, "batch_size": 64, "device": "cpu",
                                     "early_stopping": {"enabled": False}}})
        tunaflow_trial(spec, splits, 1)  # warm-up: first-call imports and allocations
        plain, tuna = [], []
        for _ in range(repeats):
            plain.append(plain_loop(spec, splits, epochs))
            tuna.append(tunaflow_trial(spec, splits, epochs))
        ratio = statistics.median(tuna) / statistics.median(plain)
        results[name] = {"plain_samples_per_s": statistics.median(plain),
                         "tunaflow_samples_per_s": statistics.median(tuna), "ratio": ratio,
                         "n_train": len(splits.y_train), "epochs": epochs}
        print(f"  {name:14s} plain {statistics.median(plain):9.0f}/s  tunaflow {statistics.median(tuna):9.0f}/s"
              f"  ratio {ratio:.3f}", flush=True)
    return {"benchmark": "training_loop", "repeats": repeats, "threads": 1, "batch_size": 64, "cases": results}


if __name__ == "__main__":
    import argparse
    import json

    parser = argparse.ArgumentParser()
    parser.add_argument("cases", nargs="*", choices=[*CASES, []])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    print(json.dumps(run(args.repeats, args.cases)))
