"""Prefect tasks, one per pipeline stage; MLflow logging and storage access live here."""
