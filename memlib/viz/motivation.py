"""Figures of the motivation notebook: accuracy against distance, and one story read two ways."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from memlib.viz.plots import TRUE_COLOR, weight_bars


def distance_curve(ax, distances, curves: dict, *, chance: float | None = None, title: str = ""):
    """Accuracy (0..1) against distance, one line per reader in `curves` ({name: accuracies})."""
    distances = list(distances)
    for name, acc in curves.items():
        acc = np.asarray(acc, dtype=float)
        if acc.shape != (len(distances),):
            raise ValueError(f"curve {name!r} has {acc.size} points, expected one per distance ({len(distances)})")
        ax.plot(distances, acc, marker="o", label=name)
    if chance is not None:
        ax.axhline(chance, color="gray", linestyle=":", label="chance")
    ax.set_ylim(0, 1.02)
    ax.set_xticks(distances)
    ax.set_xlabel("distance: statements between the supporting fact and the question")
    ax.set_ylabel("test accuracy")
    ax.set_title(title)
    ax.legend(loc="center right", fontsize=8)
    return ax


def story_figure(sentences, question: str, support: int, attention=None, answers: dict | None = None,
                 truth: str = "", ax=None):
    """A story as bars of a memory reader's `attention` over its sentences, the supporting fact in red.

    `answers` ({reader: answer}) go in the title next to the `truth`; without `attention` the
    bars are empty and only the labels (the sentences) show.
    """
    if ax is None:
        _, ax = plt.subplots(figsize=(6.4, 0.32 * len(sentences) + 1.2))
    weights = np.zeros(len(sentences)) if attention is None else np.asarray(attention, dtype=float)
    if weights.shape != (len(sentences),):
        raise ValueError(f"attention must have one weight per sentence ({len(sentences)}), got {weights.shape}")
    labels = [f"{i + 1:>2} {s}" for i, s in enumerate(sentences)]
    said = "   ".join(f"{k}: {v}" for k, v in (answers or {}).items())
    weight_bars(ax, weights, labels, highlight=[support], xlabel="attention of the memory reader",
                title=f"{question}  (answer: {truth})\n{said}")
    ax.get_yticklabels()[support].set_color(TRUE_COLOR)
    return ax


def distance_explorer(view, max_distance: int, value: int = 0):
    """A slider over the distance that redraws ``view(distance)``; returns the widget (``.slider``)."""
    import ipywidgets as widgets

    slider = widgets.IntSlider(value=value, min=0, max=max_distance, description="distance")
    out = widgets.Output()

    def redraw(change=None):
        out.clear_output(wait=True)
        with out:
            view(slider.value)
            plt.show()

    slider.observe(redraw, names="value")
    redraw()
    box = widgets.VBox([slider, out])
    box.slider = slider
    return box
