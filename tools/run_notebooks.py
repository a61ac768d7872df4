"""Execute notebooks in place (full budget unless MEMLIB_FAST=1) and tidy their stored outputs.

    python tools/run_notebooks.py notebooks/*.ipynb          # regenerate stored outputs
    python tools/run_notebooks.py --check notebooks/*.ipynb  # run, time, write nothing

Notebooks run one after another (two kernels at once were seen to stall), each in its own
folder, on the current environment's kernel. Volatile metadata (widget state and views, execution
timings) is stripped, and execution counts are checked to run 1..n, as nbval expects.
"""

from __future__ import annotations

import argparse
import pathlib
import sys
import time

import nbformat
from nbclient import NotebookClient


def merge_streams(outputs: list) -> list:
    """Join consecutive stdout (or stderr) pieces into one output, as nbval compares them: how
    the kernel happened to split a cell's prints between flushes then leaves no trace."""
    merged = []
    for out in outputs:
        prev = merged[-1] if merged else None
        if (out.get("output_type") == "stream" and prev is not None
                and prev.get("output_type") == "stream" and prev.get("name") == out.get("name")):
            prev["text"] = "".join(prev["text"]) + "".join(out["text"])
        else:
            merged.append(out)
    return merged


WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


def is_widget_view(out) -> bool:
    """A live widget (an explorer, a tqdm progress bar): without its kernel it renders as an
    error or as a bar frozen at 0 %, so it is not stored; the static twin beside it is."""
    return WIDGET_VIEW in out.get("data", {})


def tidy(nb) -> None:
    """Drop what changes from run to run and is never compared: widget state and views,
    timings, and the kernel's split of printed text into pieces."""
    nb.metadata.pop("widgets", None)
    for cell in nb.cells:
        cell.metadata.pop("execution", None)
        cell.metadata.pop("collapsed", None)
        if cell.cell_type == "code":
            kept = [out for out in cell.get("outputs", []) if not is_widget_view(out)]
            cell.outputs = merge_streams(kept)
            for out in cell.outputs:
                out.get("metadata", {}).pop("execution", None)
    counts = [c.execution_count for c in nb.cells if c.cell_type == "code"]
    if counts != list(range(1, len(counts) + 1)):
        raise SystemExit(f"execution counts are not 1..n: {counts}")


def run(path: pathlib.Path, timeout: int, write: bool) -> float:
    nb = nbformat.read(path, as_version=4)
    start = time.perf_counter()
    client = NotebookClient(
        nb, timeout=timeout, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}
    )
    client.execute()
    seconds = time.perf_counter() - start
    tidy(nb)
    if write:
        nbformat.write(nb, path)
    return seconds


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="+", type=pathlib.Path)
    parser.add_argument("--check", action="store_true", help="run and time only; write nothing")
    parser.add_argument("--timeout", type=int, default=600, help="seconds per cell")
    args = parser.parse_args(argv)
    rows = []
    for path in args.notebooks:
        print(f"running {path} …", flush=True)
        seconds = run(path, args.timeout, write=not args.check)
        rows.append((path.name, seconds))
        print(f"  {seconds:6.1f} s", flush=True)
    print("\n| notebook | seconds |\n|---|---|")
    for name, seconds in rows:
        print(f"| {name} | {seconds:.0f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
