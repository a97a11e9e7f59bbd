"""The study's report: plots under the search run, a Markdown summary as a Prefect artifact.

PNG plots (matplotlib) are always drawn; the interactive HTML plot needs plotly, an
optional extra (``tunaflow[plots]``): without it the run logs one line and goes on.

``python -m tunaflow.tasks.optuna.study_report`` draws the report in a process of its own
(tasks/search_report.py): the fANOVA forest and the plots are Python work that, in a thread
beside the final training, would only take turns with it on the interpreter lock.
"""

from __future__ import annotations

import json
import logging
import sys
import tempfile
import warnings
from pathlib import Path

import mlflow
import optuna
from mlflow.tracking import MlflowClient

from tunaflow.components.extras import missing_package
from tunaflow.tasks.mlflow.tracking import log_figure_artifact

COMPLETE = optuna.trial.TrialState.COMPLETE


def study_importances(study: optuna.Study, objective_names: list[str]) -> dict[str, float]:
    """Parameter importances (fANOVA) for the first objective, computed once for the plot and
    the summary: each computation fits a forest (seconds on a few hundred trials)."""
    target = (lambda t: t.values[0]) if len(objective_names) > 1 else None
    complete = study.get_trials(deepcopy=False, states=(COMPLETE,))
    if len(complete) < 2 or not any(t.params for t in complete):
        return {}
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return optuna.importance.get_param_importances(study, target=target)
    except (RuntimeError, ValueError, ZeroDivisionError):
        return {}  # nothing varies among the complete trials


def _importance_figure(importances: dict[str, float], objective: str):
    """Optuna's importance plot, drawn from importances already computed."""
    import matplotlib.pyplot as plt

    names = list(importances)[::-1]  # the most important on top
    figure, axes = plt.subplots(figsize=(6.4, 1.2 + 0.35 * len(names)))
    axes.barh(names, [importances[n] for n in names], color="tab:blue")
    for y, name in enumerate(names):
        axes.text(importances[name], y, f" {importances[name]:.2f}", va="center")
    axes.set_xlim(0, 1.15 * max(importances.values()))  # room for the labels
    axes.set_xlabel(f"importance for {objective}")
    axes.set_title("Hyperparameter importances")
    figure.tight_layout()
    return figure


def log_study_plots(study: optuna.Study, objective_names: list[str], importances: dict[str, float],
                    run_id: str | None = None) -> None:
    """History, importances, parallel coordinates, slices (and the Pareto front) as PNG;
    parallel coordinates also as interactive HTML; under ``run_id``, or the active run."""
    import matplotlib

    matplotlib.use("Agg")
    from optuna.visualization import matplotlib as plots

    complete = study.get_trials(deepcopy=False, states=(COMPLETE,))
    if not complete:
        return
    multi = len(objective_names) > 1
    target = (lambda t: t.values[0]) if multi else None
    name = objective_names[0]
    figures = {
        "optimization_history": lambda: plots.plot_optimization_history(study, target=target, target_name=name),
        "parallel_coordinate": lambda: plots.plot_parallel_coordinate(study, target=target, target_name=name),
        "slice": lambda: plots.plot_slice(study, target=target, target_name=name),
    }
    if importances:
        figures["param_importances"] = lambda: _importance_figure(importances, name)
    if multi:
        figures["pareto_front"] = lambda: plots.plot_pareto_front(study, target_names=objective_names)
    if not complete[0].params:
        figures = {k: v for k, v in figures.items() if k in ("optimization_history", "pareto_front")}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for key, draw in figures.items():
            axes = draw()
            figure = axes.figure if hasattr(axes, "figure") else axes.flat[0].figure
            log_figure_artifact(figure, f"plots/{key}.png", run_id)
        if "parallel_coordinate" in figures:
            _log_html(lambda: optuna.visualization.plot_parallel_coordinate(study, target=target, target_name=name),
                      "plots/parallel_coordinate.html", run_id)


def _logger() -> logging.Logger:
    if "prefect" not in sys.modules:  # the report's own process (see the module's note)
        return logging.getLogger("tunaflow.report")
    from prefect import get_run_logger
    from prefect.exceptions import MissingContextError

    try:
        return get_run_logger()
    except MissingContextError:  # called outside a flow run
        return logging.getLogger("tunaflow.report")


def _log_html(draw, path: str, run_id: str | None) -> None:
    """``draw()``'s plotly figure as a self-contained HTML artifact, or one line saying why not."""
    try:
        figure = draw()
    except ImportError as error:  # Optuna's plotly plots say so when plotly is missing
        _logger().warning(f"{missing_package(path, 'an interactive plot', error)}; skipped")
        return
    with tempfile.TemporaryDirectory() as folder:
        local = Path(folder) / Path(path).name
        figure.write_html(local, include_plotlyjs=True)
        if run_id is None:
            mlflow.log_artifact(str(local), str(Path(path).parent))
        else:
            MlflowClient().log_artifact(run_id, str(local), str(Path(path).parent))


def study_markdown(study: optuna.Study, objective_names: list[str], chosen: optuna.trial.FrozenTrial,
                   importances: dict[str, float]) -> str:
    """Best trials, parameter importances and the pruned share, for a Prefect artifact."""
    trials = study.get_trials(deepcopy=False)
    complete = [t for t in trials if t.state == COMPLETE]
    pruned = sum(t.state == optuna.trial.TrialState.PRUNED for t in trials)
    multi = len(objective_names) > 1
    if multi:
        best = study.best_trials
    else:
        best = sorted(complete, key=lambda t: t.value, reverse=study.direction == optuna.study.StudyDirection.MAXIMIZE)
    header = "| trial | " + " | ".join(objective_names) + " | parameters |\n|---|" + "---|" * len(objective_names) + "---|"
    rows = "\n".join(
        f"| {t.number}{' (chosen)' if t.number == chosen.number else ''} | "
        + " | ".join(f"{v:.4g}" for v in t.values)
        + " | " + ", ".join(f"`{k}`={v:.4g}" if isinstance(v, float) else f"`{k}`={v}" for k, v in t.params.items())
        + " |" for t in best[:10])
    imp = "\n".join(f"| `{k}` | {v:.3f} |" for k, v in importances.items()) or "| (not enough trials) | |"
    title = "Pareto front" if multi else "Best trials"
    return (
        f"# Study `{study.study_name}`\n\n"
        f"{len(trials)} trials: {len(complete)} complete, {pruned} pruned "
        f"({100 * pruned / max(1, len(trials)):.0f} %), {len(trials) - len(complete) - pruned} other.\n\n"
        f"## {title}\n\n{header}\n{rows}\n\n"
        f"## Parameter importances ({objective_names[0]})\n\n| parameter | importance |\n|---|---|\n{imp}\n"
    )


def draw_report(storage: str, study_name: str, objective_names: list[str], chosen: int, tracking_uri: str,
                run_id: str) -> str:
    """Importances and plots of a stored study under ``run_id``; its Markdown summary comes back."""
    from tunaflow.tasks.optuna.storage import open_storage

    optuna.logging.set_verbosity(logging.WARNING)
    mlflow.set_tracking_uri(tracking_uri)
    study = optuna.load_study(study_name=study_name, storage=open_storage(storage))
    importances = study_importances(study, objective_names)
    log_study_plots(study, objective_names, importances, run_id)
    return study_markdown(study, objective_names, study.get_trials(deepcopy=False)[chosen], importances)


if __name__ == "__main__":
    # arguments as JSON on stdin (a storage URL may hold a password: never on the command line);
    # the summary as the last line of stdout
    logging.basicConfig(format="%(message)s", level=logging.WARNING)
    print(json.dumps({"markdown": draw_report(**json.loads(sys.stdin.read()))}))
