"""`memlib ntm train|evaluate`: arguments, one-line errors (exit 2), --json last line,
checkpoints that store the command recreating them."""

import json

import pytest
import torch

from memlib import checkpoints
from memlib.cli import main
from memlib.cli.ntm import command_line
from memlib.models.ntm import NTM
from memlib.recipes.ntm import model_config


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("argv, message", [
    (["ntm", "train", "--task", "sorting"], "invalid choice"),
    (["ntm", "train", "--task", "copy", "--sequences", "0"], "positive integer"),
    (["ntm", "train", "--task", "copy", "--max-seconds", "abc"], "positive number"),
    (["ntm", "train", "--task", "copy", "--controller", "gru"], "invalid choice"),
    (["ntm", "evaluate", "--checkpoint", "x.pt", "--lengths", "10,a"], "invalid lengths"),
    (["ntm", "train", "--task", "copy", "--slip", "1"], "invalid fraction"),
    (["ntm", "train", "--task", "copy", "--slip", "x"], "invalid fraction"),
    (["ntm", "train", "--task", "copy", "--device", "gpu"], "invalid device"),
    (["ntm", "evaluate", "--checkpoint", "x.pt", "--device", "cuda:x"], "invalid device"),
    (["ntm"], "required"),
])
def test_bad_arguments_give_one_line_and_exit_2(capsys, argv, message):
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1


def test_missing_checkpoint_is_a_usage_error(capsys, tmp_path):
    code, out, err = run(capsys, "ntm", "evaluate", "--checkpoint", str(tmp_path / "none.pt"))
    assert code == 2 and "no checkpoint" in err and len(err.strip().splitlines()) == 1


def test_a_damaged_checkpoint_is_a_one_line_usage_error(capsys, tmp_path):
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"not a checkpoint")
    code, _, err = run(capsys, "ntm", "evaluate", "--checkpoint", str(bad))
    assert code == 2 and "bad.pt" in err and len(err.strip().splitlines()) == 1


def test_a_checkpoint_of_another_family_is_a_one_line_usage_error(capsys, monkeypatch):
    monkeypatch.setattr("memlib.checkpoints.load_model", lambda name, device=None: ({"1": None}, {}))
    code, _, err = run(capsys, "ntm", "evaluate", "--checkpoint", "memn2n_babi1k_3hops")
    assert code == 2 and "not a model of the algorithmic tasks" in err and len(err.strip().splitlines()) == 1


def test_out_must_be_a_pt_file(capsys):
    code, _, err = run(capsys, "ntm", "train", "--task", "copy", "--sequences", "32",
                       "--out", "model.bin")
    assert code == 2 and ".pt" in err


def test_train_tiny_budget_json_and_checkpoint(capsys, tmp_path):
    out_file = tmp_path / "tiny.pt"
    code, out, _ = run(capsys, "ntm", "train", "--task", "associative-recall", "--model", "lstm",
                       "--sequences", "64", "--out", str(out_file), "--device", "cpu", "--json")
    assert code == 0
    info = json.loads(out.strip().splitlines()[-1])
    assert info["sequences"] == 64 and info["task"] == "associative-recall"
    for key in ("seconds", "heldout_bit_errors", "heldout_bits_per_seq", "loadavg"):
        assert key in info
    ck = checkpoints.load(out_file)
    assert ck["meta"]["command"].startswith("memlib ntm train --task associative-recall")
    assert "--sequences 64" in ck["meta"]["command"]
    assert all(v.dtype == torch.float16 for v in ck["state_dict"].values())  # small files
    code, out, _ = run(capsys, "ntm", "evaluate", "--checkpoint", str(out_file),
                       "--lengths", "3,4", "--sequences", "16", "--device", "cpu", "--json")
    res = json.loads(out.strip().splitlines()[-1])
    assert code == 0 and [r["items"] for r in res["results"]] == [3, 4]


def test_evaluate_prints_a_table(capsys, tmp_path):
    torch.manual_seed(0)
    m = NTM(9, 8, controller_size=8, N=16, M=4)
    f = checkpoints.save(tmp_path / "c.pt", m.state_dict(), model_config(m), {"task": "copy"})
    code, out, _ = run(capsys, "ntm", "evaluate", "--checkpoint", str(f), "--lengths", "2,5",
                       "--sequences", "8")
    lines = out.strip().splitlines()
    assert code == 0 and lines[1].split()[0] == "length" and len(lines) == 4


def test_command_line_round_trip():
    from memlib.cli import build_parser

    argv = ["ntm", "train", "--task", "copy", "--seed", "3", "--sequences", "100",
            "--out", "data/checkpoints/ntm_copy.pt"]
    args = build_parser().parse_args(argv)
    cmd = command_line(args)
    assert cmd.split()[1:] == ["ntm", "train", "--task", "copy", "--model", "ntm",
                               "--controller", "lstm", "--seed", "3", "--sequences", "100",
                               "--max-seconds", "600", "--out", "data/checkpoints/ntm_copy.pt"]
    again = build_parser().parse_args(cmd.split()[1:])
    assert vars(again) | {"func": None} == vars(args) | {"func": None}


def test_slip_is_stored_in_the_command_and_refused_for_the_lstm(capsys):
    from memlib.cli import build_parser

    args = build_parser().parse_args(["ntm", "train", "--task", "copy", "--slip", "0"])
    assert "--slip 0 " in command_line(args)
    code, _, err = run(capsys, "ntm", "train", "--task", "copy", "--model", "lstm", "--slip", "0.1")
    assert code == 2 and "--slip applies to --model ntm only" in err


def test_cli_task_names_match_the_task_table():
    from memlib.algorithmic import TASKS
    from memlib.cli.ntm import TASK_NAMES

    assert set(TASK_NAMES) == set(TASKS)


def test_a_feed_forward_controller_trains_and_stores_its_learning_curve(capsys, tmp_path):
    out_file = tmp_path / "ff.pt"
    code, out, _ = run(capsys, "ntm", "train", "--task", "copy", "--controller", "ff", "--sequences", "320",
                       "--out", str(out_file), "--device", "cpu", "--json")
    info = json.loads(out.strip().splitlines()[-1])
    assert code == 0 and info["controller"] == "ff" and info["sequences"] == 320
    model, meta = checkpoints.load_model(out_file)
    assert isinstance(model, NTM) and model.kind == "ff" and isinstance(model.controller, torch.nn.Linear)
    assert "--controller ff" in meta["command"] and meta["train"]["controller"] == "ff"
    # the curve as ntm_copy.pt stores it: (sequences, window bit errors, window bits/seq) per window of 10 batches
    (point,) = meta["curve"]
    assert point[0] == 320 and 0 < point[1] < 80 and point[2] > 0
    assert len(checkpoints.load(checkpoints.path("ntm_copy"))["meta"]["curve"][0]) == len(point) == 3
    code, _, err = run(capsys, "ntm", "train", "--task", "copy", "--model", "lstm", "--controller", "ff")
    assert code == 2 and "--controller applies to --model ntm only" in err
