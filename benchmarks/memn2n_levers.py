"""MemN2N on bAbI 1k: which restart to keep, or how many to average, all read off the same trained restarts.

    PYTHONPATH=. python benchmarks/memn2n_levers.py [--tasks 1-20] [--data data/generated/babi]
        [--restarts 20] [--grad-noise 0.0] [--seed 0] [--results FILE] [--json]

Trains each task once with `memlib.recipes.memn2n.run_task` (today's defaults otherwise: 3 hops,
d = 20, the validation rule, the last weights) and reports the test error (%) that each of these
rules gets from that task's restarts:

* **kept**: the restart the recipe keeps (lowest error on the held-out 10 %, ties to the lower
  training error, then the lower validation loss: `memlib.recipes.memn2n.selection_key`).
* **paper rule**: the lowest training error, ties to the lower training loss (Sukhbaatar et al.
  2015, §4.2), among all restarts and among the first 10.
* **top-k**: the softmax average of the k best restarts by the validation rule, k = 3, 5, 10 and
  all: an averaged predictor of k MemN2Ns (an ensemble), not the paper's single model.
* **within 2 SE**: the softmax average of every restart whose validation error is at most
  b + 2·sqrt(b(1−b)/n_valid) + 1/n_valid, b the best validation error: the restarts that the
  n_valid held-out questions cannot tell from the kept one. This rule was written after seeing
  the fixed-k averages fail on task 16 (few restarts solve it, so a large k averages in the
  failed ones); it needs confirming on other data (another generator seed, the official files).
* **oracle**: the restart with the lowest *test* error: an upper bound for any rule that keeps
  one restart, not a rule.

Per task also the kept restart's validation error, the mean validation error over restarts
(what choosing ``--grad-noise`` by validation compares), the size of the within-2-SE set and
the CPU seconds; then the mean error and the failed tasks (test error > 5 %) of each column.
``--results FILE`` writes the markdown table and the command to FILE; ``--json`` prints one JSON
object as the last line of stdout. One torch thread. Measured tables (defaults, ``--grad-noise``,
``--restarts 40``) and what they show: data/results/memn2n_babi1k_levers.md.
"""

from __future__ import annotations

import json
import math
import os
import pathlib
import sys
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent))

import torch  # noqa: E402

from memlib.cli import Parser, parse_tasks  # noqa: E402
from memlib.recipes.memn2n import failed, mean, run_task, selection_key  # noqa: E402


def rules(fit, test, n_valid: int, kept_error: float) -> dict:
    """Test error (a fraction) of each rule on one task's restarts, and what the rules saw.

    `fit` is the `memlib.recipes.memn2n.Fit` of the task, `test` its test `Batch`, `n_valid` the
    number of held-out questions and `kept_error` the test error of the kept restart. The second
    dict holds the kept restart's validation error, the mean over restarts and ``within``: the
    restarts of the within-2-SE average, best first.
    """
    t_err, t_loss, v_err, v_loss = (torch.tensor(x) for x in (fit.train_error, fit.train_loss,
                                                              fit.valid_error, fit.valid_loss))
    by_valid = torch.argsort(selection_key("valid", t_err, t_loss, v_err, v_loss), stable=True).tolist()
    by_train = selection_key("train", t_err, t_loss, v_err, v_loss)
    assert by_valid[0] == fit.best, (by_valid[0], fit.best)
    with torch.no_grad():
        logits, _ = fit.ensemble(*test.distinct(), test.queries, test.lengths, trace=False)  # (E, N, C)
    probs = logits.softmax(-1)
    each = (logits.argmax(-1) != test.answers).float().mean(1)  # (E,) test error of each restart

    def average(members):  # test error of the softmax average of `members`
        return float((probs[members].mean(0).argmax(-1) != test.answers).float().mean())

    E, b = len(by_valid), fit.valid_error[fit.best]
    tolerance = b + 2 * math.sqrt(b * (1 - b) / n_valid) + 1 / n_valid
    within = [e for e in by_valid if fit.valid_error[e] <= tolerance + 1e-9]
    out = {"kept": kept_error,
           "paper rule": float(each[int(torch.argmin(by_train))]),
           "paper rule, first 10": float(each[int(torch.argmin(by_train[:10]))])}
    out.update({f"top-{k}": average(by_valid[:k]) for k in (3, 5, 10) if k < E})
    out.update({"top-all": average(by_valid), "within 2 SE": average(within), "oracle": float(each.min())})
    return out, {"valid_error": b, "mean_valid_error": mean(fit.valid_error), "within": within}


def levers(data, tasks, restarts: int = 20, grad_noise: float = 0.0, seed: int = 0, log=None,
           **config) -> dict:
    """Train each task once and apply every rule → ``{"tasks": {task: {"test_error": {rule: %}, ...}},
    "mean": {rule: %}, "failed": {rule: n}, "cpu_seconds"}``.

    Errors in %; `config` passes further `memlib.recipes.memn2n.train` options (the tests shorten
    the schedule with it). `log` (optional) is called with one line per task.
    """
    per_task = {}
    for task in tasks:
        cpu = time.process_time()
        fit, summary, (train, test) = run_task(data, task, restarts=restarts, grad_noise=grad_noise,
                                               seed=seed, device="cpu", **config)
        n_valid = len(fit.valid_index)  # the questions `train` held out
        if n_valid < 1:
            raise ValueError(f"task {task}: no held-out questions ({len(train)} training questions)")
        errs, seen = rules(fit, test, n_valid, summary["test_error"])
        # in % to 0.01: exact for 1000 test questions, and no float32 5.0 % (0.0500000007) counts as failed
        per_task[task] = {"test_error": {k: round(100 * v, 2) for k, v in errs.items()},
                          "valid_error": round(100 * seen["valid_error"], 2),
                          "mean_valid_error": round(100 * seen["mean_valid_error"], 2),
                          "within": seen["within"], "cpu_seconds": round(time.process_time() - cpu, 1)}
        if log:
            e = per_task[task]["test_error"]
            log(f"task {task:2d}: kept {e['kept']:5.1f} %, within 2 SE {e['within 2 SE']:5.1f} %, "
                f"oracle {e['oracle']:5.1f} %, {per_task[task]['cpu_seconds']:.0f} CPU s, "
                f"load {os.getloadavg()[0]:.1f}")
    columns = list(per_task[tasks[0]]["test_error"])
    return {"tasks": per_task,
            "mean": {c: round(mean(r["test_error"][c] for r in per_task.values()), 2) for c in columns},
            "failed": {c: failed({t: r["test_error"][c] / 100 for t, r in per_task.items()}) for c in columns},
            "cpu_seconds": round(sum(r["cpu_seconds"] for r in per_task.values()), 1)}


def table(result: dict) -> str:
    """The markdown table of `levers`: one row per task, then mean and failed."""
    columns = list(result["mean"])
    lines = ["| task | " + " | ".join(columns)
             + " | kept valid error | mean valid error | within 2 SE: restarts | CPU s |",
             "|---:|" + "---:|" * (len(columns) + 4)]
    for t, r in result["tasks"].items():
        lines.append(f"| {t} | " + " | ".join(f"{r['test_error'][c]:.1f}" for c in columns)
                     + f" | {r['valid_error']:.0f} | {r['mean_valid_error']:.1f} | {len(r['within'])}"
                     + f" | {r['cpu_seconds']:.0f} |")
    lines.append("| **mean** | " + " | ".join(f"**{result['mean'][c]:.2f}**" for c in columns) + " | | | | |")
    lines.append("| **failed (> 5 %)** | " + " | ".join(f"**{result['failed'][c]}**" for c in columns) + " | | | | |")
    return "\n".join(lines)


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    p = Parser(prog="memn2n_levers.py", description=__doc__.splitlines()[0])
    p.add_argument("--tasks", type=parse_tasks, default=parse_tasks("1-20"))
    p.add_argument("--data", default="data/generated/babi")
    p.add_argument("--restarts", type=int, default=20)
    p.add_argument("--grad-noise", type=float, default=0.0, help="η of the gradient noise (default 0: off)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--results", default=None, metavar="FILE", help="write the markdown table and the command here")
    p.add_argument("--json", action="store_true", help="print one JSON object as the last line")
    args = p.parse_args(argv)
    if args.restarts < 1:
        p.error(f"--restarts must be at least 1, not {args.restarts}")
    if not args.grad_noise >= 0:
        p.error(f"--grad-noise must be ≥ 0, not {args.grad_noise}")
    torch.set_num_threads(1)
    data = pathlib.Path(args.data)
    if not data.exists():
        from memlib.babi.generate import generate

        print(f"generating bAbI 1k (seed 0) in {data}", flush=True)
        generate(data, tasks=args.tasks, size="1k", seed=0)
    start = time.perf_counter()
    try:
        result = levers(data, args.tasks, args.restarts, args.grad_noise, args.seed,
                        log=lambda line: print(line, flush=True))
    except (FileNotFoundError, ValueError) as exc:
        p.exit(2, f"memn2n_levers.py: error: {exc}\n")
    load = os.getloadavg()
    command = " ".join(["PYTHONPATH=. python benchmarks/memn2n_levers.py", *argv])
    result.update(command=command, wall_seconds=round(time.perf_counter() - start, 1),
                  loadavg=[round(x, 1) for x in load], restarts=args.restarts, grad_noise=args.grad_noise,
                  seed=args.seed, data=str(data))
    note = (f"{len(args.tasks)} tasks, {args.restarts} restarts, grad_noise={args.grad_noise}, seed {args.seed}: "
            f"{result['cpu_seconds']:.0f} CPU s, {result['wall_seconds']:.0f} s wall, load average {load[0]:.1f} / "
            f"{load[1]:.1f} / {load[2]:.1f} (1/5/15 min) at the end, 1 torch thread, torch {torch.__version__}. "
            f"Data: {data}. Test error in %; top-k and within 2 SE are softmax averages of restarts (ensembles); "
            f"oracle = best restart by test error (an upper bound, not a rule).")
    text = f"{table(result)}\n\n{note}\n"
    print(text)
    if args.results:
        out = pathlib.Path(args.results)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(f"    {command}\n\n{text}")
    if args.json:
        print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
