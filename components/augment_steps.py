"""The vectorized engine's steps: each albumentations transform it runs, on a whole batch.

Each step takes a serialized transform's fields (albumentations' ``to_dict``) and draws
every image's own random parameters from one ``torch.Generator``. Images come in as
float tensors in [0, 1], shaped (N, C, H, W).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F


def _uniform(n: int, bounds, generator: torch.Generator) -> torch.Tensor:
    low, high = float(bounds[0]), float(bounds[1])
    return low + (high - low) * torch.rand(n, generator=generator)


def _chosen(n: int, p: float, generator: torch.Generator) -> torch.Tensor:
    return torch.rand(n, generator=generator) < p


def _axes(value, default):
    """albumentations stores per-axis ranges as {"x": [lo, hi], "y": [lo, hi]}."""
    if value is None:
        return default, default
    if isinstance(value, dict):
        return value["x"], value["y"]
    return value, value


class AffineStep:
    """``Affine`` with rotation, scale and translation about the image centre (no shear)."""

    def __init__(self, t: dict):
        shear_x, shear_y = _axes(t.get("shear"), (0, 0))
        if any(shear_x) or any(shear_y):
            raise ValueError("the vectorized engine does not shear; use engine: albumentations")
        self.p, self.rotate = t["p"], t["rotate"]
        self.scale = _axes(t.get("scale"), (1, 1))
        self.keep_ratio = t.get("keep_ratio", False)
        self.percent = _axes(t.get("translate_percent"), None)
        self.pixels = _axes(t.get("translate_px"), (0, 0))
        self.fill = float(t.get("fill", 0) or 0)

    def forward_matrices(self, shape, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        """(N, 3, 3) maps from input to output pixel coordinates, centred on the image, and
        which images the step moves (the others get the identity)."""
        n, _, h, w = shape
        # albumentations' positive angle turns the image the other way round
        angle = -torch.deg2rad(_uniform(n, self.rotate, generator))
        sx = _uniform(n, self.scale[0], generator)
        sy = sx if self.keep_ratio else _uniform(n, self.scale[1], generator)
        # whole pixels, truncated, as albumentations shifts
        if self.percent[0] is not None:
            tx = (_uniform(n, self.percent[0], generator) * w).trunc()
            ty = (_uniform(n, self.percent[1], generator) * h).trunc()
        else:
            tx = torch.randint(int(self.pixels[0][0]), int(self.pixels[0][1]) + 1, (n,), generator=generator).float()
            ty = torch.randint(int(self.pixels[1][0]), int(self.pixels[1][1]) + 1, (n,), generator=generator).float()
        cos, sin = torch.cos(angle), torch.sin(angle)
        m = torch.zeros(n, 3, 3)
        m[:, 0, 0], m[:, 0, 1], m[:, 0, 2] = cos * sx, -sin * sy, tx
        m[:, 1, 0], m[:, 1, 1], m[:, 1, 2] = sin * sx, cos * sy, ty
        m[:, 2, 2] = 1
        on = _chosen(n, self.p, generator)
        m[~on] = torch.eye(3)
        return m, on


def _centred(h: int, w: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Pixel coordinates about the image centre: rows (1, H, 1) and columns (1, 1, W)."""
    return (torch.arange(h, dtype=torch.float32) - (h - 1) / 2).view(1, h, 1), \
        (torch.arange(w, dtype=torch.float32) - (w - 1) / 2).view(1, 1, w)


def _sample(x: torch.Tensor, px: torch.Tensor, py: torch.Tensor, fill: float) -> torch.Tensor:
    """Bilinear samples of ``x`` at centred pixel coordinates (N, H, W); ``fill`` outside."""
    _, _, h, w = x.shape
    # align_corners=False: normalized = 2 * (pixel - centre) / size
    grid = torch.stack([px * (2 / w), py * (2 / h)], dim=-1)
    return F.grid_sample(x - fill, grid, mode="bilinear", padding_mode="zeros", align_corners=False) + fill


def apply_where(x: torch.Tensor, on: torch.Tensor, transform) -> torch.Tensor:
    """``transform`` applied to the images where ``on`` is set, the rest left as they are:
    with small probabilities most of a batch needs no resampling."""
    if not bool(on.any()):
        return x
    if bool(on.all()):
        return transform(x, on)
    out = x.clone()
    out[on] = transform(x[on], on)
    return out


def warp(x: torch.Tensor, forward: torch.Tensor, fill: float = 0.0) -> torch.Tensor:
    """Each image through its own affine map (centred pixel coordinates), bilinear.

    The sampling grid is built by broadcasting: torch's ``affine_grid`` does it with a
    batched matrix product that costs several times the sampling itself on one thread.
    """
    _, _, h, w = x.shape
    inv = torch.linalg.inv(forward)[:, :2].view(-1, 2, 3, 1, 1)
    rows, cols = _centred(h, w)
    px = inv[:, 0, 0] * cols + inv[:, 0, 1] * rows + inv[:, 0, 2]
    py = inv[:, 1, 0] * cols + inv[:, 1, 1] * rows + inv[:, 1, 2]
    return _sample(x, px, py, fill)


class FlipStep:
    dim = -1

    def __init__(self, t: dict):
        self.p = t["p"]

    def __call__(self, x, generator):
        on = _chosen(len(x), self.p, generator)[:, None, None, None]
        return torch.where(on, x.flip(self.dim), x)


class HorizontalFlipStep(FlipStep):
    dim = -1


class VerticalFlipStep(FlipStep):
    dim = -2


class BrightnessContrastStep:
    """``img * (1 + contrast) + brightness``, both uniform in their limits, clipped to [0, 1]."""

    def __init__(self, t: dict):
        if not t.get("brightness_by_max", True):
            raise ValueError("the vectorized engine needs brightness_by_max: true")
        self.p, self.brightness, self.contrast = t["p"], t["brightness_limit"], t["contrast_limit"]

    def __call__(self, x, generator):
        n = len(x)
        alpha = 1 + _uniform(n, self.contrast, generator)
        beta = _uniform(n, self.brightness, generator)
        on = _chosen(n, self.p, generator)
        alpha, beta = torch.where(on, alpha, 1.0), torch.where(on, beta, 0.0)
        out = (x * alpha[:, None, None, None] + beta[:, None, None, None]).clamp(0, 1)
        return torch.where(on[:, None, None, None], out, x)


class GaussNoiseStep:
    def __init__(self, t: dict):
        self.p, self.std, self.mean = t["p"], t["std_range"], t.get("mean_range", (0, 0))
        self.per_channel = t.get("per_channel", True)

    def __call__(self, x, generator):
        n, c, h, w = x.shape
        std = _uniform(n, self.std, generator) * _chosen(n, self.p, generator)
        mean = _uniform(n, self.mean, generator)
        noise = torch.randn(n, c if self.per_channel else 1, h, w, generator=generator)
        out = (x + noise * std[:, None, None, None] + mean[:, None, None, None]).clamp(0, 1)
        return torch.where((std > 0)[:, None, None, None], out, x)


def _blur_matrix(sigma: float, size: int) -> torch.Tensor:
    """(size, size) gaussian blur with borders reflected as OpenCV's default does (dcb|abcd|cba).

    One matrix product per axis: on one thread a depthwise convolution is many times slower.
    """
    radius = min(math.ceil(3 * sigma), size - 1)
    offsets = torch.arange(-radius, radius + 1)
    weights = torch.exp(-0.5 * (offsets.float() / sigma) ** 2)
    weights = weights / weights.sum()
    matrix = torch.zeros(size, size)
    for i in range(size):
        j = (i + offsets).abs()
        j = torch.where(j >= size, 2 * (size - 1) - j, j)
        matrix[i].index_add_(0, j, weights)
    return matrix


class ElasticStep:
    """Gaussian noise displacement fields smoothed by ``sigma``, scaled by ``alpha`` pixels."""

    def __init__(self, t: dict):
        self.p, self.alpha, self.sigma = t["p"], float(t["alpha"]), float(t["sigma"])
        self.fill = float(t.get("fill", 0) or 0)

    def __call__(self, x, generator):
        n, _, h, w = x.shape
        on = _chosen(n, self.p, generator)
        # one draw per chosen image: the stream depends on the choices, not on the batch size
        field = torch.randn(int(on.sum()), 2, h, w, generator=generator)

        def displace(chosen, _):
            smooth = _blur_matrix(self.sigma, h) @ field @ _blur_matrix(self.sigma, w).T * self.alpha
            rows, cols = _centred(h, w)
            return _sample(chosen, cols + smooth[:, 0], rows + smooth[:, 1], self.fill)

        return apply_where(x, on, displace)


class CoarseDropoutStep:
    """``num_holes_range`` rectangles per image filled with ``fill``, placed inside the image."""

    def __init__(self, t: dict):
        fill = t.get("fill", 0)
        if not isinstance(fill, (int, float)):
            raise ValueError(f"the vectorized engine fills holes with a number, not {fill!r}")
        self.p, self.fill, self.holes = t["p"], float(fill), t["num_holes_range"]
        self.heights, self.widths = t["hole_height_range"], t["hole_width_range"]

    @staticmethod
    def _sizes(n, bounds, side, generator):
        if all(isinstance(b, float) for b in bounds):  # fractions of the side, as albumentations reads them
            return (_uniform(n, bounds, generator) * side).long().clamp(1, side)
        return torch.randint(int(bounds[0]), int(bounds[1]) + 1, (n,), generator=generator).clamp(1, side)

    def __call__(self, x, generator):
        n, _, h, w = x.shape
        on = _chosen(n, self.p, generator)
        count = torch.randint(self.holes[0], self.holes[1] + 1, (n,), generator=generator)
        rows, cols = torch.arange(h)[None, :, None], torch.arange(w)[None, None, :]
        mask = torch.zeros(n, h, w, dtype=torch.bool)
        for k in range(self.holes[1]):
            hh, ww = self._sizes(n, self.heights, h, generator), self._sizes(n, self.widths, w, generator)
            y0 = (torch.rand(n, generator=generator) * (h - hh + 1)).long()
            x0 = (torch.rand(n, generator=generator) * (w - ww + 1)).long()
            hole = ((rows >= y0[:, None, None]) & (rows < (y0 + hh)[:, None, None])
                    & (cols >= x0[:, None, None]) & (cols < (x0 + ww)[:, None, None]))
            mask |= hole & (on & (k < count))[:, None, None]
        return torch.where(mask[:, None], torch.tensor(self.fill), x)
