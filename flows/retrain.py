"""Scheduled retraining: a warm-started challenger against the champion, on the same fresh data."""

from __future__ import annotations

from prefect import flow

from tunaflow.components.interrupt_guard import reclaim_stop_signals
from tunaflow.components.promotion import decide_promotion
from tunaflow.components.spec import ExperimentSpec
from tunaflow.flows.stages import learning_curve_if_asked, run_summary, train_and_evaluate
from tunaflow.tasks.register import register
from tunaflow.tasks.mlflow.registry import CHALLENGER
from tunaflow.tasks.retraining import decision_tags, evaluate_champion, plan_retraining, record_challenge
from tunaflow.tasks.run import finish_tracking, start_tracking


@flow(name="retrain", flow_run_name="retrain-{spec.name}", validate_parameters=True)
def retrain_flow(spec: ExperimentSpec) -> dict:
    """Train a challenger on the current data and promote it only if it beats the champion.

    The challenger's search is a new study warm-started from the champion's parameters
    and the last study's best trials. Champion and challenger are scored on the same
    held-out split of today's data; the challenger takes the champion alias when better
    by ``tracking.promotion_margin`` in ``tracking.promotion_metric``, and the alias
    ``challenger`` otherwise. With no champion yet, the first model is promoted.
    """
    reclaim_stop_signals()  # Ctrl-C and SIGTERM alike stop the run cleanly (components/interrupt_guard.py)
    plan = plan_retraining(spec)
    challenger_spec = plan.spec
    ctx = start_tracking(challenger_spec)
    try:
        trained = train_and_evaluate(challenger_spec, ctx)
        champion_metrics, problem = evaluate_champion(plan, trained.splits, ctx)
        resolved = trained.spec  # the promotion metric and learning curve as resolved for today's data
        decision = decide_promotion(champion_metrics, trained.metrics, resolved.tracking.promotion_metric,
                                    resolved.tracking.promotion_margin, problem)
        alias = spec.tracking.alias if decision.promote else CHALLENGER
        registered = register(challenger_spec, trained.final, trained.best, trained.metrics, trained.splits, ctx,
                              alias=alias, extra_tags=decision_tags(plan, decision, champion_metrics))
        record_challenge(plan, decision, registered, trained.metrics, champion_metrics, trained.splits, ctx)
        curve = learning_curve_if_asked(resolved, trained, ctx)
    except BaseException:
        finish_tracking(ctx, "FAILED")
        raise
    summary = run_summary(trained, registered, ctx, curve)
    summary.update({
        "decision": "promoted" if decision.promote else "kept",
        "reason": decision.reason,
        "compared_with": plan.champion_version,
        "champion_version": registered["version"] if decision.promote else plan.champion_version,
        "champion_metrics": champion_metrics,
        "warm_started_from_study": plan.last_study,
    })
    finish_tracking(ctx, "FINISHED", summary)
    return summary
