"""`memlib babi …`: exit codes, one-line errors, and the --json contract."""

import argparse
import json
import subprocess
import sys

import pytest
from conftest import QA1

from memlib.cli import main, parse_tasks


def run_cli(*args):
    """Run `python -m memlib …` as a user would; returns (code, stdout, stderr)."""
    p = subprocess.run([sys.executable, "-m", "memlib", *args], capture_output=True, text=True, timeout=120)
    return p.returncode, p.stdout, p.stderr


def test_parse_tasks():
    assert parse_tasks("1-3") == [1, 2, 3]
    assert parse_tasks("1,2,16") == [1, 2, 16]
    assert parse_tasks("16,1-2") == [1, 2, 16]
    for bad in ("0", "21", "3-1", "a", "1-x"):
        with pytest.raises(argparse.ArgumentTypeError, match="task"):
            parse_tasks(bad)


@pytest.mark.parametrize(
    "args",
    [
        ["babi", "generate", "--out", "x", "--tasks", "1-25"],
        ["babi", "generate", "--out", "x", "--size", "5k"],
        ["babi", "generate"],
        ["babi", "nonsense"],
        ["nonsense"],
    ],
)
def test_bad_arguments_give_one_line_and_exit_2(args):
    code, out, err = run_cli(*args)
    assert code == 2
    assert len(err.strip().splitlines()) == 1 and "error:" in err
    assert "Traceback" not in err


def test_check_valid_folder_json(babi_folder):
    code, out, err = run_cli("babi", "check", str(babi_folder), "--roundtrip", "--json")
    assert code == 0, err
    result = json.loads(out.strip().splitlines()[-1])
    assert result == {"files": 6, "questions": 10, "problems": [], "ok": True}


def test_check_names_file_and_line(babi_folder):
    bad = babi_folder / "qa3_three-supporting-facts_test.txt"
    bad.write_text(QA1.replace("3 Where is Mary? \tbathroom\t1", "3 Where is Mary? \tbathroom\t7"))
    code, out, err = run_cli("babi", "check", str(babi_folder))
    assert code == 1
    assert f"{bad}:3: supporting fact 7 does not point to an earlier line" in out
    assert "Traceback" not in out + err


def test_check_roundtrip_detects_non_canonical_file(tmp_path):
    f = tmp_path / "qa1_single-supporting-fact_train.txt"
    f.write_text(QA1.replace("\n", "\r\n"))  # parses, but does not write back identically
    assert main(["babi", "check", str(f)]) == 0
    assert main(["babi", "check", str(f), "--roundtrip"]) == 1


def test_missing_path_is_a_usage_error(tmp_path):
    code, out, err = run_cli("babi", "check", str(tmp_path / "nope"))
    assert code == 2 and "no such file or folder" in err
    code, out, err = run_cli("babi", "stats", str(tmp_path))
    assert code == 2 and "no bAbI task files" in err


def test_stats_json_last_line(babi_folder):
    code, out, err = run_cli("babi", "stats", str(babi_folder), "--tasks", "1,19", "--json")
    assert code == 0, err
    result = json.loads(out.strip().splitlines()[-1])
    assert set(result["tasks"]) == {"1", "19"}
    s1 = result["tasks"]["1"]["stats"]
    assert s1["stories_train"] == 2 and s1["q_per_story"] == {"1": 2, "2": 2}
    assert result["tasks"]["19"]["stats"]["answers_top"] == {"s,e": 1.0}


def test_stats_against_reference_reports_pass_fail(babi_folder):
    code, out, err = run_cli("babi", "stats", str(babi_folder), "--tasks", "1", "--reference", "--json")
    assert code == 1  # two tiny stories are not the official task 1
    result = json.loads(out.strip().splitlines()[-1])
    rows = {r["check"]: r for r in result["tasks"]["1"]["checks"]}
    assert rows["support-size TV distance"]["pass"] is True
    assert rows["stories train"]["pass"] is False and rows["stories train"]["reference"] == 200
    assert result["failed_checks"] == sum(not r["pass"] for r in rows.values())
    assert "FAIL" in out and "PASS" in out
