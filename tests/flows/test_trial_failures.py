"""A configuration that raises inside its trial (a library's ValueError, not the user's input)
fails that trial and the search goes on; when every trial fails, the worker stops after
MAX_FAILURES of them and the run ends in one line, not after the whole budget."""

import logging

import optuna
import pytest
from mlflow.tracking import MlflowClient

from tunaflow.components import objective as component_objective
from tunaflow.components.errors import NoCompleteTrial
from tunaflow.components.spec import build_spec
from tunaflow.flows.automl import automl_flow
from tunaflow.tasks.settings import default_storage_url, tracking_uri
from tunaflow.tasks.worker import MAX_FAILURES
from tests.conftest import tiny_spec_tree


def _spec(name: str, families: list[str], n_trials: int):
    tree = tiny_spec_tree(name=name, search={"n_trials": n_trials, "pruner": "none"},
                          train={"learning_curve": {"enabled": False}})
    tree["model"] = {"family": "auto", "families": families}
    del tree["search"]["space"]  # each family's default space
    return build_spec(tree)


@pytest.fixture
def random_forests_raise(monkeypatch):
    """Every random forest's fit raises the ValueError a library raises on a configuration it refuses."""
    real = component_objective.fit_estimator

    def fit(estimator, X, y, single_thread=False):
        if "RandomForest" in repr(estimator):
            raise ValueError("injected: this configuration cannot be fitted")
        return real(estimator, X, y, single_thread)

    monkeypatch.setattr(component_objective, "fit_estimator", fit)


def test_a_trial_that_raises_fails_alone_and_the_search_registers_another_family(prefect_harness,
                                                                                random_forests_raise, caplog):
    with caplog.at_level(logging.WARNING, logger="optuna"):
        summary = automl_flow(_spec("fails-one", ["rf", "logreg"], 6))
    assert summary["best_params"]["model.family"] == "logreg"
    trials = optuna.load_study(study_name="fails-one", storage=default_storage_url()).trials
    failed = [t for t in trials if t.state == optuna.trial.TrialState.FAIL]
    assert failed and {t.user_attrs["family"] for t in failed} == {"rf"}
    assert all(t.user_attrs["family"] == "logreg" for t in trials if t.state == optuna.trial.TrialState.COMPLETE)
    client = MlflowClient(tracking_uri())
    parent = client.get_run(summary["mlflow_run_id"])
    runs = client.search_runs([parent.info.experiment_id], filter_string="tags.`tunaflow.stage` = 'trial'")
    failed_runs = [r for r in runs if r.info.status == "FAILED"]
    assert len(failed_runs) == len(failed)
    # each failure in one console line; its traceback kept in the trial's run
    said = [r for r in caplog.records if r.name.startswith("optuna") and r.message.startswith("Trial ")]
    assert len(said) == len(failed) and all("injected" in r.message and not r.exc_info for r in said)
    kept = client.download_artifacts(failed_runs[0].info.run_id, "error.txt")
    text = open(kept).read()
    assert "Traceback" in text and "ValueError: injected" in text
    board = {row["family"]: row for row in summary["leaderboard"]}
    assert board["logreg"]["trials"] >= 1


def test_a_search_whose_every_trial_fails_stops_after_max_failures(prefect_harness, random_forests_raise):
    with pytest.raises(NoCompleteTrial, match="no trial completed"):
        automl_flow(_spec("fails-all", ["rf"], 3 * MAX_FAILURES))
    trials = optuna.load_study(study_name="fails-all", storage=default_storage_url()).trials
    assert len(trials) == MAX_FAILURES and all(t.state == optuna.trial.TrialState.FAIL for t in trials)
