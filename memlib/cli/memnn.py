"""`memlib memnn train`: train the strongly supervised Memory Network on one bAbI task, or on each of --tasks."""

from __future__ import annotations

import argparse
import os
import shlex
import sys
import time

from memlib.cli import (
    UsageError,
    add_babi_data,
    add_run_flags,
    check_results,
    command_group,
    emit_json,
    parse_tasks,
    positive,
    print_table,
    table,
    task_number,
    tasks_text,
    write_results,
)


def register(subparsers) -> None:
    sub = command_group(subparsers, "memnn", "strongly supervised Memory Network (Weston, Chopra & Bordes 2015)")
    p = sub.add_parser("train", help="train on one bAbI task (accuracy, supporting-fact accuracy per hop, seconds), "
                                     "or one MemNN per task of --tasks (the test-error table)")
    add_babi_data(p)
    which = p.add_mutually_exclusive_group(required=True)
    which.add_argument("--task", type=task_number, help="bAbI task number 1..20 (the Memory Networks model)")
    which.add_argument("--tasks", type=parse_tasks,
                       help="e.g. 1-20: one MemNN per task with the bAbI paper's extensions AM+NG+NL "
                            "(adaptive hops, N-grams, nonlinear matching, answer lists); other flags keep its preset")
    p.add_argument("--results", metavar="FILE", help="--tasks only: also write the JSON summary and this command to FILE")
    p.add_argument("--hops", type=positive(int), default=2, help="k, the number of argmax hops of O (default 2)")
    p.add_argument("--time-features", action=argparse.BooleanOptionalAction, default=True,
                   help="the three 'older than' write-time features of §3.4 (default on)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument("--epochs", type=positive(int), help="at most this many epochs (default: the preset's, 30)")
    p.add_argument("--dim", type=positive(int), help="embedding dimension n (default 100)")
    p.add_argument("--lr", type=positive(float), help="SGD learning rate (default: the preset's, 0.01 per task)")
    p.add_argument("--negatives", type=positive(int), help="sampled negatives per term (default 20)")
    p.add_argument("--save", metavar="FILE", help="write a checkpoint (.pt) with the command and metrics")
    add_run_flags(p, train)


def _command(args) -> str:
    """The `memlib memnn train …` command that recreates this run."""
    parts = ["memlib", "memnn", "train", "--data", args.data, "--task", args.task, "--hops", args.hops,
             "--time-features" if args.time_features else "--no-time-features", "--seed", args.seed]
    if args.test_data:
        parts += ["--test-data", args.test_data]
    for flag, value, default in [("--size", args.size, "1k"), *_overrides(args)]:
        if value != default:
            parts += [flag, value]
    if args.save:
        parts += ["--save", args.save]
    return " ".join(shlex.quote(str(p)) for p in parts)


def _overrides(args) -> list:
    """(flag, value, None) of the training flags a user can set over a preset (None: not given)."""
    return [("--epochs", args.epochs, None), ("--dim", args.dim, None), ("--lr", args.lr, None),
            ("--negatives", args.negatives, None)]


def train(args) -> int:
    if args.tasks is not None:
        return train_tasks(args)
    if args.results:
        raise UsageError("--results goes with --tasks (one MemNN per task)")
    import torch

    import memlib
    from memlib import checkpoints
    from memlib.babi.format import BabiFormatError, load_task
    from memlib.recipes import memnn as recipe

    memlib.setup(args.seed)
    try:
        train_stories = load_task(args.data, args.task, "train", args.size)
        test_stories = load_task(args.test_data or args.data, args.task, "test", args.size)
        vocab, train_batch, test_batch = recipe.prepare(train_stories, test_stories)
    except (FileNotFoundError, NotADirectoryError, BabiFormatError, ValueError) as exc:
        raise UsageError(str(exc)) from None
    config = dict(recipe.PRESET, hops=args.hops, time_features=args.time_features, seed=args.seed,
                  **{flag[2:]: value for flag, value, _ in _overrides(args) if value is not None})
    model, r = recipe.train(config, (vocab, train_batch, test_batch), progress=not args.json and sys.stderr.isatty(),
                            device=args.device)
    history, seconds, tr, te = r["history"], r["seconds"], r["train"], r["test"]
    result = {
        "task": args.task, "hops": args.hops, "time_features": args.time_features, "seed": args.seed,
        "train_accuracy": round(tr["accuracy"], 4), "test_accuracy": round(te["accuracy"], 4),
        "support_accuracy": [round(x, 4) for x in te["support_accuracy"]],
        "train_support_accuracy": [round(x, 4) for x in tr["support_accuracy"]],
        "epochs": len(history.loss), "seconds": round(seconds, 1),
        "loadavg": round(os.getloadavg()[0], 2),
    }
    if args.save:
        command = _command(args)
        checkpoints.save(args.save, *recipe.to_checkpoint(model),
                         {**result, "command": command, "vocab": list(vocab.words),
                          "loss": [round(x, 5) for x in history.loss], "torch": str(torch.__version__)})
        result["saved"] = str(args.save)
    hops = " ".join(f"{x:.1%}" for x in te["support_accuracy"])
    print(f"MemNN task {args.task}, k={args.hops}, time features {'on' if args.time_features else 'off'}: "
          f"train {tr['accuracy']:.1%}, test {te['accuracy']:.1%}, supporting facts per hop {hops}, "
          f"{len(history.loss)} epochs, {seconds:.1f} s")
    if args.json:
        emit_json(result)
    return 0


# --- one model per task: the table -----------------------------------------------------------------

def train_tasks(args) -> int:
    """One MemNN per task of --tasks with `BABI_PRESET`: test error in % per task, mean, failed tasks."""
    import memlib
    from memlib.babi.format import BabiFormatError, load_task
    from memlib.recipes import memnn as recipe

    if args.save:
        raise UsageError("--save stores one task's model: use it with --task")
    check_results(args.results)
    try:
        stories = {t: (load_task(args.data, t, "train", args.size), load_task(args.test_data or args.data, t, "test",
                                                                                 args.size)) for t in args.tasks}
    except (FileNotFoundError, NotADirectoryError, BabiFormatError) as exc:
        raise UsageError(str(exc)) from None
    start, cpu_start, rows = time.perf_counter(), time.process_time(), {}
    for t, (train_stories, test_stories) in stories.items():
        memlib.setup(args.seed)
        data = recipe.prepare(train_stories, test_stories)
        config = dict(recipe.BABI_PRESET, seed=args.seed,
                      **{flag[2:]: value for flag, value, _ in _overrides(args) if value is not None})
        model, r = recipe.train(config, data, device=args.device)
        rows[t] = {"test_error": round(100 * r["test"]["error"], 1), "train_error": round(100 * r["train"]["error"], 1),
                   "support_accuracy": [round(x, 4) for x in r["test"]["support_accuracy"]],
                   "hops": model.hops, "answer_words": model.answer_words, "epochs": len(r["history"].loss),
                   "seconds": round(r["seconds"], 1)}
        print(f"task {t:2d}: test error {rows[t]['test_error']:5.1f} %  (train {rows[t]['train_error']:.1f} %, "
              f"hops: {model.hops - 1} + STOP, {r['seconds']:.0f} s)", flush=True, file=sys.stderr if args.json else sys.stdout)
    out = table(rows, "MemNN AM+NG+NL", start, cpu_start)
    parts = ["memlib", "memnn", "train", "--data", args.data, "--tasks", tasks_text(args.tasks), "--seed", args.seed]
    for flag, value, default in [("--size", args.size, "1k"), ("--test-data", args.test_data, None),
                                 *_overrides(args), ("--results", args.results, None)]:
        if value != default:
            parts += [flag, value]
    write_results(args.results, out, shlex.join(str(p) for p in parts + (["--json"] if args.json else [])))
    if args.json:
        emit_json(out)
    else:
        print_table(out)
    return 0
