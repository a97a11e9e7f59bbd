"""The stages every training flow shares: data to evaluated model, and the summary of a run.

automl and retrain differ only in what happens around these (how the study is named and
warm-started, and how the new model is registered), so the sequence lives here once.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from tunaflow.components.data import DataSplits
from tunaflow.components.spec import ExperimentSpec
from tunaflow.flows.search import search_stage
from tunaflow.tasks.augment import build_augmentation_stage
from tunaflow.tasks.data import load_data
from tunaflow.tasks.ensemble import record_ensemble, select_ensemble
from tunaflow.tasks.evaluate import evaluate
from tunaflow.tasks.learning_curve import learning_curve_stage
from tunaflow.tasks.model import build_model_stage
from tunaflow.tasks.search import SearchResult
from tunaflow.tasks.space import define_space
from tunaflow.tasks.mlflow.tracking import TrackingContext
from tunaflow.tasks.train import FinalModel, train_final


@dataclass
class TrainedCandidate:
    """What the shared stages produce: the data they saw, the study's outcome, the model, its scores,
    and the spec resolved for the data, which every stage after loading worked on."""

    splits: DataSplits
    best: SearchResult
    final: FinalModel
    metrics: dict
    spec: ExperimentSpec


def train_and_evaluate(spec: ExperimentSpec, ctx: TrackingContext) -> TrainedCandidate:
    """Load data, resolve the spec for it (task, metric, space, budget), build augmentation and model,
    search, select an ensemble of the best trials, train the final model (the study's report drawn
    meanwhile), evaluate."""
    splits = load_data(spec, ctx)
    spec = define_space(spec, splits, ctx)
    build_augmentation_stage(spec, splits, ctx)
    build_model_stage(spec, splits, ctx)  # a network's summary, an estimator's, or the families auto chooses from
    best, report = search_stage(spec, splits, ctx)
    ensemble = select_ensemble(spec, splits, ctx, best)  # None: the best trial alone
    if report is None:
        final = train_final(spec, best, splits, ctx, ensemble=ensemble)
    else:  # the study's report is drawn beside the final training, and joined after it
        report_done = threading.Event()
        report.add_done_callback(lambda _: report_done.set())
        try:
            final = train_final(spec, best, splits, ctx, report_done, ensemble=ensemble)
        except Exception:
            report.wait()  # the training's error is the one to raise; the report logged its own
            raise
        report.result()  # the report's error, if any, fails the run
    metrics = evaluate(spec, final, splits, ctx)
    if ensemble is not None:
        best.leaderboard = record_ensemble(spec, ctx, best, ensemble, metrics, final.seconds)
    return TrainedCandidate(splits, best, final, metrics, spec)


def run_summary(candidate: TrainedCandidate, registered: dict, ctx: TrackingContext, curve: dict | None) -> dict:
    best = candidate.best
    return {
        "study": best.study,
        "n_trials": best.n_trials,
        "n_pruned": best.n_pruned,
        "best_value": best.best_value,
        "best_params": best.best_params,
        "best_trial": best.best_trial,
        "best_values": best.best_values,
        "pareto_front_size": len(best.pareto_front),
        "leaderboard": best.leaderboard,
        "epochs": candidate.final.epochs,
        "test_metrics": candidate.metrics,
        "mlflow_run_id": ctx.parent_run_id,
        "mlflow_experiment_id": ctx.experiment_id,
        "model_uri": registered["model_uri"],
        "registered_model": registered["name"],
        "version": registered["version"],
        "alias": registered["alias"],
        "prefect_flow_run_id": ctx.flow_run_id,
        "more_data_helps": curve["more_data_helps"] if curve else None,
    }


def learning_curve_if_asked(spec: ExperimentSpec, candidate: TrainedCandidate, ctx: TrackingContext) -> dict | None:
    """After registration: the curve informs the next experiment and never holds back the model."""
    if not spec.train.learning_curve.enabled:
        return None
    return learning_curve_stage(candidate.final, candidate.splits, ctx)
