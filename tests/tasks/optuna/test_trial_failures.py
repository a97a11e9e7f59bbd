"""A caught trial error reaches every log handler as Optuna's one line, without its traceback or
the "failed with value None" line: a console handler on Optuna's logger and any other (pytest's
here), whichever of Optuna's loggers logs it. An error the worker does not count as a trial's
failure keeps its traceback."""

from __future__ import annotations

import io
import logging

import optuna
import pytest

from tunaflow.tasks.optuna.trial_failures import CAUGHT, one_line_trial_failures


def _fail_one_trial(error: Exception, caplog) -> tuple[list[logging.LogRecord], str]:
    console = logging.StreamHandler(io.StringIO())  # what a terminal would show
    console.setFormatter(optuna.logging.create_default_formatter())
    optuna.logging.get_logger("optuna").addHandler(console)
    one_line_trial_failures()
    one_line_trial_failures()  # once per process, however often it is called
    study = optuna.create_study()

    def objective(trial):
        trial.suggest_int("units", 1, 8)
        raise error

    try:
        with caplog.at_level(logging.WARNING, logger="optuna"):
            study.optimize(objective, n_trials=1, catch=(type(error),))
    finally:
        optuna.logging.get_logger("optuna").removeHandler(console)
    records = [r for r in caplog.records if r.name.startswith("optuna") and r.getMessage().startswith("Trial ")]
    return records, console.stream.getvalue()


@pytest.mark.parametrize("error", [RuntimeError("boom"), FloatingPointError("diverged")])
def test_a_caught_trial_error_is_one_line_everywhere(error, caplog):
    assert isinstance(error, CAUGHT)
    records, console = _fail_one_trial(error, caplog)
    assert len(records) == 1 and not records[0].exc_info
    assert " failed with parameters: {'units': " in records[0].getMessage() and str(error) in records[0].getMessage()
    lines = [line for line in console.splitlines() if "Trial " in line]
    assert len(lines) == 1 and "failed with parameters" in lines[0]
    assert "Traceback" not in console and "failed with value" not in console


def test_another_error_keeps_its_traceback(caplog):
    records, console = _fail_one_trial(ValueError("not ours"), caplog)
    assert any(r.exc_info for r in records) and "Traceback" in console
