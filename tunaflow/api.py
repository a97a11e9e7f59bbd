"""The Python API: the command line's checks and flows, returning typed results.

Every function runs the same checks as its command (spec, data, storage, tracking store,
study fingerprint, warm start) before anything is written, and raises ``UserInputError``
with the same one-line messages the command line prints. Heavy libraries are imported
when a function is called, so ``import tunaflow`` stays cheap.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Callable

import yaml

# the API's errors, results and its retraining functions are reachable here with the rest: the
# command line imports this module and nothing below it
from tunaflow.components.errors import DataError, NoCompleteTrial, SpecError, UserInputError
from tunaflow.components.interrupt_guard import Interrupted, set_exit_deadline
from tunaflow.results import (
    DeployResult,
    RetrainResult,
    RollbackResult,
    RunResult,
    SpecSummary,
    StarterResult,
    WorkerResult,
)
from tunaflow.retraining import deploy, rollback

if TYPE_CHECKING:
    from typing import TypeAlias

    from tunaflow.components.spec import ExperimentSpec

    SpecLike: TypeAlias = ExperimentSpec | Mapping[str, Any] | str | os.PathLike[str]
    Overrides: TypeAlias = Mapping[str, Any] | Sequence[str] | None


def override_list(overrides: Overrides) -> list[str]:
    """``--set`` strings from a list of them or a mapping of dotted paths to values."""
    if overrides is None:
        return []
    if isinstance(overrides, Mapping):
        # a value is read back as YAML (as after --set); flow style keeps lists and mappings on one line
        return [f"{path}={yaml.safe_dump(value, default_flow_style=True).strip().removesuffix('...').strip()}"
                for path, value in overrides.items()]
    if isinstance(overrides, str):
        return [overrides]
    return list(overrides)


def load_spec(spec: SpecLike, overrides: Overrides = None) -> ExperimentSpec:
    """An ``ExperimentSpec`` from a YAML path, a mapping of sections or a spec, with ``--set``-style overrides."""
    from tunaflow.components.spec import ExperimentSpec, apply_overrides, build_spec, read_spec_file

    extra = override_list(overrides)
    if isinstance(spec, ExperimentSpec):
        if not extra:
            return spec
        tree, where = spec.model_dump(mode="json"), "spec"
    elif isinstance(spec, Mapping):
        tree, where = dict(spec), "spec"
    else:
        tree, where = read_spec_file(spec), str(spec)
    return build_spec(apply_overrides(tree, extra), where=where)


def validate(spec: SpecLike, overrides: Overrides = None, *, resumes_study: bool = True) -> ExperimentSpec:
    """Every check ``run`` makes before it writes anything; the spec resolved for its data comes back
    (task, metric, search space and budget concrete: components/resolve.py).

    ``resumes_study=False`` skips the check that an existing study of the spec's name was
    made by the same trials (retraining starts a new study each time).
    """
    spec = load_spec(spec, overrides)  # before torch, MLflow and Optuna are imported: a typo is told at once
    from tunaflow.components.checks import prepare_experiment
    from tunaflow.tasks.mlflow.tracking import check_tracking_store
    from tunaflow.tasks.optuna.storage import check_study_matches
    from tunaflow.tasks.optuna.warm_start import check_warm_start
    from tunaflow.tasks.state_checks import check_state_locations

    check_state_locations(spec)  # before the data is read: a typo in a path is told in a second
    spec, _ = prepare_experiment(spec)
    if resumes_study:
        check_study_matches(spec)
    check_tracking_store()
    check_warm_start(spec)
    return spec


def describe(spec: SpecLike) -> SpecSummary:
    """What a spec trains on which data, and the space it searches, as ``tunaflow validate`` prints
    it. A spec that ``validate`` returned is told as it is; anything else is validated first."""
    from tunaflow.components.resolve import describe_resolution
    from tunaflow.components.space import describe_space, format_space
    from tunaflow.components.spec import ExperimentSpec

    if not isinstance(spec, ExperimentSpec):
        spec = validate(spec)
    search = spec.search
    return SpecSummary(name=spec.name, task=spec.data.task, family=spec.model.family, source=str(spec.data.source),
                       metric=search.metric, direction=search.direction, n_trials=search.trial_budget,
                       timeout=search.timeout, resolution=describe_resolution(spec),
                       space_lines=format_space(search.searched), space=describe_space(search.searched))


def report_interrupt(interrupt: KeyboardInterrupt) -> int:
    """End an interrupted command: its one line (what was left and how) on the user's terminal, even
    while the interrupt has silenced this process's stderr, then quiet for what exiting libraries print
    after it; the exit code a shell reports for the signal (130 Ctrl-C, 143 SIGTERM) comes back."""
    from tunaflow.components.interrupt_guard import console_line, exit_code, silence_console

    console_line(f"tunaflow: {interrupt}" if str(interrupt) else "tunaflow: interrupted")
    silence_console()
    return exit_code(interrupt)


def with_prefect_server(prepare: Callable[[], Callable[[], Any]]):
    """Start Prefect's temporary server (it boots while ``prepare`` checks the input), then
    run the call that ``prepare`` returns once the server is ready. The server serves this
    process's later calls too, and stops when the process exits (tasks/prefect/server.py).

    Nothing is started when ``PREFECT_API_URL`` (or the active profile) names a server.
    A Ctrl-C or SIGTERM ends it all cleanly (tasks/interrupted.py) and raises ``Interrupted``.
    """
    from tunaflow.components.interrupt_guard import InterruptGuard, exit_deadline
    from tunaflow.tasks.interrupted import end_interrupted, watch_flow_runs
    from tunaflow.tasks.prefect.server import shared_temporary_server

    server = shared_temporary_server()
    with InterruptGuard(deadline=exit_deadline()) as guard:
        flow_runs = watch_flow_runs(guard)
        try:
            call = prepare()
            from tunaflow.tasks.mlflow.tracking import open_tracking_store

            open_tracking_store()  # while the server boots
            if server is None:
                return call()
            server.wait_ready()
            with server.settings():
                return call()
        except KeyboardInterrupt:
            keep = {server.process.pid} if server is not None else set()
            raise Interrupted(end_interrupted(guard, flow_runs, keep), guard.signum) from None
        finally:
            if server is not None:
                server.release_environment()


def run(spec: SpecLike, overrides: Overrides = None, *, learning_curve: bool | None = None) -> RunResult:
    """Run a spec end to end as a Prefect flow (``tunaflow run``); the registered model comes back.

    ``learning_curve=False`` skips the learning curve (``--no-learning-curve``).
    """
    extra = override_list(overrides)
    if learning_curve is not None:
        extra.append(f"train.learning_curve.enabled={str(learning_curve).lower()}")

    def prepare():
        checked = validate(spec, extra)
        from tunaflow.flows.automl import automl_flow

        return lambda: automl_flow(checked)

    return RunResult.from_summary(with_prefect_server(prepare))


def retrain(spec: SpecLike, overrides: Overrides = None) -> RetrainResult:
    """One retraining now (``tunaflow retrain``): a challenger promoted only if it beats the champion."""

    def prepare():
        checked = validate(spec, overrides, resumes_study=False)
        from tunaflow.flows.retrain import retrain_flow

        return lambda: retrain_flow(checked)

    return RetrainResult.from_summary(with_prefect_server(prepare))


def worker(spec: SpecLike, overrides: Overrides = None) -> WorkerResult:
    """Join the spec's existing study and run trials until its budget is spent (``tunaflow worker``)."""

    def prepare():
        checked = validate(spec, overrides)
        from tunaflow.flows.worker import study_worker_flow
        from tunaflow.tasks.worker import check_joinable

        check_joinable(checked)
        return lambda: study_worker_flow(checked)

    report = with_prefect_server(prepare)
    return WorkerResult(study=report["study"], worker=report["worker"], trials=report["trials"],
                        seconds=report["seconds"])


def predict(model_uri: str, input_path: str | os.PathLike[str], out: str | os.PathLike[str], *,
            batch_size: int = 1024, progress: bool = False) -> int:
    """Score a CSV or NPZ file with a registered model into ``out`` (.csv or .npz); the row count.

    The file holds ``label`` and one ``proba_<class>`` per class for every input row.
    """
    from tunaflow.tasks.mlflow.predict import predict_file

    if batch_size < 1:
        raise UserInputError("--batch-size", f"expected a positive number of rows, got {batch_size}")
    return predict_file(model_uri, str(input_path), str(out), batch_size, progress=progress)


def init(data: str | os.PathLike[str], target: str | None = None,
         out: str | os.PathLike[str] | None = None) -> StarterResult:
    """Write a commented starter spec for a data file (``tunaflow init``); never overwrites a file."""
    from tunaflow.components.distributions import CategoricalDistribution
    from tunaflow.components.starter import write_starter

    starter = write_starter(str(data), target, out)
    spec = starter.spec
    entry = spec.search.searched.get("model.family")
    families = ([str(c) for c in entry.choices] if isinstance(entry, CategoricalDistribution)
                else [spec.model.family])
    return StarterResult(path=str(starter.path), name=spec.name, target=starter.target,
                         target_guessed=starter.target_guessed, task=spec.data.task, kind=starter.kind,
                         families=families)


def schema() -> dict:
    """The JSON schema of the spec (``tunaflow schema``)."""
    from tunaflow.components.spec import ExperimentSpec

    return ExperimentSpec.model_json_schema()


def version() -> str:
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as installed

    try:
        return installed("tunaflow")
    except PackageNotFoundError:  # imported from a source tree that was never installed
        return "0+unknown"

