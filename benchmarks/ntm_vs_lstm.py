"""NTM vs LSTM on the four algorithmic tasks, same training budget (the lecture's claim).

Evaluates the shipped checkpoints ``data/checkpoints/{ntm,lstm}_<task>.pt`` on 320 fresh
held-out sequences of the training distribution and prints bit errors and bits per sequence,
the sequences each model was trained on, and the paper's numbers for comparison. With
``--retrain`` it first recreates every checkpoint by the command stored in its metadata
(about half an hour on an idle 2-core machine).

    PYTHONPATH=. python benchmarks/ntm_vs_lstm.py [--retrain] [--json FILE]
"""

import argparse
import json
import shlex
import sys

import memlib
from memlib import checkpoints
from memlib.checkpoints import load_model
from memlib.cli import main as cli_main
from memlib.recipes.ntm import evaluate

TASKS = ("copy", "repeat-copy", "associative-recall", "priority-sort")
PAPER = {  # Graves et al. 2014, bits/seq read off Figs. 3, 7, 10, 18 (NTM-LSTM vs LSTM)
    "copy": "NTM ≈0.1 by 100k; LSTM 4.8 @100k, ≈0.5 @1M",
    "repeat-copy": "NTM floor by 50k; LSTM 20 @100k, floor by 150k",
    "associative-recall": "NTM 0.5 @100k; LSTM 10.5 @100k, 0.5 @1M",
    "priority-sort": "NTM 35 @200k, ≈18 @1M; LSTM 90 @200k, ≈58 @1M",
}


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--retrain", action="store_true")
    p.add_argument("--json", default=None)
    args = p.parse_args(argv)
    memlib.setup(0)
    rows = []
    for task in TASKS:
        slug = task.replace("-", "_")
        for kind in ("ntm", "lstm"):
            if args.retrain:
                cmd = checkpoints.load(checkpoints.path(f"{kind}_{slug}"))["meta"]["command"]
                print("$", cmd, flush=True)
                cli_main(shlex.split(cmd)[1:])
        (mn, metn), (ml, metl) = load_model(f"ntm_{slug}"), load_model(f"lstm_{slug}")
        en, el = evaluate(mn, task, 320), evaluate(ml, task, 320)
        rows.append(dict(task=task, ntm_sequences=metn["sequences"], lstm_sequences=metl["sequences"],
                         ntm_bit_errors=round(en["bit_errors"], 3),
                         ntm_bits_per_seq=round(en["bits_per_seq"], 3),
                         lstm_bit_errors=round(el["bit_errors"], 3),
                         lstm_bits_per_seq=round(el["bits_per_seq"], 3),
                         ntm_seconds=metn["seconds"], lstm_seconds=metl["seconds"],
                         ntm_load=metn["loadavg"][0], lstm_load=metl["loadavg"][0]))
    print("| task | sequences (NTM / LSTM) | NTM bit errors | NTM bits/seq | LSTM bit errors | "
          "LSTM bits/seq | train s (NTM / LSTM, load) | paper |")
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['task']} | {r['ntm_sequences']} / {r['lstm_sequences']} | "
              f"{r['ntm_bit_errors']:.2f} | {r['ntm_bits_per_seq']:.2f} | {r['lstm_bit_errors']:.2f} | "
              f"{r['lstm_bits_per_seq']:.2f} | {r['ntm_seconds']} / {r['lstm_seconds']} "
              f"({r['ntm_load']} / {r['lstm_load']}) | {PAPER[r['task']]} |")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
