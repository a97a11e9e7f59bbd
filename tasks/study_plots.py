"""Study plots saved as artifacts of the search run."""

from __future__ import annotations

import warnings

import optuna

from tasks.tracking import log_figure_artifact


def log_study_plots(study: optuna.Study) -> None:
    """Optimization history, and parameter importances once there is something to rank."""
    import matplotlib

    matplotlib.use("Agg")
    from optuna.visualization import matplotlib as plots

    complete = [t for t in study.get_trials(deepcopy=False) if t.state == optuna.trial.TrialState.COMPLETE]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if complete:
            log_figure_artifact(plots.plot_optimization_history(study).figure, "plots/optimization_history.png")
        if len(complete) >= 2 and any(len(t.params) for t in complete):
            try:
                log_figure_artifact(plots.plot_param_importances(study).figure, "plots/param_importances.png")
            except (RuntimeError, ValueError):
                pass  # importances need parameters that vary among complete trials
