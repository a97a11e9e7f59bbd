"""No configuration trained twice: a trial repeating one the study evaluated reuses its values,
one repeating a trial still running waits for it, a retry of a failed trial trains, and a
resumed study samples a stream of its own. Real worker loop, Optuna storage and MLflow store."""

from __future__ import annotations

import logging
import threading
import time

import optuna
import pytest
from mlflow.tracking import MlflowClient

from tunaflow.components.checks import prepare_experiment
from tunaflow.components.spec import build_spec
from tunaflow.tasks.mlflow.tracking import TrackingContext, use_tracking_store
from tunaflow.tasks.optuna.storage import open_storage, storage_url
from tunaflow.tasks.search import create_study
from tunaflow.tasks.optuna.duplicates import space_exhausted
from tunaflow.tasks.worker import MAX_REPEATS, work_on_study
from tests.conftest import tiny_spec_tree

UNITS = "model.units.0"
COMPLETE, FAIL = optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.FAIL


@pytest.fixture(scope="module")
def store_home(tmp_path_factory):
    return tmp_path_factory.mktemp("duplicates-home")


@pytest.fixture(autouse=True)
def shared_home(store_home, tunaflow_home, monkeypatch):
    """One home for the module's studies (each its own name): a new MLflow store takes seconds to create."""
    monkeypatch.setenv("TUNAFLOW_HOME", str(store_home))


def _prepare(name: str, space: dict, n_trials: int, **search):
    spec, splits = prepare_experiment(build_spec(tiny_spec_tree(
        name=name, search={"n_trials": n_trials, "space": space, **search},
        train={"learning_curve": {"enabled": False}})))
    uri = use_tracking_store()
    client = MlflowClient(uri)
    experiment = client.create_experiment(name)
    parent = client.create_run(experiment, run_name="parent").info.run_id
    search = client.create_run(experiment, run_name="search", tags={"mlflow.parentRunId": parent}).info.run_id
    ctx = TrackingContext(uri, experiment, parent, "")
    study = create_study(spec, ctx, open_storage(storage_url(spec)), search)
    return spec, splits, ctx, search, study


def _work(spec, splits, ctx, search, worker="w0", first=True):
    return work_on_study(spec, splits, ctx, search, worker, first=first, log=logging.getLogger("duplicates-test"))


def _trial_runs(ctx, study: str) -> dict[int, object]:
    runs = MlflowClient(ctx.tracking_uri).search_runs(
        [ctx.experiment_id], filter_string=f"tags.`tunaflow.study` = '{study}' AND tags.`tunaflow.stage` = 'trial'")
    return {int(r.data.tags["tunaflow.trial"]): r for r in runs}


def _trained(runs: dict) -> list[int]:
    """The trial runs that trained: a value and per-epoch metrics, no duplicate tag."""
    return sorted(n for n, r in runs.items() if "value" in r.data.metrics and "tunaflow.duplicate_of" not in r.data.tags)


def test_a_repeated_configuration_reuses_its_values_and_spends_no_budget(caplog):
    choices = {UNITS: {"type": "categorical", "choices": [16, 32]}}
    spec, splits, ctx, search, study = _prepare("dup-reuse", choices, n_trials=6)
    assert spec.search.trial_budget == 2  # no more trials than configurations
    for units in (16, 16, 32):
        study.enqueue_trial({UNITS: units})
    with caplog.at_level(logging.INFO, logger="duplicates-test"):
        report = _work(spec, splits, ctx, search)
    trials = study.trials
    # the repeat spent none of the budget: both configurations were trained
    assert [t.params[UNITS] for t in trials] == [16, 16, 32] and report.trials == 2
    assert all(t.state == COMPLETE for t in trials)
    first, repeat, other = trials
    assert repeat.user_attrs["duplicate_of"] == 0 and repeat.value == first.value
    assert "duplicate_of" not in first.user_attrs and "duplicate_of" not in other.user_attrs
    for key in ("seed", "best_epoch", "metrics", "family"):  # the final training reads the best trial's
        assert repeat.user_attrs[key] == first.user_attrs[key]
    assert first.user_attrs["family"] == "mlp"
    runs = _trial_runs(ctx, "dup-reuse")
    assert sorted(runs) == [0, 1, 2] and _trained(runs) == [0, 2]
    assert runs[1].data.tags["tunaflow.duplicate_of"] == "0" and not runs[1].data.metrics
    assert runs[1].data.params[UNITS] == "16" and runs[1].info.status == "FINISHED"
    lines = [r.getMessage() for r in caplog.records]
    assert any("trial 1/2 #1:" in line and "duplicate of #0" in line for line in lines)
    assert any("trial 2/2 #2:" in line for line in lines)


def test_a_sampler_that_keeps_repeating_itself_stops_the_worker(caplog):
    choices = {UNITS: {"type": "categorical", "choices": [16, 32]}}
    spec, splits, ctx, search, study = _prepare("dup-stuck", choices, n_trials=2)
    for _ in range(1 + MAX_REPEATS + 2):  # a sampler stuck on one configuration, as a queue of it
        study.enqueue_trial({UNITS: 16})
    with caplog.at_level(logging.INFO, logger="duplicates-test"):
        _work(spec, splits, ctx, search)
    done = [t for t in study.trials if t.state == COMPLETE]
    # repeats spend no budget: without the stop the worker would go on for ever
    assert len(done) == 1 + MAX_REPEATS and [t.user_attrs.get("duplicate_of") for t in done[1:]] == [0] * MAX_REPEATS
    assert any(f"the last {MAX_REPEATS} trials proposed configurations already evaluated" in r.getMessage()
               for r in caplog.records)


def test_a_finite_space_is_exhausted_once_each_configuration_finished():
    study = optuna.create_study()
    for units, state in ((16, COMPLETE), (16, COMPLETE), (24, optuna.trial.TrialState.PRUNED), (32, FAIL)):
        study.add_trial(optuna.trial.create_trial(
            params={UNITS: units}, distributions={UNITS: optuna.distributions.CategoricalDistribution([16, 24, 32])},
            state=state, value=None if state == FAIL else 0.5))
    assert not space_exhausted(study.trials, 3)  # 32 only failed
    assert space_exhausted(study.trials, 2) and not space_exhausted(study.trials, None)


def test_nothing_to_choose_runs_one_trial():
    spec, splits, ctx, search, study = _prepare("dup-empty", {}, n_trials=4)
    _work(spec, splits, ctx, search)
    assert [t.state for t in study.trials] == [COMPLETE]
    assert _trained(_trial_runs(ctx, "dup-empty")) == [0]


def test_a_retried_trial_trains_unless_a_complete_trial_holds_its_configuration():
    choices = {UNITS: {"type": "categorical", "choices": [16, 24, 32]}}
    spec, splits, ctx, search, study = _prepare("dup-retry", choices, n_trials=1)
    study.enqueue_trial({UNITS: 16})
    _work(spec, splits, ctx, search)  # trial 0: 16, trained
    retry = optuna.storages.RetryHeartbeatStaleTrialCallback(max_retry=1)
    for units in (32, 16):  # trials 1 and 2 fail (a worker died)
        study.enqueue_trial({UNITS: units})
        trial = study.ask()
        trial.suggest_categorical(UNITS, [16, 24, 32])
        study.tell(trial, state=FAIL)
    for failed in study.trials[1:]:  # and the stale-trial handler queues each again
        retry(study, failed)
    with_budget = spec.model_copy(update={"search": spec.search.model_copy(update={"n_trials": 3})})
    _work(with_budget, splits, ctx, search, worker="w1", first=False)
    trials = study.trials
    assert [(t.params[UNITS], t.state.name) for t in trials[:5]] == [
        (16, "COMPLETE"), (32, "FAIL"), (16, "FAIL"), (32, "COMPLETE"), (16, "COMPLETE")]
    retried_32, retried_16 = trials[3], trials[4]
    assert retried_32.system_attrs["failed_trial"] == 1 and retried_16.system_attrs["failed_trial"] == 2
    # the failed trial is not a configuration evaluated: its retry trains
    assert "duplicate_of" not in retried_32.user_attrs
    # the configuration of a COMPLETE trial is reused, retry or not
    assert retried_16.user_attrs["duplicate_of"] == 0 and retried_16.value == trials[0].value
    trained = _trained(_trial_runs(ctx, "dup-retry"))
    assert trained[:2] == [0, 3] and sorted(trials[n].params[UNITS] for n in trained) == [16, 24, 32]


def test_a_configuration_running_elsewhere_is_waited_for_and_reused(caplog):
    choices = {UNITS: {"type": "categorical", "choices": [16, 32]}}
    spec, splits, ctx, search, study = _prepare("dup-running", choices, n_trials=2)
    study.enqueue_trial({UNITS: 32})
    elsewhere = study.ask()  # another worker's trial, begun and still running
    elsewhere.suggest_categorical(UNITS, [16, 32])
    study.enqueue_trial({UNITS: 32})
    worker = threading.Thread(target=_work, args=(spec, splits, ctx, search))
    with caplog.at_level(logging.INFO, logger="duplicates-test"):
        worker.start()
        deadline = time.monotonic() + 120
        while not any("waits for trial #0" in r.getMessage() for r in caplog.records):
            assert time.monotonic() < deadline and worker.is_alive(), "the worker never waited"
            time.sleep(0.1)
        study.tell(elsewhere, 0.625)
        worker.join(120)
    assert not worker.is_alive()
    waited = study.trials[1]
    assert waited.state == COMPLETE and waited.value == 0.625 and waited.user_attrs["duplicate_of"] == 0
    runs = _trial_runs(ctx, "dup-running")
    assert runs[1].data.tags["tunaflow.duplicate_of"] == "0"
    # the rest of the budget went to the other configuration: 32 was never trained here
    assert [study.trials[n].params[UNITS] for n in _trained(runs)] == [16]


def test_a_resumed_study_samples_new_configurations_not_its_seeded_stream_again():
    lr = {"train.lr": {"type": "float", "low": 1e-3, "high": 1e-1, "log": True}}
    # random sampling (TPE's start-up) from the study's seed again would draw trial 0's values first
    spec, splits, ctx, search, study = _prepare("dup-resume", lr, n_trials=2, sampler="random")
    _work(spec, splits, ctx, search, worker="first-run-w0")
    resumed = spec.model_copy(update={"search": spec.search.model_copy(update={"n_trials": 4})})
    _work(resumed, splits, ctx, search, worker="second-run-w0")  # the first worker of a run again
    trials = study.trials
    assert len(trials) == 4 and all(t.state == COMPLETE for t in trials)
    assert not any("duplicate_of" in t.user_attrs for t in trials)
    assert len({t.params["train.lr"] for t in trials}) == 4
    assert study.user_attrs["tunaflow.sampler_stream"] == "first-run-w0"
