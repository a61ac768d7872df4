"""NTM pictures: the addressing pipeline, heads over time (the paper's Fig. 6), memory snapshots,
learning curves and length generalisation. Static functions take traces or plain tensors; the
explorers wrap the same functions with ipywidgets sliders (each has a static twin).
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import torch

from memlib.models import addressing as A
from memlib.viz.explorer import Explorer, Slider
from memlib.viz.plots import (
    BAR_COLOR,
    CMAP,
    FOCUS_COLOR,
    INK,
    PAPER,
    READ_COLOR,
    SHADE,
    SIGNED_CMAP,
    WRITE_COLOR,
    _np,
    heatmap,
)

STAGES = ("content  $w^c$", "interpolated  $w^g$", "shifted  $\\tilde w$", "sharpened  $w$")


# ------------------------------------------------------------------ the addressing pipeline

def shift_distribution(shift: float, R: int = 1) -> torch.Tensor:
    """s over −R..R for a (possibly fractional) shift: 0.3 → 0.7 on "stay", 0.3 on "+1"."""
    if not -R <= shift <= R:
        raise ValueError(f"shift must lie in [-{R}, {R}], got {shift}")
    s = torch.zeros(2 * R + 1)
    lo = int(np.floor(shift))
    frac = shift - lo
    s[lo + R] = 1 - frac
    if frac > 0:
        s[lo + 1 + R] = frac
    return s


def addressing_stages(M, k, w_prev, beta: float, g: float, shift: float, gamma: float):
    """Run one head's pipeline on a single memory: returns (w_c, w_g, w_tilde, w), each (N,).

    M: (N, width) memory, k: (width,) key, w_prev: (N,) previous weighting.
    """
    M, k, w_prev = (torch.as_tensor(v, dtype=torch.float32) for v in (M, k, w_prev))
    if M.dim() != 2 or k.shape != (M.shape[1],) or w_prev.shape != (M.shape[0],):
        raise ValueError(f"expected M (N, width), k (width,), w_prev (N,); got "
                         f"{tuple(M.shape)}, {tuple(k.shape)}, {tuple(w_prev.shape)}")
    one = lambda v: torch.tensor([[float(v)]])  # noqa: E731  (batch 1, head 1)
    stages = A.address(k[None, None], one(beta), one(g), shift_distribution(shift)[None, None],
                       one(gamma), M[None], w_prev[None, None], stages=True)
    return tuple(s[0, 0] for s in stages)


def plot_addressing(stages, *, w_prev=None, params=None, axes=None, title=""):
    """The four stages one under the other as bars over memory slots, on a fixed 0..1 scale."""
    n_rows = 4 + (w_prev is not None)
    if axes is None:
        fig, axes = plt.subplots(n_rows, 1, figsize=(5.5, 1.25 * n_rows + 0.4), sharex=True)
    else:
        fig = axes[0].figure
    rows = ([("previous  $w_{t-1}$", w_prev)] if w_prev is not None else []) + list(
        zip(STAGES, stages))
    for ax, (label, w) in zip(axes, rows):
        w = _np(w)
        ax.clear()
        ax.bar(range(len(w)), w, color=BAR_COLOR if "sharp" not in label else FOCUS_COLOR)
        ax.set_ylim(0, 1)
        ax.set_ylabel(label, rotation=0, ha="right", va="center", fontsize=9)
        ax.set_yticks([0, 1])
        for i, v in enumerate(w):
            if v > 0.05:
                ax.text(i, min(v + 0.03, 0.86), f"{v:.2f}", ha="center", fontsize=7)
    axes[-1].set_xlabel("memory slot i")
    axes[-1].set_xticks(range(len(_np(stages[0]))))
    if params:
        title = (title + "  " if title else "") + ", ".join(
            f"{k}={v:.2f}" for k, v in params.items())
    axes[0].set_title(title, fontsize=9)
    fig.tight_layout()
    return fig


class AddressingExplorer(Explorer):
    """Sliders for β, g, shift and γ over the four-stage pipeline (predict, then move)."""

    def __init__(self, M, k, w_prev, beta=1.0, g=1.0, shift=0.0, gamma=1.0):
        self.M, self.k, self.w_prev = M, k, w_prev
        released = dict(continuous=False, readout=".2f")
        super().__init__({"beta": Slider("β", 0.0, 20.0, beta, 0.5, **released),
                          "g": Slider("g", 0.0, 1.0, g, 0.05, **released),
                          "shift": Slider("shift", -1.0, 1.0, shift, 0.1, **released),
                          "gamma": Slider("γ", 1.0, 10.0, gamma, 0.5, **released)},
                         rows=[["beta", "g"], ["shift", "gamma"]])

    def draw(self, beta: float, g: float, shift: float, gamma: float):
        """The previous weighting and the four stages for these parameters (`plot_addressing`)."""
        self.stages = addressing_stages(self.M, self.k, self.w_prev, beta, g, shift, gamma)
        _, axes = plt.subplots(5, 1, figsize=(5.5, 6.6), sharex=True)
        return plot_addressing(self.stages, w_prev=self.w_prev, params=dict(β=beta, g=g, shift=shift, γ=gamma),
                               axes=axes)


# ------------------------------------------------------------------ heads over time (Fig. 6)

def used_slots(trace, b: int = 0, threshold: float = 0.05, pad: int = 1) -> np.ndarray:
    """Slots any head weighted above `threshold` (plus `pad` around), in circular order.

    Heads may wrap around the end of the memory (…, 126, 127, 0, 1, …); the slots are returned
    as an index array starting after the largest unused gap, so the picture stays contiguous.
    """
    w = _np(trace.w[b]).max(axis=(0, 1))  # (N,)
    N = len(w)
    used = np.flatnonzero(w > threshold)
    if len(used) == 0:
        return np.arange(N)
    gaps = (np.roll(used, -1) - used) % N  # distance to the next used slot, circularly
    gaps[gaps == 0] = N
    start = used[(int(np.argmax(gaps)) + 1) % len(used)]  # first slot after the largest gap
    span = (used[int(np.argmax(gaps))] - start) % N + 1
    first, length = start - pad, min(span + 2 * pad, N)
    return (first + np.arange(length)) % N


def plot_heads(trace, x, y_pred, *, b: int = 0, slots=None, t: int | None = None,
               axes=None):
    """Paper Fig. 6: inputs / add vectors / write weightings (left), outputs / read vectors /
    read weightings (right); time on x, memory slot on y. `t` marks one time step.
    `slots`: a slice or index array of the memory slots to show (default: the used ones)."""
    slots = used_slots(trace, b) if slots is None else np.arange(trace.w.shape[-1])[slots]
    if axes is None:
        fig, axes = plt.subplots(3, 2, figsize=(10, 6.5),
                                 gridspec_kw=dict(height_ratios=[1, 1, 1.6]))
    fig = axes[0, 0].figure
    for ax in axes.flat:
        ax.clear()
    x, y_pred = _np(x[b]).T, _np(torch.sigmoid(torch.as_tensor(y_pred[b]))).T
    heatmap(axes[0, 0], x, ylabel="input bit", title="inputs", colorbar=False)
    heatmap(axes[0, 1], y_pred, ylabel="output bit", title="outputs (probabilities)",
            colorbar=False)
    heatmap(axes[1, 0], _np(trace.a[b, :, 0]).T, vmin=-1, vmax=1, cmap=SIGNED_CMAP,
            ylabel="component", title="add vectors $a_t$", colorbar=False)
    heatmap(axes[1, 1], _np(trace.r[b, :, 0]).T, vmin=-1, vmax=1, cmap=SIGNED_CMAP,
            ylabel="component", title="read vectors $r_t$", colorbar=False)
    ww, wr = _np(trace.write_w[b, :, 0]).T[slots], _np(trace.read_w[b, :, 0]).T[slots]
    ticks = [int(i) for i in slots]
    step = max(1, len(ticks) // 12)
    for ax, w, name in ((axes[2, 0], ww, "write"), (axes[2, 1], wr, "read")):
        heatmap(ax, w, xlabel="time step t", ylabel="memory slot", colorbar=False,
                title=f"{name} weightings $w_t$", cmap=CMAP)
        ax.set_yticks(range(0, len(ticks), step))
        ax.set_yticklabels(ticks[::step])
    if t is not None:
        for ax in axes.flat:
            ax.axvline(t, color=PAPER, lw=1.0, ls="--")
    fig.tight_layout()
    return fig


def plot_memory(ax, trace, t: int, *, b: int = 0, slots=None):
    """Memory after step t (rows = slots, signed colours) with the step's write/read heads."""
    slots = used_slots(trace, b) if slots is None else np.arange(trace.w.shape[-1])[slots]
    mem = _np(trace.memory[b, t + 1])[slots]
    ax.clear()
    step = max(1, len(slots) // 16)
    heatmap(ax, mem, vmin=-1, vmax=1, cmap=SIGNED_CMAP, colorbar=False,
            xlabel="component", ylabel="memory slot", title=f"memory after step t={t}")
    ax.set_yticks(range(0, len(slots), step))
    ax.set_yticklabels([int(i) for i in slots[::step]])
    ww, wr = _np(trace.write_w[b, t, 0])[slots], _np(trace.read_w[b, t, 0])[slots]
    width = mem.shape[1]
    ax.barh(range(len(ww)), -ww * 3, left=-0.6, color=WRITE_COLOR, height=0.8, label="write w")
    ax.barh(range(len(wr)), wr * 3, left=width - 0.4, color=READ_COLOR, height=0.8, label="read w")
    ax.set_xlim(-3.7, width + 2.7)
    ax.legend(loc="upper right", fontsize=7)
    return ax


def heads_figure(trace, x, y_pred, t: int, *, b: int = 0, slots=None):
    """Fig. 6 panels with step `t` marked (`plot_heads`), and the memory after step t on the right."""
    slots = used_slots(trace, b) if slots is None else slots
    fig = plt.figure(figsize=(13, 6.5))
    gs = fig.add_gridspec(3, 3, width_ratios=[1, 1, 0.8], height_ratios=[1, 1, 1.6])
    axes = np.array([[fig.add_subplot(gs[i, j]) for j in range(2)] for i in range(3)])
    memory_ax = fig.add_subplot(gs[:, 2])
    plot_heads(trace, x, y_pred, b=b, slots=slots, t=t, axes=axes)
    plot_memory(memory_ax, trace, t, b=b, slots=slots)
    return fig


class HeadsExplorer(Explorer):
    """A time slider over one sequence: Fig. 6 panels with the step marked + the memory then."""

    def __init__(self, trace, x, y_pred, b: int = 0, t: int = 0):
        self.trace, self.x, self.y_pred, self.b = trace, x, y_pred, b
        self.slots = used_slots(trace, b)
        T = trace.w.shape[1]
        super().__init__({"t": Slider("time t", 0, T - 1, t, continuous=False)})

    def draw(self, t: int):
        """`heads_figure` at step t; ``.memory`` is what its right panel shows."""
        self.memory = self.trace.memory[self.b, t + 1]
        return heads_figure(self.trace, self.x, self.y_pred, t, b=self.b, slots=self.slots)


# ------------------------------------------------------------------ curves and tables

def plot_curves(ax, curves: dict, *, ylabel="bit errors per sequence", paper: dict | None = None):
    """Learning curves: {label: [(sequences, value), ...]} on one axis."""
    for label, pts in curves.items():
        pts = np.asarray(pts, dtype=float)
        ax.plot(pts[:, 0] / 1000, pts[:, 1], label=label)
    for label, (xk, yv) in (paper or {}).items():
        ax.plot(np.asarray(xk) / 1000, yv, color=INK, linestyle=":", marker="o", ms=3, label=label)
    ax.set_xlabel("training sequences (thousands)")
    ax.set_ylabel(ylabel)
    ax.set_ylim(bottom=0)
    ax.legend(fontsize=8)
    return ax


def plot_generalisation(ax, lengths, results: dict, *, trained_max: int = 20, N: int | None = None,
                        ylabel="median bit errors per sequence"):
    """Error vs test length: {label: [value per length]}; marks the training range and N."""
    for label, vals in results.items():
        ax.plot(lengths, vals, marker="o", label=label)
    ax.axvspan(0, trained_max, color=SHADE, label="trained lengths")
    if N is not None:
        ax.axvline(N, color=INK, ls="--", lw=1, label=f"memory size N={N}")
    ax.set_xlabel("sequence length")
    ax.set_ylabel(ylabel)
    ax.set_xlim(0, max(lengths) * 1.05)
    ax.legend(fontsize=8)
    return ax


def plot_sequence(axes, batch, logits, b: int = 0, title=""):
    """Target and output (thresholded probabilities) of one sequence, scored steps only."""
    m = _np(batch.mask[b]).astype(bool)
    tgt = _np(batch.y[b])[m].T
    out = _np(torch.sigmoid(logits[b]))[m].T
    heatmap(axes[0], tgt, ylabel="bit", title=f"{title} target", colorbar=False)
    heatmap(axes[1], out, ylabel="bit", xlabel="output step", colorbar=False,
            title=f"output ({int(((out > 0.5) != tgt).sum())} bit errors)")
    return axes
