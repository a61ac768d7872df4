"""tools/run_notebooks.py: stored outputs are tidied the way nbval compares them."""

import importlib.util
import pathlib

import nbformat

_spec = importlib.util.spec_from_file_location(
    "run_notebooks", pathlib.Path(__file__).parents[1] / "tools" / "run_notebooks.py")
run_notebooks = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(run_notebooks)


def _stream(text, name="stdout"):
    return nbformat.v4.new_output("stream", name=name, text=text)


def test_consecutive_prints_become_one_output():
    figure = nbformat.v4.new_output("display_data", data={"text/plain": "<Figure>"})
    outputs = [_stream("a\n"), _stream("b\n"), figure, _stream("c\n"), _stream("warn\n", "stderr"),
               _stream("d\n")]
    merged = run_notebooks.merge_streams(outputs)
    assert [(o["output_type"], o.get("name"), o.get("text")) for o in merged] == [
        ("stream", "stdout", "a\nb\n"), ("display_data", None, None), ("stream", "stdout", "c\n"),
        ("stream", "stderr", "warn\n"), ("stream", "stdout", "d\n")]


def test_tidy_merges_streams_and_drops_timings():
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("print(1); print(2)", execution_count=1)
    cell.metadata["execution"] = {"iopub.status.busy": "2026-01-01"}
    cell.outputs = [_stream("1\n"), _stream("2\n")]
    nb.cells = [cell]
    nb.metadata["widgets"] = {"state": {}}
    run_notebooks.tidy(nb)
    assert "widgets" not in nb.metadata and "execution" not in nb.cells[0].metadata
    assert len(nb.cells[0].outputs) == 1 and nb.cells[0].outputs[0]["text"] == "1\n2\n"


def test_tidy_drops_widget_views_and_keeps_what_follows_them():
    """An explorer or a tqdm bar stored without its kernel shows an error or a bar frozen at 0 %."""
    view = {"application/vnd.jupyter.widget-view+json": {"model_id": "abc", "version_major": 2},
            "text/plain": "copy:   0%|          | 0/40000"}
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("train()", execution_count=1)
    cell.outputs = [nbformat.v4.new_output("display_data", data=view), _stream("loss "),
                    nbformat.v4.new_output("display_data", data=view), _stream("0.01\n")]
    nb.cells = [cell]
    run_notebooks.tidy(nb)
    assert [(o["output_type"], o.get("text")) for o in nb.cells[0].outputs] == [("stream", "loss 0.01\n")]
