"""Checks of a whole experiment before anything runs or is written."""

from __future__ import annotations

from tunaflow.components.augment_spec import check_augment_fits
from tunaflow.components.data import DataSplits, load_dataset, split_dataset
from tunaflow.components.devices import check_device
from tunaflow.components.errors import SpecError
from tunaflow.components.extras import require_package
from tunaflow.components.family_checks import check_model_fits
from tunaflow.components.resolve import resolve_experiment
from tunaflow.components.seeding import derive_seed
from tunaflow.components.space import all_paths, check_space, grid_values
from tunaflow.components.spec import ExperimentSpec


def prepare_experiment(spec: ExperimentSpec) -> tuple[ExperimentSpec, DataSplits]:
    """Load and split the data, resolve the spec for it (components/resolve.py) and check the
    resolved spec against the data; the resolved spec and the splits come back."""
    check_device(spec.train.device)
    if spec.search.cluster:
        require_package("prefect_dask", "search.cluster", "a Dask cluster")
    splits = split_dataset(load_dataset(spec.data), spec.data, derive_seed(spec.seed, "split"))
    resolved = resolve_experiment(spec, splits)
    check_space(resolved)
    check_model_fits(resolved, splits.task)
    if resolved.search.sampler == "grid":
        grid_values(resolved.search.searched)
    if getattr(resolved.model, "output", "softmax") == "sigmoid" and splits.n_classes != 2:
        raise SpecError("model.output", f"sigmoid needs two classes; {spec.data.source} has {splits.n_classes}")
    check_augment_fits(resolved.augment, splits.kind, spec.data.source, all_paths(resolved.search.searched))
    return resolved, splits


def check_experiment(spec: ExperimentSpec) -> DataSplits:
    """Load and split the data and check the spec against it; the splits come back."""
    return prepare_experiment(spec)[1]
