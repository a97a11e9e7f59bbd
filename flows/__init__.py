"""Prefect flows: compose tasks, no ML code."""
