"""The end-to-end flow: data, augmentation, model, space, search, final training, evaluation, registration."""

from __future__ import annotations

from prefect import flow
from prefect.artifacts import create_markdown_artifact

from components.spec import ExperimentSpec
from flows.search import search_stage
from tasks.augment import build_augmentation_stage
from tasks.data import load_data
from tasks.evaluate import evaluate
from tasks.learning_curve import learning_curve_stage
from tasks.model import build_model_stage
from tasks.register import register
from tasks.run import finish_tracking, start_tracking
from tasks.space import define_space
from tasks.train import train_final


@flow(name="automl", flow_run_name="{spec.name}", validate_parameters=True)
def automl_flow(spec: ExperimentSpec) -> dict:
    """Run one experiment spec end to end and register the best model.

    The learning curve (``train.learning_curve``) comes after registration: it informs
    the next experiment and never holds back the model.
    """
    ctx = start_tracking(spec)
    try:
        splits = load_data(spec, ctx)
        build_augmentation_stage(spec, splits, ctx)
        build_model_stage(spec, splits, ctx)
        define_space(spec, ctx)
        best = search_stage(spec, splits, ctx)
        final = train_final(spec, best, splits, ctx)
        metrics = evaluate(spec, final, splits, ctx)
        registered = register(spec, final, best, metrics, splits, ctx)
        curve = learning_curve_stage(final, splits, ctx) if spec.train.learning_curve.enabled else None
    except BaseException:
        finish_tracking(ctx, "FAILED")
        raise
    summary = {
        "study": best.study,
        "n_trials": best.n_trials,
        "n_pruned": best.n_pruned,
        "best_value": best.best_value,
        "best_params": best.best_params,
        "best_trial": best.best_trial,
        "best_values": best.best_values,
        "pareto_front_size": len(best.pareto_front),
        "epochs": final.epochs,
        "test_metrics": metrics,
        "mlflow_run_id": ctx.parent_run_id,
        "mlflow_experiment_id": ctx.experiment_id,
        "model_uri": registered["model_uri"],
        "registered_model": registered["name"],
        "version": registered["version"],
        "alias": registered["alias"],
        "prefect_flow_run_id": ctx.flow_run_id,
        "more_data_helps": curve["more_data_helps"] if curve else None,
    }
    finish_tracking(ctx, "FINISHED", summary)
    create_markdown_artifact(
        key="automl-summary",
        markdown=_summary_markdown(spec, summary),
        description=f"tunaflow run of {spec.name}",
    )
    return summary


def _summary_markdown(spec: ExperimentSpec, summary: dict) -> str:
    rows = "\n".join(f"| {k} | {v:.4f} |" for k, v in summary["test_metrics"].items())
    params = "\n".join(f"| `{k}` | {v} |" for k, v in summary["best_params"].items()) or "| (none) | |"
    return (
        f"# {spec.name}\n\n"
        f"Study `{summary['study']}`: {summary['n_trials']} trials ({summary['n_pruned']} pruned), "
        f"best {spec.search.objective_specs[0].metric} {summary['best_value']:.4f} (trial {summary['best_trial']}).\n\n"
        f"| best parameter | value |\n|---|---|\n{params}\n\n"
        f"| test metric | value |\n|---|---|\n{rows}\n\n"
        f"Registered `{summary['model_uri']}` under alias `{summary['alias']}`; "
        f"MLflow run `{summary['mlflow_run_id']}`.\n"
    )
