"""The Memory Network's diagram, figures and explorer, drawn from its trace.

`diagram` draws I → G → O → R with the two hops of the milk example (Weston, Chopra & Bordes
2015, §3.1 and its Figure 1 example). `hop_figure` is the static figure: O's score of every
memory at each hop (true supporting facts in the true colour, the chosen slot marked) and R's
best answer words. `Explorer` wraps it with a story slider and a question menu;
`loss_terms_figure` draws the three hinge terms. Sentences are numbered from 1, as bAbI files
number them; the code's slot i is sentence i + 1.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from memlib.babi.encode import story_samples
from memlib.viz.explorer import Explorer as ExplorerBase
from memlib.viz.explorer import Menu, Slider
from memlib.viz.plots import BAR_COLOR, INK, TRUE_COLOR
from memlib.viz.schematic import EDGE, arrow, box, canvas, note

#: the lecture's running example (slides "I component" to "R component"), drawn by `diagram`
MILK_STORY = ["Fred moved to the bedroom.", "Joe went to the kitchen.", "Joe took the milk.",
              "Dan journeyed to the bedroom."]


def diagram():
    """I → G → O → R for "Where is the milk now?": hop 1 finds the milk, hop 2 where its holder went."""
    fig, ax = canvas(10, 5.2, "Memory Network (k = 2 hops) on the lecture's milk question")
    # the story: I, then G writes each sentence to the next slot of the memory
    story = box(ax, (0.85, 3.95), "story\n4 sentences", w=1.4, h=0.8, kind="input")
    i_s = box(ax, (2.4, 3.95), "I\nbag of words", w=1.35, h=0.8)
    g = box(ax, (3.85, 3.95), "G\nnext slot", w=1.05, h=0.8)
    mem = box(ax, (7.3, 3.95), "", w=5.2, h=1.7, kind="memory")
    note(ax, (mem.left[0] + 0.12, mem.top[1] - 0.3), r"memory $\mathbf{m}$ (never changed once written)",
         fontsize=9, color=EDGE["memory"])
    found = {2: "hop 1", 1: "hop 2"}  # slot → the hop that finds it
    for i, text in enumerate(MILK_STORY):
        y = mem.top[1] - 0.62 - 0.3 * i
        mark = f"   ◀ {found[i]}" if i in found else ""
        note(ax, (mem.left[0] + 0.12, y), rf"$\mathbf{{m}}_{i + 1}$  {text}{mark}", fontsize=9, va="center",
             fontweight="bold" if i in found else "normal")
    arrow(ax, story.right, i_s.left)
    arrow(ax, i_s.right, g.left)
    arrow(ax, g.right, mem.left)
    # the question: I, two O hops, R
    y = 1.55
    q = box(ax, (0.85, y), "question $q$\nWhere is the\nmilk now?", w=1.4, h=1.0, kind="input")
    i_q = box(ax, (2.4, y), "I", w=0.7, h=0.6)
    o1 = box(ax, (4.05, y), "O, hop 1", w=1.2, h=0.6)
    o2 = box(ax, (6.35, y), "O, hop 2", w=1.2, h=0.6)
    r = box(ax, (8.2, y), "R", w=0.7, h=0.6)
    ans = box(ax, (9.45, y), "kitchen", w=0.9, h=0.6, kind="output")
    arrow(ax, q.right, i_q.left)
    arrow(ax, i_q.right, o1.left, "$q$")
    arrow(ax, o1.right, o2.left, r"$q + \mathbf{m}_{o_1}$")
    arrow(ax, o2.right, r.left, r"$+\,\mathbf{m}_{o_2}$")
    arrow(ax, r.right, ans.left, "$r$")
    # O reads the memory: hop 1 finds m3 (the only fact with "milk"), hop 2 m2 (where Joe went)
    arrow(ax, (o1.x + 0.9, mem.bottom[1]), o1.top, color=EDGE["op"])
    arrow(ax, (o2.x, mem.bottom[1]), o2.top, color=EDGE["op"])
    note(ax, (o1.x + 0.3, 2.45), r"$o_1 = 3$: the fact about the milk", fontsize=9, ha="right", va="center")
    note(ax, (o2.x + 0.1, 2.45), r"$o_2 = 2$: where Joe, who holds it, went", fontsize=9, va="center")
    # the equations, under the boxes that compute them
    note(ax, (o1.x, 0.85), r"$o_1 = \mathrm{argmax}_i\; s_O(q, \mathbf{m}_i)$", fontsize=9, ha="center")
    note(ax, (o2.x, 0.85), r"$o_2 = \mathrm{argmax}_i\; s_O(q + \mathbf{m}_{o_1}, \mathbf{m}_i)$", fontsize=9,
         ha="center")
    note(ax, (r.x + 0.2, 0.45), r"$r = \mathrm{argmax}_{w}\; s_R(q + \mathbf{m}_{o_1} + \mathbf{m}_{o_2}, w)$",
         fontsize=9, ha="center")
    note(ax, (5.0, 0.02), r"$s_O(x, y) = x^\top U_O^\top U_O\, y$,   $s_R(x, y) = x^\top U_R^\top U_R\, y$"
         r"   ($U_O$, $U_R$ learned)", fontsize=10, ha="center")
    return fig


def _short(text: str, n: int = 34) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


def score_bars(ax, scores, labels, *, true=(), chosen=None, title="", xlabel="score"):
    """Horizontal bars of signed scores, one per item; `true` items in the true colour, `chosen` marked ◀."""
    scores = np.asarray(scores, dtype=float)
    colors = [TRUE_COLOR if i in set(true) else BAR_COLOR for i in range(len(scores))]
    ax.barh(range(len(scores)), scores, color=colors)
    ax.axvline(0, color=INK, lw=0.6)
    ax.set_yticks(range(len(scores)))
    ax.set_yticklabels(labels, fontsize=9)
    ax.invert_yaxis()  # first sentence on top, as in the story
    if chosen is not None:
        span = max(np.abs(scores).max(), 1e-6)
        ax.plot([max(scores[chosen], 0) + 0.06 * span], [chosen], marker="<", color=INK, ms=8, clip_on=False)
        lo, hi = ax.get_xlim()
        ax.set_xlim(lo, max(hi, max(scores[chosen], 0) + 0.15 * span))  # room for the marker
    ax.set_title(title, fontsize=10)
    ax.set_xlabel(xlabel)
    return ax


def hop_figure(trace, sentences, question, *, support=(), answer=None, words=None, index=0, top=5):
    """O's scores over every memory at each hop and R's top answers for sample `index` of `trace`."""
    k = trace.chosen.shape[1]
    n = len(sentences)
    fig, axes = plt.subplots(1, k + 1, figsize=(min(10.0, 2.5 * (k + 1) + 2.8), 0.36 * n + 2.2),
                             gridspec_kw={"width_ratios": [1] * k + [0.8]})
    chosen = trace.chosen[index].tolist()
    labels = [f"{i + 1}: {_short(s)}" for i, s in enumerate(sentences)]  # sentence numbers from 1
    for h in range(k):
        true = support[min(h, len(support) - 1)] if len(support) else None
        scores = trace.scores[index, h, :n].detach().numpy()
        mark = "✓" if true == chosen[h] else "✗"
        truth = "" if true is None else f" (true {true + 1})"
        score_bars(axes[h], scores, labels if h == 0 else [""] * n, true=() if true is None else (true,),
                   chosen=chosen[h], title=f"hop {h + 1}: O picks {chosen[h] + 1}{truth} {mark}",
                   xlabel=r"$s_O(x, m_i)$")
    answer_scores = trace.answer_scores[index].detach().clone()
    answer_scores[~torch.isfinite(answer_scores)] = float("nan")
    best = torch.argsort(torch.nan_to_num(answer_scores, nan=-1e9), descending=True)[:top].tolist()
    names = [words[i] if words is not None else str(i) for i in best]
    true_word = [j for j, i in enumerate(best) if words is not None and words[i] == answer]
    score_bars(axes[k], answer_scores[best].numpy(), names, true=true_word, chosen=0,
               title=f"R answers '{names[0]}'" + (f"\n(true '{answer}')" if answer else ""),
               xlabel=r"$s_R(x, w)$")
    fig.suptitle(question, fontsize=11)
    fig.legend(handles=[Patch(color=TRUE_COLOR, label="true supporting fact / answer"),
                        Patch(color=BAR_COLOR, label="other sentence / word"),
                        Line2D([], [], marker="<", color=INK, ls="", ms=8, label="chosen by O / R")],
               loc="lower center", ncol=3, fontsize=9, frameon=False)
    fig.tight_layout(rect=(0, 0.35 / fig.get_figheight(), 1, 1))
    return fig


def loss_terms_figure(history, title="the three hinge terms during training"):
    """One line per named loss term (O1, O2, …, R) per epoch, from a `memlib.train.History`."""
    fig, ax = plt.subplots(figsize=(6, 3.2))
    for name in history.parts[0]:
        ax.plot(range(1, len(history.parts) + 1), [p[name] for p in history.parts], marker="o", label=name)
    ax.set_xlabel("epoch")
    ax.set_ylabel("mean hinge loss per batch")
    ax.set_title(title, fontsize=10)
    ax.legend()
    fig.tight_layout()
    return fig


class Explorer(ExplorerBase):
    """Pick a story and a question; see O's scores at every hop, the chosen vs true facts, R's answers."""

    def __init__(self, model, stories, vocab, *, top: int = 5):
        import ipywidgets as w

        from memlib.recipes.memnn import encode_samples

        self.model, self.stories, self.vocab, self.top = model, list(stories), vocab, top
        self.samples = [story_samples(s, 0) for s in self.stories]
        self.encode = lambda items: encode_samples(items, vocab)  # noqa: E731
        self.summary = w.HTML()
        self.trace = None
        super().__init__({"story": Slider("story", 0, len(self.stories) - 1, 0), "question": Menu("question")},
                         extra=[self.summary])

    def refit(self, moved):
        if moved != "question":  # another story: its questions, the first one selected
            qs = self.samples[self.story.value]
            self.question.options = [(f"{s.question} ({i + 1}/{len(qs)})", i) for i, s in enumerate(qs)]
            self.question.value = 0

    @torch.no_grad()
    def draw(self, story: int, question: int):
        """Run the model on the question, write the summary; the figure is `hop_figure`."""
        sample = self.samples[story][question]
        batch = self.encode([sample])
        self.model.eval()
        _, self.trace = self.model(batch.memories, batch.queries)
        chosen = (self.trace.chosen[0] + 1).tolist()  # sentence numbers from 1
        answer = self.vocab.words[self.trace.answer[0].item()]
        ok = "right" if answer == sample.answer else "wrong"
        self.summary.value = (f"<b>{sample.question}</b> true answer <b>{sample.answer}</b>, supporting facts "
                              f"{[i + 1 for i in sample.support]}; O chose {chosen}; R answers <b>{answer}</b> "
                              f"({ok})")
        return hop_figure(self.trace, sample.sentences, sample.question, support=sample.support,
                          answer=sample.answer, words=self.vocab.words, top=self.top)
