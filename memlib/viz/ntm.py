"""NTM pictures: the machine and its addressing pipeline as diagrams, the pipeline's stages, heads
over time (the paper's Fig. 6), memory snapshots, what the controller sees (`controller_view`),
learning curves and length generalisation. Static functions take traces or plain tensors; the
explorers wrap the same functions with ipywidgets sliders (each has a static twin).
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import torch

from memlib.models import addressing as A
from memlib.viz import schematic as S
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


# ------------------------------------------------------------------ diagrams (Graves et al. 2014, Fig. 1 and 2)

HEAD_PARAMS = "$\\mathbf{k}_t, \\beta_t, g_t, \\mathbf{s}_t, \\gamma_t$"


def ntm_diagram():
    """The machine (Graves et al. 2014, Fig. 1): input x_t → controller → read and write heads ↔
    memory M_t; the read vector r_t goes back to the controller, which emits the output y_t.
    Returns (fig, boxes) with the Box of each part, by name."""
    fig, ax = S.canvas(9.5, 4.4, "A Neural Turing Machine at time step $t$")
    b = {"input": S.box(ax, (1.0, 3.6), "input $\\mathbf{x}_t$", w=1.5, kind="input"),
         "controller": S.box(ax, (4.4, 3.6), "controller\n(LSTM or feed-forward)", w=2.6, h=0.8),
         "output": S.box(ax, (8.5, 3.6), "output $y_t$", w=1.4, kind="output"),
         "read head": S.box(ax, (2.3, 1.65), "read head\n$\\mathbf{w}^r_t$", w=1.7, h=0.8),
         "write head": S.box(ax, (6.9, 1.65), "write head\n$\\mathbf{w}^w_t$, $\\mathbf{e}_t$, $\\mathbf{a}_t$",
                             w=2.1, h=0.8),
         "memory": S.box(ax, (4.6, 0.45), "memory $M_t$: $N$ slots, each a vector of width $M$", w=7.0, h=0.5,
                         kind="memory")}
    c, r, w, m = b["controller"], b["read head"], b["write head"], b["memory"]
    S.arrow(ax, b["input"].right, c.left)
    S.arrow(ax, c.right, b["output"].left, "prediction")
    S.arrow(ax, (c.x - 0.5, c.bottom[1]), (r.x + 0.45, r.top[1]))  # the read head's parameters
    S.note(ax, (3.7, 2.62), "{" + HEAD_PARAMS + "}$^r$", fontsize=10, ha="left", va="center")
    S.arrow(ax, (r.x - 0.45, r.top[1]), (c.x - 1.1, c.bottom[1]))  # the read vector back
    S.note(ax, (2.2, 2.62), "read vector $\\mathbf{r}_t$", fontsize=10, ha="right", va="center")
    S.arrow(ax, (c.x + 0.6, c.bottom[1]), (w.x - 0.5, w.top[1]))  # the write head's parameters
    S.note(ax, (6.15, 2.62), "{" + HEAD_PARAMS + "}$^w$, $\\mathbf{e}_t$, $\\mathbf{a}_t$", fontsize=10,
           ha="left", va="center")
    S.arrow(ax, (r.x, m.top[1]), r.bottom, "read: $\\mathbf{r}_t = \\sum_i w^r_t(i) M_t(i)$", offset=(1.45, -0.2),
            fontsize=10)
    S.arrow(ax, w.bottom, (w.x, m.top[1]), "erase, then add", offset=(-0.95, -0.2), fontsize=10)
    return fig, b


def addressing_diagram():
    """One head's addressing pipeline (Graves et al. 2014, Fig. 2 and Eqs. 5–9): content (k_t, β_t
    against M_t) → interpolation (g_t with w_{t−1}) → convolutional shift (s_t) → sharpening (γ_t) → w_t.
    Returns (fig, boxes)."""
    fig, ax = S.canvas(10.0, 3.0, "Addressing: how a head gets its weighting $\\mathbf{w}_t$")
    y = 1.5
    names = [("content", "content\n$\\mathbf{w}^c_t$", 1.6), ("interpolation", "interpolation\n$\\mathbf{w}^g_t$", 3.95),
             ("shift", "shift\n$\\tilde{\\mathbf{w}}_t$", 6.3), ("sharpening", "sharpening\n$\\mathbf{w}_t$", 8.65)]
    b = {n: S.box(ax, (x, y), text, w=1.7, h=0.8) for n, text, x in names}
    params = {"content": "key $\\mathbf{k}_t$, strength $\\beta_t$", "interpolation": "gate $g_t$",
              "shift": "shift weighting $\\mathbf{s}_t$", "sharpening": "$\\gamma_t \\geq 1$"}
    for n, text in params.items():
        S.note(ax, (b[n].x, 2.75), text, ha="center", va="center", fontsize=10)
        S.arrow(ax, (b[n].x, 2.6), b[n].top)
    b["memory"] = S.box(ax, (1.6, 0.35), "memory $M_t$", w=1.5, h=0.45, kind="memory")
    S.arrow(ax, b["memory"].top, b["content"].bottom)
    S.note(ax, (1.72, 0.88), "cosine $K[\\mathbf{k}_t, M_t(i)]$", fontsize=10, va="center")
    for a, c in zip(list(b)[:3], list(b)[1:4]):
        S.arrow(ax, b[a].right, b[c].left)
    b["previous"] = S.box(ax, (3.95, 0.35), "previous $\\mathbf{w}_{t-1}$", w=1.9, h=0.45, kind="plain")
    S.arrow(ax, b["previous"].top, b["interpolation"].bottom)
    S.arrow(ax, b["sharpening"].bottom, b["previous"].right, "next step", rad=-0.25, offset=(0.9, -0.55),
            style="-|>")
    return fig, b


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


def plot_addressing(stages, *, w_prev=None, params=None, axes=None, title="", slots=None):
    """The four stages one under the other as bars over memory slots, on a fixed 0..1 scale.

    `slots`: the true slot number of each bar (default 0..N−1), for a window cut out of a larger
    memory. Values are written above the bars when there are at most 12 of them."""
    n_rows = 4 + (w_prev is not None)
    if axes is None:
        fig, axes = plt.subplots(n_rows, 1, figsize=(5.5, 1.25 * n_rows + 0.4), sharex=True)
    else:
        fig = axes[0].figure
    rows = ([("previous  $w_{t-1}$", w_prev)] if w_prev is not None else []) + list(
        zip(STAGES, stages))
    n = len(_np(stages[0]))
    slots = np.arange(n) if slots is None else np.asarray(slots)
    if len(slots) != n:
        raise ValueError(f"slots must name all {n} bars, got {len(slots)}")
    for ax, (label, w) in zip(axes, rows):
        w = _np(w)
        ax.clear()
        ax.bar(range(n), w, color=BAR_COLOR if "sharp" not in label else FOCUS_COLOR)
        ax.set_ylim(0, 1.35 if n <= 12 else 1.0)
        ax.set_ylabel(label, rotation=0, ha="right", va="center", fontsize=10)
        ax.set_yticks([0, 1])
        if n <= 12:
            for i, v in enumerate(w):
                if v > 0.05:
                    ax.text(i, v + 0.04, f"{v:.2f}", ha="center", va="bottom", fontsize=10)
    axes[-1].set_xlabel("memory slot i")
    step = max(1, int(np.ceil(n / 12)), 2 if n > 8 and slots.max() >= 100 else 1)  # 3-digit labels: every 2nd
    axes[-1].set_xticks(range(0, n, step))
    axes[-1].set_xticklabels([int(i) for i in slots[::step]])
    if params:
        title = (title + "  " if title else "") + ", ".join(
            f"{k}={v:.2f}" for k, v in params.items())
    axes[0].set_title(title, fontsize=10)
    fig.tight_layout()
    return fig


def window(centre: int, N: int, half: int = 5) -> np.ndarray:
    """The true slot numbers of the 2·half + 1 slots around `centre`, circularly (…, N−1, 0, …)."""
    return (int(centre) + np.arange(-half, half + 1)) % N


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


def travel_order(trace, slots=None, b: int = 0) -> np.ndarray:
    """`slots` (default: `used_slots`) in the order the write head visits them: reversed when it walks down the tape."""
    if slots is None:
        slots = used_slots(trace, b)
    pos = _np(trace.write_w[b, :, 0]).argmax(-1)
    N = trace.w.shape[-1]
    steps = (np.diff(pos) + N // 2) % N - N // 2  # each move, as a signed circular step
    return np.asarray(slots)[::-1].copy() if steps.sum() < 0 else np.asarray(slots)


def last_input_step(x: np.ndarray) -> int:
    """The last step of ``x (T, inputs)`` with any input (the delimiter on the copy tasks); −1 if none."""
    active = np.flatnonzero(np.abs(x).sum(-1) > 0)
    return int(active[-1]) if len(active) else -1


def slot_axis(ax, slots, N: int, *, every: int | None = None) -> None:
    """Label the rows of a slots × … heatmap with their true slot numbers (the multiples of
    `every`, chosen from the number of rows). Where the numbering wraps around (N−1 next to 0), a
    dashed line runs across the panel and its tick, left of the axes, reads "0 | N−1" (the slots
    above and below the line, in the order shown); slot labels too close to that tick are left out,
    so no label sits on the data and none crowds another."""
    slots = [int(i) for i in slots]
    every = every or next(e for n, e in ((12, 1), (24, 2), (60, 5), (10 ** 9, 10)) if len(slots) <= n)
    seams = [i + 0.5 for i in range(len(slots) - 1) if {slots[i], slots[i + 1]} == {0, N - 1}]
    ticks = [(i, str(sl)) for i, sl in enumerate(slots)
             if sl % every == 0 and all(abs(i - seam) >= 0.75 * every for seam in seams)]
    ticks += [(seam, f"{slots[int(seam)]} | {slots[int(seam) + 1]}") for seam in seams]
    ticks.sort()
    ax.set_yticks([row for row, _ in ticks])
    ax.set_yticklabels([label for _, label in ticks])
    for seam in seams:
        ax.axhline(seam, color=PAPER, ls="--", lw=1.0)


UNSCORED = "0.82"  # the axes colour that shows through where nothing is scored (NaN cells)


def scored_only(values, mask):
    """`values` (T, bits) with NaN on the time steps `mask` (T,) does not score: a heatmap leaves them
    blank, so the axes colour `UNSCORED` shows there."""
    values = _np(values).astype(float).copy()
    values[~_np(mask).astype(bool)] = np.nan
    return values


def _bits_axis(ax, n: int) -> None:
    ax.set_yticks(range(0, n, 2 if n > 6 else 1))


def time_axis(ax) -> None:
    """Integer ticks on the time axis (no 2.5 time steps)."""
    ax.xaxis.set_major_locator(plt.MaxNLocator(integer=True, nbins=8))


def plot_heads(trace, x, y_pred, *, b: int = 0, slots=None, t: int | None = None,
               axes=None, mask=None):
    """Paper Fig. 6: inputs / add vectors / write weightings (left), outputs / read vectors /
    read weightings (right); time on x, memory slot on y. `t` marks one time step.
    Outputs are shown only where they are scored (`mask`, (B, T); default, as in copy: the steps
    after the last step with any input), grey elsewhere.
    `slots`: a slice or index array of the memory slots to show (default: the used ones, in the
    order the write head visits them, so its path runs down the picture)."""
    N = trace.w.shape[-1]
    slots = travel_order(trace, b=b) if slots is None else np.arange(N)[slots]
    if axes is None:
        fig, axes = plt.subplots(3, 2, figsize=(10, 6.8), sharex=True,
                                 gridspec_kw=dict(height_ratios=[1, 1, 1.7]))
    fig = axes[0, 0].figure
    for ax in axes.flat:
        ax.clear()
    if mask is None:
        scored = np.arange(x.shape[1]) > last_input_step(_np(x[b]))
    else:
        scored = _np(mask[b]).astype(bool)
    x, y_pred = _np(x[b]).T, scored_only(torch.sigmoid(torch.as_tensor(y_pred[b])), scored).T
    heatmap(axes[0, 0], x, ylabel="input bit", title="inputs $\\mathbf{x}_t$")
    heatmap(axes[0, 1], y_pred, ylabel="output bit", title="outputs, probability of a 1 (grey: not scored)")
    axes[0, 1].set_facecolor(UNSCORED)
    _bits_axis(axes[0, 0], x.shape[0])
    _bits_axis(axes[0, 1], y_pred.shape[0])
    heatmap(axes[1, 0], _np(trace.a[b, :, 0]).T, vmin=-1, vmax=1, cmap=SIGNED_CMAP,
            ylabel="component", title="add vectors $\\mathbf{a}_t$")
    heatmap(axes[1, 1], _np(trace.r[b, :, 0]).T, vmin=-1, vmax=1, cmap=SIGNED_CMAP,
            ylabel="component", title="read vectors $\\mathbf{r}_t$")
    ww, wr = _np(trace.write_w[b, :, 0]).T[slots], _np(trace.read_w[b, :, 0]).T[slots]
    for ax, w, name in ((axes[2, 0], ww, "write"), (axes[2, 1], wr, "read")):
        heatmap(ax, w, xlabel="time step t", ylabel="memory slot",
                title=f"{name} weightings $\\mathbf{{w}}^{name[0]}_t$", cmap=CMAP)
        slot_axis(ax, slots, N)
    for ax in axes.flat:
        time_axis(ax)
    if t is not None:
        for ax in axes.flat:
            ax.axvline(t, color=PAPER, lw=1.0, ls="--")
    fig.tight_layout()
    return fig


def plot_memory(ax, trace, t: int, *, b: int = 0, slots=None):
    """Memory after step t (rows = slots, signed colours) with the step's write/read heads as bars
    beside it; a head whose largest weight on these slots is below 0.1 says so in its legend entry,
    since its bars are then only a sliver."""
    N = trace.w.shape[-1]
    slots = travel_order(trace, b=b) if slots is None else np.arange(N)[slots]
    mem = _np(trace.memory[b, t + 1])[slots]
    ax.clear()
    heatmap(ax, mem, vmin=-1, vmax=1, cmap=SIGNED_CMAP, colorbar=False,
            xlabel="component", ylabel="memory slot", title=f"memory after step t={t}")
    slot_axis(ax, slots, N)
    ww, wr = _np(trace.write_w[b, t, 0])[slots], _np(trace.read_w[b, t, 0])[slots]
    width = mem.shape[1]
    for w, side, left, color, name in ((-ww, "left", -0.6, WRITE_COLOR, "write"),
                                        (wr, "right", width - 0.4, READ_COLOR, "read")):
        faint = f"; at most {np.abs(w).max():.2f} here, a sliver" if np.abs(w).max() < 0.1 else ""
        ax.barh(range(len(w)), w * 3, left=left, color=color, height=0.8, label=f"{name} $w_t$ ({side}{faint})")
    ax.set_xlim(-3.7, width + 2.7)
    ax.set_xticks(range(0, width, 5))
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.1), ncol=1, fontsize=10, frameon=False)
    plt.colorbar(ax.images[0], ax=ax, fraction=0.046, pad=0.02, label="memory value")
    return ax


def heads_figure(trace, x, y_pred, t: int, *, b: int = 0, slots=None):
    """Fig. 6 panels with step `t` marked (`plot_heads`), and the memory after step t on the right."""
    slots = travel_order(trace, b=b) if slots is None else slots
    fig = plt.figure(figsize=(10, 6.5))
    gs = fig.add_gridspec(3, 3, width_ratios=[1, 1, 0.8], height_ratios=[1, 1, 1.6])
    axes = np.array([[fig.add_subplot(gs[i, j]) for j in range(2)] for i in range(3)])
    memory_ax = fig.add_subplot(gs[:, 2])
    plot_heads(trace, x, y_pred, b=b, slots=slots, t=t, axes=axes)
    plot_memory(memory_ax, trace, t, b=b, slots=slots)
    fig.memory_ax = memory_ax
    return fig


class HeadsExplorer(Explorer):
    """A time slider over one sequence: Fig. 6 panels with the step marked + the memory then."""

    def __init__(self, trace, x, y_pred, b: int = 0, t: int = 0):
        self.trace, self.x, self.y_pred, self.b = trace, x, y_pred, b
        self.slots = travel_order(trace, b=b)
        T = trace.w.shape[1]
        super().__init__({"t": Slider("time t", 0, T - 1, t, continuous=False)})

    def draw(self, t: int):
        """`heads_figure` at step t; ``.memory`` is what its right panel shows."""
        self.memory = self.trace.memory[self.b, t + 1]
        return heads_figure(self.trace, self.x, self.y_pred, t, b=self.b, slots=self.slots)


def controller_view(trace, x, r0, *, b: int = 0, slots=None):
    """Where an NTM's state lives, on one sequence. Left, on one time axis: everything the controller
    gets at step t, the input x_t above the previous read vector r_{t−1} (`r0`, (R, M), the learned
    initial read, at t = 0), then the write and the read weightings (true slot numbers, in the write
    head's travel order); a dashed line marks the delimiter (the last step with any input), labelled
    above the top panel. Right: the memory after the delimiter step, with that step's heads
    (`plot_memory`).

    A feed-forward controller keeps nothing from one step to the next (Graves et al. 2014, §3.4): the
    left panels, plus the memory, are all it has to go on."""
    N = trace.w.shape[-1]
    slots = travel_order(trace, b=b) if slots is None else np.arange(N)[slots]
    xs, r = _np(x[b]), _np(trace.r[b]).reshape(trace.r.shape[1], -1)  # (T, in), (T, R·M)
    if _np(r0).size != r.shape[1]:
        raise ValueError(f"r0 must hold {r.shape[1]} values (R × M), got {_np(r0).size}")
    r_prev = np.concatenate([_np(r0).reshape(1, -1), r[:-1]])        # what step t reads in: r_{t−1}
    delimiter = max(last_input_step(xs), 0)
    fig = plt.figure(figsize=(10, 6.4))
    gs = fig.add_gridspec(3, 2, width_ratios=[1.55, 0.75], height_ratios=[1.25, 1, 1])
    axes = [fig.add_subplot(gs[0, 0])]
    axes += [fig.add_subplot(gs[i, 0], sharex=axes[0]) for i in (1, 2)]
    seen = np.concatenate([xs, r_prev], axis=1).T                    # (in + R·M, T)
    heatmap(axes[0], seen, vmin=-1, vmax=1, cmap=SIGNED_CMAP,
            title="the controller's whole input at step t: $\\mathbf{x}_t$ above $\\mathbf{r}_{t-1}$")
    axes[0].set_title(axes[0].get_title(), pad=16)                    # room for the delimiter's label
    axes[0].axhline(xs.shape[1] - 0.5, color=INK, lw=1.5)
    axes[0].set_yticks([(xs.shape[1] - 1) / 2, xs.shape[1] + (r.shape[1] - 1) / 2])
    axes[0].set_yticklabels(["$\\mathbf{x}_t$", "$\\mathbf{r}_{t-1}$"])
    for ax, w, name in ((axes[1], trace.write_w, "write"), (axes[2], trace.read_w, "read")):
        heatmap(ax, _np(w[b, :, 0]).T[slots], ylabel="memory slot", title=f"{name} weighting $\\mathbf{{w}}^{name[0]}_t$")
        slot_axis(ax, slots, N, every=5 if len(slots) > 15 else None)   # short panels: fewer labels
    for ax in axes:
        ax.axvline(delimiter, color=INK if ax is axes[0] else PAPER, lw=1.0, ls="--")
        time_axis(ax)
    axes[0].annotate("delimiter", xy=(delimiter, 1), xycoords=("data", "axes fraction"), xytext=(0, 1),
                     textcoords="offset points", ha="center", va="bottom", fontsize=10)   # above its line
    axes[2].set_xlabel("time step t")
    memory_ax = fig.add_subplot(gs[:, 1])
    plot_memory(memory_ax, trace, delimiter, b=b, slots=slots)
    fig.tight_layout()
    fig.panels = dict(input=axes[0], write=axes[1], read=axes[2], memory=memory_ax)
    fig.delimiter = delimiter
    return fig


CHANNELS = {  # what the input channels after the data bits carry (memlib.algorithmic), 0-based as on the axis
    "copy": "channel 8: delimiter",
    "repeat-copy": "channel 8: delimiter, 9: repeat count",
    "associative-recall": "channel 6: item delimiter, 7: query delimiter",
    "priority-sort": "channel 8: priority, 9: delimiter",
}


def plot_episode(batch, logits, trace, *, b: int = 0, title: str = "", task: str | None = None):
    """One episode of any task, on one time axis: inputs, target, output, and the first write
    head's and the first read head's weightings apart (true slot numbers, in travel order).
    `task` names what the extra input channels carry (`CHANNELS`). Target and output are grey
    where nothing is scored."""
    N = trace.w.shape[-1]
    slots = travel_order(trace, b=b)
    x, y = _np(batch.x[b]).T, scored_only(batch.y[b], batch.mask[b]).T
    out = scored_only(torch.sigmoid(logits[b]), batch.mask[b]).T
    fig, axes = plt.subplots(5, 1, figsize=(9, 9.5), sharex=True,
                             gridspec_kw=dict(height_ratios=[1, 1, 1, 1.6, 1.6]))
    signed = x.min() < 0
    if task is not None and task not in CHANNELS:
        raise ValueError(f"unknown task {task!r}; expected one of {sorted(CHANNELS)}")
    note = f" ({CHANNELS[task]})" if task else ""
    heatmap(axes[0], x, ylabel="channel", title=f"{title}inputs{note}",
            vmin=-1 if signed else 0, cmap=SIGNED_CMAP if signed else CMAP)
    heatmap(axes[1], y, ylabel="bit", title="target (grey: not scored)")
    errors = int(((out > 0.5) != (y > 0.5)).sum())   # NaN compares False on both sides: unscored adds 0
    heatmap(axes[2], out, ylabel="bit", title=f"output, probability of a 1 ({errors} bit errors)")
    axes[1].set_facecolor(UNSCORED)
    axes[2].set_facecolor(UNSCORED)
    for ax, w, name in ((axes[3], trace.write_w, "write"), (axes[4], trace.read_w, "read")):
        heads = w.shape[2]
        heatmap(ax, _np(w[b, :, 0]).T[slots], ylabel="memory slot",
                title=f"{name} weighting" + (f" (head 1 of {heads})" if heads > 1 else ""))
        slot_axis(ax, slots, N)
    for ax in axes[:3]:
        _bits_axis(ax, ax.images[0].get_array().shape[0])
    for ax in axes:
        time_axis(ax)
    axes[-1].set_xlabel("time step t")
    fig.tight_layout()
    return fig


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
    ax.legend(fontsize=10)
    return ax


def plot_generalisation(axes, lengths, results: dict, *, trained_max: int = 20, N: int | None = None):
    """Two panels over the test length, from `evaluate` results {label: [dict per length]}: the
    mean bit errors per sequence (axes[0]) and the share of sequences copied perfectly (axes[1]).
    Means and shares, not medians: a median of 0 hides a third of the sequences failing."""
    for label, rows in results.items():
        axes[0].plot(lengths, [r["bit_errors"] for r in rows], marker="o", label=label)
        axes[1].plot(lengths, [100 * r["perfect"] for r in rows], marker="o", label=label)
    for ax in axes:
        ax.axvspan(0, trained_max, color=SHADE, label="trained lengths")
        if N is not None:
            ax.axvline(N, color=INK, ls="--", lw=1, label=f"memory size N={N}")
        ax.set_xlabel("sequence length")
        ax.set_xlim(0, max(lengths) * 1.05)
    axes[0].set_ylabel("mean bit errors per sequence")
    axes[0].set_ylim(bottom=0)
    axes[1].set_ylabel("% of sequences perfect")
    axes[1].set_ylim(-3, 103)
    axes[1].legend(fontsize=10, loc="center")
    return axes


def plot_sequence(axes, batch, logits, b: int = 0, title=""):
    """Target and output (thresholded probabilities) of one sequence, scored steps only."""
    m = _np(batch.mask[b]).astype(bool)
    tgt = _np(batch.y[b])[m].T
    out = _np(torch.sigmoid(logits[b]))[m].T
    heatmap(axes[0], tgt, ylabel="bit", title=f"{title} target")
    heatmap(axes[1], out, ylabel="bit", xlabel="output step",
            title=f"output ({int(((out > 0.5) != tgt).sum())} bit errors)")
    for ax in axes[:2]:
        _bits_axis(ax, tgt.shape[0])
        time_axis(ax)
    return axes
