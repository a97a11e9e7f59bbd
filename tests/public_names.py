"""Finds uses of other packages' private names in Python source, by walking its syntax tree.

A private name (one leading underscore, not a dunder) of a dependency is not part of its API:
it changes or goes without notice in a minor release (mlflow 3.18 removed a validation function
tunaflow called, and the first spec check died with an AttributeError). What counts as a use:

- an import of a private module or name from a package other than ours (``tunaflow``, ``tests``);
- an attribute ``x._name`` (or ``getattr(x, "_name")``) whose name tunaflow's own code defines
  nowhere: a private name of our own is ours to change, one defined by nobody here is a
  dependency's;
- a string naming a private module of a dependency (``"optuna.study._optimize"``, for a logger or
  an import by name) or a private environment variable (Prefect's ``PREFECT__*``).

Docstrings may name private things, to say what is avoided; comments are not in the tree.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

OWN = {"tunaflow", "tests"}  # our packages: their private helpers are ours to use
DEPENDENCIES = ("prefect", "mlflow", "optuna", "skorch", "albumentations", "sklearn", "torch", "pandas", "numpy")
# a dotted path into a dependency, e.g. "optuna.study._optimize" or "prefect.server:create_app"
DEPENDENCY_PATH = re.compile(rf"\b(?:{'|'.join(DEPENDENCIES)})(?:[.:][A-Za-z0-9_]+)+")
# environment variables that a double underscore marks as a library's internal switch
PRIVATE_ENV = re.compile(r"\b(?:PREFECT|MLFLOW)__[A-Z0-9_]*")
ATTRIBUTE_FUNCTIONS = {"getattr", "hasattr", "setattr", "delattr"}
# The one private-looking name of the standard library that is documented as public API:
# os._exit, "Exit the process with status n, without calling cleanup handlers" (Python docs,
# Library Reference, os: Process Management), the way a forked child or a process that must not
# run atexit handlers ends.
DOCUMENTED = {("os", "_exit")}


def is_private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


@dataclass(frozen=True)
class Use:
    path: str  # as given to ``find_uses``
    line: int
    name: str  # the private name (or the string naming it)
    kind: str  # "import", "attribute" or "string"

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.kind} {self.name}"


def defined_names(tree: ast.AST) -> set[str]:
    """Every name the source defines: functions, classes, arguments, assigned names and attributes,
    import aliases, loop and ``with`` targets."""
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.arg):
            names.add(node.arg)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
            names.add(node.attr)
        elif isinstance(node, ast.alias) and node.asname:
            names.add(node.asname)
        elif isinstance(node, (ast.Global, ast.Nonlocal)):
            names.update(node.names)
    return names


def _docstrings(tree: ast.AST) -> set[int]:
    """ids of the string constants that stand alone as statements (docstrings)."""
    return {id(node.value) for node in ast.walk(tree)
            if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)}


def _import_uses(node: ast.AST) -> list[str]:
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names
                if alias.name.split(".")[0] not in OWN and any(map(is_private, alias.name.split(".")))]
    if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module.split(".")[0] not in OWN:
        if any(map(is_private, node.module.split("."))):
            return [node.module]
        return [f"{node.module}.{alias.name}" for alias in node.names if is_private(alias.name)]
    return []


def _attribute_use(node: ast.AST) -> tuple[str, str] | None:
    """(the object's source, the private name) of ``x._name`` or ``getattr(x, "_name")``."""
    if isinstance(node, ast.Attribute) and is_private(node.attr):
        return ast.unparse(node.value), node.attr
    if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ATTRIBUTE_FUNCTIONS
            and len(node.args) >= 2 and isinstance(node.args[1], ast.Constant)
            and isinstance(node.args[1].value, str) and is_private(node.args[1].value)):
        return ast.unparse(node.args[0]), node.args[1].value
    return None


def _string_uses(text: str) -> list[str]:
    found = [m.group() for m in DEPENDENCY_PATH.finditer(text) if any(map(is_private, re.split(r"[.:]", m.group())))]
    return found + PRIVATE_ENV.findall(text)


def find_uses(source: str, path: str, own_names: set[str]) -> list[Use]:
    """The private uses in ``source``; ``own_names``: what our code defines (``defined_names``)."""
    tree = ast.parse(source, filename=path)
    docstrings = _docstrings(tree)
    uses: list[Use] = []
    for node in ast.walk(tree):
        line = getattr(node, "lineno", 0)
        uses += [Use(path, line, name, "import") for name in _import_uses(node)]
        attribute = _attribute_use(node)
        if attribute and attribute[1] not in own_names and attribute not in DOCUMENTED:
            uses.append(Use(path, line, f"{attribute[0]}.{attribute[1]}", "attribute"))
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
            uses += [Use(path, line, name, "string") for name in _string_uses(node.value)]
    return uses


def python_files(root: Path, folders: tuple[str, ...]) -> list[Path]:
    return sorted(p for folder in folders for p in (root / folder).rglob("*.py") if "__pycache__" not in p.parts)


def names_defined_in(files: list[Path]) -> set[str]:
    names: set[str] = set()
    for path in files:
        names |= defined_names(ast.parse(path.read_text(), filename=str(path)))
    return names
