"""Generators of the bAbI action tasks 1, 2, 3, 5, 6, 7 and 8 (docs/babi_format.md §2, §3).

All of them tell a story in blocks of two statements drawn from the simulated `World`
(moves, gets, drops and, in tasks 5 and 7, gives). After each block the task tries to ask
one question; a story ends right after its 5th question (§2.4). The question's subject is
drawn from the last five clauses that qualify for the task (§2.5), and its answer and
supporting facts come from what the reader can know, never from the hidden state alone.

Every task asks as soon as a qualifying clause exists. Event weights were calibrated so that
the statistics of 10k generated questions match the released data (babi_stats_en.json); see
tests/test_babi_generate_actions.py.
"""

from __future__ import annotations

import random

from memlib.babi.format import Story
from memlib.babi.world import ACTORS, THERE, World, pick

QUESTIONS_PER_STORY = 5
BLOCK = 2  # statements between two chances to ask (§2.4)

#: event weights per task (move/get/drop/give), calibrated to the measured event mixes (§2.3)
WEIGHTS = {
    1: {"move": 1.0},
    2: {"move": 0.50, "get": 0.25, "drop": 0.25},
    3: {"move": 0.52, "get": 0.26, "drop": 0.22},
    5: {"move": 0.33, "get": 0.20, "drop": 0.10, "give": 0.33},
    6: {"move": 0.54, "get": 0.28, "drop": 0.18},
    7: {"move": 0.32, "get": 0.14, "drop": 0.12, "give": 0.42},
    8: {"move": 0.55, "get": 0.25, "drop": 0.20},
}

WINDOW = 5  # the last five clauses (§2.5)


def _story(rng: random.Random, task: int, question, actors=ACTORS) -> Story:
    """Blocks of two statements, each followed by a question if one qualifies, until 5 questions."""
    world = World(rng, actors)
    weights = WEIGHTS[task]
    get_there, drop_there = THERE.get(task, (1.0, 0.2))
    asked = 0
    while asked < QUESTIONS_PER_STORY:
        for _ in range(BLOCK):
            world.tell(world.sample(weights), get_there, drop_there)
        q = question(world, rng)
        if q is not None:
            text, answer, support = q
            world.ask(text, answer, support)
            asked += 1
    return world.story()


# ---- task 1: single supporting fact ------------------------------------------------------
def _q1(world: World, rng: random.Random):
    actor = pick(rng, [c.actor for c in world.recent(WINDOW) if c.kind == "move"])
    place, line = world.actor_place(actor)
    return f"Where is {actor}?", place, [line]


def story1(rng: random.Random) -> Story:
    """Task 1: moves only; "Where is A?" after every two statements."""
    return _story(rng, 1, _q1)


# ---- task 2: two supporting facts --------------------------------------------------------
# Asking with probability 0.75 roughly reproduces the gaps between questions; asking always,
# with a held object's place known only after its holder moved while carrying it
# (`World.object_place`), matches the data better: gaps, first-question timing, repeats and
# the distance back to the object's latest get/drop all come out as measured.
def _q2(world: World, rng: random.Random):
    found = [c.obj for c in world.recent(WINDOW) if c.kind in ("get", "drop") and world.object_place(c.obj)]
    if not found:
        return None
    obj = pick(rng, found)
    place, support = world.object_place(obj)
    return f"Where is the {obj}?", place, support


def story2(rng: random.Random) -> Story:
    """Task 2: "Where is the O?" with support [latest get/drop of O, the line proving its place]."""
    return _story(rng, 2, _q2)


# ---- task 3: three supporting facts ------------------------------------------------------
#: how the move pair is picked in an episode with n carrying moves (oldest pair first) [measured]
PAIR_WEIGHTS = {2: (1.0,), 3: (0.41, 0.59), 4: (0.16, 0.38, 0.45), 5: (0.08, 0.22, 0.34, 0.36)}


def _pairs(moves: list) -> list:
    """Consecutive move pairs (to X, then to L) whose L is not the L of another pair, with weights.

    Pairs that share their L with another pair of the episode would make "before the L"
    ambiguous for a reader, so they are not asked about.
    """
    n = len(moves)
    weights = PAIR_WEIGHTS.get(n) or tuple(1.0 + i / (n - 2) for i in range(n - 1))
    dest = [m.place for m in moves[1:]]
    return [((moves[i], moves[i + 1]), weights[i]) for i in range(n - 1) if dest.count(dest[i]) == 1]


def _q3(world: World, rng: random.Random):
    found = [
        c.obj
        for c in world.recent(WINDOW)
        if c.kind in ("get", "drop") and len(world.episode[c.obj].moves) >= 2
    ]
    found = [o for o in found if _pairs(world.episode[o].moves)]
    if not found:
        return None
    obj = pick(rng, found)
    pairs = _pairs(world.episode[obj].moves)
    ((x, l),) = rng.choices([p for p, _ in pairs], [w for _, w in pairs])
    return f"Where was the {obj} before the {l.place}?", x.place, [world.last_event[obj].line, l.line, x.line]


def story3(rng: random.Random) -> Story:
    """Task 3: "Where was the O before the L?" about two consecutive moves of its latest carrier."""
    return _story(rng, 3, _q3)


# ---- task 5: three argument relations ----------------------------------------------------
ACTORS_5 = ("Bill", "Fred", "Jeff", "Mary")


def _q5(world: World, rng: random.Random):
    gives = [c for c in world.recent(WINDOW) if c.kind == "give"]
    if not gives:
        return None
    g = gives[-1]  # the most recent give (§3, task 5)
    a, o, b = g.actor, g.obj, g.to
    role, form = pick(rng, ("object", "giver", "recipient")), rng.random() < 0.5
    if role == "object":
        return f"What did {a} give to {b}?", o, [g.line]
    if role == "giver":
        return (f"Who gave the {o}?" if form else f"Who gave the {o} to {b}?"), a, [g.line]
    return (f"Who did {a} give the {o} to?" if form else f"Who received the {o}?"), b, [g.line]


def story5(rng: random.Random) -> Story:
    """Task 5: questions about the giver, the object or the recipient of the latest give."""
    return _story(rng, 5, _q5, ACTORS_5)


# ---- task 6: yes/no questions ------------------------------------------------------------
def _q6(world: World, rng: random.Random):
    found = [c.actor for c in world.recent(WINDOW) if c.actor in world.last_move]
    if not found:
        return None
    actor = pick(rng, found)
    place, line = world.actor_place(actor)
    if rng.random() < 0.5:
        return f"Is {actor} in the {place}?", "yes", [line]
    other = pick(rng, [p for p in world.locations if p != place])
    return f"Is {actor} in the {other}?", "no", [line]


def story6(rng: random.Random) -> Story:
    """Task 6: "Is A in the L?" about an actor of the last five clauses whose place is known."""
    return _story(rng, 6, _q6)


# ---- task 7: counting --------------------------------------------------------------------
NUMBERS = ("none", "one", "two", "three")


def _q7(world: World, rng: random.Random):
    found = [c.actor for c in world.recent(WINDOW) if c.kind != "move"]
    if not found:
        return None
    actor = pick(rng, found)
    support = [c.line for c in world.events_of[actor]]
    return f"How many objects is {actor} carrying?", NUMBERS[len(world.carrying(actor))], support


def story7(rng: random.Random) -> Story:
    """Task 7: "How many objects is A carrying?" citing every get/drop/give/receipt of A."""
    return _story(rng, 7, _q7)


# ---- task 8: lists/sets ------------------------------------------------------------------
def _q8(world: World, rng: random.Random):
    found = [c.actor for c in world.recent(WINDOW) if c.kind in ("get", "drop")]
    if not found:
        return None
    actor = pick(rng, found)
    events = world.events_of[actor]
    support = [c.line for obj in world.first_taken[actor] for c in events if c.obj == obj]
    held = world.carrying(actor)
    return f"What is {actor} carrying?", ",".join(held) if held else "nothing", support


def story8(rng: random.Random) -> Story:
    """Task 8: "What is A carrying?" in order of first pick-up, support grouped by object."""
    return _story(rng, 8, _q8)


GENERATORS = {1: story1, 2: story2, 3: story3, 5: story5, 6: story6, 7: story7, 8: story8}
