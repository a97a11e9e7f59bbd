"""Search spaces: sampling dotted spec paths from anything with Optuna's suggest_* API."""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np

from tunaflow.components.distributions import CategoricalDistribution, FloatDistribution, IntDistribution
from tunaflow.components.errors import SpecError
from tunaflow.components.paths import has_path, set_path
from tunaflow.components.spec import ExperimentSpec, build_spec


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


def apply_params(spec: ExperimentSpec, params: Mapping[str, Any]) -> ExperimentSpec:
    """The spec with each searched path set to its value, validated again."""
    tree = spec.model_dump(mode="json")
    for path, value in params.items():
        tree = set_path(tree, path, value)
    return build_spec(tree, where="search.space")


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
    _check_entries(spec, spec.search.space, {})


def grid_values(space: Mapping[str, Any]) -> dict[str, list]:
    """The finite grid of a space, for Optuna's GridSampler."""
    grid: dict[str, list] = {}
    for path, dist in space.items():
        where = f"search.space.{path}"
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


def describe_space(space: Mapping[str, Any]) -> dict:
    """The space as plain data, to log."""
    return {path: dist.model_dump(mode="json") for path, dist in space.items()}
