"""Optimizers for networks with sparse embeddings (the text families).

A text network's embedding has tens of thousands of rows, of which a batch touches a few
hundred: with ``sparse=True`` its gradient names only those rows, and an optimizer that
updates only them is an order of magnitude faster than Adam over the whole table. torch's
Adam refuses sparse gradients and SparseAdam refuses dense ones, so ``LazyAdam`` does both
in one optimizer (one set of param groups, which the learning-rate schedules drive):
dense parameters get Adam's update, sparse ones Adam's update of the rows in the batch
(the moments of other rows wait, as in SparseAdam). Weight decay applies to dense
parameters only: decaying every row of a table at each step is the dense cost again.
"""

from __future__ import annotations

import math

import torch


class LazyAdam(torch.optim.Optimizer):
    """Adam for dense and sparse gradients; ``decoupled`` weight decay is AdamW's."""

    def __init__(self, params, lr: float = 1e-3, betas=(0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0, decoupled: bool = False):
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay,
                                      decoupled=decoupled))

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            beta1, beta2 = group["betas"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self.state[p]
                if not state:
                    state["step"] = 0
                    state["exp_avg"] = torch.zeros_like(p)
                    state["exp_avg_sq"] = torch.zeros_like(p)
                state["step"] += 1
                correction = math.sqrt(1 - beta2 ** state["step"]) / (1 - beta1 ** state["step"])
                step_size = group["lr"] * correction
                if p.grad.is_sparse:
                    _sparse_update(p, p.grad.coalesce(), state, beta1, beta2, group["eps"], step_size)
                    continue
                grad = p.grad
                if group["weight_decay"]:
                    if group["decoupled"]:
                        p.mul_(1 - group["lr"] * group["weight_decay"])
                    else:
                        grad = grad.add(p, alpha=group["weight_decay"])
                state["exp_avg"].mul_(beta1).add_(grad, alpha=1 - beta1)
                state["exp_avg_sq"].mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
                p.addcdiv_(state["exp_avg"], state["exp_avg_sq"].sqrt().add_(group["eps"]), value=-step_size)
        return loss


def _sparse_update(p, grad, state, beta1: float, beta2: float, eps: float, step_size: float) -> None:
    rows, values = grad.indices()[0], grad.values()
    exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]
    m = exp_avg[rows].mul_(beta1).add_(values, alpha=1 - beta1)
    v = exp_avg_sq[rows].mul_(beta2).addcmul_(values, values, value=1 - beta2)
    exp_avg[rows], exp_avg_sq[rows] = m, v
    p[rows] = p[rows] - step_size * m / (v.sqrt() + eps)


class LazyAdamW(LazyAdam):
    def __init__(self, params, lr: float = 1e-3, betas=(0.9, 0.999), eps: float = 1e-8, weight_decay: float = 0.01):
        super().__init__(params, lr, betas, eps, weight_decay, decoupled=True)


class LazySGD(torch.optim.SGD):
    """SGD (with momentum) whose weight decay skips sparse gradients, which torch's refuses."""

    def __init__(self, params, lr: float = 1e-3, weight_decay: float = 0.0, **kwargs):
        super().__init__(params, lr=lr, weight_decay=0.0, **kwargs)
        self.decay = weight_decay

    @torch.no_grad()
    def step(self, closure=None):
        if self.decay:
            for group in self.param_groups:
                for p in group["params"]:
                    if p.grad is not None and not p.grad.is_sparse:
                        p.grad.add_(p, alpha=self.decay)
        return super().step(closure)


SPARSE_OPTIMIZERS = {"adam": LazyAdam, "adamw": LazyAdamW, "sgd": LazySGD}


def has_sparse_gradients(module: torch.nn.Module) -> bool:
    return any(getattr(m, "sparse", False) for m in module.modules()
               if isinstance(m, (torch.nn.Embedding, torch.nn.EmbeddingBag)))
