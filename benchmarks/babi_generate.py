"""Time the bAbI generator and print its statistics next to the official data's.

    python benchmarks/babi_generate.py [--tasks 1-20] [--size 10k] [--seed 0]

Prints the wall-clock seconds to write all tasks (with the load average, since the machine may
be shared), then one markdown table of the docs/babi_format.md §4 checks, measured on the generated
train + test files of the chosen size, against babi_stats_en.json (official en train + test).
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time

from memlib.babi.format import load_task
from memlib.babi.generate import generate
from memlib.babi.oracle import disagreements
from memlib.babi.stats import compare, folder_stats, load_reference
from memlib.cli import parse_tasks


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=parse_tasks, default=list(range(1, 21)))
    parser.add_argument("--size", choices=("1k", "10k"), default="10k")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as out:
        start = time.perf_counter()
        generate(out, args.tasks, args.size, args.seed)
        seconds = time.perf_counter() - start
        load = os.getloadavg()
        print(f"generated tasks {args.tasks[0]}-{args.tasks[-1]} at {args.size} in {seconds:.1f} s "
              f"(load average {load[0]:.1f}, {load[1]:.1f}, {load[2]:.1f})\n")
        stats = folder_stats(out, args.tasks, args.size)
        reference = load_reference()
        print("| task | checker disagreements | statements/story mean (ref) | gap-2 (ref) | repeat (ref) "
              "| answers | support TV | vocab (ref) | failed checks |")
        print("|---|---|---|---|---|---|---|---|---|")
        for task, m in stats.items():
            stories = load_task(out, task, "train", args.size) + load_task(out, task, "test", args.size)
            wrong = len(disagreements(task, stories))
            r = reference[str(task)]
            rows = {row["check"]: row for row in compare(m, r, task)}
            answers = rows.get("answer TV distance") or rows.get("answer shares min–max")
            failed = [name for name, row in rows.items() if not row["pass"]]
            print(f"| {task} | {wrong} | {m['stmts']['mean']:.2f} ({r['stmts']['mean']}) "
                  f"| {m['gaps_stmts_before_each_q'].get('2', 0):.3f} ({r['gaps_stmts_before_each_q'].get('2', 0)}) "
                  f"| {m['repeat_prev_q']:.3f} ({r['repeat_prev_q']}) | {answers['check'].split()[1]} {answers['value']} "
                  f"| {rows['support-size TV distance']['value']} | {m['vocabulary']} ({rows['vocabulary size']['reference']}) "
                  f"| {', '.join(failed) or '–'} |")


if __name__ == "__main__":
    main()
