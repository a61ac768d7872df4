"""Copy with a feed-forward and an LSTM controller, 3 seeds each: sequences and seconds to convergence.

Graves et al. (2014, §4.1, Fig. 3) train the NTM on copy with both controllers and find that both
learn it, far faster than an LSTM alone; with a feed-forward controller every piece of state
(where the heads are, how far the input has come) must go through the memory and the heads'
weightings, because the controller itself forgets everything between steps.

Each row is one run of ``memlib ntm train --task copy --controller C --seed S --json``: the copy
preset (`memlib.recipes.ntm.PRESETS`, the same for both controllers), stopped at convergence
(fewer than 0.1 bit errors per sequence on 320 fresh held-out sequences, twice in a row). The
model at convergence is then tested on 1,000 held-out sequences of lengths 20 and 40 (trained on
1–20). Seconds are wall-clock time with the 1-minute load average beside them (the machine is
shared). ``--json`` prints all rows as one JSON object on the last line.

    PYTHONPATH=. nice python benchmarks/ntm_controllers.py [--seeds 0,1,2] [--controllers ff,lstm]
"""

import argparse
import json
import os
import statistics
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

import memlib  # noqa: E402
from memlib import algorithmic as alg  # noqa: E402
from memlib.recipes.ntm import evaluate, preset, summary, train  # noqa: E402

LENGTH_SEED = 20_000_003  # the generalisation sets, far from the training and check seeds


def run(controller: str, seed: int, max_seconds: float) -> dict:
    """One `memlib ntm train --task copy --controller … --seed …` run, and its model at lengths 20 and 40."""
    memlib.setup(seed)
    cfg = preset("copy", "ntm", controller=controller, seed=seed, max_seconds=max_seconds)
    model, res = train(cfg, device="cpu")
    row = summary(cfg, res)
    task = alg.get_task("copy")
    for n in (20, 40):
        row[f"bit_errors_{n}"] = round(evaluate(model, task, 1000, seed=LENGTH_SEED + n, length=n)["bit_errors"], 3)
    row["loadavg"] = round(os.getloadavg()[0], 2)
    row["command"] = f"memlib ntm train --task copy --controller {controller} --seed {seed} --json"
    return row


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", default="0,1,2")
    ap.add_argument("--controllers", default="ff,lstm")
    ap.add_argument("--max-seconds", type=float, default=1800.0)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    rows = []
    print("| controller | seed | converged at (sequences) | seconds | restarts | held-out bit errors | "
          "length 20 | length 40 | load avg |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for controller in args.controllers.split(","):
        for seed in (int(s) for s in args.seeds.split(",")):
            r = run(controller, seed, args.max_seconds)
            rows.append(r)
            print(f"| {controller} | {seed} | {r['converged_at'] or 'not'} | {r['converged_seconds'] or r['seconds']} | "
                  f"{r['restarts']} | {r['heldout_bit_errors']:.3f} | {r['bit_errors_20']:.3f} | "
                  f"{r['bit_errors_40']:.3f} | {r['loadavg']:.2f} |", flush=True)
    for controller in args.controllers.split(","):
        at = [r["converged_at"] for r in rows if r["controller"] == controller and r["converged_at"]]
        if at:
            print(f"{controller}: median {statistics.median(at):,.0f} sequences to convergence "
                  f"({len(at)} of {sum(r['controller'] == controller for r in rows)} runs converged)")
    if args.json:
        print(json.dumps({"rows": rows}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
