"""Answer checkers for the bAbI reasoning tasks 4 and 15–20, from the sentences alone.

Each checker reads the English statements with regular expressions, builds what a reader
would (a map, a size order, who-is-what tables), and answers every question again. It uses
no code of the generator. Where the data leaves a free choice of supporting facts (task 18:
which of two equivalent chains, and in which order), the checker verifies that the written
support proves the answer and keeps it; otherwise it returns its own proof, which then shows
up as a disagreement.
"""

from __future__ import annotations

import re
from collections import deque

from memlib.babi.format import Question, Statement, Story

_DIR = {"north": (0, 1), "south": (0, -1), "east": (1, 0), "west": (-1, 0)}
_REL = {"above": (0, 1), "below": (0, -1), "to the left of": (-1, 0), "to the right of": (1, 0)}


def _known_before(story: Story, q: Question) -> list[Statement]:
    """The statements a reader has seen when question `q` is asked."""
    return [x for x in story.lines[: q.id - 1] if isinstance(x, Statement)]


def _fail(text: str):
    raise ValueError(f"cannot read {text!r}")


def _place(facts: list[tuple[str, tuple[int, int], str, int]]) -> dict:
    """Grid coordinates from facts (a, step, b, line) meaning "a is one step from b"."""
    pos = {facts[0][2]: (0, 0)}
    changed = True
    while changed:
        changed = False
        for a, (dx, dy), b, _ in facts:
            if b in pos and a not in pos:
                pos[a] = (pos[b][0] + dx, pos[b][1] + dy)
                changed = True
            elif a in pos and b not in pos:
                pos[b] = (pos[a][0] - dx, pos[a][1] - dy)
                changed = True
    return pos


# --- task 4 --------------------------------------------------------------------------

_FACT4 = re.compile(r"The (\w+) is (north|south|east|west) of the (\w+)\.")
_Q4_FORWARD = re.compile(r"What is (north|south|east|west) of the (\w+)\?")
_Q4_INVERSE = re.compile(r"What is the (\w+) (north|south|east|west) of\?")


def derive_4(story: Story) -> list:
    """What is D of the T? / What is the T D of? → the room there; support: the fact linking them."""
    out = []
    for q in story.questions:
        facts = []
        for s in _known_before(story, q):
            m = _FACT4.fullmatch(s.text) or _fail(s.text)
            facts.append((m[1], _DIR[m[2]], m[3], s.id))
        pos = _place(facts)
        if m := _Q4_FORWARD.fullmatch(q.text):
            (dx, dy), t = _DIR[m[1]], m[2]
        elif m := _Q4_INVERSE.fullmatch(q.text):  # T is D of X  ⇔  X is opposite(D) of T
            t, (dx, dy) = m[1], tuple(-v for v in _DIR[m[2]])
        else:
            _fail(q.text)
        target = (pos[t][0] + dx, pos[t][1] + dy)
        answer = next((room for room, p in pos.items() if p == target), "?")
        support = [line for a, _, b, line in facts if {a, b} == {t, answer}]
        out.append((answer, support))
    return out


# --- task 15 -------------------------------------------------------------------------

_SINGULAR = {"mice": "mouse", "sheep": "sheep", "wolves": "wolf", "cats": "cat"}
_RULE15 = re.compile(r"(\w+) are afraid of (\w+)\.")
_ISA15 = re.compile(r"(\w+) is a (\w+)\.")
_Q15 = re.compile(r"What is (\w+) afraid of\?")


def derive_15(story: Story) -> list:
    """What is p afraid of? → p is a S; S-plural are afraid of T → T singular."""
    out = []
    for q in story.questions:
        fears, kind = {}, {}
        for s in _known_before(story, q):
            if m := _RULE15.fullmatch(s.text):
                fears[_SINGULAR[m[1].lower()]] = (_SINGULAR[m[2]], s.id)
            elif m := _ISA15.fullmatch(s.text):
                kind[m[1].lower()] = (m[2], s.id)
            else:
                _fail(s.text)
        m = _Q15.fullmatch(q.text) or _fail(q.text)
        species, isa_line = kind[m[1]]
        feared, rule_line = fears[species]
        out.append((feared, [isa_line, rule_line]))
    return out


# --- task 16 -------------------------------------------------------------------------

_ISA16 = re.compile(r"(\w+) is a (\w+)\.")
_COLOR16 = re.compile(r"(\w+) is (\w+)\.")
_Q16 = re.compile(r"What color is (\w+)\?")


def derive_16(story: Story) -> list:
    """What color is Q? → the colour of the member of Q's species introduced last."""
    out = []
    for q in story.questions:
        kind, color = {}, {}
        for s in _known_before(story, q):
            if m := _ISA16.fullmatch(s.text):
                kind[m[1]] = (m[2], s.id)
            elif m := _COLOR16.fullmatch(s.text):
                color[m[1]] = (m[2], s.id)
            else:
                _fail(s.text)
        name = (_Q16.fullmatch(q.text) or _fail(q.text))[1]
        species, q_line = kind[name]
        peers = [p for p in kind if p != name and kind[p][0] == species and p in color]
        if not peers:
            out.append(("?", [q_line]))
            continue
        w = max(peers, key=lambda p: kind[p][1])
        out.append((color[w][0], [q_line, kind[w][1], color[w][1]]))
    return out


# --- task 17 -------------------------------------------------------------------------

_RELS = "|".join(_REL)
_FACT17 = re.compile(rf"The ([a-z ]+?) is ({_RELS}) the ([a-z ]+)\.")
_Q17 = re.compile(rf"Is the ([a-z ]+?) ({_RELS}) the ([a-z ]+)\?")


def derive_17(story: Story) -> list:
    """Is the X REL the Y? → place the shapes on the grid; yes iff X lies strictly that way."""
    out = []
    for q in story.questions:
        facts = []
        for s in _known_before(story, q):
            m = _FACT17.fullmatch(s.text) or _fail(s.text)
            facts.append((m[1], _REL[m[2]], m[3], s.id))
        pos = _place(facts)
        m = _Q17.fullmatch(q.text) or _fail(q.text)
        x, (dx, dy), y = m[1], _REL[m[2]], m[3]
        ahead = (pos[x][0] - pos[y][0]) * dx + (pos[x][1] - pos[y][1]) * dy
        mention = {}
        for a, _, b, line in facts:
            for shape in (a, b):
                mention.setdefault(shape, []).append(line)
        support = [
            next(line for line in mention[x] if line not in mention[y]),
            next(line for line in mention[y] if line not in mention[x]),
        ]
        out.append(("yes" if ahead > 0 else "no", support))
    return out


# --- task 18 -------------------------------------------------------------------------

_THING = r"(box of chocolates|box|chest|chocolate|container|suitcase)"
_BIGGER18 = re.compile(rf"The {_THING} is bigger than the {_THING}\.")
_FITS18 = re.compile(rf"The {_THING} fits inside the {_THING}\.")
_QBIG18 = re.compile(rf"Is the {_THING} bigger than the {_THING}\?")
_QFIT18 = re.compile(rf"Does the {_THING} fit in the {_THING}\?")


def _bigger_facts(statements: list[Statement]) -> dict:
    """Line → (bigger, smaller) for every size fact."""
    facts = {}
    for s in statements:
        if m := _BIGGER18.fullmatch(s.text):
            facts[s.id] = (m[1], m[2])
        elif m := _FITS18.fullmatch(s.text):
            facts[s.id] = (m[2], m[1])
        else:
            _fail(s.text)
    return facts


def _is_bigger(facts: dict, big: str, small: str) -> bool:
    """Whether the facts prove big > small (by any chain)."""
    seen, todo = {big}, deque([big])
    while todo:
        a = todo.popleft()
        for x, y in facts.values():
            if x == a and y not in seen:
                if y == small:
                    return True
                seen.add(y)
                todo.append(y)
    return False


def _chain_about(facts: dict, support: list[int], big: str, small: str, first: str) -> bool:
    """Whether the support chains big > mid > small, the fact naming `first` written first."""
    if len(support) != 2 or not all(i in facts for i in support):
        return False
    f, g = facts[support[0]], facts[support[1]]
    upper, lower = (f, g) if big in f else (g, f)
    return upper[0] == big and upper[1] == lower[0] and lower[1] == small and first in f


def derive_18(story: Story) -> list:
    """Is X bigger than Y? / Does X fit in Y? → yes/no by transitivity; support: a 2-fact
    chain, the fact about the first-named object first (any chain will do when several
    lines would)."""
    out = []
    for q in story.questions:
        facts = _bigger_facts(_known_before(story, q))
        if m := _QBIG18.fullmatch(q.text):
            x, y = m[1], m[2]  # yes iff x > y
            first = x
        elif m := _QFIT18.fullmatch(q.text):
            x, y = m[2], m[1]  # "does a fit in b" iff b > a
            first = y
        else:
            _fail(q.text)
        if _is_bigger(facts, x, y):
            answer, big, small = "yes", x, y
        elif _is_bigger(facts, y, x):
            answer, big, small = "no", y, x
        else:
            out.append(("?", []))
            continue
        if _chain_about(facts, q.support, big, small, first):
            out.append((answer, list(q.support)))
            continue
        proof = next(
            ([i, j] for i in facts for j in facts if _chain_about(facts, [i, j], big, small, first)), []
        )
        out.append((answer, proof))
    return out


# --- task 19 -------------------------------------------------------------------------

_FACT19 = re.compile(r"The (\w+) is (north|south|east|west) of the (\w+)\.")
_Q19 = re.compile(r"How do you go from the (\w+) to the (\w+)\?")


def derive_19(story: Story) -> list:
    """How do you go from X to Y? → search the map built from the facts; the step letters."""
    out = []
    for q in story.questions:
        step = {}  # room → [(neighbour, direction from room to neighbour, line)]
        for s in _known_before(story, q):
            m = _FACT19.fullmatch(s.text) or _fail(s.text)
            a, d, b = m[1], m[2], m[3]  # going from b you reach a by heading d
            opposite = {"north": "south", "south": "north", "east": "west", "west": "east"}[d]
            step.setdefault(b, []).append((a, d, s.id))
            step.setdefault(a, []).append((b, opposite, s.id))
        m = _Q19.fullmatch(q.text) or _fail(q.text)
        start, goal = m[1], m[2]
        back = {start: None}
        todo = deque([start])
        while todo:
            room = todo.popleft()
            for nxt, d, line in step.get(room, []):
                if nxt not in back:
                    back[nxt] = (room, d, line)
                    todo.append(nxt)
        moves = []
        room = goal
        while back.get(room):
            room, d, line = back[room]
            moves.append((d, line))
        moves.reverse()
        out.append((",".join(d[0] for d, _ in moves) or "?", [line for _, line in moves]))
    return out


# --- task 20 -------------------------------------------------------------------------

#: what a reader knows: where each feeling sends you, and what you get there
_REMEDY = {
    "hungry": ("kitchen", "apple"),
    "thirsty": ("kitchen", "milk"),
    "bored": ("garden", "football"),
    "tired": ("bedroom", "pajamas"),
}
_FEEL20 = re.compile(r"(\w+) is (hungry|thirsty|bored|tired)\.")
_MOVE20 = re.compile(r"(\w+) (?:went|journeyed|travelled|moved|went back) to the (\w+)\.")
_GET20 = re.compile(r"(\w+) (?:got|grabbed|picked up|took) the (\w+) there\.")
_WHERE20 = re.compile(r"Where will (\w+) go\?")
_WHY_GO20 = re.compile(r"Why did (\w+) go to the (\w+)\?")
_WHY_GET20 = re.compile(r"Why did (\w+) get the (\w+)\?")


def derive_20(story: Story) -> list:
    """Where will p go? → the place for p's feeling; Why did p go/get …? → p's feeling."""
    out = []
    for q in story.questions:
        feeling = {}
        for s in _known_before(story, q):
            if m := _FEEL20.fullmatch(s.text):
                feeling[m[1].lower()] = (m[2], s.id)
            elif not (_MOVE20.fullmatch(s.text) or _GET20.fullmatch(s.text)):
                _fail(s.text)
        if m := _WHERE20.fullmatch(q.text):
            f, line = feeling[m[1]]
            out.append((_REMEDY[f][0], [line]))
        elif m := _WHY_GO20.fullmatch(q.text) or _WHY_GET20.fullmatch(q.text):
            f, line = feeling[m[1]]
            fits = m[2] in _REMEDY[f]  # the place or the object must suit the feeling
            out.append((f if fits else "?", [line]))
        else:
            _fail(q.text)
    return out


CHECKERS = {
    4: derive_4,
    15: derive_15,
    16: derive_16,
    17: derive_17,
    18: derive_18,
    19: derive_19,
    20: derive_20,
}
