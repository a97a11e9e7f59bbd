"""Optional parts of tunaflow: which extra installs each, and the one line when one is missing.

The core install runs the embedded setup (SQLite, a local process pool, PNG plots).
Reaching further (a Dask cluster, PostgreSQL, interactive HTML plots, the MNIST subset)
needs a package that ``pip install 'tunaflow[EXTRA]'`` brings.
"""

from __future__ import annotations

import importlib.util

from tunaflow.components.errors import UserInputError

# the module that goes missing -> the tunaflow extra that installs it
EXTRAS = {
    "prefect_dask": "dask",
    "dask": "dask",
    "distributed": "dask",
    "psycopg": "postgres",
    "plotly": "plots",
    "mlxtend": "datasets",
}


def _missing_module(error: BaseException) -> str | None:
    """The module an ImportError could not find; libraries that wrap it (Optuna's storage
    does) keep the original as the cause."""
    seen = error
    while seen is not None:
        if isinstance(seen, ImportError) and seen.name:
            return seen.name.split(".")[0]
        seen = seen.__cause__ or seen.__context__
    return None


def missing_package(where: str, purpose: str, error: ImportError,
                    kind: type[UserInputError] = UserInputError) -> UserInputError:
    """The user's error (of ``kind``) for ``error``: what needed the package, and how to install it."""
    module = _missing_module(error)
    if module is None:
        return kind(where, f"{purpose} needs a package that is not installed: {str(error).splitlines()[0]}")
    if module not in EXTRAS:  # a module's package may be named otherwise (yaml: PyYAML): no guess
        return kind(where, f"{purpose} needs the {module} module, which is not installed")
    return kind(where, f"{purpose} needs the {module} package, which is not installed; "
                       f"install it with: pip install 'tunaflow[{EXTRAS[module]}]'")


def require_package(module: str, where: str, purpose: str) -> None:
    """Fail with ``missing_package``'s line unless ``module`` is installed (found, not imported)."""
    if importlib.util.find_spec(module) is None:
        raise missing_package(where, purpose, ModuleNotFoundError(f"No module named {module!r}", name=module))
