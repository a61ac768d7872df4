"""The generator framework: official layout, question counts, 1k ⊂ 10k, independent streams."""

import json
import subprocess
import sys

from memlib.babi.format import format_stories, load_task, read_file
from memlib.babi.generate import generate, generate_stories, generators, take_questions
from memlib.babi.oracle import checkers, disagreements
from memlib.babi.tasks import filename


def test_every_task_has_a_generator_and_a_checker():
    assert sorted(generators()) == list(range(1, 21))
    assert sorted(checkers()) == list(range(1, 21))


def test_exact_question_counts_and_cut_last_story():
    for task in (18, 20):  # stories of varying length: the last one is cut after the 1,000th question
        stories = generate_stories(task, 1000, seed=0)
        assert sum(len(s.questions) for s in stories) == 1000
        assert stories[-1].lines[-1].__class__.__name__ == "Question"


def test_take_questions_cuts_right_after_the_nth_question():
    stories = generate_stories(20, 30, seed=3)
    cut = take_questions(stories, 25)
    assert sum(len(s.questions) for s in cut) == 25
    assert format_stories(stories).startswith(format_stories(cut))


def test_official_layout_1k_prefix_of_10k_and_shared_test(tmp_path):
    generate(tmp_path, tasks=[2, 18], size="10k", seed=0)
    for task in (2, 18):
        en, en10 = tmp_path / "en", tmp_path / "en-10k"
        train1, train10 = (en / filename(task, "train")).read_bytes(), (en10 / filename(task, "train")).read_bytes()
        assert train10.startswith(train1) and len(train10) > 5 * len(train1)
        assert (en / filename(task, "test")).read_bytes() == (en10 / filename(task, "test")).read_bytes()
        assert sum(len(s.questions) for s in read_file(en10 / filename(task, "train"))) == 10_000
        test = load_task(tmp_path, task, "test")
        assert sum(len(s.questions) for s in test) == 1000
        assert format_stories(test) != format_stories(load_task(tmp_path, task, "train"))  # independent streams
        assert disagreements(task, test) == []


def test_seeded_and_deterministic():
    a = format_stories(generate_stories(1, 50, seed=1))
    assert a == format_stories(generate_stories(1, 50, seed=1))
    assert a != format_stories(generate_stories(1, 50, seed=2))
    assert a != format_stories(generate_stories(1, 50, seed=1, split="test"))


def test_cli_generate_then_check_everything(tmp_path):
    out = tmp_path / "babi"
    p = subprocess.run([sys.executable, "-m", "memlib", "babi", "generate", "--out", str(out), "--tasks", "1-20",
                        "--json"], capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr
    result = json.loads(p.stdout.strip().splitlines()[-1])
    assert result["tasks"] == list(range(1, 21)) and result["folders"] == [str(out / "en")]
    assert len(list((out / "en").glob("qa*_*.txt"))) == 40
    p = subprocess.run([sys.executable, "-m", "memlib", "babi", "check", str(out), "--roundtrip", "--answers",
                        "--json"], capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stdout[-2000:]
    assert json.loads(p.stdout.strip().splitlines()[-1]) == {"files": 40, "questions": 40_000, "problems": [],
                                                             "ok": True}
