"""benchmarks/memn2n_levers.py: every rule read off one tiny training run (task 1, 3 restarts, 2 epochs)."""

import importlib.util
import math
import pathlib

import pytest
import torch

from memlib.babi.generate import generate
from memlib.recipes.memn2n import run_task

SCRIPT = pathlib.Path(__file__).resolve().parent.parent / "benchmarks" / "memn2n_levers.py"
spec = importlib.util.spec_from_file_location("memn2n_levers", SCRIPT)
levers = importlib.util.module_from_spec(spec)
spec.loader.exec_module(levers)

TINY = dict(restarts=3, epochs=2, ls_max_epochs=1, seed=0)


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    root = tmp_path_factory.mktemp("babi")
    generate(root, tasks=[1], size="1k", seed=0)
    return root


@pytest.fixture(scope="module")
def run(data):
    fit, summary, (train, test) = run_task(data, 1, device="cpu", **TINY)
    errs, seen = levers.rules(fit, test, round(0.1 * len(train)), summary["test_error"])
    return fit, summary, test, errs, seen


def test_oracle_is_a_bound_and_the_paper_rule_is_one_of_the_restarts(run):
    fit, summary, test, errs, _ = run
    with torch.no_grad():  # each restart's test error, with the reference form
        each = [float((fit.ensemble.member(e)(test.memories, test.queries)[0].argmax(-1) != test.answers)
                      .float().mean()) for e in range(3)]
    assert errs["kept"] == pytest.approx(summary["test_error"])
    assert errs["oracle"] <= errs["kept"]
    assert errs["oracle"] == pytest.approx(min(each), abs=2e-3)  # the reference form: at most 2 answers apart
    assert any(errs["paper rule"] == pytest.approx(x, abs=2e-3) for x in each)
    assert errs["paper rule, first 10"] == errs["paper rule"]  # 3 restarts: the first 10 are all of them
    assert not any(k in errs for k in ("top-3", "top-5", "top-10"))  # k ≥ restarts: only "top-all"


def test_top_all_is_the_softmax_average_of_every_restart(run):
    fit, _, test, errs, _ = run
    with torch.no_grad():  # by hand, with the reference form of each restart
        probs = sum(fit.ensemble.member(e)(test.memories, test.queries)[0].softmax(-1) for e in range(3)) / 3
    by_hand = float((probs.argmax(-1) != test.answers).float().mean())
    assert errs["top-all"] == pytest.approx(by_hand, abs=2e-3)


def test_within_2_se_starts_with_the_kept_restart_and_follows_its_threshold(run):
    fit, _, _, errs, seen = run
    assert seen["within"][0] == fit.best
    b, n = fit.valid_error[fit.best], 100
    tolerance = b + 2 * math.sqrt(b * (1 - b) / n) + 1 / n
    assert len(set(seen["within"])) == len(seen["within"])
    assert set(seen["within"]) == {e for e in range(3) if fit.valid_error[e] <= tolerance + 1e-9}
    assert seen["valid_error"] == min(fit.valid_error)


def test_levers_table_mean_and_failed(data):
    result = levers.levers(data, [1], **TINY)
    row = result["tasks"][1]["test_error"]
    assert result["mean"] == row  # one task: the mean is the task
    assert result["failed"] == {k: int(v > 5) for k, v in row.items()}
    assert row["oracle"] <= row["kept"]
    text = levers.table(result)
    assert text.count("\n") == 4 and "| **failed (> 5 %)** |" in text


@pytest.mark.parametrize("argv, message", [
    (["--tasks", "0"], "no such task 0"), (["--tasks", "x"], "invalid task"),
    (["--restarts", "0"], "--restarts"), (["--grad-noise", "-1"], "--grad-noise")])
def test_bad_input_exits_2_with_one_line(argv, message, capsys):
    with pytest.raises(SystemExit) as exit:
        levers.main(argv)
    err = capsys.readouterr().err
    assert exit.value.code == 2 and message in err and err.count("\n") == 1


def test_missing_task_files_exit_2(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit:
        levers.main(["--data", str(tmp_path), "--tasks", "1"])
    assert exit.value.code == 2 and "no bAbI task files" in capsys.readouterr().err
