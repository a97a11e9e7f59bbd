"""Each epoch's augmented copy of the training images, built one epoch ahead in a thread.

While epoch e trains, a thread builds epoch e + 1's copy; torch's operations and
OpenCV's (inside albumentations) release the GIL, so on two cores the building
overlaps the training. Each copy depends on the seed and the epoch only, never on
timing, so a fit replays exactly.
"""

from __future__ import annotations

import threading
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Callable

import torch

# build(images, epoch, stop) -> the augmented images; it may return early once ``stop`` is set
EpochBuilder = Callable[[object, int, threading.Event], torch.Tensor]


class PrefetchedEpochs:
    def __init__(self, build: EpochBuilder):
        self.build = build
        self._pool: ThreadPoolExecutor | None = None
        self._next: tuple[int, object, Future] | None = None
        self._stop = threading.Event()

    def epoch(self, images, epoch: int) -> torch.Tensor:
        """Epoch ``epoch``'s augmented ``images``; starts building the next epoch's."""
        if self._next is not None and self._next[:2] == (epoch, id(images)):
            result = self._next[2].result()
        else:
            result = self.build(images, epoch, self._stop)
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="tunaflow-augment")
        self._next = (epoch + 1, id(images), self._pool.submit(self.build, images, epoch + 1, self._stop))
        return result

    def close(self) -> None:
        """Stop building an epoch that training will not reach."""
        self._stop.set()
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None
        self._next = None
        self._stop.clear()
