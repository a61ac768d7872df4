"""The NTM paper's algorithmic tasks as seeded batch generators, and their two metrics.

Every generator returns a `Batch`: inputs ``x`` (B, T, in), targets ``y`` (B, T, out) and a
``mask`` (B, T) that is True on the steps whose output is scored. Sequences of different
lengths in one batch are padded at the end (mask False there). Settings are the paper's
(Graves et al. 2014, §4):

* copy: 8-bit random vectors, length U{1..20}, then a delimiter on an extra channel; the
  network must output the sequence while it receives no input.
* repeat copy: 8-bit vectors, length U{1..10}, repeats U{1..10} given once as a scalar
  (normalised to mean 0, variance 1) on its own channel; the target is the sequence repeated,
  then an end marker on an extra output channel.
* associative recall: items of three 6-bit vectors, 2–6 items each after an item delimiter;
  then a query item between two query delimiters; the target is the item that followed it.
* priority sort: 20 random 8-bit vectors each with a priority U[−1, 1] on its own channel,
  then a delimiter; the target is the 16 highest-priority vectors, highest first.

Metrics per sequence: ``bit_errors`` (thresholded outputs that differ from the target, what
most repositories plot) and ``bits_per_sequence`` (cross-entropy in bits summed over the target,
the paper's "cost per sequence").
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F


@dataclass
class Batch:
    """x: (B, T, in) inputs, y: (B, T, out) targets, mask: (B, T) scored steps, size: (B,) lengths."""

    x: torch.Tensor
    y: torch.Tensor
    mask: torch.Tensor
    size: torch.Tensor

    def to(self, device) -> Batch:
        """The same batch on `device`."""
        return Batch(self.x.to(device), self.y.to(device), self.mask.to(device), self.size.to(device))


def _gen(seed_or_gen) -> torch.Generator:
    if isinstance(seed_or_gen, torch.Generator):
        return seed_or_gen
    g = torch.Generator()
    g.manual_seed(int(seed_or_gen))
    return g


def _draw(n: int, lo: int, hi: int, fixed, gen: torch.Generator, same: bool) -> torch.Tensor:
    """n integers: all `fixed` if given, else U{lo..hi} (one draw shared by all if `same`)."""
    if fixed is not None:
        return torch.full((n,), int(fixed), dtype=torch.long)
    if lo < 1 or hi < lo:
        raise ValueError(f"need 1 <= min <= max, got {lo}..{hi}")
    d = torch.randint(lo, hi + 1, (1 if same else n,), generator=gen)
    return d.expand(n).clone()


def _bits(shape, gen) -> torch.Tensor:
    return torch.randint(0, 2, shape, generator=gen).float()


def copy(batch_size: int, seed=0, *, bits: int = 8, min_len: int = 1, max_len: int = 20,
         length: int | None = None, same_length: bool = False) -> Batch:
    """Copy: T vectors, a delimiter, then T steps of silence during which the target is the input."""
    gen = _gen(seed)
    L = _draw(batch_size, min_len, max_len, length, gen, same_length)  # (B,)
    Lmax = int(L.max())
    T = 2 * Lmax + 1
    seq = _bits((batch_size, Lmax, bits), gen) * (torch.arange(Lmax) < L[:, None]).unsqueeze(-1)
    x = torch.zeros(batch_size, T, bits + 1)
    x[:, :Lmax, :bits] = seq
    x[torch.arange(batch_size), L, bits] = 1.0  # delimiter
    t = torch.arange(T)
    src = t[None, :] - L[:, None] - 1  # (B, T): which input vector is due at step t
    mask = (src >= 0) & (src < L[:, None])
    y = torch.gather(seq, 1, src.clamp(0, Lmax - 1).unsqueeze(-1).expand(-1, -1, bits))
    y = y * mask.unsqueeze(-1)
    return Batch(x, y, mask, L)


REPEAT_MEAN, REPEAT_STD = 5.5, math.sqrt((10**2 - 1) / 12)  # of U{1..10}: mean 0, var 1 after


def repeat_copy(batch_size: int, seed=0, *, bits: int = 8, min_len: int = 1, max_len: int = 10,
                min_repeats: int = 1, max_repeats: int = 10, length: int | None = None,
                repeats: int | None = None, same_length: bool = False) -> Batch:
    """Repeat copy: T vectors, a delimiter carrying the repeat count, then R copies and an end marker."""
    gen = _gen(seed)
    L = _draw(batch_size, min_len, max_len, length, gen, same_length)
    Rp = _draw(batch_size, min_repeats, max_repeats, repeats, gen, same_length)
    Lmax, steps = int(L.max()), int((L * Rp).max()) + 1
    T = Lmax + 1 + steps
    x = torch.zeros(batch_size, T, bits + 2)
    y = torch.zeros(batch_size, T, bits + 1)
    mask = torch.zeros(batch_size, T, dtype=torch.bool)
    for b in range(batch_size):
        n, r = int(L[b]), int(Rp[b])
        seq = _bits((n, bits), gen)
        x[b, :n, :bits] = seq
        x[b, n, bits] = 1.0  # delimiter
        x[b, n, bits + 1] = (r - REPEAT_MEAN) / REPEAT_STD  # repeat count, normalised
        y[b, n + 1 : n + 1 + n * r, :bits] = seq.repeat(r, 1)
        y[b, n + 1 + n * r, bits] = 1.0  # end marker
        mask[b, n + 1 : n + 2 + n * r] = True
    return Batch(x, y, mask, L * Rp)


def associative_recall(batch_size: int, seed=0, *, bits: int = 6, item_len: int = 3,
                       min_items: int = 2, max_items: int = 6, items: int | None = None,
                       same_length: bool = False) -> Batch:
    """Associative recall: items after item delimiters, a query item; output the item after it."""
    gen = _gen(seed)
    n_items = _draw(batch_size, min_items, max_items, items, gen, same_length)
    if int(n_items.min()) < 2:
        raise ValueError("associative recall needs at least 2 items")
    step = item_len + 1
    T = int(n_items.max()) * step + 1 + item_len + 1 + item_len
    x = torch.zeros(batch_size, T, bits + 2)
    y = torch.zeros(batch_size, T, bits)
    mask = torch.zeros(batch_size, T, dtype=torch.bool)
    for b in range(batch_size):
        n = int(n_items[b])
        data = _bits((n, item_len, bits), gen)
        for i in range(n):
            x[b, i * step, bits] = 1.0  # item delimiter
            x[b, i * step + 1 : (i + 1) * step, :bits] = data[i]
        q = int(torch.randint(0, n - 1, (1,), generator=gen))  # the query has a successor
        t = n * step
        x[b, t, bits + 1] = 1.0  # query delimiter
        x[b, t + 1 : t + 1 + item_len, :bits] = data[q]
        x[b, t + 1 + item_len, bits + 1] = 1.0
        out = t + 2 + item_len
        y[b, out : out + item_len] = data[q + 1]
        mask[b, out : out + item_len] = True
    return Batch(x, y, mask, n_items)


def priority_sort(batch_size: int, seed=0, *, bits: int = 8, n_in: int = 20,
                  n_out: int | None = None, length: int | None = None,
                  same_length: bool = False) -> Batch:
    """Priority sort: vectors with priorities U[−1, 1]; output the n_out highest, highest first."""
    gen = _gen(seed)
    n_in = int(length) if length is not None else n_in
    n_out = n_out if n_out is not None else round(0.8 * n_in)  # the paper's 16 of 20
    if not 1 <= n_out <= n_in:
        raise ValueError(f"need 1 <= n_out <= n_in, got n_out={n_out}, n_in={n_in}")
    T = n_in + 1 + n_out
    seq = _bits((batch_size, n_in, bits), gen)
    prio = torch.rand(batch_size, n_in, generator=gen) * 2 - 1
    x = torch.zeros(batch_size, T, bits + 2)
    x[:, :n_in, :bits] = seq
    x[:, :n_in, bits] = prio  # priority channel
    x[:, n_in, bits + 1] = 1.0  # delimiter
    order = prio.argsort(dim=1, descending=True)[:, :n_out]
    y = torch.zeros(batch_size, T, bits)
    y[:, n_in + 1 :] = torch.gather(seq, 1, order.unsqueeze(-1).expand(-1, -1, bits))
    mask = torch.zeros(batch_size, T, dtype=torch.bool)
    mask[:, n_in + 1 :] = True
    return Batch(x, y, mask, torch.full((batch_size,), n_in))


@dataclass(frozen=True)
class Task:
    """A task: its generator, input/output widths, and the keyword that sets its size."""

    name: str
    make: object
    input_size: int
    output_size: int
    size_kw: str  # the argument that sets the length for generalisation tests
    train_max: int  # largest size seen in training

    def batch(self, batch_size: int, seed=0, device=None, **kw) -> Batch:
        """A seeded batch, drawn on the CPU (the same draws whatever the device), then put on `device`."""
        with torch.device("cpu"):
            batch = self.make(batch_size, seed, **kw)
        return batch if device is None else batch.to(device)


TASKS = {
    "copy": Task("copy", copy, 9, 8, "length", 20),
    "repeat-copy": Task("repeat-copy", repeat_copy, 10, 9, "length", 10),
    "associative-recall": Task("associative-recall", associative_recall, 8, 6, "items", 6),
    "priority-sort": Task("priority-sort", priority_sort, 10, 8, "length", 20),
}


def get_task(name: str) -> Task:
    """The `Task` called `name` (one of TASKS)."""
    if name not in TASKS:
        raise ValueError(f"unknown task {name!r}; expected one of {', '.join(TASKS)}")
    return TASKS[name]


def loss(logits: torch.Tensor, batch: Batch) -> torch.Tensor:
    """Mean over sequences of the summed binary cross-entropy (nats) on the scored steps."""
    bce = F.binary_cross_entropy_with_logits(logits, batch.y, reduction="none").sum(-1)  # (B, T)
    return (bce * batch.mask).sum() / batch.x.shape[0]


def bit_errors(logits: torch.Tensor, batch: Batch) -> torch.Tensor:
    """(B,) number of scored output bits whose thresholded prediction differs from the target."""
    wrong = ((logits > 0).float() != batch.y).float().sum(-1)  # (B, T)
    return (wrong * batch.mask).sum(-1)


def bits_per_sequence(logits: torch.Tensor, batch: Batch) -> torch.Tensor:
    """(B,) cross-entropy in bits summed over the scored targets (the paper's cost per sequence)."""
    bce = F.binary_cross_entropy_with_logits(logits, batch.y, reduction="none").sum(-1)
    return (bce * batch.mask).sum(-1) / math.log(2)
