"""The strongly supervised Memory Network (Weston, Chopra & Bordes 2015) as the lecture shows it.

Four components, each a named piece below:

* **I** (input feature map): a sentence → its bag of words.
* **G** (generalization): write each sentence to the next free slot; a slot never changes.
* **O** (output feature map): k hops of argmax over the memory,
  ``o1 = argmax_i s_O(q, m_i)``, ``o2 = argmax_i s_O(q + m_o1, m_i)``, …
* **R** (response): ``r = argmax_w s_R(q + m_o1 + … + m_ok, w)`` over every word w.

Scoring: ``s(x, y) = Φx(x)ᵀ Uᵀ U Φy(y)`` with separate matrices ``U_O`` and ``U_R``.
Feature layout of the paper (§3.1), D = 3|W|: Φx puts the question's words in block 1 and the
words of the supporting memories found so far in block 2; Φy puts a memory's words (or the
answer word) in block 3. The slide's ``q + m_o1`` is the sum of these block features.

Write-time features (§3.4), optional: O compares two memories y, y' at once,
``s_Ot(x, y, y') = Φx(x)ᵀ U_Oᵀ U_O (Φy(y) − Φy(y') + Φt(x, y, y'))`` with three bits
Φt = [x older than y, x older than y', y older than y'] in 3 extra dimensions; ``> 0`` prefers
y. The argmax becomes a loop that keeps the current winner. Our reading of the details: the
loop runs from the newest memory back to the oldest (the challenger is the older one), the
question is newer than every memory, and after hop 1 "the time of x" is the slot picked by the
previous hop.

Training (§3.1, eqs. 6–8): a margin ranking loss on the labelled supporting facts and answer, with
sampled negatives, hop h fed the *true* facts of hops < h. A sample with fewer supporting
facts than hops repeats its last fact as the target of the extra hops. With time features each
pair (true fact, negative) is scored in the loop's order, the older memory as y. The paper's
App. C scores both orders; with 0/1 bits the order "newer as y" has no time bit set at hop 1,
so it asks the content score alone to separate "Mary went to the garden" from "Mary went to
the kitchen", which no score can do for every story: the loss never reaches zero and a few
percent of the choices keep flipping (in one run on task 2: 98.8 % test accuracy vs 99.8 % with our order).

The model and its objective live here; `memlib.recipes.memnn` prepares the data, trains and loads it.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn as nn

# ----------------------------------------------------------------------------- I and G

def I(words: torch.Tensor, vocab_size: int) -> torch.Tensor:  # noqa: E743 - the lecture's name
    """I: bag of words of padded word ids ``(..., L)`` → counts ``(..., V)``; the nil word 0 is dropped."""
    counts = torch.zeros(*words.shape[:-1], vocab_size, device=words.device)
    counts.scatter_add_(-1, words, torch.ones(words.shape, device=words.device))
    counts[..., 0] = 0.0
    return counts


def G(memory: torch.Tensor | None, x: torch.Tensor) -> torch.Tensor:
    """G: write the features `x` (V,) to the next free slot; returns the memory (slots, V)."""
    x = x.unsqueeze(0)
    return x.clone() if memory is None else torch.cat([memory, x])  # earlier slots are never touched


def hinge(positive: torch.Tensor, negative: torch.Tensor, margin: float) -> torch.Tensor:
    """The margin ranking term ``max(0, γ − s(positive) + s(negative))``, elementwise."""
    return torch.clamp(margin - positive + negative, min=0.0)


# ----------------------------------------------------------------------------- trace

@dataclass
class MemNNTrace:
    """What a forward pass did: per-hop memory scores, the slots O chose, R's word scores."""

    scores: torch.Tensor  # (B, k, M) s_O(x_h, m_i) per hop; -inf on empty slots
    chosen: torch.Tensor  # (B, k) slot chosen by O at each hop
    versus: torch.Tensor | None  # (B, k, M) with time features: margin of the chosen slot over m_i in the loop (> 0: chosen wins)
    answer_scores: torch.Tensor  # (B, V) s_R(x, w) for every word w; -inf for nil
    answer: torch.Tensor  # (B,) word id chosen by R


# ----------------------------------------------------------------------------- the model

class MemNN(nn.Module):
    """Strongly supervised Memory Network: I, G, O (k argmax hops), R, with s(x, y) = xᵀUᵀUy."""

    def __init__(self, vocab_size: int, dim: int = 100, hops: int = 2, time_features: bool = True,
                 margin: float = 0.1, std: float = 0.1):
        super().__init__()
        if vocab_size < 2 or hops < 1 or dim < 1:
            raise ValueError(f"need vocab_size >= 2, hops >= 1, dim >= 1; got {vocab_size}, {hops}, {dim}")
        self.config = dict(vocab_size=vocab_size, dim=dim, hops=hops, time_features=time_features,
                           margin=margin, std=std)
        self.V, self.hops, self.time_features, self.margin = vocab_size, hops, time_features, margin
        D = 3 * vocab_size  # three copies of the dictionary (paper §3.1)
        self.U_O = nn.Parameter(torch.randn(dim, D + (3 if time_features else 0)) * std)
        self.U_R = nn.Parameter(torch.randn(dim, D) * std)

    # --- feature maps Φx, Φy, Φt (the paper's layout) --------------------------------
    def phi_x(self, q: torch.Tensor, found: torch.Tensor, time: bool = False) -> torch.Tensor:
        """Φx: question words in block 1, words of the memories found so far in block 2."""
        parts = [q, found, torch.zeros_like(q)]
        return torch.cat(parts + ([q.new_zeros(*q.shape[:-1], 3)] if time else []), -1)

    def phi_y(self, y: torch.Tensor, time: bool = False) -> torch.Tensor:
        """Φy: a memory's (or an answer word's) words in block 3."""
        parts = [torch.zeros_like(y), torch.zeros_like(y), y]
        return torch.cat(parts + ([y.new_zeros(*y.shape[:-1], 3)] if time else []), -1)

    def phi_t(self, t_x: torch.Tensor, t_y: torch.Tensor, t_y2: torch.Tensor) -> torch.Tensor:
        """Φt: [x older than y, x older than y', y older than y'] in the 3 extra dimensions."""
        bits = torch.stack([t_x < t_y, t_x < t_y2, t_y < t_y2], -1).float()  # (..., 3)
        return torch.cat([bits.new_zeros(*bits.shape[:-1], 3 * self.V), bits], -1)

    # --- scoring ----------------------------------------------------------------------
    @staticmethod
    def s(U: torch.Tensor, fx: torch.Tensor, fy: torch.Tensor) -> torch.Tensor:
        """s(x, y) = Φx(x)ᵀ Uᵀ U Φy(y) for features ``fx (..., D)``, ``fy (..., D)`` (broadcast)."""
        return ((fx @ U.T) * (fy @ U.T)).sum(-1)

    def s_Ot(self, fx, fy, fy2, ft) -> torch.Tensor:
        """s_Ot(x, y, y') = Φx(x)ᵀ U_Oᵀ U_O (Φy(y) − Φy(y') + Φt(x, y, y')); > 0 prefers y."""
        return self.s(self.U_O, fx, fy - fy2 + ft)

    # --- O and R --------------------------------------------------------------------
    def O(self, q: torch.Tensor, memory: torch.Tensor, mask: torch.Tensor):  # noqa: E743 - the lecture's name
        """O: k hops of argmax over the memory → chosen (B, k), scores (B, k, M), versus (B, k, M) or None."""
        B, M, V = memory.shape
        t = self.time_features
        ey = self.phi_y(memory, t) @ self.U_O.T  # (B, M, n): U_O Φy(m_i), once for all hops
        found = memory.new_zeros(B, V)  # words of the memories found so far
        t_x = torch.full((B,), M, device=memory.device)  # the question is newer than every memory
        rows = torch.arange(B, device=memory.device)
        chosen, scores, versus = [], [], []
        for _ in range(self.hops):
            ux = self.phi_x(q, found, t) @ self.U_O.T  # (B, n): U_O Φx(x)
            c = (ey * ux.unsqueeze(1)).sum(-1)  # (B, M): s_O(x, m_i)
            if t:
                # s_Ot is linear in its last factor: s_Ot(x, m_i, m_j) = c_i - c_j + a · Φt(x, m_i, m_j)
                a = ux @ self.U_O[:, -3:]  # (B, 3): weight of each time bit
                o = self.winner(c, a, mask, t_x)
                versus.append(self.margins(c, a, mask, t_x, o))
            else:
                o = c.masked_fill(~mask, float("-inf")).argmax(-1)  # (B,)
            chosen.append(o)
            scores.append(c.masked_fill(~mask, float("-inf")))
            found = found + memory[rows, o]
            t_x = o
        return (torch.stack(chosen, 1), torch.stack(scores, 1),
                torch.stack(versus, 1) if t else None)

    @staticmethod
    def winner(c: torch.Tensor, a: torch.Tensor, mask: torch.Tensor, t_x: torch.Tensor) -> torch.Tensor:
        """The argmax of §3.4 as a loop: from the newest memory back, an older m_i replaces the winner if s_Ot > 0.

        c (B, M): content scores s_O(x, m_i); a (B, 3): weights of the time bits; t_x (B,): time of x.
        """
        B, M = c.shape
        rows = torch.arange(B, device=c.device)
        best = mask.long().sum(1) - 1  # (B,) newest written slot
        for i in range(M - 1, -1, -1):
            i_ = torch.full((B,), i, device=c.device)
            bits = torch.stack([t_x < i_, t_x < best, i_ < best], -1).float()  # Φt(x, m_i, m_best)
            beats = c[:, i] - c[rows, best] + (a * bits).sum(-1) > 0  # s_Ot(x, m_i, m_best) > 0
            best = torch.where(mask[:, i] & (i_ < best) & beats, i_, best)
        return best

    @staticmethod
    def margins(c, a, mask, t_x, o) -> torch.Tensor:
        """How much the chosen m_o beats each m_i in the loop's comparison (older one as y); 0 at o and empty slots."""
        B, M = c.shape
        slots = torch.arange(M, device=c.device).expand(B, M)
        t_x, o = t_x.unsqueeze(1).expand(B, M), o.unsqueeze(1).expand(B, M)
        c_o = c.gather(1, o)

        def s_Ot(c_y, c_y2, t_y, t_y2):  # c_y - c_y2 + a · Φt(x, y, y2)
            bits = torch.stack([t_x < t_y, t_x < t_y2, t_y < t_y2], -1).float()
            return c_y - c_y2 + (a.unsqueeze(1) * bits).sum(-1)

        m = torch.where(slots < o, -s_Ot(c, c_o, slots, o), s_Ot(c_o, c, o, slots))  # (B, M)
        return m.masked_fill(~mask | (slots == o), 0.0)

    def R(self, q: torch.Tensor, found: torch.Tensor) -> torch.Tensor:
        """R: s_R(q + m_o1 + …, w) for every word w → (B, V); nil gets -inf."""
        fx = self.phi_x(q, found)  # (B, 3V)
        fw = self.phi_y(torch.eye(self.V, device=q.device))  # (V, 3V): each word as a one-word answer
        scores = (fx @ self.U_R.T) @ (fw @ self.U_R.T).T  # (B, V)
        scores[:, 0] = float("-inf")
        return scores

    def features(self, memories: torch.Tensor, queries: torch.Tensor):
        """I on a batch: query and memory bags of words and the mask of written slots."""
        if memories.dim() != 3 or queries.dim() != 2 or memories.shape[0] != queries.shape[0]:
            raise ValueError(f"expected memories (B, M, L) and queries (B, L), got {tuple(memories.shape)} "
                             f"and {tuple(queries.shape)}")
        if int(memories.max()) >= self.V or int(queries.max()) >= self.V:
            raise ValueError(f"word ids must be < vocab_size={self.V}")
        mask = memories.ne(0).any(-1)  # (B, M) slots written by G
        if not mask.any(1).all():
            raise ValueError("every sample needs at least one memory")
        return I(queries, self.V), I(memories, self.V), mask

    def forward(self, memories: torch.Tensor, queries: torch.Tensor):
        """memories (B, M, L), queries (B, L) word ids → answer scores (B, V), `MemNNTrace`."""
        q, memory, mask = self.features(memories, queries)
        chosen, scores, versus = self.O(q, memory, mask)
        found = memory.gather(1, chosen.unsqueeze(-1).expand(-1, -1, self.V)).sum(1)  # (B, V)
        answer_scores = self.R(q, found)
        return answer_scores, MemNNTrace(scores, chosen, versus, answer_scores, answer_scores.argmax(-1))

    # --- training ----------------------------------------------------------------------
    def loss_terms(self, memories, queries, supports, answers, negatives: int | None = None,
                   generator: torch.Generator | None = None) -> dict:
        """The hinge terms of the lecture (§3.1 eqs. 6–8), summed over the batch: ``{"O1": …, "O2": …, "R": …}``.

        Hop h sees the true supporting facts of the earlier hops (strong supervision).
        negatives: how many f̄ (and r̄) to sample per term; None sums over all of them.
        """
        q, memory, mask = self.features(memories, queries)
        B, M, V = memory.shape
        targets = hop_targets(supports, self.hops)  # (B, k)
        ok = (targets >= 0).all(1) & (targets < M).all(1)  # samples whose facts are all in memory
        t = self.time_features
        fy = self.phi_y(memory, t)  # (B, M, D)
        rows = torch.arange(B, device=memory.device)
        slots = torch.arange(M, device=memory.device).expand(B, M)
        found = memory.new_zeros(B, V)
        t_x = torch.full((B,), M, device=memory.device)
        terms = {}
        for h in range(self.hops):
            o = targets[:, h].clamp(min=0)
            neg, valid = sample_negatives(mask & (slots != o.unsqueeze(1)), negatives, generator)  # (B, n)
            valid = valid & ok.unsqueeze(1)
            fx = self.phi_x(q, found, t).unsqueeze(1)  # (B, 1, D)
            f_pos, f_neg = fy[rows, o].unsqueeze(1), fy[rows.unsqueeze(1), neg]  # (B, 1, D), (B, n, D)
            if t:  # the pair in the loop's order, y the older one: s_Ot(x, o, f̄) > γ or s_Ot(x, f̄, o) < −γ
                t_o, t_x_ = o.unsqueeze(1).expand_as(neg), t_x.unsqueeze(1).expand_as(neg)
                o_older = hinge(self.s_Ot(fx, f_pos, f_neg, self.phi_t(t_x_, t_o, neg)), 0.0, self.margin)
                f_older = hinge(0.0, self.s_Ot(fx, f_neg, f_pos, self.phi_t(t_x_, neg, t_o)), self.margin)
                term = torch.where(neg < t_o, f_older, o_older)
            else:
                term = hinge(self.s(self.U_O, fx, f_pos), self.s(self.U_O, fx, f_neg), self.margin)
            terms[f"O{h + 1}"] = (term * valid).sum()
            found = found + memory[rows, o]
            t_x = o
        # R: rank the true answer word above sampled wrong words r̄
        words = torch.ones(B, V, dtype=torch.bool, device=memory.device)
        words[:, 0] = False
        words[rows, answers] = False
        neg, valid = sample_negatives(words, negatives, generator)
        fx = self.phi_x(q, found).unsqueeze(1)  # (B, 1, 3V)
        fw = self.phi_y(torch.eye(V, device=memory.device))  # (V, 3V)
        pos = self.s(self.U_R, fx, fw[answers].unsqueeze(1))  # (B, 1)
        terms["R"] = (hinge(pos, self.s(self.U_R, fx, fw[neg]), self.margin) * (valid & ok.unsqueeze(1))).sum()
        return terms

    def loss(self, memories, queries, supports, answers, negatives=None, generator=None) -> torch.Tensor:
        """The sum of the hinge terms (the lecture's training objective)."""
        return sum(self.loss_terms(memories, queries, supports, answers, negatives, generator).values())


def hop_targets(supports: torch.Tensor, hops: int) -> torch.Tensor:
    """The true slot for each hop (B, k): the supporting facts in order, the last one repeated; -1 = none."""
    B, S = supports.shape
    out = torch.full((B, hops), -1, dtype=torch.long, device=supports.device)
    for h in range(hops):
        out[:, h] = supports[:, h] if h < S else out[:, h - 1]
        if h > 0:
            out[:, h] = torch.where(out[:, h] < 0, out[:, h - 1], out[:, h])
    return out


def sample_negatives(allowed: torch.Tensor, n: int | None, generator=None):
    """Up to `n` random indices per row where `allowed` (B, N) is True → (indices (B, n), valid (B, n)).

    n=None returns every index (the full sum), valid where allowed.
    """
    B, N = allowed.shape
    if n is None:
        return torch.arange(N, device=allowed.device).expand(B, N), allowed
    keys = torch.rand(B, N, generator=generator, device=allowed.device).masked_fill(~allowed, -1.0)
    top = keys.topk(min(n, N), dim=1)
    return top.indices, top.values >= 0
