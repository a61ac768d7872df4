"""MemN2N figures: per-hop attention over a story's sentences, and the attention explorer.

`explain` runs a model on one bAbI sample and keeps what the figure needs (the trace's
attention, the prediction); `attention_figure` draws it; `explorer` wraps the same two
functions in widgets (task, story, question → the figure), so the widget has a static twin.
Sukhbaatar et al. 2015, §2 (one hop: p = softmax(uᵀm_i)), §4.3 and Fig. 2 (attention per hop).
"""

from __future__ import annotations

from dataclasses import dataclass

import matplotlib.pyplot as plt
import numpy as np
import torch

from memlib.viz.explorer import Explorer, Menu, Slider
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


class AttentionExplorer(Explorer):
    """Task, story and question → per-hop attention bars (the static twin is `attention_figure`)."""

    def __init__(self, models: dict, stories: dict):
        self.models, self.stories, self.current = models, stories, None
        tasks = sorted(models)
        super().__init__({"task": Menu("task", tasks, tasks[0]),
                          "story": Slider("story", 0, len(stories[tasks[0]]) - 1, 0),
                          "question": Slider("question", 0, len(stories[tasks[0]][0]) - 1, 0)})

    def refit(self, moved):
        if moved != "question":  # another task or story: another number of stories or questions
            self.story.max = len(self.stories[self.task.value]) - 1
            self.question.max = len(self.stories[self.task.value][self.story.value]) - 1

    def draw(self, task, story: int, question: int):
        self.current = explain(self.models[task], self.stories[task][story][question])
        return attention_figure(self.current)


def explorer(models: dict, stories: dict) -> AttentionExplorer:
    """Widgets: task, story, question → per-hop attention bars (the static twin is `attention_figure`).

    `models` maps a task to its MemN2N; `stories` maps the task to its test stories, each a list
    of samples (``[memlib.babi.encode.story_samples(s) for s in stories]``). The explorer has
    ``.task``, ``.story``, ``.question`` (widgets), ``.output`` and ``.current`` (the last
    `Explanation` drawn) for tests: setting any widget's ``.value`` redraws.
    """
    return AttentionExplorer(models, stories)
