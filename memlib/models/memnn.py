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

Beyond tasks 1–3: the bAbI paper's extensions (Weston et al. 2016, §5), each a constructor
switch, off by default (so Memory Networks' model above is the default):

* ``bigrams`` (N-grams, "NG"): I also counts pairs of neighbouring words, features V.. of every
  block; word order then counts ("what is north of the hallway" ≠ "what is the hallway north of").
  The paper used 3-grams; pairs were enough to separate the sentences of the bAbI tasks.
* ``adaptive`` (adaptive memory, "AM"): a STOP memory m_∅ joins the memory as its last slot,
  newer than every statement; O hops until it picks m_∅ (at most `hops` hops) and the loss
  trains hop h after the last supporting fact to pick it. Its one feature is the nil word's,
  which I drops from every real sentence.
* ``nonlinear`` ("NL"): each side's embedding is E(f) = tanh(W tanh(U f)) and s(x, y) = E(Φx)·E(Φy);
  with time features s_Ot(x, y, y') = s(x, y) − s(x, y') + E(Φx)·U Φt, which is the paper's
  Φx(x)ᵀUᵀU(Φy(y) − Φy(y') + Φt) when E is linear.
* ``recency`` (our addition, not the paper's): R also sees the newest fact found, in a block of
  its own. R's input is otherwise a bag, blind to time: with "John went to the garden. Then he
  went to the office." both found, it cannot tell which place is the later one (tasks 11, 13),
  though O picked both facts right; this gives R what §3.4's time features give O.
* ``answer_words`` > 1 (lists and paths): R says r_1 = argmax_w s_R([x, m_o1, …], w), then
  r_2 = argmax_w s_R([x, m_o1, …, r_1], w), … until the STOP word w_∅ (the nil word), with the
  words said so far in a 4th block of Φx; trained with the true earlier words, one hinge term
  per word and one for STOP.

The model and its objective live here; `memlib.recipes.memnn` prepares the data, trains and loads it.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn as nn

# ----------------------------------------------------------------------------- I and G

def I(words: torch.Tensor, vocab_size: int, bigrams: torch.Tensor | None = None) -> torch.Tensor:  # noqa: E743
    """I: bag of words of padded word ids ``(..., L)`` → counts ``(..., V)``; the nil word 0 is dropped.

    With `bigrams` (a (V, V) table: the feature of word pair (a, b), -1 for none), the counts of
    the sentence's pairs of neighbouring words follow the words' (the N-grams of bAbI §5): ``(..., F)``.
    """
    size = vocab_size if bigrams is None else vocab_size + int((bigrams >= 0).sum())
    counts = torch.zeros(*words.shape[:-1], size, device=words.device)
    counts.scatter_add_(-1, words, torch.ones(words.shape, device=words.device))
    if bigrams is not None and words.shape[-1] > 1:
        pairs = bigrams[words[..., :-1], words[..., 1:]].clamp(min=0)  # unknown pairs → 0, dropped below
        counts.scatter_add_(-1, pairs, torch.ones(pairs.shape, device=words.device))
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
    chosen: torch.Tensor  # (B, k) slot chosen by O at each hop (adaptive: the STOP slot M-1 once done)
    versus: torch.Tensor | None  # (B, k, M) with time features: margin of the chosen slot over m_i in the loop (> 0: chosen wins)
    answer_scores: torch.Tensor  # (B, V) s_R(x, w) for every word w; -inf for nil (lists: (B, A, V), nil = STOP)
    answer: torch.Tensor  # (B,) word id chosen by R (lists: (B, A), the words then STOP = 0)


# ----------------------------------------------------------------------------- the model

class MemNN(nn.Module):
    """Strongly supervised Memory Network: I, G, O (k argmax hops), R, with s(x, y) = xᵀUᵀUy.

    The bAbI paper's extensions (Weston et al. 2016, §5), each off by default:
    ``bigrams`` (word pairs as extra features, "NG"), ``adaptive`` (O stops at the STOP memory
    m_∅, "AM"), ``nonlinear`` (E(x) = tanh(W tanh(Uf)), "NL") and ``answer_words`` > 1 (R answers
    word after word until the STOP word, for lists and paths).
    """

    def __init__(self, vocab_size: int, dim: int = 100, hops: int = 2, time_features: bool = True,
                 margin: float = 0.1, std: float = 0.1, bigrams=(), adaptive: bool = False,
                 nonlinear: bool = False, answer_words: int = 1, recency: bool = False):
        super().__init__()
        if vocab_size < 2 or hops < 1 or dim < 1 or answer_words < 1:
            raise ValueError(f"need vocab_size >= 2, hops >= 1, dim >= 1, answer_words >= 1; got {vocab_size}, "
                             f"{hops}, {dim}, {answer_words}")
        bigrams = [tuple(int(w) for w in pair) for pair in bigrams]
        if any(len(p) != 2 or not (0 < p[0] < vocab_size and 0 < p[1] < vocab_size) for p in bigrams):
            raise ValueError(f"bigrams must be pairs of word ids 1..{vocab_size - 1}")
        self.config = dict(vocab_size=vocab_size, dim=dim, hops=hops, time_features=time_features,
                           margin=margin, std=std, bigrams=[list(p) for p in bigrams], adaptive=adaptive,
                           nonlinear=nonlinear, answer_words=answer_words, recency=recency)
        self.V, self.hops, self.time_features, self.margin = vocab_size, hops, time_features, margin
        self.adaptive, self.nonlinear, self.answer_words, self.recency = adaptive, nonlinear, answer_words, recency
        self.F = vocab_size + len(bigrams)  # features per block: words, then word pairs
        D = 3 * self.F  # three copies of the dictionary (paper §3.1)
        self.U_O = nn.Parameter(torch.randn(dim, D + (3 if time_features else 0)) * std)
        extra = (self.F if recency else 0) + (vocab_size if answer_words > 1 else 0)  # R's blocks 4 and 5
        self.U_R = nn.Parameter(torch.randn(dim, D + extra) * std)
        if nonlinear:
            self.W_O = nn.Parameter(torch.randn(dim, dim) * std)
            self.W_R = nn.Parameter(torch.randn(dim, dim) * std)
        table = torch.full((vocab_size, vocab_size), -1, dtype=torch.long)
        for j, (a, b) in enumerate(bigrams):
            table[a, b] = vocab_size + j
        self.register_buffer("pairs", table if bigrams else None, persistent=False)

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
        bits = time_bits(t_x, t_y, t_y2)  # (..., 3)
        return torch.cat([bits.new_zeros(*bits.shape[:-1], 3 * self.F), bits], -1)

    # --- scoring ----------------------------------------------------------------------
    @staticmethod
    def s(U: torch.Tensor, fx: torch.Tensor, fy: torch.Tensor) -> torch.Tensor:
        """s(x, y) = Φx(x)ᵀ Uᵀ U Φy(y) for features ``fx (..., D)``, ``fy (..., D)`` (broadcast)."""
        return ((fx @ U.T) * (fy @ U.T)).sum(-1)

    def s_Ot(self, fx, fy, fy2, ft) -> torch.Tensor:
        """s_Ot(x, y, y') = Φx(x)ᵀ U_Oᵀ U_O (Φy(y) − Φy(y') + Φt(x, y, y')); > 0 prefers y (linear model)."""
        return self.s(self.U_O, fx, fy - fy2 + ft)

    def embed(self, which: str, f: torch.Tensor) -> torch.Tensor:
        """The embedding of features f for s_O or s_R: U f, or with `nonlinear` E = tanh(W tanh(U f)) (bAbI §5).

        s(x, y) = embed(Φx(x)) · embed(Φy(y)); in the linear case this is the paper's Φx(x)ᵀ Uᵀ U Φy(y).
        """
        return self.nonlinearity(which, f @ (self.U_O if which == "O" else self.U_R).T)

    def embed_blocks(self, which: str, *blocks) -> torch.Tensor:
        """`embed` of Φ given by its blocks (block 1, 2, 3 features; None = zeros), without building Φ.

        The same numbers as ``embed(which, cat(blocks))``, with one matrix product per block that is there.
        """
        U, F = (self.U_O if which == "O" else self.U_R), self.F
        e = sum(f @ U[:, i * F:(i + 1) * F].T for i, f in enumerate(blocks) if f is not None)
        return self.nonlinearity(which, e)

    def nonlinearity(self, which: str, e: torch.Tensor) -> torch.Tensor:
        """E's tanh(W tanh(e)) with `nonlinear`; the identity otherwise."""
        if not self.nonlinear:
            return e
        return torch.tanh(torch.tanh(e) @ (self.W_O if which == "O" else self.W_R).T)

    def time_weights(self, ux: torch.Tensor) -> torch.Tensor:
        """a (B, 3): the weight of each time bit, ux · U_O Φt, so that s_Ot(x, y, y') = c_y − c_y' + a · Φt."""
        return ux @ self.U_O[:, -3:]

    # --- O and R --------------------------------------------------------------------
    def O(self, q: torch.Tensor, memory: torch.Tensor, mask: torch.Tensor):  # noqa: E743 - the lecture's name
        """O: k hops of argmax over the memory → chosen (B, k), scores (B, k, M), versus (B, k, M) or None.

        Adaptive: once a hop picks the STOP memory (slot M-1), the later hops pick it again and
        add nothing to x.
        """
        B, M, F = memory.shape
        t = self.time_features
        ey = self.embed_blocks("O", None, None, memory)  # (B, M, n): U_O Φy(m_i), once for all hops
        found = memory.new_zeros(B, F)  # words of the memories found so far
        t_x = torch.full((B,), M, device=memory.device)  # the question is newer than every memory
        rows = torch.arange(B, device=memory.device)
        stop, done = M - 1, torch.zeros(B, dtype=torch.bool, device=memory.device)
        chosen, scores, versus = [], [], []
        for _ in range(self.hops):
            ux = self.embed_blocks("O", q, found)  # (B, n): U_O Φx(x)
            c = (ey * ux.unsqueeze(1)).sum(-1)  # (B, M): s_O(x, m_i)
            if t:
                # s_Ot is linear in its last factor: s_Ot(x, m_i, m_j) = c_i - c_j + a · Φt(x, m_i, m_j)
                a = self.time_weights(ux)  # (B, 3): weight of each time bit
                o = self.winner(c, a, mask, t_x)
            else:
                o = c.masked_fill(~mask, float("-inf")).argmax(-1)  # (B,)
            if self.adaptive:
                o = torch.where(done, stop, o)
                found = found + memory[rows, o] * (o != stop).unsqueeze(1)
                done = done | (o == stop)
            else:
                found = found + memory[rows, o]
            if t:
                versus.append(self.margins(c, a, mask, t_x, o))
            chosen.append(o)
            scores.append(c.masked_fill(~mask, float("-inf")))
            t_x = o
        return (torch.stack(chosen, 1), torch.stack(scores, 1),
                torch.stack(versus, 1) if t else None)

    @staticmethod
    def winner(c: torch.Tensor, a: torch.Tensor, mask: torch.Tensor, t_x: torch.Tensor) -> torch.Tensor:
        """The argmax of §3.4 as a loop: from the newest memory back, an older m_i replaces the winner if s_Ot > 0.

        c (B, M): content scores s_O(x, m_i); a (B, 3): weights of the time bits; t_x (B,): time of x.
        The loop visits every slot; here it jumps from one winner to the next: the newest older slot
        that beats the winner (s_Ot(x, m_i, m_best) > 0) is the one the loop would replace it with.
        """
        B, M = c.shape
        rows = torch.arange(B, device=c.device)
        slots = torch.arange(M, device=c.device).expand(B, M)
        best = torch.where(mask, slots, -1).max(1).values  # (B,) newest written slot
        # s_Ot(x, m_i, m_best) for i older than best = c_i + a1 [x older than i] - c_best + a2 [x older than best] + a3
        challenger = c + a[:, :1] * (t_x.unsqueeze(1) < slots).float() + a[:, 2:3]  # (B, M)
        while True:
            incumbent = c[rows, best] - a[:, 1] * (t_x < best).float()  # (B,)
            beats = mask & (slots < best.unsqueeze(1)) & (challenger > incumbent.unsqueeze(1))
            if not beats.any():
                return best
            newest = torch.where(beats, slots, -1).max(1).values
            best = torch.where(newest >= 0, newest, best)

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

    def R(self, q: torch.Tensor, found: torch.Tensor, said: torch.Tensor | None = None,
          newest: torch.Tensor | None = None) -> torch.Tensor:
        """R: s_R(q + m_o1 + …, w) for every word w → (B, V).

        Single words: nil gets -inf. Lists (``answer_words`` > 1): `said` (B, V) holds the words
        answered so far in a 4th block of Φx, and nil is the STOP word w_∅ (bAbI §5).
        """
        fx = self.phi_x(q, found)  # (B, 3F)
        words = torch.eye(self.V, self.F, device=q.device)  # each word as a one-word answer
        fw = self.phi_y(words)  # (V, 3F)
        if self.recency:  # the newest fact found, again in a block of its own
            newest = newest if newest is not None else q.new_zeros(q.shape[0], self.F)
            fx, fw = torch.cat([fx, newest], -1), torch.cat([fw, fw.new_zeros(self.V, self.F)], -1)
        if self.answer_words > 1:
            said = said if said is not None else q.new_zeros(q.shape[0], self.V)
            fx, fw = torch.cat([fx, said], -1), torch.cat([fw, fw.new_zeros(self.V, self.V)], -1)
        scores = self.embed("R", fx) @ self.embed("R", fw).T  # (B, V)
        if self.answer_words == 1:
            scores[:, 0] = float("-inf")
        return scores

    def features(self, memories: torch.Tensor, queries: torch.Tensor):
        """I on a batch: query and memory features and the mask of written slots.

        Adaptive: the STOP memory m_∅ is appended as slot M (its one feature is nil's, which I
        drops from every sentence), newer than every memory and older than the question.
        """
        if memories.dim() != 3 or queries.dim() != 2 or memories.shape[0] != queries.shape[0]:
            raise ValueError(f"expected memories (B, M, L) and queries (B, L), got {tuple(memories.shape)} "
                             f"and {tuple(queries.shape)}")
        if int(memories.max()) >= self.V or int(queries.max()) >= self.V:
            raise ValueError(f"word ids must be < vocab_size={self.V}")
        mask = memories.ne(0).any(-1)  # (B, M) slots written by G
        if not mask.any(1).all():
            raise ValueError("every sample needs at least one memory")
        q, memory = I(queries, self.V, self.pairs), I(memories, self.V, self.pairs)
        if self.adaptive:
            stop = memory.new_zeros(memory.shape[0], 1, self.F)
            stop[..., 0] = 1.0
            memory, mask = torch.cat([memory, stop], 1), torch.cat([mask, mask.new_ones(mask.shape[0], 1)], 1)
        return q, memory, mask

    def forward(self, memories: torch.Tensor, queries: torch.Tensor):
        """memories (B, M, L), queries (B, L) word ids → answer scores (B, V), `MemNNTrace`."""
        q, memory, mask = self.features(memories, queries)
        chosen, scores, versus = self.O(q, memory, mask)
        found = memory.gather(1, chosen.unsqueeze(-1).expand(-1, -1, self.F)).sum(1)  # (B, F)
        if self.adaptive:
            found[:, 0] = 0.0  # the STOP memory adds nothing
        newest = self.newest(memory, chosen) if self.recency else None
        if self.answer_words == 1:
            answer_scores = self.R(q, found, newest=newest)
            return answer_scores, MemNNTrace(scores, chosen, versus, answer_scores, answer_scores.argmax(-1))
        said = q.new_zeros(q.shape[0], self.V)
        done = torch.zeros(q.shape[0], dtype=torch.bool, device=q.device)
        steps, words = [], []
        for _ in range(self.answer_words):  # r_j = argmax_w s_R([x, m_o1, …, r_1 … r_j-1], w) until STOP
            step = self.R(q, found, said, newest)
            w = step.argmax(-1).masked_fill(done, 0)
            said = said + one_hot_words(w, self.V)
            done = done | (w == 0)
            steps.append(step)
            words.append(w)
        answer_scores = torch.stack(steps, 1)
        return answer_scores[:, 0], MemNNTrace(scores, chosen, versus, answer_scores, torch.stack(words, 1))

    # --- training ----------------------------------------------------------------------
    def loss_terms(self, memories, queries, supports, answers, negatives: int | None = None,
                   generator: torch.Generator | None = None) -> dict:
        """The hinge terms of the lecture (§3.1 eqs. 6–8), summed over the batch: ``{"O1": …, "O2": …, "R": …}``.

        Hop h sees the true supporting facts of the earlier hops (strong supervision).
        negatives: how many f̄ (and r̄) to sample per term; None sums over all of them.
        Adaptive: after the facts, the target is the STOP memory; hops after it have no term.
        Lists: answers (B, A), the words then STOP (0); step j of R sees the true words before it.
        """
        q, memory, mask = self.features(memories, queries)
        B, M, F = memory.shape
        stop = M - 1 if self.adaptive else None
        targets = hop_targets(supports, self.hops, stop)  # (B, k)
        ok = (targets >= 0).all(1) & (targets < M).all(1)  # samples whose facts are all in memory
        t = self.time_features
        ey = self.embed_blocks("O", None, None, memory)  # (B, M, n): U_O Φy(m_i)
        rows = torch.arange(B, device=memory.device)
        slots = torch.arange(M, device=memory.device).expand(B, M)
        found = memory.new_zeros(B, F)
        t_x = torch.full((B,), M, device=memory.device)
        live = ok.clone()  # adaptive: samples that have not reached STOP yet
        terms = {}
        for h in range(self.hops):
            o = targets[:, h].clamp(min=0)
            neg, valid = sample_negatives(mask & (slots != o.unsqueeze(1)), negatives, generator)  # (B, n)
            valid = valid & live.unsqueeze(1)
            ux = self.embed_blocks("O", q, found).unsqueeze(1)  # (B, 1, n)
            c_pos = (ux * ey[rows, o].unsqueeze(1)).sum(-1)  # (B, 1)
            c_neg = (ux * ey[rows.unsqueeze(1), neg]).sum(-1)  # (B, n)
            if t:  # the pair in the loop's order, y the older one: s_Ot(x, o, f̄) > γ or s_Ot(x, f̄, o) < −γ
                a = self.time_weights(ux)  # (B, 1, 3)
                t_o, t_x_ = o.unsqueeze(1).expand_as(neg), t_x.unsqueeze(1).expand_as(neg)
                o_older = c_pos - c_neg + (a * time_bits(t_x_, t_o, neg)).sum(-1)  # s_Ot(x, o, f̄)
                f_older = c_neg - c_pos + (a * time_bits(t_x_, neg, t_o)).sum(-1)  # s_Ot(x, f̄, o)
                term = torch.where(neg < t_o, hinge(0.0, f_older, self.margin), hinge(o_older, 0.0, self.margin))
            else:
                term = hinge(c_pos, c_neg, self.margin)
            terms[f"O{h + 1}"] = (term * valid).sum()
            if self.adaptive:
                live = live & (o != stop)
                found = found + memory[rows, o] * (o != stop).unsqueeze(1)
            else:
                found = found + memory[rows, o]
            t_x = o
        newest = self.newest(memory, targets.clamp(min=0)) if self.recency else None
        terms["R"] = self.answer_loss(q, found, answers, ok, negatives, generator, newest)
        return terms

    def newest(self, memory: torch.Tensor, slots: torch.Tensor) -> torch.Tensor:
        """Features (B, F) of the newest memory among `slots` (B, k), the STOP memory left out (zeros if none)."""
        B, M, _ = memory.shape
        real = slots if not self.adaptive else torch.where(slots == M - 1, -1, slots)
        last = real.max(1).values  # (B,)
        rows = torch.arange(B, device=memory.device)
        return memory[rows, last.clamp(min=0)] * (last >= 0).unsqueeze(1)

    def answer_loss(self, q, found, answers, ok, negatives, generator, newest=None) -> torch.Tensor:
        """R's hinge term: the true answer word above sampled wrong words r̄ (lists: at every step, STOP last)."""
        B = q.shape[0]
        rows = torch.arange(B, device=q.device)
        steps = answers.unsqueeze(1) if answers.dim() == 1 else answers  # (B, A)
        said = q.new_zeros(B, self.V)
        live = ok.clone()
        total = q.new_zeros(())
        for j in range(steps.shape[1]):
            target = steps[:, j].clamp(min=0)
            words = torch.ones(B, self.V, dtype=torch.bool, device=q.device)
            words[:, 0] = self.answer_words > 1  # nil is the STOP word of lists, never a single answer
            words[rows, target] = False
            neg, valid = sample_negatives(words, negatives, generator)
            scores = self.R(q, found, said, newest)  # (B, V)
            pos = scores.gather(1, target.unsqueeze(1))  # (B, 1)
            total = total + (hinge(pos, scores.gather(1, neg), self.margin) * (valid & live.unsqueeze(1))).sum()
            said = said + one_hot_words(target, self.V)
            live = live & (target != 0)
        return total

    def loss(self, memories, queries, supports, answers, negatives=None, generator=None) -> torch.Tensor:
        """The sum of the hinge terms (the lecture's training objective)."""
        return sum(self.loss_terms(memories, queries, supports, answers, negatives, generator).values())


def time_bits(t_x: torch.Tensor, t_y: torch.Tensor, t_y2: torch.Tensor) -> torch.Tensor:
    """The three bits of Φt (§3.4): x older than y, x older than y', y older than y' → (..., 3)."""
    return torch.stack([t_x < t_y, t_x < t_y2, t_y < t_y2], -1).float()


def one_hot_words(words: torch.Tensor, V: int) -> torch.Tensor:
    """One-hot rows (B, V) of word ids (B,), nil (0) left out."""
    out = torch.nn.functional.one_hot(words, V).float()
    out[:, 0] = 0.0
    return out


def hop_targets(supports: torch.Tensor, hops: int, stop: int | None = None) -> torch.Tensor:
    """The true slot for each hop (B, k): the supporting facts in order, the last one repeated; -1 = none.

    With `stop` (adaptive memory), the hops after the facts target the STOP slot instead.
    """
    B, S = supports.shape
    out = torch.full((B, hops), -1, dtype=torch.long, device=supports.device)
    for h in range(hops):
        out[:, h] = supports[:, h] if h < S else -1
        if h > 0:
            after = out[:, h] < 0  # no fact left for this hop
            out[:, h] = torch.where(after, out[:, h - 1] if stop is None else
                                    torch.where(out[:, h - 1] < 0, -1, stop), out[:, h])
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
