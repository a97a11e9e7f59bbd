"""Model quality: tunaflow's minimal spec against scikit-learn defaults, same split, one run.

For each table (bench/tables.py) tunaflow runs a spec holding only ``name`` and
``data: {source, target}`` through the real CLI (``tunaflow run --json``, a fresh
TUNAFLOW_HOME per table, wall time measured around the process). Beside it, on the very
rows tunaflow tested on (its own split, read back through its data layer) and trained on
the rows tunaflow trained its final model on (train + validation), four scikit-learn
models with default settings: HistGradientBoosting, RandomForest, logistic regression
(ridge for regression) and SVC (SVR), behind the usual default preprocessing (median
imputation with missing indicators, one-hot categoricals, standardization for the linear
model and the SVM; object columns that are mostly unique, names and ids, are left out).

Score: test accuracy for classification, test R^2 for regression (RMSE reported too);
"gap" is tunaflow minus the best default, in points (x100). With ``--seeds`` each set is drawn
again per seed (the spec's seed: its split, folds and trials); a second table averages the
draws, against the default family with the best mean score.

With ``--peers autogluon_medium,autogluon_best,flaml`` each draw also runs those systems on the
same rows (bench/peer_runs.py, from the bench-only environment of ``make bench-env``), each with
tunaflow's time limit (``--time-limit``, default tunaflow's own default search budget; AutoGluon's
default preset, medium_quality, runs without one), and the tables add their scores and wall times.
``--held-out`` runs the tables no change to tunaflow was tried on (bench/tables.py).

    .venv/bin/python bench/model_quality.py [--sets penguins,titanic] [--seeds 0,1,2] [--out bench/results/model_quality.json]
    .venv/bin/python bench/model_quality.py --held-out --seeds 0,1,2 --peers autogluon_medium,autogluon_best,flaml
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).parent))
from peer_runs import missing_bench_env, peer_list, peers_averaged, peers_markdown, run_peers  # noqa: E402
from tables import BENCHMARK_SETS, DEV_SETS, HELD_OUT_SETS, Table, prepare_tables  # noqa: E402

TUNAFLOW = Path(sys.executable).with_name("tunaflow")


def time_limit_args(seconds: float | None) -> list[str]:
    """tunaflow's time limit on its command line: the one place to change when `tunaflow run
    --time-limit S` (search.time_limit, the whole run's wall clock) lands; today the search's timeout."""
    return [] if seconds is None else ["--set", f"search.timeout={seconds:g}"]


def tunaflow_split(table: Table, seed: int = 0) -> dict[str, np.ndarray]:
    """The row indices of tunaflow's own train/validation/test split of the table."""
    from tunaflow.components.data import load_dataset, split_dataset
    from tunaflow.components.seeding import derive_seed
    from tunaflow.components.spec import DataSpec

    spec = DataSpec(source=str(table.path), target=table.target)
    splits = split_dataset(load_dataset(spec), spec, derive_seed(seed, "split"))
    return splits.rows


def _preprocessor(frame: pd.DataFrame, scale: bool):
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    # pandas 3 reads strings as its string dtype, not object
    numeric = [c for c in frame.columns if pd.api.types.is_numeric_dtype(frame[c]) and not
               pd.api.types.is_bool_dtype(frame[c])]
    categorical = [c for c in frame.columns if c not in numeric and frame[c].nunique() < 0.5 * len(frame)]  # names, ids out
    numeric_steps = [SimpleImputer(strategy="median", add_indicator=True)] + ([StandardScaler()] if scale else [])
    return ColumnTransformer([
        ("numeric", make_pipeline(*numeric_steps), numeric),
        ("categorical", make_pipeline(SimpleImputer(strategy="constant", fill_value="missing"),
                                      OneHotEncoder(handle_unknown="ignore", sparse_output=False)), categorical),
    ])


def default_models(task: str) -> dict:
    from sklearn.ensemble import (HistGradientBoostingClassifier, HistGradientBoostingRegressor,
                                  RandomForestClassifier, RandomForestRegressor)
    from sklearn.linear_model import LogisticRegression, Ridge
    from sklearn.svm import SVC, SVR

    if task == "classification":
        return {"hgb": (HistGradientBoostingClassifier(random_state=0), False),
                "rf": (RandomForestClassifier(random_state=0), False),
                "logreg": (LogisticRegression(max_iter=2000), True), "svc": (SVC(), True)}
    return {"hgb": (HistGradientBoostingRegressor(random_state=0), False),
            "rf": (RandomForestRegressor(random_state=0), False),
            "ridge": (Ridge(), True), "svr": (SVR(), True)}


def score(task: str, y_true, y_pred) -> dict:
    from sklearn.metrics import accuracy_score, mean_squared_error, r2_score

    if task == "classification":
        return {"score": float(accuracy_score(y_true, y_pred))}
    return {"score": float(r2_score(y_true, y_pred)), "rmse": float(mean_squared_error(y_true, y_pred) ** 0.5)}


def run_defaults(table: Table, rows: dict[str, np.ndarray], random_states: int = 1) -> dict:
    """Each default model fitted on train + validation and scored on test. With ``random_states``
    above 1, a model whose fit depends on its random state (the forest) is also fitted with states
    0..N-1, and ``states_mean`` is its mean score over them: what the default scores in expectation,
    beside the one state (0) the table uses."""
    from sklearn.base import clone
    from sklearn.compose import TransformedTargetRegressor
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    frame = pd.read_csv(table.path)
    X, y = frame.drop(columns=[table.target]), frame[table.target]
    fit_rows = np.concatenate([rows["train"], rows["val"]])

    def fitted_score(model, scale: bool) -> dict:
        if table.task == "regression" and scale:  # SVR and ridge on a standardized target: the usual default
            model = TransformedTargetRegressor(model, transformer=StandardScaler())
        pipeline = make_pipeline(_preprocessor(X, scale), model)
        pipeline.fit(X.iloc[fit_rows], y.iloc[fit_rows])
        return score(table.task, y.iloc[rows["test"]], pipeline.predict(X.iloc[rows["test"]]))

    results = {}
    for name, (model, scale) in default_models(table.task).items():
        started = time.perf_counter()
        results[name] = {**fitted_score(model, scale), "seconds": time.perf_counter() - started}
        if random_states > 1 and "RandomForest" in type(model).__name__:
            states = [fitted_score(clone(model).set_params(random_state=state), scale)["score"]
                      for state in range(random_states)]
            results[name].update(states=states, states_mean=statistics.mean(states))
    return results


def run_tunaflow(table: Table, workdir: Path, seed: int = 0, time_limit: float | None = None) -> dict:
    spec = workdir / f"{table.name}.yaml"
    seeded = f"seed: {seed}\n" if seed else ""  # seed 0 is the spec's default: the minimal spec as it was
    spec.write_text(f"name: {table.name}\n{seeded}data:\n  source: {table.path.resolve()}\n  target: {table.target}\n")
    env = {**os.environ, "TUNAFLOW_HOME": str(workdir / "home")}
    env.pop("PREFECT_API_URL", None)
    env.pop("MLFLOW_TRACKING_URI", None)
    started = time.perf_counter()
    done = subprocess.run([str(TUNAFLOW), "run", str(spec), "--json", *time_limit_args(time_limit)], env=env,
                          cwd=workdir, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    (workdir / f"{table.name}.log").write_text(done.stdout + done.stderr)
    if done.returncode != 0:
        return {"error": (done.stderr.strip().splitlines() or ["no output"])[-1], "seconds": seconds}
    result = json.loads(done.stdout.strip().splitlines()[-1])
    metrics = result["test_metrics"]
    measured = {"score": metrics["accuracy"]} if table.task == "classification" else \
        {"score": metrics["r2"], "rmse": metrics["rmse"]}
    board = result.get("leaderboard") or []
    family = result.get("best_params", {}).get("model.family", "")
    if board and board[0]["family"] == "ensemble":  # the registered model: members of the families below
        family = f"ensemble of {board[0]['trials']}"
    said = [line.split("ensemble of ", 1)[1] for line in (done.stdout + done.stderr).splitlines()
            if "ensemble of " in line and " candidates: " in line]
    return {**measured, "seconds": seconds, "n_trials": result["n_trials"], "family": family,
            "leaderboard": board, "ensemble": said[-1] if said else None}


def markdown(rows: list[dict]) -> str:
    lines = ["| set | task | rows | tunaflow | family | hgb | rf | linear | svm | best default | gap (pt) | trials | wall (s) |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for row in rows:
        d = row["defaults"]
        values = list(d.values())
        best = max(v["score"] for v in values)
        mine = row["tunaflow"]
        if "error" in mine:
            lines.append(f"| {row['set']} | {row['task']} | {row['rows']} | error: {mine['error']} | | "
                         + " | ".join(f"{v['score']:.3f}" for v in values) + f" | {best:.3f} | | | {mine['seconds']:.0f} |")
            continue
        lines.append(
            f"| {row['set']} | {row['task']} | {row['rows']} | **{mine['score']:.3f}** | {mine['family']} | "
            + " | ".join(f"{v['score']:.3f}" for v in values)
            + f" | {best:.3f} | {100 * (mine['score'] - best):+.1f} | {mine['n_trials']} | {mine['seconds']:.0f} |")
    return "\n".join(lines)


def averaged(rows: list[dict]) -> str:
    """One line per set over its draws (seeds): the mean test score of tunaflow and of each default;
    the best default is the family with the best mean (one model per set, not the best of four
    on each small test set); per-draw gaps against that draw's best default beside it."""
    lines = ["| set | task | draws | tunaflow mean | hgb | rf | linear | svm | best default (mean) | gap (pt) "
             "| per-draw gaps vs that draw's best (pt) | trials | longest wall (s) |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    by_set: dict[str, list[dict]] = {}
    for row in rows:
        if "score" in row["tunaflow"]:
            by_set.setdefault(row["set"], []).append(row)
    for name, draws in by_set.items():
        means = {k: statistics.mean(d["defaults"][k]["score"] for d in draws) for k in draws[0]["defaults"]}
        best = max(means, key=means.get)
        mine = statistics.mean(d["tunaflow"]["score"] for d in draws)
        per_draw = [100 * (d["tunaflow"]["score"] - max(v["score"] for v in d["defaults"].values())) for d in draws]
        lines.append(
            f"| {name} | {draws[0]['task']} | {len(draws)} | **{mine:.3f}** | "
            + " | ".join(f"{v:.3f}" for v in means.values())
            + f" | {means[best]:.3f} ({best}) | {100 * (mine - means[best]):+.1f} | "
            + " / ".join(f"{g:+.1f}" for g in per_draw)
            + f" | {statistics.mean(d['tunaflow']['n_trials'] for d in draws):.0f} | "
            f"{max(d['tunaflow']['seconds'] for d in draws):.0f} |")
    return "\n".join(lines)


def rescore_defaults(path: Path, random_states: int = 1) -> list[dict]:
    """The defaults of a saved run scored again on the same splits (tunaflow's results kept)."""
    rows = json.loads(path.read_text())
    tables = {t.name: t for t in prepare_tables(order=tuple(dict.fromkeys(row["set"] for row in rows)))}
    for row in rows:
        table = tables[row["set"]]
        row["defaults"] = run_defaults(table, tunaflow_split(table, row.get("seed", 0)), random_states)
    path.write_text(json.dumps(rows, indent=1))
    return rows


def against_expected_forest(rows: list[dict]) -> str:
    """Per set, tunaflow's mean against the forest's mean at random state 0 (the tables above) and
    over the random states scored (``--random-states``): how much of a gap the one state explains.
    "state 0's rank": where state 0's mean over the draws stands among every state's (1: the highest)."""
    lines = ["| set | draws | tunaflow mean | rf, state 0 | rf, mean over states | state 0's rank | gap vs state 0 (pt) | "
             "gap vs states (pt) |", "|---|---|---|---|---|---|---|---|"]
    by_set: dict[str, list[dict]] = {}
    for row in rows:
        if "score" in row["tunaflow"] and "states_mean" in row["defaults"].get("rf", {}):
            by_set.setdefault(row["set"], []).append(row)
    for name, draws in by_set.items():
        mine = statistics.mean(d["tunaflow"]["score"] for d in draws)
        first = statistics.mean(d["defaults"]["rf"]["score"] for d in draws)
        spread = statistics.mean(d["defaults"]["rf"]["states_mean"] for d in draws)
        rank = "-"
        if all("states" in d["defaults"]["rf"] for d in draws):  # runs saved before the states were kept lack them
            per_state = [statistics.mean(scores) for scores in zip(*(d["defaults"]["rf"]["states"] for d in draws))]
            rank = f"{1 + sum(m > per_state[0] for m in per_state)} of {len(per_state)}"
        lines.append(f"| {name} | {len(draws)} | {mine:.3f} | {first:.3f} | {spread:.3f} | {rank} | "
                     f"{100 * (mine - first):+.1f} | {100 * (mine - spread):+.1f} |")
    return "\n".join(lines)


def ensemble_against_single(rows: list[dict]) -> str:
    """Of a saved run, each draw that registered an ensemble: its test score beside the study's
    chosen trial's (the leaderboard's first family row, refit and tested in the same run), and
    whether the ensemble's out-of-sample value of the study's metric was below that trial's (the
    draws a rule "never lose the study's metric" would have given to the trial alone)."""
    lines = ["| set | seed | ensemble test | chosen trial | its test | gain (pt) | out-of-sample metric: ensemble vs trial |",
             "|---|---|---|---|---|---|---|"]
    gains, below = [], []
    for row in rows:
        mine = row["tunaflow"]
        board = mine.get("leaderboard") or []
        if not board or board[0]["family"] != "ensemble" or len(board) < 2:
            continue
        said = re.search(r"out-of-sample \S+ ([\d.]+) vs ([\d.]+)", mine.get("ensemble") or "")
        pooled, single = (float(said[1]), float(said[2])) if said else (float("nan"), float("nan"))
        gain = 100 * (mine["score"] - board[1]["test_score"])
        gains.append(gain)
        if pooled < single:
            below.append(gain)
        lines.append(f"| {row['set']} | {row.get('seed', 0)} | {mine['score']:.3f} | {board[1]['family']} | "
                     f"{board[1]['test_score']:.3f} | {gain:+.1f} | {pooled:.4f} vs {single:.4f} |")
    if gains:
        lines.append(f"\nensemble minus chosen trial: mean {statistics.mean(gains):+.2f} pt over {len(gains)} draws "
                     f"({sum(g > 0 for g in gains)} higher, {sum(g < 0 for g in gains)} lower)")
    if below:
        lines.append(f"where the ensemble's out-of-sample metric was below the trial's: mean {statistics.mean(below):+.2f} pt "
                     f"over {len(below)} draws ({sum(g > 0 for g in below)} higher, {sum(g < 0 for g in below)} lower)")
    return "\n".join(lines)


def _seed_list(text: str) -> list[int]:
    try:
        return [int(s) for s in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a comma-separated list of integers: {text!r}") from None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sets", default="", help="comma-separated set names (default: all)")
    parser.add_argument("--dev", action="store_true",
                        help=f"the development tables ({', '.join(DEV_SETS)}), not the benchmark's")
    parser.add_argument("--held-out", action="store_true",
                        help=f"the tables no change was tried on ({', '.join(HELD_OUT_SETS)}; needs `make bench-env`)")
    parser.add_argument("--peers", type=peer_list, default=[],
                        help="comma-separated peers to run beside tunaflow: autogluon_medium, autogluon_best, flaml")
    parser.add_argument("--time-limit", type=float, default=None,
                        help="seconds: tunaflow's limit and the peers' (default: tunaflow's default budget)")
    parser.add_argument("--seed", type=int, default=0,
                        help="the spec's seed (tunaflow's split, folds and trials): another draw of the same sets")
    parser.add_argument("--seeds", default=None, type=_seed_list,
                        help="comma-separated seeds: each set run once per seed, the table averaging them")
    parser.add_argument("--out", default=str(Path(__file__).parent / "results" / "model_quality.json"))
    parser.add_argument("--rescore-defaults", action="store_true",
                        help="only score the defaults again for the saved run in --out")
    parser.add_argument("--random-states", type=int, default=1,
                        help="with --rescore-defaults: also fit the forest with this many random states and "
                             "compare tunaflow with its mean over them")
    parser.add_argument("--ensembles", action="store_true",
                        help="only compare, in the saved runs of --out (comma-separated files), each registered "
                             "ensemble with the study's chosen trial on the test split")
    parser.add_argument("--keep", default=None,
                        help="a folder to keep each run's spec, log and tunaflow home in (default: a temporary one)")
    args = parser.parse_args()
    if args.random_states < 1 or (args.random_states > 1 and not args.rescore_defaults):
        parser.error("--random-states: a count of at least 1, used with --rescore-defaults")
    if (args.peers or args.held_out) and (why := missing_bench_env()):
        parser.error(why)
    if args.rescore_defaults or args.ensembles:  # both read saved runs
        files = [Path(f) for f in args.out.split(",")] if args.ensembles else [Path(args.out)]
        if (missing := [str(f) for f in files if not f.is_file()]):
            parser.error(f"--out: no saved run at {', '.join(missing)}")
    if args.rescore_defaults:
        rows = rescore_defaults(Path(args.out), args.random_states)
        print(markdown(rows))
        if args.random_states > 1:
            print()
            print(against_expected_forest(rows))
        return
    if args.ensembles:
        print(ensemble_against_single([r for f in files for r in json.loads(f.read_text())]))
        return
    known = BENCHMARK_SETS + DEV_SETS + HELD_OUT_SETS
    if args.sets and (unknown := sorted(set(args.sets.split(",")) - set(known))):
        parser.error(f"--sets: no set {', '.join(unknown)}")
    order = DEV_SETS if args.dev else HELD_OUT_SETS if args.held_out else BENCHMARK_SETS
    tables = prepare_tables(order=tuple(n for n in known if n in args.sets.split(",")) if args.sets else order)
    from tunaflow.components.resolve import DEFAULT_TIMEOUT_S  # tunaflow's default budget: the peers' limit
    limit = args.time_limit if args.time_limit is not None else DEFAULT_TIMEOUT_S
    seeds = args.seeds or [args.seed]
    rows = []
    with tempfile.TemporaryDirectory(prefix="tunaflow-quality-") as tmp:
        if args.keep:
            tmp = args.keep
            if (taken := [f"{t.name}-{s}" for t in tables for s in seeds if (Path(tmp) / f"{t.name}-{s}").exists()]):
                parser.error(f"--keep: {tmp} already holds {', '.join(taken)}")
            Path(tmp).mkdir(parents=True, exist_ok=True)
        for table, seed in ((t, s) for t in tables for s in seeds):
            rows_of = tunaflow_split(table, seed)
            defaults = run_defaults(table, rows_of)
            workdir = Path(tmp) / f"{table.name}-{seed}"
            workdir.mkdir()
            mine = run_tunaflow(table, workdir, seed, args.time_limit)
            n = sum(len(v) for v in rows_of.values())
            rows.append({"set": table.name, "seed": seed, "task": table.task, "rows": n, "origin": table.origin,
                         "tunaflow": mine, "defaults": defaults})
            best = max(v["score"] for v in defaults.values())
            print(f"{table.name:12s} seed {seed} tunaflow {mine.get('score', float('nan')):.4f} "
                  f"({mine['seconds']:.0f} s, {mine.get('family', '')})  best default {best:.4f}  "
                  + mine.get("error", ""), flush=True)
            if args.peers:  # after tunaflow, one at a time: no run shares the CPUs with another
                rows[-1].update(time_limit=limit, peers=run_peers(args.peers, table, rows_of, limit, seed, workdir))
                print("  peers: " + ", ".join(f"{s} {r.get('score', float('nan')):.4f} ({r['seconds']:.0f} s)"
                                              + f" {r.get('error', '')}".rstrip() for s, r in rows[-1]["peers"].items()),
                      flush=True)
            Path(args.out).parent.mkdir(parents=True, exist_ok=True)
            Path(args.out).write_text(json.dumps(rows, indent=1))
            if "error" in mine:
                print((workdir / f"{table.name}.log").read_text()[-3000:], file=sys.stderr)
    print()
    print(markdown(rows))
    if len(seeds) > 1:
        print()
        print(averaged(rows))
    if args.peers:
        print()
        print(peers_markdown(rows, args.peers))
        if len(seeds) > 1:
            print()
            print(peers_averaged(rows, args.peers))
    gaps = [100 * (r["tunaflow"]["score"] - max(v["score"] for v in r["defaults"].values()))
            for r in rows if "score" in r["tunaflow"]]
    if gaps:
        print(f"\nmedian gap {statistics.median(gaps):+.2f} pt, worst {min(gaps):+.2f} pt, "
              f"longest run {max(r['tunaflow']['seconds'] for r in rows):.0f} s")


if __name__ == "__main__":
    main()
