"""MemN2N figures: per-hop attention over a story's sentences, and the attention explorer.

`explain` runs a model on one bAbI sample and keeps what the figure needs (the trace's
attention, the prediction); `attention_figure` draws it; `explorer` wraps the same two
functions in widgets (task, story, question → the figure), so the widget has a static twin.
"""

from __future__ import annotations

from dataclasses import dataclass

import matplotlib.pyplot as plt
import numpy as np
import torch

from memlib.viz.plots import TRUE_COLOR, heatmap, weight_bars


@dataclass
class Explanation:
    """One question answered by a model, with the per-hop attention over its sentences."""

    sentences: list  # the remembered sentences, oldest first
    question: str
    answer: str  # the true answer
    predicted: str
    probability: float
    attention: np.ndarray  # (K, n) attention of each hop over the n sentences
    support: list  # slots of the true supporting facts
    empty: np.ndarray = None  # (K,) attention on the empty memory slots ("nothing matches")

    @property
    def correct(self) -> bool:
        return self.predicted == self.answer


@torch.no_grad()
def explain(model, sample) -> Explanation:
    """Run `model` (E = 1, with a vocabulary) on one `memlib.babi.encode.Sample`."""
    memories, queries = model.encode([sample])
    logits, trace = model(memories, queries)
    probs = torch.softmax(logits[0], -1)
    best = int(probs.argmax())
    n = int(trace.lengths[0])
    shift = max(0, len(sample.memories) - memories.shape[1])
    sentences = (sample.sentences or [" ".join(m) for m in sample.memories])[shift:][:n]
    support = [s - shift for s in sample.support if 0 <= s - shift < n]
    return Explanation(sentences, sample.question or " ".join(sample.query), sample.answer, model.answers[best],
                       float(probs[best]), trace.attention[0, :, :n].numpy(), support, trace.empty[0].numpy())


def attention_figure(ex: Explanation, *, max_sentences: int = 20, fig=None):
    """One bar chart per hop: attention over the sentences (and the empty slots), true supporting facts in red."""
    K, n = ex.attention.shape
    start = max(0, n - max_sentences)  # the most recent sentences
    labels = [f"{i + 1}: {s}" for i, s in enumerate(ex.sentences)][start:]
    empty = ex.empty if ex.empty is not None else np.zeros(K)
    labels.append("(empty memory slots)")
    highlight = [s - start for s in ex.support if s >= start]
    height = 1.2 + 0.28 * len(labels)
    if fig is None:
        fig = plt.figure(figsize=(3.2 * K + 2.8, height))
    axes = fig.subplots(1, K, sharey=True, squeeze=False)[0]
    for k, ax in enumerate(axes):
        weights = np.append(ex.attention[k, start:], empty[k])  # the last bar: the empty slots' share
        weight_bars(ax, weights, labels, highlight=highlight, title=f"hop {k + 1}",
                    chosen=int(np.argmax(weights)), xlabel="attention p")
        if k:
            ax.tick_params(labelleft=False)
    verdict = "✓" if ex.correct else "✗"
    fig.suptitle(f"{ex.question}   predicted: {ex.predicted} ({ex.probability:.2f}) {verdict}   true: {ex.answer}"
                 f"   (red = true supporting facts)", fontsize=10)
    fig.tight_layout()
    return fig


def hops_heatmap(ax, ex: Explanation, max_sentences: int = 20):
    """The same attention as a hops × sentences heatmap (0..1), supporting facts marked on the axis."""
    n = ex.attention.shape[1]
    start = max(0, n - max_sentences)
    labels = [f"{i + 1}" + (" *" if i in ex.support else "") for i in range(start, n)]
    heatmap(ax, ex.attention[:, start:], xlabels=labels, ylabels=[f"hop {k + 1}" for k in range(ex.attention.shape[0])],
            xlabel="sentence (* = true supporting fact)", title=ex.question)
    for tick in ax.get_xticklabels():
        if tick.get_text().endswith("*"):
            tick.set_color(TRUE_COLOR)
    return ax


def explorer(models: dict, stories: dict):
    """Widgets: task, story, question → per-hop attention bars (the static twin is `attention_figure`).

    `models` maps a task to its MemN2N; `stories` maps the task to its test stories, each a list
    of samples (``[memlib.babi.encode.story_samples(s) for s in stories]``). Returns a VBox with
    ``.task``, ``.story``, ``.question`` (widgets), ``.output`` and ``.current`` (the last
    `Explanation` drawn) for tests: setting any widget's ``.value`` redraws.
    """
    import ipywidgets as widgets

    tasks = sorted(models)
    task = widgets.Dropdown(options=tasks, value=tasks[0], description="task")
    story = widgets.IntSlider(value=0, min=0, max=len(stories[tasks[0]]) - 1, description="story")
    question = widgets.IntSlider(value=0, min=0, max=len(stories[tasks[0]][0]) - 1, description="question")
    output = widgets.Output()
    box = widgets.VBox([widgets.HBox([task, story, question]), output])
    box.task, box.story, box.question, box.output, box.current = task, story, question, output, None
    busy = []  # no redraw while the sliders' ranges are being updated

    def draw(*_):
        if busy:
            return
        ex = explain(models[task.value], stories[task.value][story.value][question.value])
        box.current = ex
        output.clear_output(wait=True)
        with output:
            fig = attention_figure(ex)
            plt.show()
            plt.close(fig)

    def fit_ranges(*_):
        busy.append(1)
        story.max = len(stories[task.value]) - 1
        question.max = len(stories[task.value][story.value]) - 1
        busy.pop()
        draw()

    task.observe(fit_ranges, names="value")
    story.observe(fit_ranges, names="value")
    question.observe(draw, names="value")
    draw()
    return box
