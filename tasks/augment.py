"""Stage: build the train-time augmentation and record the pipeline; reload it from a run."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import mlflow
import numpy as np
import torch
from mlflow.tracking import MlflowClient
from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE

from tunaflow.components.augment import Augmentation, describe_augmentation, image_augmentation_from_pipeline
from tunaflow.components.augment_pipeline import load_pipeline, save_pipeline
from tunaflow.components.back_translate import back_translation_asked
from tunaflow.components.data import DataSplits
from tunaflow.components.errors import UserInputError
from tunaflow.components.seeding import derive_seed
from tunaflow.components.space import all_paths
from tunaflow.components.spec import ExperimentSpec
from tunaflow.components.trainer import spec_augmentation, text_options
from tunaflow.tasks.mlflow.tracking import TrackingContext, flatten_spec, log_dict_artifact, log_figure_artifact, stage_run

PIPELINE_FILE = "augmentation_pipeline.json"  # albumentations' own format (A.save / A.load)
DESCRIPTION_FILE = "augmentation.json"
SAMPLES_FILE = "augmentation_samples.png"
TEXT_SAMPLES_FILE = "augmentation_text_samples.json"


@task(name="build augmentation", cache_policy=NO_CACHE)
def build_augmentation_stage(spec: ExperimentSpec, splits: DataSplits, ctx: TrackingContext) -> dict:
    translations = splits.back_translations
    if translations is not None and back_translation_asked(spec.augment, all_paths(spec.search.searched)):
        # translated once, here: the search's workers receive the translations with the splits
        translations.table()
        get_run_logger().info(f"back-translation: {translations.stats['documents']} documents through "
                              f"{translations.stats['translator']} in {translations.stats['seconds']:.1f}s")
    augmentation = spec_augmentation(spec, splits.X_train, splits.n_classes, splits.kind,
                                     derive_seed(spec.seed, "augmentation-stage"), **text_options(splits))
    with stage_run(ctx, "augmentation"):
        mlflow.log_params(flatten_spec(spec.augment.model_dump(mode="json")))
        if translations is not None and translations.stats:
            mlflow.log_metrics({f"back_translate_{k}": v for k, v in translations.stats.items() if k != "translator"})
        described = log_augmentation(augmentation)
        if augmentation is not None and augmentation.image is not None:
            log_samples(augmentation, splits, spec.seed)
        if augmentation is not None and splits.kind == "text":
            log_dict_artifact(text_samples(augmentation, splits, spec.seed), TEXT_SAMPLES_FILE)
    return described


def text_samples(augmentation: Augmentation, splits: DataSplits, seed: int, n: int = 10) -> list[dict]:
    """A few training documents as the model reads them, before and after one augmented draw
    (and their round trip, when back-translation is on)."""
    from tunaflow.components.back_translate import BackTranslate
    from tunaflow.components.text_augment import decode

    rng = np.random.default_rng(derive_seed(seed, "augmentation-samples"))
    rows = splits.X_train[rng.choice(len(splits.X_train), size=min(n, len(splits.X_train)), replace=False)]
    transform = augmentation.start_epoch(torch.as_tensor(rows))
    after, _ = transform(slice(None), torch.as_tensor(rows), None)
    vocabulary = splits.encoder.vocabulary
    samples = [{"before": decode(a, vocabulary), "after": decode(b, vocabulary)} for a, b in zip(rows, after.numpy())]
    for op in augmentation.batch_ops:
        if isinstance(op, BackTranslate):
            for sample, row in zip(samples, rows):
                trip = op.translations.alternate(row)
                sample["back_translated"] = None if trip is None else decode(trip, vocabulary)
    return samples


def log_augmentation(augmentation: Augmentation | None, run_id: str | None = None) -> dict:
    """The description, and the image pipeline in albumentations' format, with the (active) run."""
    described = describe_augmentation(augmentation)
    log_dict_artifact(described, DESCRIPTION_FILE, run_id)
    if augmentation is not None and augmentation.image is not None:
        with tempfile.TemporaryDirectory(prefix="tunaflow-") as workdir:
            path = Path(workdir) / PIPELINE_FILE
            save_pipeline(augmentation.image.pipeline, str(path))
            if run_id is None:
                mlflow.log_artifact(str(path))
            else:
                MlflowClient().log_artifact(run_id, str(path))
    return described


def log_samples(augmentation: Augmentation, splits: DataSplits, seed: int, images: int = 8,
                variants: int = 8) -> None:
    """A grid: one row per training image, the original first, then augmented draws."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rng = np.random.default_rng(derive_seed(seed, "augmentation-samples"))
    X = splits.X_train[rng.choice(len(splits.X_train), size=min(images, len(splits.X_train)), replace=False)]
    drawn = augmentation.image.preview(X, variants, derive_seed(seed, "augmentation-preview"))
    low, high = augmentation.image.value_range
    figure, axes = plt.subplots(len(X), variants + 1, figsize=(variants + 1, len(X)), squeeze=False)
    for row, (original, variants_of) in enumerate(zip(X, drawn)):
        for col, image in enumerate([original, *variants_of]):
            shown = np.clip((image - low) / max(high - low, 1e-12), 0, 1)
            axes[row, col].imshow(shown, cmap="gray" if shown.ndim == 2 else None, vmin=0, vmax=1)
            axes[row, col].axis("off")
    axes[0, 0].set_title("original", fontsize=7)
    figure.tight_layout()
    log_figure_artifact(figure, SAMPLES_FILE)


def load_augmentation(run_id: str, seed: int, engine: str | None = None) -> Augmentation:
    """The image augmentation logged with ``run_id`` (the augmentation or final-training run), for a fit with ``seed``."""
    with tempfile.TemporaryDirectory(prefix="tunaflow-") as workdir:
        files = {}
        for name in (PIPELINE_FILE, DESCRIPTION_FILE):
            try:
                files[name] = mlflow.artifacts.download_artifacts(run_id=run_id, artifact_path=name, dst_path=workdir)
            except Exception as error:  # MLflow raises several types for a missing run or file
                raise UserInputError(f"run {run_id}", f"no image augmentation to reload ({name}: {error})") from None
        pipeline = load_pipeline(files[PIPELINE_FILE])
        described = json.loads(Path(files[DESCRIPTION_FILE]).read_text())
    return image_augmentation_from_pipeline(pipeline, described["value_range"], engine or described["engine"],
                                            derive_seed(seed, "augment"))
