"""The official bAbI format: parse, write back byte for byte, and clear errors."""

import pytest
from conftest import QA1, QA2, QA4, QA8, QA19

from memlib.babi.format import (
    BabiFormatError,
    Question,
    Statement,
    find_task_folder,
    format_stories,
    load_task,
    parse,
    read_file,
    task_files,
    write_file,
)
from memlib.babi.tasks import SPACE_BEFORE_TAB, filename


@pytest.mark.parametrize("text", [QA1, QA2, QA4, QA8, QA19])
def test_roundtrip_is_byte_for_byte(text):
    assert format_stories(parse(text)) == text


def test_records():
    stories = parse(QA1)
    assert len(stories) == 2
    first = stories[0]
    assert [type(x) for x in first.lines] == [Statement, Statement, Question, Statement, Statement, Question]
    q = first.questions[1]
    assert (q.id, q.text, q.answer, q.support, q.space_before_tab) == (6, "Where is Daniel?", "hallway", [4], True)
    assert first.line(4).text == "Daniel went back to the hallway."
    assert len(first.statements) == 4


def test_support_order_is_kept_and_list_answers_split():
    (story,) = parse(QA19)
    q = story.questions[0]
    assert q.support == [2, 4]  # the task's own order, not sorted
    assert q.answers == ["s", "e"] and q.answer == "s,e"
    assert q.space_before_tab is False
    (story8,) = parse(QA8)
    assert story8.questions[0].answers == ["football", "milk"]


def test_unsorted_support_roundtrips():
    text = "1 A went to the garden.\n2 B went to the hallway.\n3 Where is the milk? \tgarden\t2 1\n"
    assert parse(text)[0].questions[0].support == [2, 1]
    assert format_stories(parse(text)) == text


def test_space_before_tab_quirk_per_task():
    assert SPACE_BEFORE_TAB == {1, 2, 3, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14}
    assert parse(QA4)[0].questions[0].space_before_tab is False


def test_tolerates_crlf_and_blank_lines():
    crlf = QA2.replace("\n", "\r\n")
    assert format_stories(parse(crlf)) == QA2
    assert format_stories(parse(QA2.replace("\n3 ", "\n\n3 "))) == QA2


@pytest.mark.parametrize(
    "text, line, words",
    [
        ("", 1, "empty file"),
        ("x Mary went to the kitchen.\n", 1, "expected a line number"),
        ("2 Mary went to the kitchen.\n", 1, "must start at ID 1"),
        ("1 Mary went.\n3 John went.\n", 2, "does not continue the story (expected 2 or 1)"),
        ("1 Mary went.\n2 Where is Mary? \tkitchen\n", 2, "3 TAB-separated fields"),
        ("1 Mary went.\n2 Where is Mary? \tkitchen\tone\n", 2, "'one' is not a number"),
        ("1 Mary went.\n2 Where is Mary? \tkitchen\t3\n", 2, "does not point to an earlier line"),
        ("1 Mary went.\n2 Where? \tk\t1\n3 Where? \tk\t2\n", 3, "points to a question"),
        ("1 Mary went.\n2 Where is Mary? \t\t1\n", 2, "no answer"),
        ("1 Mary went.\n2 Where is Mary? \tkitchen\t\n", 2, "no supporting-fact IDs"),
        ("1 Mary went.\n2 Where? \tk\t1\n3 John went.\n", 3, "does not end with a question"),
    ],
)
def test_malformed_files_name_file_line_and_problem(text, line, words):
    with pytest.raises(BabiFormatError) as info:
        parse(text, source="qa1_bad.txt")
    err = info.value
    assert err.source == "qa1_bad.txt" and err.line_no == line
    assert words in str(err)
    assert str(err).startswith(f"qa1_bad.txt:{line}: ")


def test_read_and_write_files(tmp_path):
    path = write_file(tmp_path / filename(2, "train"), parse(QA2))
    assert path.read_text() == QA2
    assert format_stories(read_file(path)) == QA2
    bad = tmp_path / "qa2_x_test.txt"
    bad.write_bytes(b"1 Mary went.\n2 \xff\n")
    with pytest.raises(BabiFormatError, match="qa2_x_test.txt:2: not UTF-8"):
        read_file(bad)


def test_folder_and_archive_layouts(babi_folder, tmp_path):
    assert set(task_files(babi_folder)) == {(t, s) for t in (1, 2, 19) for s in ("train", "test")}
    assert format_stories(load_task(babi_folder, 19, "test")) == QA19
    # the unpacked official archive: tasks_1-20_v1-2/en and en-10k, plus en-valid names without a slug
    root = tmp_path / "archive"
    for sub, text in (("en", QA1), ("en-10k", QA1 + QA1)):
        d = root / "tasks_1-20_v1-2" / sub
        d.mkdir(parents=True)
        (d / filename(1, "train")).write_text(text)
        (d / "README.txt").write_text("unknown files are ignored")
    assert find_task_folder(root, "1k").name == "en"
    assert len(load_task(root, 1, "train", "10k")) == 4
    valid = tmp_path / "valid"
    valid.mkdir()
    (valid / "qa1_valid.txt").write_text(QA1)
    assert len(load_task(valid, 1, "valid")) == 2


def test_missing_data_is_a_clear_error(tmp_path, babi_folder):
    with pytest.raises(FileNotFoundError, match="no bAbI data"):
        load_task(tmp_path / "nowhere", 1)
    with pytest.raises(FileNotFoundError, match=r"qa3_three-supporting-facts_train.txt \(task 3, train\)"):
        load_task(babi_folder, 3)
    with pytest.raises(ValueError, match="no bAbI task 21"):
        filename(21, "train")
