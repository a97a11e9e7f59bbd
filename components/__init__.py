"""Plain-Python building blocks of tunaflow: no Prefect, no MLflow."""
