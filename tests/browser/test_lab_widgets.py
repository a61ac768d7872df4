"""Browser test: each notebook runs in JupyterLab and every widget reacts to its controls.

For every notebook in ``notebooks/`` (and a fixture notebook written here, so the layer is
exercised even when no notebook has a widget): open it in headless Chromium, look at it as stored (every
stored figure shows, no widget placeholder, frozen progress bar or error), Run All Cells in
the fast budget, assert that every cell ran and none shows an error, then move each control of
each widget (slider: focus + ArrowRight; dropdown: another option; checkbox, buttons: a click)
and assert that the widget's output (figure, text, HTML) changed. Behaviour, not pixels. One
screenshot per control moved goes to ``test-reports/screenshots/``.
"""

from __future__ import annotations

import json
import os
import pathlib
import shutil

import nbformat
import pytest
from labdriver import CHROMIUM, CHROMIUM_ARGS, REPO, RUNS, LabServer, NotebookPage, make_site, run_notebook

pytestmark = pytest.mark.browser

# The server runs in the fast budget (MEMLIB_FAST=1, TQDM_DISABLE=1) on 127.0.0.1 on a free port,
# its Jupyter folders in a temporary directory, serving a copy of the repository layout (notebooks
# copied, everything else linked), so Lab can never write into notebooks/.
REPORTS = REPO / "test-reports"
SHOTS = REPORTS / "screenshots"


@pytest.fixture(scope="module")
def lab_site(tmp_path_factory):
    return make_site(REPO, tmp_path_factory.mktemp("site"))


@pytest.fixture(scope="module")
def lab(lab_site, tmp_path_factory):
    """A running JupyterLab serving `lab_site`; stopped by its PID when this module's tests are done."""
    env = {"MEMLIB_FAST": "1", "TQDM_DISABLE": "1", "OMP_NUM_THREADS": "1",
           "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))}
    server = LabServer(lab_site, tmp_path_factory.mktemp("jupyter"), env)
    server.env.pop("MPLBACKEND", None)  # let the kernel use the inline backend
    try:
        server.start()
    except Exception:
        server.stop()
        raise
    yield server
    server.stop()


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    """Debian's Chromium, headless, driven by Playwright (never a downloaded browser)."""
    if not pathlib.Path(CHROMIUM).exists():
        pytest.fail(f"the browser test needs Chromium at {CHROMIUM}: run 'make browser-deps' "
                    "(or 'sudo apt-get install chromium'), or deselect it with -m 'not browser'")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail("the browser test needs Playwright: pip install playwright (no browser download needed)")
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def shots():
    shutil.rmtree(SHOTS, ignore_errors=True)
    SHOTS.mkdir(parents=True, exist_ok=True)
    return SHOTS


@pytest.fixture(scope="module", autouse=True)
def widget_report(request):
    """At the end: the widgets exercised, in test-reports/browser/widgets.md and on the terminal."""
    yield
    if not RUNS:
        return
    lines = ["| notebook | run all (s) | widget cells | control | move | output changed | screenshot |",
             "|---|---|---|---|---|---|---|"]
    for run in RUNS:
        if not run.moves:
            lines.append(f"| {run.notebook} | {run.seconds:.0f} | none | | | | |")
        for m in run.moves:
            lines.append(f"| {run.notebook} | {run.seconds:.0f} | cell {m.cell} | {m.control} | {m.label} | "
                         f"{'yes' if m.changed else 'NO'} ({m.before} → {m.after}) | "
                         f"{pathlib.Path(m.screenshot).name} |")
    text = "\n".join(lines)
    out = REPORTS / "browser"
    out.mkdir(parents=True, exist_ok=True)
    (out / "widgets.md").write_text(text + "\n")
    (out / "widgets.json").write_text(json.dumps(
        [dict(run.__dict__, moves=[m.__dict__ for m in run.moves]) for run in RUNS], indent=1))
    terminal = request.config.pluginmanager.get_plugin("terminalreporter")
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    if terminal is not None and capture is not None:
        with capture.global_and_fixture_disabled():  # straight to the terminal, also when tests pass
            terminal.write_line("")
            terminal.write_sep("-", "widgets exercised in JupyterLab (test-reports/browser/widgets.md)")
            terminal.write_line(text)


NOTEBOOKS = sorted((REPO / "notebooks").glob("*.ipynb"))
KERNELSPEC = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}


def write_notebook(path: pathlib.Path, cells) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = KERNELSPEC
    for kind, source, *tags in cells:
        cell = nbformat.v4.new_markdown_cell(source) if kind == "md" else nbformat.v4.new_code_cell(source)
        if tags:
            cell.metadata["tags"] = list(tags)
        nb.cells.append(cell)
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)
    return nb


SETUP = "import ipywidgets as widgets\nimport matplotlib.pyplot as plt\nfrom IPython.display import display\n%matplotlib inline"

EXPLORER = '''slider = widgets.IntSlider(value=2, min=0, max=5, description="slot")
choice = widgets.Dropdown(options=["read", "write"], value="read", description="head")
sharp = widgets.Checkbox(value=False, description="sharpen")

def draw(slot, head, sharpen):
    w = [1.0 if i == slot else (0.0 if sharpen else 0.1) for i in range(6)]
    fig, ax = plt.subplots(figsize=(3, 2))
    ax.bar(range(6), w, color="C0" if head == "read" else "C3")
    ax.set_ylim(0, 1)
    ax.set_title(f"{head} weighting")
    plt.show()

display(widgets.VBox([slider, choice, sharp]), widgets.interactive_output(draw, {"slot": slider, "head": choice, "sharpen": sharp}))'''

INTERACT = '''@widgets.interact(hops=(1, 3))
def show(hops=1):
    print("hops:", hops)'''


def test_fixture_widgets_change_their_output(lab, lab_site, browser, shots):
    """A slider, a dropdown and a checkbox driving a figure, and an `interact` printing text."""
    nb = write_notebook(lab_site / "fixtures" / "widgets.ipynb",
                        [("md", "# Widget fixture"), ("code", SETUP), ("code", EXPLORER), ("code", INTERACT)])
    run = run_notebook(browser, lab, "fixtures/widgets.ipynb", nb, shots, timeout=300)
    RUNS.append(run)
    assert run.unexecuted == [] and run.errors == []
    assert run.widget_cells == [2, 3]
    kinds = [(m.cell, m.control) for m in run.moves]
    assert kinds == [(2, "slider"), (2, "dropdown"), (2, "checkbox"), (3, "slider")]
    assert all(m.changed for m in run.moves), [m for m in run.moves if not m.changed]
    assert all(pathlib.Path(m.screenshot).stat().st_size > 1000 for m in run.moves)


def test_dead_widget_and_error_are_reported(lab, lab_site, browser, shots):
    """The checks can fail: a slider wired to nothing, and a cell that raises."""
    nb = write_notebook(lab_site / "fixtures" / "broken.ipynb", [
        ("code", SETUP),
        ("code", 'display(widgets.IntSlider(value=1, max=3), widgets.HTML("<b>never changes</b>"))'),
        ("code", "1 / 0"),
        ("code", 'print("not reached")'),
    ])
    run = run_notebook(browser, lab, "fixtures/broken.ipynb", nb, shots, timeout=300, move_timeout=3)
    assert [(m.control, m.changed) for m in run.moves] == [("slider", False)]
    assert [i for i, _ in run.errors] == [2] and "ZeroDivisionError" in run.errors[0][1]
    assert run.unexecuted == [3]  # Run All stops at the first error


def test_lecture_copy_runs_fast_with_large_fonts(lab, lab_site, browser, shots):
    """`memlib course lecture` keeps setup and demo cells, selects the fast budget, enlarges fonts."""
    from memlib import course

    src = lab_site / "fixtures" / "lecture-src"
    write_notebook(src / "demo.ipynb", [
        ("md", "# Lecture fixture"),
        ("code", "import memlib\nimport ipywidgets as widgets", "setup"),
        ("md", "A long explanation that the lecture copy leaves out."),
        ("code", 'print("fast budget:", memlib.FAST, memlib.budget(full=1000, fast=10))', "demo"),
        ("code", "raise RuntimeError('not a demo cell: must not be in the lecture copy')"),
        ("code", INTERACT, "demo"),
    ])
    course.generate("lecture", src, lab_site / "fixtures" / "lecture")
    nb = nbformat.read(lab_site / "fixtures" / "lecture" / "demo.ipynb", as_version=4)
    run = run_notebook(browser, lab, "fixtures/lecture/demo.ipynb", nb, shots, timeout=300)
    RUNS.append(run)
    assert run.unexecuted == [] and run.errors == []
    assert [m.changed for m in run.moves] == [True]
    # inspect the rendered lecture copy once more: budget and font size
    page = NotebookPage(browser, lab, "fixtures/lecture/demo.ipynb", shots)
    try:
        page.open()
        page.run_all(300)
        text = page.page.inner_text(".jp-NotebookPanel .jp-Notebook")
        assert "fast budget: True 10" in text
        size = page.page.eval_on_selector(".jp-NotebookPanel .jp-RenderedMarkdown h1",
                                          "e => parseFloat(getComputedStyle(e).fontSize)")
        code = page.page.eval_on_selector(".jp-NotebookPanel .jp-OutputArea-output pre",
                                          "e => parseFloat(getComputedStyle(e).fontSize)")
        assert code >= 18 and size >= 40, (code, size)
        page.page.screenshot(path=str(shots / "lecture_fixture.png"))
    finally:
        page.close()


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs_and_widgets_react(lab, browser, shots, path):
    """Run All Cells in the fast budget: no errors, every cell ran, every control changes its output."""
    nb = nbformat.read(path, as_version=4)
    run = run_notebook(browser, lab, f"notebooks/{path.name}", nb, shots, timeout=900)
    RUNS.append(run)
    stored_figures = sum("image/png" in o.get("data", {}) for c in nb.cells if c.cell_type == "code" for o in c.outputs)
    assert run.stored == {"images": stored_figures, "broken": 0, "widget_placeholders": 0, "frozen_bars": 0,
                          "errors": []}, "opened before running, the notebook must show its stored figures and nothing broken"
    assert run.errors == [], f"cells show errors: {run.errors}"
    assert run.unexecuted == [], f"cells did not run: {run.unexecuted}"
    dead = [f"cell {m.cell} {m.control} ({m.label})" for m in run.moves if not m.changed]
    assert not dead, f"moving these controls did not change the output: {dead}"
