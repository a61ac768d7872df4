"""The explorer base: controls from specs, redraw on every move, ranges refitted without redraws, a static twin."""

import matplotlib

matplotlib.use("Agg")

import ipywidgets as W  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

from memlib.viz.explorer import Explorer, Menu, Slider, control  # noqa: E402


def test_control_builds_int_and_float_sliders_and_menus():
    s = control(Slider("n", 0, 5, 2))
    assert isinstance(s, W.IntSlider) and (s.min, s.max, s.value, s.description) == (0, 5, 2, "n")
    assert s.continuous_update is True
    f = control(Slider("β", 0.0, 20.0, 1.0, 0.5, continuous=False, readout=".2f"))
    assert isinstance(f, W.FloatSlider) and f.step == 0.5 and f.readout_format == ".2f"
    assert f.continuous_update is False
    m = control(Menu("task", [1, 2, 3], 2))
    assert isinstance(m, W.Dropdown) and m.value == 2 and m.options == (1, 2, 3)
    assert control(Menu("question")).options == ()


class Bars(Explorer):
    """n bars of height h; `h`'s range follows n (refit), every draw is counted."""

    def __init__(self):
        self.drawn = []
        super().__init__({"n": Slider("n", 1, 5, 2), "h": Slider("h", 0, 2, 1)}, rows=[["n"], ["h"]],
                         extra=[W.HTML("bars")])

    def refit(self, moved):
        if moved != "h":
            self.h.max = self.n.value

    def draw(self, n, h):
        self.drawn.append((n, h))
        fig, ax = plt.subplots()
        ax.bar(range(n), [h] * n)
        return fig


def test_every_move_redraws_once_and_refits_ranges_without_extra_draws():
    ex = Bars()
    assert ex.drawn == [(2, 1)] and ex.values() == {"n": 2, "h": 1}
    assert [type(c).__name__ for c in ex.widget.children] == ["IntSlider", "IntSlider", "HTML", "Output"]
    ex.h.value = 2
    assert ex.drawn[-1] == (2, 2) and len(ex.figure.axes[0].patches) == 2
    ex.n.value = 1  # h's range shrinks to 0..1: its value is clamped, one redraw only
    assert ex.h.max == 1 and ex.drawn[1:] == [(2, 2), (1, 1)]
    assert [p.get_height() for p in ex.figure.axes[0].patches] == [1]


def test_static_twin_draws_other_values_without_moving_the_controls():
    ex = Bars()
    fig = ex.static(n=4)
    assert len(fig.axes[0].patches) == 4 and ex.n.value == 2 and ex.figure is not fig
    plt.close("all")


def test_an_explorer_must_say_how_it_draws():
    class Blank(Explorer):
        pass

    with pytest.raises(TypeError, match="draw"):
        Blank({"n": Slider("n", 0, 1, 0)})
