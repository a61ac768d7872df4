"""The notebooks' exercises: a registry of references, and the self-check a notebook calls.

In a notebook::

    from memlib import exercises
    exercises.check("ntm-sharpen", my_sharpen)   # prints ✓, or ✗ and what differs

Each exercise has an id ``"<notebook>-<what>"`` (``"ntm-sharpen"``, ``"memn2n-hop"``) and a
reference that lives here, never in the notebook (the student version must not contain it).
One module per notebook registers its references with `register` when imported: ``lstm``
(00), ``memnn`` (01), ``memn2n`` (02), ``ntm`` (03). Every module of this package is imported
on the first lookup, so a new module needs no other wiring::

    from memlib.exercises import register
    from memlib.models import addressing

    register(
        "ntm-sharpen",
        function=addressing.sharpen,
        inputs=lambda seed: (torch.rand(2, 1, 5, generator=torch.Generator().manual_seed(seed)),
                             torch.full((2, 1), 2.0)),
        wrong=lambda w_tilde, gamma: w_tilde ** gamma.unsqueeze(-1),   # a classic mistake
        hint="raise each weight to the power γ, then divide by the sum over the slots",
    )

One of ``function`` (the learner writes a function; both are called on ``inputs``: a list of
argument tuples or ``seed -> tuple``, three seeds by default), ``value`` (the learner computes a
value; a zero-argument callable is evaluated on the first check, e.g. to load a checkpoint) or
``judge`` (``answer -> list of problems`` for answers with several right forms). ``wrong`` is
an answer that must be rejected: the tests check that every exercise rejects its ``wrong`` and
accepts its reference, so each self-check is known to be able to fail. The comparisons
themselves are `memlib.check`'s.

In the instructor notebook, the solution sits between ``### BEGIN SOLUTION`` and
``### END SOLUTION`` lines and the check call follows in the same cell (see `memlib.course`).
"""

from __future__ import annotations

import dataclasses
import importlib
import pkgutil
from collections.abc import Callable
from typing import Any

from memlib.check import ATOL, RTOL, Result, cmp_function, compare, function_problems, verdict


@dataclasses.dataclass
class Exercise:
    """A registered exercise: how to judge an answer, and a known wrong answer."""

    id: str
    function: Callable | None = None
    inputs: Any = None
    value: Any = None
    judge: Callable | None = None
    wrong: Any = None
    seeds: tuple = (0, 1, 2)
    atol: float = ATOL
    rtol: float = RTOL
    hint: str = ""

    def expected(self):
        """The reference value of a value exercise (computed once when given as a callable)."""
        if callable(self.value):
            self.value = self.value()
        return self.value

    def reference(self):
        """A right answer: the reference function or value (None for judged exercises)."""
        return self.function if self.function is not None else (None if self.judge else self.expected())

    def problems(self, answer) -> list[str]:
        """What is wrong with `answer` (an empty list when it is right)."""
        if self.judge is not None:
            return list(self.judge(answer))
        if self.function is not None:
            return function_problems(answer, self.function, self.inputs, seeds=self.seeds,
                                     atol=self.atol, rtol=self.rtol)
        return compare(answer, self.expected(), atol=self.atol, rtol=self.rtol)


_REGISTRY: dict[str, Exercise] = {}
_loaded = False


def register(id: str, *, function: Callable | None = None, inputs=None, value=None,
             judge: Callable | None = None, wrong=None, seeds=(0, 1, 2), atol: float = ATOL,
             rtol: float = RTOL, hint: str = "") -> Exercise:
    """Register the reference of exercise `id` (exactly one of function+inputs, value, judge)."""
    given = [x is not None for x in (function, value, judge)]
    if sum(given) != 1:
        raise ValueError(f"exercise {id!r}: give exactly one of function=, value=, judge=")
    if function is not None and inputs is None:
        raise ValueError(f"exercise {id!r}: a function exercise needs inputs= (argument tuples or seed -> tuple)")
    ex = Exercise(id, function, inputs, value, judge, wrong, tuple(seeds), atol, rtol, hint)
    _REGISTRY[id] = ex
    return ex


def _load() -> None:
    """Import every topic module of this package once; each registers its notebook's references."""
    global _loaded
    if _loaded:
        return
    _loaded = True
    for info in pkgutil.iter_modules(__path__):
        importlib.import_module(f"{__name__}.{info.name}")


def all_exercises() -> dict[str, Exercise]:
    """All registered exercises by id."""
    _load()
    return dict(_REGISTRY)


def get(id: str) -> Exercise:
    """The registered exercise `id`; a KeyError names the known ids."""
    _load()
    if id not in _REGISTRY:
        raise KeyError(f"no exercise {id!r}; registered: {', '.join(sorted(_REGISTRY)) or 'none'}")
    return _REGISTRY[id]


def check(id: str, answer, *, show: bool = True) -> Result:
    """Check your answer to exercise `id` against memlib's reference; print ✓, or ✗ and what differs."""
    ex = get(id)
    if ex.function is not None:
        return cmp_function(id, answer, ex.function, ex.inputs, seeds=ex.seeds, atol=ex.atol,
                            rtol=ex.rtol, hint=ex.hint, show=show)
    return verdict(id, ex.problems(answer), "right", ex.hint, show)
