"""Stage: the study's report (importances, plots, summaries, leaderboard), drawn beside the final training.

The report changes nothing the run decides, and its first fANOVA evaluation and plots take
seconds: the flow submits this task to its task runner while the final model trains, and
joins it before the evaluation (``flows/stages.py``). The drawing runs in a process of its
own on the core the final training leaves free (components/shared_cores.py): in a thread it
would take turns with the training loop on the interpreter lock and save nothing. It logs to
the search run by id (MlflowClient), never through MLflow's active run, which belongs to the
flow's thread, and ends that run: FINISHED, or FAILED with the error raised to the flow.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import warnings
from functools import partial

from mlflow.tracking import MlflowClient
from prefect import get_run_logger, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE

from tunaflow.components.processes import die_with_parent
from tunaflow.components.spec import ExperimentSpec
from tunaflow.tasks.mlflow.tracking import TrackingContext, use_context_store
from tunaflow.tasks.optuna.storage import storage_url
from tunaflow.tasks.optuna.study_report import draw_report
from tunaflow.tasks.search import SearchResult, _artifact_key


# seconds of CPU a report process costs (interpreter, imports, fANOVA, plots: 4.3 s measured on
# an idle 2-core machine): a final training shorter than that would wait for it
REPORT_PROCESS_SECONDS = 4.0


def report_beside(result: SearchResult) -> bool:
    """Whether the final training (about the chosen trial's length) is long enough to hide the report."""
    return result.best_seconds >= REPORT_PROCESS_SECONDS


@task(name="report search", cache_policy=NO_CACHE)
def report_search(spec: ExperimentSpec, ctx: TrackingContext, result: SearchResult, beside: bool = False) -> None:
    """Importances, plots and the Markdown summary of the study, and the leaderboard, under the
    search run (``result.search_run_id``) and as Prefect artifacts; then the search run ends.

    ``beside``: drawn in a process of its own, while this process trains the final model.
    """
    use_context_store(ctx)
    client = MlflowClient(ctx.tracking_uri)
    arguments = {"storage": storage_url(spec), "study_name": spec.name,
                 "objective_names": [o.metric for o in spec.search.objective_specs], "chosen": result.best_trial,
                 "tracking_uri": ctx.tracking_uri, "run_id": result.search_run_id}
    try:
        markdown = draw_in_process(arguments) if beside else draw_report(**arguments)
        create_markdown_artifact(key=f"study-{_artifact_key(spec.name)}", markdown=markdown,
                                 description=f"Optuna study {spec.name}")
        log_leaderboard(client, result.search_run_id, result.leaderboard, spec.name)
    except BaseException:
        client.set_terminated(result.search_run_id, status="FAILED")
        raise
    client.set_terminated(result.search_run_id, status="FINISHED")


def draw_in_process(arguments: dict) -> str:
    """``draw_report(**arguments)`` (tasks/optuna/study_report.py) in a child process; its Markdown.

    The child dies with this process; its warnings (a missing plotting extra) reach the log,
    and its failure is raised here with the end of its error output.
    """
    proc = subprocess.run([sys.executable, "-m", "tunaflow.tasks.optuna.study_report"],
                          input=json.dumps(arguments), capture_output=True, text=True,
                          preexec_fn=partial(die_with_parent, os.getpid()))
    if proc.returncode != 0:
        raise RuntimeError(f"the study report failed (exit {proc.returncode}):\n{proc.stderr[-3000:]}")
    logger = get_run_logger()
    for line in proc.stderr.splitlines():
        if line.strip():
            logger.warning(line)
    return json.loads(proc.stdout.strip().splitlines()[-1])["markdown"]


def log_leaderboard(client: MlflowClient, run_id: str, rows: list[dict], study: str,
                    added: list[dict] | None = None) -> None:
    """The board as a table artifact of the search run and of the Prefect flow run (the command
    line prints it once, at the end of the run). ``added``: rows new to a board logged before,
    which MLflow appends to its table (the ensemble's)."""
    if not rows:
        return
    table = rows if added is None else added
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # MLflow's own pandas call (select_dtypes "object")
        client.log_table(run_id, {key: [row[key] for row in table] for key in table[0]},
                         artifact_file="leaderboard.json")
    create_table_artifact(table=rows, key=f"leaderboard-{_artifact_key(study)}",
                          description=f"Model families of study {study}: best validation and test score, "
                                      "trials and seconds")

