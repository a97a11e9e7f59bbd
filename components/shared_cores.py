"""Torch threads for a fit that shares the process with other work for a while.

The final training runs while the study's report is drawn by a process of its own
(tasks/search_report.py). Torch's intra-op threads wait on one another at every parallel
operation: with as many threads as cores and one more busy process beside them, each step
waits for the thread the scheduler put aside (measured on a busy 2-core machine: the
digits MLP trained ten times slower with 2 threads than with 1). So the fit leaves one core
to the other work, and takes it back at the first epoch end after that work is done. The
thread count changes no value of that fit: its weights were identical with 1 and 2 threads.
"""

from __future__ import annotations

import threading

import torch


class SharedCores:
    """``with SharedCores(done):`` one torch thread fewer (never less than one) until ``done`` is
    set; ``reclaim()``, called between epochs, gives the thread back; the count is restored on exit."""

    def __init__(self, done: threading.Event | None):
        self.done = done
        self.threads = torch.get_num_threads()

    def __enter__(self) -> SharedCores:
        self.threads = torch.get_num_threads()
        if self.done is not None and not self.done.is_set() and self.threads > 1:
            torch.set_num_threads(self.threads - 1)
        return self

    def reclaim(self) -> None:
        if self.done is not None and self.done.is_set() and torch.get_num_threads() != self.threads:
            torch.set_num_threads(self.threads)

    def __exit__(self, *exc) -> None:
        if torch.get_num_threads() != self.threads:
            torch.set_num_threads(self.threads)
