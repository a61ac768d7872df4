"""The one fit loop of the course: minibatches, a progress bar, clipping, an LR hook, early stop.

Kept short on purpose so that a learner can read it next to the models it trains::

    history = fit(model, loss_fn, minibatches(train, 32), optimizer, epochs=20,
                  evaluate=lambda m: accuracy(m, valid), patience=5)

``loss_fn(model, batch)`` returns the scalar loss of one batch (or ``(loss, parts)`` where
``parts`` is a dict of named floats to average and show, e.g. the three hinge terms of MemNN).

Who uses it: `memlib.recipes.lstm` (the QA LSTM baselines) and `memlib.recipes.memnn` (MemNN),
and notebook 00's memory reader. Two recipes keep their own loop: `memlib.recipes.memn2n`
trains several restarts as one batched model and clips each restart's gradient on its own,
and `memlib.recipes.ntm` draws fresh sequences every step and can roll back, restart and
follow a curriculum.
"""

from __future__ import annotations

import copy
import dataclasses
import math
from dataclasses import dataclass, field

import torch


@dataclass
class History:
    """What `fit` measured, one entry per epoch."""

    loss: list[float] = field(default_factory=list)  # mean training loss
    parts: list[dict] = field(default_factory=list)  # mean of each named loss part
    metric: list[float] = field(default_factory=list)  # evaluate(model) after the epoch
    lr: list[float] = field(default_factory=list)  # learning rate used in the epoch
    best_epoch: int = -1  # epoch (0-based) whose weights the model holds at the end
    stopped: str = ""  # "", "target" (metric reached `target`) or "patience"


class minibatches:
    """Re-iterable minibatches of `data` (anything with ``len`` and tensor indexing), reshuffled each pass."""

    def __init__(self, data, batch_size: int, *, shuffle: bool = True, seed: int = 0):
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        self.data, self.batch_size, self.shuffle = data, batch_size, shuffle
        self.generator = torch.Generator().manual_seed(seed)

    def __len__(self) -> int:
        return math.ceil(len(self.data) / self.batch_size)

    def __iter__(self):
        n = len(self.data)
        device = self.generator.device  # the order is drawn on the generator's device, the CPU
        if self.shuffle:
            order = torch.randperm(n, generator=self.generator, device=device)
        else:
            order = torch.arange(n, device=device)
        for start in range(0, n, self.batch_size):
            yield self.data[order[start:start + self.batch_size]]


def epoch_pass(model, loss_fn, batches, optimizer, clip: float | None = None, epoch: int = 0):
    """One pass over `batches` (forward, backward, clip, step) → mean loss and mean named loss parts."""
    model.train()
    total, count, parts = 0.0, 0, {}
    for batch in batches:
        out = loss_fn(model, batch)
        loss, named = out if isinstance(out, tuple) else (out, {})
        if not torch.isfinite(loss):
            raise FloatingPointError(f"loss became {loss.item()} in epoch {epoch}; lower the learning rate")
        optimizer.zero_grad()
        loss.backward()
        if clip is not None:
            torch.nn.utils.clip_grad_norm_(model.parameters(), clip)
        optimizer.step()
        total, count = total + loss.item(), count + 1
        for k, v in named.items():
            parts[k] = parts.get(k, 0.0) + float(v)
    return total / max(count, 1), {k: v / max(count, 1) for k, v in parts.items()}


def fit(model, loss_fn, batches, optimizer, epochs: int, *, clip: float | None = None,
        schedule=None, evaluate=None, patience: int | None = None, target: float | None = None,
        progress=True, desc: str = "train") -> History:
    """Train `model` for up to `epochs` passes over `batches`; return the `History`.

    clip: rescale gradients whose global L2 norm exceeds it.
    schedule(epoch, optimizer): called before each epoch (set ``group["lr"]`` there).
    evaluate(model) -> float, higher is better: run after each epoch; with `patience`, stop
    after that many epochs without improvement and restore the best weights; with `target`,
    stop as soon as the metric reaches it.
    progress: True shows a bar, False or None nothing; a function is called after every epoch
    with ``{"epoch", "loss", "metric", "lr"}`` (the convention of every recipe's ``progress``).
    """
    from tqdm.auto import tqdm

    history = History()
    best, best_state, best_epoch, waited = -math.inf, None, -1, 0
    # progress=False always hides the bar; otherwise TQDM_DISABLE=1 in the environment still can
    bar = tqdm(range(epochs), desc=desc, leave=False, **({} if progress is True else {"disable": True}))
    for epoch in bar:
        if schedule is not None:
            schedule(epoch, optimizer)
        loss, parts = epoch_pass(model, loss_fn, batches, optimizer, clip, epoch)
        history.loss.append(loss)
        history.parts.append(parts)
        history.lr.append(optimizer.param_groups[0]["lr"])
        postfix = {"loss": f"{loss:.4f}"}
        if evaluate is not None:
            metric = float(evaluate(model))
            history.metric.append(metric)
            postfix["metric"] = f"{metric:.4f}"
            if metric > best:
                best, waited, best_epoch = metric, 0, epoch
                if patience is not None:
                    best_state = copy.deepcopy(model.state_dict())
            else:
                waited += 1
        bar.set_postfix(postfix)
        if callable(progress):
            progress({"epoch": epoch + 1, "loss": loss, "metric": history.metric[-1] if history.metric else None,
                      "lr": history.lr[-1]})
        history.best_epoch = epoch
        if target is not None and history.metric and history.metric[-1] >= target:
            history.stopped = "target"
            break
        if patience is not None and waited >= patience:
            history.stopped = "patience"
            break
    bar.close()
    if patience is not None and best_state is not None and history.stopped != "target":
        model.load_state_dict(best_state)  # with patience, keep the best epoch's weights
        history.best_epoch = best_epoch
    return history


@torch.no_grad()
def tally(model, batches, counts) -> dict:
    """Sum ``counts(model, batch) -> {name: number or tensor}`` over `batches`, the model in eval mode.

    The evaluation loop of every recipe that uses `fit`; the model's training mode is restored.
    """
    was_training = model.training
    model.eval()
    total = {}
    try:
        for batch in batches:
            for name, value in counts(model, batch).items():
                total[name] = total[name] + value if name in total else value
    finally:
        model.train(was_training)
    return total


def accuracy(model, batches, *, predict=None, target=None) -> float:
    """Fraction of correct predictions over `batches` (one batch or an iterable of them).

    predict(model, batch) -> predicted labels (default: ``model(batch)[0].argmax(-1)``);
    target(batch) -> true labels (default: ``batch.answers``).
    """
    predict = predict or (lambda m, b: m(b)[0].argmax(-1))
    target = target or (lambda b: b.answers)
    if hasattr(batches, "answers") or isinstance(batches, torch.Tensor):
        batches = [batches]

    def counts(m, b):
        y = target(b)
        return {"correct": (predict(m, b) == y).sum().item(), "seen": y.numel()}

    n = tally(model, batches, counts)
    if not n.get("seen"):
        raise ValueError("accuracy needs at least one example")
    return n["correct"] / n["seen"]


def model_device(model) -> torch.device:
    """The device of `model`'s weights (where its batches must go); the CPU for a model without weights."""
    weight = next(model.parameters(), None)
    return weight.device if weight is not None else torch.device("cpu")


def to_device(batch, device):
    """`batch` (a dataclass of tensors, e.g. `memlib.babi.encode.Batch`) with every tensor on `device`."""
    moved = {f.name: getattr(batch, f.name) for f in dataclasses.fields(batch)}
    return dataclasses.replace(batch, **{k: v.to(device) for k, v in moved.items() if isinstance(v, torch.Tensor)})
