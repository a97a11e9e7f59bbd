"""Faults through the real command line (issue 21): Ctrl-C to the process group, kill -9 then the
same command again, and two runs of one spec at once. Each `tunaflow run` is a subprocess in its
own session, as a terminal's foreground job is, with its own TUNAFLOW_HOME and PREFECT_HOME.

Ctrl-C and kill -9 with one worker run in `make test` (they guard the README's promises); the
heavier variants (two workers, SIGTERM, concurrent runs) are marked slow."""

from __future__ import annotations

import collections
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import optuna
import pytest
from mlflow.tracking import MlflowClient

from tests.flows.workers_util import (FINISHED, REPO, _sqlite_has_study, kill_group, trials, wait_for,
                                      write_spec)
from tunaflow.components.processes import child_pids, identity_is_dead, process_identity

slow = pytest.mark.slow


class Command:
    """`tunaflow ARGS` in a session of its own; stdout and stderr kept apart."""

    def __init__(self, home: Path, name: str, *args: str):
        self.home, self.name = home, name
        env = {**os.environ, "TUNAFLOW_HOME": str(home), "PREFECT_HOME": str(home / "prefect"),
               "PYTHONWARNINGS": "ignore"}
        env.pop("MLFLOW_TRACKING_URI", None)
        env.pop("PREFECT_API_URL", None)
        (home / "prefect").mkdir(parents=True, exist_ok=True)  # the server's database (flow run states)
        self.out, self.err = home.parent / f"{name}.out", home.parent / f"{name}.err"
        self.proc = subprocess.Popen([sys.executable, "-m", "tunaflow.cli", *args], stdout=open(self.out, "w"),
                                     stderr=open(self.err, "w"), env=env, cwd=REPO, start_new_session=True)

    def descendants(self) -> list[str]:
        """Identities of every process under the command (pids are reused: an identity is not)."""
        found, frontier = [], [self.proc.pid]
        while frontier:
            children = [c for pid in frontier for c in child_pids(pid)]
            found += [process_identity(c) for c in children]
            frontier = children
        return found

    def console(self) -> str:
        return self.out.read_text()[-3000:] + self.err.read_text()[-3000:]

    def still_running(self) -> bool:
        """Polled while waiting for a trial: a command that ended early fails the test at once."""
        code = self.proc.poll()
        assert code is None, f"the command ({self.name}) ended, code {code}\n{self.console()}"
        return True


def _mid_trial(url: str, name: str, count: int = 1) -> list:
    """Trials running in a worker (not merely admitted), once ``count`` of them are."""
    running = [t for t in trials(name, url) if t.state.name == "RUNNING" and "tunaflow.worker" in t.user_attrs]
    return running if len(running) >= count else []


def _runs(home: Path, name: str) -> list:
    client = MlflowClient(f"sqlite:///{home / 'mlflow.db'}")
    experiment = client.get_experiment_by_name(name)
    return client.search_runs([experiment.experiment_id], max_results=1000) if experiment else []


def _flow_run_states(home: Path) -> list[str]:
    with sqlite3.connect(home / "prefect" / "prefect.db") as db:
        return [row[0] for row in db.execute("SELECT state_name FROM flow_run")]


def _all_gone(identities: list[str]) -> bool:
    return all(identity_is_dead(i) for i in identities)


@pytest.mark.parametrize("workers, stop", [(1, "ctrl-c"), pytest.param(2, "ctrl-c", marks=slow),
                                           pytest.param(2, "sigterm", marks=slow)])
def test_ctrl_c_to_the_process_group_stops_the_run_in_one_line_and_ends_its_state(workers, stop, tmp_path):
    """Ctrl-C reaches the terminal's whole process group; SIGTERM (a service manager, a container
    runtime, a cancelled Prefect job) the command alone, which passes it on to its workers."""
    home, name = tmp_path / "home", f"{stop}-{workers}"
    spec = write_spec(tmp_path, name=name, search={"n_trials": 3, "workers": workers},
                      train={"epochs": 400, "early_stopping": {"enabled": False},
                             "learning_curve": {"enabled": False}})
    url = f"sqlite:///{home / 'optuna.db'}"
    run = Command(home, "run", "run", spec)
    try:
        # every worker inside a trial, for a while already: the signal lands in the training loop
        interrupted = wait_for(lambda: run.still_running() and _mid_trial(url, name, workers), 400,
                               "trials to be running", every=0.25)
        time.sleep(1.0)
        processes = run.descendants()
        assert len(processes) >= 1 + (workers if workers > 1 else 0)  # the Prefect server, the pool
        before = run.err.stat().st_size
        if stop == "ctrl-c":
            os.killpg(run.proc.pid, signal.SIGINT)
        else:
            os.kill(run.proc.pid, signal.SIGTERM)
        code = run.proc.wait(60)  # the command promises 5 s; this bound only catches a hang
    finally:
        kill_group(run.proc)
    assert code == (130 if stop == "ctrl-c" else 143), run.console()
    after = run.err.read_text()[before:]
    said = "tunaflow: interrupted:" if stop == "ctrl-c" else "tunaflow: interrupted by SIGTERM:"
    assert after.count("\n") == 1 and after.startswith(said), after
    wait_for(lambda: _all_gone(processes), 30, "the command's processes to be gone")

    states = {t.number: t.state.name for t in trials(name, url)}
    assert all(states[t.number] == "FAIL" for t in interrupted), states
    assert "RUNNING" not in states.values() and "COMPLETE" not in states.values()
    runs = _runs(home, name)
    status = {r.info.run_name: r.info.status for r in runs if r.data.tags.get("tunaflow.stage") != "trial"}
    assert status["search"] == "KILLED" and status[f"{name}-{name}"] == "KILLED", status
    trial_runs = {int(r.data.tags["tunaflow.trial"]): r.info.status for r in runs
                  if r.data.tags.get("tunaflow.stage") == "trial"}
    assert all(trial_runs[t.number] == "KILLED" for t in interrupted), trial_runs
    assert not [r for r in runs if r.info.status == "RUNNING"]
    assert _flow_run_states(home) == ["Cancelled"]


def _doomed_trial(study: optuna.Study, client: MlflowClient):
    """A trial mid-training (sampled, in a worker, its MLflow run open) once another has finished."""
    found = study.get_trials(deepcopy=False)
    if not any(t.state in FINISHED for t in found):
        return None
    running = [t for t in found if t.state.name == "RUNNING" and t.params and "tunaflow.worker" in t.user_attrs]
    if not running:
        return None
    experiment = client.get_experiment_by_name(study.study_name).experiment_id
    open_runs = {r.data.tags.get("tunaflow.trial")
                 for r in client.search_runs([experiment], filter_string="attributes.status = 'RUNNING'")}
    return running[0] if str(running[0].number) in open_runs else None


def test_kill_9_mid_trial_then_the_same_command_fails_the_dead_trial_retries_it_and_finishes(tmp_path):
    """The README's promise for an interrupted run, at its cheapest: one worker, three trials. A
    trial of 150 epochs lasts about a second on an idle machine (20 epochs lasted 0.2 s, too short
    to catch), and the third trial is a second chance to catch one mid-training."""
    home, name, budget = tmp_path / "home", "kill-9", 3
    spec = write_spec(tmp_path, name=name, search={"n_trials": budget},
                      train={"epochs": 150, "early_stopping": {"enabled": False},
                             "learning_curve": {"enabled": False}})
    url, readers = f"sqlite:///{home / 'optuna.db'}", []

    def doomed():
        first.still_running()
        # one reader of the study and one of MLflow, opened once the study exists: opening them
        # takes a second, a read a few ms (a trial of 150 epochs is caught ~0.1 s after its start)
        if not readers:
            if not _sqlite_has_study(home / "optuna.db", name):
                return None
            readers[:] = [optuna.load_study(study_name=name, storage=url),
                          MlflowClient(f"sqlite:///{home / 'mlflow.db'}")]
        return _doomed_trial(*readers)

    first = Command(home, "first", "run", spec)
    try:
        victim = wait_for(doomed, 400, "a finished trial and one mid-training", every=0.05)
        processes = first.descendants()
        os.kill(first.proc.pid, signal.SIGKILL)  # kill -9 PID: the command alone; its children follow it
        first.proc.wait(30)
        wait_for(lambda: _all_gone(processes), 30, "the killed command's Prefect server to die with it")
    finally:
        kill_group(first.proc)
    by_number = {t.number: t for t in trials(name, url)}
    assert by_number[victim.number].state.name == "RUNNING"  # left as it was when its process died
    done_before = {n: (t.params, t.values, t.datetime_complete) for n, t in by_number.items() if t.state in FINISHED}
    assert 1 <= len(done_before) < budget
    left_open = {r.info.run_id: r.info.run_name for r in _runs(home, name) if r.info.status == "RUNNING"}
    assert {f"{name}-{name}", "search"} <= set(left_open.values()), left_open

    again = Command(home, "again", "run", spec, "--json")
    try:
        assert again.proc.wait(600) == 0, again.console()
    finally:
        kill_group(again.proc)
    assert json.loads(again.out.read_text().strip().splitlines()[-1])["n_trials"] == budget
    after = {t.number: t for t in trials(name, url)}
    assert after[victim.number].state.name == "FAIL"
    retries = [t for t in after.values() if t.system_attrs.get("failed_trial") == victim.number]
    assert len(retries) == 1 and retries[0].state in FINISHED and retries[0].params == victim.params
    # finished trials were not run again: same values, finished when they were
    assert {n: (after[n].params, after[n].values, after[n].datetime_complete) for n in done_before} == done_before
    assert sum(t.state in FINISHED for t in after.values()) == budget
    assert not [t for t in after.values() if t.state.name in ("RUNNING", "WAITING")]
    runs = _runs(home, name)
    assert not [r for r in runs if r.info.status == "RUNNING"]
    trial_runs = {int(r.data.tags["tunaflow.trial"]): r for r in runs if r.data.tags.get("tunaflow.stage") == "trial"}
    dead_run = trial_runs[victim.number]
    assert dead_run.info.status == "FAILED" and dead_run.data.tags["tunaflow.trial_state"] == "FAIL", dead_run
    ended = {left_open[r.info.run_id]: r.info.status for r in runs if r.info.run_id in left_open}
    assert ended[f"{name}-{name}"] == "KILLED" and ended["search"] == "KILLED", ended
    assert "ended KILLED" in again.err.read_text()  # the second run said what it ended


@slow
def test_a_run_killed_outright_is_ended_by_the_next_run_which_meets_the_budget_exactly(tmp_path):
    home, name, budget = tmp_path / "home", "killed-run", 5
    spec = write_spec(tmp_path, name=name, search={"n_trials": budget, "workers": 2},
                      train={"epochs": 40, "learning_curve": {"enabled": False}})
    url = f"sqlite:///{home / 'optuna.db'}"
    first = Command(home, "first", "run", spec)
    try:
        wait_for(lambda: sum(t.state in FINISHED for t in trials(name, url)) >= 1 and _mid_trial(url, name),
                 400, "a finished trial and a running one", every=0.1)
        processes = first.descendants()
        os.kill(first.proc.pid, signal.SIGKILL)  # the command alone: its children must follow it
        first.proc.wait(30)
        wait_for(lambda: _all_gone(processes), 20, "the killed command's server and workers to die with it")
    finally:
        kill_group(first.proc)
    dead = [t for t in trials(name, url) if t.state.name == "RUNNING"]
    done_before = {t.number: (t.params, t.values) for t in trials(name, url) if t.state in FINISHED}
    assert dead and 1 <= len(done_before) < budget
    first_parent = next(r.info.run_id for r in _runs(home, name) if r.info.run_name == f"{name}-{name}")

    again = Command(home, "again", "run", spec, "--json")
    try:
        assert again.proc.wait(900) == 0, again.console()
    finally:
        kill_group(again.proc)
    after = trials(name, url)
    by_number = {t.number: t for t in after}
    assert sum(t.state in FINISHED for t in after) == budget
    assert not [t for t in after if t.state.name in ("RUNNING", "WAITING")]
    assert {n: (by_number[n].params, by_number[n].values) for n in done_before} == done_before
    assert all(by_number[t.number].state.name == "FAIL" for t in dead)
    # the dead trial ran once and was retried once; no configuration more often than that
    counts = collections.Counter(json.dumps(t.params, sort_keys=True) for t in after)
    assert max(counts.values()) <= 2, counts
    runs = _runs(home, name)
    assert not [r for r in runs if r.info.status == "RUNNING"]
    killed = {r.info.run_name for r in runs if r.info.status == "KILLED"}
    assert {f"{name}-{name}", "search"} <= killed
    first_tree = [r for r in runs if r.data.tags.get("mlflow.parentRunId") == first_parent]
    assert first_tree and all(r.info.status in ("FINISHED", "KILLED", "FAILED") for r in first_tree)
    assert "ended KILLED" in again.err.read_text()  # the second run said what it ended


@slow
def test_two_runs_of_one_spec_at_once_sample_different_configurations(tmp_path):
    home, name, budget = tmp_path / "home", "twins", 8
    spec = write_spec(tmp_path, name=name, search={"n_trials": budget, "sampler": "random"},
                      train={"epochs": 30, "early_stopping": {"enabled": False}, "learning_curve": {"enabled": False}})
    url = f"sqlite:///{home / 'optuna.db'}"
    one = Command(home, "one", "run", spec)
    two = None
    try:
        # the second joins while the first is searching: the same seeded stream would propose its trials again
        wait_for(lambda: _mid_trial(url, name), 400, "the first run's search", every=0.1)
        two = Command(home, "two", "run", spec)
        assert one.proc.wait(900) == 0, one.console()
        assert two.proc.wait(900) == 0, two.console()
    finally:
        kill_group(one.proc)
        if two is not None:
            kill_group(two.proc)
    complete = [t for t in trials(name, url) if t.state.name == "COMPLETE"]
    assert len(complete) == budget
    workers = {t.user_attrs["tunaflow.worker"] for t in complete}
    assert len({w.split("-p")[-1].split("-")[0] for w in workers}) == 2  # both runs took trials
    params = [json.dumps(t.params, sort_keys=True) for t in complete]
    assert len(set(params)) == len(params), collections.Counter(params).most_common(3)
