"""Stage: ensemble selection over the study's best trials, from their stored out-of-sample predictions.

The members are configurations (trial parameters and kept epochs) with integer weights; the
final training refits each of them (tasks/train.py) and the registered model averages them.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import optuna
from mlflow.tracking import MlflowClient
from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE

from tunaflow.components.data import DataSplits
from tunaflow.components.ensemble_selection import choose_ensemble
from tunaflow.components.leaderboard import LeaderboardRow
from tunaflow.components.out_of_sample import decode_predictions, study_targets
from tunaflow.components.spec import ExperimentSpec
from tunaflow.tasks.mlflow.tracking import TrackingContext, log_dict_artifact, use_context_store
from tunaflow.tasks.optuna.objective import PREDICTIONS, predicted_trials
from tunaflow.tasks.optuna.storage import open_storage, storage_url
from tunaflow.tasks.search import SearchResult
from tunaflow.tasks.search_report import log_leaderboard

REFIT_ALLOWANCE_S = 30.0


@dataclass(frozen=True)
class EnsembleMember:
    trial: int
    params: dict
    epochs: int
    weight: int
    family: str


@dataclass
class EnsemblePlan:
    """The members and their weights, and the out-of-sample scores of ensemble and best trial."""

    members: list[EnsembleMember]
    chosen: int  # the study's best trial, which the ensemble beat
    metric: str
    score: float
    single_score: float
    loss: float
    single_loss: float
    candidates: int = 0

    def to_json(self) -> dict:
        return {**asdict(self), "members": [asdict(m) for m in self.members]}


def ensemble_candidates(study: optuna.Study, chosen: int, limit: int) -> list[optuna.trial.FrozenTrial]:
    """The trial numbered ``chosen`` first, then each other family's best, then the best others
    (trials holding predictions, repeats left out), up to ``limit``.

    The family bests come before the rest: the study spends most trials on its leading family,
    whose variants would otherwise fill the candidates, and a model of another family is what an
    average gains most from (and what cross-validation on small data ranks least surely).
    """
    complete = predicted_trials(study)
    first = [t for t in complete if t.number == chosen]
    if not first:
        return []
    sign = -1.0 if study.direction == optuna.study.StudyDirection.MAXIMIZE else 1.0
    ranked = sorted((t for t in complete if t.number != chosen), key=lambda t: (sign * t.value, t.number))
    seen = {first[0].user_attrs.get("family")}
    leaders = []
    for trial in ranked:
        if (family := trial.user_attrs.get("family")) not in seen:
            seen.add(family)
            leaders.append(trial)
    led = {t.number for t in leaders}
    return (first + leaders + [t for t in ranked if t.number not in led])[:limit]


def _extra_refit_seconds(trials: list[optuna.trial.FrozenTrial], members: list[int], spec: ExperimentSpec) -> float:
    """About how much longer the members' retraining takes than the chosen trial's (``trials[0]``):
    a trial's duration over its fits (one per fold and repeat)."""
    fits = spec.search.validation.fits
    seconds = [(t.duration.total_seconds() if t.duration else 0.0) / fits for t in trials]
    return sum(seconds[i] for i in members if i != 0)


def _refit_allowance(spec: ExperimentSpec) -> float:
    """The extra retraining an ensemble may cost: half the search's time budget (at least
    REFIT_ALLOWANCE_S; without a time budget, no limit), so a run stays within about 1.5 budgets."""
    return float("inf") if spec.search.timeout is None else max(REFIT_ALLOWANCE_S, 0.5 * spec.search.timeout)


@task(name="select ensemble", cache_policy=NO_CACHE)
def select_ensemble(spec: ExperimentSpec, splits: DataSplits, ctx: TrackingContext,
                    best: SearchResult) -> EnsemblePlan | None:
    """An ensemble of the best trials when it beats the chosen trial out-of-sample; else None
    (``search.ensemble.mode: off``, several objectives, or trials without stored predictions)."""
    settings = spec.search.ensemble
    if settings.mode != "on" or spec.search.multi_objective:
        return None
    logger = get_run_logger()
    study = optuna.load_study(study_name=spec.name, storage=open_storage(storage_url(spec)))
    trials = ensemble_candidates(study, best.best_trial, settings.candidates)
    y = study_targets(splits, spec)
    predictions = [decode_predictions(t.user_attrs[PREDICTIONS]) for t in trials]
    aligned = [i for i, p in enumerate(predictions) if len(p) == len(y)]  # a study resumed on other rows
    trials, predictions = [trials[i] for i in aligned], [predictions[i] for i in aligned]
    if len(trials) < 2 or trials[0].number != best.best_trial:
        logger.info("ensemble: fewer than two trials with out-of-sample predictions; the best trial alone")
        return None
    metric = spec.search.objective_specs[0].metric
    choice = choose_ensemble(predictions, y, splits.task, settings.size, metric, splits.n_outputs)
    if choice.improves and (extra := _extra_refit_seconds(trials, choice.members, spec)) > _refit_allowance(spec):
        logger.info(f"ensemble: retraining its members would take about {extra:.0f} s more than the best trial "
                    f"(allowed: {_refit_allowance(spec):.0f} s); the best trial alone")
        return None
    members = [EnsembleMember(trials[i].number, dict(trials[i].params), int(trials[i].user_attrs.get("best_epoch", 1)),
                              choice.counts[i], str(trials[i].user_attrs.get("family", ""))) for i in choice.members]
    plan = EnsemblePlan(members, best.best_trial, metric, choice.score, choice.single_score, choice.loss, choice.single_loss,
                        len(trials))
    use_context_store(ctx)
    log_dict_artifact({**plan.to_json(), "used": choice.improves}, "ensemble.json", best.search_run_id)
    weights = " ".join(f"#{m.trial}({m.family})x{m.weight}" for m in members)
    verdict = "used" if choice.improves else "not better than the best trial; the best trial alone"
    logger.info(f"ensemble of {len(trials)} candidates: {weights}  out-of-sample {metric} {choice.score:.4f} vs "
                f"{choice.single_score:.4f} (trial #{best.best_trial}), loss {choice.loss:.4f} vs "
                f"{choice.single_loss:.4f}: {verdict}")
    return plan if choice.improves else None


@task(name="record ensemble", cache_policy=NO_CACHE)
def record_ensemble(spec: ExperimentSpec, ctx: TrackingContext, best: SearchResult, plan: EnsemblePlan,
                    test_metrics: dict, seconds: float) -> list[dict]:
    """The leaderboard with the ensemble's row first (the registered model): its value on the pooled
    out-of-sample rows, the refit ensemble's test score; logged again on the search run."""
    test_metric = "rmse" if spec.data.task == "regression" else "accuracy"
    row = LeaderboardRow(family="ensemble", trials=len(plan.members), pruned=0, reused=0, metric=plan.metric,
                         best_value=plan.score, best_trial=None, test_metric=test_metric,
                         test_score=test_metrics.get(test_metric), seconds=round(seconds, 3))
    rows = [row.to_json(), *best.leaderboard]
    log_leaderboard(MlflowClient(ctx.tracking_uri), best.search_run_id, rows, spec.name, added=[row.to_json()])
    return rows
