"""The errors that fail one trial and not the search, and Optuna's warning for them in one line.

Optuna logs a caught error with its traceback, then a second line with the trial's value (None).
A search that meets a configuration a library refuses would repeat both for every such trial;
the traceback is kept in the trial's MLflow run (``error.txt``, tasks/optuna/objective.py) and the
console gets Optuna's one line naming the trial, its parameters and the error.
"""

from __future__ import annotations

import logging

# what a worker catches as a failed trial: TrialFailed (a RuntimeError, wrapping any other error
# of a configuration), the divergence check's FloatingPointError, torch's RuntimeErrors
CAUGHT = (RuntimeError, FloatingPointError)

OPTUNA_OPTIMIZE_LOGGER = "optuna.study._optimize"


class OneLineTrialFailures(logging.Filter):
    """Drops the traceback of a caught trial error and Optuna's "failed with value None" line."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if not message.startswith("Trial "):
            return True
        if record.exc_info and isinstance(record.exc_info[1], CAUGHT) and " failed with parameters: " in message:
            record.exc_info, record.exc_text = None, None
        return not message.endswith(" failed with value None.")


def one_line_trial_failures() -> None:
    """Install the filter on Optuna's optimize logger, once per process."""
    logger = logging.getLogger(OPTUNA_OPTIMIZE_LOGGER)
    if not any(isinstance(f, OneLineTrialFailures) for f in logger.filters):
        logger.addFilter(OneLineTrialFailures())
