"""`memlib lstm train|distance`: one-line errors with exit 2, JSON last line, checkpoints."""

import json

import pytest

from memlib import checkpoints
from memlib.babi.encode import Vocab, encode, samples
from memlib.babi.format import load_task, write_file
from memlib.babi.generate.distance import distance_stories
from memlib.babi.tasks import filename
from memlib.cli import main
from memlib.recipes.lstm import TRAIN_PRESET, evaluate


@pytest.fixture
def qa1(tmp_path):
    """Two folders of small task-1 style files (train + test)."""
    folders = []
    for name, seed in (("a", 0), ("b", 5)):
        d = tmp_path / name
        write_file(d / filename(1, "train"), distance_stories(60, range(3), seed=seed, length=3))
        write_file(d / filename(1, "test"), distance_stories(20 + 10 * seed, range(3), seed=seed + 1, length=3))
        folders.append(d)
    return folders


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("argv, message", [
    (["lstm", "train", "--data", "x"], "one of the arguments --task --tasks is required"),
    (["lstm", "train", "--data", "x", "--task", "1", "--tasks", "1-3"], "not allowed with argument"),
    (["lstm", "train", "--data", "x", "--task", "21"], "no such task 21"),
    (["lstm", "train", "--data", "x", "--task", "1-3"], "expected one task number"),
    (["lstm", "train", "--data", "x", "--task", "1", "--epochs", "0"], "expected a positive integer"),
    (["lstm", "train", "--data", "x", "--task", "1", "--cell", "gru"], "argument --cell: invalid choice: 'gru'"),
    (["lstm", "distance", "--stories", "-3"], "expected a positive integer"),
    (["lstm"], "required: COMMAND"),
])
def test_bad_arguments_are_one_line_errors_with_exit_2(capsys, argv, message):
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1


def test_missing_data_or_task_file_is_a_usage_error(capsys, tmp_path, qa1):
    code, _, err = run(capsys, "lstm", "train", "--data", str(tmp_path / "nope"), "--task", "1")
    assert code == 2 and "no bAbI data at" in err
    code, _, err = run(capsys, "lstm", "train", "--data", str(qa1[0]), "--task", "2")
    assert code == 2 and "task 2" in err
    code, _, err = run(capsys, "lstm", "train", "--data", str(qa1[0]), "--task", "1", "--out", "model.bin")
    assert code == 2 and "--out must name a .pt file" in err


def test_train_prints_accuracies_and_seconds_and_json_last(capsys, qa1):
    code, out, _ = run(capsys, "lstm", "train", "--data", str(qa1[0]), "--task", "1", "--epochs", "2")
    assert code == 0
    assert "train accuracy" in out and "test accuracy" in out and "seconds" in out and "50 %" in out
    code, out, _ = run(capsys, "lstm", "train", "--data", str(qa1[0]), "--task", "1", "--epochs", "2", "--json")
    info = json.loads(out.strip().splitlines()[-1])
    assert info["task"] == 1 and info["train_questions"] == 60 and info["test_questions"] == 20
    assert 0 <= info["train_accuracy"] <= 1 and 0 <= info["test_accuracy"] <= 1
    assert info["published_accuracy"] == 0.5 and info["seconds"] > 0 and info["epochs"] == 2


def test_test_data_evaluates_on_another_folder(capsys, qa1, tmp_path):
    out_file = tmp_path / "ck" / "lstm.pt"
    code, out, _ = run(capsys, "lstm", "train", "--data", str(qa1[0]), "--task", "1", "--epochs", "1",
                       "--test-data", str(qa1[1]), "--out", str(out_file), "--json")
    info = json.loads(out.strip().splitlines()[-1])
    assert code == 0 and info["test_questions"] == 70 and info["test_data"] == str(qa1[1])
    ck = checkpoints.load(out_file)
    assert ck["meta"]["command"].startswith(f"memlib lstm train --data {qa1[0]} --task 1 --seed 0 --epochs 1")
    model, meta = checkpoints.load_model(out_file)
    vocab, test = Vocab(meta["vocab"]), load_task(qa1[1], 1, "test")
    # the stored model gives back the recorded test accuracy (it read the last 20 sentences, as trained)
    batch = encode(samples(test, TRAIN_PRESET["memory_size"]), vocab, meta["answers"])
    assert round(evaluate(model, batch)["accuracy"], 4) == info["test_accuracy"]
    assert ck["meta"]["test_accuracy"] == info["test_accuracy"] and ck["config"]["hidden_size"] == 64
    assert "where" in ck["meta"]["vocab"] and ck["meta"]["answers"] == sorted(ck["meta"]["answers"])


def test_distance_reports_accuracy_per_distance(capsys, tmp_path):
    out_file = tmp_path / "d.pt"
    code, out, _ = run(capsys, "lstm", "distance", "--stories", "40", "--epochs", "1", "--out", str(out_file), "--json",
                       "--device", "cpu")
    info = json.loads(out.strip().splitlines()[-1])
    assert code == 0 and info["stories"] == 40 and len(info["per_distance"]) == info["length"]
    assert all(0 <= a <= 1 for a in info["per_distance"])
    ck = checkpoints.load(out_file)
    assert ck["meta"]["command"] == f"memlib lstm distance --seed 0 --stories 40 --epochs 1 --out {out_file}"
    # the shipped form: one file, one LSTM per distance, each giving back its measured accuracy
    assert ck["config"]["family"] == "lstm" and ck["config"]["distances"] == list(range(info["length"]))
    models, meta = checkpoints.load_model(out_file)
    assert sorted(models) == list(range(info["length"])) and meta == ck["meta"]
    vocab, answers = Vocab(ck["meta"]["vocab"]), ck["meta"]["answers"]
    for d in (0, info["length"] - 1):
        test = encode(samples(distance_stories(500, d, seed=1000, length=info["length"])), vocab, answers)
        assert evaluate(models[d], test)["accuracy"] == pytest.approx(info["per_distance"][d], abs=1e-4)


def test_tasks_trains_one_lstm_per_task_and_prints_the_memn2n_table(capsys, qa1, tmp_path):
    results = tmp_path / "lstm.json"
    code, out, err = run(capsys, "lstm", "train", "--data", str(qa1[0]), "--tasks", "1", "--epochs", "1",
                         "--results", str(results), "--json")
    assert code == 0 and "task  1: test error" in err and "published 50 %" in err
    table = json.loads(out.strip().splitlines()[-1])
    row = table["tasks"]["1"]
    assert list(table["tasks"]) == ["1"] and row["published_error"] == 50 and 0 <= row["test_error"] <= 100
    assert table["mean_error"] == row["test_error"] and table["failed"] == int(row["test_error"] > 5)
    stored = json.loads(results.read_text())
    assert stored.pop("command") == f"memlib lstm train --data {qa1[0]} --tasks 1 --seed 0 --epochs 1 --results {results} --json"
    assert stored == table
    code, _, err = run(capsys, "lstm", "train", "--data", str(qa1[0]), "--tasks", "1", "--out", "m.pt")
    assert code == 2 and "--out saves one task's model" in err
    code, _, err = run(capsys, "lstm", "train", "--data", str(qa1[0]), "--task", "1", "--results", "r.json")
    assert code == 2 and "--results goes with --tasks" in err


def test_cell_rnn_trains_a_plain_rnn_and_its_checkpoint_says_so(capsys, qa1, tmp_path):
    out_file = tmp_path / "rnn.pt"
    code, out, _ = run(capsys, "lstm", "train", "--data", str(qa1[0]), "--task", "1", "--epochs", "1", "--cell", "rnn")
    assert code == 0 and out.startswith("RNN on task 1") and "has no RNN column" in out and "50 %" not in out
    code, out, _ = run(capsys, "lstm", "train", "--data", str(qa1[0]), "--task", "1", "--epochs", "1", "--cell", "rnn",
                       "--out", str(out_file), "--json")
    info = json.loads(out.strip().splitlines()[-1])
    assert code == 0 and info["published_accuracy"] is None and info["test_questions"] == 20
    ck = checkpoints.load(out_file)
    assert ck["config"]["cell"] == "rnn" and ck["meta"]["cell"] == "rnn"
    assert ck["meta"]["command"] == f"memlib lstm train --data {qa1[0]} --task 1 --cell rnn --seed 0 --epochs 1 --out {out_file}"
    model, meta = checkpoints.load_model(out_file)
    assert not hasattr(model, "lstm") and model.rnn.nonlinearity == "tanh"
    # the stored RNN gives back its recorded test accuracy, read with the memory size the checkpoint names
    batch = encode(samples(load_task(qa1[0], 1, "test"), meta["memory_size"]), Vocab(meta["vocab"]), meta["answers"])
    assert meta["memory_size"] == TRAIN_PRESET["memory_size"]
    assert round(evaluate(model, batch)["accuracy"], 4) == info["test_accuracy"]
    # the default stays the LSTM, and its stored command names no --cell
    code, out, _ = run(capsys, "lstm", "train", "--data", str(qa1[0]), "--task", "1", "--epochs", "1",
                       "--out", str(tmp_path / "lstm.pt"), "--json")
    ck = checkpoints.load(tmp_path / "lstm.pt")
    assert ck["config"]["cell"] == "lstm" and "--cell" not in ck["meta"]["command"]
    assert json.loads(out.strip().splitlines()[-1])["published_accuracy"] == 0.5


def test_cell_rnn_with_tasks_names_the_rnn_and_has_no_published_error(capsys, qa1, tmp_path):
    results = tmp_path / "rnn.json"
    code, out, err = run(capsys, "lstm", "train", "--data", str(qa1[0]), "--tasks", "1", "--epochs", "1",
                         "--cell", "rnn", "--results", str(results), "--json")
    table = json.loads(out.strip().splitlines()[-1])
    assert code == 0 and table["model"] == "RNN" and table["tasks"]["1"]["published_error"] is None
    assert "no published RNN number" in err
    assert json.loads(results.read_text())["command"] == (
        f"memlib lstm train --data {qa1[0]} --tasks 1 --seed 0 --cell rnn --epochs 1 --results {results} --json")
