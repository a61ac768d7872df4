"""Independent answer checkers: re-derive every answer and support from the story text alone.

They share nothing with the generator but the file format: each reads the sentences as a
reader would, so they can be run on the official files and on ours alike (docs/babi_format.md §4.2).
Each module registers ``derive(story) -> [(answer, support), …]`` (one pair per question, in
order, support in the task's own order) in its ``CHECKERS`` dict.
"""

from __future__ import annotations

from memlib.babi.format import Story
from memlib.babi.oracle import actions, logic, reasoning

#: one checker per task, ``{task: derive(story) -> [(answer, support), …]}``
CHECKERS = dict(sorted({**actions.CHECKERS, **reasoning.CHECKERS, **logic.CHECKERS}.items()))


def checkers() -> dict:
    """All answer checkers, ``{task: derive}``."""
    return dict(CHECKERS)


def disagreements(task: int, stories: list[Story]) -> list[str]:
    """Every question whose written answer or support differs from the re-derived one."""
    derive = checkers().get(task)
    if derive is None:
        raise ValueError(f"no answer checker for bAbI task {task}")
    problems = []
    for s_no, story in enumerate(stories, start=1):
        derived = derive(story)
        for q, (answer, support) in zip(story.questions, derived):
            if q.answer != answer or list(q.support) != list(support):
                problems.append(
                    f"story {s_no}, line {q.id} {q.text!r}: file says {q.answer} {q.support}, "
                    f"checker derives {answer} {list(support)}"
                )
    return problems
