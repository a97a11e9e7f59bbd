"""What talks to Optuna's storage: opening studies, the admission lock, warm starts, the objective, reports."""
