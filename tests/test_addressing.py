"""The NTM equations, each against a hand-computed case, plus the classic bugs and gradcheck."""

import math

import pytest
import torch

from memlib.models import addressing as A


def t(x, dtype=torch.float64):
    return torch.tensor(x, dtype=dtype)


def bh(x):
    """Wrap a 1-D weighting / vector as batch 1, head 1."""
    return t(x)[None, None]


# ---------------------------------------------------------------- content addressing (Eqs. 5-6)

def test_cosine_similarity_hand_computed():
    M = t([[1.0, 0.0], [0.0, 2.0], [3.0, 3.0]])[None]  # (1, 3, 2)
    k = bh([1.0, 1.0])
    K = A.cosine_similarity(k, M)
    assert K.shape == (1, 1, 3)
    assert torch.allclose(K[0, 0], t([1 / math.sqrt(2), 1 / math.sqrt(2), 1.0]), atol=1e-7)


def test_cosine_of_zero_vector_is_zero_not_nan_and_has_finite_gradient():
    M = torch.zeros(1, 4, 3, dtype=torch.float64, requires_grad=True)
    k = torch.zeros(1, 1, 3, dtype=torch.float64, requires_grad=True)
    K = A.cosine_similarity(k, M)
    assert torch.equal(K, torch.zeros(1, 1, 4, dtype=torch.float64))
    K.sum().backward()
    assert torch.isfinite(M.grad).all() and torch.isfinite(k.grad).all()
    w = A.content(k, t([[5.0]]), M)
    assert torch.allclose(w, torch.full((1, 1, 4), 0.25, dtype=torch.float64))


def test_content_weighting_hand_computed():
    # similarities [1, 0, -1], beta = ln 2 → weights ∝ [2, 1, 1/2] → [4/7, 2/7, 1/7]
    M = t([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0]])[None]
    w = A.content(bh([2.0, 0.0]), t([[math.log(2)]]), M)
    assert torch.allclose(w[0, 0], t([4 / 7, 2 / 7, 1 / 7]), atol=1e-7)


def test_content_beta_controls_sharpness():
    M = t([[1.0, 0.0], [0.6, 0.8], [0.0, 1.0]])[None]
    k = bh([1.0, 0.0])
    soft = A.content(k, t([[0.0]]), M)[0, 0]
    sharp = A.content(k, t([[100.0]]), M)[0, 0]
    assert torch.allclose(soft, torch.full((3,), 1 / 3, dtype=torch.float64))  # β=0: uniform
    assert sharp[0] > 0.999  # β large: one-hot on the best match


def test_content_softmax_is_over_slots_not_batch_or_heads():
    # the pytorch-ntm bug #2: softmax over the batch axis gives all ones at batch size 1
    M = torch.randn(1, 5, 4)
    k = torch.randn(1, 2, 4)
    w = A.content(k, torch.ones(1, 2), M)
    assert torch.allclose(w.sum(-1), torch.ones(1, 2))
    assert not torch.allclose(w, torch.ones_like(w))
    # batch elements are independent: element 1's weighting ignores element 0's memory
    M2 = torch.randn(2, 5, 4)
    k2 = torch.randn(2, 2, 4)
    w2 = A.content(k2, torch.ones(2, 2), M2)
    assert torch.allclose(w2[1:], A.content(k2[1:], torch.ones(1, 2), M2[1:]))


# ---------------------------------------------------------------- interpolation (Eq. 7)

def test_interpolation_hand_computed_and_extremes():
    w_c, w_prev = bh([1.0, 0.0, 0.0]), bh([0.0, 0.0, 1.0])
    assert torch.allclose(A.interpolate(w_c, w_prev, t([[0.25]])), bh([0.25, 0.0, 0.75]))
    assert torch.equal(A.interpolate(w_c, w_prev, t([[1.0]])), w_c)
    assert torch.equal(A.interpolate(w_c, w_prev, t([[0.0]])), w_prev)


# ---------------------------------------------------------------- shift (Eq. 8)

def test_shift_direction_matches_equation_8():
    # s(+1) = 1: w~(i) = w^g(i-1), so the focus moves from slot 1 to slot 2
    w = bh([0.0, 1.0, 0.0, 0.0, 0.0])
    plus_one = bh([0.0, 0.0, 1.0])  # shifts ordered -1, 0, +1
    minus_one = bh([1.0, 0.0, 0.0])
    assert torch.equal(A.shift(w, plus_one), bh([0.0, 0.0, 1.0, 0.0, 0.0]))
    assert torch.equal(A.shift(w, minus_one), bh([1.0, 0.0, 0.0, 0.0, 0.0]))
    assert torch.equal(A.shift(w, bh([0.0, 1.0, 0.0])), w)


def test_shift_wraps_around_both_ends():
    last = bh([0.0, 0.0, 0.0, 0.0, 1.0])
    first = bh([1.0, 0.0, 0.0, 0.0, 0.0])
    assert torch.equal(A.shift(last, bh([0.0, 0.0, 1.0])), first)  # N-1 → 0
    assert torch.equal(A.shift(first, bh([1.0, 0.0, 0.0])), last)  # 0 → N-1


def test_shift_hand_computed_blur_and_sum_literal_equation():
    w_g = bh([0.1, 0.6, 0.3, 0.0])
    s = bh([0.2, 0.5, 0.3])  # s(-1), s(0), s(+1)
    out = A.shift(w_g, s)[0, 0]
    # literal Eq. 8: w~(i) = sum_j w_g(j) s((i - j) mod N), shifts outside -1..1 are 0
    N, sv = 4, {-1: 0.2, 0: 0.5, 1: 0.3}
    lit = []
    for i in range(N):
        acc = 0.0
        for j in range(N):
            d = (i - j) % N
            d = d - N if d > N // 2 else d
            acc += w_g[0, 0, j].item() * sv.get(d, 0.0)
        lit.append(acc)
    assert torch.allclose(out, t(lit))
    # by hand: w~(1) = s(-1) w(2) + s(0) w(1) + s(+1) w(0) = .06 + .30 + .03
    assert torch.allclose(out, t([0.17, 0.39, 0.33, 0.11]))
    assert torch.isclose(out.sum(), t(1.0))


def test_shift_range_two():
    w = bh([1.0, 0.0, 0.0, 0.0, 0.0, 0.0])
    s = bh([0.0, 0.0, 0.0, 0.0, 1.0])  # shifts -2..2, all mass on +2
    assert torch.equal(A.shift(w, s), bh([0.0, 0.0, 1.0, 0.0, 0.0, 0.0]))


def test_shift_rejects_even_number_of_shifts():
    with pytest.raises(ValueError, match="odd number"):
        A.shift(bh([0.5, 0.5, 0.0]), bh([0.5, 0.5]))


# ---------------------------------------------------------------- sharpening (Eq. 9)

def test_sharpen_hand_computed():
    out = A.sharpen(bh([0.5, 0.25, 0.25]), t([[2.0]]))
    assert torch.allclose(out, bh([2 / 3, 1 / 6, 1 / 6]), atol=1e-7)
    assert torch.allclose(A.sharpen(bh([0.5, 0.25, 0.25]), t([[1.0]])), bh([0.5, 0.25, 0.25]),
                          atol=1e-7)


def test_sharpen_all_zero_weighting_is_uniform_not_nan():
    out = A.sharpen(bh([0.0, 0.0, 0.0, 0.0]), t([[3.0]]))
    assert torch.allclose(out, bh([0.25] * 4))


def test_sharpen_large_gamma_does_not_underflow():
    w = torch.tensor([[[0.3, 0.2, 0.5]]])  # float32: 0.5**500 underflows to 0
    out = A.sharpen(w, torch.tensor([[500.0]]))
    assert torch.isfinite(out).all()
    assert torch.allclose(out, torch.tensor([[[0.0, 0.0, 1.0]]]), atol=1e-6)


# ---------------------------------------------------------------- read and write (Eqs. 2-4)

def test_read_hand_computed():
    M = t([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])[None]
    r = A.read(bh([0.5, 0.5, 0.0]), M)
    assert torch.allclose(r, bh([2.0, 3.0]))


def test_write_erase_then_add_hand_computed():
    M = t([[1.0, 1.0], [2.0, 2.0]])[None]
    w = bh([1.0, 0.5])
    e = bh([1.0, 0.0])
    a = bh([0.0, 10.0])
    out = A.write(M, w, e, a)
    # row 0: [1*(1-1), 1*(1-0)] + [0, 10] = [0, 11]; row 1: [2*(1-.5), 2] + [0, 5] = [1, 7]
    assert torch.allclose(out[0], t([[0.0, 11.0], [1.0, 7.0]]))


def test_erase_one_then_add_zero_clears_a_row():
    M = torch.randn(2, 5, 3, dtype=torch.float64)
    w = torch.zeros(2, 1, 5, dtype=torch.float64)
    w[:, 0, 3] = 1.0
    out = A.write(M, w, torch.ones(2, 1, 3, dtype=torch.float64),
                  torch.zeros(2, 1, 3, dtype=torch.float64))
    assert torch.equal(out[:, 3], torch.zeros(2, 3, dtype=torch.float64))
    assert torch.equal(out[:, [0, 1, 2, 4]], M[:, [0, 1, 2, 4]])


def test_two_write_heads_erase_before_add():
    # both heads erase slot 0 fully; each adds: result is the sum of the adds, whatever the order
    M = t([[5.0, 5.0]])[None]
    w = t([[[1.0]], [[1.0]]]).view(1, 2, 1)
    e = torch.ones(1, 2, 2, dtype=torch.float64)
    a = t([[[1.0, 2.0], [3.0, 4.0]]])
    assert torch.allclose(A.write(M, w, e, a), t([[[4.0, 6.0]]]))


# ---------------------------------------------------------------- invariants and the pipeline

def test_every_stage_is_a_distribution():
    torch.manual_seed(0)
    B, H, N, M = 3, 2, 7, 4
    mem = torch.randn(B, N, M)
    w_prev = torch.softmax(torch.randn(B, H, N), -1)
    stages = A.address(torch.randn(B, H, M), torch.rand(B, H) * 5, torch.rand(B, H),
                       torch.softmax(torch.randn(B, H, 3), -1), 1 + torch.rand(B, H) * 3,
                       mem, w_prev, stages=True)
    for w in stages:
        assert w.shape == (B, H, N)
        assert (w >= 0).all() and (w <= 1).all()
        assert torch.allclose(w.sum(-1), torch.ones(B, H), atol=1e-6)


def test_pure_location_mode_iterates_one_slot_per_step():
    # g = 0, s = +1, gamma large: the weighting moves +1 each step, whatever the memory says
    M = torch.randn(1, 6, 3, dtype=torch.float64)
    w = bh([0.0, 0.0, 0.0, 0.0, 0.0, 1.0])
    for step in range(3):
        w = A.address(bh([1.0, 0.0, 0.0]), t([[10.0]]), t([[0.0]]), bh([0.0, 0.0, 1.0]),
                      t([[50.0]]), M, w)
        assert w[0, 0].argmax().item() == step  # 5 → 0 → 1 → 2 (wraps)


def test_slip_hand_computed_both_directions_and_wrap_around():
    w = t([[[0.0, 1.0, 0.0, 0.0], [0.0, 0.0, 0.0, 1.0]]])  # batch 1, two heads
    # head 0 slips forward (+1, the direction of s(+1)); head 1 backward
    out = A.slip(w, 0.2, torch.tensor([[1, -1]]))
    assert torch.allclose(out, t([[[0.0, 0.8, 0.2, 0.0], [0.0, 0.0, 0.2, 0.8]]]))
    # forward from the last slot wraps to slot 0; a distribution stays a distribution
    out = A.slip(w, 0.3, torch.tensor([[1, 1]]))
    assert torch.allclose(out[0, 1], t([0.3, 0.0, 0.0, 0.7]))
    assert torch.allclose(out.sum(-1), torch.ones(1, 2, dtype=torch.float64))


def test_slip_of_zero_is_the_identity_and_checks_shapes():
    w = torch.softmax(torch.randn(2, 3, 5), -1)
    assert torch.equal(A.slip(w, 0.0, torch.ones(2, 3)), w)
    with pytest.raises(ValueError, match=r"direction must have shape \(batch, heads\)"):
        A.slip(w, 0.1, torch.ones(2))


def test_bad_shapes_name_the_expected_shape():
    with pytest.raises(ValueError, match=r"\(batch, slots, width\)"):
        A.read(bh([0.5, 0.5]), torch.zeros(2, 2))
    with pytest.raises(ValueError, match=r"\(batch, heads\)"):
        A.sharpen(bh([0.5, 0.5]), torch.tensor([2.0]))


def test_gradcheck_every_stage_in_float64():
    torch.manual_seed(0)
    B, H, N, M = 2, 2, 5, 3
    d = dict(dtype=torch.float64, requires_grad=True)
    k, mem = torch.randn(B, H, M, **d), torch.randn(B, N, M, **d)
    beta = (torch.rand(B, H, dtype=torch.float64) * 3 + 0.5).requires_grad_()
    g = torch.rand(B, H, **d)
    w_prev = torch.softmax(torch.randn(B, H, N, dtype=torch.float64), -1).requires_grad_()
    s = torch.softmax(torch.randn(B, H, 3, dtype=torch.float64), -1).requires_grad_()
    gamma = (1 + torch.rand(B, H, dtype=torch.float64) * 2).requires_grad_()
    e, a = torch.rand(B, 1, M, **d), torch.randn(B, 1, M, **d)
    ww = torch.softmax(torch.randn(B, 1, N, dtype=torch.float64), -1).requires_grad_()
    assert torch.autograd.gradcheck(A.cosine_similarity, (k, mem))
    assert torch.autograd.gradcheck(A.content, (k, beta, mem))
    assert torch.autograd.gradcheck(A.interpolate, (w_prev, w_prev.detach().flip(-1), g))
    assert torch.autograd.gradcheck(A.shift, (w_prev, s))
    assert torch.autograd.gradcheck(A.sharpen, (w_prev, gamma))
    assert torch.autograd.gradcheck(A.read, (w_prev, mem))
    assert torch.autograd.gradcheck(A.write, (mem, ww, e, a))
    assert torch.autograd.gradcheck(lambda w: A.slip(w, 0.2, torch.tensor([[1, -1], [-1, 1]])),
                                    (w_prev,))
    assert torch.autograd.gradcheck(
        lambda *xs: A.address(*xs, mem.detach(), w_prev.detach()), (k, beta, g, s, gamma))


def test_addressing_creates_its_tensors_on_the_inputs_device(strict_device):
    # the shift indices are built inside `shift`: they must follow the weighting's device
    gen = torch.Generator().manual_seed(0)
    M = torch.rand(2, 6, 3, generator=gen)
    k, beta = torch.rand(2, 1, 3, generator=gen), torch.ones(2, 1)
    g, gamma = torch.full((2, 1), 0.5), torch.full((2, 1), 2.0)
    s, w_prev = torch.softmax(torch.rand(2, 1, 3, generator=gen), -1), torch.softmax(torch.rand(2, 1, 6, generator=gen), -1)
    with strict_device() as device:
        w = A.address(k, beta, g, s, gamma, M, w_prev)
        r = A.read(w, M)
        M_new = A.write(M, w, torch.sigmoid(k), torch.tanh(k))
        assert w.device == r.device == M_new.device == device
