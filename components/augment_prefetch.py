"""albumentations itself, one image per call, with the next epoch built in the background.

The reference engine (``augment.engine: albumentations``): any albumentations pipeline
runs, at albumentations' per-image speed. While epoch e trains, a thread builds epoch
e + 1's augmented copy of the training images; OpenCV releases the GIL inside each
call. Each epoch's copy depends on the seed and the epoch only, never on timing.
"""

from __future__ import annotations

import threading
from concurrent.futures import Future, ThreadPoolExecutor

import albumentations as A
import numpy as np
import torch

from components.seeding import derive_seed


class PrefetchedEpochs:
    """Augmented copies of the training images (N, H, W, C) in [0, 1], one per epoch."""

    def __init__(self, pipeline: dict, seed: int):
        self.pipeline, self.seed = pipeline, seed
        self._pool: ThreadPoolExecutor | None = None
        self._next: tuple[int, Future] | None = None
        self._stop = threading.Event()

    def _build(self, images: np.ndarray, epoch: int) -> np.ndarray:
        compose = A.from_dict(self.pipeline)
        compose.set_random_seed(derive_seed(self.seed, "augment", epoch))
        out = np.empty_like(images)
        for i, image in enumerate(images):
            if self._stop.is_set():
                break
            out[i] = compose(image=image)["image"].reshape(image.shape)
        return out

    def epoch(self, images: np.ndarray, epoch: int) -> torch.Tensor:
        """Epoch ``epoch``'s augmented images; starts building the next epoch's."""
        if self._next is not None and self._next[0] == epoch:
            result = self._next[1].result()
        else:
            result = self._build(images, epoch)
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="tunaflow-augment")
        self._next = (epoch + 1, self._pool.submit(self._build, images, epoch + 1))
        return torch.from_numpy(result)

    def close(self) -> None:
        """Stop building an epoch that training will not reach."""
        self._stop.set()
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None
        self._next = None
        self._stop.clear()
