"""Configurations the study has already evaluated, read from its storage.

A trial whose sampled values repeat a COMPLETE trial's reuses that trial's values and
trains nothing. One that repeats a trial still RUNNING elsewhere (another worker, another
run on the study) waits for it rather than train the same configuration at once. Samplers
do propose repeats: TPE's start-up is random, categorical spaces are small, and a space
with nothing to choose is one configuration however many trials the budget holds.

The trial budget counts trainings: a duplicate is a COMPLETE trial of the study (samplers
learn from it as from any) that spends none of it.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from typing import Any

import optuna

from tunaflow.components.configurations import config_key

COMPLETE, PRUNED, RUNNING = (optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED,
                             optuna.trial.TrialState.RUNNING)
# a duplicate's outcome, copied from the trial it repeats: the final training reads the
# kept epoch of whichever equal trial the study calls best, the leaderboard its family and scores
OUTCOME_ATTRS = ("seed", "best_epoch", "metrics", "family")
DUPLICATE_OF = "duplicate_of"  # the trial user attribute: the number of the trial repeated


def find_twin(study: optuna.Study, number: int, params: Mapping[str, Any]) -> optuna.trial.FrozenTrial | None:
    """The COMPLETE trial with ``params`` (the one first evaluated), else one RUNNING that began
    before trial ``number`` (later ones wait for this trial: two never wait for each other)."""
    key = config_key(params)
    complete, running = [], None
    for other in study.get_trials(deepcopy=False, states=(COMPLETE, RUNNING)):
        if other.number == number or config_key(other.params) != key:
            continue
        if other.state == COMPLETE:
            complete.append(other)
        elif other.number < number and running is None:
            running = other
    if complete:
        originals = [t for t in complete if t.user_attrs.get(DUPLICATE_OF) is None]
        return (originals or complete)[0]
    return running


def settle_twin(study: optuna.Study, number: int, params: Mapping[str, Any], twin: optuna.trial.FrozenTrial | None,
                every: float = 1.0) -> optuna.trial.FrozenTrial | None:
    """The COMPLETE trial to reuse once no earlier trial of the same configuration is RUNNING;
    None when there is none (it failed or was pruned): then this trial trains.

    A twin whose worker died turns FAIL within its heartbeat's grace period (any worker's
    stale-trial check), so the wait ends.
    """
    while twin is not None and twin.state == RUNNING:
        time.sleep(every)
        twin = find_twin(study, number, params)
    return twin


def budget_states(trials: Iterable[optuna.trial.FrozenTrial]) -> list[str]:
    """The state names the trial budget counts: every trial's but a duplicate's, which trained nothing."""
    return [t.state.name for t in trials if t.user_attrs.get(DUPLICATE_OF) is None]


def evaluated_configurations(trials: Iterable[optuna.trial.FrozenTrial]) -> set[tuple]:
    """The configurations of the finished (complete or pruned) trials."""
    return {config_key(t.params) for t in trials if t.state in (COMPLETE, PRUNED)}


def space_exhausted(trials: Iterable[optuna.trial.FrozenTrial], size: int | None) -> bool:
    """Every configuration of a finite space of ``size`` has been evaluated."""
    return size is not None and len(evaluated_configurations(trials)) >= size
