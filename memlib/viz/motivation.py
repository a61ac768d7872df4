"""Figures of the motivation notebook: accuracy against distance, and one story read two ways.

`story_figure` is the static figure; `distance_explorer` puts a distance slider over any
``view(distance)`` that draws one (the notebook's view draws `story_figure`).
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import Patch

from memlib.viz.explorer import Explorer, Slider
from memlib.viz.plots import BAR_COLOR, MUTED, TRUE_COLOR, weight_bars


def distance_curve(ax, distances, curves: dict, *, chance: float | None = None, title: str = ""):
    """Accuracy (0..1) against distance, one line per reader in `curves` ({name: accuracies})."""
    distances = list(distances)
    for name, acc in curves.items():
        acc = np.asarray(acc, dtype=float)
        if acc.shape != (len(distances),):
            raise ValueError(f"curve {name!r} has {acc.size} points, expected one per distance ({len(distances)})")
        ax.plot(distances, acc, marker="o", label=name)
    if chance is not None:
        ax.axhline(chance, color=MUTED, linestyle=":", label="chance")
    ax.set_ylim(0, 1.02)
    ax.set_xticks(distances)
    ax.set_xlabel("distance: statements between the supporting fact and the question")
    ax.set_ylabel("test accuracy")
    ax.set_title(title)
    ax.legend(loc="center right")
    return ax


def story_figure(sentences, question: str, support: int, attention=None, answers: dict | None = None,
                 truth: str = "", ax=None):
    """A story as bars of a memory reader's `attention` over its sentences (numbered from 1, as bAbI
    files do), the supporting fact in red, with a legend for the two colours.

    `answers` ({reader: answer}) go in the title next to the `truth`; without `attention` the
    bars are empty and only the labels (the sentences) show.
    """
    if ax is None:
        _, ax = plt.subplots(figsize=(7.5, 0.36 * len(sentences) + 1.6))
    weights = np.zeros(len(sentences)) if attention is None else np.asarray(attention, dtype=float)
    if weights.shape != (len(sentences),):
        raise ValueError(f"attention must have one weight per sentence ({len(sentences)}), got {weights.shape}")
    labels = [f"{i + 1:>2} {s}" for i, s in enumerate(sentences)]
    said = "   ".join(f"{k}: {v}" for k, v in (answers or {}).items())
    weight_bars(ax, weights, labels, highlight=[support], xlabel="attention of the memory reader",
                title=f"{question}  (answer: {truth})\n{said}")
    ax.tick_params(axis="y", labelsize=10)
    ax.get_yticklabels()[support].set_color(TRUE_COLOR)
    ax.legend(handles=[Patch(color=TRUE_COLOR, label="supporting fact"), Patch(color=BAR_COLOR, label="other sentence")],
              loc="best")
    return ax


class DistanceExplorer(Explorer):
    """A slider over the distance that redraws ``view(distance)`` (a function drawing with pyplot)."""

    def __init__(self, view, max_distance: int, value: int = 0):
        self.view = view
        super().__init__({"distance": Slider("distance", 0, max_distance, value)})
        self.slider = self.distance

    def draw(self, distance: int):
        self.view(distance)
        return plt.gcf()


def distance_explorer(view, max_distance: int, value: int = 0) -> DistanceExplorer:
    """A slider over the distance that redraws ``view(distance)``; the slider is ``.slider``."""
    return DistanceExplorer(view, max_distance, value)
