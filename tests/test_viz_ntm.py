"""NTM figures and widgets: static functions draw what they are given; the explorers redraw
when a slider moves (driven here by setting `slider.value`)."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from memlib import algorithmic as alg  # noqa: E402
from memlib.models.ntm import NTM  # noqa: E402
from memlib.viz import ntm as V  # noqa: E402

M5 = torch.tensor([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0], [1.0, 1.0, 0.0],
                   [0.0, 1.0, 1.0]])
K = torch.tensor([1.0, 0.0, 0.0])
W_PREV = torch.tensor([0.0, 0.0, 1.0, 0.0, 0.0])


def bar_heights(ax):
    return np.array([p.get_height() for p in ax.patches])


def test_shift_distribution():
    assert V.shift_distribution(1.0).tolist() == [0.0, 0.0, 1.0]
    assert torch.allclose(V.shift_distribution(-0.25), torch.tensor([0.25, 0.75, 0.0]))
    with pytest.raises(ValueError, match="shift must lie"):
        V.shift_distribution(1.5)


def test_addressing_stages_g0_shift1_moves_previous_focus():
    w_c, w_g, w_t, w = V.addressing_stages(M5, K, W_PREV, beta=5, g=0.0, shift=1.0, gamma=1.0)
    assert torch.allclose(w_g, W_PREV) and w.argmax() == 3
    with pytest.raises(ValueError, match=r"M \(N, width\)"):
        V.addressing_stages(M5, K[:2], W_PREV, 1, 1, 0, 1)


def test_addressing_explorer_redraws_when_sliders_move():
    ex = V.AddressingExplorer(M5, K, W_PREV, beta=1.0, g=1.0, shift=0.0, gamma=1.0)
    before = [s.clone() for s in ex.stages]
    sharp_before = bar_heights(ex.figure.axes[-1]).copy()
    ex.beta.value = 15.0  # sharper content focus on slot 0 (the exact match of k)
    assert ex.stages[0][0] > before[0][0]
    assert not np.allclose(bar_heights(ex.figure.axes[-1]), sharp_before)  # the figure changed
    ex.g.value = 0.0  # back to the previous weighting (slot 2)
    assert ex.stages[1].argmax() == 2
    ex.shift.value = 1.0  # ... moved one slot on
    assert ex.stages[2].argmax() == 3
    ex.shift.value = 0.3  # a fractional shift blurs (0.7 / 0.3); sharpening focuses again
    blurred = ex.stages[2].max().item()
    ex.gamma.value = 8.0
    assert ex.stages[3].max().item() > blurred
    assert np.isclose(bar_heights(ex.figure.axes[-1]).sum(), 1.0, atol=1e-5)
    plt.close("all")


def trace_of_small_model():
    torch.manual_seed(0)
    m = NTM(9, 8, controller_size=16, N=12, M=5)
    b = alg.copy(2, seed=0, length=4)
    logits, tr = m(b.x, trace=True)
    return b, logits.detach(), tr


def test_plot_heads_and_memory_draw_the_trace():
    b, logits, tr = trace_of_small_model()
    fig = V.plot_heads(tr, b.x, logits, slots=slice(0, 12))
    axes = fig.axes
    ww = axes[4].images[0].get_array()
    assert ww.shape == (12, b.x.shape[1])  # slots × time
    assert np.allclose(ww, tr.write_w[0, :, 0].T.numpy())
    plt.close(fig)
    fig, ax = plt.subplots()
    V.plot_memory(ax, tr, 3, slots=slice(0, 12))
    assert np.allclose(ax.images[0].get_array(), tr.memory[0, 4].numpy())
    plt.close(fig)


def test_heads_explorer_time_slider_changes_memory_panel():
    b, logits, tr = trace_of_small_model()
    ex = V.HeadsExplorer(tr, b.x, logits)
    first = ex.figure.axes[-1].images[0].get_array().copy()  # the memory panel
    ex.t.value = 6
    assert torch.equal(ex.memory, tr.memory[0, 7])
    assert not np.allclose(ex.figure.axes[-1].images[0].get_array(), first)
    assert ex.t.max == b.x.shape[1] - 1
    plt.close("all")


def test_curves_generalisation_and_sequence_plots():
    fig, ax = plt.subplots()
    V.plot_curves(ax, {"NTM": [(0, 30), (1000, 5)], "LSTM": [(0, 30), (1000, 25)]})
    assert len(ax.lines) == 2
    V.plot_generalisation(ax, [10, 20], {"NTM": [0, 0]}, N=128)
    b, logits, _ = trace_of_small_model()
    fig, axes = plt.subplots(2, 1)
    V.plot_sequence(axes, b, logits)
    assert axes[0].images[0].get_array().shape == (8, 4)
    plt.close("all")


class _W:
    def __init__(self, w):
        self.w = torch.as_tensor(w)[None, :, None, :]  # (1, T, 1, N)


def test_used_slots_handles_wrap_around():
    N = 10
    w = torch.zeros(3, N)
    w[0, 9], w[1, 0], w[2, 1] = 1.0, 1.0, 1.0  # the heads went 9 → 0 → 1
    assert V.used_slots(_W(w), pad=0).tolist() == [9, 0, 1]
    assert V.used_slots(_W(w), pad=1).tolist() == [8, 9, 0, 1, 2]
    w2 = torch.zeros(2, N)
    w2[0, 3], w2[1, 5] = 1.0, 1.0
    assert V.used_slots(_W(w2), pad=0).tolist() == [3, 4, 5]


def test_addressing_explorer_static_twin_is_the_widget_figure():
    ex = V.AddressingExplorer(M5, K, W_PREV)
    twin = ex.static(beta=15.0, g=0.5)
    assert ex.beta.value == 1.0  # the controls stay where they were
    ex.beta.value, ex.g.value = 15.0, 0.5
    for a, b in zip(twin.axes, ex.figure.axes):
        assert np.allclose(bar_heights(a), bar_heights(b))
    plt.close("all")
