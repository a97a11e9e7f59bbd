"""What the Python API's functions return: plain, frozen records of what a command did.

Each has ``to_json()``, the object the command's ``--json`` prints (plain JSON values).
Nothing heavy is imported here: ``import tunaflow`` stays cheap.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields


@dataclass(frozen=True)
class RunResult:
    """What ``tunaflow run --json`` prints: the study, the best trial, the registered model."""

    study: str
    n_trials: int
    n_pruned: int
    best_value: float | None
    best_params: dict
    best_trial: int | None
    test_metrics: dict
    mlflow_run_id: str
    model_uri: str
    registered_model: str
    version: str
    alias: str
    prefect_flow_run_id: str | None
    more_data_helps: bool | None
    # per model family, best first: trials, pruned, reused, best validation value and trial, test score, seconds
    leaderboard: list[dict] | None = None

    JSON_KEYS = ("study", "n_trials", "best_value", "best_params", "test_metrics", "mlflow_run_id", "model_uri",
                 "alias", "registered_model", "version", "prefect_flow_run_id", "more_data_helps", "leaderboard")

    @classmethod
    def from_summary(cls, summary: dict):
        return cls(**{f.name: summary.get(f.name) for f in fields(cls)})

    def to_json(self) -> dict:
        """The object ``--json`` prints (plain JSON values)."""
        return {key: getattr(self, key) for key in self.JSON_KEYS}

    def leaderboard_text(self) -> str:
        """The leaderboard as aligned columns, best family first; empty when there is none."""
        if not self.leaderboard:
            return ""
        from tunaflow.components.leaderboard import leaderboard_text, rows_from_json

        return leaderboard_text(rows_from_json(self.leaderboard))


@dataclass(frozen=True)
class RetrainResult(RunResult):
    """A retraining: the run's fields, and whether the challenger took the champion alias."""

    decision: str = "kept"  # promoted | kept
    reason: str = ""
    compared_with: str | None = None
    champion_version: str | None = None
    champion_metrics: dict | None = field(default=None)
    warm_started_from_study: str | None = None

    JSON_KEYS = RunResult.JSON_KEYS + ("decision", "reason", "compared_with", "champion_version",
                                       "champion_metrics", "warm_started_from_study")


@dataclass(frozen=True)
class WorkerResult:
    """What one ``tunaflow worker`` did: its name, the study, trials finished, seconds."""

    study: str
    worker: str
    trials: int
    seconds: float

    def to_json(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class StarterResult:
    """What ``tunaflow init`` wrote: the spec file, and what it guessed about the data."""

    path: str
    name: str
    target: str | None
    target_guessed: bool
    task: str
    kind: str
    families: list[str]

    def to_json(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class SpecSummary:
    """A validated spec as ``tunaflow validate`` tells it: what it trains, on what, and the space it searches."""

    name: str
    task: str
    family: str
    source: str
    metric: str
    direction: str
    n_trials: int | None
    timeout: float | None
    resolution: str  # one line: what is searched, over which families, for how long
    space_lines: list[str]  # one line per searched path and its distribution, branches indented
    space: dict  # each searched path's distribution as plain data

    def to_json(self) -> dict:
        """The object ``tunaflow validate --json`` prints (less the spec file it names)."""
        return {"name": self.name, "task": self.task, "family": self.family, "metric": self.metric,
                "n_trials": self.n_trials, "timeout": self.timeout, "space": self.space}


@dataclass(frozen=True)
class DeployResult:
    """A retraining deployment: its name and schedule, and the prefect.yaml written for a work pool
    (None when it was served from this process until stopped)."""

    deployment: str
    cron: str
    timezone: str
    prefect_yaml: str | None = None
    work_pool: str | None = None

    def to_json(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class RollbackResult:
    """An alias moved back: from the version that held it to the one it had replaced."""

    registered_model: str
    alias: str
    from_version: str
    to_version: str

    def to_json(self) -> dict:
        return asdict(self)
