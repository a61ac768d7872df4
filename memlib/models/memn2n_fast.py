"""The fast form of MemN2N that the recipe trains: random restarts batched, each sentence embedded once.

It computes what `memlib.models.memn2n.MemN2N` computes (a test checks logits and gradients),
in ways that make training fast on a CPU, where a step costs about as much per operation
as per number:

- every parameter has a leading *ensemble* dimension E: the paper's random restarts (§4.2,
  "repeated 10 times with different random initializations") train as one batched model, whose
  summed loss gives each restart its own gradient;
- the input is a table of distinct sentences (``Batch.distinct``): each is embedded once, and
  ``uᵀm_i`` and ``Σ_i p_i c_i`` pick their rows, instead of embedding every slot of every story;
- all embedding tables sit side by side (``tables``: ``(V, E, n·d)``, block j is ``emb[j]``), so
  one `F.embedding_bag` embeds the sentences for every restart and hop at once (and a second
  one the questions, with B alone); the temporal rows ``T_A``, ``T_C`` and a zero row join the
  embedded sentences in one table of *keys*, and each slot's score ``uᵀ(A x_i + T_A(i))`` is
  two entries of ``u · keys`` added up;
- the empty slots (`null_memories`) are one more row of score ``log(n_empty)``: a plain
  softmax over ``M + 1`` rows gives the slots their share and the empty slots theirs;
- scores and attention are laid out ``(E, M + 1, B)``, the softmax over dim 1, and the loss
  takes the answers on dim 1: torch's CPU softmax and log-softmax over a short *last*
  dimension are slow (a (100, 32, 11) softmax, forward and backward: 1.2 ms over the last
  dimension, 0.13 ms over dim 1 of the (100, 11, 32) layout; torch 2.13, one thread).

``forward`` returns ``(E, B, A)`` logits and a trace with a leading E; ``member(e)`` is restart
e as a `MemN2N`, and `MemN2NEnsemble.stack` is its inverse.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from memlib.babi.encode import position_encoding
from memlib.models.memn2n import MemN2N, MemN2NWeights, trace_of


class MemN2NEnsemble(MemN2NWeights):
    """E independent MemN2Ns as one batched computation over a table of distinct sentences."""

    def __init__(self, *args, ensemble: int = 1, **kwargs):
        super().__init__(*args, lead=(ensemble,), **kwargs)
        self.E = ensemble
        self.config["ensemble"] = ensemble
        # linear start (§4.2): while linear[e] is True, model e has no softmax in its memory layers
        self.register_buffer("linear", torch.zeros(ensemble, dtype=torch.bool))
        # the authors' PE weights l_j (§4.1 as in their code), the same for every sentence: (L, d)
        self.register_buffer("pe", position_encoding(self.L, self.d, "matlab"), persistent=False)

    # --- the tables side by side: block j of the last dimension is emb[j] --------------------------
    def blocks(self, k: int) -> tuple[int, int]:
        """The blocks of hop k's input (A, T_A) and output (C, T_C) tables; block 0 is B."""
        return (k, k + 1) if self.tying == "adjacent" else (1, 2)

    def tables(self, blocks=None) -> torch.Tensor:
        """The first `blocks` embedding tables (all by default) side by side, restarts within each word's row.

        ``(V, E, n·d)``, n = K + 1 (adjacent) or 3 (B, A, C): row w holds every restart's
        embeddings of word w, and block j of the last dimension is ``emb[j]``.
        """
        return torch.cat([t.transpose(0, 1) for t in list(self.emb)[:blocks]], -1)

    def time_rows(self, width: int) -> torch.Tensor:
        """The temporal rows aligned with `tables`' blocks (T_A under A, T_C under C): (E, M, n·d)."""
        E, M, d = self.E, self.M, self.d
        if self.T is None:
            return self.emb[0].new_zeros(E, M, width)
        if self.tying == "adjacent":  # T[j] under emb[j]
            return torch.cat(list(self.T), -1)
        return torch.cat([self.emb[0].new_zeros(E, M, d), *self.T], -1)  # nothing under B

    def embed(self, words: torch.Tensor, blocks=None) -> torch.Tensor:
        """Σ_j l_j ⊙ table[x_j] of sentences ``words (S, L)`` for the first `blocks` tables at once: (E, S, n·d).

        A word's row holds every restart's tables side by side (``(V, E·n·d)``), so one
        `F.embedding_bag` (a lookup and a sum over the words, forward and backward in one
        operation each) embeds every sentence for every restart and table. The authors' PE
        weights depend only on the position j, so the rows are weighted first, once per position
        (``(L·V, E·n·d)``, small), and word w at position j reads row ``j·V + w``. The paper's PE
        depends on each sentence's length J: ``l_kj = (1 - j/J) - (k/d)(1 - 2j/J)`` is two bags,
        one weighted by ``1 - j/J`` and one by ``1 - 2j/J``, the second scaled by ``k/d``.
        """
        rows = self.tables(blocks)  # (V, E, n·d)
        V, E, width = rows.shape
        S, L = words.shape
        d, device = self.d, words.device
        bags = [None]
        if self.encoding == "pe" and self.pe_variant == "matlab":  # row (j, w) is l_j ⊙ table[w]
            l = self.pe[:L].repeat(1, width // d)  # noqa: E741  (L, n·d)
            rows = rows.unsqueeze(0) * l.view(L, 1, 1, width)  # (L, V, E, n·d)
            words, V = words + V * torch.arange(L, device=device), L * V
        elif self.encoding == "pe":  # the paper's PE: l_kj = f_j - (k/d) h_j, J the sentence's own length
            J = (words != 0).sum(-1, keepdim=True).clamp(min=1).float()  # (S, 1)
            j = torch.arange(1, L + 1, device=device).float()
            bags = [1 - j / J, 1 - 2 * j / J]  # f_j and h_j: (S, L)
        table = rows.reshape(V, E * width)
        x = [F.embedding_bag(words, table, mode="sum", per_sample_weights=w).view(S, E, width) for w in bags]
        if len(x) == 2:  # the paper's PE: f-bag - (k/d) ⊙ h-bag, k = 1..d in every table's block
            k = torch.arange(1, d + 1, device=device).float().repeat(width // d) / d
            x = [x[0] - k * x[1]]
        return x[0].transpose(0, 1)  # (E, S, n·d)

    def forward(self, sentences, rows, queries, lengths, time=None, trace: bool = True):
        """Logits (E, B, A) and a trace with a leading E (None if not `trace`).

        ``sentences (S, L)`` are the distinct sentences (each embedded once), ``rows (B, M)``
        picks the sentence of each sample's memory slots (oldest first), ``queries (B, L)``,
        ``lengths (B,)`` real slots per sample, ``time (B, M)`` or ``(E, B, M)`` the temporal
        index of each slot (default: 0 for the most recent sentence).
        """
        B, M = rows.shape
        if M > self.M:
            raise ValueError(f"memory has {M} slots, the model was built for at most {self.M}")
        E, S, d, device = self.E, sentences.shape[0], self.d, rows.device
        slots = torch.arange(M, device=device)
        real = slots.unsqueeze(0) < lengths.unsqueeze(1)  # (B, M)
        if time is None:
            time = (lengths.unsqueeze(1) - 1 - slots).clamp(min=0)  # (B, M) reverse order
        time = time.clamp(max=self.M - 1)
        time = (time if time.dim() == 3 else time.unsqueeze(0)).expand(E, B, M)  # (E, B, M)
        x = self.embed(sentences)  # every table: A^k, C^k of every hop                      (E, S, n·d)
        # keys: the sentences' embeddings, the temporal rows, and a zero row → (E, S + self.M + 1, n·d)
        keys = torch.cat([x, self.time_rows(x.shape[-1]), x.new_zeros(E, 1, x.shape[-1])], 1)
        zero = keys.shape[1] - 1
        # slot i reads its sentence's row and its temporal row; column M (the empty slots) reads the zero row twice
        idx = torch.cat([F.pad(rows.unsqueeze(0).expand(E, B, M), (0, 1), value=zero),
                         F.pad(S + time, (0, 1), value=zero)], -1)  # (E, B, 2(M+1))
        n_empty = (self.M - lengths).float() if self.null_memories else torch.zeros(B, device=device)
        bias = torch.cat([torch.zeros(B, M, device=device).masked_fill(~real, float("-inf")),
                          n_empty.log().unsqueeze(1)], 1)  # (B, M+1): -inf on padding, log(n_empty) for the empty column
        u = self.embed(queries, blocks=1)  # u = B q, the first table only                          (E, B, d)
        key = keys.split(d, -1)  # key[j]: block j (E, S + self.M + 1, d); one split, one backward for all blocks
        linear = self.linear.view(-1, 1, 1) if bool(self.linear.any()) else None
        # scores and attention are laid out (E, M+1, B), the softmax over dim 1 (see the module's docstring)
        idx, bias, real = idx.transpose(1, 2).contiguous(), bias.t().unsqueeze(0), F.pad(real, (0, 1)).t().unsqueeze(0)
        us, ps, outs = [u], [], []
        for k in range(self.hops):
            a, c = self.blocks(k)
            # uᵀ m_i = uᵀ (A x_i + T_A(i)): score every key, then add the two entries of each slot
            scores = torch.bmm(key[a], u.transpose(1, 2)).gather(1, idx)
            scores = scores.view(E, 2, M + 1, B).sum(1)  # (E, M+1, B)
            p = torch.softmax(scores + bias, 1)  # the slots' attention and, in row M, the empty slots' share
            if linear is not None:  # linear start: the raw scores of the real slots, no softmax
                p = torch.where(linear, scores * real, p)
            # o = Σ_i p_i (C x_i + T_C(i)): each key's total weight, then one matmul
            weight = torch.zeros(E, keys.shape[1], B, device=device).scatter_add(1, idx, torch.cat([p, p], 1))
            o = torch.bmm(weight.transpose(1, 2), key[c])  # (E, B, d)
            u = (torch.bmm(u, self.H.transpose(1, 2)) if self.tying == "layerwise" else u) + o
            u = torch.relu(u) if self.relu else u
            us.append(u)
            ps.append(p.transpose(1, 2))
            outs.append(o)
        logits = torch.bmm(u, self.Wt().transpose(1, 2))  # (E, B, A)
        if not trace:
            return logits, None
        return logits, trace_of(us, [p[..., :M] for p in ps], outs, [p[..., M] for p in ps], lengths)

    def member(self, e: int) -> MemN2N:
        """Restart `e` as a stand-alone `MemN2N` (the reference form) with the same weights."""
        config = {k: v for k, v in self.config.items() if k != "ensemble"}
        with self.linear.device:  # built where this ensemble lives
            model = MemN2N(**config, answer_words=getattr(self, "answer_words", None))
        model.load_state_dict({k: v if k == "answer_words" else v[e]
                               for k, v in self.state_dict().items() if k != "linear"})
        model.linear = bool(self.linear[e])
        return model

    @classmethod
    def stack(cls, models: list) -> MemN2NEnsemble:
        """`MemN2N`s of one configuration as one ensemble (the inverse of `member`)."""
        first = models[0]
        device = first.emb[0].device
        with torch.random.fork_rng(devices=[]), device:  # the weights are replaced: leave the random stream alone
            ensemble = cls(**first.config, ensemble=len(models), answer_words=getattr(first, "answer_words", None))
        state = {k: v if k == "answer_words" else torch.stack([m.state_dict()[k] for m in models])
                 for k, v in first.state_dict().items()}
        state["linear"] = torch.tensor([m.linear for m in models], device=device)
        ensemble.load_state_dict(state)
        return ensemble


def cross_entropy(logits: torch.Tensor, answers: torch.Tensor) -> torch.Tensor:
    """Summed cross-entropy per model: logits (E, B, A), answers (B,) → (E,)."""
    E, B, A = logits.shape  # the classes on dim 1, not last: torch's CPU log-softmax is faster so
    return F.cross_entropy(logits.transpose(1, 2), answers.expand(E, B), reduction="none").sum(1)
