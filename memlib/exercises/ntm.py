"""Exercise references for 03_neural_turing_machines.

The learner's functions take the same arguments and shapes as `memlib.models.addressing`
(``w`` (B, H, N), ``s`` (B, H, 3) over the shifts −1, 0, +1, ``gamma``/``beta`` (B, H),
``k`` (B, H, W), ``M`` (B, N, W)), so the references are memlib's own functions:

* ``ntm-shift``     ``my_shift(w_g, s)``            Eq. 8, circular convolution
* ``ntm-sharpen``   ``my_sharpen(w, gamma)``        Eq. 9
* ``ntm-content``   ``my_content(k, beta, M)``      Eqs. 5–6, softmax of β × cosine similarity
* ``ntm-write``     ``my_write(M, w, e, a)``        Eqs. 3–4, erase then add
* ``ntm-target``    ``dict(beta=, g=, shift=, gamma=)``: head parameters that move the weighting of
  the notebook's 5-slot memory onto slot 4 (at least 0.95) with a weak key (β ≤ 5): content, then
  shift, then sharpening (Graves et al. 2014, §3.3.2, "content then shift")
* ``ntm-no-sharpening``  ``without_sharpening(trace, head, steps)``: replay one head's addressing of
  a trace with γ = 1 (Graves et al. 2014, §4.1: without sharpening the weightings lose precision)
* ``ntm-breaking-length``  the shortest length in 100, 105, …, 140 at which at least a quarter of
  32 held-out copy sequences come out wrong for the shipped copy model (a number)
* ``ntm-unread-writes``  ``unread_write_mass(trace, L)``: how much write weight lands, from the
  delimiter on, on slots whose vector has not been read back yet (why copy fails before N)
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


# ------------------------------------------------------------------ ntm-target

_M5 = torch.tensor([[1.0, 0, 0], [0, 1, 0], [0, 0, 1], [1, 1, 0], [0, 1, 1]])  # the notebook's memory
_KEY = torch.tensor([1.0, 1.0, 0.0])
_W_PREV = torch.tensor([0.0, 0.0, 1.0, 0.0, 0.0])
TARGET_SLOT, TARGET_WEIGHT, MAX_BETA = 4, 0.95, 5.0


def target_weighting(params: dict) -> torch.Tensor:
    """The final weighting (5,) of the notebook's memory, key and previous weighting under `params`
    (beta, g, gamma and a shift in [−1, 1]: 0.3 puts 0.3 on +1 and 0.7 on 0)."""
    from memlib.viz.ntm import addressing_stages

    return addressing_stages(_M5, _KEY, _W_PREV, params["beta"], params["g"], float(params["shift"]),
                             params["gamma"])[-1]


def _judge_target(params) -> list[str]:
    if not isinstance(params, dict) or set(params) != {"beta", "g", "shift", "gamma"}:
        return ["give a dict with exactly the keys beta, g, shift, gamma"]
    ranges = {"beta": (0.0, MAX_BETA), "g": (0.0, 1.0), "shift": (-1.0, 1.0), "gamma": (1.0, 50.0)}
    bad = [f"{k} = {params[k]} is outside [{lo}, {hi}]" for k, (lo, hi) in ranges.items()
           if not lo <= float(params[k]) <= hi]
    if bad:
        return bad
    w = target_weighting(params)
    if w[TARGET_SLOT] < TARGET_WEIGHT:
        return [f"slot {TARGET_SLOT} gets {w[TARGET_SLOT]:.3f} (the weighting is "
                f"{[round(v, 2) for v in w.tolist()]}); it needs at least {TARGET_WEIGHT}"]
    return []


register(
    "ntm-target",
    judge=_judge_target,
    wrong=dict(beta=5.0, g=1.0, shift=1.0, gamma=1.0),  # the right place, but not sharp enough
    hint="slot 4 is one step past slot 3, the slot that matches the key: find it by content, then "
         "shift by +1; a weak key leaves weight on other slots, which one more stage can remove",
)


# ------------------------------------------------------------------ ntm-no-sharpening

def replay(trace, head: int = 1, steps: int = 20, gamma=None) -> torch.Tensor:
    """Head `head`'s weightings (steps, N) of sequence 0, re-addressed from the traced step-0
    weighting with the trace's k, β, g, s and memory, and γ from the trace (None) or `gamma`."""
    w, out = trace.w[:1, 0, head:head + 1], [trace.w[0, 0, head]]
    for t in range(1, steps):
        p = {n: getattr(trace, n)[:1, t, head:head + 1] for n in ("k", "beta", "g", "s", "gamma")}
        gam = p["gamma"] if gamma is None else torch.full_like(p["gamma"], float(gamma))
        w = A.address(p["k"], p["beta"], p["g"], p["s"], gam, trace.memory[:1, t], w)
        out.append(w[0, 0])
    return torch.stack(out)


def _small_trace(seed: int, length: int = 5):
    """A trace of a small seeded (untrained) NTM on copy sequences: cheap inputs for the checks."""
    from memlib import algorithmic as alg
    from memlib.models.ntm import NTM

    torch.manual_seed(seed)
    model = NTM(9, 8, controller_size=16, N=12, M=5)
    batch = alg.copy(3, seed=seed, length=length)
    with torch.no_grad():
        return model(batch.x, trace=True)[1]


register(
    "ntm-no-sharpening",
    function=lambda trace, head, steps: replay(trace, head, steps, gamma=1.0),
    inputs=lambda seed: (_small_trace(seed), 1, 8),
    wrong=lambda trace, head, steps: replay(trace, head, steps),  # keeps the trace's γ
    hint="start from trace.w[:1, 0, head:head+1]; at each step t ≥ 1 call A.address with the trace's "
         "k, beta, g, s at step t, gamma = 1 and trace.memory[:1, t]; stack the weightings (steps, N)",
)


# ------------------------------------------------------------------ ntm-breaking-length

BREAK_LENGTHS = range(100, 141, 5)


def _breaking_length() -> int:
    from memlib import checkpoints
    from memlib.recipes.ntm import evaluate

    model, _ = checkpoints.load_model("ntm_copy")
    return next(L for L in BREAK_LENGTHS if evaluate(model, "copy", n=32, length=L)["perfect"] <= 0.75)


register(
    "ntm-breaking-length",
    value=_breaking_length,
    wrong=129,  # N + 1: the first length at which the input alone no longer fits
    hint="loop over the lengths 100, 105, …, 140 and stop at the first whose evaluate(…)['perfect'] is "
         "0.75 or less",
)


# ------------------------------------------------------------------ ntm-unread-writes

def unread_write_mass(trace, L: int) -> torch.Tensor:
    """(B,) the write weight that lands, at steps L (the delimiter) to 2L − 1, on slots whose input
    vector has not been read back yet.

    Input j is written at step j to slot argmax w^w_j and read back at step L+1+j from the memory
    before that step, so a write at step L+j spoils inputs j, …, L−1 (whatever part of its weight
    falls on their slots)."""
    ww = trace.write_w[:, :, 0]  # (B, T, N)
    slot_of = ww[:, :L].argmax(-1)  # (B, L): where input j went
    total = torch.zeros(ww.shape[0])
    for j in range(L):
        unread = torch.zeros_like(ww[:, 0]).scatter_(1, slot_of[:, j:], 1.0)  # (B, N)
        total += (ww[:, L + j] * unread).sum(-1)
    return total


register(
    "ntm-unread-writes",
    function=unread_write_mass,
    inputs=lambda seed: (_small_trace(seed), 5),
    wrong=lambda trace, L: sum(trace.write_w[:, L + j, 0].sum(-1) for j in range(L)),  # every write counts
    hint="slot_of = trace.write_w[:, :L, 0].argmax(-1); at step L+j the slots still to be read are "
         "slot_of[:, j:]; sum the write weighting over them, for j = 0 … L−1",
)
