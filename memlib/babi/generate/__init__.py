"""Our bAbI generator: an independent re-implementation "in the style of bAbI".

Weston et al. 2015, *Towards AI-Complete Question Answering: A Set of Prerequisite Toy
Tasks* (arXiv:1502.05698). No code of the public Lua generator is used; the behaviour follows
the released v1.2 data as described in docs/babi_format.md. The data is CC BY 3.0 in the original;
our generated files are new data in the same format.

Each task module registers ``story(rng) -> Story`` functions in its ``GENERATORS`` dict; this
module turns them into files: stories are drawn until the wanted number of questions is
reached, and the last story is cut right after the last question that fits, as in the
official release. Train and test come from independent random streams; the 1k train file is
a prefix of the 10k one.
"""

from __future__ import annotations

import pathlib
import random

from memlib.babi.format import Question, Story, format_stories
from memlib.babi.generate import actions, logic, reasoning
from memlib.babi.tasks import filename

#: one story-drawing function per task, ``{task: story_fn(rng) -> Story}``
GENERATORS = dict(sorted({**actions.GENERATORS, **reasoning.GENERATORS, **logic.GENERATORS}.items()))


def generators() -> dict:
    """All task generators, ``{task: story_fn}``."""
    return dict(GENERATORS)


def rng_for(seed: int, task: int, split: str) -> random.Random:
    """The random stream of one (seed, task, split): independent across tasks and splits."""
    return random.Random(f"memlib-babi/{seed}/{task}/{split}")


def generate_stories(task: int, n_questions: int, seed: int = 0, split: str = "train") -> list[Story]:
    """Draw stories of `task` until `n_questions` questions, cutting the last story after the last one."""
    gens = generators()
    if task not in gens:
        raise ValueError(f"no generator for bAbI task {task} (available: {sorted(gens)})")
    story_fn, rng = gens[task], rng_for(seed, task, split)
    stories, count = [], 0
    while count < n_questions:
        story = story_fn(rng)
        stories.append(story)
        count += len(story.questions)
    return take_questions(stories, n_questions)


def generate(out, tasks=range(1, 21), size: str = "1k", seed: int = 0, progress=None) -> dict:
    """Write the official layout under `out`: ``en/`` (1k train + 1k test) and, for size 10k, ``en-10k/``.

    Returns ``{task: {"train": path, "test": path, ...}}``. `progress` (optional) is called
    once per task.
    """
    if size not in ("1k", "10k"):
        raise ValueError(f"size must be '1k' or '10k', not {size!r}")
    out = pathlib.Path(out)
    written = {}
    for task in tasks:
        train = generate_stories(task, 10_000 if size == "10k" else 1_000, seed, "train")
        test = generate_stories(task, 1_000, seed, "test")
        test_text = format_stories(test)
        paths = {}
        # the 1k train file is the first 1,000 questions of the 10k stream
        train_1k = take_questions(train, 1_000)
        for folder, train_stories in [("en", train_1k)] + ([("en-10k", train)] if size == "10k" else []):
            d = out / folder
            d.mkdir(parents=True, exist_ok=True)
            (d / filename(task, "train")).write_text(format_stories(train_stories), encoding="utf-8")
            (d / filename(task, "test")).write_text(test_text, encoding="utf-8")
            paths[folder] = d
        written[task] = paths
        if progress is not None:
            progress(task)
    return written


def take_questions(stories: list[Story], n_questions: int) -> list[Story]:
    """The first `n_questions` questions' worth of stories, the last one cut after its question."""
    kept, count = [], 0
    for story in stories:
        n = len(story.questions)
        if count + n < n_questions:
            kept.append(story)
            count += n
            continue
        seen = 0
        for keep, line in enumerate(story.lines, start=1):
            if isinstance(line, Question):
                seen += 1
                if count + seen == n_questions:
                    kept.append(Story(story.lines[:keep]))
                    return kept
    return kept
