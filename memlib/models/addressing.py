"""NTM addressing as pure, batched functions (Graves et al. 2014, §3.1–3.3).

One function per stage of the lecture's pipeline, content → interpolation → shift → sharpening,
plus read and erase-then-add write. Shapes: ``B`` batch, ``H`` heads, ``N`` memory slots,
``M`` slot width, ``K = 2R+1`` allowed shifts ``-R..R``. Every weighting ``w`` has shape
``(B, H, N)`` and is a distribution over the N slots (Eq. 1): the last axis sums to one.

No function here holds parameters; each one is a few lines, so it can be put next to the slide.
"""

from __future__ import annotations

from functools import lru_cache

import torch
import torch.nn.functional as F

EPS = 1e-8  # added to squared norms (cosine) and to weightings before the log (sharpening)


def _check(name: str, x: torch.Tensor, ndim: int, expected: str) -> None:
    if not isinstance(x, torch.Tensor) or x.dim() != ndim:
        shape = tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__
        raise ValueError(f"{name} must have shape {expected}, got {shape}")


def cosine_similarity(k: torch.Tensor, M: torch.Tensor, eps: float = EPS) -> torch.Tensor:
    """K[k, M(i)] = k·M(i) / (‖k‖ ‖M(i)‖), Eq. 6; a zero vector has similarity 0, not NaN.

    k: (B, H, M) keys, M: (B, N, M) memory → (B, H, N). The norms are ``sqrt(‖x‖² + eps)``,
    which is exact for ordinary vectors and keeps value and gradient finite at zero.
    """
    _check("k", k, 3, "(batch, heads, width)")
    _check("M", M, 3, "(batch, slots, width)")
    dot = torch.einsum("bhm,bnm->bhn", k, M)  # (B, H, N)
    k_norm = (k.pow(2).sum(-1) + eps).sqrt()  # (B, H)
    M_norm = (M.pow(2).sum(-1) + eps).sqrt()  # (B, N)
    return dot / (k_norm.unsqueeze(-1) * M_norm.unsqueeze(1))


def content(k: torch.Tensor, beta: torch.Tensor, M: torch.Tensor) -> torch.Tensor:
    """w^c(i) = exp(β K[k, M(i)]) / Σ_j exp(β K[k, M(j)]), Eq. 5: softmax over the N slots.

    k: (B, H, M), beta: (B, H) with β > 0, M: (B, N, M) → w^c: (B, H, N).
    """
    _check("beta", beta, 2, "(batch, heads)")
    K = cosine_similarity(k, M)  # (B, H, N)
    return F.softmax(beta.unsqueeze(-1) * K, dim=-1)  # over slots, never over batch or heads


def interpolate(w_c: torch.Tensor, w_prev: torch.Tensor, g: torch.Tensor) -> torch.Tensor:
    """w^g = g w^c + (1 − g) w_{t−1}, Eq. 7: g=1 uses the content weighting, g=0 the previous one.

    w_c, w_prev: (B, H, N), g: (B, H) in (0, 1) → (B, H, N).
    """
    _check("w_c", w_c, 3, "(batch, heads, slots)")
    _check("w_prev", w_prev, 3, "(batch, heads, slots)")
    _check("g", g, 2, "(batch, heads)")
    g = g.unsqueeze(-1)  # (B, H, 1)
    return g * w_c + (1 - g) * w_prev


@lru_cache(maxsize=32)  # built once per (N, R, device), not at every time step
def shift_index(N: int, R: int, device=None) -> torch.Tensor:
    """idx[k, i] = (i − (k − R)) mod N: slot that shift ``k − R`` moves into slot i (wrap-around)."""
    i = torch.arange(N, device=device)
    shifts = torch.arange(-R, R + 1, device=device)
    return (i.unsqueeze(0) - shifts.unsqueeze(1)) % N  # (K, N)


def shift(w_g: torch.Tensor, s: torch.Tensor) -> torch.Tensor:
    """w̃(i) = Σ_j w^g(j) s(i − j), Eq. 8, indices mod N: s(+1)=1 moves the focus from slot j to j+1.

    w_g: (B, H, N); s: (B, H, K) a distribution over the shifts −R..R (s[..., R] is "stay")
    → (B, H, N). Written as Σ_k s(k) w^g(i − k), one gather, no Python loop over the batch.
    """
    _check("w_g", w_g, 3, "(batch, heads, slots)")
    _check("s", s, 3, "(batch, heads, 2R+1 shifts)")
    N, K = w_g.shape[-1], s.shape[-1]
    if K % 2 == 0 or K > N:
        raise ValueError(f"s must have an odd number 2R+1 <= N={N} of shifts, got {K}")
    rolled = w_g[..., shift_index(N, K // 2, w_g.device)]  # (B, H, K, N): w^g(i − k)
    return (s.unsqueeze(-1) * rolled).sum(-2)


def sharpen(w_tilde: torch.Tensor, gamma: torch.Tensor, eps: float = EPS) -> torch.Tensor:
    """w(i) = w̃(i)^γ / Σ_j w̃(j)^γ, Eq. 9, with γ ≥ 1.

    w_tilde: (B, H, N), gamma: (B, H) → (B, H, N). Computed as softmax(γ log(w̃ + eps)), the same
    value but without underflow for large γ; an all-zero w̃ gives the uniform weighting, not 0/0.
    """
    _check("w_tilde", w_tilde, 3, "(batch, heads, slots)")
    _check("gamma", gamma, 2, "(batch, heads)")
    return F.softmax(gamma.unsqueeze(-1) * torch.log(w_tilde.clamp_min(0) + eps), dim=-1)


def address(k, beta, g, s, gamma, M, w_prev, stages: bool = False):
    """The whole pipeline: w = sharpen(shift(interpolate(content(k, β, M), w_{t−1}, g), s), γ).

    Returns w (B, H, N), or with ``stages=True`` the tuple (w_c, w_g, w_tilde, w).
    """
    w_c = content(k, beta, M)
    w_g = interpolate(w_c, w_prev, g)
    w_tilde = shift(w_g, s)
    w = sharpen(w_tilde, gamma)
    return (w_c, w_g, w_tilde, w) if stages else w


def slip(w: torch.Tensor, eta: float, direction: torch.Tensor) -> torch.Tensor:
    """w'(i) = (1 − η) w(i) + η w(i − d), indices mod N: a fraction η of the weighting slips one slot.

    Not part of the paper's pipeline: a training-time perturbation (see ``NTM(slip=...)``), like a
    tape head that slips a little at every step. w: (B, H, N); direction d: (B, H) of +1 (towards
    the next slot, the direction of s(+1)) or −1 → (B, H, N), still a distribution over the slots.
    """
    _check("w", w, 3, "(batch, heads, slots)")
    _check("direction", direction, 2, "(batch, heads)")
    moved = torch.where(direction.unsqueeze(-1) > 0, w.roll(1, dims=-1), w.roll(-1, dims=-1))
    return (1 - eta) * w + eta * moved


def read(w: torch.Tensor, M: torch.Tensor) -> torch.Tensor:
    """r = Σ_i w(i) M(i), Eq. 2. w: (B, H, N), M: (B, N, M) → r: (B, H, M)."""
    _check("w", w, 3, "(batch, heads, slots)")
    _check("M", M, 3, "(batch, slots, width)")
    return torch.einsum("bhn,bnm->bhm", w, M)


def write(M: torch.Tensor, w: torch.Tensor, e: torch.Tensor, a: torch.Tensor) -> torch.Tensor:
    """Erase then add, Eqs. 3–4: M̃(i) = M(i) ⊙ Π_h [1 − w_h(i) e_h],  M'(i) = M̃(i) + Σ_h w_h(i) a_h.

    M: (B, N, M); w: (B, H, N) write weightings; e: (B, H, M) erase in (0, 1); a: (B, H, M) add
    → (B, N, M). With several write heads all erases happen before all adds (they commute).
    """
    _check("M", M, 3, "(batch, slots, width)")
    _check("w", w, 3, "(batch, heads, slots)")
    _check("e", e, 3, "(batch, heads, width)")
    _check("a", a, 3, "(batch, heads, width)")
    keep = 1 - w.unsqueeze(-1) * e.unsqueeze(-2)  # (B, H, N, M)
    M_tilde = M * keep.prod(dim=1)  # (B, N, M)
    return M_tilde + torch.einsum("bhn,bhm->bnm", w, a)
