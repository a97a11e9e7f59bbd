"""The experiment spec: one YAML file, validated here, and the parameter of the flow."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Annotated, Any, Literal, Union

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from components.distributions import Distribution
from components.errors import SpecError
from components.paths import set_path

ACTIVATIONS = ("relu", "leaky_relu", "elu", "selu", "gelu", "silu", "tanh", "sigmoid")
OPTIMIZERS = ("sgd", "adam", "adamw", "rmsprop")
SAMPLERS = ("tpe", "random", "grid")
PRUNERS = ("none", "median", "hyperband")
BUILTIN_SOURCES = ("digits", "wine", "breast_cancer", "iris")


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class DataSpec(_Section):
    """Where the data comes from and how it is split."""

    source: str = Field(
        description="A bundled set (digits, wine, breast_cancer, iris) or a .csv/.npz file path."
    )
    target: str | None = Field(default=None, description="Target column of a CSV source.")
    val_fraction: float = Field(default=0.15, gt=0, lt=1)
    test_fraction: float = Field(default=0.2, gt=0, lt=1)
    subsample: float = Field(
        default=1.0, gt=0, le=1, description="Fraction of the training split to train on."
    )

    @model_validator(mode="after")
    def _fractions_leave_training_data(self) -> "DataSpec":
        if self.val_fraction + self.test_fraction >= 1:
            raise ValueError("val_fraction + test_fraction must leave data to train on (< 1)")
        return self


class TabularAugmentSpec(_Section):
    noise: float = Field(
        default=0.0, ge=0, description="Std of gaussian noise added to standardized features."
    )


class AugmentSpec(_Section):
    """Train-time augmentation; applied to training batches only."""

    enabled: bool = True
    tabular: TabularAugmentSpec = Field(default_factory=TabularAugmentSpec)


class _ModelBase(_Section):
    activation: Literal[ACTIVATIONS] = "relu"
    dropout: float = Field(default=0.0, ge=0, lt=1)
    batch_norm: bool = False


class MLPSpec(_ModelBase):
    """A dense network; ``units`` gives each hidden layer's width."""

    family: Literal["mlp"] = "mlp"
    layers: int = Field(default=2, ge=1, le=16, description="Number of hidden layers.")
    units: list[Annotated[int, Field(ge=1, le=8192)]] = Field(
        default_factory=lambda: [128, 64],
        description="Width per hidden layer; a shorter list repeats its last width.",
    )

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
        widths = self.units[: self.layers]
        widths += [widths[-1]] * (self.layers - len(widths))
        object.__setattr__(self, "units", widths)
        return self


class CNNSpec(_ModelBase):
    """Convolution blocks (conv, [batch norm], activation, pool) and a dense head."""

    family: Literal["cnn"] = "cnn"
    channels: list[Annotated[int, Field(ge=1, le=1024)]] = Field(
        default_factory=lambda: [16, 32], min_length=1, description="Channels per conv block."
    )
    kernel_size: int = Field(default=3, ge=1, le=11)
    pool: Literal["max", "avg", "none"] = "max"
    dense_units: int = Field(default=64, ge=1, le=8192)


ModelSpec = Annotated[Union[MLPSpec, CNNSpec], Field(discriminator="family")]


class EarlyStoppingSpec(_Section):
    enabled: bool = True
    monitor: Literal["valid_loss", "valid_acc"] = "valid_loss"
    patience: int = Field(default=5, ge=1)
    min_delta: float = Field(default=0.0, ge=0)
    restore_best: bool = True


class TrainSpec(_Section):
    """How each network is trained."""

    epochs: int = Field(default=20, ge=1, le=10000)
    batch_size: int = Field(default=64, ge=1)
    optimizer: Literal[OPTIMIZERS] = "adam"
    lr: float = Field(default=1e-3, gt=0, le=10)
    momentum: float = Field(default=0.9, ge=0, lt=1, description="SGD and RMSprop momentum.")
    weight_decay: float = Field(default=0.0, ge=0, description="L2 as decoupled/optimizer decay.")
    early_stopping: EarlyStoppingSpec = Field(default_factory=EarlyStoppingSpec)


class SearchSpec(_Section):
    """The Optuna study: strategy, budget, where it lives, and what it searches."""

    sampler: Literal[SAMPLERS] = "tpe"
    pruner: Literal[PRUNERS] = "median"
    n_trials: int = Field(default=20, ge=1)
    timeout: float | None = Field(default=None, gt=0, description="Seconds for the whole search.")
    workers: int = Field(default=1, ge=1)
    storage: str | None = Field(
        default=None, description="Optuna storage URL; default: SQLite under TUNAFLOW_HOME."
    )
    metric: Literal["valid_acc", "valid_loss"] = "valid_acc"
    space: dict[str, Distribution] = Field(default_factory=dict)

    @property
    def direction(self) -> str:
        return "minimize" if self.metric.endswith("loss") else "maximize"


class TrackingSpec(_Section):
    experiment: str | None = Field(default=None, description="MLflow experiment; default: name.")
    registered_model: str | None = Field(default=None, description="Default: name.")
    alias: str = Field(default="champion", pattern=r"^[A-Za-z_][A-Za-z0-9_-]*$")


class ExperimentSpec(_Section):
    """One experiment: data, augmentation, model, training, search and tracking."""

    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$", max_length=100)
    seed: int = Field(default=0, ge=0)
    data: DataSpec
    augment: AugmentSpec = Field(default_factory=AugmentSpec)
    model: ModelSpec = Field(default_factory=MLPSpec)
    train: TrainSpec = Field(default_factory=TrainSpec)
    search: SearchSpec = Field(default_factory=SearchSpec)
    tracking: TrackingSpec = Field(default_factory=TrackingSpec)

    @property
    def experiment_name(self) -> str:
        return self.tracking.experiment or self.name

    @property
    def model_name(self) -> str:
        return self.tracking.registered_model or self.name

    def study_digest(self) -> str:
        """A digest of what makes trials comparable (the budget may change on resume)."""
        tree = self.model_dump(mode="json")
        for key in ("n_trials", "timeout", "workers", "storage"):
            tree["search"].pop(key, None)
        tree.pop("tracking")
        return hashlib.sha256(json.dumps(tree, sort_keys=True).encode()).hexdigest()[:16]


def format_validation_error(error: ValidationError, prefix: str = "") -> list[str]:
    """One line per problem, each naming the dotted field."""
    lines = []
    for item in error.errors():
        loc = [str(p) for p in item["loc"] if p not in ("mlp", "cnn", "float", "int", "categorical")]
        field = ".".join(loc) or "spec"
        message = item["msg"].removeprefix("Value error, ")
        if item["type"] == "extra_forbidden":
            message = "unknown field"
        elif item["type"] == "literal_error":
            message = f"{message} (got {item.get('input')!r})"
        lines.append(f"{prefix}{field}: {message}")
    return lines


def build_spec(tree: Any, where: str = "spec") -> ExperimentSpec:
    """Validate a parsed spec; a SpecError lists every problem, one per line."""
    if not isinstance(tree, dict):
        raise SpecError(where, "the spec must be a mapping of sections (name, data, model, ...)")
    try:
        return ExperimentSpec.model_validate(tree)
    except ValidationError as error:
        lines = format_validation_error(error)
        raise SpecError(where, "\n".join(lines)) from None


def parse_override(text: str) -> tuple[str, Any]:
    """``train.lr=0.01`` -> ("train.lr", 0.01); the value is read as YAML."""
    path, sep, raw = text.partition("=")
    if not sep or not path.strip():
        raise SpecError("--set", f"expected PATH=VALUE, got {text!r}")
    try:
        value = yaml.safe_load(raw) if raw.strip() else ""
    except yaml.YAMLError:
        value = raw
    return path.strip(), value


def apply_overrides(tree: dict, overrides: list[str]) -> dict:
    for text in overrides:
        path, value = parse_override(text)
        try:
            tree = set_path(tree, path, value)
        except KeyError:
            raise SpecError(f"--set {path}", "no such field in the spec") from None
    return tree


def read_spec_file(path: str | Path) -> dict:
    """The YAML mapping in ``path``; SpecError naming the file when it cannot be read."""
    path = Path(path)
    try:
        text = path.read_text()
    except FileNotFoundError:
        raise SpecError(str(path), "file not found") from None
    except (OSError, UnicodeDecodeError) as error:
        raise SpecError(str(path), f"cannot be read ({error})") from None
    try:
        tree = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        at = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(error, "problem", None) or "malformed YAML"
        raise SpecError(str(path), f"malformed YAML{at}: {problem}") from None
    if not isinstance(tree, dict):
        raise SpecError(str(path), "the spec must be a YAML mapping of sections")
    return tree


def load_spec(path: str | Path, overrides: list[str] | None = None) -> ExperimentSpec:
    """Read, override and validate a spec file."""
    tree = apply_overrides(read_spec_file(path), overrides or [])
    return build_spec(tree, where=str(path))
