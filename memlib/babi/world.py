"""The simulated world shared by the bAbI action tasks: actors, places, objects, templates.

Vocabulary and sentence forms follow the released bAbI v1.2 data (Weston et al. 2016, §4; docs/babi_format.md §2).

A story keeps two layers (§2.3):

- the **hidden true state**: where every actor is, where every free object lies and who holds
  which object. Everything starts in a uniformly random place that is never stated; objects
  move with their holder;
- the **reader knowledge**: what the sentences told so far prove, each fact tied to the
  statement that proves it (an actor's latest move, an object's latest get/drop/give, the
  moves made while carrying an object, …). Answers and supporting facts come from this
  layer only, and the helpers assert that it agrees with the true state.

Typical use (one story of task 2)::

    world = World(rng)
    for _ in range(2):
        world.tell(world.sample({"move": .5, "get": .25, "drop": .25}), drop_there=.2)
    known = world.object_place("milk")  # (place, [get/drop line, move line]) or None
    world.ask("Where is the milk?", known[0], known[1])
    story = world.story()

A **clause** is one actor doing one thing (§2.5); every event is a `Clause`, and
`World.clauses` lists them in story order (a sentence such as "Mary and John went to the
kitchen." is two clauses on one line).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from memlib.babi.format import Question, Statement, Story

ACTORS = ("Mary", "Sandra", "John", "Daniel")
PRONOUN = {"Mary": "she", "Sandra": "she", "John": "he", "Daniel": "he"}
LOCATIONS = ("bathroom", "bedroom", "garden", "hallway", "kitchen", "office")
OBJECTS = ("apple", "football", "milk")

# One surface form is drawn uniformly for every sentence (docs/babi_format.md §2.2).
MOVE = ("went to", "journeyed to", "travelled to", "moved to", "went back to")
GET = ("got", "grabbed", "picked up", "took")
DROP = ("dropped", "left", "discarded", "put down")
GIVE = ("gave", "handed", "passed")

#: per task: the chance that a get / a drop sentence ends with " there" (§2.2) [measured]
THERE = {
    2: (1.0, 0.2),
    3: (0.19, 0.21),
    5: (1.0, 0.19),
    6: (1.0, 0.2),
    7: (1.0, 0.2),
    8: (1.0, 0.2),
    20: (1.0, 0.0),
}

#: the event kinds of the action tasks
KINDS = ("move", "get", "drop", "give")


@dataclass(eq=False, slots=True)
class Clause:
    """One actor doing one thing: ``move`` to `place`, ``get``/``drop`` `obj`, ``give`` `obj` `to`.

    `place` is the actor's (true) location after the event. `line` is the ID of the statement
    that tells it. For get/drop/give, `seen` is the actor's latest move clause at that moment
    (the statement that proves where it happened), or None if the reader cannot know.
    """

    kind: str
    actor: str
    place: str
    obj: str | None = None
    to: str | None = None
    line: int = 0
    seen: Clause | None = None


@dataclass(eq=False)
class Episode:
    """An object's carrying episode: from a pick-up (or receipt) to its drop, or to now."""

    holder: str
    start: Clause  # the get (or give) that began it
    moves: list = field(default_factory=list)  # the holder's move clauses while carrying it
    end: Clause | None = None  # the drop or give that ended it


class World:
    """One story's world: hidden true state, the clauses told so far, and what a reader knows."""

    def __init__(self, rng: random.Random, actors=ACTORS, locations=LOCATIONS, objects=OBJECTS):
        self.rng = rng
        self.actors, self.locations, self.objects = tuple(actors), tuple(locations), tuple(objects)
        self._elsewhere = {p: tuple(q for q in self.locations if q != p) for p in self.locations}
        # hidden true state: uniformly random start, never stated (§2.3)
        self.at = {a: rng.choice(self.locations) for a in self.actors}
        self.lying = {o: rng.choice(self.locations) for o in self.objects}  # where a free object lies
        self.holder: dict[str, str | None] = {o: None for o in self.objects}
        # the story so far
        self.lines: list = []
        self.clauses: list[Clause] = []
        # reader knowledge
        self.last_move: dict[str, Clause] = {}  # actor -> latest move (proves where the actor is)
        self.last_event: dict[str, Clause] = {}  # object -> latest get/drop/give of it
        self.episode: dict[str, Episode] = {}  # object -> its latest carrying episode
        self.events_of: dict[str, list] = {a: [] for a in self.actors}  # get/drop/give/receive clauses
        self.first_taken: dict[str, list] = {a: [] for a in self.actors}  # objects by first involvement

    # ---- the true state ----------------------------------------------------------------
    def held_by(self, actor: str) -> list[str]:
        """The objects `actor` holds now (true state), in the order of `objects`."""
        return [o for o in self.objects if self.holder[o] == actor]

    def instances(self, kind: str) -> list:
        """Every valid instance of an event kind in the current true state (§2.3 rules)."""
        at, holder = self.at, self.holder
        if kind == "move":
            return [(a, p) for a in self.actors for p in self.locations if p != at[a]]
        if kind == "get":
            return [
                (a, o)
                for o in self.objects
                if holder[o] is None
                for a in self.actors
                if at[a] == self.lying[o]
            ]
        if kind == "drop":
            return [(holder[o], o) for o in self.objects if holder[o] is not None]
        if kind == "give":
            return [
                (holder[o], o, b)
                for o in self.objects
                if holder[o] is not None
                for b in self.actors
                if b != holder[o] and at[b] == at[holder[o]]
            ]
        raise ValueError(f"unknown event kind {kind!r}; expected one of {KINDS}")

    def sample(self, weights: dict[str, float]) -> Clause:
        """Draw an event kind by weight, then one of its valid instances uniformly (re-draw if none).

        The clause is not applied yet: pass it to `tell` (or `apply`).
        """
        kinds, total = list(weights), sum(weights.values())
        rng = self.rng
        for _ in range(1000):
            r, kind = rng.random() * total, kinds[-1]
            for k in kinds:
                r -= weights[k]
                if r < 0:
                    kind = k
                    break
            if kind == "move":  # uniform actor, then uniform over the other rooms (= uniform instance)
                actor = pick(rng, self.actors)
                return Clause("move", actor, pick(rng, self._elsewhere[self.at[actor]]))
            found = self.instances(kind)
            if found:
                inst = pick(rng, found)
                if kind == "give":
                    return Clause("give", inst[0], self.at[inst[0]], obj=inst[1], to=inst[2])
                return Clause(kind, inst[0], self.at[inst[0]], obj=inst[1])
        raise RuntimeError(f"no valid event among {kinds} in 1000 draws")

    # ---- telling the story -------------------------------------------------------------
    def apply(self, c: Clause, line: int | None = None) -> Clause:
        """Apply a clause to the true state and the reader knowledge; `line` defaults to the next line."""
        c.line = len(self.lines) + 1 if line is None else line
        a, o = c.actor, c.obj
        if c.kind == "move":
            assert c.place != self.at[a], f"{a} is already in the {c.place}"
            self.at[a] = c.place
            self.last_move[a] = c
            for obj in self.objects:
                if self.holder[obj] == a:
                    self.episode[obj].moves.append(c)
        elif c.kind == "get":
            assert self.holder[o] is None and self.lying[o] == self.at[a], f"{a} cannot get the {o}"
            self.holder[o] = a
            self._object_event(c)
            self.episode[o] = Episode(a, c)
            self._involve(a, o, c)
        elif c.kind == "drop":
            assert self.holder[o] == a, f"{a} does not hold the {o}"
            self.holder[o] = None
            self.lying[o] = self.at[a]
            self._object_event(c)
            self.episode[o].end = c
            self.events_of[a].append(c)
        elif c.kind == "give":
            b = c.to
            assert self.holder[o] == a and b != a and self.at[b] == self.at[a], (
                f"{a} cannot give the {o} to {b}"
            )
            self.holder[o] = b
            self._object_event(c)
            self.episode[o].end = c
            self.episode[o] = Episode(b, c)
            self.events_of[a].append(c)
            self._involve(b, o, c)
        else:
            raise ValueError(f"unknown event kind {c.kind!r}; expected one of {KINDS}")
        self.clauses.append(c)
        return c

    def _object_event(self, c: Clause) -> None:
        c.seen = self.last_move.get(c.actor)
        self.last_event[c.obj] = c

    def _involve(self, actor: str, obj: str, c: Clause) -> None:
        self.events_of[actor].append(c)
        if obj not in self.first_taken[actor]:
            self.first_taken[actor].append(obj)

    def say(self, text: str) -> int:
        """Add a statement line; return its ID."""
        self.lines.append(Statement(len(self.lines) + 1, text))
        return len(self.lines)

    def tell(self, c: Clause, get_there: float = 1.0, drop_there: float = 0.2) -> Clause:
        """Apply a clause and add its sentence (see `render`)."""
        self.apply(c)
        self.say(render(c, self.rng, get_there, drop_there))
        return c

    def ask(self, text: str, answer: str, support, space_before_tab: bool = True) -> Question:
        """Add a question line (text without the trailing space, e.g. "Where is Mary?")."""
        q = Question(len(self.lines) + 1, text, answer, list(support), space_before_tab)
        self.lines.append(q)
        return q

    def story(self) -> Story:
        """The story told so far."""
        return Story(self.lines)

    @property
    def n_questions(self) -> int:
        return sum(isinstance(x, Question) for x in self.lines)

    # ---- what the reader knows ---------------------------------------------------------
    def recent(self, n: int = 5) -> list[Clause]:
        """The last `n` clauses of the story (fewer at the start): the subject window of §2.5."""
        return self.clauses[-n:]

    def actor_place(self, actor: str) -> tuple[str, int] | None:
        """(location, line of the latest move) if the reader knows where `actor` is, else None."""
        m = self.last_move.get(actor)
        if m is None:
            return None
        assert m.place == self.at[actor]
        return m.place, m.line

    def object_place(self, obj: str) -> tuple[str, list[int]] | None:
        """(location, [latest get/drop line, line proving the location]) if the reader knows it.

        On the floor: [its drop line, the dropper's move in force at the drop]. Held: known
        only once the holder has moved while carrying it: [its get line, the holder's latest
        move]. (A holder's move *before* the get does not count: with that rule the
        statistics of task 2 match the released data; without it they do not.)
        """
        ev = self.last_event.get(obj)
        if ev is None:
            return None
        if ev.kind == "drop":
            if ev.seen is None:
                return None
            assert ev.seen.place == self.lying[obj]
            return ev.seen.place, [ev.line, ev.seen.line]
        moves = self.episode[obj].moves
        if not moves:
            return None
        assert moves[-1].place == self.at[self.holder[obj]]
        return moves[-1].place, [ev.line, moves[-1].line]

    def carrying(self, actor: str) -> list[str]:
        """The objects the reader knows `actor` holds, in order of first involvement (task 8).

        Read from the actor's own get/drop/give/receipt clauses: an object is held when the
        actor's latest clause about it is a get or a receipt.
        """
        latest = {c.obj: c for c in self.events_of[actor]}
        held = [o for o in self.first_taken[actor] if latest[o].kind == "get" or latest[o].to == actor]
        assert sorted(held) == sorted(self.held_by(actor))
        return held


def pick(rng: random.Random, seq):
    """A uniformly random element of a non-empty sequence (faster than ``rng.choice``)."""
    return seq[int(rng.random() * len(seq))]


def render(c: Clause, rng: random.Random, get_there: float = 1.0, drop_there: float = 0.2) -> str:
    """The sentence of a clause, with a uniformly drawn verb variant (§2.2).

    `get_there` / `drop_there`: the chance that a get / drop sentence ends with " there"
    (per task in `THERE`).
    """
    if c.kind == "move":
        return f"{c.actor} {pick(rng, MOVE)} the {c.place}."
    if c.kind == "get":
        there = " there" if get_there >= 1.0 or rng.random() < get_there else ""
        return f"{c.actor} {pick(rng, GET)} the {c.obj}{there}."
    if c.kind == "drop":
        there = " there" if rng.random() < drop_there else ""
        return f"{c.actor} {pick(rng, DROP)} the {c.obj}{there}."
    if c.kind == "give":
        return f"{c.actor} {pick(rng, GIVE)} the {c.obj} to {c.to}."
    raise ValueError(f"unknown event kind {c.kind!r}; expected one of {KINDS}")
