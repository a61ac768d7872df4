"""Statistics of a task and the fidelity checks against reference numbers."""

from conftest import QA1, QA2

from memlib.babi.format import parse
from memlib.babi.stats import compare, load_reference, task_stats, tv_distance, words


def test_task_stats_hand_counted():
    text = QA1.replace("Where is Sandra? \toffice\t1", "Where is Sandra? \toffice\t1\n4 Where is Sandra? \toffice\t1")
    s = task_stats(parse(QA1), parse(text))
    assert s["stories_train"] == 2 and s["stories_test"] == 2
    assert s["q_per_story"] == {"1": 1, "2": 3}  # the test copy's 2nd story gained a question
    assert s["stmts"]["min"] == 2 and s["stmts"]["max"] == 4
    # 7 questions, one identical to the one before it
    assert s["repeat_prev_q"] == round(1 / 7, 3)
    # statements before each question: 2, 2, 2 (train) + 2, 2, 2, 0 (test)
    assert s["gaps_stmts_before_each_q"] == {"2": round(6 / 7, 3), "0": round(1 / 7, 3)}
    assert s["support_size"] == {"1": 1.0}


def test_words_include_answers_lowercased():
    assert words(parse(QA2)) == {"mary", "got", "the", "milk", "there", "john", "moved", "to", "bedroom",
                                 "sandra", "went", "back", "kitchen", "travelled", "hallway", "where", "is"}


def test_tv_distance():
    assert tv_distance({"a": 0.5, "b": 0.5}, {"a": 0.5, "b": 0.5}) == 0
    assert tv_distance({"a": 1.0}, {"b": 1.0}) == 1
    assert abs(tv_distance({"a": 0.6, "b": 0.4}, {"a": 0.5, "b": 0.5}) - 0.1) < 1e-12


def test_reference_has_all_tasks_and_compare_passes_on_itself():
    ref = load_reference()
    assert set(ref) == {str(t) for t in range(1, 21)}
    for task in range(1, 21):
        r = dict(ref[str(task)], vocabulary=ref[str(task)].get("vocabulary", 0))
        m = dict(r)
        m["vocabulary"] = r["vocabulary"]
        rows = compare(m, dict(r), task)
        assert all(row["pass"] for row in rows), (task, [row for row in rows if not row["pass"]])
