"""The one explorer base of the widgets: controls from a spec, an output area that redraws, a static twin.

An explorer shows one figure drawn from a few values (a task, a story, a time step, β …).
Its `draw` method takes those values and returns a matplotlib figure, so the same picture
exists without widgets: ``explorer.static(t=20)`` (or the module's figure function that
`draw` calls) is the static twin for nbval, a handout, or a reader without a kernel.

The widget adds one control per value, built from a spec (`Slider` or `Menu`, see `control`),
and an output area. Moving a control calls `refit` (to adjust the other controls' ranges; no
redraw meanwhile), then `update`, which redraws. In tests, set ``explorer.<name>.value`` and
read ``explorer.figure`` (nothing is rendered outside IPython).
"""

from __future__ import annotations

import abc
import dataclasses
from typing import Any

import matplotlib.pyplot as plt


@dataclasses.dataclass
class Slider:
    """A slider over min..max: whole numbers when `step` is None, else floats in steps of `step`."""

    description: str
    min: float
    max: float
    value: float
    step: float | None = None
    continuous: bool = True  # redraw while dragging (False: when released)
    readout: str | None = None  # the number format of a float slider, e.g. ".2f"


@dataclasses.dataclass
class Menu:
    """A drop-down menu of `options` (values, or (label, value) pairs)."""

    description: str
    options: list = dataclasses.field(default_factory=list)
    value: Any = None


def control(spec: Slider | Menu):
    """The ipywidgets control of a spec: an IntSlider, a FloatSlider or a Dropdown."""
    import ipywidgets as W

    if isinstance(spec, Menu):
        chosen = {} if spec.value is None else {"value": spec.value}
        return W.Dropdown(options=spec.options, description=spec.description, **chosen)
    options = dict(value=spec.value, min=spec.min, max=spec.max, description=spec.description)
    if not spec.continuous:
        options["continuous_update"] = False
    if spec.step is None:
        return W.IntSlider(**options)
    if spec.readout:
        options["readout_format"] = spec.readout
    return W.FloatSlider(step=spec.step, **options)


def show(output, fig) -> None:
    """Replace what `output` shows by `fig` (only under IPython: plain Python has nowhere to show it)."""
    from IPython import get_ipython

    if get_ipython() is None:
        return
    from IPython.display import display

    with output:
        output.clear_output(wait=True)
        display(fig)


class Explorer(abc.ABC):
    """Controls over `draw`: moving any control redraws the figure in the output area.

    A subclass sets what `draw` needs, then calls ``super().__init__(controls, rows, extra)``:
    `controls` maps each `draw` argument to its spec (each control becomes an attribute of
    that name), `rows` groups names into lines (default: all on one line), `extra` widgets go
    between the controls and the figure. Attributes: ``controls``, ``output``, ``figure``
    (the last one drawn) and ``widget`` (what a notebook displays).
    """

    def __init__(self, controls: dict[str, Slider | Menu], rows=None, extra=()):
        import ipywidgets as W

        self.controls = {name: control(spec) for name, spec in controls.items()}
        for name, widget in self.controls.items():
            setattr(self, name, widget)
        self.output = W.Output()
        self.figure = None
        lines = [[self.controls[name] for name in row] for row in (rows or [list(self.controls)])]
        self.widget = W.VBox([line[0] if len(line) == 1 else W.HBox(line) for line in lines]
                             + list(extra) + [self.output])
        self._busy = False
        self._moved(None)
        for name, widget in self.controls.items():
            widget.observe(lambda change, name=name: self._moved(name), names="value")

    @abc.abstractmethod
    def draw(self, **values):
        """The figure for these control values (the static twin); each explorer defines its own."""

    def refit(self, moved: str | None) -> None:  # noqa: B027 - a hook: most explorers have fixed ranges
        """Adjust the controls' ranges after control `moved` changed (None: at the start)."""

    def values(self) -> dict:
        """The controls' current values by name."""
        return {name: widget.value for name, widget in self.controls.items()}

    def static(self, **values):
        """The static twin: the figure for the current values, with `values` changed (controls untouched)."""
        fig = self.draw(**{**self.values(), **values})
        plt.close(fig)  # the caller shows it
        return fig

    def update(self, *_):
        """Redraw the figure for the controls' current values and show it in the output area."""
        self.figure = self.draw(**self.values())
        plt.close(self.figure)  # shown in the output area only, not again below the cell
        show(self.output, self.figure)

    def _moved(self, name: str | None) -> None:
        if self._busy:  # a range being refitted moved a value: redraw once, below
            return
        self._busy = True
        try:
            self.refit(name)
        finally:
            self._busy = False
        self.update()

    def _ipython_display_(self):
        from IPython.display import display

        display(self.widget)
