"""Copy (lengths 1–20, 8 bits) over 5 seeds: sequences and seconds to convergence, the load.

Convergence = fewer than 0.1 bit errors per sequence on 320 fresh held-out sequences. After
converging, each run trains on for --after sequences (default 10,000) to check that it does
not relapse, then the final model is tested at lengths 40 and 80. Wall-clock seconds depend on
the load of the machine: the 1-minute load average is printed next to every time.

    PYTHONPATH=. nice python benchmarks/ntm_copy.py [--seeds 0,1,2,3,4] [--after 10000]
"""

import argparse
import json
import os
import statistics
import sys
import time

import memlib
from memlib.ntm_train import evaluate, preset, summary, train


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seeds", default="0,1,2,3,4")
    p.add_argument("--after", type=int, default=10_000)
    p.add_argument("--max-seconds", type=float, default=1800)
    p.add_argument("--json", default=None, help="also write the rows to this file")
    args = p.parse_args(argv)
    rows = []
    print(f"{'seed':>4} {'sequences':>9} {'seconds':>8} {'load@start':>10} {'load@end':>9} "
          f"{'restarts':>8} {'rollbacks':>9} {'worst after':>11} {'final':>6} "
          f"{'len40 mean':>10} {'len80 median':>12}")
    for seed in (int(s) for s in args.seeds.split(",")):
        memlib.setup(seed)
        load0 = os.getloadavg()[0]
        cfg = preset("copy", "ntm", seed=seed, max_seconds=args.max_seconds)
        cfg.after_convergence = args.after
        t0 = time.perf_counter()
        model, res = train(cfg)
        row = summary(cfg, res)
        row["load_start"] = round(load0, 2)
        l40 = evaluate(model, "copy", 320, length=40)
        l80 = evaluate(model, "copy", 320, length=80)
        row.update(len40_mean=round(l40["bit_errors"], 3), len80_median=l80["median_bit_errors"],
                   len80_mean=round(l80["bit_errors"], 3), total_seconds=round(time.perf_counter() - t0, 1))
        rows.append(row)
        print(f"{seed:>4} {str(res.converged_at):>9} {str(row['converged_seconds']):>8} "
              f"{load0:>10.2f} {res.loadavg[0]:>9.2f} {res.restarts:>8} {res.rollbacks:>9} "
              f"{str(res.worst_after_convergence):>11} {res.heldout['bit_errors']:>6.3f} "
              f"{l40['bit_errors']:>10.3f} {l80['median_bit_errors']:>12.1f}", flush=True)
    conv = [r["converged_seconds"] for r in rows if r["converged_seconds"] is not None]
    seqs = [r["converged_at"] for r in rows if r["converged_at"] is not None]
    print(f"converged {len(conv)}/{len(rows)}; median {statistics.median(seqs) if seqs else '-'} "
          f"sequences, {statistics.median(conv) if conv else '-'} s; max "
          f"{max(conv) if conv else '-'} s")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=1)
    return 0 if len(conv) == len(rows) else 1


if __name__ == "__main__":
    sys.exit(main())
