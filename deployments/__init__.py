"""Schedules and work-pool deployments of the flows (nothing imports this package)."""
