"""MemN2N figures and the attention explorer (driven here by setting `widget.value`)."""

import dataclasses

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from memlib.babi.encode import Vocab, samples  # noqa: E402
from memlib.babi.format import parse  # noqa: E402
from memlib.models.memn2n import MemN2N  # noqa: E402
from memlib.viz import memn2n as V  # noqa: E402
from memlib.viz.plots import TRUE_COLOR  # noqa: E402

QA1 = ("1 Mary moved to the bathroom.\n2 John went to the hallway.\n3 Where is Mary? \tbathroom\t1\n"
       "4 Daniel went back to the hallway.\n5 Sandra moved to the garden.\n6 Where is Daniel? \thallway\t4\n")
QA2 = ("1 Mary got the milk there.\n2 John moved to the bedroom.\n3 Sandra went back to the kitchen.\n"
       "4 Mary travelled to the hallway.\n5 Where is the milk? \thallway\t1 4\n")


def model_for(text, hops=2, seed=0):
    """A small untrained MemN2N whose vocabulary covers `text` (every answer is also a word)."""
    s = samples(parse(text))
    vocab, answers = Vocab.build(s), sorted({x.answer for x in s})
    for a in answers:
        vocab.add(a)
    longest = max(max(len(m) for x in s for m in x.memories), max(len(x.query) for x in s))
    torch.manual_seed(seed)
    model = MemN2N(len(vocab), len(answers), d=8, hops=hops, sentence_size=longest,
                   answer_words=[vocab[a] for a in answers], words=vocab.words, answers=answers)
    return model, s


def test_explain_keeps_sentences_attention_and_support():
    model, s = model_for(QA1)
    ex = V.explain(model, s[1])
    assert ex.sentences == ["Mary moved to the bathroom.", "John went to the hallway.",
                            "Daniel went back to the hallway.", "Sandra moved to the garden."]
    assert ex.question == "Where is Daniel?" and ex.answer == "hallway" and ex.support == [2]
    assert ex.attention.shape == (2, 4) and np.allclose(ex.attention.sum(1) + ex.empty, 1, atol=1e-6)
    assert ex.predicted in model.answers and ex.correct == (ex.predicted == "hallway")


def test_attention_figure_one_panel_per_hop_with_support_in_red():
    model, s = model_for(QA2, hops=3)
    ex = V.explain(model, s[0])
    fig = V.attention_figure(ex)
    axes = [ax for ax in fig.axes if ax.patches]
    assert len(axes) == 3
    for k, ax in enumerate(axes):
        heights = [p.get_width() for p in ax.patches]
        assert np.allclose(heights, list(ex.attention[k]) + [ex.empty[k]], atol=1e-6)  # last bar: empty slots
        red = [i for i, p in enumerate(ax.patches) if matplotlib.colors.to_hex(p.get_facecolor()) == TRUE_COLOR]
        assert red == [0, 3]  # supporting facts 1 and 4
    assert "predicted" in fig._suptitle.get_text() and "true: hallway" in fig._suptitle.get_text()
    plt.close(fig)


def test_attention_figure_marker_sits_outside_a_full_bar():
    model, s = model_for(QA2, hops=3)
    ex = V.explain(model, s[0])
    ex = dataclasses.replace(ex, attention=np.array([[0, 0, 0, 1.0]] * 3), empty=np.zeros(3))  # p = 1 on sentence 4
    fig = V.attention_figure(ex)
    for ax in [ax for ax in fig.axes if ax.patches]:
        (x,), (y,) = ax.lines[-1].get_data()
        assert y == 3 and 1.0 < x < ax.get_xlim()[1] - 0.05  # right of the bar's end, inside the axes
    plt.close(fig)


def test_hops_heatmap_has_sentences_question_answer_and_a_colorbar():
    model, s = model_for(QA2)
    ex = V.explain(model, s[0])
    fig = V.hops_figure(ex)
    ax = fig.axes[0]
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels == ["1: Mary got the milk there. *", "2: John moved to the bedroom.",
                      "3: Sandra went back to the kitchen.", "4: Mary travelled to the hallway. *",
                      "(empty memory slots)"]  # 1-based, as bAbI numbers its lines
    red = [t.get_text()[0] for t in ax.get_yticklabels() if matplotlib.colors.to_hex(t.get_color()) == TRUE_COLOR]
    assert red == ["1", "4"]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["hop 1", "hop 2"]
    values = ax.images[0].get_array()
    assert values.shape == (5, 2) and np.allclose(values.sum(0), 1, atol=1e-6)  # each hop's column is a distribution
    assert np.allclose(values[:4].T, ex.attention) and np.allclose(values[4], ex.empty)
    assert "Where is the milk?" in ax.get_title() and "true: hallway" in ax.get_title()
    assert len(fig.axes) == 2  # the heatmap and its colorbar
    plt.close(fig)


def diagram_parts(fig):
    """The boxes (x0, y0, x1, y1), the arrows' end points and every text of a schematic figure."""
    from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

    ax = fig.axes[0]
    boxes = [(p.get_x(), p.get_y(), p.get_x() + p.get_width(), p.get_y() + p.get_height())
             for p in ax.patches if isinstance(p, FancyBboxPatch)]
    arrows = [p._posA_posB for p in ax.patches if isinstance(p, FancyArrowPatch)]
    texts = " ".join(t.get_text() for t in ax.texts)
    return boxes, arrows, texts


def on_edge(point, b, tol=1e-6):
    x, y = point
    x0, y0, x1, y1 = b
    inside = x0 - tol <= x <= x1 + tol and y0 - tol <= y <= y1 + tol
    return inside and min(abs(x - x0), abs(x - x1), abs(y - y0), abs(y - y1)) <= tol


@pytest.mark.parametrize("hops", [1, 2, 3])
def test_diagram_has_the_papers_symbols_boxes_apart_and_arrows_from_box_to_box(hops):
    fig = V.diagram(hops)
    boxes, arrows, texts = diagram_parts(fig)
    for symbol in ("A", "B", "C", "W", "u", "p", "o", "softmax", "hat a"):  # Sukhbaatar et al. 2015, Fig. 1
        assert symbol in texts, f"{symbol} missing from the {hops}-hop diagram"
    if hops > 1:
        for k in range(1, hops + 1):
            assert f"$u^{k}$" in texts and f"$o^{k}$" in texts and f"hop {k}" in texts
        assert f"$u^{hops + 1}$" in texts and "u^{k+1} = u^k + o^k" in texts
    for i, a in enumerate(boxes):  # no two boxes overlap
        for b in boxes[i + 1:]:
            assert a[2] <= b[0] or b[2] <= a[0] or a[3] <= b[1] or b[3] <= a[1], f"boxes {a} and {b} overlap"
    assert len(arrows) >= 9
    for start, end in arrows:  # every arrow leaves a box's edge and ends on another box's edge
        assert any(on_edge(start, b) for b in boxes) and any(on_edge(end, b) for b in boxes), (start, end)
    assert fig.get_size_inches()[0] <= V.MAX_WIDTH
    plt.close(fig)


@pytest.mark.parametrize("hops", [2, 3])
def test_layerwise_diagram_has_one_A_one_C_and_H_between_hops(hops):
    """Sukhbaatar et al. 2015, §2.2: A^1 = … = A^K, C^1 = … = C^K, u^{k+1} = H u^k + o^k."""
    fig = V.diagram(hops, tying="layerwise")
    boxes, arrows, texts = diagram_parts(fig)
    hop_texts = [t.get_text() for t in fig.axes[0].texts if t.get_text().startswith("hop ")]
    assert len(hop_texts) == hops
    for k, text in enumerate(hop_texts, start=1):
        assert text.startswith(f"hop {k}: $A$, $C$") and f"$H u^{k} + o^{k}$" in texts
        assert "A^" not in text and "C^" not in text  # the same tables in every hop, not A^k, C^k
    assert "u^{k+1} = H u^k + o^k" in texts and "u^{k+1} = u^k + o^k" not in texts and "layer-wise" in texts
    for i, a in enumerate(boxes):  # no two boxes overlap
        for b in boxes[i + 1:]:
            assert a[2] <= b[0] or b[2] <= a[0] or a[3] <= b[1] or b[3] <= a[1], f"boxes {a} and {b} overlap"
    for start, end in arrows:
        assert any(on_edge(start, b) for b in boxes) and any(on_edge(end, b) for b in boxes), (start, end)
    assert fig.get_size_inches()[0] <= V.MAX_WIDTH
    plt.close(fig)


def test_diagram_refuses_hop_counts_and_tyings_it_cannot_draw():
    with pytest.raises(ValueError, match="1, 2 or 3 hops"):
        V.diagram(4)
    with pytest.raises(ValueError, match="tying must be"):
        V.diagram(3, tying="rnn")
    with pytest.raises(ValueError, match="no tying between hops"):
        V.diagram(1, tying="layerwise")


def test_attention_figure_fits_the_notebook_width():
    model, s = model_for(QA2, hops=3)
    fig = V.attention_figure(V.explain(model, s[0]))
    assert fig.get_size_inches()[0] <= V.MAX_WIDTH
    plt.close(fig)


def test_explorer_redraws_when_task_story_or_question_changes():
    from memlib.babi.encode import story_samples

    m1, _ = model_for(QA1 + QA2.replace("milk", "apple").replace("Where is the apple?", "Where is Mary?"))
    m2, _ = model_for(QA2)
    stories1 = [story_samples(st) for st in parse(QA1 + "1 John went to the office.\n2 Where is John? \toffice\t1\n")]
    stories2 = [story_samples(st) for st in parse(QA2)]
    box = V.explorer({1: m1, 2: m2}, {1: stories1, 2: stories2})
    assert box.current.question == "Where is Mary?" and box.story.max == 1 and box.question.max == 1
    box.question.value = 1
    assert box.current.question == "Where is Daniel?"
    box.story.value = 1  # the second story has one question
    assert box.question.max == 0 and box.question.value == 0 and box.current.question == "Where is John?"
    box.task.value = 2
    assert box.story.max == 0 and box.story.value == 0
    assert box.current.question == "Where is the milk?" and box.current.attention.shape == (2, 4)
    plt.close("all")
