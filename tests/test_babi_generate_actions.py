"""The generator of the bAbI action tasks (1, 2, 3, 5, 6, 7, 8) against the released data.

Format, answers (independent checker), vocabulary, answer sets and the measured statistics of
docs/babi_format.md §4.2 (reference numbers from babi_stats_en.json, written out below).
"""

from __future__ import annotations

import collections
import random
import re
import statistics

import pytest

from memlib.babi.format import Question, Statement, Story, format_stories, parse
from memlib.babi.generate import generate_stories
from memlib.babi.oracle import disagreements
from memlib.babi.stats import tv_distance as tv
from memlib.babi.world import LOCATIONS, Clause, World

TASKS = [1, 2, 3, 5, 6, 7, 8]

# ---- expected per-task vocabulary and answers (docs/babi_format.md §3, §4.2 item 3) ---------------
ACTORS = {"mary", "sandra", "john", "daniel"}
ROOMS = {"bathroom", "bedroom", "garden", "hallway", "kitchen", "office"}
MOVES = {"went", "journeyed", "travelled", "moved", "back", "to", "the"}
OBJECTS = {"apple", "football", "milk"}
GETS_DROPS = {
    "got",
    "grabbed",
    "picked",
    "up",
    "took",
    "there",
    "dropped",
    "left",
    "discarded",
    "put",
    "down",
}
GIVES = {"gave", "handed", "passed"}
BASIC = ACTORS | ROOMS | MOVES
WORLD = BASIC | OBJECTS | GETS_DROPS

VOCABULARY = {
    1: BASIC | {"where", "is"},
    2: WORLD | {"where", "is"},
    3: WORLD | {"where", "was", "before"},
    5: WORLD - ACTORS | {"bill", "fred", "jeff", "mary"} | GIVES | {"what", "did", "give", "who", "received"},
    6: WORLD | {"is", "in", "yes", "no"},
    7: WORLD | GIVES | {"how", "many", "objects", "is", "carrying", "none", "one", "two", "three"},
    8: WORLD | {"what", "is", "carrying", "nothing"},
}
VOCABULARY_SIZE = {1: 19, 2: 33, 3: 34, 5: 39, 6: 35, 7: 43, 8: 35}

# fmt: off
_ROOM_ANSWERS = {"bathroom", "bedroom", "garden", "hallway", "kitchen", "office"}
ANSWERS = {
    1: _ROOM_ANSWERS,
    2: _ROOM_ANSWERS,
    3: _ROOM_ANSWERS,
    5: {"Bill", "Fred", "Jeff", "Mary", "apple", "football", "milk"},
    6: {"yes", "no"},
    7: {"none", "one", "two", "three"},
    # every order of first pick-up; the official 2 000 questions show 14 of these 16 (the two
    # missing ones are triples, 0.4 % of answers together)
    8: {"nothing", "apple", "football", "milk",
        "apple,football", "apple,milk", "football,apple", "football,milk", "milk,apple", "milk,football",
        "apple,football,milk", "apple,milk,football", "football,apple,milk", "football,milk,apple",
        "milk,apple,football", "milk,football,apple"},
}

# ---- measured on the official en train+test files (babi_stats_en.json) -------------------
REFERENCE = {
    1: dict(mean=10.0, median=10, gap2=1.0, repeat=0.118, support={1: 1.0},
            answers={"garden": .182, "office": .174, "kitchen": .165, "hallway": .165, "bedroom": .163, "bathroom": .151}),
    2: dict(mean=21.84, median=20, gap2=0.59, repeat=0.291, support={2: 1.0},
            answers={"garden": .199, "office": .174, "bedroom": .163, "bathroom": .16, "kitchen": .156, "hallway": .149}),
    3: dict(mean=73.77, median=66, gap2=0.454, repeat=0.251, support={3: 1.0},
            answers={"garden": .193, "bathroom": .192, "hallway": .175, "bedroom": .149, "kitchen": .146, "office": .145}),
    5: dict(mean=25.82, median=22, gap2=0.728, repeat=0.079, support={1: 1.0},
            answers={"Mary": .18, "Fred": .177, "Bill": .158, "Jeff": .137, "apple": .137, "football": .116, "milk": .097}),
    6: dict(mean=10.29, median=10, gap2=0.977, repeat=0.065, support={1: 1.0}, answers={"yes": .502, "no": .497}),
    7: dict(mean=12.77, median=12, gap2=0.875, repeat=0.241,
            support={1: .311, 2: .357, 3: .142, 4: .133, 5: .032, 6: .018, 7: .004, 8: .003},
            answers={"one": .488, "none": .468, "two": .043, "three": .002}),
    8: dict(mean=13.36, median=12, gap2=0.852, repeat=0.311,
            support={1: .431, 2: .323, 3: .138, 4: .079, 5: .022, 6: .005, 7: .001, 8: .001},
            answers={"nothing": .34, "milk": .203, "apple": .199, "football": .187, "apple,milk": .016,
                     "football,apple": .015, "apple,football": .011, "milk,football": .011, "football,milk": .008,
                     "milk,apple": .007, "apple,football,milk": .002, "apple,milk,football": .001}),
}
# fmt: on
#: Tasks 3 and 5: the official answer counts are uniform within each kind of answer up to
#: sampling noise (2 000 correlated questions), yet that noise alone puts any generator that is
#: uniform at TV ~0.05 from them. We compare with the smoothed law instead: the measured share
#: of each kind of answer (task 5: names .652, objects .35), spread evenly within the kind.
ANSWER_LAW = {
    3: {room: 1 / 6 for room in LOCATIONS},
    5: {
        **{name: 0.652 / 4 for name in ("Bill", "Fred", "Jeff", "Mary")},
        **{obj: 0.35 / 3 for obj in ("apple", "football", "milk")},
    },
}

FIRST_STORY = {
    1: (
        0,
        """\
1 John went to the office.
2 Sandra journeyed to the kitchen.
3 Where is Sandra? \tkitchen\t2
4 Mary moved to the kitchen.
5 Daniel travelled to the garden.
6 Where is Sandra? \tkitchen\t2
7 Mary travelled to the bathroom.
8 Daniel moved to the bathroom.
9 Where is Mary? \tbathroom\t7
10 Sandra travelled to the bedroom.
11 John moved to the hallway.
12 Where is John? \thallway\t11
13 John went to the bedroom.
14 Mary went back to the kitchen.
15 Where is Daniel? \tbathroom\t8
""",
    ),
    2: (
        0,
        """\
1 John got the apple there.
2 Sandra moved to the bathroom.
3 John journeyed to the bedroom.
4 John got the football there.
5 Where is the apple? \tbedroom\t1 3
6 John went back to the office.
7 John travelled to the kitchen.
8 Where is the football? \tkitchen\t4 7
9 Sandra journeyed to the hallway.
10 Mary travelled to the garden.
11 Where is the football? \tkitchen\t4 7
12 Sandra journeyed to the bedroom.
13 Mary journeyed to the bedroom.
14 John left the football.
15 John dropped the apple.
16 Where is the apple? \tkitchen\t15 7
17 Sandra journeyed to the hallway.
18 John went back to the bedroom.
19 Where is the apple? \tkitchen\t15 7
""",
    ),
    3: (
        10,
        """\
1 John moved to the kitchen.
2 John went back to the garden.
3 Daniel journeyed to the garden.
4 Daniel travelled to the bedroom.
5 Mary moved to the garden.
6 John journeyed to the hallway.
7 John went to the bathroom.
8 Sandra went back to the bathroom.
9 John went back to the bedroom.
10 Daniel went to the bathroom.
11 Sandra picked up the apple.
12 Sandra discarded the apple.
13 Mary journeyed to the hallway.
14 Sandra grabbed the apple.
15 Sandra put down the apple.
16 John journeyed to the kitchen.
17 John went to the garden.
18 Sandra took the apple.
19 Sandra travelled to the office.
20 Mary journeyed to the bedroom.
21 Sandra travelled to the garden.
22 Mary went back to the garden.
23 Where was the apple before the garden? \toffice\t18 21 19
24 Sandra journeyed to the bathroom.
25 Sandra journeyed to the kitchen.
26 Sandra dropped the apple there.
27 Daniel travelled to the office.
28 Where was the apple before the kitchen? \tbathroom\t26 25 24
29 John travelled to the kitchen.
30 Sandra grabbed the milk.
31 Where was the apple before the kitchen? \tbathroom\t26 25 24
32 Sandra journeyed to the hallway.
33 Sandra travelled to the kitchen.
34 Where was the milk before the kitchen? \thallway\t30 33 32
35 Mary travelled to the hallway.
36 Sandra moved to the office.
37 Where was the milk before the kitchen? \thallway\t30 33 32
""",
    ),
    5: (
        1,
        """\
1 Bill moved to the office.
2 Jeff took the football there.
3 Jeff gave the football to Mary.
4 Mary passed the football to Jeff.
5 Who gave the football? \tMary\t4
6 Jeff gave the football to Mary.
7 Mary gave the football to Jeff.
8 Who received the football? \tJeff\t7
9 Jeff passed the football to Mary.
10 Mary gave the football to Jeff.
11 Who received the football? \tJeff\t10
12 Bill journeyed to the kitchen.
13 Jeff handed the football to Mary.
14 What did Jeff give to Mary? \tfootball\t13
15 Mary passed the football to Jeff.
16 Jeff passed the football to Mary.
17 Who did Jeff give the football to? \tMary\t16
""",
    ),
    6: (
        0,
        """\
1 Mary picked up the apple there.
2 Sandra went back to the bedroom.
3 Is Sandra in the bedroom? \tyes\t2
4 Daniel moved to the bedroom.
5 Daniel picked up the football there.
6 Is Daniel in the office? \tno\t4
7 Sandra moved to the bathroom.
8 Sandra travelled to the bedroom.
9 Is Daniel in the bedroom? \tyes\t4
10 Mary left the apple.
11 Sandra travelled to the garden.
12 Is Sandra in the bathroom? \tno\t11
13 Sandra moved to the hallway.
14 Mary picked up the apple there.
15 Is Sandra in the garden? \tno\t13
""",
    ),
    7: (
        0,
        """\
1 John travelled to the garden.
2 Mary went to the kitchen.
3 Mary journeyed to the garden.
4 Mary journeyed to the bathroom.
5 Sandra went to the hallway.
6 Mary grabbed the apple there.
7 How many objects is Mary carrying? \tone\t6
8 Mary travelled to the kitchen.
9 Mary took the milk there.
10 How many objects is Mary carrying? \ttwo\t6 9
11 John went to the office.
12 Mary grabbed the football there.
13 How many objects is Mary carrying? \tthree\t6 9 12
14 Daniel journeyed to the hallway.
15 Daniel moved to the bedroom.
16 How many objects is Mary carrying? \tthree\t6 9 12
17 Mary dropped the milk.
18 Daniel went back to the kitchen.
19 How many objects is Mary carrying? \ttwo\t6 9 12 17
""",
    ),
    8: (
        0,
        """\
1 Daniel moved to the kitchen.
2 John travelled to the bathroom.
3 Mary picked up the apple there.
4 Mary left the apple.
5 What is Mary carrying? \tnothing\t3 4
6 Sandra got the milk there.
7 Sandra put down the milk there.
8 What is Sandra carrying? \tnothing\t6 7
9 Mary travelled to the hallway.
10 Sandra moved to the bathroom.
11 What is Sandra carrying? \tnothing\t6 7
12 John moved to the kitchen.
13 Sandra went to the kitchen.
14 What is Sandra carrying? \tnothing\t6 7
15 John journeyed to the garden.
16 John got the milk there.
17 What is John carrying? \tmilk\t16
""",
    ),
}


# ---- helpers --------------------------------------------------------------------------------
_cache: dict = {}


def stories(task: int, n: int = 1000, split: str = "train", seed: int = 0) -> list[Story]:
    key = (task, n, split, seed)
    if key not in _cache:
        _cache[key] = generate_stories(task, n, seed=seed, split=split)
    return _cache[key]


def words(text: str) -> set[str]:
    return {w for w in re.split(r"[^a-z]+", text.lower()) if w}


def vocabulary(story_list) -> set[str]:
    found = set()
    for story in story_list:
        for line in story.lines:
            found |= words(line.text)
            if isinstance(line, Question):
                found |= words(line.answer)
    return found


def share(counter: collections.Counter) -> dict:
    total = sum(counter.values())
    return {k: v / total for k, v in counter.items()}



def measure(story_list) -> dict:
    """The §4.2 statistics: statements per story, gaps, repeats, answers, support sizes."""
    per_story = [len(s.statements) for s in story_list]
    gaps, answers, support = collections.Counter(), collections.Counter(), collections.Counter()
    repeats = n_questions = 0
    for story in story_list:
        since, previous = 0, None
        for line in story.lines:
            if isinstance(line, Statement):
                since += 1
                continue
            gaps[since] += 1
            answers[line.answer] += 1
            support[len(line.support)] += 1
            key = (line.text, line.answer, line.support)
            repeats += key == previous
            n_questions += 1
            since, previous = 0, key
    return dict(
        mean=statistics.mean(per_story),
        median=statistics.median(per_story),
        gap2=share(gaps).get(2, 0.0),
        repeat=repeats / n_questions,  # identical line to the previous question, over all questions
        answers=share(answers),
        support=share(support),
    )


# ---- tests ----------------------------------------------------------------------------------
@pytest.mark.parametrize("task", TASKS)
def test_first_story_is_fixed(task):
    seed, text = FIRST_STORY[task]
    assert format_stories(generate_stories(task, 5, seed=seed)) == text


@pytest.mark.parametrize("task", TASKS)
def test_checker_agrees_on_train_and_test(task):
    for split in ("train", "test"):
        assert disagreements(task, stories(task, split=split)) == []


@pytest.mark.parametrize("task", TASKS)
def test_format_round_trips_with_space_before_tab(task):
    for split in ("train", "test"):
        text = format_stories(stories(task, split=split))
        assert format_stories(parse(text)) == text
        questions = [line for line in text.splitlines() if "\t" in line]
        assert len(questions) == 1000
        assert all(re.fullmatch(r"\d+ [A-Z][A-Za-z ]+\? \t[A-Za-z,]+\t\d+( \d+)*", q) for q in questions)
        statements = [line for line in text.splitlines() if "\t" not in line]
        assert all(re.fullmatch(r"\d+ [A-Z][A-Za-z ]+\.", s) for s in statements)


@pytest.mark.parametrize("task", TASKS)
def test_vocabulary_and_answers_match_the_official_sets(task):
    generated = stories(task, 10_000)
    assert len(VOCABULARY[task]) == VOCABULARY_SIZE[task]
    assert vocabulary(generated) == VOCABULARY[task]
    assert {q.answer for s in generated for q in s.questions} == ANSWERS[task]


@pytest.mark.parametrize("task", TASKS)
def test_generation_is_deterministic(task):
    a = format_stories(generate_stories(task, 200, seed=7))
    assert a == format_stories(generate_stories(task, 200, seed=7))
    assert a != format_stories(generate_stories(task, 200, seed=7, split="test"))
    assert a != format_stories(generate_stories(task, 200, seed=8))


@pytest.mark.parametrize("task", TASKS)
def test_statistics_match_the_released_data(task):
    got, ref = measure(stories(task, 10_000)[:-1]), REFERENCE[task]  # the last story is cut
    assert abs(got["mean"] - ref["mean"]) <= 0.10 * ref["mean"]
    assert abs(got["median"] - ref["median"]) <= 0.10 * ref["median"]
    assert abs(got["gap2"] - ref["gap2"]) <= 0.05
    assert abs(got["repeat"] - ref["repeat"]) <= 0.05
    assert tv(got["answers"], ANSWER_LAW.get(task, ref["answers"])) < 0.05
    assert tv(got["support"], ref["support"]) < 0.05


@pytest.mark.parametrize("task", TASKS)
def test_checker_finds_a_planted_wrong_answer_and_support(task):
    story = stories(task)[0]
    q = story.questions[-1]
    wrong = next(a for a in ANSWERS[task] if a != q.answer)
    planted = Story(
        [Question(q.id, q.text, wrong, q.support, q.space_before_tab) if x is q else x for x in story.lines]
    )
    assert len(disagreements(task, [planted])) == 1
    other = next(s.id for s in story.statements if s.id not in q.support)
    support = [other] + q.support[1:]
    planted = Story(
        [Question(q.id, q.text, q.answer, support, q.space_before_tab) if x is q else x for x in story.lines]
    )
    assert len(disagreements(task, [planted])) == 1


def test_world_keeps_the_validity_rules():
    rng = random.Random(1)
    for _ in range(200):
        world = World(rng)
        for _ in range(40):
            before = dict(world.at)
            c = world.sample({"move": 0.4, "get": 0.2, "drop": 0.2, "give": 0.2})
            if c.kind == "move":
                assert c.place != before[c.actor]
            elif c.kind == "get":
                assert world.holder[c.obj] is None and world.lying[c.obj] == before[c.actor]
            elif c.kind == "drop":
                assert world.holder[c.obj] == c.actor
            else:
                assert world.holder[c.obj] == c.actor and c.to != c.actor and before[c.to] == before[c.actor]
            world.tell(c)
            for obj, holder in world.holder.items():  # carried objects travel with their holder
                assert holder is None or obj in world.held_by(holder)
        assert len(world.story().statements) == 40


def test_world_rejects_an_impossible_event():
    world = World(random.Random(0))
    actor = world.actors[0]
    with pytest.raises(AssertionError):
        world.apply(Clause("move", actor, world.at[actor]))  # a move must change the room
    with pytest.raises(AssertionError):
        world.apply(Clause("drop", actor, world.at[actor], obj="milk"))  # nobody holds anything yet
