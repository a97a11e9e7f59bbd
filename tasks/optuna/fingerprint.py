"""A study's fingerprint in its user attributes: checked before a run or worker joins it, and
the resumable settings recorded, so that a resume says what changed."""

from __future__ import annotations

import optuna

from tunaflow.components.errors import UserInputError
from tunaflow.components.fingerprint import (changed_settings, differing_parts, fingerprint_parts, legacy_digest,
                                             resumable_settings, study_fingerprint)
from tunaflow.components.spec import ExperimentSpec
from tunaflow.tasks import tags as keys

# user attributes of a tunaflow study
DIGEST = keys.SPEC_DIGEST  # the fingerprint (studies made before it hold the legacy digest)
PARTS = keys.FINGERPRINT_PARTS
SETTINGS = keys.SETTINGS  # the resumable settings of the latest run on the study
OBJECTIVES = keys.OBJECTIVES


def check_fingerprint(spec: ExperimentSpec, attrs: dict) -> None:
    """A spec may work on a study only if nothing that changes a trial's value changed."""
    recorded = attrs.get(DIGEST)
    if not recorded or recorded in (study_fingerprint(spec), legacy_digest(spec)):
        return
    parts = differing_parts(attrs.get(PARTS) or {}, fingerprint_parts(spec)) if attrs.get(PARTS) else []
    what = f" (changed: {', '.join(parts)})" if parts else ""
    raise UserInputError(
        "name",
        f"study {spec.name!r} already exists with trials scored differently{what}; resume it with the same data, "
        "augment, model, train, space, objectives, validation and seed, or give this experiment another name "
        "(--set name=...)",
    )


def settings_changes(spec: ExperimentSpec, attrs: dict) -> str | None:
    """One line naming the resumable settings that differ from those the study recorded, if any."""
    changes = changed_settings(attrs.get(SETTINGS) or {}, resumable_settings(spec))
    if not changes:
        return None
    return f"study {spec.name!r}: settings changed since its last run: {'; '.join(changes)}"


def record_fingerprint(study: optuna.Study, spec: ExperimentSpec) -> None:
    """The fingerprint (once it has been checked) and this run's resumable settings."""
    attrs = study.user_attrs
    digest = study_fingerprint(spec)
    if attrs.get(DIGEST) != digest:  # a new study, or one that holds the legacy digest
        study.set_user_attr(DIGEST, digest)
        study.set_user_attr(PARTS, fingerprint_parts(spec))
        study.set_user_attr(OBJECTIVES, [o.metric for o in spec.search.objective_specs])
    settings = resumable_settings(spec)
    if attrs.get(SETTINGS) != settings:
        study.set_user_attr(SETTINGS, settings)
