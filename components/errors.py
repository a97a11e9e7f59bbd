"""Errors that describe a user's mistake: the command line turns them into exit code 2."""

from __future__ import annotations


class UserInputError(ValueError):
    """Bad input from the user (spec, data file, storage URL, model URI).

    ``where`` names the field or file at fault; ``str(error)`` is the one line
    the command line prints.
    """

    def __init__(self, where: str, problem: str):
        self.where = where
        self.problem = problem
        # several problems: one line each, each naming where it is
        super().__init__("\n".join(f"{where}: {line}" for line in problem.splitlines() or [""]))


class SpecError(UserInputError):
    """A spec field is missing, unknown, of the wrong type or out of range."""


class DataError(UserInputError):
    """A data source cannot be read or does not make a usable data set."""


class NoCompleteTrial(RuntimeError):
    """A search ended without one complete trial: nothing to train or register (exit 1, one line)."""


class TrialFailed(RuntimeError):
    """A configuration that could not be trained (not the user's input): its trial fails, the search
    goes on. Carries the original error's type and message."""
