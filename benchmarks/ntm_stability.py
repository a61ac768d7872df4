"""Five seeds of NTM training on every algorithmic task: no NaN or inf, and where each run got to.

Each run uses the task's preset (what `memlib ntm train` and the shipped checkpoints use) with
a budget of --sequences per seed. The loop never steps on a non-finite loss (it rolls back and
halves the learning rate); the table counts those events, the relapse rollbacks and restarts,
checks that every parameter of the final model is finite, and prints its held-out bit errors
and bits per sequence on 320 fresh sequences.

    PYTHONPATH=. nice python benchmarks/ntm_stability.py [--tasks repeat-copy,associative-recall]
        [--seeds 0,1,2,3,4] [--sequences 20000] [--json FILE]
"""

import argparse
import json
import os
import sys

import torch

import memlib
from memlib.recipes.ntm import preset, summary, train

TASKS = "copy,repeat-copy,associative-recall,priority-sort"


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--tasks", default=TASKS)
    p.add_argument("--seeds", default="0,1,2,3,4")
    p.add_argument("--sequences", type=int, default=20_000)
    p.add_argument("--max-seconds", type=float, default=1800)
    p.add_argument("--json", default=None)
    args = p.parse_args(argv)
    rows = []
    print(f"{'task':>19} {'seed':>4} {'sequences':>9} {'seconds':>7} {'load':>5} {'non-finite':>10} "
          f"{'rollbacks':>9} {'restarts':>8} {'params finite':>13} {'converged at':>12} "
          f"{'bit errors':>10} {'bits/seq':>8}")
    for task in args.tasks.split(","):
        for seed in (int(s) for s in args.seeds.split(",")):
            memlib.setup(seed)
            cfg = preset(task, "ntm", seed=seed, max_seconds=args.max_seconds,
                         sequences=args.sequences)
            model, res = train(cfg)
            row = summary(cfg, res)
            row["params_finite"] = all(bool(torch.isfinite(q).all()) for q in model.parameters())
            row["loadavg"] = [round(x, 2) for x in os.getloadavg()]  # seconds depend on the load
            rows.append(row)
            print(f"{task:>19} {seed:>4} {res.sequences:>9} {res.seconds:>7.1f} "
                  f"{row['loadavg'][0]:>5.2f} {res.nonfinite:>10} {res.rollbacks:>9} "
                  f"{res.restarts:>8} {str(row['params_finite']):>13} "
                  f"{str(res.converged_at):>12} {res.heldout['bit_errors']:>10.3f} "
                  f"{res.heldout['bits_per_seq']:>8.2f}", flush=True)
    bad = [r for r in rows if r["nonfinite"] or not r["params_finite"]]
    print(f"{len(rows)} runs; {len(bad)} with a non-finite loss or parameter")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=1)
    return 0 if not bad else 1


if __name__ == "__main__":
    sys.exit(main())
