"""The shared visual idioms: one palette, labelled axes, weights on a fixed 0..1 scale.

Every colour of the course's figures is named here; the per-model modules use these names.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

CMAP = "viridis"  # weights and attention everywhere in the course
SIGNED_CMAP = "RdBu_r"  # signed quantities (memory contents, add vectors)
BAR_COLOR = "#1f77b4"  # bars of weights and scores
TRUE_COLOR = "#d62728"  # marks the true supporting facts / targets
FOCUS_COLOR = "#ff7f0e"  # the final, sharpened weighting of the NTM's addressing
WRITE_COLOR = "#d62728"  # the NTM's write head
READ_COLOR = "#2ca02c"  # the NTM's read head
INK = "black"  # markers, zero lines, paper reference curves, text on light cells
PAPER = "white"  # text on dark cells, the time marker on heatmaps
MUTED = "gray"  # reference lines such as chance
SHADE = "0.9"  # a shaded range, such as the trained lengths


def _np(x):
    return x.detach().cpu().numpy() if hasattr(x, "detach") else np.asarray(x)


def heatmap(ax, values, *, xlabels=None, ylabels=None, xlabel="", ylabel="", title="",
            vmin=0.0, vmax=1.0, cmap=CMAP, colorbar=True, annotate=False):
    """Draw a 2-D array as a heatmap on `ax` with labelled axes on a fixed colour scale."""
    values = _np(values)
    if values.ndim != 2:
        raise ValueError(f"heatmap expects a 2-D array, got shape {values.shape}")
    im = ax.imshow(values, aspect="auto", cmap=cmap, vmin=vmin, vmax=vmax, interpolation="nearest")
    if xlabels is not None:
        ax.set_xticks(range(len(xlabels)))
        ax.set_xticklabels(xlabels, rotation=90 if max(map(len, map(str, xlabels)), default=0) > 3 else 0)
    if ylabels is not None:
        ax.set_yticks(range(len(ylabels)))
        ax.set_yticklabels(ylabels)
    if annotate:
        for (i, j), v in np.ndenumerate(values):
            ax.text(j, i, f"{v:.2f}", ha="center", va="center", fontsize=7,
                    color=PAPER if v < (vmin + vmax) / 2 else INK)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    if colorbar:
        plt.colorbar(im, ax=ax, fraction=0.046, pad=0.02)
    return im


def weight_bars(ax, weights, labels=None, *, highlight=(), title="", xlabel="weight", chosen=None):
    """Horizontal bars of a weighting over slots (0..1), `highlight`ed slots in the true colour."""
    weights = _np(weights).astype(float)
    n = len(weights)
    colors = [TRUE_COLOR if i in set(highlight) else BAR_COLOR for i in range(n)]
    ax.barh(range(n), weights, color=colors)
    ax.set_yticks(range(n))
    ax.set_yticklabels(labels if labels is not None else [str(i) for i in range(n)], fontsize=8)
    ax.invert_yaxis()  # first sentence on top, as in the story
    ax.set_xlim(0, 1)
    ax.set_xlabel(xlabel)
    ax.set_title(title)
    if chosen is not None:
        ax.plot([min(weights[chosen] + 0.03, 0.97)], [chosen], marker="<", color=INK)
    return ax
