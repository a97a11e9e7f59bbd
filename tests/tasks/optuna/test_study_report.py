"""The study's plots: PNG always; the interactive HTML plot only with plotly (tunaflow[plots])."""

import json
import subprocess
import sys

CODE = r'''
import json, sys, tempfile
if sys.argv[1] == "without":
    sys.modules["plotly"] = None  # as if tunaflow[plots] were not installed
import mlflow, optuna
from tunaflow.tasks.optuna.study_report import log_study_plots, study_importances
mlflow.set_tracking_uri(f"sqlite:///{tempfile.mkdtemp()}/m.db")
optuna.logging.set_verbosity(optuna.logging.WARNING)
study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
study.optimize(lambda t: t.suggest_float("x", 0, 1) ** 2, n_trials=4)
with mlflow.start_run() as run:
    log_study_plots(study, ["loss"], study_importances(study, ["loss"]))
print(json.dumps(sorted(a.path for a in mlflow.MlflowClient().list_artifacts(run.info.run_id, "plots"))))
'''


def _plots(plotly: str):
    proc = subprocess.run([sys.executable, "-c", CODE, plotly], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return set(json.loads(proc.stdout.strip().splitlines()[-1])), proc.stderr


def test_without_plotly_the_png_plots_remain_and_one_line_says_why_the_html_is_missing():
    with_plotly, _ = _plots("with")
    without, stderr = _plots("without")
    assert "plots/parallel_coordinate.html" in with_plotly
    assert without == with_plotly - {"plots/parallel_coordinate.html"}
    assert {"plots/optimization_history.png", "plots/parallel_coordinate.png", "plots/param_importances.png"} <= without
    notes = [line for line in stderr.splitlines() if "plotly" in line]
    assert len(notes) == 1 and "pip install 'tunaflow[plots]'" in notes[0], stderr[-2000:]
