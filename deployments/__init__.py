"""Schedules and work-pool deployments of the flows (nothing imports this package but the
``tunaflow deploy`` command, lazily)."""
