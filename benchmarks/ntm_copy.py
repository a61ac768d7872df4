"""Copy (lengths 1–20, 8 bits) over 5 seeds: sequences and seconds to convergence, the load,
and whether the model stays converged while training goes on.

Convergence = fewer than 0.1 bit errors per sequence on 320 fresh held-out sequences, twice in
a row (what `memlib ntm train` stops at). Each run trains on to --sequences in all (default
20,000, the budget of the shipped ``ntm_copy.pt``: ``memlib ntm train --sequences 20000 --no-stop``;
earlier versions trained on for a fixed ``--after 10000`` sequences past convergence, through a
knob of the training loop that was removed); every 2,000 sequences the live model is tested on
1,000 fixed held-out sequences, and the table prints the worst and the last of those checks after convergence
(a relapse would show there); the seconds to convergence leave out the time these checks take.
Then two models are tested at lengths 20, 40 and 80 (trained on 1–20) on 2,000, 2,000 and 500
sequences: "conv.", the model at convergence (what `memlib ntm train` hands back by default), and
"after", the model handed back at the end of the budget (the state that does best on 2,000
held-out sequences of lengths 1–20, as `memlib ntm train --no-stop` picks it; the shipped
`ntm_copy.pt` is made that way). Large sets matter here: a trained copier fails on rare
sequences only, but there on every step, because its read head starts on the wrong slot (a
"misaligned" sequence: more bit errors than its length). One such sequence at length 40 costs
about 150 bit errors, i.e. 0.47 on the mean of 320 sequences. Wall-clock seconds depend on the
load of the machine: the 1-minute load average is printed next to every time. `--slip 0` trains
without the preset's slip of the head weightings, for comparison.

    PYTHONPATH=. nice python benchmarks/ntm_copy.py [--seeds 0,1,2,3,4] [--sequences 20000] [--slip 0]
"""

import argparse
import copy as _copy
import json
import os
import statistics
import sys
import time

import torch

import memlib
from memlib import algorithmic as alg
from memlib.recipes.ntm import EVAL_SEED, evaluate, make_model, preset, summary, train

CHECK_SEED = EVAL_SEED + 777_777  # the 1,000 fixed sequences of the relapse checks
LENGTH_SEED = EVAL_SEED + 555_555  # the generalisation sets (one per length)
TEST_SIZES = {20: 2000, 40: 2000, 80: 500}


def at_length(model, length, n):
    """Mean and median bit errors at one length, and how many sequences came out misaligned."""
    errors = []
    for i in range(0, n, 100):
        b = alg.copy(min(100, n - i), LENGTH_SEED + 1000 * length + i, length=length)
        logits, _ = model(b.x)
        errors.append(alg.bit_errors(logits, b))
    e = torch.cat(errors)
    return {"mean": e.mean().item(), "median": e.median().item(),
            "misaligned": int((e > length).sum()), "n": n}


def run(seed, sequences, max_seconds, slip=None):
    memlib.setup(seed)
    cfg = preset("copy", "ntm", seed=seed, max_seconds=max_seconds, slip=slip, sequences=sequences,
                 stop_at_convergence=False)
    model = make_model(cfg, alg.get_task("copy"))  # = the model `train` would build (same seed)
    checks = []  # (sequences, held-out bit errors on the 1,000 fixed sequences, seconds taken)

    def progress(point):
        seen = point["sequences"]
        if seen // 2000 > len(checks):
            t = time.perf_counter()
            errors = evaluate(model, "copy", 1000, seed=CHECK_SEED)["bit_errors"]  # eval mode
            checks.append((seen, errors, time.perf_counter() - t))

    load0 = os.getloadavg()[0]
    t0 = time.perf_counter()
    model, res = train(cfg, model=model, progress=progress)
    row = summary(cfg, res)
    if res.converged_at:  # the time to convergence leaves out this benchmark's own checks
        spent = sum(dt for s, _, dt in checks if s <= res.converged_at)
        row["converged_seconds"] = round(res.converged_seconds - spent, 1)
    after_checks = [e for s, e, _ in checks if res.converged_at and s > res.converged_at]
    row.update(load_start=round(load0, 2), total_seconds=round(time.perf_counter() - t0, 1),
               worst_check_after=round(max(after_checks), 3) if after_checks else None,
               last_check=round(after_checks[-1], 3) if after_checks else None)
    final = _copy.deepcopy(model.state_dict())
    for when, state in (("at_convergence", res.converged_state), ("after", final)):
        if state is None:
            continue
        model.load_state_dict(state)
        with torch.no_grad():
            lengths = {L: at_length(model, L, n) for L, n in TEST_SIZES.items()}
        row[when] = dict(len40_mean=round(lengths[40]["mean"], 3),
                         len80_median=lengths[80]["median"],
                         len80_mean=round(lengths[80]["mean"], 3),
                         misaligned={L: f"{r['misaligned']}/{r['n']}" for L, r in lengths.items()})
    return row


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seeds", default="0,1,2,3,4")
    p.add_argument("--sequences", type=int, default=20_000, help="training budget per seed")
    p.add_argument("--max-seconds", type=float, default=1800)
    p.add_argument("--slip", type=float, default=None,
                   help="override the preset's training-time slip (0: without slip)")
    p.add_argument("--json", default=None, help="also write the rows to this file")
    args = p.parse_args(argv)
    rows = []
    print(f"{'seed':>4} {'sequences':>9} {'seconds':>7} {'load':>5} {'restarts':>8} "
          f"{'rollbacks':>9} {'worst after':>11} {'last':>6} | model {'len40 mean':>10} "
          f"{'len80 median':>12}  misaligned at 20 / 40 / 80")
    for seed in (int(s) for s in args.seeds.split(",")):
        r = run(seed, args.sequences, args.max_seconds, args.slip)
        rows.append(r)
        head = (f"{seed:>4} {str(r['converged_at']):>9} {str(r['converged_seconds']):>7} "
                f"{r['load_start']:>5.2f} {r['restarts']:>8} {r['rollbacks']:>9} "
                f"{str(r['worst_check_after']):>11} {str(r['last_check']):>6} |")
        for when, label in (("at_convergence", "conv."), ("after", "after")):
            if when in r:
                g = r[when]
                print(f"{head} {label} {g['len40_mean']:>10.3f} {g['len80_median']:>12.1f}  "
                      + " / ".join(g["misaligned"].values()), flush=True)
                head = " " * (len(head) - 1) + "|"
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
