"""The LSTM baseline on bAbI tasks 1–3 (1k generated questions): test accuracy and seconds.

Compares with the published LSTM column (bAbI paper, Table 3: 50 / 20 / 20 %) and prints the
load average next to each timing (the machine may be shared). Usage::

    PYTHONPATH=. python benchmarks/lstm_babi.py [--tasks 1-3] [--seed 0] [--data DIR]

Without --data the tasks are generated (seed 0) into a temporary folder first. The same LSTM
over all 20 tasks, in the table shape of `memlib memn2n train`, is
``memlib lstm train --data DIR --tasks 1-20``; its shipped run is data/results/lstm_babi1k.json.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile

import memlib
from memlib.babi.format import load_task
from memlib.babi.generate import generate
from memlib.cli import parse_tasks
from memlib.recipes.lstm import BABI_LSTM_ACCURACY, TRAIN_PRESET, train


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=parse_tasks, default=[1, 2, 3])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--data", default=None, help="a folder of bAbI task files (default: generate)")
    args = parser.parse_args(argv)
    memlib.setup(args.seed)
    with tempfile.TemporaryDirectory() as tmp:
        root = args.data
        if root is None:
            generate(tmp, tasks=args.tasks, size="1k", seed=0)
            root = tmp
        print(f"LSTM baseline, preset {TRAIN_PRESET}, seed {args.seed}, data {'generated' if args.data is None else root}")
        print(f"{'task':>4} {'train %':>8} {'test %':>7} {'published %':>12} {'epochs':>7} {'seconds':>8} {'load avg':>9}")
        for task in args.tasks:
            train_stories, test = load_task(root, task, "train"), load_task(root, task, "test")
            _, r = train(dict(TRAIN_PRESET, seed=args.seed), (train_stories, test))
            print(f"{task:>4} {100 * r['train']['accuracy']:>8.1f} {100 * r['test']['accuracy']:>7.1f} "
                  f"{BABI_LSTM_ACCURACY[task]:>12} {len(r['history'].loss):>7} {r['seconds']:>8.1f} "
                  f"{os.getloadavg()[0]:>9.2f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
