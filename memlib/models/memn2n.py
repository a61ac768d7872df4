"""End-To-End Memory Network (Sukhbaatar, Szlam, Weston & Fergus, NIPS 2015): the reference form.

The lecture's equations (§2.1), one hop::

    u = B q                      query embedding                  (d,)
    m_i = A x_i,  c_i = C x_i    input and output memories        (M, d)
    p = softmax(uᵀ m)            soft attention over the memories (M,)
    o = Σ_i p_i c_i              what the hop reads               (d,)
    â = softmax(W (o + u))       the answer

and K hops chain them (§2.2): ``u^{k+1} = u^k + o^k`` (adjacent tying: ``A^{k+1} = C^k``,
``B = A^1``, ``Wᵀ = C^K``) or ``u^{k+1} = H u^k + o^k`` (layer-wise tying: one A, one C).
The paper's best 10k model (Appendix A, "PE LS LW RN*": d = 100) also applies a ReLU to u
after each hop (`relu=True`).

Sentences are embedded as bag of words (``Σ_j A x_ij``) or with position encoding
(``Σ_j l_j ⊙ A x_ij``, §4.1); temporal encoding adds a learned row ``T_A(i)`` / ``T_C(i)`` per
memory slot, counted from the most recent sentence (i = 0 is the last sentence told).

Memory has `memory_size` slots; those a story does not fill are *empty memories* (the nil
sentence, embedding 0). As in the authors' code they stay in the softmax with score ``uᵀ0 = 0``,
so a hop can put weight on "nothing" and read ``o ≈ 0`` (`null_memories=True`, default; the
trace keeps that share in ``empty``). This is how a hop says "no sentence matches": on our
generated data it took task 6 (yes/no) from 17.8 % to 4.4 % and task 10 from 35 % to 12 % test
error, against masking the empty slots out (`null_memories=False`).

`MemN2N` here is the form a learner reads beside the equations: one model, one loop over hops.
The recipe trains `memlib.models.memn2n_fast.MemN2NEnsemble`, which computes the same numbers
for many random restarts at once; ``MemN2NEnsemble.member(e)`` hands one over as a `MemN2N`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import torch
import torch.nn as nn

from memlib.babi.encode import Batch, Sample, Vocab, encode, sentence_weights, tokenize


@dataclass
class MemN2NTrace:
    """What a learner wants to see: per-hop attention over the memory slots, and the states."""

    attention: torch.Tensor  # (B, K, M) [or (E, B, K, M)] p^k over slots, oldest first
    u: torch.Tensor  # (B, K+1, d) [or (E, B, K+1, d)] the controller state before each hop and at the end
    o: torch.Tensor  # (B, K, d) [or (E, B, K, d)] what each hop read
    lengths: torch.Tensor  # (B,) real memories per sample (slots beyond are empty)
    empty: torch.Tensor  # (B, K) [or (E, B, K)] attention on the empty slots: attention + empty sums to 1


@dataclass
class Reply:
    """The answer of `MemN2N.answer` to a new story and question."""

    answer: str
    probability: float
    sentences: list  # the remembered sentences, oldest first
    attention: torch.Tensor  # (K, M) per-hop attention over those sentences
    unknown: list  # words not in the vocabulary (ignored)


class MemN2NWeights(nn.Module):
    """The embedding tables of a MemN2N, named and tied as in §2.2, with optional leading dims `lead`."""

    def __init__(self, vocab_size: int, n_answers: int, d: int = 20, hops: int = 3, memory_size: int = 50,
                 sentence_size: int = 12, encoding: str = "pe", pe_variant: str = "matlab", temporal: bool = True,
                 tying: str = "adjacent", answer_words=None, sigma: float = 0.1, words=None, answers=None,
                 null_memories: bool = True, relu: bool = False, lead: tuple = ()):
        super().__init__()
        check_options(encoding, pe_variant, tying, hops)
        self.config = dict(vocab_size=vocab_size, n_answers=n_answers, d=d, hops=hops, memory_size=memory_size,
                           sentence_size=sentence_size, encoding=encoding, pe_variant=pe_variant,
                           temporal=temporal, tying=tying, sigma=sigma,
                           words=list(words) if words is not None else None,
                           answers=list(answers) if answers is not None else None, null_memories=null_memories)
        if relu:  # stored only when on: the checkpoints made before this option keep their config
            self.config["relu"] = True
        self.d, self.hops, self.M, self.L = d, hops, memory_size, sentence_size
        self.encoding, self.pe_variant, self.temporal, self.tying = encoding, pe_variant, temporal, tying
        self.null_memories, self.relu = null_memories, relu
        self.words, self.answers = self.config["words"], self.config["answers"]
        self.vocab = Vocab(self.words) if self.words is not None else None

        def table(rows):  # (*lead, rows, d), Gaussian σ init
            return nn.Parameter(torch.randn(*lead, rows, d) * sigma)

        if tying == "adjacent":  # emb[0] = B = A^1, emb[k] = C^k = A^{k+1}, emb[K] = C^K = Wᵀ
            self.emb = nn.ParameterList([table(vocab_size) for _ in range(hops + 1)])
            self.T = nn.ParameterList([table(memory_size) for _ in range(hops + 1)]) if temporal else None
            self.register_buffer("answer_words", answer_word_ids(answer_words, n_answers))
        else:  # B, one A and one C for every hop, H between hops, W separate
            self.emb = nn.ParameterList([table(vocab_size) for _ in range(3)])  # B, A, C
            self.T = nn.ParameterList([table(memory_size) for _ in range(2)]) if temporal else None  # T_A, T_C
            self.H = nn.Parameter(torch.randn(*lead, d, d) * sigma)
            self.W = nn.Parameter(torch.randn(*lead, n_answers, d) * sigma)
        self.zero_nil()

    def A(self, k: int) -> torch.Tensor:
        """Input embedding of hop k (0-based): (V, d)."""
        return self.emb[k] if self.tying == "adjacent" else self.emb[1]

    def C(self, k: int) -> torch.Tensor:
        """Output embedding of hop k (0-based): (V, d)."""
        return self.emb[k + 1] if self.tying == "adjacent" else self.emb[2]

    def B(self) -> torch.Tensor:
        """Query embedding: (V, d)."""
        return self.emb[0]

    def TA(self, k: int):
        """Temporal rows T_A of hop k (M, d), or None without temporal encoding."""
        if self.T is None:
            return None
        return self.T[k] if self.tying == "adjacent" else self.T[0]

    def TC(self, k: int):
        """Temporal rows T_C of hop k (M, d), or None without temporal encoding."""
        if self.T is None:
            return None
        return self.T[k + 1] if self.tying == "adjacent" else self.T[1]

    def Wt(self) -> torch.Tensor:
        """Answer matrix W, one row per answer: (n_answers, d)."""
        if self.tying == "adjacent":
            return self.emb[-1][..., self.answer_words, :]
        return self.W

    def weights(self, words: torch.Tensor):
        """Per-word weights l_j of sentences ``words (..., L)``: None for BoW, (..., L, d) for PE (§4.1)."""
        return None if self.encoding == "bow" else sentence_weights(words, self.d, self.pe_variant, self.L)

    @torch.no_grad()
    def zero_nil(self) -> None:
        """Keep the nil word's embedding (id 0) at zero in every table (and its gradient, if any)."""
        for table in self.emb:
            table[..., 0, :].zero_()
            if table.grad is not None:
                table.grad[..., 0, :].zero_()


class MemN2N(MemN2NWeights):
    """End-to-end memory network over a bAbI vocabulary; ``forward`` returns (logits, trace)."""

    linear = False  # linear start (§4.2): no softmax in the memory layers while True

    def set_weights(self, **tables) -> None:
        """Replace weight tables by name: ``A=``, ``C=`` (hop 1), ``B=``, and ``H=``, ``W=`` (layer-wise tying).

        With adjacent tying B is A¹ and W is C^K's rows of the answer words: give A, not B and A.
        """
        where = {"A": lambda: self.A(0), "C": lambda: self.C(0)}
        if self.tying == "adjacent":
            if "A" in tables and "B" in tables:
                raise ValueError("adjacent tying has one table for A¹ and B (B = A¹): give A or B, not both")
            where["B"] = self.B
        else:
            where.update(B=self.B, H=lambda: self.H, W=lambda: self.W)
        unknown = sorted(set(tables) - set(where))
        if unknown:
            raise ValueError(f"no table {', '.join(unknown)} with {self.tying} tying (tables: {', '.join(where)})")
        with torch.no_grad():
            for name, value in tables.items():
                table = where[name]()
                value = torch.as_tensor(value, dtype=table.dtype, device=table.device)
                if value.shape != table.shape:
                    raise ValueError(f"{name} must have shape {tuple(table.shape)}, got {tuple(value.shape)}")
                table.copy_(value)
        self.zero_nil()

    def embed(self, table: torch.Tensor, words: torch.Tensor) -> torch.Tensor:
        """Σ_j l_j ⊙ table[x_j] for sentences ``words (..., L)``: (..., d)."""
        x = table[words]  # (..., L, d)
        l = self.weights(words)  # noqa: E741  None (BoW) or (..., L, d)
        return (x if l is None else x * l).sum(-2)

    def memory(self, table: torch.Tensor, T, memories: torch.Tensor, time: torch.Tensor) -> torch.Tensor:
        """``m_i = A x_i + T_A(i)`` (or with C and T_C) for every slot: (B, M, d)."""
        m = self.embed(table, memories)  # (B, M, d)
        return m if T is None else m + T[time]

    def attend(self, scores: torch.Tensor, real: torch.Tensor, lengths: torch.Tensor):
        """``p = softmax(uᵀm)`` over the real memories: p (B, M) and the empty slots' share (B,)."""
        if self.linear:  # linear start: the raw scores, no softmax
            return scores.masked_fill(~real, 0.0), scores.new_zeros(len(scores))
        if self.null_memories:  # the empty slots up to memory_size score uᵀ0 = 0 and take their share
            return softmax_with_empty(scores, real, (self.M - lengths).float())
        return torch.softmax(scores.masked_fill(~real, float("-inf")), dim=-1), scores.new_zeros(len(scores))

    def forward(self, memories: torch.Tensor, queries: torch.Tensor):
        """``memories (B, M, L)`` (oldest first, nil-padded), ``queries (B, L)`` → logits (B, A), trace."""
        check_inputs(memories, queries, self.M, self.L)
        B, M, L = memories.shape
        slots = torch.arange(M, device=memories.device)
        lengths = (memories != 0).any(-1).sum(-1)  # (B,) real memories come first
        real = slots < lengths.unsqueeze(1)  # (B, M)
        time = (lengths.unsqueeze(1) - 1 - slots).clamp(0, self.M - 1)  # (B, M) T(i): 0 = the most recent
        u = self.embed(self.B(), queries)  # u = B q                    (B, d)
        us, ps, outs, empties = [u], [], [], []
        for k in range(self.hops):
            m = self.memory(self.A(k), self.TA(k), memories, time)  # m_i = A x_i + T_A(i)   (B, M, d)
            c = self.memory(self.C(k), self.TC(k), memories, time)  # c_i = C x_i + T_C(i)   (B, M, d)
            scores = torch.einsum("bd,bmd->bm", u, m)  # uᵀ m_i                               (B, M)
            p, empty = self.attend(scores, real, lengths)  # p = softmax(uᵀ m)                (B, M)
            o = torch.einsum("bm,bmd->bd", p, c)  # o = Σ_i p_i c_i                          (B, d)
            u = (u @ self.H.T if self.tying == "layerwise" else u) + o  # u ← H u + o, or u ← u + o
            u = torch.relu(u) if self.relu else u  # the 10k model of Appendix A: a ReLU after each hop
            us.append(u)
            ps.append(p)
            outs.append(o)
            empties.append(empty)
        logits = u @ self.Wt().T  # W u^{K+1}, the answer before its softmax        (B, n_answers)
        return logits, trace_of(us, ps, outs, empties, lengths)

    # --- new input -------------------------------------------------------------------------------
    def batch(self, samples) -> Batch:
        """`memlib.babi.encode.Sample`s as a `Batch` in this model's vocabulary (unknown: nil, answer -1)."""
        if self.vocab is None:
            raise ValueError("this model has no vocabulary: build it with words=...")
        samples = list(samples)
        M = max(1, min(self.M, max(len(s.memories) for s in samples)))  # the most recent `memory_size`
        return encode(samples, self.vocab, self.answers, memory_size=M, sentence_size=self.L, strict=False)

    def encode(self, samples) -> tuple[torch.Tensor, torch.Tensor]:
        """`memlib.babi.encode.Sample`s → ``memories (B, M, L)``, ``queries (B, L)`` in this model's vocabulary."""
        batch = self.batch(samples)
        return batch.memories, batch.queries

    @torch.no_grad()
    def answer(self, story_text: str, question_text: str) -> Reply:
        """Answer `question_text` about `story_text` (sentences split at '.', '!', '?' or new lines)."""
        if self.vocab is None or self.answers is None:
            raise ValueError("this model has no vocabulary: build it with words=... and answers=...")
        parts = [s.strip() for s in re.split(r"[.!?\n]+", story_text) if s.strip()]
        parts = [re.sub(r"^[0-9]+\s+", "", s) for s in parts]  # tolerate bAbI line numbers
        if not parts:
            raise ValueError("the story has no sentences")
        parts = parts[-self.M:]
        unknown = sorted({t for text in [*parts, question_text] for t in tokenize(text) if t not in self.vocab})
        known = lambda text: [t for t in tokenize(text) if t in self.vocab]  # noqa: E731  unknown words left out
        sample = Sample([known(s) for s in parts], known(question_text), "", [])
        logits, trace = self(*self.encode([sample]))
        probs = torch.softmax(logits[0], -1)
        best = int(probs.argmax())
        return Reply(self.answers[best], float(probs[best]), parts, trace.attention[0], unknown)


def check_options(encoding: str, pe_variant: str, tying: str, hops: int) -> None:
    """Refuse an unknown option with the choices."""
    if encoding not in ("pe", "bow"):
        raise ValueError(f"encoding must be 'pe' or 'bow', not {encoding!r}")
    if pe_variant not in ("paper", "matlab"):
        raise ValueError(f"pe_variant must be 'paper' or 'matlab', not {pe_variant!r}")
    if tying not in ("adjacent", "layerwise"):
        raise ValueError(f"tying must be 'adjacent' or 'layerwise', not {tying!r}")
    if hops < 1:
        raise ValueError(f"hops must be at least 1, got {hops}")


def answer_word_ids(answer_words, n_answers: int) -> torch.Tensor:
    """The vocabulary id of each answer (adjacent tying reads W off C^K): (n_answers,)."""
    if answer_words is None:
        raise ValueError("adjacent tying needs answer_words: the vocabulary id of each answer (Wᵀ = C^K)")
    answer_words = torch.as_tensor(answer_words, dtype=torch.long).clone()
    if answer_words.shape != (n_answers,):
        raise ValueError(f"answer_words must have shape ({n_answers},), got {tuple(answer_words.shape)}")
    return answer_words


def check_inputs(memories: torch.Tensor, queries: torch.Tensor, M: int, L: int) -> None:
    """Refuse memories and queries of the wrong shape for a model of M slots and L-word sentences."""
    if memories.dim() != 3 or queries.dim() != 2 or memories.shape[0] != queries.shape[0]:
        raise ValueError(f"expected memories (B, M, L) and queries (B, L), got {tuple(memories.shape)} "
                         f"and {tuple(queries.shape)}")
    if memories.shape[2] > L or queries.shape[1] > L:
        raise ValueError(f"sentences have at most {L} words in this model, got {max(memories.shape[2], queries.shape[1])}")
    if memories.shape[1] > M:
        raise ValueError(f"memory has {memories.shape[1]} slots, the model was built for at most {M}")


def softmax_with_empty(scores: torch.Tensor, real: torch.Tensor, n_empty: torch.Tensor):
    """Softmax over the real memories and `n_empty` empty slots of score uᵀ0 = 0.

    ``scores (..., M)``, ``real (..., M)``, ``n_empty (...)`` → p (..., M), which sums to < 1, and the
    empty slots' share (...). The empty slots are counted, not stored.
    """
    scores = scores.masked_fill(~real, float("-inf"))
    log_empty = n_empty.log().unsqueeze(-1)  # (..., 1)
    log_z = torch.logaddexp(torch.logsumexp(scores, -1, keepdim=True), log_empty)  # log Σ e^{uᵀm_i} + n_empty
    return torch.exp(scores - log_z), torch.exp(log_empty - log_z).squeeze(-1)


def trace_of(us: list, ps: list, outs: list, empties: list, lengths: torch.Tensor) -> MemN2NTrace:
    """The per-hop states, stacked on the hop dimension."""
    return MemN2NTrace(attention=torch.stack(ps, -2), u=torch.stack(us, -2), o=torch.stack(outs, -2),
                       lengths=lengths, empty=torch.stack(empties, -1))
