"""The experiment spec: one YAML file, validated here, and the parameter of the flow."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal, Union

from pydantic import Field, ValidationError, model_validator

from tunaflow.components.augment_spec import AugmentSpec
from tunaflow.components.distributions import Distribution
from tunaflow.components.errors import SpecError
from tunaflow.components.model_spec import ACTIVATIONS, AutoModelSpec, CNNSpec, Coefficient, MLPSpec, ModelSpec, Rate, per_layer  # noqa: F401 (re-exported)
from tunaflow.components.paths import PathError, set_path
from tunaflow.components.schedules import SCHEDULES, ConstantSchedule, LRSchedule
from tunaflow.components.spec_errors import format_validation_error, short_repr as _short
from tunaflow.components.spec_section import SpecSection as _Section
from tunaflow.components.spec_yaml import load_spec_yaml, read_yaml_file

OPTIMIZERS = ("sgd", "adam", "adamw", "rmsprop")
SAMPLERS = ("tpe", "random", "grid", "cmaes", "gp", "qmc", "nsga2")
PRUNERS = ("none", "median", "successive_halving", "hyperband")
VALIDATION_METRICS = ("valid_acc", "valid_loss", "valid_rmse", "valid_mae", "valid_r2")
CLASSIFICATION_METRICS = ("valid_acc", "valid_loss")
REGRESSION_METRICS = ("valid_rmse", "valid_mae", "valid_r2", "valid_loss")
OBJECTIVE_METRICS = (*VALIDATION_METRICS, "n_params", "latency_ms")
MINIMIZED = ("valid_loss", "valid_rmse", "valid_mae", "n_params", "latency_ms")
TASKS = ("classification", "regression")
COLUMN_KINDS = ("numeric", "categorical", "text", "drop")
BUILTIN_SOURCES = ("digits", "wine", "breast_cancer", "iris", "diabetes", "mnist", "fashion_mnist")
DEFAULT_N_TRIALS = 20  # with a written space and no budget; an automatic space gets a time budget


class DataSpec(_Section):
    """Where the data comes from and how it is split."""

    source: str = Field(
        description="A bundled set (digits, wine, breast_cancer, iris, diabetes, mnist, fashion_mnist; text: "
                    "20newsgroups, r8, r52, rotten_tomatoes), a .csv/.parquet/.npz file, or a folder with one "
                    "sub-folder per class of images or .txt files."
    )
    target: str | None = Field(default=None, description="Target column of a CSV or Parquet source.")
    task: Literal["auto", *TASKS] = Field(
        default="auto", description="auto: a numeric target with many distinct values is regression, "
                                    "anything else classification.")
    columns: dict[str, Literal[COLUMN_KINDS]] = Field(
        default_factory=dict,
        description="Column types that override the automatic ones (numeric, categorical, text, drop).")
    text: str | None = Field(
        default=None, description="The free-text column of a CSV or Parquet source (default: the one detected); "
                                  "a text source trains on that column alone.")
    vocab_size: int = Field(default=50_000, ge=1, description="Text: most frequent training words kept.")
    min_freq: int = Field(default=2, ge=1, description="Text: training occurrences a word needs to be kept.")
    max_tokens: int = Field(default=1000, ge=1, le=100_000,
                            description="Text: tokens kept per document (longer ones are truncated).")
    val_fraction: float = Field(default=0.15, gt=0, lt=1)
    test_fraction: float = Field(default=0.2, gt=0, lt=1)
    subsample: float = Field(
        default=1.0, gt=0, le=1, description="Fraction of the training split to train on."
    )
    search_subsample: float = Field(
        default=1.0, gt=0, le=1,
        description="Fraction of the training split each search trial trains on; final training uses all of it.")
    image_size: tuple[Annotated[int, Field(ge=1, le=1024)], Annotated[int, Field(ge=1, le=1024)]] = Field(
        default=(28, 28), description="Image folder source: every image is resized to (height, width).")
    color: Literal["gray", "rgb"] = Field(default="gray", description="Image folder source: channels kept.")
    skip_bad_files: bool = Field(
        default=False, description="Image folder source: skip unreadable images (counted) instead of stopping.")

    @model_validator(mode="after")
    def _fractions_leave_training_data(self) -> "DataSpec":
        if self.val_fraction + self.test_fraction >= 1:
            raise ValueError("val_fraction + test_fraction must leave data to train on (< 1)")
        return self


class EarlyStoppingSpec(_Section):
    enabled: bool = True
    monitor: Literal["valid_loss", "valid_acc"] = "valid_loss"
    patience: int = Field(default=5, ge=1)
    min_delta: float = Field(default=0.0, ge=0)
    restore_best: bool = True


class LearningCurveSpec(_Section):
    """Retrain the best configuration on growing shares of the training data."""

    enabled: bool = True
    fractions: list[Annotated[float, Field(gt=0, le=1)]] = Field(
        default_factory=lambda: [0.1, 0.25, 0.5, 1.0], min_length=2)


class TrainSpec(_Section):
    """How each network is trained."""

    epochs: int = Field(default=20, ge=1, le=10000)
    batch_size: int = Field(default=64, ge=1)
    optimizer: Literal[OPTIMIZERS] = "adam"
    lr: float = Field(default=1e-3, gt=0, le=10)
    momentum: float = Field(default=0.9, ge=0, lt=1, description="sgd and rmsprop momentum.")
    nesterov: bool = Field(default=False, description="Nesterov momentum (sgd).")
    betas: tuple[Rate, Rate] = Field(default=(0.9, 0.999), description="adam and adamw betas.")
    alpha: float = Field(default=0.99, gt=0, lt=1, description="rmsprop smoothing constant.")
    eps: float = Field(default=1e-8, gt=0)
    weight_decay: float = Field(
        default=0.0, ge=0, description="Optimizer weight decay: decoupled for adamw, L2 in the gradient otherwise.")
    l1: Coefficient | list[Coefficient] = Field(
        default=0.0, description="L1 penalty on weights (not biases): one value, or one per layer.")
    l2: Coefficient | list[Coefficient] = Field(
        default=0.0, description="L2 penalty sum(w**2) on weights (not biases): one value, or one per layer.")
    loss: Literal["auto", "cross_entropy", "mse", "huber"] = Field(
        default="auto", description="auto: cross-entropy for classification, MSE (on the standardized target) "
                                    "for regression.")
    grad_clip: float | None = Field(default=None, gt=0, description="Clip the gradient norm to this value.")
    lr_schedule: LRSchedule = Field(default_factory=ConstantSchedule)
    early_stopping: EarlyStoppingSpec = Field(default_factory=EarlyStoppingSpec)
    learning_curve: LearningCurveSpec = Field(default_factory=LearningCurveSpec)
    device: Literal["auto", "cpu", "cuda", "mps"] = Field(
        default="auto", description="Where networks train: auto picks cuda, then mps, when torch sees one; else cpu.")

    @model_validator(mode="after")
    def _nesterov_needs_momentum(self) -> "TrainSpec":
        if self.nesterov and (self.optimizer != "sgd" or self.momentum == 0):
            raise ValueError("nesterov needs optimizer sgd with momentum > 0")
        return self


class ObjectiveSpec(_Section):
    """One objective of the study: a validation metric, or a cost of the model."""

    metric: Literal[OBJECTIVE_METRICS]
    direction: Literal["maximize", "minimize"] | None = Field(
        default=None, description="Default: minimize losses, sizes and latencies; maximize accuracy.")

    @property
    def resolved_direction(self) -> str:
        return self.direction or ("minimize" if self.metric in MINIMIZED else "maximize")


class ValidationSpec(_Section):
    """How a trial is scored: one holdout split, or k-fold cross-validation on train+validation,
    repeated on other partitions of the rows (each repeat's folds drawn with its own seed)."""

    scheme: Literal["holdout", "kfold"] = "holdout"
    folds: int = Field(default=5, ge=2, le=20)
    repeats: Union[int, Literal["auto"]] = Field(
        default="auto", description="Times k-fold is run, each on another partition (a trial's scores and "
        "out-of-fold predictions averaged over them). auto: one pass (components/resolve.py: a rule by "
        "table size, capped at 1 after it measured no gain).")

    @model_validator(mode="after")
    def _repeats_fit_the_scheme(self) -> "ValidationSpec":
        if self.repeats != "auto":
            if not 1 <= self.repeats <= 10:
                raise ValueError("repeats: between 1 and 10, or auto")
            if self.repeats > 1 and self.scheme != "kfold":
                raise ValueError("repeats: repeats partition the rows again for k-fold; use scheme: kfold")
        return self

    @property
    def fold_repeats(self) -> int:
        """The repeats in force (``auto`` not yet resolved: 1)."""
        return 1 if self.repeats == "auto" else int(self.repeats)

    @property
    def fits(self) -> int:
        """Fits per trial: one per fold and repeat, or one (holdout)."""
        return self.folds * self.fold_repeats if self.scheme == "kfold" else 1


class EnsembleSpec(_Section):
    """Ensemble selection after the search (Caruana et al. 2004): the best trials' out-of-sample
    predictions averaged with integer weights, registered when they beat the best single trial."""

    mode: Literal["auto", "on", "off"] = Field(
        default="auto", description="on: an ensemble when it scores better out-of-sample than the best trial "
                                    "(one objective only); off: the best trial alone; auto: on when the study "
                                    "chooses the family (model.family: auto), else off.")
    size: int = Field(default=25, ge=1, le=200, description="Rounds of greedy selection (members, with repeats).")
    candidates: int = Field(default=25, ge=2, le=200, description="How many of the best trials may be members.")

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, value):
        # `ensemble: off` (YAML reads bare on/off as booleans) or `ensemble: auto`
        if isinstance(value, bool):
            return {"mode": "on" if value else "off"}
        return {"mode": value} if isinstance(value, str) else value


class WarmStartSpec(_Section):
    """Trials to run first: given parameter sets, an earlier study's best, a registered model's."""

    params: list[dict[str, Union[bool, int, float, str, None]]] = Field(default_factory=list)
    from_study: str | None = Field(default=None, description="A study in the same storage.")
    top_k: int = Field(default=5, ge=1, description="How many of from_study's best trials to enqueue.")
    from_model: str | None = Field(
        default=None, description="A registered tunaflow model, e.g. models:/digits-mlp@champion.")


class SearchSpec(_Section):
    """The Optuna study: strategy, budget, where it lives, and what it searches."""

    sampler: Literal[SAMPLERS] = "tpe"
    pruner: Literal[PRUNERS] = "median"
    n_trials: int | None = Field(
        default=None, ge=1, description="Trials to run; with neither n_trials nor timeout, a default budget.")
    timeout: float | None = Field(default=None, gt=0, description="Seconds for the whole search.")
    patience: int | None = Field(
        default=None, ge=1, description="Stop when the best value has not improved for this many trials.")
    workers: int = Field(default=1, ge=1, description="Worker processes on this machine, all on one study.")
    heartbeat: int = Field(
        default=10, ge=1, description="Seconds between a running trial's heartbeats; a trial silent for three "
        "heartbeats is failed (and retried once).")
    cluster: str | None = Field(
        default=None, description="Dask scheduler address (tcp://host:8786) to run the workers on; "
        "default: a process pool on this machine.")
    storage: str | None = Field(
        default=None, description="Optuna storage URL; default: SQLite under TUNAFLOW_HOME."
    )
    metric: Literal["auto", *VALIDATION_METRICS] = Field(
        default="auto", description="auto: valid_acc for classification, valid_rmse for regression.")
    objectives: list[ObjectiveSpec] = Field(
        default_factory=list, description="Several objectives (overrides metric); the first is the primary.")
    selection: Literal["primary", "knee"] = Field(
        default="primary",
        description="Which Pareto-optimal trial to register: best on the primary objective, or the knee.")
    prefer_start: bool = Field(
        default=True, description="Register the best of the configurations the study started from (each family's "
        "default, a warm start) unless the best trial leads it by more than one standard error out-of-sample; "
        "false: the best trial.")
    validation: ValidationSpec = Field(default_factory=ValidationSpec)
    warm_start: WarmStartSpec = Field(default_factory=WarmStartSpec)
    ensemble: EnsembleSpec = Field(default_factory=EnsembleSpec)
    space: dict[str, Distribution] | None = Field(
        default=None, description="Dotted spec paths to distributions; absent: the default space for the "
                                  "data's modality and the model family.")

    @model_validator(mode="after")
    def _strategy_fits_objectives(self) -> "SearchSpec":
        if len(self.objectives) > 1:
            if self.pruner != "none":
                raise ValueError("pruner: pruning needs a single objective; use pruner: none")
            if self.sampler == "cmaes":
                raise ValueError("sampler: cmaes optimizes one objective; use tpe, nsga2, gp, random or grid")
            if self.patience is not None:
                raise ValueError("patience: stopping on a stalled best value needs a single objective")
        return self

    @property
    def objective_specs(self) -> list[ObjectiveSpec]:
        # an unresolved `auto` (a spec whose data has not been read) scores as classification
        return self.objectives or [ObjectiveSpec(metric="valid_acc" if self.metric == "auto" else self.metric)]

    @property
    def trial_budget(self) -> int:
        """The trial count the search runs to (a time budget may end it sooner)."""
        return self.n_trials if self.n_trials is not None else DEFAULT_N_TRIALS

    @property
    def searched(self) -> dict[str, Distribution]:
        """The space in force: the written one, or (once resolved) the default; empty before that."""
        return self.space or {}

    @property
    def directions(self) -> list[str]:
        return [o.resolved_direction for o in self.objective_specs]

    @property
    def direction(self) -> str:
        return self.directions[0]

    @property
    def multi_objective(self) -> bool:
        return len(self.objective_specs) > 1


class TrackingSpec(_Section):
    experiment: str | None = Field(default=None, description="MLflow experiment; default: name.")
    registered_model: str | None = Field(default=None, description="Default: name.")
    alias: str = Field(default="champion", pattern=r"^[A-Za-z_][A-Za-z0-9_-]*$")
    promotion_metric: Literal["auto", "accuracy", "f1_macro", "log_loss", "rmse", "mae", "r2"] = Field(
        default="auto", description="Retraining: the held-out metric champion and challenger are compared on "
                                    "(auto: accuracy for classification, rmse for regression).")
    promotion_margin: float = Field(
        default=0.005, ge=0,
        description="Retraining: how much better (in promotion_metric) a challenger must be to become the champion.")


class ExperimentSpec(_Section):
    """One experiment: data, augmentation, model, training, search and tracking."""

    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$", max_length=100)
    seed: int = Field(default=0, ge=0, le=2**32 - 1)
    data: DataSpec
    augment: AugmentSpec = Field(default_factory=AugmentSpec)
    model: ModelSpec = Field(
        default_factory=AutoModelSpec,
        description="The model family and its fields; default auto: the study chooses the family.")
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
        """The study's fingerprint: a digest of what changes a trial's value (components/fingerprint.py)."""
        from tunaflow.components.fingerprint import study_fingerprint  # it reads specs: imported late

        return study_fingerprint(self)


def build_spec(tree: Any, where: str = "spec") -> ExperimentSpec:
    """Validate a parsed spec; a SpecError lists every problem, one per line."""
    if not isinstance(tree, dict):
        raise SpecError(where, "the spec must be a mapping of sections (name, data, model, ...)")
    try:
        return ExperimentSpec.model_validate(tree)
    except ValidationError as error:
        lines = format_validation_error(error, tree=tree)
        raise SpecError(where, "\n".join(lines)) from None


def parse_override(text: str) -> tuple[str, Any]:
    """``train.lr=0.01`` -> ("train.lr", 0.01); the value is read as YAML (within the spec's limits)."""
    path, sep, raw = text.partition("=")
    if not sep or not path.strip():
        raise SpecError("--set", f"expected PATH=VALUE, got {_short(text)}")
    path = path.strip()
    try:
        value = load_spec_yaml(raw, f"--set {path}") if raw.strip() else ""
    except SpecError as error:
        if not error.problem.startswith("malformed YAML"):
            raise
        value = raw  # text that is not YAML (`--set name=a: b`) is meant as text
    return path, value


def apply_overrides(tree: dict, overrides: list[str]) -> dict:
    """``tree`` with each ``--set`` applied; a SpecError names ``--set PATH`` when a path does not
    exist or its value does not fit (the spec file's own mistakes are left to build_spec)."""
    paths = []
    for text in overrides:
        path, value = parse_override(text)
        try:
            tree = set_path(tree, path, value)
        except PathError as error:
            raise SpecError(f"--set {path}", error.problem) from None
        except KeyError:
            raise SpecError(f"--set {path}", "no such field in the spec") from None
        paths.append(path)
    if paths and isinstance(tree, dict):
        _check_overridden_fields(tree, paths)
    return tree


def _check_overridden_fields(tree: dict, paths: list[str]) -> None:
    try:
        ExperimentSpec.model_validate(tree)
    except ValidationError as error:
        for line in format_validation_error(error, tree=tree):
            field, _, problem = line.partition(": ")
            for path in paths:
                if field == path or field.startswith(f"{path}.") or path.startswith(f"{field}."):
                    if problem == "unknown field":
                        raise SpecError(f"--set {path}", "no such field in the spec") from None
                    raise SpecError(f"--set {path}", problem if field == path else f"{field}: {problem}") from None


def read_spec_file(path: str | Path) -> dict:
    """The YAML mapping in ``path``; SpecError naming the file when it cannot be read or breaks a
    limit of components/spec_yaml.py (size, nesting, aliases, duplicate keys)."""
    tree = read_yaml_file(path)
    if not isinstance(tree, dict):
        raise SpecError(str(path), "the spec must be a YAML mapping of sections")
    return tree


def load_spec(path: str | Path, overrides: list[str] | None = None) -> ExperimentSpec:
    """Read, override and validate a spec file."""
    tree = apply_overrides(read_spec_file(path), overrides or [])
    return build_spec(tree, where=str(path))
