"""PyTorch modules built from the spec's model section.

A ``ClassifierModule`` takes the model's input (encoded tabular rows or images shaped
(N, H, W) or (N, H, W, C)): standardization and reshaping live inside it, so the
registered model predicts from what a caller has, not from what training prepared.
Tabular rows may end with category codes (``embedded``): the MLP gives each its own
``nn.Embedding``. A regression network has one linear output on the standardized target;
the module keeps the target's mean and std as buffers, so its weights carry them.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from tunaflow.components.devices import module_device
from tunaflow.components.model_spec import TEXT_FAMILIES
from tunaflow.components.spec import CNNSpec, MLPSpec
from tunaflow.components.text_networks import build_text_network

_ACTIVATIONS = {
    "relu": nn.ReLU,
    "leaky_relu": nn.LeakyReLU,
    "elu": nn.ELU,
    "selu": nn.SELU,
    "gelu": nn.GELU,
    "silu": nn.SiLU,
    "tanh": nn.Tanh,
    "sigmoid": nn.Sigmoid,
}


def make_activation(name: str) -> nn.Module:
    return _ACTIVATIONS[name]()


class InputTransform(nn.Module):
    """Standardizes raw input with training statistics; images become (N, C, H, W)."""

    def __init__(self, kind: str, mean: np.ndarray, std: np.ndarray):
        super().__init__()
        self.kind = kind
        self.register_buffer("mean", torch.as_tensor(mean, dtype=torch.float32))
        self.register_buffer("std", torch.as_tensor(std, dtype=torch.float32))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # to the module's device too: a caller with CPU data can use a module trained on a GPU
        x = x.to(device=self.mean.device, dtype=torch.float32)
        if self.kind == "text":  # token ids, cast by the network
            return x
        if self.kind == "image":
            if x.dim() == 3:
                x = x.unsqueeze(-1)
            return ((x - self.mean) / self.std).permute(0, 3, 1, 2)
        return (x - self.mean) / self.std


def input_statistics(X: np.ndarray, kind: str, n_embedded: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Per-feature (tabular) or per-channel (image) mean and std of training data.

    The last ``n_embedded`` columns are category codes: mean 0 and std 1 leave them as they are,
    as they leave token ids (text).
    """
    if kind == "text":
        return np.zeros(X.shape[1], np.float32), np.ones(X.shape[1], np.float32)
    if kind != "image":
        axes = 0
    else:  # per channel for (N, H, W, C); one scalar for (N, H, W)
        axes = tuple(range(X.ndim - 1)) if X.ndim == 4 else tuple(range(X.ndim))
    mean = X.mean(axis=axes, dtype=np.float64)
    std = X.std(axis=axes, dtype=np.float64)
    std = np.where(std < 1e-8, 1.0, std)
    if n_embedded:
        mean[-n_embedded:], std[-n_embedded:] = 0.0, 1.0
    return mean.astype(np.float32), std.astype(np.float32)


def target_statistics(y: np.ndarray) -> tuple[float, float]:
    """Mean and std of a regression target (std 1 for a constant one)."""
    std = float(np.std(y, dtype=np.float64))
    return float(np.mean(y, dtype=np.float64)), std if std > 1e-12 else 1.0


def embedding_width(cardinality: int) -> int:
    return max(1, min(16, (cardinality + 1) // 2))


class CategoryEmbedding(nn.Module):
    """Dense features as they are, each trailing code column replaced by its embedding."""

    def __init__(self, n_dense: int, cardinalities: list[int]):
        super().__init__()
        self.n_dense = n_dense
        self.embeddings = nn.ModuleList(nn.Embedding(card, embedding_width(card)) for card in cardinalities)
        # an unseen code maps to 0 (missing/unknown) before it reaches the model; the clamp is a guard
        self.register_buffer("max_code", torch.as_tensor([card - 1 for card in cardinalities]))
        self.width = n_dense + sum(embedding_width(card) for card in cardinalities)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        codes = torch.minimum(x[:, self.n_dense:].long().clamp(min=0), self.max_code)
        return torch.cat([x[:, :self.n_dense], *(emb(codes[:, i]) for i, emb in enumerate(self.embeddings))], 1)


class SigmoidLogits(nn.Module):
    """One logit z as the pair (0, z): softmax over it is (1 - sigmoid(z), sigmoid(z)), and
    cross-entropy on it is binary cross-entropy, so a sigmoid output fits the rest unchanged."""

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return torch.cat([torch.zeros_like(z), z], dim=1)


def output_layers(width: int, n_classes: int, spec: MLPSpec | CNNSpec, task: str = "classification") -> list[nn.Module]:
    if task == "regression":
        return [nn.Linear(width, 1)]
    if spec.output == "sigmoid":
        if n_classes != 2:
            raise ValueError(f"model.output: sigmoid needs two classes, the data has {n_classes}")
        return [nn.Linear(width, 1), SigmoidLogits()]
    return [nn.Linear(width, n_classes)]


def normalized_activation(width: int, spec: MLPSpec | CNNSpec, conv: bool) -> list[nn.Module]:
    """Activation with batch normalization before or after it, as the spec says."""
    layers = [make_activation(spec.activation)]
    if spec.batch_norm:
        norm = nn.BatchNorm2d(width) if conv else nn.BatchNorm1d(width)
        layers.insert(0 if spec.batch_norm_position == "before" else 1, norm)
    return layers


class MLPModule(nn.Module):
    """Dense layers: linear, batch norm and activation (in the spec's order), dropout; a linear head."""

    def __init__(self, in_features: int, n_classes: int, spec: MLPSpec, task: str = "classification",
                 embedded: list[int] | tuple = ()):
        super().__init__()
        layers: list[nn.Module] = [nn.Flatten()]
        width = in_features
        if embedded:
            layers = [CategoryEmbedding(in_features - len(embedded), list(embedded))]
            width = layers[0].width
        for units, rate in zip(spec.units, spec.dropout_rates()):
            layers.append(nn.Linear(width, units))
            layers += normalized_activation(units, spec, conv=False)
            if rate > 0:
                layers.append(nn.Dropout(rate))
            width = units
        layers += output_layers(width, n_classes, spec, task)
        self.layers = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layers(x)


class CNNModule(nn.Module):
    """Conv blocks (conv, batch norm and activation, pool, dropout) and a dense head."""

    def __init__(self, image_shape: tuple[int, ...], n_classes: int, spec: CNNSpec, task: str = "classification"):
        super().__init__()
        height, width = image_shape[:2]
        channels = image_shape[2] if len(image_shape) == 3 else 1
        rates = spec.dropout_rates()
        blocks: list[nn.Module] = []
        for out_channels, rate in zip(spec.channels, rates):
            blocks.append(nn.Conv2d(channels, out_channels, spec.kernel_size, padding=spec.kernel_size // 2))
            blocks += normalized_activation(out_channels, spec, conv=True)
            if spec.pool != "none" and min(height, width) >= 2:
                blocks.append(nn.MaxPool2d(2) if spec.pool == "max" else nn.AvgPool2d(2))
                height, width = height // 2, width // 2
            if rate > 0:
                blocks.append(nn.Dropout2d(rate))
            channels = out_channels
        self.features = nn.Sequential(*blocks)
        head: list[nn.Module] = [nn.Flatten(), nn.Linear(channels * height * width, spec.dense_units)]
        head.append(make_activation(spec.activation))
        if rates[-1] > 0:
            head.append(nn.Dropout(rates[-1]))
        head += output_layers(spec.dense_units, n_classes, spec, task)
        self.head = nn.Sequential(*head)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))


def weight_layers(module: nn.Module) -> list[nn.Module]:
    """The linear and conv layers in order: what per-layer L1/L2 coefficients refer to."""
    return [m for m in module.modules() if isinstance(m, (nn.Linear, nn.Conv2d))]


class ClassifierModule(nn.Module):
    """Input -> logits (or the standardized regression target): the input transform, then the network.

    A regression module holds ``target_mean`` and ``target_std``: its output times the std
    plus the mean is a prediction in the target's units (``predict_values``).
    """

    def __init__(self, transform: InputTransform, network: nn.Module, target: tuple[float, float] | None = None):
        super().__init__()
        self.transform = transform
        self.network = network
        self.task = "classification" if target is None else "regression"
        if target is not None:
            self.register_buffer("target_mean", torch.tensor(float(target[0])))
            self.register_buffer("target_std", torch.tensor(float(target[1])))
        self._descendants = tuple(self.modules())[1:]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.network(self.transform(x))

    def train(self, mode: bool = True) -> "ClassifierModule":
        # skorch sets the mode before every batch; torch's train() walks every submodule each
        # time, which on small networks costs a few percent of a batch: skip it when all are set
        if self.training == mode and all(m.training == mode for m in self._descendants):
            return self
        return super().train(mode)


def build_module(
    spec: MLPSpec | CNNSpec,
    input_shape: tuple[int, ...],
    n_classes: int,
    kind: str,
    mean: np.ndarray,
    std: np.ndarray,
    *,
    task: str = "classification",
    embedded: list[int] | tuple = (),
    target: tuple[float, float] = (0.0, 1.0),
) -> ClassifierModule:
    """The network the spec describes, for inputs of ``input_shape`` (without N).

    ``embedded``: cardinalities of the trailing category-code columns (tabular MLP); for text,
    the vocabulary's size;
    ``target``: the regression target's mean and std (a regression module keeps them).
    """
    if spec.family in TEXT_FAMILIES:
        if kind != "text":
            raise ValueError(f"model.family: {spec.family} needs a text source")
        network: nn.Module = build_text_network(spec, int(embedded[0]), n_classes, task)
    elif isinstance(spec, CNNSpec):
        if kind != "image":
            raise ValueError("model.family: cnn needs an image source (arrays shaped (N, H, W[, C]))")
        network = CNNModule(input_shape, n_classes, spec, task)
    else:
        network = MLPModule(int(np.prod(input_shape)), n_classes, spec, task, embedded if kind != "image" else ())
    return ClassifierModule(InputTransform(kind, mean, std), network, target if task == "regression" else None)


def count_parameters(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters() if p.requires_grad)


def describe_module(module: nn.Module) -> str:
    return f"{module}\n\ntrainable parameters: {count_parameters(module):,}\n"


def _forward_batches(module: nn.Module, X: np.ndarray, finish, batch_size: int) -> np.ndarray:
    module.eval()
    device = module_device(module)
    out = []
    with torch.inference_mode():
        for start in range(0, len(X), batch_size):
            # a copy: served input often arrives read-only (a pandas frame's values), which torch warns about
            batch = torch.from_numpy(np.array(X[start:start + batch_size], dtype=np.float32)).to(device)
            out.append(finish(module(batch)).cpu().numpy())
    return np.concatenate(out)


def predict_proba(module: nn.Module, X: np.ndarray, batch_size: int = 4096) -> np.ndarray:
    """Class probabilities of a trained module on raw input, in eval mode, in batches.

    The module may live on a GPU: each batch goes to its device, the probabilities come back.
    """
    return _forward_batches(module, X, lambda logits: torch.softmax(logits, dim=1), batch_size)


def predict_values(module: ClassifierModule, X: np.ndarray, batch_size: int = 4096) -> np.ndarray:
    """A regression module's predictions in the target's units, shaped (N,)."""
    return _forward_batches(module, X, lambda z: z[:, 0] * module.target_std + module.target_mean, batch_size)
