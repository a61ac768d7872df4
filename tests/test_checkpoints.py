"""Checkpoints: one `load_model` for every family, and one-line errors for files it cannot load."""

import pathlib
import subprocess
import sys

import pytest
import torch

from memlib import checkpoints
from memlib.checkpoints import CheckpointError, load_model
from memlib.models.baselines import QALSTM, SequenceLSTM
from memlib.models.memn2n import MemN2N
from memlib.models.memnn import MemNN
from memlib.models.ntm import NTM

ROOT = pathlib.Path(__file__).resolve().parent.parent
SHIPPED = sorted(checkpoints.ROOT.glob("*.pt"))
KINDS = {"ntm": (NTM, SequenceLSTM), "memnn": (MemNN,), "memn2n": (MemN2N,), "lstm": (QALSTM,)}


def small_lstm_file(tmp_path, **changes):
    """A SequenceLSTM saved as an NTM-task checkpoint, with `changes` made to the payload."""
    model = SequenceLSTM(3, 2, hidden_size=4, layers=1)
    f = checkpoints.save(tmp_path / "m.pt", model.state_dict(), {"family": "ntm", "model": "lstm", **model.config},
                         {"command": "memlib ntm train --task copy --model lstm"})
    if changes:
        payload = torch.load(f, weights_only=True)
        payload.update(changes)
        torch.save(payload, f)
    return model, f


def test_save_then_load_model_gives_the_same_model(tmp_path):
    model, f = small_lstm_file(tmp_path)
    clone, meta = load_model(f)
    assert isinstance(clone, SequenceLSTM) and not clone.training
    assert meta["command"].startswith("memlib ntm train")
    x = torch.randn(2, 5, 3)
    assert torch.equal(clone(x)[0], model(x)[0])


def test_save_needs_a_model_family(tmp_path):
    with pytest.raises(ValueError, match="family"):
        checkpoints.save(tmp_path / "m.pt", {}, {"in": 3})


@pytest.mark.parametrize("file", SHIPPED, ids=lambda p: p.stem)
def test_every_shipped_checkpoint_loads_by_name(file):
    model, meta = load_model(file.stem)
    family = checkpoints.load(file)["config"]["family"]
    models = model.values() if isinstance(model, dict) else [model]
    assert models and all(isinstance(m, KINDS[family]) and not m.training for m in models)
    assert meta["command"].startswith("memlib ")


def test_an_unknown_name_lists_the_shipped_checkpoints():
    with pytest.raises(FileNotFoundError, match="ntm_copy"):
        load_model("no_such_model")


def test_a_damaged_file_gets_a_one_line_error(tmp_path):
    bad = tmp_path / "cut.pt"
    bad.write_bytes(checkpoints.path("memnn_task2_k1").read_bytes()[:5000])
    with pytest.raises(CheckpointError, match=r"cut\.pt: damaged") as err:
        load_model(bad)
    assert "\n" not in str(err.value)
    (tmp_path / "text.pt").write_text("not a checkpoint")
    with pytest.raises(CheckpointError, match="damaged or not a PyTorch file"):
        load_model(tmp_path / "text.pt")


class Gadget:  # an object that only unpickling with code execution could rebuild
    pass


def test_a_file_with_code_is_refused(tmp_path):
    torch.save({"state_dict": {}, "config": {"family": "ntm"}, "meta": Gadget(), "format": 2}, tmp_path / "g.pt")
    with pytest.raises(CheckpointError, match="refused"):
        load_model(tmp_path / "g.pt")


def test_foreign_and_mismatched_files_say_what_is_wrong(tmp_path):
    torch.save(torch.zeros(3), tmp_path / "tensor.pt")
    with pytest.raises(CheckpointError, match="not a memlib checkpoint"):
        load_model(tmp_path / "tensor.pt")
    torch.save({"weights": 1}, tmp_path / "other.pt")
    with pytest.raises(CheckpointError, match="missing config, meta, state_dict"):
        load_model(tmp_path / "other.pt")
    _, newer = small_lstm_file(tmp_path, format=checkpoints.FORMAT + 1)
    with pytest.raises(CheckpointError, match="newer memlib"):
        load_model(newer)


def test_weights_that_do_not_fit_the_config(tmp_path):
    _, f = small_lstm_file(tmp_path)
    payload = torch.load(f, weights_only=True)
    payload["config"]["hidden_size"] = 5
    torch.save(payload, f)
    with pytest.raises(CheckpointError, match="do not fit a ntm model"):
        load_model(f)


def test_a_format_1_file_is_converted_once(tmp_path):
    model, f = small_lstm_file(tmp_path)
    payload = torch.load(f, weights_only=True)
    payload["config"].pop("family")
    payload.pop("format")
    torch.save(payload, f)
    with pytest.raises(CheckpointError, match="convert it once"):
        load_model(f)
    tool = [sys.executable, str(ROOT / "tools" / "convert_checkpoints.py"), str(f)]
    assert "converted" in subprocess.run(tool, capture_output=True, text=True, check=True).stdout
    assert "already current" in subprocess.run(tool, capture_output=True, text=True, check=True).stdout
    clone, meta = load_model(f)
    assert "family" in meta["converted"]
    x = torch.randn(1, 4, 3)
    assert torch.equal(clone(x)[0], model(x)[0])


def test_the_cli_reports_a_bad_checkpoint_in_one_line(tmp_path):
    (tmp_path / "text.pt").write_text("not a checkpoint")
    run = subprocess.run([sys.executable, "-m", "memlib", "ntm", "evaluate", "--checkpoint", str(tmp_path / "text.pt")],
                         capture_output=True, text=True)
    assert run.returncode == 2
    assert run.stderr.count("\n") == 1 and "damaged or not a PyTorch file" in run.stderr
