"""Exercise references for 03_neural_turing_machines.

The learner's functions take the same arguments and shapes as `memlib.models.addressing`
(``w`` (B, H, N), ``s`` (B, H, 3) over the shifts −1, 0, +1, ``gamma``/``beta`` (B, H),
``k`` (B, H, W), ``M`` (B, N, W)), so the references are memlib's own functions:

* ``ntm-shift``     ``my_shift(w_g, s)``            Eq. 8, circular convolution
* ``ntm-sharpen``   ``my_sharpen(w, gamma)``        Eq. 9
* ``ntm-content``   ``my_content(k, beta, M)``      Eqs. 5–6, softmax of β × cosine similarity
* ``ntm-write``     ``my_write(M, w, e, a)``        Eqs. 3–4, erase then add
* ``ntm-hard-attention``  ``argmax_limit(k, M)`` for k (W,), M (N, W): the one-hot limit of
  content addressing as β grows (the argmax of Memory Networks)
* ``ntm-wraparound``  the shortest copy length at which the shipped copy model must overwrite the
  start of its own sequence (a number)
"""

from __future__ import annotations

import torch

from memlib.exercises import register
from memlib.models import addressing as A


def _gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def _weighting(seed: int, shape=(2, 1, 7)) -> torch.Tensor:
    w = torch.rand(*shape, generator=_gen(seed)) + 0.05
    return w / w.sum(-1, keepdim=True)  # (B, H, N) distributions over the slots


def _shift_wrong_way(w_g, s):
    return sum(s[..., k + 1 : k + 2] * torch.roll(w_g, -k, dims=-1) for k in (-1, 0, 1))


register(
    "ntm-shift",
    function=A.shift,
    # seed 0 is the one-hot at the last slot shifted by +1: direction and wrap-around at once
    inputs=lambda seed: (torch.eye(7)[6].reshape(1, 1, 7), torch.tensor([[[0.0, 0.0, 1.0]]])) if seed == 0
    else (_weighting(seed), torch.softmax(torch.randn(2, 1, 3, generator=_gen(seed + 10)), -1)),
    wrong=_shift_wrong_way,
    hint="w̃(i) = Σ_j w^g(j) s(i − j), indices mod N: s(+1) = 1 moves the weight of slot j to slot j+1, "
         "and slot N−1 to slot 0 (torch.roll(w, 1)[i] = w[i − 1])",
)

register(
    "ntm-sharpen",
    function=A.sharpen,
    inputs=lambda seed: (_weighting(seed), torch.full((2, 1), float(1 + seed))),
    wrong=lambda w, gamma: w ** gamma.unsqueeze(-1),  # forgets to renormalise
    hint="w(i) = w̃(i)^γ / Σ_j w̃(j)^γ: raise to the power γ, then divide by the sum over the slots",
)

register(
    "ntm-content",
    function=A.content,
    inputs=lambda seed: (torch.randn(2, 1, 4, generator=_gen(seed)), torch.full((2, 1), 2.0 + 3 * seed),
                         torch.randn(2, 6, 4, generator=_gen(seed + 10))),
    wrong=lambda k, beta, M: torch.softmax(beta.unsqueeze(-1) * torch.einsum("bhm,bnm->bhn", k, M), -1),
    hint="the cosine similarity k·M(i) / (‖k‖ ‖M(i)‖), not the dot product; times β; softmax over the slots",
)

register(
    "ntm-write",
    function=A.write,
    inputs=lambda seed: (torch.randn(2, 5, 3, generator=_gen(seed)), _weighting(seed, (2, 1, 5)),
                         torch.rand(2, 1, 3, generator=_gen(seed + 1)), torch.randn(2, 1, 3, generator=_gen(seed + 2))),
    wrong=lambda M, w, e, a: (M + w[:, 0, :, None] * a) * (1 - w[:, 0, :, None] * e),  # adds before erasing
    hint="first erase, M̃(i) = M(i) ⊙ (1 − w(i) e), then add, M'(i) = M̃(i) + w(i) a",
)


def _hard_attention(k: torch.Tensor, M: torch.Tensor) -> torch.Tensor:
    """One-hot on the slot most similar to k (cosine): content addressing as β → ∞."""
    K = A.cosine_similarity(k[None, None], M[None])[0, 0]  # (N,)
    return torch.nn.functional.one_hot(K.argmax(), M.shape[0]).float()


_HARD_INPUTS = [
    (torch.tensor([1.0, 1.0, 0.0]), torch.tensor([[1.0, 0, 0], [0, 1, 0], [0, 0, 1], [1, 1, 0], [0, 1, 1]])),
    (torch.tensor([0.0, 0.2, 1.0]), torch.tensor([[1.0, 0, 0], [0, 1, 0], [0, 0, 1], [1, 1, 0], [0, 1, 1]])),
    (torch.tensor([-1.0, 0.5, 0.0]), torch.tensor([[1.0, 0, 0], [-2, 0, 0.1], [0, 0, 1], [1, 1, 0]])),
]

register(
    "ntm-hard-attention",
    function=_hard_attention,
    inputs=_HARD_INPUTS,
    atol=1e-3,  # a large finite β is close enough to the limit
    wrong=lambda k, M: A.content(k[None, None], torch.tensor([[1.0]]), M[None])[0, 0],  # β = 1: no limit
    hint="content addressing with a very large β (say 1000): A.content(k[None, None], torch.tensor([[beta]]), M[None])[0, 0]",
)


def _wraparound() -> int:
    from memlib import checkpoints

    model, _ = checkpoints.load_model("ntm_copy")
    return model.N + 1  # N slots hold N input vectors; the (N+1)-th write lands on the first one


register(
    "ntm-wraparound",
    value=_wraparound,
    wrong=128,
    hint="the write head moves one slot per input step and the memory has model.N slots",
)
