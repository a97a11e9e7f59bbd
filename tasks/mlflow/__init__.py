"""What talks to MLflow: the run tree, trial runs, the registry's aliases, the pyfunc model, batch scoring."""
