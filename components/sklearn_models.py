"""scikit-learn families as estimators on the encoded matrix, seeded and sized for a worker process.

The encoded matrix ends with ``len(embedded)`` category-code columns (``DataSplits.embedded``):
gradient boosting reads them as categorical features, the forest as ordinal ones, and the
linear models and the SVM one-hot encode them (the dense columns standardized).
"""

from __future__ import annotations

from contextlib import nullcontext
from typing import Sequence

import numpy as np

from tunaflow.components.errors import SpecError

HGB_MAX_CATEGORIES = 255  # HistGradientBoosting's max_bins: codes beyond it are read as numbers


def _linear_input(n_features: int, embedded: Sequence[int]):
    """Standardized dense columns, one-hot category codes."""
    from sklearn.compose import ColumnTransformer
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    if not embedded:
        return StandardScaler()
    n_dense = n_features - len(embedded)
    codes = OneHotEncoder(categories=[np.arange(card, dtype=np.float64) for card in embedded],
                          handle_unknown="ignore")
    return ColumnTransformer([("dense", StandardScaler(), list(range(n_dense))),
                              ("codes", codes, list(range(n_dense, n_features)))])


def _hgb(model, task: str, n_features: int, embedded: Sequence[int], seed: int):
    from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor

    categorical = np.zeros(n_features, dtype=bool)
    n_dense = n_features - len(embedded)
    for i, card in enumerate(embedded):
        categorical[n_dense + i] = card <= HGB_MAX_CATEGORIES
    kind = HistGradientBoostingRegressor if task == "regression" else HistGradientBoostingClassifier
    return kind(learning_rate=model.learning_rate, max_iter=model.max_iter, max_leaf_nodes=model.max_leaf_nodes,
                min_samples_leaf=model.min_samples_leaf, l2_regularization=model.l2_regularization,
                max_features=model.max_features, early_stopping=model.early_stopping,
                categorical_features=categorical if categorical.any() else None, random_state=seed)


def _rf(model, task: str, n_features: int, embedded: Sequence[int], seed: int):
    from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor

    kind = RandomForestRegressor if task == "regression" else RandomForestClassifier
    # one job: a worker is a process of its own, and workers fill the cores
    return kind(n_estimators=model.n_estimators, max_depth=model.max_depth, min_samples_leaf=model.min_samples_leaf,
                max_features=model.max_features, random_state=seed, n_jobs=1)


def _logreg(model, task: str, n_features: int, embedded: Sequence[int], seed: int):
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    if task == "regression":
        raise SpecError("model.family", "logreg is for classification; use ridge")
    return make_pipeline(_linear_input(n_features, embedded),
                         LogisticRegression(C=model.C, max_iter=model.max_iter, random_state=seed))


def _ridge(model, task: str, n_features: int, embedded: Sequence[int], seed: int):
    from sklearn.linear_model import Ridge, RidgeClassifier
    from sklearn.pipeline import make_pipeline

    kind = Ridge if task == "regression" else RidgeClassifier
    return make_pipeline(_linear_input(n_features, embedded), kind(alpha=model.alpha, random_state=seed))


def _svc(model, task: str, n_features: int, embedded: Sequence[int], seed: int):
    from sklearn.compose import TransformedTargetRegressor
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import SVR

    from tunaflow.components.tempered_svc import TemperedSVC

    if task == "regression":
        # SVR's epsilon tube and its C bound are in the target's units: on a price in the tens of
        # thousands the default C cannot move off the median; it learns the standardized target
        svr = make_pipeline(_linear_input(n_features, embedded), SVR(C=model.C, gamma=model.gamma))
        return TransformedTargetRegressor(svr, transformer=StandardScaler())
    head = TemperedSVC(C=model.C, gamma=model.gamma, random_state=seed)  # probabilities of a fitted temperature
    return make_pipeline(_linear_input(n_features, embedded), head)


class IdGrams:
    """TfidfVectorizer's analyzer for a row of token ids: the word n-grams up to ``n`` (as id
    strings), padding and unknown words left out. A class, so a fitted pipeline pickles."""

    def __init__(self, n: int = 1):
        self.n = n

    def __call__(self, row) -> list[str]:
        ids = np.asarray(row)
        ids = ids[ids > 0].astype(np.int64).tolist()
        grams = [str(i) for i in ids if i > 1]
        for size in range(2, self.n + 1):
            grams += ["_".join(map(str, ids[k:k + size])) for k in range(len(ids) - size + 1)
                      if min(ids[k:k + size]) > 1]
        return grams


def _tfidf(model, task: str, n_features: int, embedded: Sequence[int], seed: int):
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.svm import LinearSVC

    if task == "regression":
        raise SpecError("model.family", "tfidf is for classification")
    head = (LinearSVC(C=model.C, random_state=seed) if model.classifier == "linear_svc"
            else LogisticRegression(C=model.C, max_iter=1000, random_state=seed))
    vectorizer = TfidfVectorizer(analyzer=IdGrams(model.ngram), sublinear_tf=model.sublinear_tf,
                                 min_df=model.min_df, dtype=np.float32)
    return make_pipeline(vectorizer, head)


_BUILDERS = {"hgb": _hgb, "rf": _rf, "logreg": _logreg, "ridge": _ridge, "svc": _svc, "tfidf": _tfidf}


def build_estimator(model, task: str, n_features: int, embedded: Sequence[int] = (), seed: int = 0):
    """The unfitted estimator of a scikit-learn family's spec (``HGBSpec``, ``RFSpec``, ...).

    ``n_features``: columns of the (flattened) encoded matrix; ``embedded``: cardinalities
    of its trailing category-code columns; ``task``: classification or regression.
    """
    builder = _BUILDERS.get(model.family)
    if builder is None:
        raise ValueError(f"model.family: {model.family} is not a scikit-learn family")
    return builder(model, task, n_features, tuple(embedded), seed)


def fit_estimator(estimator, X: np.ndarray, y: np.ndarray, single_thread: bool = False):
    """Fit ``estimator``; ``single_thread`` caps OpenMP/BLAS threads (HistGradientBoosting's
    loop among them), for worker processes that already fill the cores."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1) if single_thread else nullcontext():
        return estimator.fit(X, y)


def describe_estimator(estimator) -> str:
    """A text summary: the estimator (steps and set parameters) and every parameter."""
    params = "\n".join(f"{k} = {v!r}" for k, v in sorted(estimator.get_params(deep=True).items())
                       if not hasattr(v, "get_params"))
    return f"{estimator!r}\n\nparameters:\n{params}\n"
