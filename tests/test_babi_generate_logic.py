"""bAbI tasks 4 and 15–20: generated stories are well formed, answered right and look like v1.2.

Reference numbers come from docs/babi_format.md §3–§4 and babi_stats_en.json (measured on the
official en train+test files).
"""

from __future__ import annotations

import collections
import copy
import re
from functools import cache

import pytest

from memlib.babi.format import Question, format_stories, parse
from memlib.babi.generate import generate_stories
from memlib.babi.generate.logic import GENERATORS
from memlib.babi.oracle import disagreements
from memlib.babi.oracle.logic import CHECKERS
from memlib.babi.stats import tv_distance as tv

TASKS = (4, 15, 16, 17, 18, 19, 20)
ROOMS = {"bathroom", "bedroom", "garden", "hallway", "kitchen", "office"}


@cache
def stories(task: int, n: int, split: str = "train", seed: int = 0):
    return generate_stories(task, n, seed, split)


@cache
def text(task: int, n: int, split: str = "train", seed: int = 0) -> str:
    return format_stories(stories(task, n, split, seed))


def questions(story_list):
    return [q for s in story_list for q in s.questions]


# --- fixed first stories (template drift) ------------------------------------------------

FIRST = {  # format_stories of the first story of generate_stories(task, 1000, seed=0)
    4: (
        "1 The bedroom is north of the hallway.\n"
        "2 The office is south of the hallway.\n"
        "3 What is the hallway north of?\toffice\t2\n"
    ),
    15: (
        "1 Mice are afraid of wolves.\n"
        "2 Sheep are afraid of mice.\n"
        "3 Cats are afraid of wolves.\n"
        "4 Wolves are afraid of sheep.\n"
        "5 Jessica is a cat.\n"
        "6 Winona is a sheep.\n"
        "7 Emily is a sheep.\n"
        "8 Gertrude is a mouse.\n"
        "9 What is gertrude afraid of?\twolf\t8 1\n"
        "10 What is jessica afraid of?\twolf\t5 3\n"
        "11 What is jessica afraid of?\twolf\t5 3\n"
        "12 What is gertrude afraid of?\twolf\t8 1\n"
    ),
    16: (
        "1 Julius is a lion.\n"
        "2 Lily is a lion.\n"
        "3 Brian is a lion.\n"
        "4 Julius is green.\n"
        "5 Greg is a lion.\n"
        "6 Brian is gray.\n"
        "7 Bernhard is a lion.\n"
        "8 Lily is white.\n"
        "9 Greg is yellow.\n"
        "10 What color is Bernhard?\tyellow\t7 5 9\n"
    ),
    17: (
        "1 The red rectangle is above the yellow square.\n"
        "2 The sphere is to the right of the red rectangle.\n"
        "3 Is the sphere to the right of the yellow square?\tyes\t2 1\n"
        "4 Is the yellow square to the right of the sphere?\tno\t1 2\n"
        "5 Is the sphere to the right of the yellow square?\tyes\t2 1\n"
        "6 Is the sphere to the right of the yellow square?\tyes\t2 1\n"
        "7 Is the sphere to the right of the yellow square?\tyes\t2 1\n"
        "8 Is the yellow square below the sphere?\tyes\t1 2\n"
        "9 Is the yellow square to the left of the sphere?\tyes\t1 2\n"
        "10 Is the sphere to the left of the yellow square?\tno\t2 1\n"
    ),
    18: (
        "1 The chest is bigger than the chocolate.\n"
        "2 The box of chocolates is bigger than the chocolate.\n"
        "3 The chest is bigger than the container.\n"
        "4 The chest is bigger than the container.\n"
        "5 The box is bigger than the chocolate.\n"
        "6 The chocolate fits inside the suitcase.\n"
        "7 The box of chocolates fits inside the container.\n"
        "8 The box fits inside the chest.\n"
        "9 The container fits inside the suitcase.\n"
        "10 The chest is bigger than the box.\n"
        "11 Does the box of chocolates fit in the chest?\tyes\t7 4\n"
        "12 Does the chest fit in the box of chocolates?\tno\t4 7\n"
        "13 Is the suitcase bigger than the box of chocolates?\tyes\t9 7\n"
        "14 Does the suitcase fit in the box of chocolates?\tno\t9 7\n"
        "15 Is the suitcase bigger than the box of chocolates?\tyes\t9 7\n"
    ),
    19: (
        "1 The hallway is east of the office.\n"
        "2 The kitchen is north of the bedroom.\n"
        "3 The bedroom is north of the hallway.\n"
        "4 The bathroom is north of the garden.\n"
        "5 The garden is east of the hallway.\n"
        "6 How do you go from the garden to the bedroom?\tw,n\t5 3\n"
    ),
    20: (
        "1 Jason is tired.\n"
        "2 Where will jason go?\tbedroom\t1\n"
        "3 Antoine is bored.\n"
        "4 Where will antoine go?\tgarden\t3\n"
        "5 Yann is tired.\n"
        "6 Where will yann go?\tbedroom\t5\n"
        "7 Yann went to the bedroom.\n"
        "8 Why did yann go to the bedroom?\ttired\t5\n"
        "9 Antoine went back to the garden.\n"
        "10 Why did antoine go to the garden?\tbored\t3\n"
        "11 Jason went to the bedroom.\n"
        "12 Why did jason go to the bedroom?\ttired\t1\n"
        "13 Sumit is hungry.\n"
        "14 Where will sumit go?\tkitchen\t13\n"
        "15 Jason got the pajamas there.\n"
        "16 Why did jason get the pajamas?\ttired\t1\n"
        "17 Sumit journeyed to the kitchen.\n"
        "18 Why did sumit go to the kitchen?\thungry\t13\n"
        "19 Sumit got the apple there.\n"
        "20 Why did sumit get the apple?\thungry\t13\n"
        "21 Antoine picked up the football there.\n"
        "22 Why did antoine get the football?\tbored\t3\n"
    ),
}


def test_registered():
    assert sorted(GENERATORS) == list(TASKS)
    assert sorted(CHECKERS) == list(TASKS)


@pytest.mark.parametrize("task", TASKS)
def test_first_story_is_fixed(task):
    assert format_stories(stories(task, 1000)[:1]) == FIRST[task]


# --- format, answers, determinism --------------------------------------------------------


@pytest.mark.parametrize("task", TASKS)
@pytest.mark.parametrize("split", ["train", "test"])
def test_1k_file_is_well_formed_and_correct(task, split):
    t = text(task, 1000, split)
    parsed = parse(t)
    assert format_stories(parsed) == t  # byte-for-byte round trip
    assert t.endswith("\n") and "\n\n" not in t
    assert len(questions(parsed)) == 1000
    for story in parsed:
        assert [line.id for line in story.lines] == list(range(1, len(story.lines) + 1))
        assert isinstance(story.lines[-1], Question)
        for q in story.questions:
            assert not q.space_before_tab  # tasks 4 and 15–20: "?" straight before the TAB
    assert "? \t" not in t and "?\t" in t
    assert disagreements(task, parsed) == []


@pytest.mark.parametrize("task", TASKS)
def test_deterministic_and_splits_differ(task):
    small = format_stories(generate_stories(task, 200, 0, "train"))
    assert small == format_stories(generate_stories(task, 200, 0, "train"))
    assert text(task, 1000).startswith(small)  # a smaller file is a prefix of a larger one
    assert text(task, 1000, "train") != text(task, 1000, "test")
    assert text(task, 1000, "train", 0) != text(task, 1000, "train", 1)


# --- vocabulary and answers ---------------------------------------------------------------

VOCAB = {  # lowercased word types of statements, questions and answers in the official en files
    4: set("bathroom bedroom garden hallway kitchen office north south east west the is of what".split()),
    15: set(
        "mouse mice sheep wolf wolves cat cats gertrude winona jessica emily are afraid of is a what".split()
    ),
    16: set(
        "lily bernhard greg julius brian swan lion frog rhino gray white yellow green is a what color".split()
    ),
    17: set(
        "square rectangle triangle sphere red blue pink yellow the is to left right of above below yes no".split()
    ),
    18: set(
        "box of chocolates chest chocolate container suitcase the is bigger than fits inside does fit in yes no".split()
    ),
    19: set(
        "bathroom bedroom garden hallway kitchen office north south east west the is of how do you go from to "
        "n s e w".split()
    ),
    20: set(
        "antoine jason sumit yann hungry thirsty bored tired kitchen garden bedroom apple milk football pajamas "
        "is went journeyed travelled moved back to the got grabbed picked up took there where will go why did "
        "get".split()
    ),
}
COUNTS = {4: 14, 15: 17, 16: 17, 17: 18, 18: 18, 19: 23, 20: 35}  # docs/babi_format.md §4.1

ANSWERS = {
    4: ROOMS,
    15: {"mouse", "sheep", "wolf", "cat"},
    16: {"gray", "white", "yellow", "green"},
    17: {"yes", "no"},
    18: {"yes", "no"},
    19: set("n,n n,e n,w s,s s,e s,w e,e e,n e,s w,w w,n w,s".split()),
    20: {"kitchen", "garden", "bedroom", "hungry", "thirsty", "bored", "tired"},
}


def words(story_list) -> set:
    found = set()
    for s in story_list:
        for line in s.lines:
            parts = [line.text] + ([line.answer] if isinstance(line, Question) else [])
            for part in parts:
                found.update(w.lower() for w in re.split(r"[^A-Za-z]+", part) if w)
    return found


@pytest.mark.parametrize("task", TASKS)
def test_vocabulary_and_answer_set(task):
    sample = stories(task, 10_000)
    assert len(VOCAB[task]) == COUNTS[task]
    assert words(sample) == VOCAB[task]
    assert {q.answer for q in questions(sample)} == ANSWERS[task]


def test_lowercase_names_in_tasks_15_and_20():
    for task, names in [
        (15, ("gertrude", "winona", "jessica", "emily")),
        (20, ("antoine", "jason", "sumit", "yann")),
    ]:
        for q in questions(stories(task, 1000)):
            assert any(f" {n} " in q.text for n in names), q.text
            assert not re.search(r" [A-Z]", q.text), q.text


# --- stories per file ---------------------------------------------------------------------

FIXED_STORIES = {4: 1000, 15: 250, 16: 1000, 17: 125, 19: 1000}


@pytest.mark.parametrize("task", TASKS)
def test_stories_per_file(task):
    for split in ("train", "test"):
        n = len(stories(task, 1000, split))
        if task in FIXED_STORIES:
            assert n == FIXED_STORIES[task]
        elif task == 18:  # official 198/199: 5 questions per story, rarely 8–9
            assert 196 <= n <= 200
        else:  # task 20, official 94/93: 10–12 questions per story
            assert 91 <= n <= 96
    assert len(stories(task, 10_000)) in range(
        10 * len(stories(task, 1000)) - 30, 10 * len(stories(task, 1000)) + 30
    )


def test_truncated_last_story():
    # the 1000th question ends the file, mid-story where needed, as in qa18/qa20
    for task in (18, 20):
        last = stories(task, 1000)[-1]
        assert isinstance(last.lines[-1], Question)
        assert len(questions(stories(task, 1000))) == 1000


# --- statistics on 10k questions ----------------------------------------------------------

REF = {  # babi_stats_en.json
    4: {
        "answers": {
            "kitchen": 0.175,
            "hallway": 0.172,
            "bathroom": 0.168,
            "garden": 0.165,
            "office": 0.162,
            "bedroom": 0.158,
        },
        "repeat": 0.0,
    },
    15: {"answers": {"wolf": 0.279, "cat": 0.252, "mouse": 0.245, "sheep": 0.225}, "repeat": 0.188},
    16: {"answers": {"yellow": 0.258, "green": 0.252, "white": 0.252, "gray": 0.238}, "repeat": 0.0},
    17: {"answers": {"yes": 0.512, "no": 0.487}, "repeat": 0.118},
    18: {"answers": {"no": 0.513, "yes": 0.487}, "repeat": 0.176},
    19: {
        "answers": {
            "s,w": 0.09,
            "e,n": 0.089,
            "n,w": 0.089,
            "n,n": 0.088,
            "w,s": 0.087,
            "e,e": 0.086,
            "s,e": 0.083,
            "e,s": 0.082,
            "n,e": 0.082,
            "s,s": 0.075,
            "w,n": 0.075,
            "w,w": 0.072,
        },
        "repeat": 0.0,
    },
    20: {
        "answers": {
            "kitchen": 0.183,
            "bored": 0.162,
            "tired": 0.157,
            "thirsty": 0.155,
            "hungry": 0.154,
            "garden": 0.096,
            "bedroom": 0.094,
        },
        "repeat": 0.0,
    },
}
SUPPORT_SIZE = {4: 1, 15: 2, 16: 3, 17: 2, 18: 2, 19: 2, 20: 1}
STATEMENTS = {4: 2, 15: 8, 16: 9, 17: 2, 19: 5}  # fixed-length tasks



def repeat_rate(story_list) -> float:
    same = total = 0
    for s in story_list:
        qs = s.questions
        total += len(qs)
        same += sum(
            (a.text, a.answer, a.support) == (b.text, b.answer, b.support) for a, b in zip(qs, qs[1:])
        )
    return same / total


@pytest.mark.parametrize("task", TASKS)
def test_statistics_10k(task):
    sample = stories(task, 10_000)
    qs = questions(sample)
    answers = collections.Counter(q.answer for q in qs)
    assert tv({a: n / len(qs) for a, n in answers.items()}, REF[task]["answers"]) < 0.05
    assert {len(q.support) for q in qs} == {SUPPORT_SIZE[task]}
    assert abs(repeat_rate(sample) - REF[task]["repeat"]) <= 0.05
    n_statements = [len(s.statements) for s in sample[:-1]]
    if task in STATEMENTS:
        assert set(n_statements) == {STATEMENTS[task]}
    elif task == 18:  # mean 6.15, median 5; statements come in groups of 5
        assert abs(sum(n_statements) / len(n_statements) - 6.15) <= 0.615
        assert sorted(n_statements)[len(n_statements) // 2] == 5
        assert all(n % 5 == 0 for n in n_statements)
    else:  # task 20: 8 + the number of distinct objects wanted
        assert set(n_statements) == {10, 11, 12}
        assert abs(sum(n_statements) / len(n_statements) - 10.7) <= 0.3


def test_task_specific_shapes():
    # task 18: 78 % of stories are 5 statements + 5 questions, the gap before a block is 5 or 10
    s18 = stories(18, 10_000)[:-1]
    share5 = sum(len(s.statements) == 5 and len(s.questions) == 5 for s in s18) / len(s18)
    assert abs(share5 - 0.78) < 0.05
    # task 19: the 12 answers never include opposite steps; degree pattern (3,2,2,1,1,1) ≈ 64 %
    pattern = collections.Counter()
    for s in stories(19, 10_000):
        deg = collections.Counter()
        for st in s.statements:
            w = st.text[:-1].split()
            deg[w[1]] += 1
            deg[w[-1]] += 1
        pattern[tuple(sorted(deg.values(), reverse=True))] += 1
    total = sum(pattern.values())
    assert abs(pattern[(3, 2, 2, 1, 1, 1)] / total - 0.64) < 0.05
    assert abs(pattern[(3, 3, 1, 1, 1, 1)] / total - 0.22) < 0.05
    # task 16: Q's "is a" line is the last statement in ≈ 31.5 % of stories
    s16 = stories(16, 10_000)
    last = sum(s.statements[-1].text.startswith(s.questions[0].text.split()[-1][:-1] + " is a ") for s in s16)
    assert abs(last / len(s16) - 0.315) < 0.05
    # task 4: the question is about the middle room ≈ 66 %
    mid = 0
    for s in stories(4, 10_000):
        rooms = [w for st in s.statements for w in st.text[:-1].split() if w in ROOMS]
        middle = next(r for r in rooms if rooms.count(r) == 2)
        mid += f" {middle} " in s.questions[0].text or s.questions[0].text.endswith(f" {middle}?")
    assert abs(mid / 10_000 - 0.66) < 0.05


# --- the checkers catch planted mistakes --------------------------------------------------


@pytest.mark.parametrize("task", TASKS)
def test_checker_finds_planted_errors(task):
    original = stories(task, 1000)[:20]
    assert disagreements(task, original) == []

    wrong_answer = copy.deepcopy(original)
    q = wrong_answer[0].questions[0]
    q.answer = sorted(ANSWERS[task] - {q.answer})[0]
    assert len(disagreements(task, wrong_answer)) == 1

    wrong_support = copy.deepcopy(original)
    q = wrong_support[0].questions[0]
    if len(q.support) > 1:
        q.support = q.support[::-1]  # the order is part of the convention
    else:
        q.support = [next(s.id for s in wrong_support[0].statements if s.id != q.support[0])]
    assert len(disagreements(task, wrong_support)) == 1

    other_line = copy.deepcopy(original)  # cite a statement that says something else
    story = other_line[0]
    q = story.questions[0]
    cited = {story.line(i).text for i in q.support}
    others = [s.id for s in story.statements if s.id < q.id and s.text not in cited]
    if others:  # (task 17 has only the two cited statements)
        q.support = [others[0]] + q.support[1:]
        assert len(disagreements(task, other_line)) == 1
