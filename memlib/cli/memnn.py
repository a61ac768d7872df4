"""`memlib memnn train`: train the strongly supervised Memory Network on one bAbI task."""

from __future__ import annotations

import argparse
import os
import shlex
import sys

from memlib.cli import (
    UsageError,
    add_babi_data,
    add_run_flags,
    command_group,
    emit_json,
    positive,
    task_number,
)


def register(subparsers) -> None:
    sub = command_group(subparsers, "memnn", "strongly supervised Memory Network (Weston, Chopra & Bordes 2015)")
    p = sub.add_parser("train", help="train on one bAbI task; print accuracy, supporting-fact accuracy per hop, seconds")
    add_babi_data(p)
    p.add_argument("--task", required=True, type=task_number, help="bAbI task number 1..20")
    p.add_argument("--hops", type=positive(int), default=2, help="k, the number of argmax hops of O (default 2)")
    p.add_argument("--time-features", action=argparse.BooleanOptionalAction, default=True,
                   help="the three 'older than' write-time features of §3.4 (default on)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument("--epochs", type=positive(int), default=30, help="at most this many epochs (default 30)")
    p.add_argument("--dim", type=positive(int), default=100, help="embedding dimension n (default 100)")
    p.add_argument("--lr", type=positive(float), default=0.01, help="SGD learning rate (default 0.01)")
    p.add_argument("--negatives", type=positive(int), default=20, help="sampled negatives per term (default 20)")
    p.add_argument("--save", metavar="FILE", help="write a checkpoint (.pt) with the command and metrics")
    add_run_flags(p, train)


def _command(args) -> str:
    """The `memlib memnn train …` command that recreates this run."""
    parts = ["memlib", "memnn", "train", "--data", args.data, "--task", args.task, "--hops", args.hops,
             "--time-features" if args.time_features else "--no-time-features", "--seed", args.seed]
    if args.test_data:
        parts += ["--test-data", args.test_data]
    for flag, value, default in [("--size", args.size, "1k"), ("--epochs", args.epochs, 30), ("--dim", args.dim, 100),
                                 ("--lr", args.lr, 0.01), ("--negatives", args.negatives, 20)]:
        if value != default:
            parts += [flag, value]
    if args.save:
        parts += ["--save", args.save]
    return " ".join(shlex.quote(str(p)) for p in parts)


def train(args) -> int:
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
    config = dict(dim=args.dim, hops=args.hops, time_features=args.time_features, epochs=args.epochs, lr=args.lr,
                  negatives=args.negatives, seed=args.seed)
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
