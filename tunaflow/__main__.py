"""``python -m tunaflow``: the command line."""

from tunaflow.cli import run

run()
