"""The fast form of MemN2N that the recipe trains: random restarts batched, each sentence embedded once.

It computes what `memlib.models.memn2n.MemN2N` computes (a test checks logits and gradients),
in two ways that make training fast on a CPU:

- every parameter has a leading *ensemble* dimension E: the paper's random restarts (§4.2,
  "repeated 10 times with different random initializations") train as one batched model, whose
  summed loss gives each restart its own gradient;
- the input is a table of distinct sentences (``Batch.distinct``): each is embedded once, and
  ``uᵀm_i`` and ``Σ_i p_i c_i`` pick their rows, instead of embedding every slot of every story.

``forward`` returns ``(E, B, A)`` logits and a trace with a leading E; ``member(e)`` is restart
e as a `MemN2N`, and `MemN2NEnsemble.stack` is its inverse.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from memlib.models.memn2n import MemN2N, MemN2NWeights, softmax_with_empty, trace_of


class MemN2NEnsemble(MemN2NWeights):
    """E independent MemN2Ns as one batched computation over a table of distinct sentences."""

    def __init__(self, *args, ensemble: int = 1, **kwargs):
        super().__init__(*args, lead=(ensemble,), **kwargs)
        self.E = ensemble
        self.config["ensemble"] = ensemble
        # linear start (§4.2): while linear[e] is True, model e has no softmax in its memory layers
        self.register_buffer("linear", torch.zeros(ensemble, dtype=torch.bool))

    def embed(self, table: torch.Tensor, words: torch.Tensor, weights) -> torch.Tensor:
        """Σ_j l_j ⊙ table[x_j] for sentences ``words (S, L)``: (E, S, d)."""
        x = table.index_select(1, words.reshape(-1)).view(self.E, *words.shape, self.d)  # (E, S, L, d)
        return (x if weights is None else x * weights).sum(-2)  # (E, S, d)

    def attend(self, scores: torch.Tensor, real: torch.Tensor, lengths: torch.Tensor):
        """p (E, B, M) over the real memories and the empty slots' share (E, B), per restart's linear start."""
        E, B, _ = scores.shape
        if self.null_memories:  # the empty slots up to memory_size score uᵀ0 = 0 and take their share
            p, empty = softmax_with_empty(scores, real, (self.M - lengths).float().view(1, B))
        else:
            p = torch.softmax(scores.masked_fill(~real, float("-inf")), dim=-1)  # padding gets no weight
            empty = torch.zeros(E, B, device=scores.device)
        if self.linear.any():  # linear start: no softmax for these models
            p = torch.where(self.linear.view(-1, 1, 1), scores.masked_fill(~real, 0.0), p)
            empty = torch.where(self.linear.view(-1, 1), 0.0, empty)
        return p, empty

    def forward(self, sentences, rows, queries, lengths, time=None):
        """Logits (E, B, A) and a trace with a leading E.

        ``sentences (S, L)`` are the distinct sentences (each embedded once), ``rows (B, M)``
        picks the sentence of each sample's memory slots (oldest first), ``queries (B, L)``,
        ``lengths (B,)`` real slots per sample, ``time (B, M)`` or ``(E, B, M)`` the temporal
        index of each slot (default: 0 for the most recent sentence).
        """
        B, M = rows.shape
        if M > self.M:
            raise ValueError(f"memory has {M} slots, the model was built for at most {self.M}")
        E, S = self.E, sentences.shape[0]
        slots = torch.arange(M, device=rows.device)
        real = slots.unsqueeze(0) < lengths.unsqueeze(1)  # (B, M)
        if time is None:
            time = (lengths.unsqueeze(1) - 1 - slots).clamp(min=0)  # (B, M) reverse order
        time = time.clamp(max=self.M - 1)
        time = (time if time.dim() == 3 else time.unsqueeze(0)).expand(E, B, M)  # (E, B, M)
        rows = rows.unsqueeze(0).expand(E, B, M)  # (E, B, M) sentence row of each slot
        s_weights = self.weights(sentences)  # None or (S, L, d)
        u = self.embed(self.B(), queries, self.weights(queries))  # (E, B, d)
        us, ps, outs, empties = [u], [], [], []
        once = {}  # each table embeds the sentences once (adjacent tying: C^k = A^{k+1})
        for k in range(self.hops):
            A, C = (self.embedded(once, t, sentences, s_weights) for t in (self.A(k), self.C(k)))  # (E, S, d)
            # uᵀ m_i = uᵀ (A x_i + T_A(i)): score the sentences, then pick each slot's score
            scores = torch.bmm(u, A.transpose(1, 2)).gather(2, rows)  # (E, B, M)
            if self.T is not None:
                scores = scores + torch.bmm(u, self.TA(k).transpose(1, 2)).gather(2, time)
            p, empty = self.attend(scores, real, lengths)  # (E, B, M), (E, B)
            # o = Σ_i p_i c_i = Σ_i p_i (C x_i + T_C(i)): add up each sentence's weight, then one matmul
            o = torch.bmm(torch.zeros(E, B, S, device=u.device).scatter_add(2, rows, p), C)  # (E, B, d)
            if self.T is not None:
                o = o + torch.bmm(torch.zeros(E, B, self.M, device=u.device).scatter_add(2, time, p), self.TC(k))
            u = (torch.bmm(u, self.H.transpose(1, 2)) if self.tying == "layerwise" else u) + o
            us.append(u)
            ps.append(p)
            outs.append(o)
            empties.append(empty)
        logits = torch.einsum("ebd,ead->eba", u, self.Wt())  # (E, B, A)
        return logits, trace_of(us, ps, outs, empties, lengths)

    def embedded(self, once: dict, table: torch.Tensor, sentences: torch.Tensor, weights) -> torch.Tensor:
        """`table` applied to every distinct sentence, computed once per forward: (E, S, d)."""
        if id(table) not in once:
            once[id(table)] = self.embed(table, sentences, weights)
        return once[id(table)]

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
    E, B, A = logits.shape
    return F.cross_entropy(logits.reshape(E * B, A), answers.repeat(E), reduction="none").view(E, B).sum(1)
