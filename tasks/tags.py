"""The ``tunaflow.*`` keys tunaflow writes: MLflow run and model-version tags, Optuna study and
trial user attributes. Readers (retraining, rollback, workers joining a study, users'
queries) depend on these names; they are spelled here once."""

# the run tree: every run, the study it belongs to, the flow run that made it
STAGE = "tunaflow.stage"
STUDY = "tunaflow.study"
TRIAL = "tunaflow.trial"
TRIAL_STATE = "tunaflow.trial_state"
DUPLICATE_OF = "tunaflow.duplicate_of"  # a trial run that reused an evaluated configuration's values
WORKER = "tunaflow.worker"
OWNER = "tunaflow.owner"  # host:pid:start of the process that runs the run (components/processes.py)
WORKERS = "tunaflow.workers"
PREFECT_FLOW_RUN_ID = "tunaflow.prefect_flow_run_id"
PREFECT_FLOW_RUN_NAME = "tunaflow.prefect_flow_run_name"
STORAGE = "tunaflow.storage"
SAMPLER = "tunaflow.sampler"
PRUNER = "tunaflow.pruner"
OBJECTIVES = "tunaflow.objectives"
MORE_DATA_HELPS = "tunaflow.more_data_helps"

# the study's links to MLflow, and its fingerprint
MLFLOW_PARENT_RUN_ID = "tunaflow.mlflow_parent_run_id"
MLFLOW_SEARCH_RUN_ID = "tunaflow.mlflow_search_run_id"
MLFLOW_EXPERIMENT_ID = "tunaflow.mlflow_experiment_id"
SPEC_DIGEST = "tunaflow.spec_digest"
FINGERPRINT_PARTS = "tunaflow.fingerprint_parts"
SETTINGS = "tunaflow.settings"
SAMPLER_STREAM = "tunaflow.sampler_stream"  # the worker that samples the study's seeded stream

# registered model versions
MODEL_URI = "tunaflow.model_uri"
MLFLOW_RUN_ID = "tunaflow.mlflow_run_id"
BEST_TRIAL = "tunaflow.best_trial"
BEST_PARAMS = "tunaflow.best_params"
DATA_DIGEST = "tunaflow.data_digest"
DECISION = "tunaflow.decision"
REASON = "tunaflow.reason"
CHAMPION_VERSION = "tunaflow.champion_version"
PROMOTION_METRIC = "tunaflow.promotion_metric"
PROMOTION_MARGIN = "tunaflow.promotion_margin"
CHALLENGED_BY = "tunaflow.challenged_by"
CHALLENGE = "tunaflow.challenge."  # + study, reason, decision, data_digest, prefect_flow_run_id


def previous(alias: str) -> str:
    """On an alias's new holder: the version it replaced (what a rollback returns to)."""
    return f"tunaflow.previous.{alias}"


def rolled_back(alias: str) -> str:
    return f"tunaflow.rolled_back.{alias}"
