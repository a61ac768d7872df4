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
from memlib.viz.memnn import Explorer, hop_figure, loss_terms_figure  # noqa: E402
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
    axes = fig.axes
    assert len(axes) == 3
    assert [t.get_text() for t in axes[0].get_yticklabels()][2] == "2: Joe took the milk."
    assert len(axes[0].patches) == 4 and len(axes[2].patches) == 4
    # the true fact of each hop is drawn in the true colour
    assert matplotlib.colors.to_hex(axes[0].patches[2].get_facecolor()) == TRUE_COLOR
    assert matplotlib.colors.to_hex(axes[1].patches[1].get_facecolor()) == TRUE_COLOR
    assert "hop 1: O picks" in axes[0].get_title() and "(true 2)" in axes[0].get_title()
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
    assert "Where is the milk now?" in ex.summary.value and "[2, 1]" in ex.summary.value
    assert ex.figure._suptitle.get_text() == "Where is the milk now?"
    chosen = ex.trace.chosen[0].tolist()
    assert f"O chose {chosen}" in ex.summary.value

    ex.story.value = 2
    assert ex.question.value == 0
    sample = ex.samples[2][0]
    assert sample.question == stories[2].questions[0].text and sample.question in ex.summary.value
    assert len(ex.figure.axes[0].patches) == len(sample.sentences)
