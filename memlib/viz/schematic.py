"""Boxes and arrows for the models' diagrams, drawn by matplotlib so they are versioned and tested.

A diagram is a blank canvas in data units (1 unit = 1 inch at the figure's size), with boxes
that return their anchors, so arrows join named sides instead of hand-placed coordinates::

    fig, ax = canvas(8, 3)
    q = box(ax, (1, 1.5), "question q", kind="input")
    b = box(ax, (4, 1.5), "u = B q", kind="op")
    arrow(ax, q.right, b.left, "embed")

The per-model diagrams live in `memlib.viz.memnn`, `memlib.viz.memn2n` and `memlib.viz.ntm`.
"""

from __future__ import annotations

import dataclasses

import matplotlib.pyplot as plt
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

from memlib.viz.plots import INK

# one colour per role, the same in every diagram of the course
FILL = {"input": "#e8f1fa", "op": "#fdf1e3", "memory": "#e9f5e9", "output": "#f9e6e6", "plain": "white"}
EDGE = {"input": "#1f77b4", "op": "#ff7f0e", "memory": "#2ca02c", "output": "#d62728", "plain": INK}


@dataclasses.dataclass(frozen=True)
class Box:
    """A drawn box: its centre and size, and the midpoints of its four sides."""

    x: float
    y: float
    w: float
    h: float

    @property
    def left(self):
        return (self.x - self.w / 2, self.y)

    @property
    def right(self):
        return (self.x + self.w / 2, self.y)

    @property
    def top(self):
        return (self.x, self.y + self.h / 2)

    @property
    def bottom(self):
        return (self.x, self.y - self.h / 2)


def canvas(width: float, height: float, title: str = ""):
    """A figure of `width` × `height` inches whose data units are inches, without axes."""
    fig, ax = plt.subplots(figsize=(width, height))
    ax.set_xlim(0, width)
    ax.set_ylim(0, height)
    ax.set_aspect("equal")
    ax.axis("off")
    if title:
        ax.set_title(title)
    return fig, ax


def box(ax, centre, text: str, *, w: float = 1.6, h: float = 0.6, kind: str = "op",
        fontsize: float | None = None) -> Box:
    """A rounded box centred at `centre` holding `text`; `kind` picks its colour (see FILL)."""
    if kind not in FILL:
        raise ValueError(f"box kind must be one of {sorted(FILL)}, got {kind!r}")
    x, y = centre
    ax.add_patch(FancyBboxPatch((x - w / 2, y - h / 2), w, h, boxstyle="round,pad=0.02,rounding_size=0.08",
                                facecolor=FILL[kind], edgecolor=EDGE[kind], linewidth=1.5))
    ax.text(x, y, text, ha="center", va="center", fontsize=fontsize, color=INK)
    return Box(x, y, w, h)


def arrow(ax, start, end, text: str = "", *, offset=(0.0, 0.12), color: str = INK,
          style: str = "-|>", rad: float = 0.0, fontsize: float | None = None) -> None:
    """An arrow from `start` to `end` (points, e.g. a Box's side), labelled at its middle."""
    ax.add_patch(FancyArrowPatch(start, end, arrowstyle=style, mutation_scale=14, color=color,
                                 linewidth=1.4, connectionstyle=f"arc3,rad={rad}", shrinkA=2, shrinkB=2))
    if text:
        mx, my = (start[0] + end[0]) / 2 + offset[0], (start[1] + end[1]) / 2 + offset[1]
        ax.text(mx, my, text, ha="center", va="bottom", fontsize=fontsize, color=color)


def note(ax, xy, text: str, *, fontsize: float | None = None, **kw) -> None:
    """Free text (a caption, an equation) at `xy`."""
    ax.text(*xy, text, fontsize=fontsize, color=kw.pop("color", INK), **kw)
