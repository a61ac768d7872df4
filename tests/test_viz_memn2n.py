"""MemN2N figures and the attention explorer (driven here by setting `widget.value`)."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
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


def test_hops_heatmap_marks_supporting_facts():
    model, s = model_for(QA2)
    ex = V.explain(model, s[0])
    fig, ax = plt.subplots()
    V.hops_heatmap(ax, ex)
    labels = [t.get_text() for t in ax.get_xticklabels()]
    assert labels == ["1 *", "2", "3", "4 *"]
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
