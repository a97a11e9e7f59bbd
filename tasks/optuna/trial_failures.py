"""The errors that fail one trial and not the search, and Optuna's warning for them in one line.

Optuna logs a caught error with its traceback, then a second line with the trial's value (None).
A search that meets a configuration a library refuses would repeat both for every such trial;
the traceback is kept in the trial's MLflow run (``error.txt``, tasks/optuna/objective.py) and the
console gets Optuna's one line naming the trial, its parameters and the error.

Where the filter goes: Optuna logs these lines on the logger of a private module of its own, and
a filter on the public ``optuna`` logger never sees records of its children (Python applies a
logger's filters only to records logged on that logger). A filter on a handler would see them,
but only for that handler: pytest's, or a user's on the root logger, would still print the
traceback. So the filter goes on whichever ``optuna.*`` logger logs, found by its record: a
record factory (``logging.setLogRecordFactory``, public since Python 3.2) sees every record
before its logger filters it, and installs the filter on that logger the first time; the record
it was called for is filtered too. No module name of Optuna's is written here.
"""

from __future__ import annotations

import logging
import threading

# what a worker catches as a failed trial: TrialFailed (a RuntimeError, wrapping any other error
# of a configuration), the divergence check's FloatingPointError, torch's RuntimeErrors
CAUGHT = (RuntimeError, FloatingPointError)

OPTUNA = "optuna"  # Optuna's modules log on loggers under the library's name

_filtered: set[str] = set()  # the Optuna loggers that have the filter (one each, whichever factory)
_lock = threading.Lock()


class OneLineTrialFailures(logging.Filter):
    """Drops the traceback of a caught trial error and Optuna's "failed with value None" line."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if not message.startswith("Trial "):
            return True
        if record.exc_info and isinstance(record.exc_info[1], CAUGHT) and " failed with parameters: " in message:
            record.exc_info, record.exc_text = None, None
        return not message.endswith(" failed with value None.")


def _is_optuna(name: str) -> bool:
    return name == OPTUNA or name.startswith(OPTUNA + ".")


class FilterOptunaLoggers:
    """A record factory: the previous factory's record, its Optuna logger given the filter first."""

    def __init__(self, previous) -> None:
        self.previous = previous

    def __call__(self, name, *args, **kwargs) -> logging.LogRecord:
        if name not in _filtered and _is_optuna(name):
            with _lock:
                if name not in _filtered:
                    logging.getLogger(name).addFilter(OneLineTrialFailures())
                    _filtered.add(name)
        return self.previous(name, *args, **kwargs)


def one_line_trial_failures() -> None:
    """Install the record factory, once per process (again if another factory replaced it)."""
    if not isinstance(logging.getLogRecordFactory(), FilterOptunaLoggers):
        logging.setLogRecordFactory(FilterOptunaLoggers(logging.getLogRecordFactory()))
