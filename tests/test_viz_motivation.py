"""The motivation notebook's figures: 1-based sentence labels, a legend for every colour, clear errors."""

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

from memlib.viz.motivation import distance_curve, distance_explorer, story_figure  # noqa: E402
from memlib.viz.plots import TRUE_COLOR  # noqa: E402

SENTENCES = ["Mary went to the kitchen.", "John moved to the office.", "Mary went to the garden."]


def test_story_figure_numbers_sentences_from_1_and_marks_the_support_in_red():
    ax = story_figure(SENTENCES, "Where is Mary?", 2, [0.1, 0.1, 0.8], answers={"LSTM": "office"}, truth="garden")
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels == [" 1 Mary went to the kitchen.", " 2 John moved to the office.", " 3 Mary went to the garden."]
    assert matplotlib.colors.same_color(ax.get_yticklabels()[2].get_color(), TRUE_COLOR)
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["supporting fact", "other sentence"]
    assert "LSTM: office" in ax.get_title() and "answer: garden" in ax.get_title()
    assert ax.figure.get_size_inches()[0] <= 10
    plt.close("all")


def test_story_figure_wants_one_weight_per_sentence():
    with pytest.raises(ValueError, match="one weight per sentence"):
        story_figure(SENTENCES, "Where is Mary?", 0, [0.5, 0.5])


def test_distance_curve_has_a_legend_entry_per_curve_and_for_chance():
    _, ax = plt.subplots()
    distance_curve(ax, [0, 1, 2], {"LSTM": [1.0, 0.5, 0.2], "reader": [1.0, 1.0, 1.0]}, chance=1 / 6)
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["LSTM", "reader", "chance"]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["0", "1", "2"]
    with pytest.raises(ValueError, match="expected one per distance"):
        distance_curve(ax, [0, 1, 2], {"LSTM": [1.0, 0.5]})
    plt.close("all")


def test_distance_explorer_redraws_the_view_at_the_slider_value():
    seen = []

    def view(d):
        seen.append(d)
        story_figure(SENTENCES, "Where is Mary?", 2)

    explorer = distance_explorer(view, max_distance=5, value=1)
    explorer.slider.value = 4
    assert seen[-1] == 4
    plt.close("all")
