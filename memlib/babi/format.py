"""The official bAbI v1.2 file format: read and write stories, byte for byte.

A file is a sequence of stories. Each line is ``ID text``; a line whose ID is 1 starts a new
story. A statement is ``ID Sentence.``; a question is ``ID Question?<TAB>answer<TAB>support``
where the answer may be a comma list (``apple,milk``, ``n,w``) and support is a list of earlier
statement IDs in the task's own (unsorted) order. In tasks 1–3 and 5–14 the question text ends
with a space before the TAB; `Question.space_before_tab` keeps that quirk so that writing a
parsed file reproduces it exactly.
"""

from __future__ import annotations

import pathlib
import re
from dataclasses import dataclass, field

from memlib.babi.tasks import SLUGS, SPACE_BEFORE_TAB, filename


class BabiFormatError(ValueError):
    """A malformed bAbI file; names the file, the line number and what was expected."""

    def __init__(self, source: str, line_no: int, message: str):
        self.source, self.line_no, self.message = source, line_no, message
        super().__init__(f"{source}:{line_no}: {message}")


@dataclass
class Statement:
    """A statement line: ``3 John went to the kitchen.``"""

    id: int
    text: str


@dataclass
class Question:
    """A question line with its answer items and supporting statement IDs (task order)."""

    id: int
    text: str
    answer: str  # as written: one token or a comma list such as "apple,milk"
    support: list[int]
    space_before_tab: bool = True

    @property
    def answers(self) -> list[str]:
        """The answer items: ``"n,w"`` → ``["n", "w"]``."""
        return self.answer.split(",")


@dataclass
class Story:
    """One story: its lines in order, statements and questions interleaved, IDs from 1."""

    lines: list = field(default_factory=list)

    @property
    def statements(self) -> list[Statement]:
        return [x for x in self.lines if isinstance(x, Statement)]

    @property
    def questions(self) -> list[Question]:
        return [x for x in self.lines if isinstance(x, Question)]

    def line(self, line_id: int):
        """The line with this ID (IDs count every line from 1)."""
        return self.lines[line_id - 1]


_ID = re.compile(r"[0-9]+")


def _question(story: Story, line_id: int, rest: str, source: str, no: int) -> Question:
    """The question line ``text TAB answer TAB support`` (after its ID) of `story`, checked."""
    fields = rest.split("\t")
    if len(fields) != 3:
        raise BabiFormatError(
            source, no, f"question line must have 3 TAB-separated fields (question, answer, support), got {len(fields)}"
        )
    q_text, answer, support_text = fields
    if not q_text.strip():
        raise BabiFormatError(source, no, "question has no text")
    if not answer.strip():
        raise BabiFormatError(source, no, "question has no answer")
    support = []
    for item in support_text.split():
        if not _ID.fullmatch(item):
            raise BabiFormatError(source, no, f"supporting-fact ID {item!r} is not a number")
        sid = int(item)
        if not 1 <= sid < line_id:
            raise BabiFormatError(
                source, no, f"supporting fact {sid} does not point to an earlier line of this story (1..{line_id - 1})"
            )
        if isinstance(story.lines[sid - 1], Question):
            raise BabiFormatError(source, no, f"supporting fact {sid} points to a question, expected a statement")
        support.append(sid)
    if not support:
        raise BabiFormatError(source, no, "question has no supporting-fact IDs")
    return Question(line_id, q_text.strip(), answer.strip(), support, space_before_tab=q_text.endswith(" "))


def parse(text: str, source: str = "<string>") -> list[Story]:
    """Parse the text of a bAbI file into stories; raise `BabiFormatError` on bad lines."""
    stories: list[Story] = []
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()  # the final newline
    if not any(line.strip() for line in lines):
        raise BabiFormatError(source, 1, "empty file: expected bAbI lines such as '1 Mary went to the kitchen.'")
    for no, raw in enumerate(lines, start=1):
        line = raw[:-1] if raw.endswith("\r") else raw
        if not line.strip():
            continue  # tolerated, although the official files have no blank lines
        head, sep, rest = line.partition(" ")
        if not sep or not _ID.fullmatch(head):
            raise BabiFormatError(source, no, f"expected a line number then a space, got {line[:40]!r}")
        line_id = int(head)
        if line_id == 1:
            stories.append(Story())
        elif not stories:
            raise BabiFormatError(source, no, f"the first story must start at ID 1, got ID {line_id}")
        story = stories[-1]
        if line_id != len(story.lines) + 1:
            raise BabiFormatError(
                source, no, f"ID {line_id} does not continue the story (expected {len(story.lines) + 1} or 1)"
            )
        if "\t" not in rest:
            if not rest.strip():
                raise BabiFormatError(source, no, "statement has no text")
            story.lines.append(Statement(line_id, rest))
            continue
        story.lines.append(_question(story, line_id, rest, source, no))
    last = stories[-1].lines[-1] if stories and stories[-1].lines else None
    if not isinstance(last, Question):
        raise BabiFormatError(source, len(lines), "the last story does not end with a question")
    return stories


def format_line(line) -> str:
    """One line of the official format (no newline)."""
    if isinstance(line, Statement):
        return f"{line.id} {line.text}"
    space = " " if line.space_before_tab else ""
    return f"{line.id} {line.text}{space}\t{line.answer}\t{' '.join(map(str, line.support))}"


def format_stories(stories) -> str:
    """The text of a bAbI file: every line followed by a newline."""
    return "".join(format_line(line) + "\n" for story in stories for line in story.lines)


def read_file(path) -> list[Story]:
    """Read one bAbI file."""
    path = pathlib.Path(path)
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BabiFormatError(str(path), path.read_bytes()[: exc.start].count(b"\n") + 1, "not UTF-8 text") from None
    return parse(text, source=str(path))


def write_file(path, stories) -> pathlib.Path:
    """Write stories in the official format (LF line endings, final newline)."""
    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(format_stories(stories).encode("utf-8"))
    return path


_FILE = re.compile(r"qa([0-9]+)(?:_[a-z-]+)?_(train|test|valid)\.txt")


def task_files(folder) -> dict[tuple[int, str], pathlib.Path]:
    """Map (task, split) → file for the bAbI files directly inside `folder` (unknown files ignored)."""
    found = {}
    for p in sorted(pathlib.Path(folder).iterdir()):
        m = _FILE.fullmatch(p.name)
        if m and int(m.group(1)) in SLUGS:
            found[(int(m.group(1)), m.group(2))] = p
    return found


def find_task_folder(root, size: str = "1k") -> pathlib.Path:
    """The folder holding ``qa*_train.txt`` files: `root` itself, or the archive's ``en``/``en-10k``."""
    root = pathlib.Path(root)
    if not root.exists():
        raise FileNotFoundError(f"no bAbI data at {root}")
    if root.is_file():
        raise NotADirectoryError(f"{root} is a file; expected a folder of qa*_train.txt/qa*_test.txt files")
    sub = {"1k": "en", "10k": "en-10k"}.get(size)
    if sub is None:
        raise ValueError(f"size must be '1k' or '10k', not {size!r}")
    for candidate in (root / sub, root / "tasks_1-20_v1-2" / sub, root):
        if candidate.is_dir() and task_files(candidate):
            return candidate
    raise FileNotFoundError(
        f"no bAbI task files in {root} (expected qa<N>_<slug>_<train|test>.txt files, or an {sub}/ folder)"
    )


def load_task(root, task: int, split: str = "train", size: str = "1k") -> list[Story]:
    """Read one task's split from a folder of task files or an unpacked official archive."""
    folder = find_task_folder(root, size)
    files = task_files(folder)
    if (task, split) not in files:
        raise FileNotFoundError(f"no {filename(task, split)} (task {task}, {split}) in {folder}")
    return read_file(files[(task, split)])


def default_space_before_tab(task: int) -> bool:
    """The task's question-line quirk: "? " before the TAB in tasks 1–3 and 5–14."""
    return task in SPACE_BEFORE_TAB
