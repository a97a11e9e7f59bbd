"""Ensemble rules replayed on kept runs: each rule's registered model scored on the test split.

``bench/model_quality.py --keep DIR`` keeps each run's spec, log and tunaflow home. For
every such run this tool reopens the study, rebuilds the data splits as the run did, and
refits on train + validation each trial a rule below picks (cached in the run's folder as
``refits.pkl``), seeded as the run seeds an ensemble's members. Each rule then chooses from
the trials' stored out-of-sample predictions, exactly as the run's ensemble step does, and
its choice is scored on the test split. Same searches, same refits: the rules differ only
in what they pick, so a difference between two columns is the rule's alone. The column
``registered`` is tunaflow's rule and reproduces the run's own test score.

Rules:
  registered   ensemble selection as tunaflow runs it (log loss; ensemble when it lowers it)
  trial        the study's chosen trial alone (no ensemble)
  metric       the ensemble only if its out-of-sample metric is at least the chosen trial's
  brier        selection by the Brier score instead of log loss (regression: as registered)
  starts       the starting configurations (family defaults) among the candidates
  best start   no search: the starting configuration with the best out-of-sample value, alone

    .venv/bin/python bench/ensemble_replay.py /tmp/keep/glass-1 /tmp/keep/glass-3 ...
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import re
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from model_quality import score  # noqa: E402

RESULT = '{"study"'  # the line ``tunaflow run --json`` ends with, in a kept run's log
RULES = ["registered", "trial", "metric", "brier", "starts", "best start"]


def _brier(output: np.ndarray, y: np.ndarray, task: str) -> float:
    """The Brier score of class probabilities (N, C) for integer labels."""
    return float(np.mean(np.sum((output - np.eye(output.shape[1])[y]) ** 2, axis=1)))


def replay(workdir: Path) -> tuple[str, dict[str, float]]:
    """The run's set name and each rule's test score (accuracy, or R² for regression)."""
    os.environ["TUNAFLOW_HOME"] = str(workdir / "home")  # the study's storage and the spec's paths
    import optuna

    from tunaflow.components.checks import check_experiment
    from tunaflow.components.ensemble_selection import choose_ensemble, selection_loss, weighted_output
    from tunaflow.components.fitted import FittedNetwork
    from tunaflow.components.model_spec import SKLEARN_FAMILIES
    from tunaflow.components.objective import fit_sklearn
    from tunaflow.components.out_of_sample import decode_predictions, study_targets
    from tunaflow.components.resolve import resolve_experiment
    from tunaflow.components.seeding import derive_seed
    from tunaflow.components.selection import best_trial_index
    from tunaflow.components.space import apply_params
    from tunaflow.components.stopping import improves
    from tunaflow.components.spec import load_spec
    from tunaflow.components.trainer import fit_options, train_model
    from tunaflow.tasks.default_preference import ENQUEUED
    from tunaflow.tasks.ensemble import ensemble_candidates
    from tunaflow.tasks.optuna.objective import PREDICTIONS, predicted_trials
    from tunaflow.tasks.optuna.storage import open_storage, storage_url

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    spec_path = next(workdir.glob("*.yaml"))
    log = (workdir / f"{spec_path.stem}.log").read_text()
    spec = load_spec(spec_path)
    splits = check_experiment(spec)
    spec = resolve_experiment(spec, splits)
    study = optuna.load_study(study_name=spec.name, storage=open_storage(storage_url(spec)))
    said = re.findall(r"\(trial #(\d+)\), loss", log)  # the ensemble step's line names the chosen trial
    chosen = int(said[-1]) if said else study.best_trial.number
    settings, task = spec.search.ensemble, splits.task
    X = np.concatenate([splits.X_train, splits.X_val])
    y = np.concatenate([splits.y_train, splits.y_val])
    y_oos = study_targets(splits, spec)
    cache = workdir / "refits.pkl"
    refits = pickle.loads(cache.read_bytes()) if cache.exists() else {}

    def test_output(trial) -> np.ndarray:
        if trial.number not in refits:
            member = apply_params(spec, trial.params)
            seed = derive_seed(spec.seed, "final", trial.number)
            if member.model.family in SKLEARN_FAMILIES:
                refits[trial.number] = fit_sklearn(member, splits, X, y, seed).predict_output(splits.X_test)
            else:  # train_model builds the member's augmentation as the final training does
                module, _ = train_model(member, X, y, seed=seed, epochs=int(trial.user_attrs.get("best_epoch", 1)),
                                        **fit_options(splits))
                refits[trial.number] = FittedNetwork(module, task, member.model.family).predict_output(splits.X_test)
            cache.write_bytes(pickle.dumps(refits))
        return refits[trial.number]

    def test_score(output: np.ndarray) -> float:  # as model_quality.py scores the defaults
        return score(task, splits.y_test, output if task == "regression" else output.argmax(axis=1))["score"]

    metric = spec.search.objective_specs[0].metric
    candidates = ensemble_candidates(study, chosen, settings.candidates)
    taken = {t.number for t in candidates}
    every_start = [t for t in predicted_trials(study) if ENQUEUED in t.system_attrs]
    starts = [t for t in every_start if t.number not in taken]
    best_start = every_start[best_trial_index([t.value for t in every_start],
                                              [t.user_attrs.get("metrics") or {} for t in every_start],
                                              metric, spec.search.direction)]
    # the starts follow the chosen trial and the family leaders, ahead of the other candidates
    leaders = len({t.user_attrs.get("family") for t in candidates})
    with_starts = (candidates[:leaders] + starts + candidates[leaders:])[:settings.candidates]

    def ensemble_score(trials, rule: str) -> float:
        outputs = [decode_predictions(t.user_attrs[PREDICTIONS]) for t in trials]
        choice = choose_ensemble(outputs, y_oos, task, settings.size, metric, splits.n_outputs,
                                 loss=_brier if rule == "brier" and task != "regression" else selection_loss)
        kept = not improves(choice.single_score, choice.score, spec.search.direction == "minimize", 0.0)
        if not (choice.improves and (rule != "metric" or kept)):
            return test_score(test_output(trials[0]))
        return test_score(weighted_output([test_output(trials[i]) for i in choice.members],
                                          [choice.counts[i] for i in choice.members]))

    scores = {"registered": ensemble_score(candidates, "registered"), "trial": test_score(test_output(candidates[0])),
              "metric": ensemble_score(candidates, "metric"), "brier": ensemble_score(candidates, "brier"),
              "starts": ensemble_score(with_starts, "starts"), "best start": test_score(test_output(best_start))}
    # the run's own score: a replay that differs (a refit allowance that turned an ensemble down) says so
    tested = json.loads(next(line for line in log.splitlines() if line.startswith(RESULT)))["test_metrics"]
    ran = tested["r2"] if task == "regression" else tested["accuracy"]
    if abs(ran - scores["registered"]) > 1e-6:
        print(f"{workdir.name}: the replay registered {scores['registered']:.6f}, the run {ran:.6f}", file=sys.stderr)
    return spec.name, scores


def kept_run_problem(folder: Path) -> str | None:
    """Why ``folder`` is not a run kept by ``model_quality.py --keep`` that finished, or None."""
    if not (folder / "home").is_dir() or not (specs := list(folder.glob("*.yaml"))):
        return "not a run kept by model_quality.py --keep (no spec and tunaflow home in it)"
    log = folder / f"{specs[0].stem}.log"
    if not log.is_file() or not any(line.startswith(RESULT) for line in log.read_text().splitlines()):
        return f"{log.name} holds no finished run (its last lines say why)"
    return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("runs", nargs="+", type=Path, help="folders kept by model_quality.py --keep")
    folders = parser.parse_args().runs
    for folder in folders:
        if (problem := kept_run_problem(folder)):
            parser.error(f"{folder}: {problem}")
    by_set = defaultdict(list)
    print("| run | " + " | ".join(RULES) + " |\n|---|" + "---|" * len(RULES))
    for folder in folders:
        name, scores = replay(folder)
        by_set[name].append(scores)
        print(f"| {folder.name} | " + " | ".join(f"{scores[r]:.3f}" for r in RULES) + " |", flush=True)
    print("\n| set | draws | " + " | ".join(RULES) + " |\n|---|---|" + "---|" * len(RULES))
    for name, rows in by_set.items():
        print(f"| {name} | {len(rows)} | " + " | ".join(f"{np.mean([r[k] for r in rows]):.3f}" for k in RULES) + " |")


if __name__ == "__main__":
    main()
