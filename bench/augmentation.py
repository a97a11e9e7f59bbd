"""Augmentation speed (issue 4): epoch time with augmentation against without, side by side.

1. The digits CNN (16-32, batch 64, one torch thread): median epoch time with the default
   image augmentation over the same without it, each fit repeated, runs interleaved.
   Goal: ratio <= 1.25.
2. Images per second of the augmentation alone (one epoch's copy built from the training
   images), 8x8 and 28x28, for the vectorized engine and for albumentations itself called
   per image.
"""

from __future__ import annotations

import statistics
import threading
import time

import numpy as np
import torch

from tunaflow.components.augment import build_augmentation
from tunaflow.components.augment_spec import AugmentSpec
from tunaflow.components.data import load_dataset, split_dataset
from tunaflow.components.spec import DataSpec, build_spec
from tunaflow.components.trainer import train_model

# what `augment.image` holds in examples/digits-cnn-augment.yaml before the search
DEFAULT = {"rotate": {"p": 0.5, "magnitude": 10}, "translate": {"p": 0.3, "magnitude": 0.125},
           "scale": {"p": 0.3, "magnitude": 0.1}}
# every operation at once, each with an even chance
ALL_OPS = {"rotate": {"p": 0.5}, "translate": {"p": 0.5, "magnitude": 0.125}, "scale": {"p": 0.5},
           "hflip": {"p": 0.5}, "vflip": {"p": 0.5}, "elastic": {"p": 0.5}, "brightness_contrast": {"p": 0.5},
           "noise": {"p": 0.5}, "cutout": {"p": 0.5}}
EPOCHS = 12


def _epoch_seconds(splits, image: dict | None, engine: str = "vectorized") -> float:
    augment = {"enabled": image is not None, "engine": engine, "image": image or {}}
    spec = build_spec({"name": "bench", "data": {"source": "digits"}, "augment": augment,
                       "model": {"family": "cnn", "blocks": 2, "channels": [16, 32]},
                       "train": {"epochs": EPOCHS, "batch_size": 64, "early_stopping": {"enabled": False}}})
    _, fit = train_model(spec, splits.X_train, splits.y_train, n_classes=splits.n_classes, kind="image",
                         seed=0, valid=(splits.X_val, splits.y_val))
    # skorch's `dur` of each epoch: batches, their augmentation and the validation pass
    return statistics.median(row["dur"] for row in fit.history)


def _images_per_second(side: int, image: dict, engine: str, n: int, repeats: int) -> float:
    X = np.random.default_rng(0).uniform(0, 255, (n, side, side)).astype(np.float32)
    aug = build_augmentation(AugmentSpec.model_validate({"engine": engine, "image": image}), "image", X,
                             seed=0, n_classes=2).image
    layout = aug._layout(torch.as_tensor(X))
    aug._build(layout, 0, threading.Event())  # warm-up
    timings = []
    for epoch in range(1, repeats + 1):
        start = time.perf_counter()
        aug._build(layout, epoch, threading.Event())
        timings.append(time.perf_counter() - start)
    return n / statistics.median(timings)


def run(repeats: int = 3) -> dict:
    torch.set_num_threads(1)
    spec = DataSpec(source="digits")
    splits = split_dataset(load_dataset(spec), spec, 0)
    _epoch_seconds(splits, DEFAULT)  # warm-up: first-call allocations and kernels
    cases = {"none": (None, "vectorized"), "default": (DEFAULT, "vectorized"), "all-ops": (ALL_OPS, "vectorized"),
             "default-albumentations": (DEFAULT, "albumentations")}
    seconds: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(repeats):
        for name, (image, engine) in cases.items():
            seconds[name].append(_epoch_seconds(splits, image, engine))
    base = statistics.median(seconds["none"])
    epochs = {name: {"epoch_s": statistics.median(v), "runs": v, "ratio": statistics.median(v) / base}
              for name, v in seconds.items()}
    for name, row in epochs.items():
        print(f"  digits cnn epoch, {name:24s} {row['epoch_s'] * 1000:7.1f} ms  ratio {row['ratio']:.3f}", flush=True)
    rates = {}
    for side, n in ((8, 4096), (28, 4096)):
        for label, image in (("default", DEFAULT), ("all-ops", ALL_OPS)):
            for engine, count in (("vectorized", n), ("albumentations", 1024)):
                key = f"{side}x{side} {label} {engine}"
                rates[key] = _images_per_second(side, image, engine, count, repeats)
                print(f"  {key:36s} {rates[key]:10.0f} images/s", flush=True)
    import albumentations
    import cv2

    return {"benchmark": "augmentation", "versions": {"albumentations": albumentations.__version__,
                                                      "opencv": cv2.__version__}, "repeats": repeats, "threads": 1, "epochs": EPOCHS,
            "n_train": len(splits.y_train), "epoch_times": epochs, "images_per_second": rates}
