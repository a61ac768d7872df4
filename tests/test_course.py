"""memlib.course: student and lecture copies generated from the instructor notebooks.

Fixture notebooks (written here with nbformat) pin the conventions; the parametrized tests at the
end hold the real notebooks to them: committed copies up to date, every self-check registered
and passing on the solution, student copies running top to bottom with only their stubs raising.
"""

from __future__ import annotations

import json
import pathlib
import re

import nbformat
import pytest
from nbclient import NotebookClient

from memlib import course, exercises
from memlib.cli import main

REPO = pathlib.Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((REPO / "notebooks").glob("*.ipynb"))
KERNELSPEC = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}

SHARPEN = '''def sharpen(w_tilde, gamma):
    """Eq. 9: raise to the power gamma, renormalise over the slots."""
    ### BEGIN SOLUTION
    w = w_tilde ** gamma[..., None]
    return w / w.sum(-1, keepdim=True)
    ### END SOLUTION

exercises.check("ntm-sharpen", sharpen)'''

VALUE = '''### BEGIN SOLUTION
answer = 1 + 2 + 3
### END SOLUTION
exercises.check("fixture-sum", answer)'''


def code(source, *tags, outputs=(), count=None):
    cell = nbformat.v4.new_code_cell(source)
    if tags:
        cell.metadata["tags"] = list(tags)
    cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=t) for t in outputs]
    cell.execution_count = count
    return cell


def md(source, *tags):
    cell = nbformat.v4.new_markdown_cell(source)
    if tags:
        cell.metadata["tags"] = list(tags)
    return cell


def instructor(tagged=True):
    """A small instructor notebook following the conventions (outputs as if executed)."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = KERNELSPEC
    t = (lambda *tags: tags) if tagged else (lambda *tags: ())
    nb.cells = [
        md("# 99 Fixture\n\nA notebook for the tests."),
        code("import memlib\nimport torch\nfrom memlib import exercises\nmemlib.setup()\n"
             'exercises.register("fixture-sum", value=6, wrong=5)', *t("setup"), count=1),
        md("Some explanation."),
        code('print("budget", memlib.budget(full=100, fast=2))', *t("demo"), outputs=["budget 100\n"], count=2),
        code("# NBVAL_IGNORE_OUTPUT\n# training progress varies\nprint('training')", *t("demo"),
             outputs=["training\n"], count=3),
        md("## Exercises\n\n1. Implement sharpening.\n2. Add up 1..3."),
        code(SHARPEN, outputs=["✓ ntm-sharpen: agrees with the reference on 3 inputs\n"], count=4),
        code(VALUE, outputs=["✓ fixture-sum: right\n"], count=5),
        md("Because sharpening undoes the blur of the shift.", "solution"),
        code('print("whole-cell solution")', "solution", outputs=["whole-cell solution\n"], count=6),
        md("## References"),
    ]
    return nb


@pytest.fixture
def src(tmp_path):
    folder = tmp_path / "notebooks"
    folder.mkdir()
    nbformat.write(instructor(), folder / "99_fixture.ipynb")
    return folder


def execute(nb, folder, allow_errors=False):
    NotebookClient(nb, timeout=120, kernel_name="python3", allow_errors=allow_errors,
                   resources={"metadata": {"path": str(folder)}}).execute()
    return nb


def errors(nb):
    """(cell index, exception name) of every error output."""
    return [(i, o.ename) for i, c in enumerate(nb.cells) if c.cell_type == "code"
            for o in c.outputs if o.output_type == "error"]


def stdout(cell) -> str:
    return "".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream")


# ---------------------------------------------------------------- stubs


def test_stub_replaces_the_region_at_its_indentation_and_names_the_exercise():
    source, n = course.stub(SHARPEN)
    assert n == 1
    assert source.splitlines()[2] == '    raise NotImplementedError("Exercise ntm-sharpen: your code here")'
    assert "w_tilde ** gamma" not in source and "BEGIN" not in source
    assert source.endswith('exercises.check("ntm-sharpen", sharpen)')  # the check stays
    assert course.stub("x = 1")[1] == 0


def test_exercise_ids_are_the_self_check_calls_only():
    source = 'exercises.check("ntm-shift", my_shift)\ncheck.cmp("w", w, expected)\nexercises.check(\n    "ntm-write", w)'
    assert course.exercise_ids(source) == ["ntm-shift", "ntm-write"]


@pytest.mark.parametrize("source, message", [
    ("### BEGIN SOLUTION\nx = 1", "without '### END SOLUTION'"),
    ("x = 1\n### END SOLUTION", "without '### BEGIN SOLUTION'"),
    ("### BEGIN SOLUTION\n### BEGIN SOLUTION\n### END SOLUTION", "inside another"),
])
def test_unbalanced_markers_are_an_error_naming_the_cell(source, message):
    with pytest.raises(course.NotebookError, match=f"nb.ipynb, cell 3: .*{re.escape(message)}"):
        course.stub(source, "nb.ipynb, cell 3")


def test_student_notebook_hides_every_solution_and_keeps_the_rest():
    student = course.student_notebook(instructor(), "99_fixture.ipynb")
    text = nbformat.writes(student)
    for secret in ("w_tilde ** gamma", "1 + 2 + 3", "undoes the blur", "whole-cell solution", "BEGIN SOLUTION"):
        assert secret not in text
    cells = student.cells
    assert cells[0].source.startswith("# 99 Fixture")
    assert cells[1].source.startswith("> **Student version** of `notebooks/99_fixture.ipynb`")
    assert cells[4].outputs[0].text == "budget 100\n"  # ordinary cells keep their stored outputs
    stubbed = [c for c in cells if "raises-exception" in c.metadata.get("tags", [])]
    assert len(stubbed) == 3 and all(c.outputs == [] and c.execution_count is None for c in stubbed)
    assert cells[9].source == "*Your answer here.*"
    assert student.metadata["memlib"] == {"generated_from": "notebooks/99_fixture.ipynb", "kind": "student",
                                          "stubs": 4}
    nbformat.validate(student)


def test_generation_is_deterministic_and_keeps_cell_ids(src):
    path = src / "99_fixture.ipynb"
    first, second = course.render("student", path), course.render("student", path)
    assert first == second
    ids = [c.id for c in nbformat.reads(first, as_version=4).cells]
    source_ids = [c.id for c in nbformat.read(path, as_version=4).cells]
    assert ids[0] == source_ids[0] and ids[1] == "memlib-student-banner" and ids[2:] == source_ids[1:]


# ---------------------------------------------------------------- lecture copies


def test_lecture_copy_keeps_title_setup_and_demo_cells():
    lecture = course.lecture_notebook(instructor(), "99_fixture.ipynb")
    cells = lecture.cells
    assert [c.cell_type for c in cells] == ["markdown", "code", "code", "code", "code"]
    assert cells[1].source == course.LECTURE_CELL and "lecture_mode()" in cells[1].source
    assert cells[2].metadata["jupyter"] == {"source_hidden": True, "outputs_hidden": True}  # setup: collapsed
    assert cells[3].source.startswith('print("budget"')
    assert cells[4].source == "# training progress varies\nprint('training')"  # NBVAL marker dropped
    assert all(c.outputs == [] for c in cells if c.cell_type == "code")
    assert lecture.metadata["memlib"]["demo_tags"] is True


def test_lecture_copy_without_demo_tags_is_everything_before_the_exercises():
    lecture = course.lecture_notebook(instructor(tagged=False), "99_fixture.ipynb")
    assert lecture.metadata["memlib"]["demo_tags"] is False
    assert len(lecture.cells) == 6 and not any("Exercises" in c.source for c in lecture.cells)


def test_lecture_mode_cell_selects_the_fast_budget(monkeypatch):
    import memlib

    monkeypatch.setattr(memlib, "FAST", False)
    course.lecture_mode()
    assert memlib.FAST is True and memlib.budget(full=1000, fast=3) == 3


# ---------------------------------------------------------------- up to date, CLI


def test_stale_copies_are_detected(src, tmp_path):
    out = tmp_path / "student"
    assert course.stale("student", src, out) == [f"{out / '99_fixture.ipynb'}: missing"]
    course.generate("student", src, out)
    assert course.stale("student", src, out) == []
    nb = nbformat.read(src / "99_fixture.ipynb", as_version=4)
    nb.cells[2].source = "Some better explanation."
    nbformat.write(nb, src / "99_fixture.ipynb")
    assert course.stale("student", src, out) == [
        f"{out / '99_fixture.ipynb'}: out of date with {src / '99_fixture.ipynb'}"]
    (out / "42_gone.ipynb").write_text("{}")
    assert course.stale("student", src, out)[-1].endswith("no source notebook " + str(src / "42_gone.ipynb"))
    course.generate("student", src, out)
    assert sorted(p.name for p in out.iterdir()) == ["99_fixture.ipynb"]  # the orphan is removed


@pytest.mark.parametrize("command, kind", [("student-notebooks", "student"), ("lecture", "lecture")])
def test_cli_generates_checks_and_prints_json(src, tmp_path, capsys, command, kind):
    out = tmp_path / kind
    args = ["course", command, "--src", str(src), "--out", str(out)]
    assert main(args + ["--check", "--json"]) == 1
    report = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert report["up_to_date"] is False and report["stale"] == [f"{out / '99_fixture.ipynb'}: missing"]
    assert main(args + ["--json"]) == 0
    assert json.loads(capsys.readouterr().out.strip().splitlines()[-1])["written"] == [str(out / "99_fixture.ipynb")]
    assert main(args + ["--check"]) == 0
    assert "up to date (1 notebooks)" in capsys.readouterr().out


def test_cli_bad_values_exit_2(tmp_path, capsys):
    assert main(["course", "lecture", "--src", str(tmp_path / "nowhere")]) == 2
    assert "no notebook folder" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exc:
        main(["course", "student-notebooks", "--bogus"])
    assert exc.value.code == 2


def test_cli_exercises_lists_registered_and_used_ids(src, capsys):
    assert main(["course", "exercises", "--src", str(src), "--json"]) == 1  # fixture-sum lives in the notebook
    rows = {r["id"]: r for r in json.loads(capsys.readouterr().out.strip().splitlines()[-1])["exercises"]}
    assert rows["ntm-sharpen"]["notebooks"] == "99_fixture.ipynb" and rows["ntm-sharpen"]["status"] == "ok"
    assert rows["fixture-sum"]["status"] == "NOT REGISTERED"


# ---------------------------------------------------------------- running them


def test_instructor_passes_its_checks_and_student_runs_with_only_stubs_raising(src, tmp_path):
    ran = execute(nbformat.read(src / "99_fixture.ipynb", as_version=4), src)
    assert errors(ran) == []
    assert stdout(ran.cells[6]) == "✓ ntm-sharpen: agrees with the reference on 3 inputs\n"
    assert stdout(ran.cells[7]) == "✓ fixture-sum: right\n"

    out = tmp_path / "student"
    course.generate("student", src, out)
    student = execute(nbformat.read(out / "99_fixture.ipynb", as_version=4), out, allow_errors=True)
    assert errors(student) == [(8, "NotImplementedError"), (10, "NotImplementedError")]
    # a stubbed function does not raise in its cell: the self-check reports it instead
    assert stdout(student.cells[7]).startswith("✗ ntm-sharpen: not implemented yet")
    assert stdout(student.cells[4]) == "budget 2\n"  # the test environment runs the fast budget


# ---------------------------------------------------------------- leaks: what a student copy must not show


def leaky(*later, before_exercises=False):
    """The fixture notebook with `later` cells appended after its exercises (or put before them)."""
    nb = instructor()
    at = 5 if before_exercises else len(nb.cells) - 1
    nb.cells[at:at] = list(later)
    return course.leaks(nb, "99_fixture.ipynb")


def test_the_fixture_leaks_nothing():
    assert leaky() == []


@pytest.mark.parametrize("cell, what", [
    (code("w = w_tilde ** gamma[..., None]  # shown again", outputs=["ok\n"], count=7), "solution line of cell 6"),
    (code("print('done')", outputs=["w = w_tilde ** gamma[..., None]\n"], count=7), "solution line of cell 6"),
    (code("print(sharpen(torch.ones(1, 3), torch.ones(1)))", outputs=["tensor([...])\n"], count=7),
     "uses sharpen, defined by the solution of cell 6"),
    (md("Why? Because sharpening undoes the blur of the shift."), "solution line of cell 8"),
])
def test_a_solution_line_or_a_name_it_defines_after_the_exercise_is_a_leak(cell, what):
    found = leaky(cell)
    if "print('done')" in cell.source:  # outputs after the exercises are not stored: shown earlier, it leaks
        assert found == []
        found = [f.replace("cell 7", "cell 6") for f in leaky(cell, before_exercises=True)]
    assert len(found) == 1 and what in found[0], found


def test_a_stored_output_or_hint_showing_a_value_answer_is_a_leak_but_a_collapsible_answer_is_not():
    nb = instructor()
    nb.cells[7].source = ('### BEGIN SOLUTION\nmilk_is_in = "kitchen"\n### END SOLUTION\n'
                          'exercises.check("fixture-room", milk_is_in)')
    nb.cells.insert(8, code("print(model_answer)", outputs=["R answers kitchen\n"], count=8))
    nb.cells.insert(9, md("<details><summary>Answer</summary>the kitchen</details>\n\nThe kitchenette is elsewhere."))
    assert course.leaks(nb, "99_fixture.ipynb") == []  # the output is not stored after the exercises heading
    nb.cells.insert(10, md("*A hint:* the milk is still in the kitchen."))
    found = course.leaks(nb, "99_fixture.ipynb")
    assert found == ["99_fixture.ipynb: student cell 11 shows 'kitchen', the answer of the exercise in cell 7"]


def test_student_copy_stores_no_output_after_the_exercises_heading():
    nb = instructor()
    nb.cells.insert(6, code("print(run_it())  # predict first", outputs=["the answer is 42\n"], count=9))
    student = course.student_notebook(nb, "99_fixture.ipynb")
    at = next(i for i, c in enumerate(student.cells) if c.source.startswith("## Exercises"))
    assert [c.outputs for c in student.cells[at:] if c.cell_type == "code"] == [[]] * 4
    assert student.cells[4].outputs  # before the exercises, outputs stay


def test_locals_of_a_solution_function_are_not_names_it_defines():
    assert course.solution_names(nbformat.v4.new_code_cell(SHARPEN)) == {"sharpen"}
    assert course.solution_names(nbformat.v4.new_code_cell(VALUE)) == {"answer"}


# ---------------------------------------------------------------- the real notebooks


needs_notebooks = pytest.mark.skipif(not NOTEBOOKS, reason="no notebooks in notebooks/ yet")


@needs_notebooks
@pytest.mark.parametrize("kind", course.KINDS)
def test_committed_copies_are_up_to_date(kind):
    problems = course.stale(kind, REPO / "notebooks", REPO / kind)
    command = "student-notebooks" if kind == "student" else "lecture"
    assert problems == [], f"regenerate with `memlib course {command}` (or `make course`): {problems}"


def check_cells(nb):
    return [(i, course.exercise_ids(c.source)) for i, c in enumerate(nb.cells)
            if c.cell_type == "code" and course.exercise_ids(c.source)]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_ends_with_self_checked_exercises(path):
    """3–5 exercises, each registered, each with a solution region, each passing on its solution."""
    nb = nbformat.read(path, as_version=4)
    cells = check_cells(nb)
    ids = [i for _, found in cells for i in found]
    assert 3 <= len(ids) <= 5, f"{path.name}: {len(ids)} self-checked exercises {ids}, expected 3–5"
    registered = exercises.all_exercises()
    assert [i for i in ids if i not in registered] == [], "register these in memlib/exercises/"
    for index, found in cells:
        cell = nb.cells[index]
        assert course.BEGIN in cell.source or course.TAG_SOLUTION in cell.metadata.get("tags", []), (
            f"cell {index} ({found}) has no solution region")
        text = stdout(cell)
        for ex_id in found:
            assert f"✓ {ex_id}:" in text, f"cell {index}: the stored output does not show ✓ {ex_id}: {text!r}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_no_student_copy_gives_a_solution_away(path):
    """Line by line over every cell, code and stored outputs: no solution line, no cell after an
    exercise using what its solution defines, no stored output or hint showing a value answer."""
    assert course.leaks(nbformat.read(path, as_version=4), path.name) == []


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_student_notebook_runs_top_to_bottom(path):
    """The committed student copy runs (fast budget); only the stubs raise, and the checks say so."""
    student_path = REPO / "student" / path.name
    assert student_path.exists(), "generate the student notebooks: memlib course student-notebooks"
    nb = execute(nbformat.read(student_path, as_version=4), student_path.parent, allow_errors=True)
    assert {name for _, name in errors(nb)} <= {"NotImplementedError"}, errors(nb)
    stubbed = {i for i, c in enumerate(nb.cells) if "raises-exception" in c.metadata.get("tags", [])}
    assert {i for i, _ in errors(nb)} <= stubbed
    for index, found in check_cells(nb):
        text = stdout(nb.cells[index])
        if index not in {i for i, _ in errors(nb)}:
            assert all(f"✗ {ex_id}: not implemented yet" in text for ex_id in found), (index, text)
