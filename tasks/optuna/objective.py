"""Optuna's objective for a tunaflow study, and the per-trial progress line."""

from __future__ import annotations

import logging
import time
import traceback
from dataclasses import dataclass

import optuna
from prefect import get_run_logger

from tunaflow.components.data import DataSplits, search_splits
from tunaflow.components.errors import TrialFailed, UserInputError
from tunaflow.components.numeric_checks import check_finite_training
from tunaflow.components.objective import evaluate_config
from tunaflow.components.out_of_sample import encode_predictions, storable
from tunaflow.components.seeding import derive_seed
from tunaflow.components.space import TrialSpecBuilder, suggest_params
from tunaflow.components.spec import ExperimentSpec
from tunaflow.tasks.mlflow.tracking import flatten_spec
from tunaflow.tasks.mlflow.trial_runs import TrialRunRecorder
from tunaflow.tasks.optuna.trial_failures import CAUGHT
from tunaflow.tasks.optuna.duplicates import (DUPLICATE_OF, OUTCOME_ATTRS, RUNNING, budget_states, find_twin,
                                              settle_twin)
from tunaflow.tasks import tags as keys

FINISHED = (optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED)
FINISHED_NAMES = tuple(state.name for state in FINISHED)
# the trial user attribute holding its out-of-sample predictions (components/out_of_sample.py)
PREDICTIONS = "oos_predictions"


def predicted_trials(study: optuna.Study) -> list[optuna.trial.FrozenTrial]:
    """The complete trials that keep out-of-sample predictions, repeats of a configuration left out."""
    return [t for t in study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,))
            if PREDICTIONS in t.user_attrs and t.user_attrs.get(DUPLICATE_OF) is None]


@dataclass(frozen=True)
class Proposal:
    """A trial's sampled values, and the trial of the same configuration the study holds (if any)."""

    params: dict
    twin: optuna.trial.FrozenTrial | None = None


class TrialObjective:
    """Sample; reuse an evaluated configuration's values, or train, report epochs to the pruner;
    record the trial run."""

    def __init__(self, spec: ExperimentSpec, splits: DataSplits, recorder: TrialRunRecorder, log=None):
        self.spec, self.recorder = spec, recorder
        self.log = log or logging.getLogger("tunaflow.worker")
        # trials may train on a share of the training split; final training uses all of it
        self.splits = search_splits(splits, spec.data.search_subsample, derive_seed(spec.seed, "search_subsample"))
        # Epochs go to the storage only for a pruner to judge: Optuna takes no intermediate
        # reports from a multi-objective trial, and with no pruner nothing reads them (the
        # curve is logged with the trial's MLflow run), while each is a storage write (~3 ms on
        # SQLite: 3% of a 5 s trial of 50 epochs)
        self.prunes = not spec.search.multi_objective and spec.search.pruner != "none"
        self.metric = spec.search.objective_specs[0].metric
        self.specs = TrialSpecBuilder(spec)
        # every strategy in force for a trial, searched or not; a trial re-reads only the parts it changed
        self.settings = flatten_spec({k: self.specs.tree[k] for k in ("model", "train", "augment")})

    def propose(self, trial: optuna.Trial) -> Proposal:
        """Sample the trial's values and find the study's trial of the same configuration, if any.

        A worker calls this while it holds the study's admission lock, so a configuration
        another worker has just begun is in the storage already.
        """
        params = suggest_params(trial, self.spec.search.searched)
        return Proposal(params, find_twin(trial.study, trial.number, trial.params))

    def __call__(self, trial: optuna.Trial) -> float | list[float]:
        return self.evaluate(trial, self.propose(trial))

    def evaluate(self, trial: optuna.Trial, proposal: Proposal) -> float | list[float]:
        """Reuse the values of a trial that evaluated the same configuration, or train this one."""
        if proposal.twin is not None and proposal.twin.state == RUNNING:
            self.log.info(f"trial #{trial.number} waits for trial #{proposal.twin.number}: "
                          "the same configuration, still running")
        twin = settle_twin(trial.study, trial.number, trial.params, proposal.twin)
        if twin is not None:
            return self.reuse(trial, proposal.params, twin)
        return self.train(trial, proposal.params)

    def reuse(self, trial: optuna.Trial, params: dict, twin: optuna.trial.FrozenTrial) -> float | list[float]:
        """Complete the trial with ``twin``'s values and outcome; its run is tagged and holds no training."""
        for key in OUTCOME_ATTRS:
            if key in twin.user_attrs:
                trial.set_user_attr(key, twin.user_attrs[key])
        trial.set_user_attr(DUPLICATE_OF, twin.number)
        run = self.recorder.start(trial.study.study_name, trial.number, tags={keys.DUPLICATE_OF: str(twin.number)})
        settings = self.trial_settings(self.specs.build(params), params)
        self.recorder.finish(run, history=[], state="COMPLETE",
                             params={**settings, **params, "seed": twin.user_attrs.get("seed", "")})
        return list(twin.values) if self.spec.search.multi_objective else twin.value

    def train(self, trial: optuna.Trial, params: dict) -> float | list[float]:
        """Sample, train, report epochs to the pruner, record the trial run."""
        seed = derive_seed(self.spec.seed, "trial", trial.number)
        trial.set_user_attr("seed", seed)
        run = self.recorder.start(trial.study.study_name, trial.number)
        history: list[dict] = []

        def report(step: int, metrics: dict) -> None:
            history.append({"epoch": step, **metrics})
            if self.prunes and self.metric in metrics:
                trial.report(metrics[self.metric], step)
                if trial.should_prune():
                    raise optuna.TrialPruned(f"pruned at step {step}")

        state, summary, failure = "FAIL", None, None
        trial_spec = self.specs.build(params)
        trial.set_user_attr("family", trial_spec.model.family)
        trial_settings = self.trial_settings(trial_spec, params)
        try:
            outcome = evaluate_config(trial_spec, self.splits, seed=seed, report=report)
            check_finite_training(history, list(outcome.values))  # FloatingPointError: the worker fails the trial
            if self.spec.search.validation.scheme == "kfold":
                history += outcome.history  # each fold's kept score (fold_valid_acc, ...) at step k
            trial.set_user_attr("best_epoch", outcome.best_epoch)
            trial.set_user_attr("metrics", outcome.metrics)
            if storable(outcome.predictions):  # for ensemble selection, readable by every worker
                trial.set_user_attr(PREDICTIONS, encode_predictions(outcome.predictions))
            state = "COMPLETE"
            # per-epoch valid_* are in the history; the summary has step-free names
            summary = {"value": outcome.value, "kept_epoch": outcome.best_epoch,
                       "samples_per_second": outcome.samples_per_second,
                       **{k: v for k, v in outcome.metrics.items() if not k.startswith("valid_")}}
            return outcome.values if self.spec.search.multi_objective else outcome.value
        except optuna.TrialPruned:
            state = "PRUNED"
            raise
        except UserInputError:
            raise  # the user's mistake ends the run
        except Exception as error:  # the worker fails the trial (its log line names the error)
            failure = traceback.format_exc()
            if isinstance(error, CAUGHT):
                raise
            raise TrialFailed(f"{type(error).__name__}: {error}") from error  # e.g. a library's ValueError
        finally:
            self.recorder.finish(run, history=history, params={**trial_settings, **params, "seed": seed},
                                 state=state, summary=summary, error=failure)

    def trial_settings(self, trial_spec: ExperimentSpec, params: dict) -> dict:
        """The base spec's flat settings, with the parts the trial's values changed read from its spec."""
        settings = self.settings
        for prefix, part in self.specs.changed_parts(trial_spec, params).items():
            if prefix.split(".")[0] not in ("model", "train", "augment"):
                continue
            settings = {k: v for k, v in settings.items() if k != prefix and not k.startswith(f"{prefix}.")}
            settings.update(flatten_spec(part, f"{prefix}."))
        return settings


def progress_callback(n_trials: int, multi_objective: bool, logger=None):
    """One line per finished trial: its value, the best so far, its time and parameters."""
    logger = logger or get_run_logger()
    started = time.monotonic()

    def callback(study: optuna.Study, trial: optuna.trial.FrozenTrial) -> None:
        trials = study.get_trials(deepcopy=False)  # one storage read: the count and the best come from it
        done = len([s for s in budget_states(trials) if s in FINISHED_NAMES])  # duplicates trained nothing
        if multi_objective:
            best = f"pareto front {len(study.best_trials)} trial(s)"
            value = "/".join(f"{v:.4g}" for v in trial.values) if trial.values else trial.state.name.lower()
        else:
            best = _best(trials, study.direction)
            value = f"{trial.value:.4f}" if trial.value is not None else trial.state.name.lower()
        if trial.state == optuna.trial.TrialState.PRUNED:
            # Optuna gives a pruned trial its last reported value (steps are epochs): not a final one
            value = f"pruned at epoch {trial.last_step}" if trial.last_step is not None else "pruned"
        if (twin := trial.user_attrs.get(DUPLICATE_OF)) is not None:
            value = f"{value} duplicate of #{twin}, not trained"
        seconds = trial.duration.total_seconds() if trial.duration else 0
        params = " ".join(f"{k}={_short(v)}" for k, v in trial.params.items())
        logger.info(f"trial {done}/{n_trials} #{trial.number}: {value:>8}  {best}  "
                    f"{seconds:.1f}s  elapsed {time.monotonic() - started:.0f}s  {params}")

    return callback


def _best(trials: list[optuna.trial.FrozenTrial], direction: optuna.study.StudyDirection) -> str:
    complete = [t for t in trials if t.state == optuna.trial.TrialState.COMPLETE]
    if not complete:
        return "no complete trial yet"
    pick = max if direction == optuna.study.StudyDirection.MAXIMIZE else min
    best = pick(complete, key=lambda t: t.value)  # of equals, the first
    return f"best {best.value:.4f} (trial {best.number})"


def _short(value) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)
