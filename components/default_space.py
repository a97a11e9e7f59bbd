"""The default search space of each model family, for the data at hand, as ``search.space`` entries.

Every range holds the family's own default (scikit-learn's for its estimators, the spec's
for networks), and ``family_defaults`` gives that default as a parameter set: the study
tries each family's default first, so a search can only match or beat the defaults it is
compared with. Where a default sits outside a log scale (a weight decay of 0), the set
holds the range's low end, which trains the same to within noise.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from tunaflow.components.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

# a kernel SVM's fit grows with the square of the rows: past this many training rows one
# trial would eat the default budget
SVC_MAX_ROWS = 10_000


@dataclass(frozen=True)
class DataProfile:
    """What the default space depends on: modality, task and size of the training data."""

    kind: str  # "tabular" | "image" | "text"
    task: str  # "classification" | "regression"
    n_rows: int  # training rows
    n_features: int  # columns of the encoded matrix (pixels for images, tokens per document for text)
    image_side: int | None = None  # the shorter side of an image


def _float(low: float, high: float, log: bool = False) -> FloatDistribution:
    return FloatDistribution(low=low, high=high, log=log)


def _int(low: int, high: int, log: bool = False) -> IntDistribution:
    return IntDistribution(low=low, high=high, log=log)


def _choice(*choices: Any) -> CategoricalDistribution:
    return CategoricalDistribution(choices=list(choices))


# A path means one parameter of the study whichever family's branch samples it, and Optuna
# refuses one name with two kinds of distribution (or two sets of choices), so a path shared
# by families has one distribution here (hgb's float max_features is left out: rf's is a choice).
_ACTIVATION = CategoricalDistribution(choices=["relu", "gelu", "silu", "tanh"])
_MIN_SAMPLES_LEAF = IntDistribution(low=1, high=100, log=True)
_C = FloatDistribution(low=1e-3, high=1e3, log=True)


def _training_space() -> dict:
    return {
        "train.optimizer": _choice("adam", "adamw", "sgd"),
        "train.lr": _float(1e-4, 3e-2, log=True),
        "train.weight_decay": _float(1e-6, 1e-2, log=True),
        "train.batch_size": _choice(32, 64, 128, 256),
        "train.lr_schedule.type": _choice("none", "cosine", "plateau"),
    }


_TRAINING_DEFAULTS = {"train.optimizer": "adam", "train.lr": 1e-3, "train.weight_decay": 1e-6,
                      "train.batch_size": 64, "train.lr_schedule.type": "none"}


def _mlp_space(profile: DataProfile) -> dict:
    return {
        "model.layers": _int(1, 3),
        "model.units": _int(32, 512, log=True),
        "model.activation": _ACTIVATION,
        "model.dropout": _float(0.0, 0.5),
        "model.batch_norm": _choice(False, True),
        **_training_space(),
    }


def _max_blocks(profile: DataProfile) -> int:
    # each block halves the image; stop before it is a single pixel
    side = profile.image_side or 8
    return max(1, min(3, int(math.log2(side)) - 1))


def _cnn_space(profile: DataProfile) -> dict:
    blocks = _max_blocks(profile)
    space: dict = {"model.blocks": _int(1, blocks)} if blocks > 1 else {}
    space.update({
        "model.channels.0": _choice(16, 32, 64),
        **({"model.channels.1": _choice(32, 64, 128)} if blocks > 1 else {}),
        "model.kernel_size": _choice(3, 5),
        "model.dense_units": _choice(64, 128, 256),
        "model.activation": _ACTIVATION,
        "model.dropout": _float(0.0, 0.5),
        "model.batch_norm": _choice(False, True),
        **_training_space(),
        # label-preserving for digits and clothes alike: no flips
        "augment.image.rotate.p": _float(0.0, 0.5),
        "augment.image.rotate.magnitude": _float(5.0, 30.0),
        "augment.image.translate.p": _float(0.0, 0.5),
        "augment.image.scale.p": _float(0.0, 0.5),
        "augment.image.cutout.p": _float(0.0, 0.5),
    })
    return space


def _cnn_defaults(profile: DataProfile) -> dict:
    blocks = _max_blocks(profile)
    values = {"model.blocks": 2, "model.channels.0": 16, "model.channels.1": 32, "model.kernel_size": 3,
              "model.dense_units": 64, "model.activation": "relu", "model.dropout": 0.0, "model.batch_norm": False,
              **_TRAINING_DEFAULTS, "augment.image.rotate.p": 0.0, "augment.image.rotate.magnitude": 15.0,
              "augment.image.translate.p": 0.0, "augment.image.scale.p": 0.0, "augment.image.cutout.p": 0.0}
    if blocks == 1:
        values.pop("model.blocks")
        values.pop("model.channels.1")
    else:
        values["model.blocks"] = min(2, blocks)
    return values


def _hgb_space(profile: DataProfile) -> dict:
    return {
        "model.learning_rate": _float(0.01, 0.3, log=True),
        "model.max_iter": _int(50, 500, log=True),
        "model.max_leaf_nodes": _int(8, 128, log=True),
        "model.min_samples_leaf": _MIN_SAMPLES_LEAF,
        "model.l2_regularization": _float(1e-6, 10.0, log=True),
        "model.early_stopping": _choice(False, True),
    }


# past this many features a forest's tree that weighs all of them at each split costs more than
# ten times one that weighs their square root (the classifier's default), half of them five times
RF_WIDE_FEATURES = 100


def _rf_features(profile: DataProfile) -> CategoricalDistribution:
    # on wide data a classifier's trees weigh no more features than its default's: a fraction of
    # 784 pixels made one trial outlast the whole default budget (bench/REPORT.md)
    if profile.task == "classification" and profile.n_features > RF_WIDE_FEATURES:
        return _choice("sqrt", "log2")
    return _choice("sqrt", "log2", 0.5, 1.0)


def _rf_space(profile: DataProfile) -> dict:
    return {
        "model.n_estimators": _int(50, 500, log=True),
        "model.max_depth": _choice(None, 8, 16, 32),
        "model.min_samples_leaf": _MIN_SAMPLES_LEAF,
        "model.max_features": _rf_features(profile),
    }


def _gamma_choices(profile: DataProfile) -> list:
    # on standardized features "scale" is about 1 / n_features; the others bracket it
    base = 1.0 / max(1, profile.n_features)
    return ["scale", *(float(f"{base * f:.3g}") for f in (0.1, 0.3, 3.0, 10.0))]


def _svc_space(profile: DataProfile) -> dict:
    return {"model.C": _C, "model.gamma": _choice(*_gamma_choices(profile))}


# a text CNN on CPU costs about rows x tokens read; past this a trial outlasts the default budget
TEXT_CNN_MAX_TOKENS = 500_000
TEXT_FAMILIES = ("tfidf", "fasttext", "text_cnn")


def _text_training_space() -> dict:
    # sparse embeddings train with Adam's lazy variant (components/sparse_optimizers.py)
    return {
        "train.optimizer": _choice("adam", "adamw"),
        "train.lr": _float(1e-4, 1e-1, log=True),
        "train.weight_decay": _float(1e-6, 1e-2, log=True),
        "train.batch_size": _choice(32, 64, 128, 256),
        "train.lr_schedule.type": _choice("none", "cosine", "plateau"),
    }


_TEXT_TRAINING_DEFAULTS = {**_TRAINING_DEFAULTS, "train.lr": 5e-3}


def _fasttext_space(profile: DataProfile) -> dict:
    return {"model.dim": _choice(32, 64, 128), "model.bigrams": _choice(False, True),
            "model.dropout": _float(0.0, 0.5), **_text_training_space()}


def _text_cnn_space(profile: DataProfile) -> dict:
    space = {"model.dim": _choice(32, 64, 128), "model.channels": _choice(50, 100, 200),
             "model.dropout": _float(0.0, 0.5), **_text_training_space()}
    if profile.n_features > 100:
        space["model.max_length"] = _choice(100, 200, 400)
    return space


def _tfidf_space(profile: DataProfile) -> dict:
    return {"model.ngram": _choice(1, 2), "model.sublinear_tf": _choice(False, True),
            "model.classifier": _choice("linear_svc", "logreg"), "model.C": _C}


def _text_defaults(family: str, profile: DataProfile) -> dict[str, Any]:
    if family == "tfidf":
        return {"model.ngram": 2, "model.sublinear_tf": True, "model.classifier": "linear_svc", "model.C": 1.0}
    if family == "fasttext":
        return {"model.dim": 64, "model.bigrams": True, "model.dropout": 0.0, **_TEXT_TRAINING_DEFAULTS}
    values = {"model.dim": 128, "model.channels": 100, "model.dropout": 0.5, **_TEXT_TRAINING_DEFAULTS}
    if profile.n_features > 100:
        values["model.max_length"] = 400
    return values


_SPACES = {
    "fasttext": _fasttext_space,
    "text_cnn": _text_cnn_space,
    "tfidf": _tfidf_space,
    "mlp": _mlp_space,
    "cnn": _cnn_space,
    "hgb": _hgb_space,
    "rf": _rf_space,
    "logreg": lambda profile: {"model.C": _C},
    "ridge": lambda profile: {"model.alpha": _float(1e-3, 1e3, log=True)},
    "svc": _svc_space,
}


def family_space(family: str, profile: DataProfile) -> dict:
    """The default space of one family (``search.space`` entries, without ``model.family``)."""
    return _SPACES[family](profile)


def family_defaults(family: str, profile: DataProfile) -> dict[str, Any]:
    """The family's default configuration as values of its default space's paths."""
    if family in TEXT_FAMILIES:
        return _text_defaults(family, profile)
    if family == "mlp":
        return {"model.layers": 2, "model.units": 128, "model.activation": "relu", "model.dropout": 0.0,
                "model.batch_norm": False, **_TRAINING_DEFAULTS}
    if family == "cnn":
        return _cnn_defaults(profile)
    if family == "hgb":
        # scikit-learn stops early by default only past 10,000 rows
        return {"model.learning_rate": 0.1, "model.max_iter": 100, "model.max_leaf_nodes": 31,
                "model.min_samples_leaf": 20, "model.l2_regularization": 1e-6,
                "model.early_stopping": profile.n_rows > 10_000}
    if family == "rf":
        return {"model.n_estimators": 100, "model.max_depth": None, "model.min_samples_leaf": 1,
                "model.max_features": "sqrt" if profile.task == "classification" else 1.0}
    if family == "logreg":
        return {"model.C": 1.0}
    if family == "ridge":
        return {"model.alpha": 1.0}
    return {"model.C": 1.0, "model.gamma": "scale"}


def suggested_families(profile: DataProfile) -> list[str]:
    """The families ``model.family: auto`` chooses from when the spec names none."""
    # ordered cheap to dear: each family's default runs first, in this order, within the budget
    small = profile.n_rows <= SVC_MAX_ROWS
    if profile.kind == "text":
        affordable = profile.n_rows * min(profile.n_features, 400) <= TEXT_CNN_MAX_TOKENS
        return ["tfidf", "fasttext", *(["text_cnn"] if affordable else [])]
    if profile.kind == "image":
        # on a few thousand small images a kernel SVM on the pixels is a strong, cheap baseline
        return ["svc", "cnn", "mlp"] if small else ["cnn", "mlp"]
    linear = "logreg" if profile.task == "classification" else "ridge"
    return ["hgb", "rf", linear, *(["svc"] if small else []), "mlp"]


def family_problem(family: str, profile: DataProfile) -> str | None:
    """Why ``family`` cannot model this data, or None when it can."""
    if family in TEXT_FAMILIES and profile.kind != "text":
        return f"{family} needs a text source"
    if profile.kind == "text" and family not in TEXT_FAMILIES:
        return f"{family} does not read text; use {', '.join(TEXT_FAMILIES)}"
    if family == "cnn" and profile.kind != "image":
        return "cnn needs an image source"
    if family == "logreg" and profile.task == "regression":
        return "logreg is a classifier; for regression use ridge"
    return None


def auto_space(families: list[str], profile: DataProfile) -> dict:
    """``model.family`` as a categorical with each family's default space as its branch."""
    return {"model.family": CategoricalDistribution(
        choices=list(families), branches={f: family_space(f, profile) for f in families})}


def auto_defaults(families: list[str], profile: DataProfile) -> list[dict[str, Any]]:
    """Each family's default configuration, with its ``model.family`` choice."""
    return [{"model.family": f, **family_defaults(f, profile)} for f in families]
