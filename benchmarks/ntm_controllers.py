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
shared), and CPU seconds of the training run. ``--json`` prints all rows as one JSON object on
the last line; ``--results FILE`` also writes it, with the command, each controller's per-seed
sequences and seconds to convergence and their medians, to FILE (the shipped
data/results/ntm_controllers.json). A run that has not converged when its budget runs out
(the preset's 100,000 sequences, or ``--max-seconds`` of wall time) counts as slower than every
converged run; a median that falls on such a run is reported as None ("not converged").

    PYTHONPATH=. nice python benchmarks/ntm_controllers.py [--seeds 0,1,2] [--controllers ff,lstm]
        [--max-seconds 1800] [--json] [--results data/results/ntm_controllers.json]
"""

import argparse
import json
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

import memlib  # noqa: E402
from memlib import algorithmic as alg  # noqa: E402
from memlib.cli import UsageError, check_results, write_results  # noqa: E402
from memlib.recipes.ntm import evaluate, preset, summary, train  # noqa: E402

LENGTH_SEED = 20_000_003  # the generalisation sets, far from the training and check seeds


def run(controller: str, seed: int, max_seconds: float) -> dict:
    """One `memlib ntm train --task copy --controller … --seed …` run, and its model at lengths 20 and 40."""
    memlib.setup(seed)
    cfg = preset("copy", "ntm", controller=controller, seed=seed, max_seconds=max_seconds)
    cpu_start = time.process_time()
    model, res = train(cfg, device="cpu")
    row = summary(cfg, res)
    row["cpu_seconds"] = round(time.process_time() - cpu_start, 1)
    task = alg.get_task("copy")
    for n in (20, 40):
        row[f"bit_errors_{n}"] = round(evaluate(model, task, 1000, seed=LENGTH_SEED + n, length=n)["bit_errors"], 3)
    row["loadavg"] = round(os.getloadavg()[0], 2)
    row["command"] = f"memlib ntm train --task copy --controller {controller} --seed {seed} --json"
    return row


def median_or_none(values: list) -> float | None:
    """The median of `values`, where None (not converged) counts as larger than any number.

    None when the median falls on a run that did not converge (e.g. 2 of 3 runs did not).
    """
    ranked = sorted(values, key=lambda v: (v is None, v or 0))
    mid = ranked[(len(ranked) - 1) // 2: len(ranked) // 2 + 1]
    return None if not ranked or None in mid else sum(mid) / len(mid)


def by_controller(rows: list) -> dict:
    """Per controller: each seed's sequences and seconds to convergence, and their medians."""
    out = {}
    for c in dict.fromkeys(r["controller"] for r in rows):
        mine = [r for r in rows if r["controller"] == c]
        out[c] = {"seeds": {str(r["seed"]): {k: r[k] for k in ("converged_at", "converged_seconds", "seconds",
                                                                 "cpu_seconds", "sequences", "restarts",
                                                                 "bit_errors_20", "bit_errors_40", "loadavg")}
                            for r in mine},
                  "converged": sum(r["converged_at"] is not None for r in mine), "runs": len(mine),
                  "median_converged_at": median_or_none([r["converged_at"] for r in mine]),
                  "median_converged_seconds": median_or_none([r["converged_seconds"] for r in mine])}
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", default="0,1,2")
    ap.add_argument("--controllers", default="ff,lstm")
    ap.add_argument("--max-seconds", type=float, default=1800.0)
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--results", metavar="FILE", help="also write the JSON object to FILE (.json)")
    args = ap.parse_args(argv)
    try:
        check_results(args.results)
    except UsageError as exc:
        ap.error(str(exc))
    try:
        seeds = [int(s) for s in args.seeds.split(",")]
    except ValueError:
        ap.error(f"--seeds takes integers like 0,1,2, got {args.seeds!r}")
    for controller in args.controllers.split(","):
        if controller not in ("ff", "lstm"):
            ap.error(f"--controllers takes ff and/or lstm, got {controller!r}")
    rows = []
    print("| controller | seed | converged at (sequences) | seconds | restarts | held-out bit errors | "
          "length 20 | length 40 | load avg |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for controller in args.controllers.split(","):
        for seed in seeds:
            r = run(controller, seed, args.max_seconds)
            rows.append(r)
            print(f"| {controller} | {seed} | {r['converged_at'] or 'not'} | {r['converged_seconds'] or r['seconds']} | "
                  f"{r['restarts']} | {r['heldout_bit_errors']:.3f} | {r['bit_errors_20']:.3f} | "
                  f"{r['bit_errors_40']:.3f} | {r['loadavg']:.2f} |", flush=True)
    controllers = by_controller(rows)
    for controller, c in controllers.items():
        median = "not converged" if c["median_converged_at"] is None else f"{c['median_converged_at']:,.0f}"
        print(f"{controller}: median {median} sequences to convergence "
              f"({c['converged']} of {c['runs']} runs converged)")
    out = {"controllers": controllers, "rows": rows}
    write_results(args.results, out, "PYTHONPATH=. python benchmarks/ntm_controllers.py " + " ".join(
        sys.argv[1:] if argv is None else argv))
    if args.json:
        print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
