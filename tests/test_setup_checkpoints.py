"""memlib.setup(), the budget switch, and checkpoints that load with weights_only."""

import random
import subprocess
import sys

import pytest
import torch

import memlib
from memlib import checkpoints


def test_setup_seeds_everything_and_uses_one_thread():
    memlib.setup(7)
    a = (random.random(), torch.rand(3))
    memlib.setup(7)
    b = (random.random(), torch.rand(3))
    assert a[0] == b[0] and torch.equal(a[1], b[1])
    assert torch.get_num_threads() == 1


def test_budget_follows_memlib_fast():
    code = "import memlib; print(memlib.FAST, memlib.budget(full=100, fast=3))"
    for env, expected in (("1", "True 3"), ("0", "False 100")):
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                             env={"MEMLIB_FAST": env, "PATH": ""}, check=True).stdout.strip()
        assert out == expected


def test_checkpoint_roundtrip(tmp_path):
    model = torch.nn.Linear(3, 2)
    f = checkpoints.save(tmp_path / "m.pt", model.state_dict(), {"in": 3, "out": 2},
                         {"command": "memlib x train", "accuracy": 0.5})
    payload = checkpoints.load(f)
    assert payload["config"] == {"in": 3, "out": 2} and payload["meta"]["command"] == "memlib x train"
    clone = torch.nn.Linear(3, 2)
    clone.load_state_dict(payload["state_dict"])
    assert torch.equal(clone.weight, model.weight)
    with pytest.raises(FileNotFoundError, match="no checkpoint at"):
        checkpoints.load(tmp_path / "missing.pt")
    torch.save({"weights": 1}, tmp_path / "other.pt")
    with pytest.raises(ValueError, match="not a memlib checkpoint"):
        checkpoints.load(tmp_path / "other.pt")
    assert checkpoints.path("ntm_copy").name == "ntm_copy.pt"
