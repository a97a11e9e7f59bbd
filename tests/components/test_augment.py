"""Image and tabular augmentation: albumentations' semantics, train-only, seeded replay, spec errors."""

import albumentations as A
import numpy as np
import pytest
import torch

from tunaflow.components.augment import Augmentation, Mixup, build_augmentation
from tunaflow.components.augment_ops import IMAGE_OPS
from tunaflow.components.augment_pipeline import build_pipeline, pipeline_to_dict, transform_dicts
from tunaflow.components.augment_spec import AugmentSpec, ImageAugmentSpec
from tunaflow.components.augment_vectorized import VectorizedPipeline
from tunaflow.components.checks import check_experiment
from tunaflow.components.data import load_dataset, split_dataset
from tunaflow.components.errors import SpecError
from tunaflow.components.models import predict_proba
from tunaflow.components.space import apply_params, check_space
from tunaflow.components.spec import build_spec
from tunaflow.components.trainer import prepare_module, train_model
from tunaflow.components.training import build_classifier, fit_classifier
from tests.conftest import tiny_spec_tree

ALL_OPS = {"rotate": {"p": 0.5}, "translate": {"p": 0.5, "magnitude": 0.2}, "scale": {"p": 0.5},
           "hflip": {"p": 0.5}, "vflip": {"p": 0.5}, "brightness_contrast": {"p": 0.5},
           "noise": {"p": 0.5}, "elastic": {"p": 0.5}, "cutout": {"p": 0.5}}


@pytest.mark.parametrize("transform", [
    A.Affine(rotate=(23, 23), p=1), A.Affine(translate_px={"x": (2, 2), "y": (-3, -3)}, p=1),
    A.Affine(translate_percent=(0.15, 0.15), p=1), A.Affine(scale=(1.3, 1.3), keep_ratio=True, p=1),
    A.HorizontalFlip(p=1), A.VerticalFlip(p=1),
], ids=lambda t: type(t).__name__)
def test_vectorized_engine_matches_albumentations(transform):
    """With its random draw pinned, each transform gives albumentations' own pixels."""
    image = np.random.default_rng(0).random((28, 20, 3)).astype(np.float32)
    compose = A.Compose([transform], seed=0)
    expected = compose(image=image)["image"]
    engine = VectorizedPipeline(transform_dicts(pipeline_to_dict(compose)))
    got = engine(torch.from_numpy(image).permute(2, 0, 1)[None], torch.Generator().manual_seed(0))
    np.testing.assert_allclose(got[0].permute(1, 2, 0).numpy(), expected, atol=1e-4)


@pytest.mark.parametrize("name", list(IMAGE_OPS))
def test_each_operation_is_one_entry_that_both_engines_run(name):
    """The spec field, albumentations' transform and the vectorized step come from one entry."""
    op = IMAGE_OPS[name]
    settings = {"p": 1.0} if op.magnitude is None else {"p": 1.0, "magnitude": op.magnitude.high / 2}
    spec = ImageAugmentSpec.model_validate({name: settings})
    assert [n for n, _ in spec.active()] == [name]
    assert (op.magnitude is None) == ("magnitude" not in type(getattr(spec, name)).model_fields)
    compose = build_pipeline(spec, (12, 10))
    assert [type(t).__name__ for t in compose.transforms] == [op.transform]
    image = np.random.default_rng(1).random((12, 10, 1)).astype(np.float32)
    engine = VectorizedPipeline(transform_dicts(pipeline_to_dict(compose)))
    assert [type(s).__name__ for s in engine.steps] == [op.step]
    got = engine(torch.from_numpy(image).permute(2, 0, 1)[None], torch.Generator().manual_seed(0))
    assert got.shape == (1, 1, 12, 10) and not torch.equal(got[0].permute(1, 2, 0), torch.from_numpy(image))


def test_operations_run_in_the_order_of_the_table():
    spec = ImageAugmentSpec.model_validate({name: {"p": 0.5} for name in reversed(list(IMAGE_OPS))})
    assert [name for name, _ in spec.active()] == list(IMAGE_OPS)


def _engine(ops: dict, shape=(16, 16)) -> VectorizedPipeline:
    return VectorizedPipeline(transform_dicts(pipeline_to_dict(build_pipeline(
        ImageAugmentSpec.model_validate(ops), shape))))


def test_each_operation_changes_what_it_should():
    x = torch.full((256, 1, 16, 16), 0.5)
    g = torch.Generator().manual_seed(1)
    cut = _engine({"cutout": {"p": 1, "magnitude": 0.25}})(x, g)
    assert ((cut == 0).sum(dim=(1, 2, 3)) == 16).all()  # one 4x4 hole in every image
    noisy = _engine({"noise": {"p": 1, "magnitude": 0.1}})(x, g)
    assert 0.02 < float((noisy - x).std()) < 0.1
    bright = _engine({"brightness_contrast": {"p": 1, "magnitude": 0.3}})(x, g)
    means = bright.mean(dim=(1, 2, 3))
    assert float(means.std()) > 0.05 and float(means.min()) >= 0.5 * 0.7 - 0.3 - 1e-6
    half = _engine({"hflip": {"p": 0.5}})(torch.arange(16.0).expand(400, 1, 16, 16), g)
    assert 150 < int((half[:, 0, 0, 0] == 15).sum()) < 250
    blob = torch.zeros(64, 1, 16, 16)
    blob[:, :, 4:12, 4:12] = 1
    warped = _engine({"elastic": {"p": 1, "magnitude": 0.1}})(blob, g)
    assert not torch.equal(warped, blob) and abs(float(warped.sum() / blob.sum()) - 1) < 0.2
    assert torch.equal(_engine({})(x, g), x)


def _cnn_spec(**sections):
    tree = tiny_spec_tree(**sections)
    tree["model"] = {"family": "cnn", "blocks": 1, "channels": [4]}
    return build_spec(tree)


def _digits_splits(subsample=0.3):
    spec = build_spec(tiny_spec_tree(data={"source": "digits", "subsample": subsample}))
    return split_dataset(load_dataset(spec.data), spec.data, 0)


def test_augmentation_replays_per_seed_and_epoch_on_colour_images():
    X = np.random.default_rng(0).uniform(0, 255, (50, 12, 10, 3)).astype(np.float32)
    spec = AugmentSpec.model_validate({"image": ALL_OPS})
    first = build_augmentation(spec, "image", X, seed=5, n_classes=2)
    epochs = [first.image.epoch_images(torch.as_tensor(X), e) for e in range(3)]
    assert epochs[0].shape == X.shape and not torch.equal(epochs[0], epochs[1])
    first.close()
    again = build_augmentation(spec, "image", X, seed=5, n_classes=2)
    assert torch.equal(again.image.epoch_images(torch.as_tensor(X), 2), epochs[2])  # no epochs 0, 1 first
    other = build_augmentation(spec, "image", X, seed=6, n_classes=2)
    assert not torch.equal(other.image.epoch_images(torch.as_tensor(X), 2), epochs[2])
    again.close(), other.close()


def test_albumentations_engine_runs_albumentations_and_replays():
    X = np.random.default_rng(0).uniform(0, 16, (20, 8, 8)).astype(np.float32)
    spec = AugmentSpec.model_validate({"engine": "albumentations", "image": {"rotate": {"p": 1}, "noise": {"p": 1}}})
    a, b = (build_augmentation(spec, "image", X, seed=3, n_classes=2) for _ in range(2))
    ea, eb = a.image.epoch_images(torch.as_tensor(X), 0), b.image.epoch_images(torch.as_tensor(X), 0)
    assert torch.equal(ea, eb) and not torch.equal(ea, torch.as_tensor(X))
    a.close(), b.close()


class Recorder(torch.nn.Module):
    """Wraps a module and keeps what it saw in training and in evaluation mode."""

    def __init__(self, inner):
        super().__init__()
        self.inner, self.seen = inner, {True: [], False: []}

    def forward(self, x):
        self.seen[self.training].append(x.detach().clone())
        return self.inner(x)


def test_only_training_batches_are_augmented():
    splits = _digits_splits()
    spec = _cnn_spec(augment={"image": {"cutout": {"p": 1.0, "magnitude": 0.5}}})
    module = Recorder(prepare_module(spec, splits.X_train, 10, "image", 0))
    augmentation = build_augmentation(spec.augment, "image", splits.X_train, seed=1, n_classes=10)
    net = build_classifier(module, spec.train, seed=0, valid=(splits.X_val, splits.y_val), augmentation=augmentation)
    fit_classifier(net, splits.X_train, splits.y_train)
    augmentation.close()
    trained = torch.cat(module.seen[True])
    holes = (trained == 0).flatten(1).sum(1)
    assert (holes >= 16).all()  # a 4x4 hole in every training image
    validated = torch.cat(module.seen[False])
    assert torch.equal(validated, torch.as_tensor(splits.X_val).repeat(spec.train.epochs, 1, 1))
    module.seen[False].clear()
    predict_proba(module, splits.X_test)
    assert torch.equal(torch.cat(module.seen[False]), torch.as_tensor(splits.X_test))


def test_a_trial_replays_exactly_with_augmentation():
    splits = _digits_splits()
    spec = _cnn_spec(augment={"image": ALL_OPS})
    runs = [train_model(spec, splits.X_train, splits.y_train, n_classes=10, kind="image", seed=s,
                        valid=(splits.X_val, splits.y_val))[1].history for s in (11, 11, 12)]
    losses = [[row["train_loss"] for row in h] for h in runs]
    assert losses[0] == losses[1] and losses[0] != losses[2]


def test_mixup_mixes_features_and_labels_alike():
    X = torch.eye(6)
    y = torch.arange(6) % 3
    Xm, ym = Mixup(0.4, 3)(X, y, torch.Generator().manual_seed(0))
    assert torch.allclose(ym.sum(1), torch.ones(6)) and torch.allclose(Xm.sum(1), torch.ones(6))
    assert not torch.equal(Xm, X)
    spec = build_spec(tiny_spec_tree(data={"source": "iris"}, augment={"tabular": {"mixup": 0.3, "noise": 0.1}}))
    data = load_dataset(spec.data)
    splits = split_dataset(data, spec.data, 0)
    aug = build_augmentation(spec.augment, "tabular", splits.X_train, seed=0, n_classes=3)
    assert [op.describe()["op"] for op in aug.batch_ops] == ["gaussian_noise", "mixup"]
    _, fit = train_model(spec, splits.X_train, splits.y_train, n_classes=3, kind="tabular", seed=0,
                         valid=(splits.X_val, splits.y_val))
    assert np.isfinite(fit.history[-1]["train_loss"])


@pytest.mark.parametrize("augment,message", [
    ({"image": {"rotation": {"p": 0.5}}}, "augment.image: unknown operation 'rotation'; valid operations: rotate, "),
    ({"image": {"rotate": {"p": 1.5}}}, "augment.image.rotate.p: Input should be less than or equal to 1"),
    ({"image": {"cutout": {"p": -0.1}}}, "augment.image.cutout.p: Input should be greater than or equal to 0"),
    ({"image": {"rotate": {"magnitude": 200}}}, "augment.image.rotate.magnitude: Input should be less than or equal to 180"),
    ({"image": {"hflip": {"magnitude": 1}}}, "augment.image.hflip.magnitude: unknown field"),
    ({"tabular": {"mixup": -1}}, "augment.tabular.mixup"),
])
def test_bad_augment_fields_name_the_field(augment, message):
    with pytest.raises(SpecError) as info:
        build_spec(tiny_spec_tree(augment=augment))
    assert message in str(info.value)


@pytest.mark.parametrize("tree,message", [
    (tiny_spec_tree(data={"source": "iris"}, augment={"image": {"rotate": {"p": 0.5}}}),
     "augment.image.rotate: image operation on a tabular source (iris)"),
    (tiny_spec_tree(data={"source": "iris"}, search={"space": {
        "augment.image.elastic.p": {"type": "float", "low": 0, "high": 0.5}}}),
     "augment.image.elastic.p: image operation on a tabular source"),
    (tiny_spec_tree(augment={"tabular": {"mixup": 0.2}}), "augment.tabular.mixup: tabular mixup on an image source"),
])
def test_augmentation_that_does_not_fit_the_source(tree, message):
    with pytest.raises(SpecError) as info:
        check_experiment(build_spec(tree))
    assert message in str(info.value)


def test_every_augment_field_is_searchable():
    space = {"augment.enabled": {"type": "categorical", "choices": [True, False]},
             "augment.image.rotate.p": {"type": "float", "low": 0, "high": 1},
             "augment.image.cutout.magnitude": {"type": "float", "low": 0.1, "high": 0.5},
             "augment.engine": {"type": "categorical", "choices": ["vectorized", "albumentations"]}}
    spec = build_spec(tiny_spec_tree(search={"space": space}))
    check_space(spec)
    chosen = apply_params(spec, {"augment.enabled": False, "augment.image.rotate.p": 0.25,
                                 "augment.image.cutout.magnitude": 0.3})
    assert not chosen.augment.enabled and chosen.augment.image.rotate.p == 0.25
    assert chosen.augment.image.cutout.magnitude == 0.3
    bad = build_spec(tiny_spec_tree(search={"space": {"augment.image.rotate.p": {"type": "float", "low": 0, "high": 2}}}))
    with pytest.raises(SpecError, match="search.space.augment.image.rotate.p: value 2"):
        check_space(bad)


def test_identity_when_disabled_or_empty():
    X = np.zeros((10, 8, 8), dtype=np.float32)
    assert build_augmentation(AugmentSpec.model_validate({"enabled": False, "image": ALL_OPS}), "image", X,
                              seed=0, n_classes=2) is None
    assert build_augmentation(AugmentSpec(), "image", X, seed=0, n_classes=2) is None
    assert isinstance(build_augmentation(AugmentSpec.model_validate({"image": ALL_OPS}), "image", X,
                                         seed=0, n_classes=2), Augmentation)
