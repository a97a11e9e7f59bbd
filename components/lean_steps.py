"""skorch's per-batch steps without the work tunaflow never reads, through its public methods.

skorch's documentation names ``train_step_single``, ``train_step``, ``infer`` and the
``get_*`` methods as the ones to customize, and ``run_single_epoch`` as one to override
only if it keeps the bookkeeping (callbacks notified, the history written). Per batch,
skorch's own versions build an optimizer closure, announce ``on_grad_computed`` with a
generator over the parameters, convert the batch through ``to_tensor``, set the train mode
of every module, read the loss with ``loss.item()`` (a device sync on a GPU) and write two
per-batch history records: on the digits MLP of ``bench/training_loop.py`` about a tenth
of the batch time. Here (``notify`` is called, never overridden):

- ``train_step``: zero the gradients, ``train_step_single``, ``on_grad_computed`` only when
  a callback (gradient clipping) or the net implements it, the optimizer's step. An
  optimizer that evaluates the loss several times per step (LBFGS) keeps skorch's closure.
- ``train_step_single``: skorch's (forward, ``get_loss``, backward); the train mode is set
  when the module is not in it (after a validation pass), not before every batch, on
  ``module_`` and ``criterion_`` (skorch's private ``_set_training`` does the same for every
  registered module; these nets register no others).
- ``infer``/``get_loss``: a tensor batch goes to the module and the criterion as it is
  (moved to the device only when it is elsewhere); anything else takes skorch's way.
- ``run_single_epoch``: the same events per batch (``on_batch_begin``, the step,
  ``on_batch_end`` with the step's loss and predictions) and the same epoch records:
  ``train_loss``/``valid_loss`` (the batch losses' mean weighted by batch size, what
  skorch's ``PassthroughScoring`` computes from the batch rows) and ``train_batch_count``/
  ``valid_batch_count``. The batch rows stay empty (no ``train_loss``/``train_batch_size``
  per batch). A loss on the CPU is read at once; on an accelerator the losses stay there
  and are read once per epoch, without a sync per batch.
"""

from __future__ import annotations

import operator

import torch
from skorch import NeuralNet
from skorch.callbacks import Callback
from skorch.utils import TeeGenerator

# optimizers that call the closure more than once per step, which needs skorch's closure step
CLOSURE_OPTIMIZERS = (torch.optim.LBFGS,)


def implements(callback, event: str) -> bool:
    """Whether ``callback`` does something on ``event`` (overrides ``Callback``'s no-op)."""
    return getattr(type(callback), event, None) is not getattr(Callback, event)


class LeanSteps:
    """A mixin for a skorch ``NeuralNet`` with one optimizer (``optimizer_``)."""

    def initialize_callbacks(self):
        super().initialize_callbacks()
        self.grad_callbacks_ = (type(self).on_grad_computed is not NeuralNet.on_grad_computed
                                or any(implements(cb, "on_grad_computed") for _, cb in self.callbacks_))
        return self

    def infer(self, x, **fit_params):
        if isinstance(x, torch.Tensor):
            return self.module_(x.to(self.device) if self.device else x, **fit_params)
        return super().infer(x, **fit_params)

    def get_loss(self, y_pred, y_true, X=None, training=False):
        if isinstance(y_true, torch.Tensor) and not isinstance(self.criterion_, torch.nn.NLLLoss):
            return self.criterion_(y_pred, y_true.to(y_pred.device))
        return super().get_loss(y_pred, y_true, X=X, training=training)

    def train_step_single(self, batch, **fit_params):
        if not self.module_.training:
            self.module_.train()
            if isinstance(self.criterion_, torch.nn.Module):
                self.criterion_.train()
        Xi, yi = batch
        y_pred = self.infer(Xi, **fit_params)
        loss = self.get_loss(y_pred, yi, X=Xi, training=True)
        loss.backward()
        return {"loss": loss, "y_pred": y_pred}

    def train_step(self, batch, **fit_params):
        if isinstance(self.optimizer_, CLOSURE_OPTIMIZERS):
            return super().train_step(batch, **fit_params)
        self.optimizer_.zero_grad()
        step = self.train_step_single(batch, **fit_params)
        if self.grad_callbacks_:
            self.notify("on_grad_computed", named_parameters=TeeGenerator(self.get_all_learnable_params()),
                        batch=batch, training=True)
        self.optimizer_.step()
        return step

    def run_single_epoch(self, iterator, training, prefix, step_fn, **fit_params):
        if iterator is None:
            return
        losses, sizes = [], []
        for batch in iterator:
            self.notify("on_batch_begin", batch=batch, training=training)
            step = step_fn(batch, **fit_params)
            loss = step["loss"]
            # read at once on the CPU (no wait); on an accelerator kept on it, read once per epoch
            losses.append(loss.item() if loss.is_cpu else loss.detach())
            sizes.append(len(batch[0]))
            self.notify("on_batch_end", batch=batch, training=training, **step)
        self.history.record(prefix + "_batch_count", len(losses))
        if losses:
            if isinstance(losses[0], torch.Tensor):
                losses = torch.stack(losses).reshape(-1).tolist()
            self.history.record(prefix + "_loss", sum(map(operator.mul, losses, sizes)) / sum(sizes))
