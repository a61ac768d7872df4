"""MemNN figures and the explorer widget, driven by setting widget values as a learner would."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from memlib.babi.format import parse  # noqa: E402
from memlib.babi.generate.lecture import LECTURE_STORY, lecture_stories  # noqa: E402
from memlib.models.memnn import MemNN  # noqa: E402
from memlib.recipes.memnn import prepare  # noqa: E402
from memlib.train import History  # noqa: E402
from memlib.viz.memnn import MILK_STORY, Explorer, diagram, hop_figure, loss_terms_figure  # noqa: E402
from memlib.viz.plots import TRUE_COLOR  # noqa: E402


@pytest.fixture(scope="module")
def setup():
    torch.manual_seed(0)
    stories = parse(LECTURE_STORY) + lecture_stories(3, seed=1)
    vocab, batch, _ = prepare(stories)
    model = MemNN(len(vocab), dim=8, hops=2, time_features=True)
    return model, stories, vocab, batch


def test_hop_figure_has_a_panel_per_hop_and_one_for_R(setup):
    model, stories, vocab, batch = setup
    _, trace = model(batch.memories[1:2], batch.queries[1:2])  # "Where is the milk now?"
    sentences = ["Fred moved to the bedroom.", "Joe went to the kitchen.", "Joe took the milk.",
                 "Dan journeyed to the bedroom."]
    fig = hop_figure(trace, sentences, "Where is the milk now?", support=[2, 1], answer="kitchen",
                     words=vocab.words, top=4)
    axes = [ax for ax in fig.axes]
    assert len(axes) == 3
    # sentences are numbered from 1, as in bAbI files: slot 2 is sentence 3
    assert [t.get_text() for t in axes[0].get_yticklabels()][2] == "3: Joe took the milk."
    assert len(axes[0].patches) == 4 and len(axes[2].patches) == 4
    # the true fact of each hop is drawn in the true colour
    assert matplotlib.colors.to_hex(axes[0].patches[2].get_facecolor()) == TRUE_COLOR
    assert matplotlib.colors.to_hex(axes[1].patches[1].get_facecolor()) == TRUE_COLOR
    assert "hop 1: O picks" in axes[0].get_title() and "(true 3)" in axes[0].get_title()
    assert "(true 2)" in axes[1].get_title()
    # every colour and the chosen marker have a legend entry
    labels = [t.get_text() for t in fig.legends[0].get_texts()]
    assert labels == ["true supporting fact / answer", "other sentence / word", "chosen by O / R"]
    assert fig.get_figwidth() <= 10
    assert "R answers" in axes[2].get_title()
    plt.close(fig)


def test_loss_terms_figure_draws_one_line_per_term():
    history = History(parts=[{"O1": 1.0, "O2": 2.0, "R": 3.0}, {"O1": 0.5, "O2": 1.0, "R": 0.1}])
    fig = loss_terms_figure(history)
    lines = fig.axes[0].get_lines()
    assert [line.get_label() for line in lines] == ["O1", "O2", "R"]
    assert list(lines[2].get_ydata()) == [3.0, 0.1]
    plt.close(fig)


def test_explorer_follows_the_story_slider_and_the_question_menu(setup):
    model, stories, vocab, _ = setup
    ex = Explorer(model, stories, vocab, top=3)
    assert ex.story.max == len(stories) - 1
    assert [label for label, _ in ex.question.options] == ["Where is Dan now? (1/2)", "Where is the milk now? (2/2)"]
    assert "Where is Dan now?" in ex.summary.value and "bedroom" in ex.summary.value
    assert len(ex.figure.axes) == 3

    ex.question.value = 1
    assert "Where is the milk now?" in ex.summary.value and "supporting facts [3, 2]" in ex.summary.value
    assert ex.figure._suptitle.get_text() == "Where is the milk now?"
    chosen = (ex.trace.chosen[0] + 1).tolist()  # sentence numbers from 1
    assert f"O chose {chosen}" in ex.summary.value

    ex.story.value = 2
    assert ex.question.value == 0
    sample = ex.samples[2][0]
    assert sample.question == stories[2].questions[0].text and sample.question in ex.summary.value
    assert len(ex.figure.axes[0].patches) == len(sample.sentences)


# ---------------------------------------------------------------- the diagram


def _boxes(ax):
    """The diagram's boxes as (x0, y0, x1, y1) in data units (inches)."""
    from matplotlib.patches import FancyBboxPatch

    out = []
    for p in ax.patches:
        if isinstance(p, FancyBboxPatch):
            out.append((p.get_x(), p.get_y(), p.get_x() + p.get_width(), p.get_y() + p.get_height()))
    return out


def test_diagram_shows_every_component_and_symbol_of_the_lecture():
    fig = diagram()
    ax = fig.axes[0]
    text = " ".join(t.get_text() for t in ax.texts)
    for symbol in ["I", "G", "O, hop 1", "O, hop 2", "R", "question $q$", r"\mathbf{m}_{o_1}", r"\mathbf{m}_{o_2}",
                   "$o_1 = ", "$o_2 = ", "$r = ", "s_O(q, ", "s_R(q + ", "U_O", "U_R", "kitchen", "Where is the\nmilk now?"]:
        assert symbol in text, symbol
    for i, sentence in enumerate(MILK_STORY, start=1):
        assert any(sentence in t.get_text() and rf"\mathbf{{m}}_{i}" in t.get_text() for t in ax.texts)
    # the two hops of the milk example: hop 1 finds sentence 3 (the milk), hop 2 sentence 2 (where Joe went)
    marked = {t.get_text().split("◀ ")[1]: t.get_text() for t in ax.texts if "◀" in t.get_text()}
    assert "Joe took the milk." in marked["hop 1"] and "Joe went to the kitchen." in marked["hop 2"]
    assert "$o_1 = 3$" in text and "$o_2 = 2$" in text
    assert fig.get_figwidth() <= 10
    plt.close(fig)


def test_diagram_boxes_do_not_overlap_and_every_arrow_joins_two_boxes():
    from matplotlib.patches import FancyArrowPatch

    fig = diagram()
    ax = fig.axes[0]
    boxes = _boxes(ax)
    assert len(boxes) == 10  # story, I, G, memory; question, I, O hop 1, O hop 2, R, answer
    for i, a in enumerate(boxes):
        for b in boxes[i + 1:]:
            apart = a[2] <= b[0] or b[2] <= a[0] or a[3] <= b[1] or b[3] <= a[1]
            assert apart, f"boxes {a} and {b} overlap"

    def on_edge(point, tol=0.03):
        x, y = point
        return any(x0 - tol <= x <= x1 + tol and y0 - tol <= y <= y1 + tol
                   and min(abs(x - x0), abs(x - x1), abs(y - y0), abs(y - y1)) <= tol
                   for x0, y0, x1, y1 in boxes)

    arrows = [p for p in ax.patches if isinstance(p, FancyArrowPatch)]
    assert len(arrows) == 10
    for a in arrows:
        start, end = a._posA_posB
        assert on_edge(start) and on_edge(end), (start, end)
    plt.close(fig)
