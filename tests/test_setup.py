"""memlib.setup() and the budget switch."""

import random
import subprocess
import sys

import torch

import memlib


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


def test_figures_are_legible_on_a_projector_and_larger_in_lecture_mode(monkeypatch):
    import matplotlib

    monkeypatch.setattr(memlib, "LECTURE", False)
    memlib.setup(0)
    assert matplotlib.rcParams["figure.dpi"] >= 144 and matplotlib.rcParams["savefig.dpi"] >= 144
    normal = matplotlib.rcParams["font.size"]
    monkeypatch.setattr(memlib, "LECTURE", True)
    memlib.setup(0)
    assert matplotlib.rcParams["font.size"] > normal
    monkeypatch.setattr(memlib, "LECTURE", False)
    memlib.setup(0)
