"""End-To-End Memory Network (Sukhbaatar, Szlam, Weston & Fergus, NIPS 2015).

The lecture's equations, one hop::

    u = B q                      query embedding                  (d,)
    m_i = A x_i,  c_i = C x_i    input and output memories        (M, d)
    p = softmax(uᵀ m)            soft attention over the memories (M,)
    o = Σ_i p_i c_i              what the hop reads               (d,)
    â = softmax(W (o + u))       the answer

and K hops chain them: ``u^{k+1} = u^k + o^k`` (adjacent tying: ``A^{k+1} = C^k``, ``B = A^1``,
``Wᵀ = C^K``) or ``u^{k+1} = H u^k + o^k`` (layer-wise tying: one A, one C for every hop).

Sentences are embedded as bag of words (``Σ_j A x_ij``) or with position encoding
(``Σ_j l_j ⊙ A x_ij``); temporal encoding adds a learned row ``T_A(i)`` / ``T_C(i)`` per memory
slot, counted from the most recent sentence (i = 0 is the last sentence told).

Memory has `memory_size` slots; those a story does not fill are *empty memories* (the nil
sentence, embedding 0). As in the authors' code they stay in the softmax with score ``uᵀ0 = 0``,
so a hop can put weight on "nothing" and read ``o ≈ 0`` (`null_memories=True`, default; the
trace keeps that share in ``empty``). This is how a hop says "no sentence matches": on our
generated data it took task 6 (yes/no) from 17.8 % to 4.4 % and task 10 from 35 % to 12 % test
error, against masking the empty slots out (`null_memories=False`).

Every parameter carries a leading *ensemble* dimension E: E independent models (the paper's
random restarts) train together as one batched computation. A learner's model has E = 1, and
then `forward` returns ``(B, A)`` logits; with E > 1 it returns ``(E, B, A)``.
"""

from __future__ import annotations

import inspect
import re
from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F

from memlib.babi.encode import position_encoding, tokenize


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


class MemN2N(nn.Module):
    """End-to-end memory network over a bAbI vocabulary; ``forward`` returns (logits, trace)."""

    def __init__(self, vocab_size: int, n_answers: int, d: int = 20, hops: int = 3, memory_size: int = 50,
                 sentence_size: int = 12, encoding: str = "pe", pe_variant: str = "matlab", temporal: bool = True,
                 tying: str = "adjacent", answer_words=None, ensemble: int = 1, sigma: float = 0.1,
                 words=None, answers=None, null_memories: bool = True):
        super().__init__()
        if encoding not in ("pe", "bow"):
            raise ValueError(f"encoding must be 'pe' or 'bow', not {encoding!r}")
        if pe_variant not in ("paper", "matlab"):
            raise ValueError(f"pe_variant must be 'paper' or 'matlab', not {pe_variant!r}")
        if tying not in ("adjacent", "layerwise"):
            raise ValueError(f"tying must be 'adjacent' or 'layerwise', not {tying!r}")
        if hops < 1:
            raise ValueError(f"hops must be at least 1, got {hops}")
        self.config = dict(vocab_size=vocab_size, n_answers=n_answers, d=d, hops=hops, memory_size=memory_size,
                           sentence_size=sentence_size, encoding=encoding, pe_variant=pe_variant,
                           temporal=temporal, tying=tying, ensemble=ensemble, sigma=sigma,
                           words=list(words) if words is not None else None,
                           answers=list(answers) if answers is not None else None, null_memories=null_memories)
        self.d, self.hops, self.E, self.M, self.L = d, hops, ensemble, memory_size, sentence_size
        self.encoding, self.pe_variant, self.temporal, self.tying = encoding, pe_variant, temporal, tying
        self.null_memories = null_memories
        self.words = list(words) if words is not None else None
        self.answers = list(answers) if answers is not None else None
        E, V = ensemble, vocab_size

        def table(rows):  # (E, rows, d), Gaussian σ init
            return nn.Parameter(torch.randn(E, rows, d) * sigma)

        if tying == "adjacent":
            # emb[0] = B = A^1, emb[k] = C^k = A^{k+1}, emb[K] = C^K = Wᵀ
            self.emb = nn.ParameterList([table(V) for _ in range(hops + 1)])
            self.T = nn.ParameterList([table(memory_size) for _ in range(hops + 1)]) if temporal else None
            if answer_words is None:
                raise ValueError("adjacent tying needs answer_words: the vocabulary id of each answer (Wᵀ = C^K)")
            answer_words = torch.as_tensor(answer_words, dtype=torch.long).clone()
            if answer_words.shape != (n_answers,):
                raise ValueError(f"answer_words must have shape ({n_answers},), got {tuple(answer_words.shape)}")
            self.register_buffer("answer_words", answer_words)
        else:
            # B, one A and one C for every hop, H between hops, W separate
            self.emb = nn.ParameterList([table(V) for _ in range(3)])  # B, A, C
            self.T = nn.ParameterList([table(memory_size) for _ in range(2)]) if temporal else None  # T_A, T_C
            self.H = nn.Parameter(torch.randn(E, d, d) * sigma)
            self.W = nn.Parameter(torch.randn(E, n_answers, d) * sigma)
        # linear start: while linear[e] is True, model e has no softmax in its memory layers
        self.register_buffer("linear", torch.zeros(E, dtype=torch.bool))
        self.zero_nil()

    # --- parameters, named as in the paper -------------------------------------------------------
    def A(self, k: int) -> torch.Tensor:
        """Input embedding of hop k (0-based): (E, V, d)."""
        return self.emb[k] if self.tying == "adjacent" else self.emb[1]

    def C(self, k: int) -> torch.Tensor:
        """Output embedding of hop k (0-based): (E, V, d)."""
        return self.emb[k + 1] if self.tying == "adjacent" else self.emb[2]

    def B(self) -> torch.Tensor:
        """Query embedding: (E, V, d)."""
        return self.emb[0]

    def TA(self, k: int):
        if self.T is None:
            return None
        return self.T[k] if self.tying == "adjacent" else self.T[0]

    def TC(self, k: int):
        if self.T is None:
            return None
        return self.T[k + 1] if self.tying == "adjacent" else self.T[1]

    def Wt(self) -> torch.Tensor:
        """Answer matrix W, one row per answer: (E, n_answers, d)."""
        if self.tying == "adjacent":
            return self.emb[-1][:, self.answer_words]
        return self.W

    @torch.no_grad()
    def zero_nil(self) -> None:
        """Keep the nil word's embedding (id 0) at zero in every table (and its gradient, if any)."""
        for table in self.emb:
            table[:, 0].zero_()
            if table.grad is not None:
                table.grad[:, 0].zero_()

    # --- the computation -------------------------------------------------------------------------
    def weights(self, words: torch.Tensor):
        """Per-word weights l_j of sentences ``words (S, L)``: None for BoW, (L, d) or (S, L, d) for PE.

        The nil word needs no mask: its embedding is kept at zero.
        """
        if self.encoding == "bow":
            return None
        if self.pe_variant == "matlab":  # J is the model's padded sentence length, the same for all
            return matlab_table(self.L, self.d)[: words.shape[-1]]  # (L, d)
        n = (words != 0).sum(-1)  # (S,) words per sentence: the paper's J
        return paper_table(words.shape[-1], self.d)[n]  # (S, L, d), zero beyond each sentence

    def embed(self, table: torch.Tensor, words: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
        """Σ_j l_j ⊙ table[x_j] for sentences ``words (S, L)``: (E, S, d)."""
        x = table.index_select(1, words.reshape(-1)).view(self.E, *words.shape, self.d)  # (E, S, L, d)
        return (x if weights is None else x * weights).sum(-2)  # (E, S, d)

    def read(self, sentences, memory, queries, lengths, time=None):
        """The network on a sentence table: logits (E, B, A) and a trace with an E dimension.

        ``sentences (S, L)`` are the distinct sentences (each embedded once), ``memory (B, M)``
        picks the rows of each sample's memory slots (oldest first), ``queries (B, L)``,
        ``lengths (B,)`` real slots per sample, ``time (B, M)`` or ``(E, B, M)`` the temporal
        index of each slot (default: 0 for the most recent sentence).
        """
        B, M = memory.shape
        if M > self.M:
            raise ValueError(f"memory has {M} slots, the model was built for at most {self.M}")
        slots = torch.arange(M)
        real = slots.unsqueeze(0) < lengths.unsqueeze(1)  # (B, M)
        if time is None:
            time = (lengths.unsqueeze(1) - 1 - slots).clamp(min=0)  # (B, M) reverse order
        time = time.clamp(max=self.M - 1)
        E, S = self.E, sentences.shape[0]
        if time.dim() == 2:
            time = time.unsqueeze(0)
        time = time.expand(E, B, M)  # (E, B, M)
        rows = memory.unsqueeze(0).expand(E, B, M)  # (E, B, M) sentence row of each slot
        s_weights = self.weights(sentences)  # None, (L, d) or (S, L, d)
        u = self.embed(self.B(), queries, self.weights(queries))  # (E, B, d)
        us, ps, os_, empties = [u], [], [], []
        cache = {}  # each table embeds the sentences once (adjacent tying: C^k = A^{k+1})

        def embedded(table):  # (E, S, d): every distinct sentence once, not every slot of every sample
            if id(table) not in cache:
                cache[id(table)] = self.embed(table, sentences, s_weights)
            return cache[id(table)]

        for k in range(self.hops):
            # uᵀ m_i = uᵀ (A x_i + T_A(i)): score the sentences, then pick each slot's score
            scores = torch.bmm(u, embedded(self.A(k)).transpose(1, 2)).gather(2, rows)  # (E, B, M)
            if self.T is not None:
                scores = scores + torch.bmm(u, self.TA(k).transpose(1, 2)).gather(2, time)
            if self.null_memories:  # the empty slots up to memory_size score uᵀ0 = 0 and take their share
                scores_real = scores.masked_fill(~real, float("-inf"))
                n_empty = (self.M - lengths).float().view(1, B, 1)  # (1, B, 1) empty slots
                log_z = torch.logaddexp(torch.logsumexp(scores_real, -1, keepdim=True), n_empty.log())
                p_soft = torch.exp(scores_real - log_z)  # (E, B, M): sums to < 1 over the real memories
                empty_soft = torch.exp(n_empty.log() - log_z).squeeze(-1)  # (E, B) the empty slots' share
            else:
                p_soft = torch.softmax(scores.masked_fill(~real, float("-inf")), dim=-1)  # padding gets no weight
                empty_soft = torch.zeros(E, B)
            if self.linear.any():  # linear start: no softmax for these models
                p = torch.where(self.linear.view(-1, 1, 1), scores.masked_fill(~real, 0.0), p_soft)  # (E, B, M)
                empty_soft = torch.where(self.linear.view(-1, 1), 0.0, empty_soft)
            else:
                p = p_soft  # (E, B, M)
            empties.append(empty_soft)
            # o = Σ_i p_i c_i = Σ_i p_i (C x_i + T_C(i)): add up each sentence's weight, then one matmul
            o = torch.bmm(torch.zeros(E, B, S).scatter_add(2, rows, p), embedded(self.C(k)))  # (E, B, d)
            if self.T is not None:
                o = o + torch.bmm(torch.zeros(E, B, self.M).scatter_add(2, time, p), self.TC(k))
            if self.tying == "layerwise":
                u = torch.bmm(u, self.H.transpose(1, 2)) + o  # u^{k+1} = H u^k + o^k
            else:
                u = u + o  # u^{k+1} = u^k + o^k
            us.append(u)
            ps.append(p)
            os_.append(o)
        logits = torch.einsum("ebd,ead->eba", u, self.Wt())  # (E, B, A)
        trace = MemN2NTrace(attention=torch.stack(ps, 2), u=torch.stack(us, 2), o=torch.stack(os_, 2),
                            lengths=lengths, empty=torch.stack(empties, 2))
        return logits, trace

    def forward(self, memories: torch.Tensor, queries: torch.Tensor):
        """``memories (B, M, L)`` (oldest first, nil-padded), ``queries (B, L)`` → (logits, trace).

        Logits are ``(B, A)`` for one model, ``(E, B, A)`` for an ensemble of E.
        """
        if memories.dim() != 3 or queries.dim() != 2 or memories.shape[0] != queries.shape[0]:
            raise ValueError(f"expected memories (B, M, L) and queries (B, L), got {tuple(memories.shape)} "
                             f"and {tuple(queries.shape)}")
        B, M, L = memories.shape
        if L > self.L or queries.shape[1] > self.L:
            raise ValueError(f"sentences have at most {self.L} words in this model, got {max(L, queries.shape[1])}")
        sentences, memory = torch.unique(memories.reshape(B * M, L), dim=0, return_inverse=True)
        memory = memory.view(B, M)  # (B, M) row of each slot in the distinct sentences
        lengths = (memories != 0).any(-1).sum(-1)  # (B,) real memories come first
        logits, trace = self.read(sentences, memory, queries, lengths)
        if self.E == 1:
            trace = MemN2NTrace(trace.attention[0], trace.u[0], trace.o[0], trace.lengths, trace.empty[0])
            return logits[0], trace
        return logits, trace

    # --- new input -------------------------------------------------------------------------------
    def encode(self, samples) -> tuple[torch.Tensor, torch.Tensor]:
        """`memlib.babi.encode.Sample`s → ``memories (B, M, L)``, ``queries (B, L)`` in this model's vocabulary.

        Unknown words become nil; memories keep the most recent `memory_size` sentences.
        """
        if self.words is None:
            raise ValueError("this model has no vocabulary: build it with words=...")
        index = {w: i for i, w in enumerate(self.words)}
        samples = list(samples)
        M = max(1, min(self.M, max(len(s.memories) for s in samples)))
        memories = torch.zeros(len(samples), M, self.L, dtype=torch.long)
        queries = torch.zeros(len(samples), self.L, dtype=torch.long)
        for b, s in enumerate(samples):
            for i, sentence in enumerate(s.memories[-M:]):
                ids = [index.get(t, 0) for t in sentence][: self.L]
                memories[b, i, : len(ids)] = torch.tensor(ids, dtype=torch.long)
            q = [index.get(t, 0) for t in s.query][: self.L]
            queries[b, : len(q)] = torch.tensor(q, dtype=torch.long)
        return memories, queries

    @torch.no_grad()
    def answer(self, story_text: str, question_text: str) -> Reply:
        """Answer `question_text` about `story_text` (sentences split at '.', '!', '?' or new lines)."""
        if self.words is None or self.answers is None:
            raise ValueError("this model has no vocabulary: build it with words=... and answers=...")
        index = {w: i for i, w in enumerate(self.words)}
        parts = [s.strip() for s in re.split(r"[.!?\n]+", story_text) if s.strip()]
        parts = [re.sub(r"^[0-9]+\s+", "", s) for s in parts]  # tolerate bAbI line numbers
        if not parts:
            raise ValueError("the story has no sentences")
        parts = parts[-self.M:]
        unknown = []

        def ids(text):
            toks = tokenize(text)
            unknown.extend(t for t in toks if t not in index)
            out = [index[t] for t in toks if t in index][: self.L]
            return out + [0] * (self.L - len(out))

        memories = torch.tensor([[ids(s) for s in parts]])  # (1, M, L)
        queries = torch.tensor([ids(question_text)])  # (1, L)
        logits, trace = self.forward(memories, queries)
        if self.E > 1:
            logits, attention = logits[0], trace.attention[0]
        else:
            attention = trace.attention
        probs = torch.softmax(logits[0], -1)
        best = int(probs.argmax())
        return Reply(self.answers[best], float(probs[best]), parts, attention[0], sorted(set(unknown)))

    # --- ensembles -------------------------------------------------------------------------------
    def member(self, e: int) -> MemN2N:
        """Model `e` of an ensemble as a stand-alone model (E = 1)."""
        config = dict(self.config, ensemble=1)
        model = MemN2N(**config, answer_words=getattr(self, "answer_words", None))
        state = {k: v[e:e + 1].clone() for k, v in self.state_dict().items() if k != "answer_words"}
        if "answer_words" in self.state_dict():
            state["answer_words"] = self.answer_words.clone()
        model.load_state_dict(state)
        return model

    @classmethod
    def from_checkpoint(cls, payload: dict) -> MemN2N:
        """Rebuild a model from `memlib.checkpoints.load(...)`."""
        state = payload["state_dict"]
        known = inspect.signature(cls).parameters
        config = {k: v for k, v in payload["config"].items() if k in known}  # ignore retired options
        model = cls(**config, answer_words=state.get("answer_words"))
        model.load_state_dict(state)
        return model


_PAPER_TABLES: dict = {}


def paper_table(L: int, d: int) -> torch.Tensor:
    """``table[J]`` = the paper's PE weights of a J-word sentence, zero-padded to L words: (L+1, L, d)."""
    if (L, d) not in _PAPER_TABLES:
        table = torch.zeros(L + 1, L, d)
        for J in range(1, L + 1):
            table[J, :J] = position_encoding(J, d, "paper")
        _PAPER_TABLES[(L, d)] = table
    return _PAPER_TABLES[(L, d)]


_MATLAB_TABLES: dict = {}


def matlab_table(L: int, d: int) -> torch.Tensor:
    """The authors' code's PE weights for padded length L: (L, d), computed once."""
    if (L, d) not in _MATLAB_TABLES:
        _MATLAB_TABLES[(L, d)] = position_encoding(L, d, "matlab")
    return _MATLAB_TABLES[(L, d)]


def cross_entropy(logits: torch.Tensor, answers: torch.Tensor) -> torch.Tensor:
    """Summed cross-entropy per model: logits (E, B, A), answers (B,) → (E,)."""
    E, B, A = logits.shape
    return F.cross_entropy(logits.reshape(E * B, A), answers.repeat(E), reduction="none").view(E, B).sum(1)
