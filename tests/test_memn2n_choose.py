"""benchmarks/memn2n_choose.py: per task, the stored configuration of lowest validation error."""

import importlib.util
import json
import pathlib

import pytest

SCRIPT = pathlib.Path(__file__).resolve().parent.parent / "benchmarks" / "memn2n_choose.py"
spec = importlib.util.spec_from_file_location("memn2n_choose", SCRIPT)
choose = importlib.util.module_from_spec(spec)
spec.loader.exec_module(choose)


def run(command, task, test, valid, train=0.0):
    return {"command": f"memlib memn2n train --data D --tasks {task} {command} --json",
            "output": {"tasks": {str(task): {"test_error": test, "valid_error": valid, "train_error": train}}}}


def test_each_task_takes_the_lowest_validation_error_then_training_error(tmp_path, capsys):
    runs = [run("--restarts 10", 1, 2.0, 1.0), run("--restarts 10", 2, 9.0, 8.0, train=1.0),
            run("--tying layerwise", 1, 0.5, 3.0), run("--tying layerwise", 2, 7.0, 8.0, train=0.5),
            run("--dim 100", 1, 0.0, 0.0)]  # task 1 only: left out
    file = tmp_path / "r.json"
    file.write_text(json.dumps({"runs": runs}))
    assert choose.main(["--results", str(file), "--tasks", "1,2", "--json"]) == 0
    out = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert out["tasks"]["1"]["chosen"].endswith("--restarts 10") and out["tasks"]["1"]["test_error"] == 2.0
    assert out["tasks"]["2"]["chosen"].endswith("layerwise")  # tied at 8.0: the lower training error
    assert out["mean_error"] == 4.5 and out["failed"] == 1
    assert set(out["configurations"]) == {"memlib memn2n train --data D --restarts 10",
                                          "memlib memn2n train --data D --tying layerwise"}


def test_a_task_ran_twice_counts_its_last_run(tmp_path, capsys):
    runs = [run("", 1, 50.0, 50.0), run("--relu", 1, 9.0, 9.0), run("", 1, 1.0, 1.0)]
    file = tmp_path / "r.json"
    file.write_text(json.dumps({"runs": runs}))
    choose.main(["--results", str(file), "--tasks", "1", "--json"])
    out = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert out["tasks"]["1"]["test_error"] == 1.0


def test_fewer_than_two_complete_configurations_is_an_error(tmp_path):
    file = tmp_path / "r.json"
    file.write_text(json.dumps({"runs": [run("", 1, 1.0, 1.0)]}))
    with pytest.raises(SystemExit, match="fewer than two configurations"):
        choose.main(["--results", str(file), "--tasks", "1"])


def test_runs_of_several_results_files_compete(tmp_path, capsys):
    first, second = tmp_path / "a.json", tmp_path / "b.json"
    first.write_text(json.dumps({"runs": [run("", 1, 9.0, 9.0)]}))
    second.write_text(json.dumps({"runs": [run("--joint", 1, 2.0, 1.0)]}))
    choose.main(["--results", str(first), "--results", str(second), "--tasks", "1", "--json"])
    out = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert out["tasks"]["1"]["chosen"].endswith("--joint") and out["mean_error"] == 2.0
