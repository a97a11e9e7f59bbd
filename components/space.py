"""Search spaces: sampling dotted spec paths from anything with Optuna's suggest_* API."""

from __future__ import annotations

import functools
import math
from typing import Any, Mapping

import numpy as np
from pydantic import BaseModel, TypeAdapter, ValidationError
from pydantic_core import to_jsonable_python

from tunaflow.components.distributions import CategoricalDistribution, FloatDistribution, IntDistribution
from tunaflow.components.errors import SpecError
from tunaflow.components.paths import has_path, set_path
from tunaflow.components.spec import ExperimentSpec, ModelSpec, build_spec


def suggest_params(trial: Any, space: Mapping[str, Any]) -> dict[str, Any]:
    """Sample ``space`` with ``trial``; a branch's keys are sampled only when it is chosen."""
    params: dict[str, Any] = {}
    for path, dist in space.items():
        if isinstance(dist, FloatDistribution):
            params[path] = trial.suggest_float(path, dist.low, dist.high, log=dist.log, step=dist.step)
        elif isinstance(dist, IntDistribution):
            params[path] = trial.suggest_int(path, dist.low, dist.high, log=dist.log, step=dist.step)
        else:
            choice = trial.suggest_categorical(path, dist.choices)
            params[path] = choice
            params.update(suggest_params(trial, dist.branch_for(choice)))
    return params


class TrialSpecBuilder:
    """Each trial's spec from one base spec, dumped to a tree once (per worker).

    A trial sets its sampled values in copies of the sections they touch and validates the
    tree once: a sampled value that does not fit its field is a SpecError on
    ``search.space``, and validators (a layer count that grows ``units``, a schedule's
    defaults) have run on the trial's spec.
    """

    def __init__(self, spec: ExperimentSpec):
        self.spec = spec
        self.tree = spec.model_dump(mode="json")

    def build(self, params: Mapping[str, Any]) -> ExperimentSpec:
        if not params:
            return self.spec
        tree = dict(self.tree)  # untouched sections are shared, never written
        # a chosen family is a new model: its own defaults, none of the base model's fields
        # (an auto model's `families`); its branch's values come after it
        if "model.family" in params and params["model.family"] != tree["model"].get("family"):
            tree["model"] = default_model_tree(params["model.family"])
        for path, value in params.items():
            if path == "model.family":
                continue
            section, _, rest = path.partition(".")
            tree[section] = set_path(tree[section], rest, value) if rest else value
        return build_spec(tree, where="search.space")

    @staticmethod
    def changed_parts(trial_spec: ExperimentSpec, params: Mapping[str, Any]) -> dict[str, Any]:
        """The parts of ``trial_spec`` a trial's values may have changed, as plain trees by dotted
        prefix: for each sampled path, the innermost spec model that holds it (validators work
        within a model, and a chosen schedule or model family swaps the whole model)."""
        prefixes: set[str] = set()
        for path in params:
            parts, node, holder = path.split("."), trial_spec, ""
            for depth, part in enumerate(parts[:-1], start=1):
                node = node[int(part)] if isinstance(node, (list, tuple)) else getattr(node, part, None)
                if not isinstance(node, BaseModel):
                    break
                holder = ".".join(parts[:depth])
            prefixes.add(holder or parts[0])
        outer = sorted(p for p in prefixes if not any(p.startswith(f"{q}.") for q in prefixes))
        return {prefix: _plain(_walk(trial_spec, prefix)) for prefix in outer}


@functools.cache
def _default_models() -> TypeAdapter:
    return TypeAdapter(ModelSpec)


def default_model_tree(family: str) -> dict:
    """A family's model section with every field at its default (lists in place for ``units.0``)."""
    try:
        return _default_models().validate_python({"family": family}).model_dump(mode="json")
    except ValidationError:
        return {"family": family}  # an unknown family: validation of the trial's spec names it


def _walk(node: Any, path: str) -> Any:
    for part in path.split("."):
        node = node[int(part)] if isinstance(node, (list, tuple)) else getattr(node, part)
    return node


def _plain(value: Any) -> Any:
    return value.model_dump(mode="json") if isinstance(value, BaseModel) else to_jsonable_python(value)


def apply_params(spec: ExperimentSpec, params: Mapping[str, Any]) -> ExperimentSpec:
    """The spec with each searched path set to its value, validated (once)."""
    return TrialSpecBuilder(spec).build(params)


def _check_entries(spec: ExperimentSpec, space: Mapping[str, Any], chosen: dict[str, Any]) -> None:
    base = apply_params(spec, chosen) if chosen else spec
    tree = base.model_dump(mode="json")
    for path, dist in space.items():
        where = f"search.space.{path}"
        if path.split(".")[0] in ("name", "seed", "search", "tracking"):
            raise SpecError(where, "only data, augment, model and train fields can be searched")
        if not has_path(tree, path):
            raise SpecError(where, "no such field in the spec")
        for value in dist.candidates():
            try:
                apply_params(base, {path: value})
            except SpecError as error:
                detail = error.problem.strip().splitlines()[0].strip()
                raise SpecError(where, f"value {value!r} does not fit: {detail}") from None
        if isinstance(dist, CategoricalDistribution):
            for choice in dist.choices:
                # a branch's keys exist once its choice is made (a schedule's own fields, say)
                _check_entries(spec, dist.branch_for(choice), {**chosen, path: choice})


def check_space(spec: ExperimentSpec) -> None:
    """Every searched path exists, and every bound or choice makes a valid spec."""
    _check_entries(spec, spec.search.searched, {})


MAX_GRID_POINTS = 100_000  # per searched field: far past any budget of trials


def grid_values(space: Mapping[str, Any]) -> dict[str, list]:
    """The finite grid of a space, for Optuna's GridSampler."""
    grid: dict[str, list] = {}
    for path, dist in space.items():
        where = f"search.space.{path}"
        if isinstance(dist, (IntDistribution, FloatDistribution)) and dist.step and not dist.log:
            if (dist.high - dist.low) / dist.step >= MAX_GRID_POINTS:  # before the list is built
                raise SpecError(where, f"a grid of more than {MAX_GRID_POINTS:,} values; widen step or narrow the range")
        if isinstance(dist, CategoricalDistribution):
            if dist.branches:
                raise SpecError(where, "the grid sampler needs a space without conditional branches")
            grid[path] = list(dist.choices)
        elif isinstance(dist, IntDistribution) and not dist.log:
            grid[path] = list(range(dist.low, dist.high + 1, dist.step))
        elif isinstance(dist, FloatDistribution) and dist.step is not None:
            count = int(round((dist.high - dist.low) / dist.step)) + 1
            grid[path] = [float(v) for v in np.round(dist.low + dist.step * np.arange(count), 12)]
        else:
            raise SpecError(where, "the grid sampler needs categorical, int or stepped float values")
    if math.prod(len(values) for values in grid.values()) > MAX_GRID_POINTS:  # Optuna lists every combination
        raise SpecError("search.space", f"a grid of more than {MAX_GRID_POINTS:,} combinations; "
                                        "search fewer values or use another sampler")
    return grid


def all_paths(space: Mapping[str, Any]) -> set[str]:
    """Every path a space can sample, those in conditional branches included."""
    paths = set()
    for path, dist in space.items():
        paths.add(path)
        if isinstance(dist, CategoricalDistribution):
            for branch in dist.branches.values():
                paths |= all_paths(branch)
    return paths


def count_configurations(space: Mapping[str, Any]) -> int | None:
    """How many distinct configurations a space holds; None when a float range makes it endless."""
    total = 1
    for dist in space.values():
        if isinstance(dist, CategoricalDistribution):
            counts = [count_configurations(dist.branch_for(choice)) for choice in dist.choices]
            if any(c is None for c in counts):
                return None
            total *= sum(counts)
        elif isinstance(dist, IntDistribution):
            total *= (dist.high - dist.low) // dist.step + 1
        elif dist.step is not None:
            total *= int(round((dist.high - dist.low) / dist.step)) + 1
        else:
            return None
    return total


def _scalar(value: Any) -> str:
    # as YAML reads them back
    return "null" if value is None else str(value).lower() if isinstance(value, bool) else str(value)


def _shown(dist: Any) -> str:
    if isinstance(dist, CategoricalDistribution):
        return "categorical [" + ", ".join(map(_scalar, dist.choices)) + "]"
    scale = " log" if dist.log else (f" step {dist.step:g}" if dist.step not in (None, 1) else "")
    return f"{dist.type} {dist.low:g}..{dist.high:g}{scale}"


def format_space(space: Mapping[str, Any], indent: str = "  ") -> list[str]:
    """One line per path with its distribution; a branch's paths indented under its choice."""
    lines = []
    for path, dist in space.items():
        lines.append(f"{indent}{path}: {_shown(dist)}")
        if isinstance(dist, CategoricalDistribution):
            for choice in dist.choices:
                branch = dist.branch_for(choice)
                if branch:
                    lines.append(f"{indent}  {_scalar(choice)}:")
                    lines.extend(format_space(branch, indent + "    "))
    return lines


def describe_space(space: Mapping[str, Any]) -> dict:
    """The space as plain data, to log."""
    return {path: dist.model_dump(mode="json") for path, dist in space.items()}
