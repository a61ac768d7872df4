"""Story generators for bAbI tasks 9–14: negation, indefinite knowledge, coreference, time.

All six tasks are moves-only: a story is a list of *clauses* (one actor doing one thing),
printed as sentences in blocks of two statements, each block followed by one question
(docs/babi_format.md §2.4, §3). The question's subject comes from the "last five clauses" rule
(§2.5): take the last 5 clauses, keep those that qualify, pick one uniformly.

Each ``story_*(rng)`` draws one complete story from the given `random.Random` only, so a
seed fixes the output. Weights marked "calibrated" were tuned by generating 10k questions
and comparing with the measured statistics of the official data (babi_stats_en.json).
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from memlib.babi.format import Question, Statement, Story, default_space_before_tab
from memlib.babi.world import ACTORS, LOCATIONS, MOVE, PRONOUN

#: tasks 10 and 14 use their own cast and places (docs/babi_format.md §3, tasks 10 and 14)
ACTORS_10_14 = ("Bill", "Fred", "Julie", "Mary")
LOCATIONS_10_14 = ("bedroom", "cinema", "kitchen", "office", "park", "school")

#: sentence openers of the coreference tasks 11 and 13, drawn uniformly
OPENERS = ("After that", "Afterwards", "Following that", "Then")

#: the four time slots of task 14, in time order
TIMES = ("yesterday", "this morning", "this afternoon", "this evening")

# Statement mixes (share of statements), measured on the official data.
MIX_9 = {"move": 0.495, "is": 0.24, "not": 0.1325, "no longer": 0.1325}
MIX_10 = {"move": 0.50, "is": 0.26, "either": 0.24}

P_YES_9 = 0.49  # task 9, latest statement positive: ask its own room (calibrated)
P_YES_10 = 0.54  # task 10, latest statement definite: ask its own room
P_MAYBE_10 = 0.58  # task 10, latest statement "either": ask one of its two rooms
P_FIRST_ASK_14 = 0.76  # task 14: ask after a first block of 2 statements (calibrated: first blocks 2/4/6)
P_LATEST_PAIR_14 = 0.56  # task 14: ask about the actor's latest pair of slots, else another pair


@dataclass
class Clause:
    """One actor doing one thing, printed on line `line`."""

    actor: str
    line: int


class StoryBuilder:
    """Numbers the lines of one story and keeps its clause list."""

    def __init__(self, task: int):
        self.space_before_tab = default_space_before_tab(task)
        self.lines: list = []
        self.clauses: list[Clause] = []

    def say(self, text: str, *actors: str) -> int:
        """Add a statement with one clause per actor; return its line ID."""
        line = len(self.lines) + 1
        self.lines.append(Statement(line, text))
        self.clauses.extend(Clause(actor, line) for actor in actors)
        return line

    def ask(self, text: str, answer: str, support: list[int]) -> None:
        """Add a question line."""
        self.lines.append(Question(len(self.lines) + 1, text, answer, list(support), self.space_before_tab))

    def story(self) -> Story:
        return Story(self.lines)


def last_five(rng: random.Random, clauses: list, qualifies=lambda clause: True):
    """The last-five-clauses rule (§2.5): a uniform pick among the qualifying last 5 clauses, or None."""
    window = [clause for clause in clauses[-5:] if qualifies(clause)]
    return rng.choice(window) if window else None


def other(rng: random.Random, places, *avoid: str) -> str:
    """A uniformly random place that is none of `avoid`."""
    return rng.choice([p for p in places if p not in avoid])


def weighted(rng: random.Random, weights: dict) -> str:
    """A key of `weights` drawn with probability proportional to its value."""
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def move(rng: random.Random, actor: str, place: str) -> str:
    """``A <verb> to the L`` with a uniformly drawn verb form (no full stop)."""
    return f"{actor} {rng.choice(MOVE)} the {place}"  # MOVE forms end in "to"


# --------------------------------------------------------------------------- task 9


def story_9(rng: random.Random) -> Story:
    """Simple negation: moves, ``A is in the L.``, ``A is (not|no longer) in the L.``; ask ``Is A in the L?``."""
    b = StoryBuilder(9)
    where = {a: rng.choice(LOCATIONS) for a in ACTORS}  # true location, never stated as such
    latest = {}  # actor → (line, room, is_negated) of the actor's latest statement
    for _ in range(5):
        for _ in range(2):
            actor = rng.choice(ACTORS)
            kind = weighted(rng, MIX_9)
            if kind in ("move", "is"):
                room = other(rng, LOCATIONS, where[actor])
                text = move(rng, actor, room) if kind == "move" else f"{actor} is in the {room}"
                where[actor] = room
            else:  # the negated room is where the actor is; they leave it for an unstated room
                room = where[actor]
                text = f"{actor} is {kind} in the {room}"
                where[actor] = other(rng, LOCATIONS, room)
            latest[actor] = (b.say(text + ".", actor), room, kind in ("not", "no longer"))
        actor = last_five(rng, b.clauses).actor
        line, room, negated = latest[actor]
        if negated:
            asked, answer = room, "no"
        elif rng.random() < P_YES_9:
            asked, answer = room, "yes"
        else:
            asked, answer = other(rng, LOCATIONS, room), "no"
        b.ask(f"Is {actor} in the {asked}?", answer, [line])
    return b.story()


# --------------------------------------------------------------------------- task 10


def story_10(rng: random.Random) -> Story:
    """Indefinite knowledge: moves, ``A is in the L.``, ``A is either in the L1 or the L2.``; yes/no/maybe."""
    b = StoryBuilder(10)
    where = {a: rng.choice(LOCATIONS_10_14) for a in ACTORS_10_14}
    latest = {}  # actor → (line, rooms the reader allows: one or two)
    for _ in range(5):
        for _ in range(2):
            actor = rng.choice(ACTORS_10_14)
            kind = weighted(rng, MIX_10)
            room = other(rng, LOCATIONS_10_14, where[actor])
            if kind == "either":  # the true room and a distractor, in random order
                rooms = [room, other(rng, LOCATIONS_10_14, where[actor], room)]
                rng.shuffle(rooms)
                text = f"{actor} is either in the {rooms[0]} or the {rooms[1]}"
            else:
                rooms = [room]
                text = move(rng, actor, room) if kind == "move" else f"{actor} is in the {room}"
            where[actor] = room
            latest[actor] = (b.say(text + ".", actor), rooms)
        actor = last_five(rng, b.clauses).actor
        line, rooms = latest[actor]
        if len(rooms) == 1:
            if rng.random() < P_YES_10:
                asked, answer = rooms[0], "yes"
            else:
                asked, answer = other(rng, LOCATIONS_10_14, *rooms), "no"
        elif rng.random() < P_MAYBE_10:
            asked, answer = rng.choice(rooms), "maybe"
        else:
            asked, answer = other(rng, LOCATIONS_10_14, *rooms), "no"
        b.ask(f"Is {actor} in the {asked}?", answer, [line])
    return b.story()


# --------------------------------------------------------------------------- task 11


def story_11(rng: random.Random) -> Story:
    """Basic coreference: 5 × (``A went to the L1.``, ``Then he went to the L2.``, ``Where is A?``)."""
    b = StoryBuilder(11)
    where = {a: rng.choice(LOCATIONS) for a in ACTORS}
    latest = {}  # actor → (named line, pronoun line)
    for _ in range(5):
        actor = rng.choice(ACTORS)
        first = other(rng, LOCATIONS, where[actor])
        named = b.say(move(rng, actor, first) + ".", actor)
        where[actor] = other(rng, LOCATIONS, first)
        pronoun = b.say(f"{rng.choice(OPENERS)} {move(rng, PRONOUN[actor], where[actor])}.", actor)
        latest[actor] = (named, pronoun)
        actor = last_five(rng, b.clauses).actor
        b.ask(f"Where is {actor}?", where[actor], list(latest[actor]))
    return b.story()


# --------------------------------------------------------------------------- task 12


def story_12(rng: random.Random) -> Story:
    """Conjunction: ``A and B went to the L.`` (two clauses), ask ``Where is A?`` after every two."""
    b = StoryBuilder(12)
    where = {a: rng.choice(LOCATIONS) for a in ACTORS}
    latest = {}  # actor → latest line naming them
    for _ in range(5):
        for _ in range(2):
            first, second = rng.sample(ACTORS, 2)
            room = other(rng, LOCATIONS, where[first], where[second])
            line = b.say(move(rng, f"{first} and {second}", room) + ".", first, second)
            for actor in (first, second):
                where[actor], latest[actor] = room, line
        actor = last_five(rng, b.clauses).actor
        b.ask(f"Where is {actor}?", where[actor], [latest[actor]])
    return b.story()


# --------------------------------------------------------------------------- task 13


def story_13(rng: random.Random) -> Story:
    """Compound coreference: 5 × (``A and B went to the L1.``, ``Then they went to the L2.``, question)."""
    b = StoryBuilder(13)
    where = {a: rng.choice(LOCATIONS) for a in ACTORS}
    latest = {}  # actor → (conjunction line, "they" line)
    for _ in range(5):
        pair = rng.sample(ACTORS, 2)
        first = other(rng, LOCATIONS, *(where[a] for a in pair))
        conj = b.say(move(rng, " and ".join(pair), first) + ".", *pair)
        second = other(rng, LOCATIONS, first)
        they = b.say(f"{rng.choice(OPENERS)} {move(rng, 'they', second)}.", *pair)
        for actor in pair:
            where[actor], latest[actor] = second, (conj, they)
        actor = last_five(rng, b.clauses).actor
        b.ask(f"Where is {actor}?", where[actor], list(latest[actor]))
    return b.story()


# --------------------------------------------------------------------------- task 14


@dataclass
class Event:
    """Actor `actor` was in `place` at time slot `slot` (index into TIMES)."""

    actor: str
    slot: int
    place: str


def next_event(rng: random.Random, timeline: dict) -> Event:
    """The next event in time: a uniform actor with a free slot takes their next slot."""
    actor = rng.choice([a for a in ACTORS_10_14 if len(timeline[a]) < len(TIMES)])
    places = timeline[actor]
    place = other(rng, LOCATIONS_10_14, *places[-1:])  # differs from the previous slot
    places.append(place)
    return Event(actor, len(places) - 1, place)


def time_sentence(rng: random.Random, event: Event) -> str:
    """``This morning Fred went to the kitchen.`` or ``Fred went to the kitchen this morning.``"""
    time = TIMES[event.slot]
    if rng.random() < 0.5:
        return f"{time.capitalize()} {move(rng, event.actor, event.place)}."
    return f"{move(rng, event.actor, event.place)} {time}."


def story_14(rng: random.Random) -> Story:
    """Time reasoning: blocks of time-stamped moves (shuffled inside a block); ``Where was A before the L?``."""
    b = StoryBuilder(14)
    timeline = {a: [] for a in ACTORS_10_14}  # actor → places in time order (the events drawn so far)
    stated = {a: {} for a in ACTORS_10_14}  # actor → {slot: line} of the slots printed so far
    events: list[Event] = []  # the clause list, in time order
    asked = 0
    while asked < 5:
        block = [next_event(rng, timeline) for _ in range(2)]
        events.extend(block)
        rng.shuffle(block)  # printed out of time order inside the block
        for event in block:
            stated[event.actor][event.slot] = b.say(time_sentence(rng, event), event.actor)
        # after a first block of only two statements the question is sometimes put off
        if len(events) == 2 and rng.random() >= P_FIRST_ASK_14:
            continue
        # subject: an actor of the last five events (in time order) with two stated slots
        clause = last_five(rng, events, lambda event: len(stated[event.actor]) >= 2)
        if clause is None:
            continue
        actor = clause.actor
        pairs = len(stated[actor]) - 1  # pair k is (slot k, slot k + 1)
        k = pairs - 1
        if pairs > 1 and rng.random() >= P_LATEST_PAIR_14:
            k = rng.randrange(pairs - 1)
        places, lines = timeline[actor], stated[actor]
        b.ask(f"Where was {actor} before the {places[k + 1]}?", places[k], [lines[k + 1], lines[k]])
        asked += 1
    return b.story()


GENERATORS = {9: story_9, 10: story_10, 11: story_11, 12: story_12, 13: story_13, 14: story_14}
