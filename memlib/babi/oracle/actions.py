"""Answer checkers of the bAbI action tasks 1, 2, 3, 5, 6, 7 and 8 (docs/babi_format.md §3).

A `Reader` reads the statements one by one with regular expressions, as a person would, and
keeps only what the text proves: where each actor last went, who holds or dropped each
object, the moves made while carrying it, who gave what to whom. Each task's question is
then answered from that record, with the supporting line IDs in the task's order. Nothing
is shared with the generator (docs/babi_format.md §4.2 item 2).
"""

from __future__ import annotations

import re

from memlib.babi.format import Question, Story

_MOVE = re.compile(r"(\w+) (?:went back|went|journeyed|travelled|moved) to the (\w+)\.")
_GET = re.compile(r"(\w+) (?:got|grabbed|picked up|took) the (\w+)(?: there)?\.")
_DROP = re.compile(r"(\w+) (?:dropped|left|discarded|put down) the (\w+)(?: there)?\.")
_GIVE = re.compile(r"(\w+) (?:gave|handed|passed) the (\w+) to (\w+)\.")


class Reader:
    """What a reader knows after the statements read so far, each fact with its line ID."""

    def __init__(self):
        self.moves: dict[str, list] = {}  # actor -> [(line, place), …]
        self.holder: dict[str, str | None] = {}  # object -> who holds it (None: on the floor)
        self.taken: dict[str, tuple] = {}  # object -> (line, actor) of its latest get (or receipt)
        self.last: dict[str, int] = {}  # object -> line of its latest get/drop/give
        self.floor: dict[str, tuple] = {}  # dropped object -> (drop line, (move line, place) or None)
        self.touches: dict[str, list] = {}  # actor -> [(line, object)] got/dropped/gave/received
        self.gives: list = []  # [(line, giver, object, recipient)]

    def read(self, line_id: int, text: str) -> None:
        """Take in one statement; raise ValueError on a sentence this task family never uses."""
        if m := _MOVE.fullmatch(text):
            actor, place = m.groups()
            self.moves.setdefault(actor, []).append((line_id, place))
        elif m := _GET.fullmatch(text):
            actor, obj = m.groups()
            self._take(line_id, actor, obj)
            self.touches.setdefault(actor, []).append((line_id, obj))
        elif m := _DROP.fullmatch(text):
            actor, obj = m.groups()
            if self.holder.get(obj) != actor:
                raise ValueError(f"line {line_id}: {actor} drops the {obj} without holding it")
            self.holder[obj] = None
            self.last[obj] = line_id
            self.floor[obj] = (line_id, self.position(actor))
            self.touches.setdefault(actor, []).append((line_id, obj))
        elif m := _GIVE.fullmatch(text):
            giver, obj, to = m.groups()
            if self.holder.get(obj) != giver:
                raise ValueError(f"line {line_id}: {giver} gives the {obj} without holding it")
            self._take(line_id, to, obj)
            self.touches.setdefault(giver, []).append((line_id, obj))
            self.touches.setdefault(to, []).append((line_id, obj))
            self.gives.append((line_id, giver, obj, to))
        else:
            raise ValueError(f"line {line_id}: cannot read {text!r}")

    def _take(self, line_id: int, actor: str, obj: str) -> None:
        self.holder[obj] = actor
        self.taken[obj] = (line_id, actor)
        self.last[obj] = line_id

    def position(self, actor: str) -> tuple[int, str] | None:
        """(line, place) of the actor's latest move, or None."""
        moves = self.moves.get(actor)
        return moves[-1] if moves else None

    def carried_moves(self, obj: str) -> list:
        """[(line, place)] of the moves its latest taker made while carrying the object."""
        line, actor = self.taken[obj]
        until = self.last[obj] if self.holder[obj] is None else None  # dropped since: stop there
        return [(i, p) for i, p in self.moves.get(actor, []) if i > line and (until is None or i < until)]


def _unknown():
    return ("?", [])


# ---- per-task question readers: (reader, question text) -> (answer, support) --------------
def _where_actor(r: Reader, text: str):
    actor = re.fullmatch(r"Where is (\w+)\?", text).group(1)
    pos = r.position(actor)
    return (pos[1], [pos[0]]) if pos else _unknown()


def _where_object(r: Reader, text: str):
    obj = re.fullmatch(r"Where is the (\w+)\?", text).group(1)
    if obj not in r.holder:
        return _unknown()
    if r.holder[obj] is None:  # on the floor: where the dropper was known to be
        drop_line, pos = r.floor[obj]
        return (pos[1], [drop_line, pos[0]]) if pos else _unknown()
    pos = r.position(r.holder[obj])  # carried: where the holder is
    return (pos[1], [r.taken[obj][0], pos[0]]) if pos else _unknown()


def _where_before(r: Reader, text: str):
    obj, place = re.fullmatch(r"Where was the (\w+) before the (\w+)\?", text).groups()
    if obj not in r.taken:
        return _unknown()
    moves = r.carried_moves(obj)
    pairs = [(a, b) for a, b in zip(moves, moves[1:]) if b[1] == place]
    if not pairs:
        return _unknown()
    x, l = pairs[-1]  # (a story never asks when two pairs lead into the same place)
    return x[1], [r.last[obj], l[0], x[0]]


_GIVE_QUESTIONS = (  # task 5: (question pattern, what it names, what it asks)
    (re.compile(r"What did (?P<giver>\w+) give to (?P<to>\w+)\?"), "obj"),
    (re.compile(r"Who gave the (?P<obj>\w+) to (?P<to>\w+)\?"), "giver"),
    (re.compile(r"Who gave the (?P<obj>\w+)\?"), "giver"),
    (re.compile(r"Who did (?P<giver>\w+) give the (?P<obj>\w+) to\?"), "to"),
    (re.compile(r"Who received the (?P<obj>\w+)\?"), "to"),
)


def _who_gave(r: Reader, text: str):
    for pattern, asked in _GIVE_QUESTIONS:
        if m := pattern.fullmatch(text):
            named, wanted = m.groupdict(), asked
            break
    else:
        raise ValueError(f"not a task-5 question: {text!r}")
    for line, giver, obj, to in reversed(r.gives):  # the latest give that fits what the question names
        give = {"giver": giver, "obj": obj, "to": to}
        if all(give[k] == v for k, v in named.items()):
            return give[wanted], [line]
    return _unknown()


def _is_in(r: Reader, text: str):
    actor, place = re.fullmatch(r"Is (\w+) in the (\w+)\?", text).groups()
    pos = r.position(actor)
    if pos is None:
        return _unknown()
    return ("yes" if pos[1] == place else "no"), [pos[0]]


_NUMBER = ("none", "one", "two", "three")


def _how_many(r: Reader, text: str):
    actor = re.fullmatch(r"How many objects is (\w+) carrying\?", text).group(1)
    held = sum(1 for holder in r.holder.values() if holder == actor)
    return _NUMBER[held], [line for line, _ in r.touches.get(actor, [])]


def _what_carried(r: Reader, text: str):
    actor = re.fullmatch(r"What is (\w+) carrying\?", text).group(1)
    touched = r.touches.get(actor, [])
    order = list(dict.fromkeys(obj for _, obj in touched))  # first contact first
    held = [obj for obj in order if r.holder.get(obj) == actor]
    support = [line for obj in order for line, o in touched if o == obj]
    return (",".join(held) or "nothing"), support


QUESTIONS = {
    1: _where_actor,
    2: _where_object,
    3: _where_before,
    5: _who_gave,
    6: _is_in,
    7: _how_many,
    8: _what_carried,
}


def _derive(task: int, story: Story) -> list[tuple[str, list[int]]]:
    reader, answer = Reader(), QUESTIONS[task]
    found = []
    for line in story.lines:
        if isinstance(line, Question):
            found.append(answer(reader, line.text))
        else:
            reader.read(line.id, line.text)
    return found


def _checker(task: int):
    def derive(story: Story) -> list[tuple[str, list[int]]]:
        return _derive(task, story)

    derive.__doc__ = f"Re-derive the answers and supports of a task-{task} story from its text."
    return derive


CHECKERS = {task: _checker(task) for task in QUESTIONS}
