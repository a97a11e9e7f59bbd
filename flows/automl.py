"""The end-to-end flow: data, augmentation, model, space, search, final training, evaluation, registration."""

from __future__ import annotations

from prefect import flow
from prefect.artifacts import create_markdown_artifact

from tunaflow.components.leaderboard import leaderboard_markdown, rows_from_json
from tunaflow.components.interrupt_guard import reclaim_stop_signals
from tunaflow.components.spec import ExperimentSpec
from tunaflow.flows.stages import learning_curve_if_asked, run_summary, train_and_evaluate
from tunaflow.tasks.register import register
from tunaflow.tasks.run import finish_tracking, start_tracking


@flow(name="automl", flow_run_name="{spec.name}", validate_parameters=True)
def automl_flow(spec: ExperimentSpec) -> dict:
    """Run one experiment spec end to end and register the best model.

    The learning curve (``train.learning_curve``) comes after registration: it informs
    the next experiment and never holds back the model.
    """
    reclaim_stop_signals()  # Ctrl-C and SIGTERM alike stop the run cleanly (components/interrupt_guard.py)
    ctx = start_tracking(spec)
    try:
        trained = train_and_evaluate(spec, ctx)
        spec = trained.spec  # resolved for the data: the metric names and the budget in force
        registered = register(spec, trained.final, trained.best, trained.metrics, trained.splits, ctx)
        curve = learning_curve_if_asked(spec, trained, ctx)
    except BaseException:
        finish_tracking(ctx, "FAILED")
        raise
    summary = run_summary(trained, registered, ctx, curve)
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
        f"{leaderboard_markdown(rows_from_json(summary.get('leaderboard') or []))}\n"
        f"Registered `{summary['model_uri']}` under alias `{summary['alias']}`; "
        f"MLflow run `{summary['mlflow_run_id']}`.\n"
    )
