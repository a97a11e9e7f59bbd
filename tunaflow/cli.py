"""The command line: parse, validate, call a flow. Exit 0 ok, 2 bad input, 1 unexpected failure."""

from __future__ import annotations

import argparse
import json
import os
import sys

EXIT_OK, EXIT_FAILURE, EXIT_BAD_INPUT = 0, 1, 2
INTERRUPT_DEADLINE = 4.5  # seconds from Ctrl-C to exit 130, the run's state cleaned up or not


def _parser() -> argparse.ArgumentParser:
    from tunaflow.api import version

    parser = argparse.ArgumentParser(prog="tunaflow", description="AutoML flows for neural networks.")
    parser.add_argument("--version", action="version", version=f"tunaflow {version()}")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run a spec end to end as a Prefect flow")
    run.add_argument("spec", help="experiment spec (YAML)")
    run.add_argument("--set", dest="overrides", action="append", default=[], metavar="PATH=VALUE",
                     help="override a spec field, e.g. --set train.lr=0.01 (repeatable)")
    run.add_argument("--json", action="store_true", help="print a JSON summary as the last line of stdout")
    run.add_argument("--no-learning-curve", action="store_true",
                     help="skip the learning curve of the best configuration (train.learning_curve.enabled)")
    validate = sub.add_parser("validate", help="check a spec and its data, print the resolved search space; "
                                               "change nothing")
    validate.add_argument("spec")
    validate.add_argument("--set", dest="overrides", action="append", default=[], metavar="PATH=VALUE")
    validate.add_argument("--json", action="store_true", help="print the resolved settings as one JSON object")
    init = sub.add_parser("init", help="write a commented starter spec for a data file")
    init.add_argument("data", help="a .csv/.parquet/.npz file, a folder of class folders, or a bundled set")
    init.add_argument("--target", help="the target column (default: the table's last column)")
    init.add_argument("--out", help="the spec file to write (default: NAME.yaml here); never overwritten")
    sub.add_parser("schema", help="print the JSON schema of the spec")
    worker = sub.add_parser("worker", help="join a spec's study from another process or machine and run "
                                           "trials until its budget is spent")
    worker.add_argument("spec")
    worker.add_argument("--set", dest="overrides", action="append", default=[], metavar="PATH=VALUE")
    _add_registry_commands(sub)
    return parser


def _add_registry_commands(sub) -> None:
    """Retraining, deployment and consumers of the registered model (issue 7)."""
    retrain = sub.add_parser("retrain", help="train a challenger once; promote it only if it beats the champion")
    retrain.add_argument("spec")
    retrain.add_argument("--set", dest="overrides", action="append", default=[], metavar="PATH=VALUE")
    retrain.add_argument("--json", action="store_true", help="print a JSON summary as the last line of stdout")
    deploy = sub.add_parser("deploy", help="serve the spec's retraining on a cron schedule (runs until stopped)")
    deploy.add_argument("spec")
    deploy.add_argument("--set", dest="overrides", action="append", default=[], metavar="PATH=VALUE")
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
    if result.leaderboard:
        from tunaflow.components.leaderboard import leaderboard_text, rows_from_json

        print(f"\nleaderboard (model families, best first)\n{leaderboard_text(rows_from_json(result.leaderboard))}")


def _more_data(verdict: bool | None) -> str:
    if verdict is None:
        return "learning curve skipped"
    return "validation score still improving at full size: more data would help" if verdict else \
        "validation score flat at full size"


def _run(args) -> int:
    from tunaflow import api

    result = api.run(args.spec, args.overrides, learning_curve=False if args.no_learning_curve else None)
    _print_summary(result)
    if args.json:
        print(json.dumps(result.to_json()))
    return EXIT_OK


def _retrain(args) -> int:
    from tunaflow import api

    result = api.retrain(args.spec, args.overrides)
    _print_summary(result)
    print(f"decision     {result.decision}: {result.reason}\n"
          f"champion     models:/{result.registered_model}/{result.champion_version}")
    if args.json:
        print(json.dumps(result.to_json()))
    return EXIT_OK


def _deploy(args) -> int:
    from tunaflow import api

    api.validate(args.spec, args.overrides, resumes_study=False)
    # the deployment keeps the spec as written: each scheduled run resolves it (task, space,
    # budget) against the data of that day, which may have grown past a family's limit
    spec = api.load_spec(args.spec, args.overrides)
    from tunaflow.deployments import retrain as retrain_deployment  # imports Prefect's deployment machinery

    if args.prefect_yaml:
        command = " ".join(["tunaflow deploy", args.spec, "--cron", repr(args.cron), "--timezone", args.timezone,
                            *[f"--set {o}" for o in args.overrides], "--work-pool", args.work_pool,
                            "--prefect-yaml", args.prefect_yaml])
        path = retrain_deployment.write_prefect_yaml(args.prefect_yaml, spec, args.cron, args.timezone,
                                                     args.work_pool, command)
        print(f"wrote {path}: deployment {retrain_deployment.deployment_name(spec)} for work pool {args.work_pool}")
        return EXIT_OK
    retrain_deployment.cron_schedule(args.cron, args.timezone)  # bad input before a server starts
    from tunaflow.tasks.prefect.server import start_temporary_server

    # a long-running deployment needs the server's scheduler: a full server, not an ephemeral one
    server = start_temporary_server(scheduler=True)
    try:
        if server is not None:
            server.wait_ready()
        retrain_deployment.serve_retraining(spec, args.cron, args.timezone)
    finally:
        if server is not None:
            server.stop()
    return EXIT_OK


def _rollback(args) -> int:
    from tunaflow.components.errors import UserInputError
    from tunaflow.tasks.mlflow.registry import rollback_alias
    from tunaflow.tasks.settings import missing_sqlite_file, tracking_uri

    if missing_sqlite_file(tracking_uri()):
        raise UserInputError(args.name, "no registered model of that name (empty registry)")
    from tunaflow.tasks.mlflow.tracking import use_tracking_store

    use_tracking_store()
    before, after = rollback_alias(args.name, args.alias)
    print(f"models:/{args.name}@{args.alias}: version {before} -> {after}")
    return EXIT_OK


def _predict(args) -> int:
    from tunaflow import api

    n = api.predict(args.model_uri, args.input, args.out, batch_size=args.batch_size, progress=True)
    print(f"scored {n} row(s) with {args.model_uri} -> {args.out}")
    return EXIT_OK


def _worker(args) -> int:
    from tunaflow import api

    report = api.worker(args.spec, args.overrides)
    print(f"worker {report.worker}: {report.trials} trial(s) of study {report.study} in {report.seconds:.0f}s")
    return EXIT_OK


def _validate(args) -> int:
    from tunaflow import api

    from tunaflow.components.resolve import describe_resolution
    from tunaflow.components.space import describe_space, format_space

    spec = api.validate(args.spec, args.overrides)
    print(f"{args.spec}: ok ({spec.name}: {spec.model.family} on {spec.data.source}, {spec.data.task}, "
          f"{describe_resolution(spec)})")
    print(f"search space ({spec.search.metric}, {spec.search.direction}):")
    print("\n".join(format_space(spec.search.searched)) or "  (empty: one configuration)")
    if args.json:
        search = spec.search
        print(json.dumps({"spec": args.spec, "name": spec.name, "task": spec.data.task, "family": spec.model.family,
                          "metric": search.metric, "n_trials": search.trial_budget, "timeout": search.timeout,
                          "space": describe_space(search.searched)}))
    return EXIT_OK


def _init(args) -> int:
    from tunaflow import api

    result = api.init(args.data, args.target, args.out)
    if result.target_guessed:
        print(f"target: {result.target!r}, the last column (use --target COL for another)")
    what = f"{result.kind} {result.task}" + (f" of {result.target!r}" if result.target else "")
    print(f"wrote {result.path}: {what}, searching {', '.join(result.families)}")
    print(f"next: tunaflow run {result.path}")
    return EXIT_OK


def _schema(args) -> int:
    from tunaflow import api

    print(json.dumps(api.schema(), indent=2))
    return EXIT_OK


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    from tunaflow.components.errors import NoCompleteTrial, UserInputError
    from tunaflow.components.interrupt_guard import set_exit_deadline

    set_exit_deadline(INTERRUPT_DEADLINE)

    try:
        return {"run": _run, "validate": _validate, "schema": _schema, "worker": _worker, "retrain": _retrain,
                "deploy": _deploy, "rollback": _rollback, "predict": _predict, "init": _init}[args.command](args)
    except UserInputError as error:
        print(f"tunaflow: error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except NoCompleteTrial as error:
        print(f"tunaflow: error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt as interrupt:
        from tunaflow.components.interrupt_guard import console_line, exit_code, silence_console

        console_line(f"tunaflow: {interrupt}" if str(interrupt) else "tunaflow: interrupted")
        silence_console()  # the one line is said: what exiting libraries print after it is noise
        return exit_code(interrupt)


def run() -> None:
    """The console script: ``main``, then a prompt exit.

    Tearing down torch, MLflow and Prefect module by module takes seconds after the work
    is done; exit handlers run and output is flushed, then the process ends.
    """
    code = main()
    import atexit
    import logging

    atexit._run_exitfuncs()
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    run()
