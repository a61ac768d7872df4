"""Figures and an explorer for the strongly supervised Memory Network, drawn from its trace.

`hop_figure` is the static figure: O's score of every memory at each hop (true supporting
facts in the true colour, the chosen slot marked) and R's best answer words. `Explorer` wraps
it with a story slider and a question menu; `loss_terms_figure` draws the three hinge terms.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import torch

from memlib.babi.encode import story_samples
from memlib.viz.explorer import Explorer as ExplorerBase
from memlib.viz.explorer import Menu, Slider
from memlib.viz.plots import BAR_COLOR, INK, TRUE_COLOR


def _short(text: str, n: int = 34) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


def score_bars(ax, scores, labels, *, true=(), chosen=None, title="", xlabel="score"):
    """Horizontal bars of signed scores, one per item; `true` items in the true colour, `chosen` marked ◀."""
    scores = np.asarray(scores, dtype=float)
    colors = [TRUE_COLOR if i in set(true) else BAR_COLOR for i in range(len(scores))]
    ax.barh(range(len(scores)), scores, color=colors)
    ax.axvline(0, color=INK, lw=0.6)
    ax.set_yticks(range(len(scores)))
    ax.set_yticklabels(labels, fontsize=8)
    ax.invert_yaxis()  # first sentence on top, as in the story
    if chosen is not None:
        span = max(np.abs(scores).max(), 1e-6)
        ax.plot([max(scores[chosen], 0) + 0.06 * span], [chosen], marker="<", color=INK, ms=8)
    ax.set_title(title, fontsize=10)
    ax.set_xlabel(xlabel)
    return ax


def hop_figure(trace, sentences, question, *, support=(), answer=None, words=None, index=0, top=5):
    """O's scores over every memory at each hop and R's top answers for sample `index` of `trace`."""
    k = trace.chosen.shape[1]
    n = len(sentences)
    fig, axes = plt.subplots(1, k + 1, figsize=(3.3 * (k + 1) + 1.5, 0.35 * n + 1.8),
                             gridspec_kw={"width_ratios": [1] * k + [0.8]})
    chosen = trace.chosen[index].tolist()
    labels = [f"{i}: {_short(s)}" for i, s in enumerate(sentences)]
    for h in range(k):
        true = support[min(h, len(support) - 1)] if len(support) else None
        scores = trace.scores[index, h, :n].detach().numpy()
        mark = "✓" if true == chosen[h] else "✗"
        score_bars(axes[h], scores, labels if h == 0 else [""] * n, true=() if true is None else (true,),
                   chosen=chosen[h], title=f"hop {h + 1}: O picks {chosen[h]} (true {true}) {mark}",
                   xlabel=r"$s_O(x, m_i)$")
    answer_scores = trace.answer_scores[index].detach().clone()
    answer_scores[~torch.isfinite(answer_scores)] = float("nan")
    best = torch.argsort(torch.nan_to_num(answer_scores, nan=-1e9), descending=True)[:top].tolist()
    names = [words[i] if words is not None else str(i) for i in best]
    true_word = [j for j, i in enumerate(best) if words is not None and words[i] == answer]
    score_bars(axes[k], answer_scores[best].numpy(), names, true=true_word, chosen=0,
               title=f"R answers '{names[0]}'" + (f" (true '{answer}')" if answer else ""),
               xlabel=r"$s_R(x, w)$")
    fig.suptitle(question, fontsize=11)
    fig.tight_layout()
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
        chosen = self.trace.chosen[0].tolist()
        answer = self.vocab.words[self.trace.answer[0].item()]
        ok = "right" if answer == sample.answer else "wrong"
        self.summary.value = (f"<b>{sample.question}</b> true answer <b>{sample.answer}</b>, supporting facts "
                              f"{sample.support}; O chose {chosen}; R answers <b>{answer}</b> ({ok})")
        return hop_figure(self.trace, sample.sentences, sample.question, support=sample.support,
                          answer=sample.answer, words=self.vocab.words, top=self.top)
