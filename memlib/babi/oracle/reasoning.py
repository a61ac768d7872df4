"""Answer checkers for bAbI tasks 9–14, reading the sentences as a reader would.

Each ``derive_*(story)`` parses the English text with regular expressions, keeps what a
reader knows about every actor and the lines that prove it, and returns one
``(answer, support)`` per question. Nothing is shared with the generator but the word lists.
A sentence the checker cannot read raises `ValueError`; a question it cannot answer gets the
answer ``"?"`` (so it shows up as a disagreement).
"""

from __future__ import annotations

import re

from memlib.babi.format import Question, Story

VERB = r"(?:went back|went|journeyed|travelled|moved) to"
NAME = r"([A-Z][a-z]+)"
ROOM = r"([a-z]+)"
OPENER = r"(?:After that|Afterwards|Following that|Then)"
TIME = r"(yesterday|this morning|this afternoon|this evening)"
TIME_ORDER = ("yesterday", "this morning", "this afternoon", "this evening")
GENDER = {"Mary": "she", "Sandra": "she", "John": "he", "Daniel": "he"}

MOVE = re.compile(rf"{NAME} {VERB} the {ROOM}\.")
IS_IN = re.compile(rf"{NAME} is in the {ROOM}\.")
IS_NOT_IN = re.compile(rf"{NAME} is (?:not|no longer) in the {ROOM}\.")
EITHER = re.compile(rf"{NAME} is either in the {ROOM} or the {ROOM}\.")
PRONOUN_MOVE = re.compile(rf"{OPENER} (he|she) {VERB} the {ROOM}\.")
PAIR_MOVE = re.compile(rf"{NAME} and {NAME} {VERB} the {ROOM}\.")
THEY_MOVE = re.compile(rf"{OPENER} they {VERB} the {ROOM}\.")
TIME_FIRST = re.compile(rf"(Yesterday|This morning|This afternoon|This evening) {NAME} {VERB} the {ROOM}\.")
TIME_LAST = re.compile(rf"{NAME} {VERB} the {ROOM} {TIME}\.")

IS_A_IN = re.compile(rf"Is {NAME} in the {ROOM}\?")
WHERE_IS = re.compile(rf"Where is {NAME}\?")
WHERE_BEFORE = re.compile(rf"Where was {NAME} before the {ROOM}\?")


def unreadable(line) -> ValueError:
    return ValueError(f"line {line.id}: cannot read {line.text!r}")


def question_match(pattern: re.Pattern, line: Question) -> re.Match:
    m = pattern.fullmatch(line.text)
    if m is None:
        raise unreadable(line)
    return m


def derive_9(story: Story) -> list[tuple[str, list[int]]]:
    """Task 9: A's latest statement decides: ``is in L`` → yes iff asked L; ``is not in L`` → no."""
    known = {}  # actor → (room, positive?, line)
    out = []
    for line in story.lines:
        if isinstance(line, Question):
            actor, room = question_match(IS_A_IN, line).groups()
            if actor not in known:
                out.append(("?", []))
                continue
            said, positive, proof = known[actor]
            if positive:
                out.append(("yes" if room == said else "no", [proof]))
            else:  # only the negated room is known to be wrong
                out.append(("no" if room == said else "?", [proof]))
            continue
        for pattern, positive in ((MOVE, True), (IS_IN, True), (IS_NOT_IN, False)):
            m = pattern.fullmatch(line.text)
            if m:
                known[m.group(1)] = (m.group(2), positive, line.id)
                break
        else:
            raise unreadable(line)
    return out


def derive_10(story: Story) -> list[tuple[str, list[int]]]:
    """Task 10: A's latest statement gives one room (yes/no) or two rooms (maybe/no)."""
    known = {}  # actor → (set of possible rooms, line)
    out = []
    for line in story.lines:
        if isinstance(line, Question):
            actor, room = question_match(IS_A_IN, line).groups()
            if actor not in known:
                out.append(("?", []))
                continue
            rooms, proof = known[actor]
            if room not in rooms:
                out.append(("no", [proof]))
            else:
                out.append(("yes" if len(rooms) == 1 else "maybe", [proof]))
            continue
        m = MOVE.fullmatch(line.text) or IS_IN.fullmatch(line.text)
        if m:
            known[m.group(1)] = ({m.group(2)}, line.id)
        elif m := EITHER.fullmatch(line.text):
            known[m.group(1)] = ({m.group(2), m.group(3)}, line.id)
        else:
            raise unreadable(line)
    return out


def where_is(story: Story, read_statement) -> list[tuple[str, list[int]]]:
    """Answer every ``Where is A?`` from ``known[A] = (room, proof lines)`` kept by `read_statement`."""
    known: dict = {}
    state: dict = {}  # whatever the reader needs to resolve pronouns
    out = []
    for line in story.lines:
        if isinstance(line, Question):
            (actor,) = question_match(WHERE_IS, line).groups()
            room, proof = known.get(actor, ("?", []))
            out.append((room, list(proof)))
        else:
            read_statement(line, known, state)
    return out


def read_11(line, known, state) -> None:
    """``A went to the L.`` names A; ``Then he went to the L.`` refers to the last named actor."""
    if m := MOVE.fullmatch(line.text):
        actor, room = m.groups()
        known[actor] = (room, [line.id])
        state["named"] = (actor, line.id)
    elif m := PRONOUN_MOVE.fullmatch(line.text):
        pronoun, room = m.groups()
        actor, named_line = state["named"]
        if GENDER[actor] != pronoun:
            raise ValueError(f"line {line.id}: {pronoun!r} cannot refer to {actor}")
        known[actor] = (room, [named_line, line.id])
    else:
        raise unreadable(line)


def read_12(line, known, state) -> None:
    """``A and B went to the L.`` moves both A and B."""
    m = PAIR_MOVE.fullmatch(line.text)
    if m is None:
        raise unreadable(line)
    first, second, room = m.groups()
    for actor in (first, second):
        known[actor] = (room, [line.id])


def read_13(line, known, state) -> None:
    """``A and B went to the L1.`` then ``Then they went to the L2.``: "they" is the last named pair."""
    if m := PAIR_MOVE.fullmatch(line.text):
        first, second, room = m.groups()
        for actor in (first, second):
            known[actor] = (room, [line.id])
        state["pair"] = ((first, second), line.id)
    elif m := THEY_MOVE.fullmatch(line.text):
        (room,) = m.groups()
        pair, pair_line = state["pair"]
        for actor in pair:
            known[actor] = (room, [pair_line, line.id])
    else:
        raise unreadable(line)


def derive_11(story: Story) -> list[tuple[str, list[int]]]:
    """Task 11: support = [the line naming A, the pronoun line that moved A last]."""
    return where_is(story, read_11)


def derive_12(story: Story) -> list[tuple[str, list[int]]]:
    """Task 12: support = [the latest line naming A]."""
    return where_is(story, read_12)


def derive_13(story: Story) -> list[tuple[str, list[int]]]:
    """Task 13: support = [the pair line naming A, the "they" line that moved A last]."""
    return where_is(story, read_13)


def derive_14(story: Story) -> list[tuple[str, list[int]]]:
    """Task 14: ``Where was A before the L?`` → A's room in the slot before a slot where A was in L.

    Support: [the L-slot line, the previous slot's line]. When A was in L in more than one
    slot with a stated previous slot, the text alone does not decide; the checker then
    accepts the pair the file cites if it is one of them, else it derives the latest.
    """
    slots: dict = {}  # actor → {slot index: (room, line)}
    out = []
    for line in story.lines:
        if isinstance(line, Question):
            actor, room = question_match(WHERE_BEFORE, line).groups()
            mine = slots.get(actor, {})
            proofs = [
                (mine[k - 1][0], [mine[k][1], mine[k - 1][1]])
                for k in sorted(mine, reverse=True)
                if mine[k][0] == room and k - 1 in mine
            ]
            cited = [p for p in proofs if p[1] == list(line.support)]
            out.append((cited or proofs or [("?", [])])[0])
            continue
        m = TIME_FIRST.fullmatch(line.text)
        if m:
            time, actor, room = m.groups()
        elif m := TIME_LAST.fullmatch(line.text):
            actor, room, time = m.groups()
        else:
            raise unreadable(line)
        slot = TIME_ORDER.index(time.lower())
        if slot in slots.setdefault(actor, {}):
            raise ValueError(f"line {line.id}: {actor} is placed {time} twice")
        slots[actor][slot] = (room, line.id)
    return out


CHECKERS = {9: derive_9, 10: derive_10, 11: derive_11, 12: derive_12, 13: derive_13, 14: derive_14}
