"""The command line: parse the arguments, call the Python API's function of the command, print
what it returns. Exit 0 ok, 2 bad input, 1 unexpected failure."""

from __future__ import annotations

import argparse
import atexit
import json
import os
import sys

from tunaflow import api

EXIT_OK, EXIT_FAILURE, EXIT_BAD_INPUT = 0, 1, 2
INTERRUPT_DEADLINE = 4.5  # seconds from Ctrl-C to exit 130, the run's state cleaned up or not


def _parser() -> argparse.ArgumentParser:
    # one declaration of --set, inherited by every command that reads a spec
    overrides = argparse.ArgumentParser(add_help=False)
    overrides.add_argument("--set", dest="overrides", action="append", default=[], metavar="PATH=VALUE",
                           help="override a spec field, e.g. --set train.lr=0.01 (repeatable)")
    parser = argparse.ArgumentParser(prog="tunaflow", description="AutoML flows for neural networks.")
    parser.add_argument("--version", action="version", version=f"tunaflow {api.version()}")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", parents=[overrides], help="run a spec end to end as a Prefect flow")
    run.add_argument("spec", help="experiment spec (YAML)")
    run.add_argument("--json", action="store_true", help="print a JSON summary as the last line of stdout")
    run.add_argument("--no-learning-curve", action="store_true",
                     help="skip the learning curve of the best configuration (train.learning_curve.enabled)")
    validate = sub.add_parser("validate", parents=[overrides],
                              help="check a spec and its data, print the resolved search space; change nothing")
    validate.add_argument("spec")
    validate.add_argument("--json", action="store_true", help="print the resolved settings as one JSON object")
    init = sub.add_parser("init", help="write a commented starter spec for a data file")
    init.add_argument("data", help="a .csv/.parquet/.npz file, a folder of class folders, or a bundled set")
    init.add_argument("--target", help="the target column (default: the table's last column)")
    init.add_argument("--out", help="the spec file to write (default: NAME.yaml here); never overwritten")
    sub.add_parser("schema", help="print the JSON schema of the spec")
    worker = sub.add_parser("worker", parents=[overrides], help="join a spec's study from another process or "
                                                               "machine and run trials until its budget is spent")
    worker.add_argument("spec")
    _add_registry_commands(sub, overrides)
    return parser


def _add_registry_commands(sub, overrides: argparse.ArgumentParser) -> None:
    """Retraining, deployment and consumers of the registered model (issue 7)."""
    retrain = sub.add_parser("retrain", parents=[overrides],
                             help="train a challenger once; promote it only if it beats the champion")
    retrain.add_argument("spec")
    retrain.add_argument("--json", action="store_true", help="print a JSON summary as the last line of stdout")
    deploy = sub.add_parser("deploy", parents=[overrides],
                            help="serve the spec's retraining on a cron schedule (runs until stopped)")
    deploy.add_argument("spec")
    deploy.add_argument("--cron", default="0 3 * * *", help='cron expression (default "0 3 * * *": daily at 03:00)')
    deploy.add_argument("--timezone", default="UTC", help="IANA time zone of the cron expression (default UTC)")
    deploy.add_argument("--prefect-yaml", metavar="FILE",
                        help="write the deployment for a work pool to this prefect.yaml instead of serving it")
    deploy.add_argument("--work-pool", default="tunaflow", help="work pool named in --prefect-yaml")
    rollback = sub.add_parser("rollback", help="move the champion alias back to the version it replaced")
    rollback.add_argument("name", help="registered model name")
    rollback.add_argument("--alias", default="champion")
    predict = sub.add_parser("predict", help="score a CSV or NPZ file with a registered model")
    predict.add_argument("model_uri", help="e.g. models:/digits-mlp@champion")
    predict.add_argument("input", help="CSV with the source's feature columns, or NPZ with an image array X")
    predict.add_argument("--out", required=True, help="output .csv or .npz: label and one probability per class")
    predict.add_argument("--batch-size", type=int, default=1024)


def _print_summary(result) -> None:
    metrics = ", ".join(f"{k} {v:.4f}" for k, v in result.test_metrics.items())
    params = ", ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}"
                       for k, v in result.best_params.items())
    print(
        f"\nstudy        {result.study}: {result.n_trials} trials, {result.n_pruned} pruned\n"
        f"best value   {result.best_value:.4f} (trial {result.best_trial})\n"
        f"best params  {params or '(no search space)'}\n"
        f"test         {metrics}\n"
        f"model        {result.model_uri} (alias {result.alias})\n"
        f"more data    {_more_data(result.more_data_helps)}\n"
        f"mlflow run   {result.mlflow_run_id}"
    )
    if board := result.leaderboard_text():
        print(f"\nleaderboard (model families, best first)\n{board}")


def _more_data(verdict: bool | None) -> str:
    if verdict is None:
        return "learning curve skipped"
    return "validation score still improving at full size: more data would help" if verdict else \
        "validation score flat at full size"


def _run(args) -> int:
    result = api.run(args.spec, args.overrides, learning_curve=False if args.no_learning_curve else None)
    _print_summary(result)
    if args.json:
        print(json.dumps(result.to_json()))
    return EXIT_OK


def _retrain(args) -> int:
    result = api.retrain(args.spec, args.overrides)
    _print_summary(result)
    print(f"decision     {result.decision}: {result.reason}\n"
          f"champion     models:/{result.registered_model}/{result.champion_version}")
    if args.json:
        print(json.dumps(result.to_json()))
    return EXIT_OK


def _deploy(args) -> int:
    result = api.deploy(args.spec, args.overrides, cron=args.cron, timezone=args.timezone,
                        prefect_yaml=args.prefect_yaml, work_pool=args.work_pool)
    if result.prefect_yaml:
        print(f"wrote {result.prefect_yaml}: deployment {result.deployment} for work pool {result.work_pool}")
    return EXIT_OK


def _rollback(args) -> int:
    result = api.rollback(args.name, args.alias)
    print(f"models:/{result.registered_model}@{result.alias}: version {result.from_version} -> {result.to_version}")
    return EXIT_OK


def _predict(args) -> int:
    n = api.predict(args.model_uri, args.input, args.out, batch_size=args.batch_size, progress=True)
    print(f"scored {n} row(s) with {args.model_uri} -> {args.out}")
    return EXIT_OK


def _worker(args) -> int:
    report = api.worker(args.spec, args.overrides)
    print(f"worker {report.worker}: {report.trials} trial(s) of study {report.study} in {report.seconds:.0f}s")
    return EXIT_OK


def _validate(args) -> int:
    spec = api.validate(args.spec, args.overrides)
    summary = api.describe(spec)
    print(f"{args.spec}: ok ({summary.name}: {summary.family} on {summary.source}, {summary.task}, "
          f"{summary.resolution})")
    print(f"search space ({summary.metric}, {summary.direction}):")
    print("\n".join(summary.space_lines) or "  (empty: one configuration)")
    if args.json:
        print(json.dumps({"spec": args.spec, **summary.to_json()}))
    return EXIT_OK


def _init(args) -> int:
    result = api.init(args.data, args.target, args.out)
    if result.target_guessed:
        print(f"target: {result.target!r}, the last column (use --target COL for another)")
    what = f"{result.kind} {result.task}" + (f" of {result.target!r}" if result.target else "")
    print(f"wrote {result.path}: {what}, searching {', '.join(result.families)}")
    print(f"next: tunaflow run {result.path}")
    return EXIT_OK


def _schema(args) -> int:
    print(json.dumps(api.schema(), indent=2))
    return EXIT_OK


# each command calls the Python API's function of the same name
COMMANDS = {"run": _run, "validate": _validate, "schema": _schema, "worker": _worker, "retrain": _retrain,
            "deploy": _deploy, "rollback": _rollback, "predict": _predict, "init": _init}


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    api.set_exit_deadline(INTERRUPT_DEADLINE)
    try:
        return COMMANDS[args.command](args)
    except api.UserInputError as error:
        print(f"tunaflow: error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except api.NoCompleteTrial as error:
        print(f"tunaflow: error: {error}", file=sys.stderr)
        return EXIT_FAILURE
    except KeyboardInterrupt as interrupt:
        return api.report_interrupt(interrupt)


class _PromptExit:
    """The console script's last exit handler: registered before any other (importing the command
    line registers none), it runs after all of them, since exit handlers run last-registered
    first; it flushes the output and ends the process with the command's code, skipping the
    module-by-module teardown that would follow."""

    def __init__(self) -> None:
        self.code: int | None = None  # unknown (an uncaught exception): the interpreter exits as usual

    def __call__(self) -> None:
        if self.code is None:
            return
        import logging

        logging.shutdown()
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except (OSError, ValueError):  # closed, or a reader gone
                pass
        os._exit(self.code)


def run() -> None:
    """The console script: ``main``, then a prompt exit.

    The interpreter exits as usual, its threads joined and every exit handler run (MLflow's
    queues of asynchronous logging flushed, Prefect's log and event workers drained, the
    temporary Prefect server stopped), up to the handler registered here, the last to run;
    the seconds of tearing down torch, MLflow and Prefect module by module are skipped.
    """
    prompt_exit = _PromptExit()
    atexit.register(prompt_exit)
    prompt_exit.code = main()
    sys.exit(prompt_exit.code)


if __name__ == "__main__":
    run()
