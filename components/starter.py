"""``tunaflow init``: a commented starter spec for a data file, so a first run is two commands.

The file holds the minimal spec (name, data source, target) and, as comments, what
tunaflow found and will do with it: modality, task, classes, notes on the columns, the
families and the default search space it resolves, and the default budget.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from tunaflow.components.checks import prepare_experiment
from tunaflow.components.errors import UserInputError
from tunaflow.components.space import format_space
from tunaflow.components.spec import ExperimentSpec, build_spec

TABLE_SUFFIXES = (".csv", ".parquet", ".pq")


@dataclass(frozen=True)
class Starter:
    """A written starter spec and what was guessed for it."""

    path: Path
    spec: ExperimentSpec  # resolved for the data
    target: str | None
    target_guessed: bool
    kind: str  # tabular | image
    text: str


def starter_name(source: str) -> str:
    """An experiment name from the data's file name (letters, digits, ``_.-``)."""
    stem = Path(source.rstrip("/")).name
    for suffix in (*TABLE_SUFFIXES, ".npz"):
        stem = stem.removesuffix(suffix)
    name = re.sub(r"[^A-Za-z0-9_.-]+", "-", stem).strip("-_.")[:100]
    return name or "experiment"


def guess_target(source: str, target: str | None) -> tuple[str | None, bool]:
    """The target column of a table (the last column when none is given) and whether it was guessed."""
    if target or Path(source).suffix.lower() not in TABLE_SUFFIXES or not Path(source).is_file():
        return target, False
    from tunaflow.components.tables import read_table

    columns = list(read_table(source).columns)
    if len(columns) < 2:
        return (columns[-1] if columns else None), bool(columns)
    return columns[-1], True


def _dump(section: dict) -> str:
    return yaml.safe_dump(section, sort_keys=False, default_flow_style=False).rstrip("\n")


def _commented(lines: list[str]) -> list[str]:
    return [f"# {line}" if line else "#" for line in lines]


def _about_data(splits, spec: ExperimentSpec, target: str | None, guessed: bool) -> list[str]:
    n_train, n_val, n_test = len(splits.y_train), len(splits.y_val), len(splits.y_test)
    task = spec.data.task
    what = f"{len(splits.classes)} classes" if task == "classification" else "a numeric target"
    lines = [f"Data: {n_train + n_val + n_test} rows ({n_train} train / {n_val} validation / {n_test} test), "
             f"{splits.kind}, {task} ({what})."]
    if guessed:
        lines.append(f"The target {target!r} is a guess: the file's last column. Set data.target if it is another.")
    lines += [f"note: {note}" for note in splits.extra.get("notes", [])]
    return lines


def _about_search(spec: ExperimentSpec) -> list[str]:
    search = spec.search
    limits = (f"up to {search.timeout:g} s of search and {search.trial_budget} trials"
              if search.timeout is not None else f"{search.trial_budget} trials")
    return [
        "With no search.space, tunaflow searches this default space (write search.space to replace it;",
        "each family's default configuration is tried first):",
        *format_space(search.searched),
        "",
        f"Budget: with neither search.n_trials nor search.timeout, {limits}, and no learning",
        "curve unless train.learning_curve is set; set either budget to change it, e.g.",
        "search:",
        f"  n_trials: {search.trial_budget}",
        *([f"  timeout: {search.timeout:g}"] if search.timeout is not None else []),
    ]


def render_starter(source: str, target: str | None, guessed: bool, resolved: ExperimentSpec, splits,
                   path: Path) -> str:
    """The starter spec's text: the minimal spec, with the resolved settings shown as comments."""
    data = {"source": source, **({"target": target} if target else {})}
    header = [f"tunaflow starter spec for {source} (written by `tunaflow init`).",
              *_about_data(splits, resolved, target, guessed),
              f"Run it with: tunaflow run {path}"]
    model = resolved.model.family
    families = resolved.search.searched.get("model.family")
    family_line = (f"model.family is auto: the study chooses among {', '.join(map(str, families.choices))}."
                   if model == "auto" and families is not None else f"model.family: {model}")
    parts = [
        *_commented(header),
        f"name: {resolved.name}",
        _dump({"data": data}),
        *_commented([f"task: {resolved.data.task} (detected; data.task overrides it)",
                     *(["columns: {COLUMN: categorical}  (data.columns overrides the detected column types)"]
                       if target else [])]),
        "",
        *_commented([family_line, *_about_search(resolved)]),
        "",
    ]
    return "\n".join(parts)


def build_starter(source: str, target: str | None, path: Path) -> Starter:
    """The starter spec for ``source`` (to be written to ``path``): text, resolved spec, target."""
    target, guessed = guess_target(source, target)
    tree = {"name": starter_name(source), "data": {"source": source, **({"target": target} if target else {})}}
    resolved, splits = prepare_experiment(build_spec(tree, where=source))
    text = render_starter(source, target, guessed, resolved, splits, path)
    # what is written must read back as the spec it describes
    build_spec(yaml.safe_load(text), where="starter")
    return Starter(path, resolved, target, guessed, splits.kind, text)


def write_starter(source: str, target: str | None = None, out: str | Path | None = None) -> Starter:
    """Write the starter spec for ``source`` to ``out`` (default: NAME.yaml here); never overwrites."""
    path = Path(out) if out else Path(f"{starter_name(source)}.yaml")
    if path.exists():
        raise UserInputError(str(path), "already exists; remove it or name another file with --out")
    starter = build_starter(source, target, path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("x") as handle:  # "x": a file created meanwhile is not overwritten either
            handle.write(starter.text)
    except FileExistsError:
        raise UserInputError(str(path), "already exists; remove it or name another file with --out") from None
    except OSError as error:
        raise UserInputError(str(path), f"cannot be written ({error.strerror or error})") from None
    return starter
