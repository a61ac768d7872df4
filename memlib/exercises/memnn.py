"""Exercise references for 01_memory_networks.

* ``memnn-score``   ``my_s(U, x, y)``: s(x, y) = xᵀ Uᵀ U y for feature vectors x, y (D,), U (n, D)
* ``memnn-hop``     ``my_hop(model, q, memory, found)`` → (scores (M,), argmax): one O hop of a
  `MemNN` without time features; q, found (V,) and memory (M, V) bags of words
* ``memnn-r-term``  ``my_r_term(model, q, found, answer)``: the full-sum hinge term of R for one question,
  Σ_{w ≠ answer, w ≠ nil} max(0, γ − s_R(x, answer) + s_R(x, w)) with x = q + found
* ``memnn-dropped-milk``  where the milk is after "John takes the milk, goes to the kitchen, drops the
  milk, and goes to the garden" (a word)
"""

from __future__ import annotations

import torch

from memlib.exercises import register
from memlib.models.memnn import MemNN


def _gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


register(
    "memnn-score",
    function=MemNN.s,
    inputs=lambda seed: (torch.randn(4, 9, generator=_gen(seed)), torch.randn(9, generator=_gen(seed + 10)),
                         torch.randn(9, generator=_gen(seed + 20))),
    wrong=lambda U, x, y: x @ y,  # forgets the embedding U
    hint="embed both sides first: (U x) · (U y)",
)

V, SLOTS = 10, 4


def _model(seed: int) -> MemNN:
    torch.manual_seed(seed)
    return MemNN(V, dim=8, hops=2, time_features=False)


def _bag(g: torch.Generator, *shape) -> torch.Tensor:
    bag = (torch.rand(*shape, V, generator=g) < 0.3).float()
    bag[..., 0] = 0  # never the nil word
    return bag


def _hop_inputs(seed: int):
    g = _gen(seed + 100)
    return (_model(seed), _bag(g), _bag(g, SLOTS), _bag(g) * (seed > 0))


def my_hop(model: MemNN, q, memory, found):
    """s_O(q + found, m_i) for every memory, and the argmax."""
    x = model.phi_x(q, found)  # (3V,)
    scores = MemNN.s(model.U_O, x, model.phi_y(memory))  # (M,)
    return scores, int(scores.argmax())


register(
    "memnn-hop",
    function=my_hop,
    inputs=_hop_inputs,
    wrong=lambda model, q, memory, found: my_hop(model, q, memory, torch.zeros_like(found)),  # ignores what was found
    hint="x = model.phi_x(q, found) already places q and the found memories in their blocks; "
         "score each memory with MemNN.s(model.U_O, x, model.phi_y(m)); return (scores, int(argmax))",
)


def my_r_term(model: MemNN, q, found, answer: int):
    """The R hinge summed over every wrong word (nil excluded)."""
    x = model.phi_x(q, found)
    word = lambda w: model.phi_y(torch.eye(model.V)[w])  # noqa: E731 - a one-word answer's features
    positive = MemNN.s(model.U_R, x, word(answer))
    return sum(torch.clamp(model.margin - positive + MemNN.s(model.U_R, x, word(w)), min=0)
               for w in range(1, model.V) if w != answer)


def _r_inputs(seed: int):
    model, q, memory, _ = _hop_inputs(seed)
    return (model, q, memory[0] + memory[1], 1 + seed)


register(
    "memnn-r-term",
    function=my_r_term,
    inputs=_r_inputs,
    wrong=lambda model, q, found, answer: sum(  # includes the right answer itself: adds γ
        torch.clamp(model.margin - MemNN.s(model.U_R, model.phi_x(q, found), model.phi_y(torch.eye(model.V)[answer]))
                    + MemNN.s(model.U_R, model.phi_x(q, found), model.phi_y(torch.eye(model.V)[w])), min=0)
        for w in range(1, model.V)),
    hint="sum over the wrong words only: w ≠ answer and w ≠ 0 (nil)",
)

register(
    "memnn-dropped-milk",
    value="kitchen",
    wrong="garden",
    hint="the milk stays where John dropped it; his later move does not take it along",
)
