"""Search spaces: sampling dotted spec paths from anything with Optuna's suggest_* API."""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np
from pydantic import BaseModel
from pydantic_core import to_jsonable_python

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
        for path, value in params.items():
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
