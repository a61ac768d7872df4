"""MemN2N figures: the model's diagram, per-hop attention over a story's sentences, and the explorer.

`diagram` draws the model with the paper's symbols (one hop, or a chain of hops with adjacent or
layer-wise tying).
`explain` runs a model on one bAbI sample and keeps what the figures need (the trace's
attention, the prediction); `attention_figure` (bars) and `hops_heatmap` (sentences × hops) draw
it; `explorer` wraps the same functions in widgets (task, story, question → the figure), so the
widget has a static twin.
Sukhbaatar et al. 2015, §2.1 and Fig. 1 (one hop: p = softmax(uᵀm_i), o = Σ p_i c_i,
â = softmax(W(o + u))), §2.2 (hops: u^{k+1} = u^k + o^k with adjacent tying; u^{k+1} = H u^k + o^k with layer-wise tying),
Fig. 2 (attention per hop).
"""

from __future__ import annotations

from dataclasses import dataclass

import matplotlib.pyplot as plt
import numpy as np
import torch

from memlib.viz.explorer import Explorer, Menu, Slider
from memlib.viz.plots import INK, PAPER, TRUE_COLOR, heatmap, weight_bars
from memlib.viz.schematic import arrow, box, canvas, note

MAX_WIDTH = 10.0  # inches: JupyterLab shrinks wider figures, and their text with them


def diagram(hops: int = 1, tying: str = "adjacent"):
    """The MemN2N of Sukhbaatar et al. 2015 (Fig. 1): one hop in detail, or a chain of 2 or 3 hops
    whose tables are tied as in §2.2, ``"adjacent"`` or ``"layerwise"``."""
    if tying not in ("adjacent", "layerwise"):
        raise ValueError(f"tying must be 'adjacent' or 'layerwise', got {tying!r}")
    if hops == 1 and tying == "adjacent":
        return _one_hop()
    if hops == 1:
        raise ValueError("the one-hop diagram has no tying between hops: draw layer-wise tying with 2 or 3 hops")
    if hops in (2, 3):
        return _hop_chain(hops, tying)
    raise ValueError(f"diagram draws 1, 2 or 3 hops, got {hops}")


def _one_hop():
    """Fig. 1(a): embeddings A, C of the sentences and B of the question, attention p, read o, answer â."""
    fig, ax = canvas(MAX_WIDTH, 4.3, "MemN2N, one hop")
    x = box(ax, (0.95, 2.95), "sentences\n" r"$\{x_i\}$", w=1.5, h=1.1, kind="input")
    q = box(ax, (0.95, 1.0), "question $q$", w=1.5, kind="input")
    c = box(ax, (3.9, 3.55), r"$c_i = C\,x_i$", w=1.6, kind="memory")
    m = box(ax, (3.9, 2.4), r"$m_i = A\,x_i$", w=1.6, kind="memory")
    u = box(ax, (3.9, 1.0), r"$u = B\,q$", w=1.6, kind="plain")
    o = box(ax, (6.1, 3.55), r"$o = \sum_i p_i\, c_i$", w=2.2, kind="op")
    p = box(ax, (6.1, 2.4), r"$p_i = \mathrm{softmax}(u^\top m_i)$", w=2.2, kind="op")
    s = box(ax, (8.5, 2.4), "$o + u$", w=1.0, kind="op")
    a = box(ax, (8.5, 1.0), r"$\hat a = \mathrm{softmax}(W(o + u))$", w=2.4, h=0.7, kind="output")
    arrow(ax, (x.right[0], 3.3), c.left, "embed C")
    arrow(ax, (x.right[0], 2.6), m.left, "embed A", offset=(0, -0.4))
    arrow(ax, q.right, u.left, "embed B")
    arrow(ax, c.right, o.left)
    arrow(ax, m.right, p.left)
    arrow(ax, u.right, (p.x - 0.6, p.bottom[1]), "u", offset=(-0.2, -0.05))
    arrow(ax, p.top, o.bottom, "p", offset=(0.15, -0.12))
    arrow(ax, o.right, s.top, "o", offset=(0.15, 0.0))
    arrow(ax, u.right, (s.x - 0.3, s.bottom[1]))
    arrow(ax, s.bottom, a.top, "W", offset=(0.2, -0.1))
    note(ax, (0.2, 0.15), "A, C (memories) and B (question) embed words in d dimensions;  "
         "W scores each answer;  the weights p sum to 1", fontsize=9)
    fig.subplots_adjust(left=0.01, right=0.99, bottom=0.01, top=0.93)
    return fig


def _hop_chain(hops: int, tying: str = "adjacent"):
    """Fig. 1(b): K hops, u^{k+1} = u^k + o^k, with adjacent tying (A^{k+1} = C^k, B = A^1, Wᵀ = C^K);
    or layer-wise tying (§2.2): one A and one C for every hop, u^{k+1} = H u^k + o^k, B and W their own."""
    layerwise = tying == "layerwise"
    fig, ax = canvas(MAX_WIDTH, 4.6, f"MemN2N, {hops} hops" + (", layer-wise tying" if layerwise else ""))
    step = 2.3
    first = 2.45
    centres = [first + k * step for k in range(hops)]
    x = box(ax, ((centres[0] + centres[-1]) / 2, 4.0), r"sentences $\{x_i\}$",
            w=centres[-1] - centres[0] + 2.2, h=0.5, kind="input")
    q = box(ax, (0.4, 1.0), "$q$", w=0.6, kind="input")
    states = [box(ax, (centres[0] - 1.0, 1.0), "$u^1$", w=0.6, kind="plain")]
    arrow(ax, q.right, states[0].left, "B")
    for k, cx in enumerate(centres, start=1):
        A, C = ("A", "C") if layerwise else (f"A^{k}", f"C^{k}")  # layer-wise: the same two tables in every hop
        hop = box(ax, (cx, 2.6), f"hop {k}: ${A}$, ${C}$\n" + rf"$p^{k}_i = \mathrm{{softmax}}(u^{{{k}\top}} {A} x_i)$" + "\n"
                  + rf"$o^{k} = \sum_i p^{k}_i\, {C} x_i$", w=2.1, h=1.15, kind="memory", fontsize=9)
        plus = (box(ax, (cx + 0.2, 1.0), rf"$H u^{k} + o^{k}$", w=0.9, h=0.4, kind="op", fontsize=9) if layerwise
                else box(ax, (cx + 0.2, 1.0), "+", w=0.4, h=0.4, kind="op"))
        nxt = box(ax, (cx + 1.35, 1.0), f"$u^{k + 1}$", w=0.6, kind="plain")
        arrow(ax, (cx, x.bottom[1]), hop.top)
        arrow(ax, states[-1].top, (states[-1].x, hop.bottom[1]), f"$u^{k}$", offset=(-0.22, -0.1))
        arrow(ax, (plus.x, hop.bottom[1]), plus.top, f"$o^{k}$", offset=(0.22, -0.1))
        arrow(ax, states[-1].right, plus.left)
        arrow(ax, plus.right, nxt.left)
        states.append(nxt)
    K = hops + 1
    a = box(ax, (states[-1].x + 1.0, 1.0), r"$\hat a$", w=0.5, kind="output")
    arrow(ax, states[-1].right, a.left, "W")
    if layerwise:
        note(ax, (0.2, 0.2), rf"$u^{{k+1}} = H u^k + o^k$;   $\hat a = \mathrm{{softmax}}(W u^{K})$;   layer-wise "
             rf"tying: $A^1 = \dots = A^{hops} = A$, $C^1 = \dots = C^{hops} = C$; $B$, $H$, $W$ learned apart",
             fontsize=9)
    else:
        note(ax, (0.2, 0.2), rf"$u^{{k+1}} = u^k + o^k$;   $\hat a = \mathrm{{softmax}}(W u^{K}) = "
             rf"\mathrm{{softmax}}(W(o^{hops} + u^{hops}))$;   adjacent tying: $B = A^1$, $A^{{k+1}} = C^k$, "
             rf"$W^\top = C^{hops}$", fontsize=9)
    fig.subplots_adjust(left=0.01, right=0.99, bottom=0.01, top=0.93)
    return fig


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


#: the x-limit of the attention bars: room right of a bar at p = 1 for the ◀ marker
MARKER_ROOM = 1.12


def attention_figure(ex: Explanation, *, max_sentences: int = 20, fig=None):
    """One bar chart per hop: attention over the sentences (and the empty slots), true supporting facts in red."""
    K, n = ex.attention.shape
    start = max(0, n - max_sentences)  # the most recent sentences
    labels = [f"{i + 1}: {s}" for i, s in enumerate(ex.sentences)][start:]
    empty = ex.empty if ex.empty is not None else np.zeros(K)
    labels.append("(empty memory slots)")
    highlight = [s - start for s in ex.support if s >= start]
    height = 1.3 + 0.28 * len(labels)
    if fig is None:
        fig = plt.figure(figsize=(min(MAX_WIDTH, 2.3 * K + 3.4), height))
    axes = fig.subplots(1, K, sharey=True, squeeze=False)[0]
    for k, ax in enumerate(axes):
        weights = np.append(ex.attention[k, start:], empty[k])  # the last bar: the empty slots' share
        weight_bars(ax, weights, labels, highlight=highlight, title=f"hop {k + 1}", xlabel="attention p")
        chosen = int(np.argmax(weights))  # ◀ just right of the largest bar, outside it even at p = 1
        ax.plot([weights[chosen] + 0.04], [chosen], marker="<", color=INK)
        ax.set_xlim(0, MARKER_ROOM)
        ax.tick_params(axis="y", labelsize=10, labelleft=k == 0)  # sentence text once, legible
        ax.set_xticks([0, 0.5, 1])  # no end labels of neighbouring panels run together
    verdict = "✓" if ex.correct else "✗"
    fig.suptitle(f"{ex.question}   predicted: {ex.predicted} ({ex.probability:.2f}) {verdict}   true: {ex.answer}\n"
                 f"red bars: true supporting facts   ◀: the hop's largest weight", fontsize=11)
    fig.tight_layout()
    return fig


def hops_heatmap(ax, ex: Explanation, max_sentences: int = 20):
    """The attention as a sentences × hops heatmap (0..1, a colorbar), sentence text on the axis,
    the true supporting facts in red with a *, the empty slots' share as the last row, and the
    question with the predicted and the true answer as the title."""
    K, n = ex.attention.shape
    start = max(0, n - max_sentences)  # the most recent sentences
    empty = ex.empty if ex.empty is not None else np.zeros(K)
    values = np.vstack([ex.attention[:, start:].T, empty[None, :]])  # (sentences + 1, K)
    labels = [f"{i + 1}: {ex.sentences[i]}" + (" *" if i in ex.support else "") for i in range(start, n)]
    labels.append("(empty memory slots)")
    verdict = "✓" if ex.correct else "✗"
    heatmap(ax, values, ylabels=labels, xlabel="hop", title=f"{ex.question}\npredicted: {ex.predicted} {verdict}"
            f"   true: {ex.answer}   (red * = true supporting fact)")
    ax.set_xticks(range(K))
    ax.set_xticklabels([f"hop {k + 1}" for k in range(K)], rotation=0)
    for tick in ax.get_yticklabels():
        if tick.get_text().endswith("*"):
            tick.set_color(TRUE_COLOR)
    for (i, k), v in np.ndenumerate(values):
        if v >= 0.05:  # the weights that matter, printed; the colour shows the rest
            ax.text(k, i, f"{v:.2f}", ha="center", va="center", fontsize=9, color=PAPER if v < 0.5 else INK)
    return ax


def hops_figure(ex: Explanation, max_sentences: int = 20):
    """A figure sized for `hops_heatmap`: one row per sentence."""
    rows = min(ex.attention.shape[1], max_sentences) + 1
    fig, ax = plt.subplots(figsize=(8, 1.4 + 0.27 * rows))
    hops_heatmap(ax, ex, max_sentences)
    fig.tight_layout()
    return fig


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
