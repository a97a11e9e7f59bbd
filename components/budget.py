"""The study's global trial budget, shared by every worker: admit, wait, or stop."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Iterable, Literal

Step = Literal["run", "wait", "done"]


@dataclass(frozen=True)
class BudgetCount:
    """Trials by state: finished (complete or pruned) count against the budget, and so do
    running ones (they will finish); failed ones do not (their retry takes their place)."""

    finished: int = 0
    running: int = 0
    failed: int = 0

    @classmethod
    def of(cls, states: Iterable[str]) -> "BudgetCount":
        counts = Counter(states)
        return cls(finished=counts["COMPLETE"] + counts["PRUNED"], running=counts["RUNNING"], failed=counts["FAIL"])


def next_step(count: BudgetCount, n_trials: int) -> Step:
    """``run`` another trial while the finished and running ones fall short of the budget;
    ``wait`` while running ones could still fail (a dead worker's trial turns FAIL after its
    heartbeat's grace period and is retried); ``done`` once the budget is spent.

    A study whose trials keep failing gives up after as many failures as its budget, rather
    than trying forever.
    """
    if count.finished >= n_trials or count.failed > n_trials:
        return "done"
    if count.finished + count.running < n_trials:
        return "run"
    return "wait"
