"""A study's fingerprint: what changes a trial's value, apart from what a resume may change.

Trials of one study are comparable when the same parameters give the same value: the
same data and splits, augmentation, model, training (its learning curve aside: that runs
after the search), search space, objectives, validation scheme and seed (each trial's
seed derives from it). ``train.epochs`` and early stopping change the trained network,
so they count; ``search.patience`` only decides when the search stops, so it does not.

How the search proceeds (sampler, pruner, stall patience, selection of the registered
trial, budget, workers, heartbeat, warm start), where its state lives (storage, tracking),
the device trials train on and the learning curve may change between runs of one study;
they are recorded so that a resume can say what changed.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from tunaflow.components.secrets import mask_url

RESUMABLE = (
    "search.sampler", "search.pruner", "search.patience", "search.selection", "search.n_trials",
    "search.timeout", "search.workers", "search.heartbeat", "search.cluster", "search.storage",
    "search.warm_start", "search.prefer_start", "search.ensemble", "train.learning_curve", "train.device",
    "tracking",
)

_MISSING = object()
# data fields added with the text modality: at their defaults they are left out, so the
# fingerprints of studies made before them stay as they were
_TEXT_DEFAULTS = {"text": None, "vocab_size": 50_000, "min_freq": 2, "max_tokens": 1000}


def _drop_text_defaults(data: dict) -> None:
    for key, default in _TEXT_DEFAULTS.items():
        if data.get(key, default) == default:
            data.pop(key, None)


def _drop_single_pass(search: dict) -> None:
    # k-fold repeats came later: one pass (or auto, which a run resolves) is how studies were
    # scored before them, and their fingerprints stay as they were
    validation = search.get("validation", {})
    if validation.get("repeats") in (1, "auto"):
        validation.pop("repeats")


def _digest(value: Any) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True).encode()).hexdigest()[:16]


def _split(spec) -> tuple[dict, dict]:
    """The spec as a tree of what fingerprints its study, and the resumable settings apart."""
    tree = spec.model_dump(mode="json")
    tree.pop("name")  # the study's key, not one of its settings
    _drop_text_defaults(tree["data"])
    search = tree["search"]
    _drop_single_pass(search)
    # `metric: valid_loss` and `objectives: [{metric: valid_loss}]` score trials alike
    search.pop("metric")
    search["objectives"] = [[o.metric, o.resolved_direction] for o in spec.search.objective_specs]
    settings = {}
    for path in RESUMABLE:
        section, _, key = path.partition(".")
        holder, field = (tree.get(section, {}), key) if key else (tree, section)
        value = holder.pop(field, _MISSING)
        if value is not _MISSING:
            settings[path] = value
    return tree, settings


def fingerprint_parts(spec) -> dict[str, str]:
    """A digest per part of the fingerprint (``data``, ``train``, ``search.space``, ...), so that a
    refused resume can name the parts that differ."""
    tree, _ = _split(spec)
    search = tree.pop("search")
    parts = {**tree, **{f"search.{key}": value for key, value in search.items()}}
    return {name: _digest(value) for name, value in parts.items()}


def study_fingerprint(spec) -> str:
    """The digest of everything that changes a trial's value."""
    return _digest(fingerprint_parts(spec))


def legacy_digest(spec) -> str:
    """The digest studies recorded before the fingerprint (every setting but the budget, workers,
    heartbeat, cluster, storage and tracking), so that such a study resumes unchanged."""
    tree = spec.model_dump(mode="json")
    for key in ("n_trials", "timeout", "workers", "storage", "heartbeat", "cluster", "ensemble"):
        tree["search"].pop(key, None)
    tree.pop("tracking")
    tree["train"].pop("device", None)  # added after such studies were made
    _drop_text_defaults(tree["data"])
    _drop_single_pass(tree["search"])
    return _digest(tree)


def _flatten(value: Any, prefix: str, out: dict) -> None:
    if isinstance(value, dict) and value:
        for key, item in value.items():
            _flatten(item, f"{prefix}.{key}", out)
    else:
        out[prefix] = mask_url(value) if isinstance(value, str) else value


def resumable_settings(spec) -> dict[str, Any]:
    """The settings a resume may change, as dotted paths to plain values (URL passwords masked)."""
    _, settings = _split(spec)
    flat: dict[str, Any] = {}
    for path, value in settings.items():
        _flatten(value, path, flat)
    return flat


def _shown(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def changed_settings(recorded: dict[str, Any], current: dict[str, Any]) -> list[str]:
    """``path old -> new`` for each recorded setting whose value differs now (settings the
    study did not record, from an older version, are not compared)."""
    return [f"{path} {_shown(recorded[path])} -> {_shown(value)}"
            for path, value in sorted(current.items()) if path in recorded and recorded[path] != value]


def differing_parts(recorded: dict[str, str], current: dict[str, str]) -> list[str]:
    """The fingerprint parts whose digests differ (those either side lacks included)."""
    return sorted(name for name in set(recorded) | set(current) if recorded.get(name) != current.get(name))
