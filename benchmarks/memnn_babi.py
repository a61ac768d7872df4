"""MemNN on bAbI tasks 1–3: k = 1/2/3 hops × write-time features on/off, accuracy and seconds.

    PYTHONPATH=. python benchmarks/memnn_babi.py [--data FOLDER] [--tasks 1-3] [--hops 1,2,3]

Without --data, tasks are generated with seed 0 into a temporary folder (1k train / 1k test).
Each row is one `memlib memnn train` run with the CLI's defaults; seconds are wall-clock
training time with the 1-minute load average next to it (the machine is shared).
This is the Memory Networks model (k fixed hops). The 20-task table with the bAbI paper's
extensions is ``memlib memnn train --data DIR --tasks 1-20``; its shipped run is
data/results/memnn_babi1k.json (the command that made it inside).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

import memlib  # noqa: E402
from memlib.babi.format import load_task  # noqa: E402
from memlib.cli import parse_tasks  # noqa: E402
from memlib.recipes.memnn import prepare, train  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data")
    ap.add_argument("--tasks", type=parse_tasks, default=[1, 2, 3])
    ap.add_argument("--hops", default="1,2,3")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    hops = [int(h) for h in args.hops.split(",")]
    data = args.data
    if data is None:
        from memlib.babi.generate import generate

        data = tempfile.mkdtemp(prefix="memnn_babi_")
        generate(data, tasks=args.tasks, seed=0)
    print(f"data: {data if args.data else 'generated, seed 0 (1k train / 1k test)'}")
    print("| task | k | time features | train acc | test acc | support acc per hop (test) | epochs | seconds | load avg |")
    print("|---|---|---|---|---|---|---|---|---|")
    for task in args.tasks:
        prepared = prepare(load_task(data, task, "train"), load_task(data, task, "test"))
        for k in hops:
            for time_features in (True, False):
                memlib.setup(args.seed)
                config = dict(hops=k, time_features=time_features, seed=args.seed)
                _, r = train(config, prepared)
                history, seconds, tr, te = r["history"], r["seconds"], r["train"], r["test"]
                hop = " / ".join(f"{x:.1%}" for x in te["support_accuracy"])
                print(f"| {task} | {k} | {'on' if time_features else 'off'} | {tr['accuracy']:.1%} | "
                      f"{te['accuracy']:.1%} | {hop} | {len(history.loss)} | {seconds:.1f} | "
                      f"{os.getloadavg()[0]:.1f} |", flush=True)


if __name__ == "__main__":
    main()
