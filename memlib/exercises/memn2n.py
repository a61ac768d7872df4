"""Exercise references for 02_end_to_end_memory_networks.

* ``memn2n-hop``             ``hop(u, m, c)`` for u (d,), m, c (n, d) → (p (n,), o (d,), u_next (d,)):
  p = softmax(m u), o = Σ_i p_i c_i, u_next = u + o
* ``memn2n-pe``              ``pe_paper(J, d)`` → (J, d): the paper's position encoding
* ``memn2n-first-hop-hits``  ``first_hop_hits(explanations)``: the fraction of explanations
  (``.attention`` (K, n) per hop over the sentences, ``.support`` the true slots, as in
  `memlib.viz.memn2n.Explanation`) whose hop-1 argmax is a true supporting fact
* ``memn2n-linear-start``    the bAbI task on which linear start matters most (a task number)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from memlib.babi.encode import position_encoding
from memlib.exercises import register


def _gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def hop(u: torch.Tensor, m: torch.Tensor, c: torch.Tensor):
    """One hop: attention p over the memories, the read o, the next controller state u + o."""
    p = torch.softmax(m @ u, dim=0)  # (n,)
    o = p @ c  # (d,)
    return p, o, u + o


register(
    "memn2n-hop",
    function=hop,
    inputs=lambda seed: (torch.randn(6, generator=_gen(seed)), torch.randn(5, 6, generator=_gen(seed + 10)),
                         torch.randn(5, 6, generator=_gen(seed + 20))),
    wrong=lambda u, m, c: (torch.softmax(m @ u, 0), torch.softmax(m @ u, 0) @ m, u + torch.softmax(m @ u, 0) @ m),
    hint="attention comes from the input memories m (p = softmax(m u)); the read comes from the output memories c",
)

register(
    "memn2n-pe",
    function=lambda J, d: position_encoding(J, d, "paper"),
    inputs=[(7, 20), (3, 4), (1, 5)],
    wrong=lambda J, d: position_encoding(J, d, "matlab"),  # the authors' code, not the paper's formula
    hint="l_kj = (1 − j/J) − (k/d)(1 − 2j/J) with j = 1..J (rows) and k = 1..d (columns), both from 1",
)


@dataclass
class HopAttention:
    """What the exercise reads of an explanation: per-hop attention and the true supporting slots."""

    attention: np.ndarray  # (K, n) attention of each hop over the n sentences
    support: list  # slots of the true supporting facts


def _explanations(seed: int):
    g = np.random.default_rng(seed)
    out = []
    for _ in range(20):
        n = int(g.integers(3, 8))
        attention = g.dirichlet(np.ones(n), size=3)  # (K=3 hops, n sentences)
        support = sorted(g.choice(n, size=int(g.integers(1, 3)), replace=False).tolist())
        out.append(HopAttention(attention, support))
    return (out,)


def first_hop_hits(explanations) -> float:
    """Fraction of explanations whose hop-1 attention peaks on a true supporting fact."""
    return sum(int(e.attention[0].argmax()) in e.support for e in explanations) / len(explanations)


register(
    "memn2n-first-hop-hits",
    function=first_hop_hits,
    inputs=_explanations,
    wrong=lambda exps: sum(int(e.attention[-1].argmax()) in e.support for e in exps) / len(exps),  # last hop
    hint="e.attention[0] is hop 1's attention over the sentences; e.support lists the supporting slots",
)

register(
    "memn2n-linear-start",
    value=16,
    wrong=1,
    hint="compare the PE and PE+LS columns of the paper's table: where does linear start change the error most?",
)
