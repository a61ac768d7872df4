"""Exercise references for 00_motivation: the LSTM's fading memory and two simple readers.

* ``lstm-surviving``          ``surviving_fraction(forget)``: forget gates (T, H) → (T, H), row s is
  Π_{t>s} f_t (the last row is ones)
* ``lstm-last-sentence``      ``last_sentence_accuracy(stories)``: accuracy of answering the room named
  in each story's last sentence
* ``lstm-support-attention``  ``support_attention(reader, batch)``: the mean attention that a reader
  (``reader(memories, queries) -> (logits, p)``, p (B, slots)) puts on each sample's first
  supporting slot
"""

from __future__ import annotations

import torch
import torch.nn as nn

from memlib.babi.encode import Batch
from memlib.exercises import register


def _gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def surviving_fraction(forget: torch.Tensor) -> torch.Tensor:
    """Row s: Π_{t>s} f_t, the share of what was written at step s that is left at the end."""
    after = torch.cat([forget[1:], torch.ones(1, forget.shape[1])])  # (T, H): f_{s+1}, …, 1
    return torch.flip(torch.cumprod(torch.flip(after, [0]), 0), [0])


register(
    "lstm-surviving",
    function=surviving_fraction,
    inputs=lambda seed: (torch.rand(6 + seed, 3, generator=_gen(seed)),),
    wrong=lambda f: torch.flip(torch.cumprod(torch.flip(f, [0]), 0), [0]),  # includes f_s itself
    hint="row s multiplies the forget gates of the steps *after* s; the last row is all ones",
)


def _room(sentence: str) -> str:
    return sentence.split()[-1].rstrip(".")


def last_sentence_accuracy(stories) -> float:
    """Accuracy of always answering the room named in the story's last sentence."""
    return sum(_room(st.statements[-1].text) == st.questions[0].answer for st in stories) / len(stories)


def _stories(seed: int):
    from memlib.babi.generate.distance import distance_stories

    return (distance_stories(60, [0, 1, 3, 6][seed % 4], seed=100 + seed, length=10),)


register(
    "lstm-last-sentence",
    function=last_sentence_accuracy,
    inputs=_stories,
    wrong=lambda stories: sum(_room(st.statements[0].text) == st.questions[0].answer for st in stories) / len(stories),
    hint="st.statements[-1].text is the last sentence; its last word (without the full stop) is a room",
)


class _FixedReader(nn.Module):
    """A stand-in reader whose attention is fixed by a seed: returns (logits, p) like the notebook's."""

    def __init__(self, seed: int, slots: int = 5):
        super().__init__()
        self.logits = nn.Parameter(torch.randn(8, slots, generator=_gen(seed)))

    def forward(self, memories, queries):
        p = torch.softmax(self.logits[: memories.shape[0]], -1)  # (B, slots)
        return torch.zeros(memories.shape[0], 6), p


def _reader_inputs(seed: int):
    g = _gen(seed + 50)
    B, slots = 8, 5
    supports = torch.full((B, 2), -1)
    supports[:, 0] = torch.randint(0, slots, (B,), generator=g)
    batch = Batch(memories=torch.zeros(B, slots, 4, dtype=torch.long), queries=torch.zeros(B, 4, dtype=torch.long),
                  answers=torch.zeros(B, dtype=torch.long), supports=supports, lengths=torch.full((B,), slots))
    return (_FixedReader(seed, slots), batch)


def support_attention(reader, batch) -> float:
    """Mean attention on each sample's first supporting slot."""
    with torch.no_grad():
        _, p = reader(batch.memories, batch.queries)  # (B, slots)
    return p.gather(1, batch.supports[:, :1]).mean().item()


register(
    "lstm-support-attention",
    function=support_attention,
    inputs=_reader_inputs,
    wrong=lambda reader, batch: reader(batch.memories, batch.queries)[1].max(-1).values.mean().item(),  # the top slot
    hint="p.gather(1, batch.supports[:, :1]) picks each row's weight on its supporting slot; then the mean",
)
