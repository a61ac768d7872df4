"""Stories whose supporting fact sits `distance` statements back: the motivation notebook's knob.

In the style of task 1 (single supporting fact): actors move between rooms, then one question
``Where is A?``. The statement that answers it, A's latest move, is followed by exactly
`distance` statements about the *other* actors, so a reader must carry A's location across
them. Every story has the same number of statements (`length`), so only the distance changes,
never the amount of text to read. Before the supporting fact, any actor moves, A included, so
"the last sentence that names A" is the rule to learn, not "any sentence that names A".

The records are ordinary `Story` objects, so `encode`, the LSTM and the memory networks read
them like any bAbI file. Not one of the 20 tasks: it is not registered in ``MODULES``.
"""

from __future__ import annotations

import random

from memlib.babi.format import Question, Statement, Story
from memlib.babi.world import ACTORS, LOCATIONS, MOVE


def distance_story(rng: random.Random, distance: int, length: int = 12, actors: int = 4) -> Story:
    """One story of `length` moves whose question's supporting fact is `distance` statements back.

    `actors` (2..4) people take part, drawn from task 1's four for each story.
    """
    _check(distance, length, actors)
    support = length - distance  # line ID of the supporting fact (lines count from 1)
    cast = rng.sample(ACTORS, actors)
    where = {a: rng.choice(LOCATIONS) for a in cast}  # hidden start, never stated
    target = rng.choice(cast)
    others = [a for a in cast if a != target]
    lines: list = []
    for line_id in range(1, length + 1):
        if line_id < support:
            actor = rng.choice(cast)
        elif line_id == support:
            actor = target
        else:
            actor = rng.choice(others)  # distractors: never the question's subject
        where[actor] = rng.choice([p for p in LOCATIONS if p != where[actor]])
        lines.append(Statement(line_id, f"{actor} {rng.choice(MOVE)} the {where[actor]}."))
    lines.append(Question(length + 1, f"Where is {target}?", where[target], [support], space_before_tab=True))
    return Story(lines)


def distance_stories(n: int, distances, seed: int = 0, length: int = 12, actors: int = 4) -> list[Story]:
    """`n` seeded stories, each with a distance drawn uniformly from `distances` (an int or a list)."""
    choices = [distances] if isinstance(distances, int) else list(distances)
    if n < 0 or not choices:
        raise ValueError(f"need n >= 0 and at least one distance, got n={n}, distances={distances!r}")
    for d in choices:  # fail before drawing anything
        _check(d, length, actors)
    rng = random.Random(f"memlib-distance/{seed}/{length}/{actors}/{choices}")
    return [distance_story(rng, rng.choice(choices), length, actors) for _ in range(n)]


def _check(distance: int, length: int, actors: int) -> None:
    if not 2 <= actors <= len(ACTORS):
        raise ValueError(f"actors must be in 2..{len(ACTORS)}, got {actors}")
    if not 0 <= distance < length:
        raise ValueError(f"distance must be in 0..{length - 1} for stories of {length} statements, got {distance}")


def words() -> list[str]:
    """Every word that the knob's stories and questions use, sorted (their vocabulary)."""
    from memlib.babi.encode import tokenize

    text = " ".join([*ACTORS, *LOCATIONS, *MOVE, "the where is"])
    return sorted(set(tokenize(text)))
