"""Shared fixtures: official-format bAbI excerpts (Weston et al. 2016), and a strict device."""

import contextlib
import os

import pytest
import torch

os.environ.setdefault("MEMLIB_FAST", "1")
os.environ.setdefault("TQDM_DISABLE", "1")

# tiny models: one torch thread is several times faster than two on a loaded 2-core machine
torch.set_num_threads(1)

# Excerpts in the exact official format (note "? " before the TAB in tasks 1–3, none in 4/19).
QA1 = (
    "1 Mary moved to the bathroom.\n"
    "2 John went to the hallway.\n"
    "3 Where is Mary? \tbathroom\t1\n"
    "4 Daniel went back to the hallway.\n"
    "5 Sandra moved to the garden.\n"
    "6 Where is Daniel? \thallway\t4\n"
    "1 Sandra travelled to the office.\n"
    "2 John journeyed to the kitchen.\n"
    "3 Where is Sandra? \toffice\t1\n"
)
QA2 = (
    "1 Mary got the milk there.\n"
    "2 John moved to the bedroom.\n"
    "3 Sandra went back to the kitchen.\n"
    "4 Mary travelled to the hallway.\n"
    "5 Where is the milk? \thallway\t1 4\n"
)
QA4 = (
    "1 The office is north of the kitchen.\n"
    "2 The garden is south of the kitchen.\n"
    "3 What is north of the kitchen?\toffice\t1\n"
)
QA8 = (
    "1 Daniel picked up the football there.\n"
    "2 Daniel grabbed the milk there.\n"
    "3 What is Daniel carrying? \tfootball,milk\t1 2\n"
)
QA19 = (
    "1 The office is east of the hallway.\n"
    "2 The kitchen is north of the office.\n"
    "3 The garden is west of the bedroom.\n"
    "4 The office is west of the garden.\n"
    "5 The bathroom is north of the garden.\n"
    "6 How do you go from the kitchen to the garden?\ts,e\t2 4\n"
)


@pytest.fixture
def babi_folder(tmp_path):
    """A folder with official-style files for tasks 1, 2 and 19 (train and test)."""
    from memlib.babi.tasks import filename

    for task, text in ((1, QA1), (2, QA2), (19, QA19)):
        for split in ("train", "test"):
            (tmp_path / filename(task, split)).write_text(text)
    return tmp_path


@pytest.fixture
def strict_device():
    """``with strict_device(): …`` proves that a code path creates every tensor on the model's device.

    Inside the block torch's default device is "meta": a tensor created without an explicit
    device lands there, and mixing it with the model's CPU tensors raises. Build the model and the
    data before the block; run a forward pass and a training step inside it. Yields the device
    to pass explicitly (the CPU here: the suite has no GPU to test on).
    """

    @contextlib.contextmanager
    def block():
        torch.set_default_device("meta")
        try:
            yield torch.device("cpu")
        finally:
            torch.set_default_device("cpu")

    return block
