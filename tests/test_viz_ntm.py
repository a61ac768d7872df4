"""NTM figures and widgets: static functions draw what they are given; the explorers redraw
when a slider moves (driven here by setting `slider.value`)."""

import dataclasses

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
    panels = {ax.get_title(): ax for ax in fig.axes if ax.get_title()}
    ww = panels["write weightings $\\mathbf{w}^w_t$"].images[0].get_array()
    assert ww.shape == (12, b.x.shape[1])  # slots × time
    assert np.allclose(ww, tr.write_w[0, :, 0].T.numpy())
    assert len(fig.axes) == 12  # six panels, each with its colorbar
    plt.close(fig)
    fig, ax = plt.subplots()
    V.plot_memory(ax, tr, 3, slots=slice(0, 12))
    assert np.allclose(ax.images[0].get_array(), tr.memory[0, 4].numpy())
    assert len(fig.axes) == 2  # the memory and its colorbar
    plt.close(fig)


def test_slot_axis_labels_true_slots_and_marks_the_wrap():
    fig, ax = plt.subplots()
    slots = [3, 2, 1, 0, 127, 126, 125, 124, 123, 122, 121, 120, 119]  # a head walking down through 0
    ax.imshow(np.zeros((len(slots), 4)))
    V.slot_axis(ax, slots, 128)
    labels = [t.get_text() for t in ax.get_yticklabels()]
    # 13 rows: every second slot, true numbers; the seam's own tick replaces the 0 right beside it
    assert labels == ["2", "0 | 127", "126", "124", "122", "120"]
    for tick, label in zip(ax.get_yticks(), labels):
        if "|" not in label:
            assert slots[int(tick)] == int(label)  # every slot label is the slot of its row
    assert list(ax.get_yticks()) == [1, 3.5, 5, 7, 9, 11]
    assert [line.get_ydata()[0] for line in ax.lines] == [3.5]  # the dashed line between 0 and 127
    assert len(ax.texts) == 0  # nothing written on the data
    plt.close(fig)
    fig, ax = plt.subplots()
    slots = [0, 127, 126, 125, 124, 123, 122, 121, 120, 119, 118, 117, 116, 115, 114, 113]
    ax.imshow(np.zeros((len(slots), 4)))
    V.slot_axis(ax, slots, 128, every=5)
    # 0 and 125 sit 0.5 and 2.5 rows from the seam: too close to its label, so left out
    assert [t.get_text() for t in ax.get_yticklabels()] == ["0 | 127", "120", "115"]
    plt.close(fig)


def test_travel_order_follows_the_write_head():
    class Walk:  # a write head walking down 5 → 4 → 3 (one read head, one write head)
        def __init__(self, slots, N=8):
            self.w = torch.zeros(1, len(slots), 2, N)
            self.w[0, torch.arange(len(slots)), 1, torch.tensor(slots)] = 1.0
            self.write_w = self.w[:, :, 1:]

    assert V.travel_order(Walk([5, 4, 3]), np.array([3, 4, 5])).tolist() == [5, 4, 3]
    assert V.travel_order(Walk([1, 0, 7]), np.array([7, 0, 1])).tolist() == [1, 0, 7]
    assert V.travel_order(Walk([3, 4, 5]), np.array([3, 4, 5])).tolist() == [3, 4, 5]


def test_plot_addressing_labels_true_slots_and_keeps_values_above_bars():
    stages = V.addressing_stages(M5, K, W_PREV, beta=5, g=0.2, shift=0.8, gamma=3.0)
    fig = V.plot_addressing(stages, slots=[120, 121, 122, 123, 124])
    ax = fig.axes[-1]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["120", "121", "122", "123", "124"]
    for text in ax.texts:  # each value sits above its bar, inside the axis
        x, y = text.get_position()
        assert y >= bar_heights(ax)[round(x)] and y < ax.get_ylim()[1]
    with pytest.raises(ValueError, match="slots must name all 5 bars"):
        V.plot_addressing(stages, slots=[1, 2])
    assert V.window(1, 128, half=2).tolist() == [127, 0, 1, 2, 3]
    plt.close("all")


def test_plot_episode_shows_inputs_and_both_heads_apart():
    b, logits, tr = trace_of_small_model()
    fig = V.plot_episode(b, logits, tr)
    panels = {ax.get_title(): ax for ax in fig.axes if ax.get_title()}
    slots = V.travel_order(tr, V.used_slots(tr))
    assert np.allclose(panels["write weighting"].images[0].get_array(), tr.write_w[0, :, 0].T.numpy()[slots])
    assert np.allclose(panels["read weighting"].images[0].get_array(), tr.read_w[0, :, 0].T.numpy()[slots])
    inputs = next(ax for t, ax in panels.items() if t.startswith("inputs"))
    assert np.allclose(inputs.images[0].get_array(), b.x[0].T.numpy())
    assert len(fig.axes) == 10  # five panels, each with its colorbar
    plt.close(fig)


def test_heads_explorer_time_slider_changes_memory_panel():
    b, logits, tr = trace_of_small_model()
    ex = V.HeadsExplorer(tr, b.x, logits)
    first = ex.figure.memory_ax.images[0].get_array().copy()  # the memory panel
    ex.t.value = 6
    assert torch.equal(ex.memory, tr.memory[0, 7])
    assert not np.allclose(ex.figure.memory_ax.images[0].get_array(), first)
    assert ex.t.max == b.x.shape[1] - 1
    plt.close("all")


def test_curves_generalisation_and_sequence_plots():
    fig, ax = plt.subplots()
    V.plot_curves(ax, {"NTM": [(0, 30), (1000, 5)], "LSTM": [(0, 30), (1000, 25)]})
    assert len(ax.lines) == 2
    fig, axes = plt.subplots(1, 2)
    rows = [{"bit_errors": 0.0, "perfect": 1.0}, {"bit_errors": 4.5, "perfect": 0.25}]
    V.plot_generalisation(axes, [10, 20], {"NTM": rows}, N=128)
    assert axes[0].lines[0].get_ydata().tolist() == [0.0, 4.5]  # means, not medians
    assert axes[1].lines[0].get_ydata().tolist() == [100.0, 25.0]
    assert axes[0].get_ylim()[0] == 0  # no negative ticks on a count
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


def test_diagrams_show_every_symbol_and_join_their_boxes():
    fig, boxes = V.ntm_diagram()
    text = " ".join(t.get_text() for t in fig.axes[0].texts)
    for symbol in ("controller", "read head", "write head", "memory $M_t$", "\\mathbf{x}_t", "y_t",
                   "\\mathbf{r}_t", "\\mathbf{e}_t", "\\mathbf{a}_t", "\\beta_t", "g_t", "\\mathbf{s}_t",
                   "\\gamma_t", "\\mathbf{k}_t", "}$^r$", "}$^w$"):
        assert symbol in text, symbol
    _assert_apart(boxes)
    plt.close(fig)
    fig, boxes = V.addressing_diagram()
    text = " ".join(t.get_text() for t in fig.axes[0].texts)
    for symbol in ("content", "interpolation", "shift", "sharpening", "\\beta_t", "g_t", "\\mathbf{s}_t",
                   "\\gamma_t", "\\mathbf{w}_{t-1}", "\\mathbf{k}_t", "M_t"):
        assert symbol in text, symbol
    _assert_apart(boxes)
    stages = [boxes[n] for n in ("content", "interpolation", "shift", "sharpening")]
    assert [b.x for b in stages] == sorted(b.x for b in stages)  # left to right, in the paper's order
    arrows = [p for p in fig.axes[0].patches if type(p).__name__ == "FancyArrowPatch"]
    joins = [tuple(np.round(np.ravel(p._posA_posB), 6)) for p in arrows]
    for a, b in zip(stages, stages[1:]):
        assert tuple(np.round(np.ravel([a.right, b.left]), 6)) in joins  # each stage feeds the next
    plt.close(fig)


def _assert_apart(boxes):
    """No two boxes overlap."""
    items = list(boxes.values())
    for i, a in enumerate(items):
        for b in items[i + 1:]:
            assert abs(a.x - b.x) >= (a.w + b.w) / 2 or abs(a.y - b.y) >= (a.h + b.h) / 2, (a, b)


def blank(image):
    """The cells a heatmap leaves blank: NaN values (imshow stores them masked)."""
    return np.ma.getmaskarray(image) | np.isnan(np.ma.getdata(image))


def test_outputs_and_targets_are_blank_exactly_where_nothing_is_scored():
    b, logits, tr = trace_of_small_model()   # copy of length 4: steps 0-3 inputs, 4 delimiter, 5-8 scored
    fig = V.plot_heads(tr, b.x, logits, slots=slice(0, 12))
    out = next(ax for ax in fig.axes if ax.get_title().startswith("outputs")).images[0].get_array()
    assert blank(out)[:, :5].all() and not blank(out)[:, 5:].any()
    assert np.allclose(out[:, 5:], torch.sigmoid(logits[0, 5:]).T.numpy())
    plt.close(fig)
    fig = V.plot_episode(b, logits, tr, task="copy")
    panels = {ax.get_title(): ax for ax in fig.axes if ax.get_title()}
    target = panels["target (grey: not scored)"].images[0].get_array()
    assert blank(target)[:, :5].all() and not blank(target)[:, 5:].any()
    assert np.allclose(target[:, 5:], b.y[0, 5:].T.numpy())
    plt.close(fig)
    assert np.isnan(V.scored_only(torch.ones(3, 2), torch.tensor([True, False, True]))).sum() == 2


def test_plot_episode_names_the_extra_channels_of_each_task():
    for task, note in (("priority-sort", "channel 8: priority, 9: delimiter"),
                       ("repeat-copy", "channel 8: delimiter, 9: repeat count")):
        torch.manual_seed(0)
        t = alg.get_task(task)
        b = t.batch(1, 0, **({"length": 3, "repeats": 2} if task == "repeat-copy" else {"length": 5}))
        m = NTM(b.x.shape[2], b.y.shape[2], controller_size=16, N=12, M=5)
        logits, tr = m(b.x, trace=True)
        fig = V.plot_episode(b, logits.detach(), tr, task=task)
        assert any(ax.get_title() == f"inputs ({note})" for ax in fig.axes)
        plt.close(fig)
    with pytest.raises(ValueError, match="unknown task 'sort'"):
        V.plot_episode(b, logits.detach(), tr, task="sort")


def test_memory_legend_sits_outside_and_seam_label_is_readable():
    b, logits, tr = trace_of_small_model()
    fig, ax = plt.subplots(figsize=(4, 5))
    V.plot_memory(ax, tr, 3, slots=[2, 1, 0, 11, 10, 9])   # the seam 0 | 11 in view
    fig.canvas.draw()
    legend = ax.get_legend().get_window_extent()
    assert legend.y1 <= ax.get_window_extent().y0   # below the axes: covers no bar and no label
    seam = [t for t in ax.get_yticklabels() if "|" in t.get_text()]
    assert [t.get_text() for t in seam] == ["0 | 11"] and seam[0].get_fontsize() >= 10
    assert seam[0].get_window_extent().x1 <= ax.get_window_extent().x0   # left of the axes, off the data
    write, read = ax.containers   # write bars left of the memory columns, read bars right of them
    width = ax.images[0].get_array().shape[1]
    assert all(p.get_x() + min(p.get_width(), 0) < 0 for p in write)
    assert all(p.get_x() > width - 1 for p in read)
    plt.close(fig)
    w = tr.w.clone()
    w[0, 3, 1] = 1 / 12                       # a write head spread evenly: bars too thin to see
    fig, ax = plt.subplots(figsize=(4, 5))
    V.plot_memory(ax, dataclasses.replace(tr, w=w), 3, slots=[2, 1, 0, 11, 10, 9])
    assert [t.get_text() for t in ax.get_legend().get_texts()] == [
        "write $w_t$ (left; at most 0.08 here, a sliver)", "read $w_t$ (right)"]   # the legend says so
    plt.close(fig)


def test_controller_view_shows_what_the_controller_gets_and_where_the_heads_go():
    b, logits, tr = trace_of_small_model()   # copy of length 4: steps 0-3 inputs, 4 the delimiter
    r0 = torch.full((1, 5), 0.25)            # (R, M): stands in for the learned initial read
    fig = V.controller_view(tr, b.x, r0)
    seen = fig.panels["input"].images[0].get_array()
    assert seen.shape == (9 + 5, b.x.shape[1])                  # x_t above r_{t-1}, one column per step
    assert np.allclose(seen[:9], b.x[0].T.numpy())
    assert np.allclose(seen[9:, 0], 0.25)                       # step 0 gets r0 ...
    assert np.allclose(seen[9:, 1:], tr.r[0, :-1, 0].T.numpy())  # ... step t the read of step t-1
    slots = V.travel_order(tr, V.used_slots(tr))
    assert np.allclose(fig.panels["write"].images[0].get_array(), tr.write_w[0, :, 0].T.numpy()[slots])
    assert np.allclose(fig.panels["read"].images[0].get_array(), tr.read_w[0, :, 0].T.numpy()[slots])
    assert fig.delimiter == 4                                   # the last step with any input
    assert np.allclose(fig.panels["memory"].images[0].get_array(), tr.memory[0, 5].numpy()[slots])
    for ax in (fig.panels["input"], fig.panels["write"], fig.panels["read"]):   # the dashed delimiter line
        assert [list(line.get_xdata()) for line in ax.lines if line.get_linestyle() == "--"] == [[4, 4]]
    fig.canvas.draw()
    label, = [t for t in fig.panels["input"].texts if t.get_text() == "delimiter"]
    box, title = label.get_window_extent(), fig.panels["input"].title.get_window_extent()
    assert box.y0 >= fig.panels["input"].get_window_extent().y1 - 1   # above the panel, not on a row
    assert box.y1 <= title.y0                                          # and below the title
    plt.close(fig)
    with pytest.raises(ValueError, match="r0 must hold 5 values"):
        V.controller_view(tr, b.x, torch.zeros(1, 3))
