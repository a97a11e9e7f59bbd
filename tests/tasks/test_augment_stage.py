"""The augmentation stage logs its pipeline in albumentations' format, and it reloads from the run."""

import albumentations as A
import pytest
import torch
from mlflow.tracking import MlflowClient

from tunaflow.components.data import load_dataset, split_dataset
from tunaflow.components.errors import UserInputError
from tunaflow.components.spec import build_spec
from tunaflow.components.trainer import spec_augmentation
from tunaflow.tasks.augment import PIPELINE_FILE, SAMPLES_FILE, build_augmentation_stage, load_augmentation
from tunaflow.tasks.mlflow.tracking import open_parent_run
from tests.conftest import tiny_spec_tree

OPS = {"rotate": {"p": 0.5}, "elastic": {"p": 0.3}, "cutout": {"p": 0.4, "magnitude": 0.3}, "noise": {"p": 0.2}}


def _stage_run(spec):
    splits = split_dataset(load_dataset(spec.data), spec.data, 0)
    ctx = open_parent_run(spec.name, "parent", {})
    described = build_augmentation_stage.fn(spec, splits, ctx)
    client = MlflowClient()
    run = client.search_runs([ctx.experiment_id], filter_string="tags.`tunaflow.stage` = 'augmentation'")[0]
    return splits, described, run


def test_pipeline_and_samples_are_logged_and_the_pipeline_reloads():
    spec = build_spec(tiny_spec_tree(augment={"image": OPS}))
    splits, described, run = _stage_run(spec)
    files = {f.path for f in MlflowClient().list_artifacts(run.info.run_id)}
    assert {PIPELINE_FILE, SAMPLES_FILE, "augmentation.json"} <= files
    assert described["image_pipeline"] == ["Affine", "ElasticTransform", "GaussNoise", "CoarseDropout"]
    assert run.data.params["image.rotate.p"] == "0.5" and run.data.params["enabled"] == "True"
    path = MlflowClient().download_artifacts(run.info.run_id, PIPELINE_FILE)
    assert [type(t).__name__ for t in A.load(path, data_format="json").transforms] == described["image_pipeline"]

    reloaded = load_augmentation(run.info.run_id, seed=9)
    built = spec_augmentation(spec, splits.X_train, splits.n_classes, splits.kind, 9)
    X = torch.as_tensor(splits.X_train)
    for epoch in range(2):
        assert torch.equal(reloaded.image.epoch_images(X, epoch), built.image.epoch_images(X, epoch))
    reloaded.close(), built.close()


def test_a_run_without_image_augmentation_cannot_be_reloaded():
    spec = build_spec(tiny_spec_tree())
    _, described, run = _stage_run(spec)
    assert described == {"pipeline": "identity"}
    with pytest.raises(UserInputError, match="no image augmentation to reload"):
        load_augmentation(run.info.run_id, seed=0)
