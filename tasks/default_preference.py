"""Stage helper: the study's best trial against the best of the configurations it started from.

A study that starts from defaults (each family's, under the default space) or from a warm start
registers that start unless its best trial leads it clearly (components/default_preference.py):
on a small table, the best of many cross-validation scores is the optimistic one.
"""

from __future__ import annotations

import optuna

from tunaflow.components.data import DataSplits
from tunaflow.components.default_preference import STANDARD_ERRORS, lead_over
from tunaflow.components.out_of_sample import decode_predictions, study_targets
from tunaflow.components.selection import best_trial_index
from tunaflow.components.spec import ExperimentSpec
from tunaflow.tasks.optuna.objective import PREDICTIONS, predicted_trials

ENQUEUED = "fixed_params"  # Optuna's system attribute on a trial that ran enqueued parameters


def _name(trial: optuna.trial.FrozenTrial) -> str:
    family = trial.user_attrs.get("family")
    return f"#{trial.number}" + (f" ({family})" if family else "")


def prefer_start(study: optuna.Study, spec: ExperimentSpec, chosen: optuna.trial.FrozenTrial,
                 splits: DataSplits, log) -> optuna.trial.FrozenTrial:
    """``chosen`` (the best trial), or the best starting configuration when ``chosen`` does not lead it
    by more than one standard error on the rows every trial predicted; ``log`` says which and why."""
    if not spec.search.prefer_start or spec.search.multi_objective or ENQUEUED in chosen.system_attrs:
        return chosen
    starts = [t for t in predicted_trials(study) if ENQUEUED in t.system_attrs]
    if not starts or PREDICTIONS not in chosen.user_attrs:
        return chosen
    metric = spec.search.objective_specs[0].metric
    start = starts[best_trial_index([t.value for t in starts], [t.user_attrs.get("metrics") or {} for t in starts],
                                    metric, spec.search.direction)]
    y = study_targets(splits, spec)
    best_output, start_output = (decode_predictions(t.user_attrs[PREDICTIONS]) for t in (chosen, start))
    if not len(best_output) == len(start_output) == len(y):  # a study resumed on other rows
        return chosen
    lead = lead_over(best_output, start_output, y, splits.task, metric)
    verdict = (f"trial {_name(chosen)} leads the best start {_name(start)} by {lead.gain:.4g} ± {lead.standard_error:.2g} "
               f"per row ({metric}, {lead.rows} out-of-sample rows)")
    if lead.clear:
        log.info(f"{verdict}: more than {STANDARD_ERRORS:g} standard error, the best trial is kept")
        return chosen
    log.info(f"{verdict}: within {STANDARD_ERRORS:g} standard error, so the start {_name(start)} is chosen "
             "(search.prefer_start: false keeps the best trial)")
    return start
