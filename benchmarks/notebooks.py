"""Time every notebook end to end and print a table: what each header states, wall and CPU seconds.

    python benchmarks/notebooks.py                 # full budget (what learners get), all notebooks
    python benchmarks/notebooks.py --fast          # MEMLIB_FAST=1 (what the tests run)
    python benchmarks/notebooks.py notebooks/03_neural_turing_machines.ipynb --json

Each notebook runs in a fresh kernel, one after another, and nothing is written back. CPU time is
the kernel's user+system time (measured with getrusage on the reaped kernel process), which a
busy machine inflates far less than wall-clock time; the load average is printed next to it. A
notebook's header should state its full-budget CPU time; the "stated" column shows the header
line that mentions it, so the two can be compared.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import pathlib
import re
import resource
import sys
import time

import nbformat

REPO = pathlib.Path(__file__).resolve().parents[1]
_STATED = re.compile(r"(cpu|run)\s*time[^\n]*", re.IGNORECASE)


def _runner():
    """tools/run_notebooks.py's run(): the one way the suite executes a notebook."""
    spec = importlib.util.spec_from_file_location("run_notebooks", REPO / "tools" / "run_notebooks.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.run


def stated_time(path: pathlib.Path) -> str:
    """The header's sentence about CPU time (first markdown cells), or '-'."""
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells[:4]:
        if cell.cell_type == "markdown":
            m = _STATED.search(cell.source)
            if m:
                return re.sub(r"[*`|]", "", m.group(0)).strip()[:70]
    return "-"


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def measure(path: pathlib.Path, timeout: int) -> dict:
    run = _runner()
    load = os.getloadavg()[0]
    cpu0, start = children_cpu(), time.perf_counter()
    error = None
    try:
        wall = run(path, timeout, write=False)
    except Exception as exc:  # report it in the table and go on with the next notebook
        last = re.sub(r"\x1b\[[0-9;]*m", "", str(exc)).strip().splitlines()[-1]  # without terminal colours
        wall, error = time.perf_counter() - start, f"{type(exc).__name__}: {last[:100]}"
    return {"notebook": path.name, "stated": stated_time(path), "wall_s": round(wall, 1),
            "cpu_s": round(children_cpu() - cpu0, 1), "load": round(load, 2), "error": error}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", type=pathlib.Path)
    parser.add_argument("--fast", action="store_true", help="MEMLIB_FAST=1 instead of the full budget")
    parser.add_argument("--timeout", type=int, default=900, help="seconds per cell")
    parser.add_argument("--json", action="store_true", help="print one JSON object as the last line")
    args = parser.parse_args(argv)
    paths = args.notebooks or sorted((REPO / "notebooks").glob("*.ipynb"))
    if not paths:
        print("no notebooks found", file=sys.stderr)
        return 1
    os.environ["MEMLIB_FAST"] = "1" if args.fast else "0"  # the kernels inherit it
    os.environ.setdefault("TQDM_DISABLE", "1")
    mode = "fast" if args.fast else "full"
    rows = []
    for path in paths:
        print(f"running {path.name} ({mode} budget) …", flush=True)
        rows.append(measure(path, args.timeout))
        print(f"  {rows[-1]['wall_s']:.0f} s wall, {rows[-1]['cpu_s']:.0f} s CPU (load {rows[-1]['load']})", flush=True)
    print(f"\n| notebook ({mode} budget) | header states | wall s | CPU s | load avg at start |")
    print("|---|---|---|---|---|")
    for r in rows:
        failed = f" (FAILED: {r['error']})" if r["error"] else ""
        print(f"| {r['notebook']}{failed} | {r['stated']} | {r['wall_s']:.0f} | {r['cpu_s']:.0f} | {r['load']:.2f} |")
    print(f"| total | | {sum(r['wall_s'] for r in rows):.0f} | {sum(r['cpu_s'] for r in rows):.0f} | |")
    if args.json:
        print(json.dumps({"mode": mode, "cpus": os.cpu_count(), "notebooks": rows}))
    return 1 if any(r["error"] for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
