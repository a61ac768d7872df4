"""Our bAbI generators for tasks 9–14 against the official data's format, rules and statistics.

Reference numbers: docs/babi_format.md §2.5, §3 and §4, and babi_stats_en.json (measured on the
official en train+test files). Tolerances are those of docs/babi_format.md §4.2.
"""

from __future__ import annotations

import copy
import json
import re
import statistics
from collections import Counter

import pytest

from memlib.babi.format import Question, format_stories, parse
from memlib.babi.generate import rng_for, take_questions
from memlib.babi.generate.reasoning import GENERATORS
from memlib.babi.oracle.reasoning import CHECKERS
from memlib.babi.stats import REFERENCE as STATS_FILE
from memlib.babi.stats import tv_distance as tv

TASKS = (9, 10, 11, 12, 13, 14)

BASIC = {"mary", "sandra", "john", "daniel", "bathroom", "bedroom", "garden", "hallway", "kitchen", "office"}
CAST_10_14 = {"bill", "fred", "julie", "mary", "bedroom", "cinema", "kitchen", "office", "park", "school"}
MOVES = {"went", "journeyed", "travelled", "moved", "back", "to", "the"}
OPENERS = {"after", "that", "afterwards", "following", "then"}

VOCABULARY = {
    9: BASIC | MOVES | {"is", "in", "not", "no", "longer", "yes"},
    10: CAST_10_14 | MOVES | {"is", "in", "either", "or", "yes", "no", "maybe"},
    11: BASIC | MOVES | OPENERS | {"he", "she", "where", "is"},
    12: BASIC | MOVES | {"and", "where", "is"},
    13: BASIC | MOVES | OPENERS | {"they", "and", "where", "is"},
    14: CAST_10_14
    | MOVES
    | {"yesterday", "this", "morning", "afternoon", "evening", "where", "was", "before"},
}
OFFICIAL_VOCABULARY_SIZE = {9: 23, 10: 24, 11: 26, 12: 20, 13: 26, 14: 25}  # docs/babi_format.md §4.1

ANSWERS = {
    9: {"yes", "no"},
    10: {"yes", "no", "maybe"},
    11: {"bathroom", "bedroom", "garden", "hallway", "kitchen", "office"},
    12: {"bathroom", "bedroom", "garden", "hallway", "kitchen", "office"},
    13: {"bathroom", "bedroom", "garden", "hallway", "kitchen", "office"},
    14: {"bedroom", "cinema", "kitchen", "office", "park", "school"},
}

FIRST_STORY = {  # seed 0, train stream
    9: "1 Sandra is not in the bathroom.\n2 Sandra went back to the office.\n3 Is Sandra in the bathroom? \tno\t2\n"
    "4 Daniel journeyed to the garden.\n5 Mary went to the bathroom.\n6 Is Mary in the bathroom? \tyes\t5\n"
    "7 John went to the bathroom.\n8 Sandra went to the bedroom.\n9 Is Sandra in the hallway? \tno\t8\n"
    "10 John is in the kitchen.\n11 Sandra is in the kitchen.\n12 Is Sandra in the kitchen? \tyes\t11\n"
    "13 John went to the hallway.\n14 Sandra went to the garden.\n15 Is John in the hallway? \tyes\t13\n",
    10: "1 Mary is in the bedroom.\n2 Julie is in the bedroom.\n3 Is Mary in the bedroom? \tyes\t1\n"
    "4 Julie went to the park.\n5 Bill is in the school.\n6 Is Mary in the bedroom? \tyes\t1\n"
    "7 Bill went to the kitchen.\n8 Julie is in the cinema.\n9 Is Julie in the cinema? \tyes\t8\n"
    "10 Fred went to the cinema.\n11 Fred moved to the park.\n12 Is Fred in the park? \tyes\t11\n"
    "13 Mary is in the cinema.\n14 Bill is in the park.\n15 Is Fred in the park? \tyes\t11\n",
    11: "1 John went to the garden.\n2 Then he went to the office.\n3 Where is John? \toffice\t1 2\n"
    "4 Sandra travelled to the bedroom.\n5 Afterwards she went to the bathroom.\n6 Where is Sandra? \tbathroom\t4 5\n"
    "7 Mary moved to the garden.\n8 Then she travelled to the bedroom.\n9 Where is Mary? \tbedroom\t7 8\n"
    "10 John went back to the garden.\n11 Then he moved to the bedroom.\n12 Where is Mary? \tbedroom\t7 8\n"
    "13 Sandra journeyed to the kitchen.\n14 Following that she went to the garden.\n15 Where is Sandra? \tgarden\t13 14\n",
    12: "1 Daniel and Mary moved to the kitchen.\n2 Mary and Daniel travelled to the garden.\n3 Where is Daniel? \tgarden\t2\n"
    "4 John and Daniel went back to the bedroom.\n5 John and Sandra went back to the hallway.\n"
    "6 Where is Daniel? \tbedroom\t4\n"
    "7 Daniel and Sandra went to the garden.\n8 Sandra and Daniel moved to the bedroom.\n9 Where is Sandra? \tbedroom\t8\n"
    "10 Mary and Daniel journeyed to the office.\n11 Mary and John journeyed to the bedroom.\n"
    "12 Where is John? \tbedroom\t11\n"
    "13 Mary and Sandra moved to the bathroom.\n14 Mary and Daniel journeyed to the hallway.\n"
    "15 Where is Mary? \thallway\t14\n",
    13: "1 John and Mary went back to the bathroom.\n2 Afterwards they travelled to the kitchen.\n"
    "3 Where is John? \tkitchen\t1 2\n"
    "4 John and Sandra journeyed to the garden.\n5 After that they went back to the bedroom.\n"
    "6 Where is John? \tbedroom\t4 5\n"
    "7 Daniel and Mary journeyed to the hallway.\n8 Afterwards they went back to the kitchen.\n"
    "9 Where is Sandra? \tbedroom\t4 5\n"
    "10 Daniel and Sandra travelled to the office.\n11 Afterwards they moved to the hallway.\n"
    "12 Where is Mary? \tkitchen\t7 8\n"
    "13 Daniel and Sandra went to the bathroom.\n14 Afterwards they travelled to the office.\n"
    "15 Where is Daniel? \toffice\t13 14\n",
    14: "1 Bill moved to the park yesterday.\n2 Yesterday Mary went to the kitchen.\n"
    "3 Yesterday Fred travelled to the office.\n4 Bill travelled to the bedroom this morning.\n"
    "5 Where was Bill before the bedroom? \tpark\t4 1\n"
    "6 Bill went to the office this afternoon.\n7 Yesterday Julie journeyed to the office.\n"
    "8 Where was Bill before the bedroom? \tpark\t4 1\n"
    "9 Bill went to the cinema this evening.\n10 This morning Mary went to the park.\n"
    "11 Where was Bill before the office? \tbedroom\t6 4\n"
    "12 Fred travelled to the bedroom this morning.\n13 This afternoon Mary went to the office.\n"
    "14 Where was Mary before the office? \tpark\t13 10\n"
    "15 Julie went to the kitchen this morning.\n16 This evening Mary journeyed to the school.\n"
    "17 Where was Mary before the office? \tpark\t13 10\n",
}


def generate(task: int, n_questions: int, seed: int = 0, split: str = "train"):
    """Stories of `task` up to `n_questions` questions, as the framework draws them."""
    rng, stories, count = rng_for(seed, task, split), [], 0
    while count < n_questions:
        stories.append(GENERATORS[task](rng))
        count += len(stories[-1].questions)
    return take_questions(stories, n_questions)


def disagreements(task: int, stories) -> list[str]:
    """Questions whose answer or support differs from what our checker derives from the text."""
    bad = []
    for s_no, story in enumerate(stories):
        derived = CHECKERS[task](story)
        assert len(derived) == len(story.questions)
        for q, (answer, support) in zip(story.questions, derived):
            if (q.answer, list(q.support)) != (answer, list(support)):
                bad.append(
                    f"story {s_no} line {q.id} {q.text!r}: {q.answer} {q.support} vs {answer} {support}"
                )
    return bad


def words(text: str) -> set[str]:
    return {w.lower() for w in re.split(r"[^A-Za-z]+", text) if w}



def shares(counter: Counter) -> dict:
    total = sum(counter.values())
    return {k: v / total for k, v in counter.items()}


@pytest.fixture(scope="module")
def small():
    """1k train + 1k test questions per task, parsed back from their text."""
    out = {}
    for task in TASKS:
        train, test = generate(task, 1000, split="train"), generate(task, 1000, split="test")
        out[task] = (format_stories(train), format_stories(test))
    return out


@pytest.fixture(scope="module")
def large():
    """10k train questions per task, parsed back from their text."""
    return {task: parse(format_stories(generate(task, 10_000))) for task in TASKS}


@pytest.fixture(scope="module")
def reference():
    return json.loads(STATS_FILE.read_text())


# --------------------------------------------------------------------------- exact checks


@pytest.mark.parametrize("task", TASKS)
def test_first_story_is_fixed(task):
    story = GENERATORS[task](rng_for(0, task, "train"))
    assert format_stories([story]) == FIRST_STORY[task]


@pytest.mark.parametrize("task", TASKS)
def test_format_round_trips_and_space_before_tab(task, small):
    for text in small[task]:
        stories = parse(text)
        assert format_stories(stories) == text
        assert sum(len(s.questions) for s in stories) == 1000
        for story in stories:
            assert isinstance(story.lines[-1], Question)
        for line in text.splitlines():
            if "\t" in line:
                assert re.fullmatch(r"\d+ [A-Z][^\t]*\? \t[a-z]+\t\d+( \d+)?", line), line
            else:
                assert re.fullmatch(r"\d+ [A-Z][A-Za-z ]*[a-z]\.", line), line


@pytest.mark.parametrize("task", TASKS)
def test_every_answer_agrees_with_the_checker(task, small):
    for text in small[task]:
        assert disagreements(task, parse(text)) == []


@pytest.mark.parametrize("task", TASKS)
def test_vocabulary_and_answers_are_the_official_ones(task, small):
    vocab, answers = set(), set()
    for text in small[task]:
        for story in parse(text):
            for line in story.lines:
                vocab |= words(line.text)
                if isinstance(line, Question):
                    vocab |= words(line.answer)
                    answers.add(line.answer)
    assert len(VOCABULARY[task]) == OFFICIAL_VOCABULARY_SIZE[task]
    assert vocab == VOCABULARY[task]
    assert answers == ANSWERS[task]


@pytest.mark.parametrize("task", TASKS)
def test_deterministic_per_seed_and_split(task):
    text = format_stories(generate(task, 50, seed=3))
    assert format_stories(generate(task, 50, seed=3)) == text
    assert format_stories(generate(task, 50, seed=3, split="test")) != text
    assert format_stories(generate(task, 50, seed=4)) != text


def test_registered_with_the_framework():
    from memlib.babi.generate import generate_stories

    for task in TASKS:
        assert format_stories(generate_stories(task, 20, seed=1)) == format_stories(
            generate(task, 20, seed=1)
        )


# --------------------------------------------------------------------------- checker sanity


@pytest.mark.parametrize("task", TASKS)
def test_checker_finds_a_planted_wrong_answer_and_support(task):
    story = generate(task, 5)[0]
    assert disagreements(task, [story]) == []
    for q_no in range(5):
        wrong = copy.deepcopy(story)
        q = wrong.questions[q_no]
        q.answer = sorted(ANSWERS[task] - {q.answer})[0]
        assert len(disagreements(task, [wrong])) == 1
        wrong = copy.deepcopy(story)
        q = wrong.questions[q_no]
        other = [s.id for s in wrong.statements if s.id < q.id and s.id not in q.support]
        if other:  # (the first question of tasks 11 and 13 cites every statement before it)
            q.support = [other[0]] + q.support[1:]
            assert len(disagreements(task, [wrong])) == 1
        if len(q.support) == 2:  # the order of the support is part of the answer
            wrong = copy.deepcopy(story)
            wrong.questions[q_no].support.reverse()
            assert len(disagreements(task, [wrong])) == 1


def test_checker_reads_negation_and_uncertainty():
    story = parse(
        "1 Mary is no longer in the office.\n2 John is not in the park.\n3 Is Mary in the office? \tno\t1\n"
    )
    assert CHECKERS[9](story[0]) == [("no", [1])]
    story = parse(
        "1 Mary is in the park.\n2 Julie is either in the park or the school.\n3 Is Julie in the school? \tmaybe\t2\n"
    )
    assert CHECKERS[10](story[0]) == [("maybe", [2])]


def test_time_checker_uses_the_cited_pair_only_when_the_text_is_ambiguous():
    text = (
        "1 Yesterday Fred went to the park.\n2 Fred went to the school this morning.\n"
        "3 Where was Fred before the school? \tpark\t2 1\n"
        "4 This afternoon Fred moved to the park.\n5 Fred went back to the school this evening.\n"
        "6 Where was Fred before the school? \tpark\t5 4\n"
    )
    story = parse(text)[0]
    assert CHECKERS[14](story) == [("park", [2, 1]), ("park", [5, 4])]
    story.questions[1].support = [5, 1]  # not a pair of consecutive slots
    assert CHECKERS[14](story)[1] == ("park", [5, 4])


# --------------------------------------------------------------------------- statistics (10k questions)


def question_stats(stories) -> dict:
    """Statements per story, statements before each question, identical-to-previous rate, answers."""
    gaps, answers, repeats, n_q = Counter(), Counter(), 0, 0
    for story in stories:
        since, prev = 0, None
        for line in story.lines:
            if not isinstance(line, Question):
                since += 1
                continue
            n_q += 1
            gaps[since] += 1
            answers[line.answer] += 1
            if prev is not None and (prev.text, prev.answer, prev.support) == (
                line.text,
                line.answer,
                line.support,
            ):
                repeats += 1
            since, prev = 0, line
    n_statements = [len(s.statements) for s in stories]
    return {
        "mean": statistics.mean(n_statements),
        "median": statistics.median(n_statements),
        "gaps": shares(gaps),
        "repeat": repeats / n_q,
        "answers": shares(answers),
        "support_size": shares(Counter(str(len(q.support)) for s in stories for q in s.questions)),
        "q_per_story": Counter(len(s.questions) for s in stories),
    }


@pytest.mark.parametrize("task", TASKS)
def test_statistics_match_the_official_data(task, large, reference):
    ref, got = reference[str(task)], question_stats(large[task])
    assert set(got["q_per_story"]) == {5}
    if ref["stmts"]["min"] == ref["stmts"]["max"]:  # fixed-length tasks: exact
        assert got["mean"] == got["median"] == ref["stmts"]["mean"]
    else:
        assert got["mean"] == pytest.approx(ref["stmts"]["mean"], rel=0.10)
        assert got["median"] == pytest.approx(ref["stmts"]["median"], rel=0.10)
    assert got["gaps"].get(2, 0) == pytest.approx(ref["gaps_stmts_before_each_q"]["2"], abs=0.05)
    assert got["repeat"] == pytest.approx(ref["repeat_prev_q"], abs=0.05)
    assert tv(got["answers"], ref["answers_top"]) < 0.05
    assert tv(got["support_size"], ref["support_size"]) < 0.05


def statement_distances(stories) -> Counter:
    """Statements between the latest supporting fact and its question (0 = the last statement)."""
    out = Counter()
    for story in stories:
        stmt_no = {}
        for line in story.lines:
            if isinstance(line, Question):
                out[len(stmt_no) - 1 - stmt_no[max(line.support)]] += 1
            else:
                stmt_no[line.id] = len(stmt_no)
    return out


@pytest.mark.parametrize(
    "task, per, observed",  # docs/babi_format.md §2.5: official distances (statements, or pairs of them)
    [
        (11, 2, {0: 0.66, 1: 0.27, 2: 0.067}),
        (12, 1, {0: 0.72, 1: 0.24, 2: 0.038}),
        (13, 2, {0: 0.927, 1: 0.073}),
    ],
)
def test_last_five_clauses_rule_reproduces_the_distances(task, per, observed, large):
    distances = Counter()
    for d, n in statement_distances(large[task]).items():
        distances[d // per] += n
    assert tv(shares(distances), observed) < 0.05


def test_statement_mixes_of_negation_and_indefinite_tasks(large):
    kinds = {9: Counter(), 10: Counter()}
    for task, patterns in {
        9: {"not": " is not in ", "no longer": " is no longer in ", "is": " is in "},
        10: {"either": " is either in ", "is": " is in "},
    }.items():
        for story in large[task]:
            for s in story.statements:
                kinds[task][next((k for k, p in patterns.items() if p in s.text), "move")] += 1
    assert tv(shares(kinds[9]), {"move": 0.495, "is": 0.24, "not": 0.13, "no longer": 0.13}) < 0.03
    assert tv(shares(kinds[10]), {"move": 0.50, "is": 0.26, "either": 0.24}) < 0.03


TIME = re.compile(r"(?:(\w+(?: \w+)?) )?([A-Z][a-z]+) \D+ the (\w+)(?: (yesterday|this \w+))?\.")
SLOTS = ("yesterday", "this morning", "this afternoon", "this evening")


def test_time_reasoning_timeline_and_ambiguity(large, reference):
    ambiguous = n_q = 0
    first_gaps = Counter()
    for story in large[14]:
        slots: dict = {}  # actor → {slot: room}
        for line in story.lines:
            if isinstance(line, Question):
                if n_q % 5 == 0:
                    first_gaps[sum(len(v) for v in slots.values())] += 1
                n_q += 1
                actor, room = re.fullmatch(r"Where was (\w+) before the (\w+)\?", line.text).groups()
                ambiguous += list(slots[actor].values()).count(room) >= 2
                for mine in slots.values():  # each actor's stated slots form a prefix of the timeline
                    assert sorted(mine) == list(range(len(mine)))
                continue
            lead, actor, room, tail = TIME.fullmatch(line.text).groups()
            slot = SLOTS.index((tail or lead).lower())
            mine = slots.setdefault(actor, {})
            assert slot not in mine
            for k in (slot - 1, slot + 1):  # consecutive slots never share a room
                assert mine.get(k) != room
            mine[slot] = room
    assert ambiguous / n_q == pytest.approx(0.12, abs=0.05)
    assert tv(shares(first_gaps), {2: 0.19, 4: 0.72, 6: 0.09}) < 0.05

