"""Checks of a whole experiment before anything runs or is written."""

from __future__ import annotations

from tunaflow.components.augment_spec import check_augment_fits
from tunaflow.components.data import DataSplits, load_dataset, split_dataset
from tunaflow.components.devices import check_device
from tunaflow.components.errors import SpecError
from tunaflow.components.extras import require_package
from tunaflow.components.seeding import derive_seed
from tunaflow.components.space import all_paths, check_space, grid_values
from tunaflow.components.spec import CNNSpec, ExperimentSpec


def check_experiment(spec: ExperimentSpec) -> DataSplits:
    """Load and split the data and check the spec against it; the splits come back."""
    check_space(spec)
    check_device(spec.train.device)
    if spec.search.cluster:
        require_package("prefect_dask", "search.cluster", "a Dask cluster")
    if spec.search.sampler == "grid":
        grid_values(spec.search.searched)
    splits = split_dataset(load_dataset(spec.data), spec.data, derive_seed(spec.seed, "split"))
    if isinstance(spec.model, CNNSpec) and splits.kind != "image":
        raise SpecError("model.family", f"cnn needs an image source; {spec.data.source} is tabular")
    if spec.model.output == "sigmoid" and splits.n_classes != 2:
        raise SpecError("model.output", f"sigmoid needs two classes; {spec.data.source} has {splits.n_classes}")
    check_augment_fits(spec.augment, splits.kind, spec.data.source, all_paths(spec.search.searched))
    return splits
