"""The command line is a shell over the Python API: each command is an API function, ``--set``
is declared once, and the console script exits promptly with every exit handler run."""

import re
import subprocess
import sys

import pytest

import tunaflow
from tunaflow.cli import COMMANDS, _parser

SPEC_COMMANDS = ("run", "validate", "worker", "retrain", "deploy")


def test_every_command_is_a_function_of_the_api():
    commands = set(COMMANDS)
    assert commands == set(SPEC_COMMANDS) | {"init", "schema", "rollback", "predict"}
    for command in commands:
        assert command in tunaflow.__all__ and callable(getattr(tunaflow, command)), command
    # the parser offers those and no other
    offered = re.search(r"{(.*?)}", _parser().format_usage()).group(1).split(",")
    assert set(offered) == commands


@pytest.mark.parametrize("command", SPEC_COMMANDS)
def test_every_command_that_reads_a_spec_takes_set(command):
    args = _parser().parse_args([command, "spec.yaml", "--set", "train.lr=0.02", "--set=seed=4"])
    assert args.overrides == ["train.lr=0.02", "seed=4"]


EXIT_PROBE = """
import atexit, os, sys, threading
from tunaflow import cli

class Teardown:  # collected when the interpreter tears its modules down, the seconds the script skips
    def __init__(self, path):
        self.fd, self.write = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT), os.write
    def __del__(self):
        self.write(self.fd, b"teardown\\n")

kept = Teardown(sys.argv[1])

def main(argv=None):
    atexit.register(lambda: open(sys.argv[1], "a").write("handler\\n"))
    # a non-daemon thread still working when the command returns, as a library's flusher may be
    threading.Thread(target=lambda: __import__("time").sleep(0.3) or open(sys.argv[1], "a").write("thread\\n")).start()
    print("summary", end="")  # left in the buffer: the exit flushes it
    return 3

cli.main = main
cli.run()
"""


def test_the_console_script_runs_exit_handlers_flushes_and_exits_with_the_commands_code(tmp_path):
    log = tmp_path / "log"
    proc = subprocess.run([sys.executable, "-c", EXIT_PROBE, str(log)], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 3, proc.stderr
    assert proc.stdout == "summary"
    assert log.read_text() == "thread\nhandler\n"  # and no teardown
