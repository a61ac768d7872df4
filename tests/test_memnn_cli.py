"""`memlib memnn train`: output, --json, the time-feature flag pair, --test-data, --save, errors."""

import json

import pytest
import torch

from memlib import checkpoints
from memlib.babi.format import write_file
from memlib.babi.generate.lecture import lecture_stories
from memlib.cli import main
from memlib.recipes.memnn import vocab_of


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    threads = torch.get_num_threads()
    yield
    torch.set_num_threads(threads)  # the command calls memlib.setup(), which sets one thread


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    """Two folders of lecture-world stories filed as task 2 (train 60 stories, test 20)."""
    root = tmp_path_factory.mktemp("babi")
    for name, seed in (("a", 0), ("b", 5)):
        write_file(root / name / "qa2_two-supporting-facts_train.txt", lecture_stories(60, seed=seed))
        write_file(root / name / "qa2_two-supporting-facts_test.txt", lecture_stories(20, seed=seed + 1))
    return root


def run(capsys, *argv):
    code = main(["memnn", "train", *map(str, argv)])
    out, err = capsys.readouterr()
    return code, out, err


def test_train_prints_accuracies_per_hop_and_seconds_and_json_last(data, capsys):
    code, out, _ = run(capsys, "--data", data / "a", "--task", 2, "--epochs", 3, "--json")
    assert code == 0
    lines = out.strip().splitlines()
    assert lines[0].startswith("MemNN task 2, k=2, time features on: train ")
    result = json.loads(lines[-1])
    assert set(result) >= {"train_accuracy", "test_accuracy", "support_accuracy", "seconds", "epochs", "loadavg"}
    assert len(result["support_accuracy"]) == 2 and 0 <= result["test_accuracy"] <= 1
    assert result["time_features"] is True and result["hops"] == 2


def test_both_time_feature_flags_work(data, capsys):
    for flag, expected in (("--no-time-features", False), ("--time-features", True)):
        code, out, _ = run(capsys, "--data", data / "a", "--task", 2, "--hops", 1, "--epochs", 1, flag, "--json")
        assert code == 0
        result = json.loads(out.strip().splitlines()[-1])
        assert result["time_features"] is expected and len(result["support_accuracy"]) == 1


def test_test_data_evaluates_on_another_folder_and_save_records_the_command(data, capsys, tmp_path):
    ckpt = tmp_path / "m.pt"
    code, out, _ = run(capsys, "--data", data / "a", "--test-data", data / "b", "--task", 2, "--epochs", 2,
                       "--seed", 3, "--save", ckpt, "--json", "--device", "cpu")
    assert code == 0
    model, meta = checkpoints.load_model(ckpt)
    vocab = vocab_of(meta)
    assert meta["command"].startswith("memlib memnn train --data ")
    assert f"--test-data {data / 'b'}" in meta["command"] and "--seed 3" in meta["command"]
    assert "--epochs 2" in meta["command"] and "--time-features" in meta["command"]
    assert meta["test_accuracy"] == json.loads(out.strip().splitlines()[-1])["test_accuracy"]
    assert model.hops == 2 and len(vocab) == model.V and vocab.words == meta["vocab"]
    assert checkpoints.load(ckpt)["config"] == {"family": "memnn", **model.config}
    assert ckpt.stat().st_size < 1_000_000


@pytest.mark.parametrize("argv, message", [
    (["--data", "/nonexistent", "--task", "2"], "no bAbI data"),
    (["--task", "2"], "--data"),
    (["--data", ".", "--task", "21"], "no such task 21"),
    (["--data", ".", "--task", "2", "--hops", "0"], "must be > 0"),
])
def test_bad_arguments_are_one_line_errors_with_exit_code_2(argv, message, capsys):
    try:
        code = main(["memnn", "train", *argv])
    except SystemExit as exc:
        code = exc.code
    err = capsys.readouterr().err
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1


def test_missing_task_file_is_a_usage_error(data, capsys):
    code, _, err = run(capsys, "--data", data / "a", "--task", 1)
    assert code == 2 and "no qa1_" in err


def test_tasks_prints_the_table_of_memn2n_and_writes_the_results_file(data, capsys, tmp_path):
    results = tmp_path / "out" / "r.json"
    code, out, err = run(capsys, "--data", data / "a", "--tasks", 2, "--epochs", 2, "--dim", 10, "--results", results,
                         "--json")
    assert code == 0 and "task  2: test error" in err  # with --json the progress goes to stderr
    table = json.loads(out.strip().splitlines()[-1])
    assert list(table["tasks"]) == ["2"] and set(table) >= {"mean_error", "failed", "seconds", "model"}
    row = table["tasks"]["2"]
    assert table["mean_error"] == row["test_error"] and table["failed"] == int(row["test_error"] > 5.0)
    assert 0 <= row["test_error"] <= 100 and row["epochs"] <= 2 and row["hops"] == 3  # 2 facts + STOP
    stored = json.loads(results.read_text())
    assert stored.pop("command") == (f"memlib memnn train --data {data / 'a'} --tasks 2 --seed 0 --epochs 2 --dim 10 "
                                     f"--results {results} --json")
    assert stored == table


@pytest.mark.parametrize("argv, message", [
    (["--task", "2", "--tasks", "1-3"], "not allowed with argument"),
    (["--task", "2", "--results", "r.json"], "--results goes with --tasks"),
    (["--tasks", "2", "--save", "m.pt"], "--save stores one task's model"),
    (["--tasks", "2", "--results", "r.txt"], "must name a .json file"),
    (["--tasks", "2-1"], "invalid task selection"),
])
def test_tasks_flags_are_checked_with_one_line_errors(data, argv, message, capsys):
    try:
        code = main(["memnn", "train", "--data", str(data / "a"), *argv])
    except SystemExit as exc:
        code = exc.code
    err = capsys.readouterr().err
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1


def test_tasks_text_writes_runs_of_tasks():
    from memlib.cli import tasks_text

    assert tasks_text([1, 2, 3, 16, 18, 19]) == "1-3,16,18-19" and tasks_text([7]) == "7"
