"""The bAbI question-answering tasks: file format, task ids, our generator, encoding to tensors."""

from memlib.babi.format import (
    BabiFormatError,
    Question,
    Statement,
    Story,
    load_task,
    parse,
    read_file,
    write_file,
)
from memlib.babi.tasks import SLUGS, TASKS, TITLES

__all__ = [
    "BabiFormatError",
    "Question",
    "Statement",
    "Story",
    "load_task",
    "parse",
    "read_file",
    "write_file",
    "SLUGS",
    "TASKS",
    "TITLES",
]
