"""From stories to tensors: tokens, a vocabulary, samples, padded batches, PE weights.

A *sample* is one question with the statements before it in its story (the memory), the
most recent `memory_size` of them (default 50, as in MemN2N), oldest first. Supporting-fact
line IDs are remapped to memory slots. Tensors: ``memories (B, M, L)``, ``queries (B, L)``,
``answers (B,)``, ``supports (B, S)`` (slots, padded with -1), ``lengths (B,)`` (real
memories per sample), and the same memories as a table of distinct sentences:
``sentences (S, L)`` (row 0 the empty sentence) with ``rows (B, M)`` (the row in each slot).
Word id 0 is the nil word used for padding.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field

import torch

from memlib.babi.format import Question, Statement, Story

NIL = "<nil>"
_WORD = re.compile(r"[a-z0-9]+")


def tokenize(text: str) -> list[str]:
    """Lowercased words without punctuation: ``"Where is Mary?"`` → ``['where', 'is', 'mary']``.

    Uses ``findall`` of whole words. The once-common ``re.split('(\\W+)?', s)`` splits every
    character apart on Python ≥ 3.7, where empty matches split too.
    """
    return _WORD.findall(text.lower())


class Vocab:
    """A word ↔ id table with the nil word at id 0."""

    def __init__(self, words=()):
        self.words: list[str] = [NIL]
        self.index: dict[str, int] = {NIL: 0}
        for w in words:
            self.add(w)

    def add(self, word: str) -> int:
        if word not in self.index:
            self.index[word] = len(self.words)
            self.words.append(word)
        return self.index[word]

    @classmethod
    def build(cls, samples) -> Vocab:
        """Every word of the samples' memories, queries and answer items, sorted."""
        words = set()
        for s in samples:
            for sentence in s.memories:
                words.update(sentence)
            words.update(s.query)
            words.update(s.answer.split(","))
        return cls(sorted(words))

    def __len__(self) -> int:
        return len(self.words)

    def __contains__(self, word) -> bool:
        return word in self.index

    def __getitem__(self, word: str) -> int:
        try:
            return self.index[word]
        except KeyError:
            raise KeyError(f"word {word!r} is not in the vocabulary ({len(self)} words)") from None

    def encode(self, tokens, strict: bool = True) -> list[int]:
        """Word ids of `tokens`; an unknown word raises KeyError, or becomes nil (0) if not `strict`."""
        return [self[t] for t in tokens] if strict else [self.index.get(t, 0) for t in tokens]

    def decode(self, ids) -> list[str]:
        return [self.words[int(i)] for i in ids if int(i) != 0]

    def __repr__(self) -> str:
        return f"Vocab({len(self)} words)"


@dataclass
class Sample:
    """One question with its memory (the statements before it, oldest first)."""

    memories: list[list[str]]  # tokens of each remembered statement
    query: list[str]
    answer: str  # as written in the file; list answers ("apple,milk") stay one class
    support: list[int]  # memory slots of the supporting facts (task order); -1 if forgotten
    sentences: list[str] = field(default_factory=list)  # the statements' text, for display
    question: str = ""  # the question's text, for display
    line_ids: list[int] = field(default_factory=list)  # the statements' line IDs in the story


def story_samples(story: Story, memory_size: int = 50) -> list[Sample]:
    """One sample per question of `story`, each remembering at most `memory_size` statements."""
    out, seen = [], []
    for line in story.lines:
        if isinstance(line, Statement):
            seen.append(line)
            continue
        assert isinstance(line, Question)
        kept = seen[-memory_size:] if memory_size else list(seen)
        slot = {s.id: i for i, s in enumerate(kept)}
        out.append(
            Sample(
                memories=[tokenize(s.text) for s in kept],
                query=tokenize(line.text),
                answer=line.answer,
                support=[slot.get(i, -1) for i in line.support],
                sentences=[s.text for s in kept],
                question=line.text,
                line_ids=[s.id for s in kept],
            )
        )
    return out


def samples(stories, memory_size: int = 50) -> list[Sample]:
    """All questions of all stories as samples."""
    return [s for story in stories for s in story_samples(story, memory_size)]


def longest_sentence(samples) -> int:
    """The longest memory sentence or question of `samples`, in words."""
    return max(max((len(m) for s in samples for m in s.memories), default=1), max(len(s.query) for s in samples))


@dataclass
class Batch:
    """Padded tensors of a list of samples (see the module docstring for shapes)."""

    memories: torch.Tensor  # (B, M, L) word ids, 0 = nil
    queries: torch.Tensor  # (B, L)
    answers: torch.Tensor  # (B,) index into the answer list (-1: not in it)
    supports: torch.Tensor  # (B, S) memory slots, -1 = none
    lengths: torch.Tensor  # (B,) number of real memories
    sentences: torch.Tensor | None = None  # (S, L) each distinct sentence once, row 0 = the empty one
    rows: torch.Tensor | None = None  # (B, M) row of `sentences` in each memory slot (0 = empty)

    def __len__(self) -> int:
        return self.memories.shape[0]

    def __getitem__(self, idx) -> Batch:
        rows = self.rows[idx] if self.rows is not None else None
        return Batch(*(t[idx] for t in (self.memories, self.queries, self.answers, self.supports, self.lengths)),
                     sentences=self.sentences, rows=rows)

    def distinct(self) -> tuple[torch.Tensor, torch.Tensor]:
        """The sentences these samples remember, each once ``(S', L)``, and the row of each slot ``(B, M)``."""
        used, rows = torch.unique(self.rows, return_inverse=True)  # row 0 (empty) first when a slot is empty
        return self.sentences[used], rows


def encode(samples, vocab: Vocab, answers: list[str] | None = None, memory_size: int | None = None,
           sentence_size: int | None = None, strict: bool = True) -> Batch:
    """Turn samples into a `Batch`; `answers` is the answer list (its index is the class).

    Unknown words and answers raise KeyError; with ``strict=False`` (new text for a trained
    model) unknown words become nil and unknown answers -1, as do all answers without a list.
    """
    samples = list(samples)
    if not samples:
        raise ValueError("encode needs at least one sample")
    answer_index = {a: i for i, a in enumerate(answers or [])}
    M = memory_size or max(1, max(len(s.memories) for s in samples))
    L = sentence_size or longest_sentence(samples)
    S = max(1, max(len(s.support) for s in samples))
    B = len(samples)
    rows = torch.zeros(B, M, dtype=torch.long)  # (batch, memory): row of each slot in `table`
    queries = torch.zeros(B, L, dtype=torch.long)  # (batch, words)
    ans = torch.full((B,), -1, dtype=torch.long)
    supports = torch.full((B, S), -1, dtype=torch.long)
    lengths = torch.zeros(B, dtype=torch.long)
    table: dict[tuple, int] = {(): 0}  # distinct sentences (word ids) → row; row 0 = the empty sentence
    for b, s in enumerate(samples):
        mem = s.memories[-M:]
        shift = len(s.memories) - len(mem)
        for i, sentence in enumerate(mem):
            rows[b, i] = table.setdefault(tuple(vocab.encode(sentence[:L], strict)), len(table))
        q = vocab.encode(s.query[:L], strict)
        queries[b, : len(q)] = torch.tensor(q, dtype=torch.long)
        if s.answer in answer_index:
            ans[b] = answer_index[s.answer]
        elif strict and answers is not None:
            raise KeyError(f"answer {s.answer!r} is not in the answer list ({len(answers)} answers)")
        for j, slot in enumerate(s.support):
            supports[b, j] = slot - shift if slot - shift >= 0 else -1
        lengths[b] = len(mem)
    sentences = torch.zeros(len(table), L, dtype=torch.long)  # (S, L)
    for ids, r in table.items():
        sentences[r, : len(ids)] = torch.tensor(ids, dtype=torch.long)
    return Batch(sentences[rows], queries, ans, supports, lengths, sentences=sentences, rows=rows)


def position_encoding(J: int, d: int, variant: str = "paper", device=None) -> torch.Tensor:
    """Position-encoding weights ``l`` of MemN2N for a sentence of `J` words: shape (J, d).

    ``paper``  (Sukhbaatar et al. 2015, §4.1): ``l_kj = (1 - j/J) - (k/d)(1 - 2j/J)``,
    with j = 1..J the word and k = 1..d the dimension, J the number of words in *this*
    sentence.
    ``matlab`` (the authors' released code): ``l_kj = 1 + 4 (k - (d+1)/2)(j - (J+1)/2) / (d J)``,
    with J the padded sentence length; about twice the paper's values.
    """
    j = torch.arange(1, J + 1, dtype=torch.float32, device=device).unsqueeze(1)  # (J, 1)
    k = torch.arange(1, d + 1, dtype=torch.float32, device=device).unsqueeze(0)  # (1, d)
    if variant == "paper":
        return (1 - j / J) - (k / d) * (1 - 2 * j / J)
    if variant == "matlab":
        return 1 + 4 * (k - (d + 1) / 2) * (j - (J + 1) / 2) / (d * J)
    raise ValueError(f"position encoding variant must be 'paper' or 'matlab', not {variant!r}")


@functools.lru_cache(maxsize=64)
def _paper_by_length(L: int, d: int, device) -> torch.Tensor:
    """Row J: the paper's weights of a J-word sentence, zero-padded to L words: (L+1, L, d)."""
    table = torch.zeros(L + 1, L, d, device=device)
    for J in range(1, L + 1):
        table[J, :J] = position_encoding(J, d, "paper", device)
    return table


def sentence_weights(words: torch.Tensor, d: int, variant: str = "paper", J: int | None = None) -> torch.Tensor:
    """PE weights for padded sentences ``words (..., L)``: shape (..., L, d), zero on padding.

    The paper's J is each sentence's own length; the Matlab variant uses the padded length
    (`J`, default L: a model passes its own sentence size).
    """
    L = words.shape[-1]
    mask = (words != 0).unsqueeze(-1).float()  # (..., L, 1)
    if variant == "matlab":
        return position_encoding(J or L, d, "matlab", words.device)[:L] * mask
    if variant != "paper":
        raise ValueError(f"position encoding variant must be 'paper' or 'matlab', not {variant!r}")
    n = (words != 0).sum(-1)  # (...,) words per sentence: the paper's J
    return _paper_by_length(L, d, words.device)[n] * mask
