"""The 20 bAbI QA tasks: ids, file-name slugs, titles (Weston et al. 2015)."""

from __future__ import annotations

SLUGS = {
    1: "single-supporting-fact",
    2: "two-supporting-facts",
    3: "three-supporting-facts",
    4: "two-arg-relations",
    5: "three-arg-relations",
    6: "yes-no-questions",
    7: "counting",
    8: "lists-sets",
    9: "simple-negation",
    10: "indefinite-knowledge",
    11: "basic-coreference",
    12: "conjunction",
    13: "compound-coreference",
    14: "time-reasoning",
    15: "basic-deduction",
    16: "basic-induction",
    17: "positional-reasoning",
    18: "size-reasoning",
    19: "path-finding",
    20: "agents-motivations",
}

TITLES = {
    1: "Single Supporting Fact",
    2: "Two Supporting Facts",
    3: "Three Supporting Facts",
    4: "Two Argument Relations",
    5: "Three Argument Relations",
    6: "Yes/No Questions",
    7: "Counting",
    8: "Lists/Sets",
    9: "Simple Negation",
    10: "Indefinite Knowledge",
    11: "Basic Coreference",
    12: "Conjunction",
    13: "Compound Coreference",
    14: "Time Reasoning",
    15: "Basic Deduction",
    16: "Basic Induction",
    17: "Positional Reasoning",
    18: "Size Reasoning",
    19: "Path Finding",
    20: "Agent's Motivations",
}

TASKS = tuple(SLUGS)

#: tasks whose question lines end with "? " before the TAB (the others: "?" then TAB)
SPACE_BEFORE_TAB = frozenset({1, 2, 3, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14})


def filename(task: int, split: str) -> str:
    """Official file name, e.g. ``qa1_single-supporting-fact_train.txt``."""
    if task not in SLUGS:
        raise ValueError(f"no bAbI task {task!r} (tasks are 1..20)")
    if split not in ("train", "test", "valid"):
        raise ValueError(f"split must be 'train', 'test' or 'valid', not {split!r}")
    return f"qa{task}_{SLUGS[task]}_{split}.txt"

#: lowercased word types per task in the official en data, answers included (docs/babi_format.md §4.2)
VOCAB_SIZES = dict(zip(TASKS, (19, 33, 34, 14, 39, 35, 43, 35, 23, 24, 26, 20, 26, 25, 17, 17, 18, 18, 23, 35)))
