"""Checks that a spec's training settings fit the task of the data, before anything runs.

Which families can model the data at all (cnn needs images, logreg classes) is decided with
the search space (``default_space.family_problem``); here: what a network would be trained
with (loss, output layer, early-stopping monitor) against classification or regression.
"""

from __future__ import annotations

from tunaflow.components.distributions import CategoricalDistribution
from tunaflow.components.errors import SpecError
from tunaflow.components.model_spec import NETWORK_FAMILIES, TEXT_FAMILIES
from tunaflow.components.spec import ExperimentSpec


def trained_families(spec: ExperimentSpec) -> list[str]:
    """The families a study may train: the searched ``model.family`` choices, or the spec's one."""
    entry = spec.search.searched.get("model.family")
    if isinstance(entry, CategoricalDistribution):
        return [str(choice) for choice in entry.choices]
    if spec.model.family == "auto":
        return list(spec.model.families or NETWORK_FAMILIES)
    return [spec.model.family]


def check_model_fits(spec: ExperimentSpec, task: str) -> None:
    """SpecError naming the field when a network's settings cannot train for ``task``."""
    families = trained_families(spec)
    if not any(family in NETWORK_FAMILIES for family in families):
        return
    if spec.train.optimizer == "rmsprop" and any(family in TEXT_FAMILIES for family in families):
        raise SpecError("train.optimizer", "rmsprop cannot train the sparse embeddings of text networks; "
                                           "use adam, adamw or sgd")
    loss = spec.train.loss
    if loss != "auto" and (loss == "cross_entropy") == (task == "regression"):
        fits = "mse or huber" if task == "regression" else "cross_entropy"
        raise SpecError("train.loss", f"{loss} does not fit a {task} task; use auto or {fits}")
    if task != "regression":
        return
    if spec.train.early_stopping.enabled and spec.train.early_stopping.monitor == "valid_acc":
        raise SpecError("train.early_stopping.monitor", "valid_acc is for classification; use valid_loss")
    if getattr(spec.model, "output", "softmax") == "sigmoid":
        raise SpecError("model.output", "sigmoid is for classification; a regression network has one linear output")
