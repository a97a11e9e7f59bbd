"""The model section of the spec: a network (mlp, cnn), a scikit-learn family, or auto.

``auto`` lets the study choose the family: the resolved search space holds ``model.family``
as a categorical with one conditional branch per family (components/default_space.py).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, Union

from pydantic import Field, model_validator

from tunaflow.components.spec_section import SpecSection as _Section

ACTIVATIONS = ("relu", "leaky_relu", "elu", "selu", "gelu", "silu", "tanh", "sigmoid")

Rate = Annotated[float, Field(ge=0, lt=1)]
Coefficient = Annotated[float, Field(ge=0)]


def per_layer(values: float | list, count: int) -> list:
    """A value per layer: a scalar for all, or a list whose last item repeats."""
    if not isinstance(values, list):
        return [values] * count
    if not values:
        return [0.0] * count
    return (values + [values[-1]] * count)[:count]


class _ModelBase(_Section):
    activation: Literal[ACTIVATIONS] = "relu"
    dropout: Rate | list[Rate] = Field(
        default=0.0, description="Dropout rate, or one rate per hidden layer (mlp) / per block and head (cnn).")
    batch_norm: bool = False
    batch_norm_position: Literal["before", "after"] = Field(
        default="before", description="Batch normalization before or after the activation.")
    output: Literal["softmax", "sigmoid"] = Field(
        default="softmax", description="Output layer: softmax over classes, or one sigmoid unit (two classes).")


class MLPSpec(_ModelBase):
    """A dense network; ``units`` gives each hidden layer's width."""

    family: Literal["mlp"] = "mlp"
    layers: int = Field(default=2, ge=1, le=16, description="Number of hidden layers.")
    units: list[Annotated[int, Field(ge=1, le=8192)]] = Field(
        default_factory=lambda: [128, 64],
        description="Width per hidden layer; a shorter list repeats its last width.",
    )
    shrink: float | None = Field(
        default=None, gt=0, le=1, description="If set, layer i has units[0] * shrink**i units.")

    @model_validator(mode="before")
    @classmethod
    def _units_as_list(cls, data: Any) -> Any:
        if isinstance(data, dict) and isinstance(data.get("units"), int):
            data = {**data, "units": [data["units"]]}
        return data

    @model_validator(mode="after")
    def _one_width_per_layer(self) -> "MLPSpec":
        if not self.units:
            raise ValueError("units needs at least one width")
        if self.shrink is not None:
            widths = [max(1, round(self.units[0] * self.shrink ** i)) for i in range(self.layers)]
        else:
            widths = per_layer(self.units, self.layers)
        object.__setattr__(self, "units", widths)
        return self

    def dropout_rates(self) -> list[float]:
        return per_layer(self.dropout, self.layers)


class CNNSpec(_ModelBase):
    """Convolution blocks (conv, [batch norm], activation, pool) and a dense head."""

    family: Literal["cnn"] = "cnn"
    blocks: int = Field(default=2, ge=1, le=8, description="Number of conv blocks.")
    channels: list[Annotated[int, Field(ge=1, le=1024)]] = Field(
        default_factory=lambda: [16, 32], min_length=1,
        description="Channels per conv block; a shorter list repeats its last value.")
    kernel_size: int = Field(default=3, ge=1, le=11)
    pool: Literal["max", "avg", "none"] = "max"
    dense_units: int = Field(default=64, ge=1, le=8192, description="Width of the dense head.")

    @model_validator(mode="after")
    def _one_width_per_block(self) -> "CNNSpec":
        object.__setattr__(self, "channels", per_layer(self.channels, self.blocks))
        return self

    def dropout_rates(self) -> list[float]:
        """One rate per conv block, then the head's."""
        if isinstance(self.dropout, list):
            return per_layer(self.dropout, self.blocks + 1)
        return [0.0] * self.blocks + [self.dropout]


class AutoModelSpec(_Section):
    """The family is searched: each trial's ``model.family`` comes from the search space."""

    family: Literal["auto"] = "auto"
    families: list[Literal["mlp", "cnn", "hgb", "rf", "logreg", "ridge", "svc", "fasttext", "text_cnn",
                           "tfidf"]] | None = Field(
        default=None, description="Families the study chooses from; default: those suited to the data.")


class HGBSpec(_Section):
    """scikit-learn's HistGradientBoosting (classifier or regressor, by the task)."""

    family: Literal["hgb"] = "hgb"
    learning_rate: float = Field(default=0.1, gt=0, le=1)
    max_iter: int = Field(default=100, ge=1, le=5000)
    max_leaf_nodes: int = Field(default=31, ge=2, le=4096)
    min_samples_leaf: int = Field(default=20, ge=1)
    l2_regularization: float = Field(default=0.0, ge=0)
    max_features: float = Field(default=1.0, gt=0, le=1, description="Share of features each split considers.")
    early_stopping: bool = Field(default=True, description="Stop adding trees when an inner validation share stalls.")


class RFSpec(_Section):
    """scikit-learn's RandomForest (classifier or regressor)."""

    family: Literal["rf"] = "rf"
    n_estimators: int = Field(default=100, ge=1, le=5000)
    max_depth: int | None = Field(default=None, ge=1)
    min_samples_leaf: int = Field(default=1, ge=1)
    max_features: float | Literal["sqrt", "log2"] | None = Field(
        default="sqrt", description="Features per split: a share, sqrt, log2, or all (null).")


class LogRegSpec(_Section):
    """Logistic regression (classification) on standardized features."""

    family: Literal["logreg"] = "logreg"
    C: float = Field(default=1.0, gt=0, description="Inverse L2 strength.")
    max_iter: int = Field(default=1000, ge=1)


class RidgeSpec(_Section):
    """Ridge regression (a ridge classifier for classification) on standardized features."""

    family: Literal["ridge"] = "ridge"
    alpha: float = Field(default=1.0, ge=0, description="L2 strength.")


class SVCSpec(_Section):
    """A support vector machine with an RBF kernel (SVC or SVR, by the task) on standardized features;
    SVC's probabilities through a fitted temperature (components/tempered_svc.py), SVR on a
    standardized target (its epsilon and C are in the target's units)."""

    family: Literal["svc"] = "svc"
    C: float = Field(default=1.0, gt=0)
    gamma: float | Literal["scale", "auto"] = "scale"


class FastTextSpec(_ModelBase):
    """fastText (Joulin et al. 2016): the mean of the document's word (and hashed bigram) embeddings, a linear head."""

    family: Literal["fasttext"] = "fasttext"
    dim: int = Field(default=64, ge=2, le=1024, description="Embedding width.")
    bigrams: bool = Field(default=True, description="Add word bigrams, hashed into `buckets` rows.")
    buckets: int = Field(default=100_000, ge=1, le=10_000_000, description="Rows for hashed bigrams.")
    max_length: int | None = Field(default=None, ge=1, description="Tokens read per document; default: all kept.")


class TextCNNSpec(_ModelBase):
    """Kim (2014): word embeddings, parallel 1-d convolutions, max over time, a linear head."""

    family: Literal["text_cnn"] = "text_cnn"
    dim: int = Field(default=128, ge=2, le=1024, description="Embedding width.")
    kernel_sizes: list[Annotated[int, Field(ge=1, le=15)]] = Field(default_factory=lambda: [3, 4, 5], min_length=1)
    channels: int = Field(default=100, ge=1, le=2048, description="Filters per kernel size.")
    dropout: Rate = Field(default=0.5, description="Dropout before the head.")
    max_length: int | None = Field(default=400, ge=1, description="Tokens read per document; null: all kept.")


class TfidfSpec(_Section):
    """TF-IDF of word n-grams and a linear model: the text baseline (a scikit-learn family)."""

    family: Literal["tfidf"] = "tfidf"
    ngram: int = Field(default=2, ge=1, le=3, description="Word n-grams up to this length.")
    sublinear_tf: bool = Field(default=True, description="1 + log(tf) instead of raw counts.")
    min_df: int = Field(default=1, ge=1, description="Documents an n-gram needs to be a feature.")
    classifier: Literal["linear_svc", "logreg"] = "linear_svc"
    C: float = Field(default=1.0, gt=0, description="Inverse regularization strength.")


NETWORK_FAMILIES = ("mlp", "cnn", "fasttext", "text_cnn")
TEXT_FAMILIES = ("fasttext", "text_cnn", "tfidf")
SKLEARN_FAMILIES = ("hgb", "rf", "logreg", "ridge", "svc", "tfidf")
ModelSpec = Annotated[
    Union[MLPSpec, CNNSpec, AutoModelSpec, HGBSpec, RFSpec, LogRegSpec, RidgeSpec, SVCSpec, FastTextSpec,
          TextCNNSpec, TfidfSpec],
    Field(discriminator="family"),
]
