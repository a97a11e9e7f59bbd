"""The app factories uvicorn serves in Prefect's temporary server (``server.TemporaryServer``).

Both call Prefect's ``create_app`` with the arguments its docstring documents: ``ephemeral``
(no UI, only the services an ephemeral server runs: no scheduler) and ``final`` (no other app
is created in this process, so Prefect may skip copying its routes). Prefect's own
``prefect server start`` passes them to a uvicorn factory through private environment
variables (``PREFECT__SERVER_*``); a factory of our own passes them as arguments instead.
"""

from __future__ import annotations

from prefect.server.api.server import create_app


def ephemeral_app():
    """One command's server: no UI, no scheduler, no other background service it does not need."""
    return create_app(ephemeral=True, final=True)


def scheduling_app():
    """A server for a long-running ``tunaflow deploy``: every service, the scheduler among them."""
    return create_app(final=True)
