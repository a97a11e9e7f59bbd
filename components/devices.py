"""Which torch device a network trains on: ``train.device`` resolved against this machine."""

from __future__ import annotations

from tunaflow.components.errors import SpecError


def _mps_available() -> bool:
    import torch

    backend = getattr(torch.backends, "mps", None)
    return bool(backend is not None and backend.is_available())


def _cuda_available() -> bool:
    import torch

    return torch.cuda.is_available()


def resolve_device(name: str) -> str:
    """The torch device for ``train.device``: ``auto`` is cuda, else mps, else cpu.

    Asking for a device this machine lacks is the user's mistake, named as ``train.device``.
    """
    if name == "cpu":
        return name
    import torch  # lazily: checking a spec pays torch's import only when it names a GPU

    if name == "auto":
        return "cuda" if _cuda_available() else "mps" if _mps_available() else "cpu"
    if name == "cuda" and not _cuda_available():
        raise SpecError("train.device", f"cuda was asked for, but torch {torch.__version__} sees no CUDA GPU "
                                        "on this machine (use auto or cpu)")
    if name == "mps" and not _mps_available():
        raise SpecError("train.device", f"mps was asked for, but torch {torch.__version__} sees no Apple MPS "
                                        "device on this machine (use auto or cpu)")
    if name not in ("cpu", "cuda", "mps"):
        raise SpecError("train.device", f"unknown device {name!r}; one of 'auto', 'cpu', 'cuda', 'mps'")
    return name


def check_device(name: str) -> None:
    """Refuse a ``train.device`` this machine lacks, before anything runs (``auto`` always resolves)."""
    if name != "auto":
        resolve_device(name)


def module_device(module) -> "torch.device":  # noqa: F821 (torch is imported lazily)
    """The device a module's parameters (or buffers) live on; cpu for a module with neither."""
    import torch

    for tensor in (*module.parameters(), *module.buffers()):
        return tensor.device
    return torch.device("cpu")
