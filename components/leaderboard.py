"""The leaderboard of a study: per model family, its trials, best validation and test score, and time.

When the study chooses among families (``model.family: auto``), it answers the question a
user asks first: which kind of model won, by how much, and what each one cost.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import asdict, dataclass
from typing import Iterable


@dataclass(frozen=True)
class TrialSummary:
    """What the leaderboard reads of one trial."""

    number: int
    state: str  # the Optuna state's name: COMPLETE, PRUNED, FAIL, RUNNING, WAITING
    family: str
    value: float | None  # the first objective's value
    test_score: float | None = None
    seconds: float = 0.0
    duplicate_of: int | None = None


@dataclass(frozen=True)
class LeaderboardRow:
    """One family: ``trials`` trained to the end, ``pruned`` stopped early, ``reused`` repeated
    a configuration already evaluated (its values reused, nothing trained)."""

    family: str
    trials: int
    pruned: int
    reused: int
    metric: str  # the validation metric the study optimizes (its first objective)
    best_value: float | None
    best_trial: int | None
    test_metric: str
    test_score: float | None  # the best trial's model on the test split; never used to choose
    seconds: float

    def to_json(self) -> dict:
        return asdict(self)


def rank_families(trials: Iterable[TrialSummary], maximize: bool, metric: str,
                  test_metric: str) -> list[LeaderboardRow]:
    """One row per family that ran a trial, best validation value first (families without a
    complete trial last); of equal values, the earlier trial wins, as in the study."""
    by_family: dict[str, list[TrialSummary]] = defaultdict(list)
    for trial in trials:
        if trial.state in ("COMPLETE", "PRUNED"):
            by_family[trial.family].append(trial)
    rows = [_row(family, members, maximize, metric, test_metric) for family, members in by_family.items()]
    sign = -1 if maximize else 1
    return sorted(rows, key=lambda r: (r.best_value is None, sign * r.best_value if r.best_value is not None else 0,
                                       r.best_trial if r.best_trial is not None else 0, r.family))


def _row(family: str, members: list[TrialSummary], maximize: bool, metric: str, test_metric: str) -> LeaderboardRow:
    complete = [t for t in members if t.state == "COMPLETE" and t.value is not None]
    best = None
    if complete:
        sign = -1 if maximize else 1
        best = min(complete, key=lambda t: (sign * t.value, t.number))
    return LeaderboardRow(
        family=family,
        trials=sum(t.state == "COMPLETE" and t.duplicate_of is None for t in members),
        pruned=sum(t.state == "PRUNED" for t in members),
        reused=sum(t.duplicate_of is not None for t in members),
        metric=metric,
        best_value=best.value if best else None,
        best_trial=best.number if best else None,
        test_metric=test_metric,
        test_score=best.test_score if best else None,
        seconds=round(sum(t.seconds for t in members), 3),
    )


def _columns(rows: list[LeaderboardRow]) -> tuple[list[str], list[list[str]]]:
    metric, test_metric = rows[0].metric, rows[0].test_metric
    reused = any(r.reused for r in rows)  # a column of zeros is noise in the usual study
    header = ["family", "trials", "pruned", *(["reused"] if reused else []), f"best {metric}", "trial",
              f"test {test_metric}", "seconds"]
    cells = [[r.family, str(r.trials), str(r.pruned), *([str(r.reused)] if reused else []), _number(r.best_value),
              "-" if r.best_trial is None else f"#{r.best_trial}", _number(r.test_score), f"{r.seconds:.1f}"]
             for r in rows]
    return header, cells


def leaderboard_markdown(rows: list[LeaderboardRow]) -> str:
    """The board as a markdown table; nothing for a study without a finished trial."""
    if not rows:
        return ""
    header, cells = _columns(rows)
    lines = [f"| {' | '.join(header)} |", f"|{'---|' * len(header)}"]
    lines += [f"| {' | '.join(row)} |" for row in cells]
    return "\n".join(lines) + "\n"


def leaderboard_text(rows: list[LeaderboardRow]) -> str:
    """The board as aligned columns, for a terminal; nothing for a study without a finished trial."""
    if not rows:
        return ""
    header, cells = _columns(rows)
    widths = [max(len(line[i]) for line in [header, *cells]) for i in range(len(header))]
    # the family names left, the numbers right
    return "\n".join("  ".join(cell.ljust(w) if i == 0 else cell.rjust(w) for i, (cell, w) in enumerate(zip(line, widths)))
                     for line in [header, *cells])


def rows_from_json(rows: Iterable[dict]) -> list[LeaderboardRow]:
    """Rows back from their JSON form (a run's summary)."""
    return [LeaderboardRow(**row) for row in rows]


def _number(value: float | None) -> str:
    return "-" if value is None else f"{value:.4f}"
