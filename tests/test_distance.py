"""The distance knob of the motivation notebook: the supporting fact sits exactly d statements back."""

import random
import re

import pytest

from memlib.babi.encode import samples, tokenize
from memlib.babi.format import Question, format_stories, parse
from memlib.babi.generate.distance import distance_stories, distance_story, words
from memlib.babi.world import ACTORS, LOCATIONS

MOVE_RE = re.compile(r"^(\w+) (?:went to|journeyed to|travelled to|moved to|went back to) the (\w+)\.$")


def replay(story):
    """Re-derive (answer, support, distance) from the sentences alone, as a reader would."""
    where, line_of = {}, {}
    for s in story.statements:
        actor, place = MOVE_RE.match(s.text).groups()
        where[actor], line_of[actor] = place, s.id
    q = story.questions[0]
    actor = re.fullmatch(r"Where is (\w+)\?", q.text).group(1)
    return where[actor], [line_of[actor]], len(story.statements) - line_of[actor]


@pytest.mark.parametrize("distance", [0, 1, 5, 11])
def test_supporting_fact_sits_distance_back_and_answer_is_derivable(distance):
    for story in distance_stories(50, distance, seed=3):
        assert len(story.statements) == 12 and len(story.lines) == 13
        q = story.questions[0]
        assert isinstance(story.lines[-1], Question)
        answer, support, d = replay(story)
        assert (q.answer, q.support, d) == (answer, support, distance)


def test_distractors_never_name_the_subject_and_moves_change_place():
    rng = random.Random(0)
    for _ in range(200):
        d = rng.randrange(10)
        story = distance_story(rng, d, length=10)
        subject = story.questions[0].text.split()[2][:-1]
        after = story.statements[story.questions[0].support[0]:]
        assert len(after) == d
        assert all(not s.text.startswith(subject) for s in after)
        seen = {}
        for s in story.statements:  # a move always goes somewhere new (when the old place is known)
            actor, place = MOVE_RE.match(s.text).groups()
            assert actor in ACTORS and place in LOCATIONS
            assert seen.get(actor) != place
            seen[actor] = place


def test_subject_also_moves_before_the_supporting_fact_so_recency_matters():
    stories = distance_stories(300, 3, seed=0, length=12)
    earlier = 0
    for story in stories:
        subject = story.questions[0].text.split()[2].rstrip("?")
        before = story.statements[: story.questions[0].support[0] - 1]
        earlier += any(s.text.startswith(subject + " ") for s in before)
    assert earlier > 150  # most stories name the subject earlier too, usually somewhere else


def test_seeded_deterministic_and_round_trips_in_the_official_format():
    a = format_stories(distance_stories(20, range(12), seed=7))
    assert a == format_stories(distance_stories(20, range(12), seed=7))
    assert a != format_stories(distance_stories(20, range(12), seed=8))
    assert format_stories(parse(a)) == a
    assert "? \t" in a  # task 1's space before the TAB


def test_mixed_distances_cover_the_range_and_samples_point_at_the_right_slot():
    stories = distance_stories(400, range(12), seed=0)
    ds = [replay(s)[2] for s in stories]
    assert set(ds) == set(range(12))
    for story, sample, d in zip(stories, samples(stories), ds):
        assert sample.support == [len(sample.memories) - 1 - d]
        assert sample.answer == story.questions[0].answer


def test_bad_distances_say_what_was_expected():
    with pytest.raises(ValueError, match=r"distance must be in 0..11"):
        distance_stories(3, 12)
    with pytest.raises(ValueError, match=r"0..4"):
        distance_story(random.Random(0), -1, length=5)
    with pytest.raises(ValueError, match="at least one distance"):
        distance_stories(3, [])


def test_words_cover_every_story_and_actors_knob_limits_the_cast():
    seen = set()
    for story in distance_stories(300, range(8), seed=0, length=8, actors=2):
        names = {s.text.split()[0] for s in story.statements}
        assert len(names) <= 2
        for line in story.lines:
            seen.update(tokenize(line.text))
        seen.add(story.questions[0].answer)
    assert seen <= set(words()) and len(words()) == 19  # task 1's vocabulary
    with pytest.raises(ValueError, match=r"actors must be in 2..4"):
        distance_stories(1, 0, actors=5)


def test_motivation_figures_and_the_distance_slider():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from memlib.viz.motivation import distance_curve, distance_explorer, story_figure
    from memlib.viz.plots import TRUE_COLOR

    calls = []
    box = distance_explorer(calls.append, max_distance=9, value=4)
    box.slider.value = 7
    assert calls == [4, 7] and box.slider.max == 9
    fig, ax = plt.subplots()
    distance_curve(ax, range(3), {"LSTM": [1.0, 0.5, 0.2]}, chance=1 / 6)
    assert len(ax.lines) == 2 and list(ax.lines[0].get_ydata()) == [1.0, 0.5, 0.2]
    with pytest.raises(ValueError, match="one per distance"):
        distance_curve(ax, range(3), {"LSTM": [1.0]})
    ax = story_figure(["Mary went to the office.", "John moved to the garden."], "Where is John?", 1,
                      [0.25, 0.75], answers={"LSTM": "office"}, truth="garden")
    assert "LSTM: office" in ax.get_title() and "answer: garden" in ax.get_title()
    assert ax.get_yticklabels()[1].get_color() == TRUE_COLOR
    assert [round(p.get_width(), 2) for p in ax.patches] == [0.25, 0.75]
    with pytest.raises(ValueError, match="one weight per sentence"):
        story_figure(["a"], "q?", 0, [0.5, 0.5])
    plt.close("all")
