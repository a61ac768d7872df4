"""`memlib lstm train|distance`: the LSTM baseline of the lecture's tables (bAbI paper, Table 3).

``memlib lstm train --cell rnn`` trains the plain RNN of Memory Networks' Table 3 (Weston, Chopra &
Bordes 2015) instead; the bAbI paper has no RNN column, so its published numbers are null.
"""

from __future__ import annotations

import os
import pathlib
import shlex
import sys

from memlib.cli import UsageError, add_run_flags, emit_json, parse_tasks, positive, task_number


def register(subparsers) -> None:
    p = subparsers.add_parser("lstm", help="LSTM question-answering baseline: train on bAbI, distance curve")
    sub = p.add_subparsers(dest="lstm_command", metavar="COMMAND", parser_class=type(p))
    sub.required = True

    t = sub.add_parser("train", help="train on one bAbI task (or one LSTM per task of --tasks); print accuracies")
    t.add_argument("--data", required=True, type=pathlib.Path,
                   help="a folder of qa*_train.txt/qa*_test.txt files or an unpacked bAbI archive")
    which = t.add_mutually_exclusive_group(required=True)
    which.add_argument("--task", type=task_number, help="task number 1..20")
    which.add_argument("--tasks", type=parse_tasks,
                       help="one LSTM per task, e.g. 1-20: the test-error table of `memlib memn2n train`")
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--cell", choices=("lstm", "rnn"), default="lstm",
                   help="the recurrent cell: lstm (default) or rnn, a plain tanh (Elman) RNN")
    t.add_argument("--size", choices=("1k", "10k"), default="1k", help="training set size (default 1k)")
    t.add_argument("--test-data", type=pathlib.Path, default=None,
                   help="evaluate on this folder's test file instead (e.g. train on generated data, "
                        "test on the official set)")
    t.add_argument("--epochs", type=positive(int), default=None, help="training epochs (default: preset)")
    t.add_argument("--out", default=None, help="write a checkpoint (.pt) here (--task only)")
    t.add_argument("--results", default=None, metavar="FILE",
                   help="--tasks only: also write the JSON summary and this command to FILE (.json)")
    add_run_flags(t, _train)

    d = sub.add_parser("distance", help="train on stories whose supporting fact sits 0..N-1 statements "
                                        "back; print accuracy per distance")
    d.add_argument("--seed", type=int, default=0)
    d.add_argument("--stories", type=positive(int), default=None, help="training stories (default: preset)")
    d.add_argument("--epochs", type=positive(int), default=None, help="training epochs (default: preset)")
    d.add_argument("--out", default=None, help="write a checkpoint (.pt) here")
    add_run_flags(d, _distance)


def _command(args, *parts) -> str:
    """The `memlib lstm …` command line that repeats this run (stored in a checkpoint)."""
    words = ["memlib", "lstm", *parts]
    if getattr(args, "cell", "lstm") != "lstm":
        words += ["--cell", args.cell]
    for flag in ("seed", "stories", "epochs", "out"):
        value = getattr(args, flag, None)
        if value is not None:
            words += [f"--{flag}", str(value)]
    return shlex.join(words)


def _published(cell: str, task: int):
    """The model's name and its published test accuracy (%) on `task`: bAbI paper, Table 3 (None for the RNN)."""
    from memlib.recipes.lstm import BABI_LSTM_ACCURACY

    return (cell.upper(), BABI_LSTM_ACCURACY[task] if cell == "lstm" else None)


def _check_out(args) -> None:
    if args.out is not None and not args.out.endswith(".pt"):
        raise UsageError(f"--out must name a .pt file, got {args.out!r}")


def _train(args) -> int:
    if args.tasks is not None:
        return _train_tasks(args)
    if args.results is not None:
        raise UsageError("--results goes with --tasks (one LSTM per task)")
    import memlib
    from memlib import checkpoints
    from memlib.babi.format import BabiFormatError, load_task
    from memlib.babi.tasks import SLUGS
    from memlib.recipes.lstm import TRAIN_PRESET, to_checkpoint, train

    _check_out(args)
    memlib.setup(args.seed)
    test_root = args.test_data or args.data
    try:
        train_stories = load_task(args.data, args.task, "train", args.size)
        test = load_task(test_root, args.task, "test", "1k")
    except (FileNotFoundError, NotADirectoryError, BabiFormatError) as exc:
        raise UsageError(str(exc)) from None
    options = dict(TRAIN_PRESET, **({"epochs": args.epochs} if args.epochs else {}))
    model, r = train(dict(options, seed=args.seed, cell=args.cell), (train_stories, test), progress=not args.json,
                     device=args.device)
    name, published = _published(args.cell, args.task)
    load = os.getloadavg()[0]
    info = {"task": args.task, "slug": SLUGS[args.task], "seed": args.seed, "size": args.size,
            "data": os.fspath(args.data), "test_data": os.fspath(test_root),
            "train_questions": sum(len(s.questions) for s in train_stories),
            "test_questions": sum(len(s.questions) for s in test),
            "train_accuracy": round(r["train"]["accuracy"], 4), "test_accuracy": round(r["test"]["accuracy"], 4),
            "published_accuracy": None if published is None else published / 100, "epochs": options["epochs"],
            "seconds": round(r["seconds"], 2), "loadavg": round(load, 2)}
    if not args.json:
        print(f"{name} on task {args.task} ({SLUGS[args.task]}): train accuracy {100 * r['train']['accuracy']:.1f} %, "
              f"test accuracy {100 * r['test']['accuracy']:.1f} % "
              + (f"(published, bAbI paper Table 3: {published} %)" if published is not None
                 else "(the bAbI paper, Table 3, has no RNN column)"))
        print(f"{info['train_questions']} training / {info['test_questions']} test questions; "
              f"{r['seconds']:.1f} seconds (load avg {load:.2f})")
    if args.out:
        meta = {"command": _command(args, "train", "--data", os.fspath(args.data), "--task", str(args.task)),
                "vocab": r["vocab"].words, "answers": r["answers"], "cell": args.cell,
                "memory_size": options["memory_size"], **{k: v for k, v in info.items() if k not in ("data", "test_data")}}
        checkpoints.save(args.out, *to_checkpoint(model), meta)
        info["checkpoint"] = args.out
    if args.json:
        emit_json(info)
    return 0


def _train_tasks(args) -> int:
    """One LSTM per task of --tasks: the table of `memlib memn2n train`, test error in % per task."""
    import time

    import memlib
    from memlib.babi.format import BabiFormatError, load_task
    from memlib.cli import check_results, print_table, table, tasks_text, write_results
    from memlib.recipes.lstm import TRAIN_PRESET, train

    if args.out is not None:
        raise UsageError("--out saves one task's model: use it with --task")
    check_results(args.results)
    options = dict(TRAIN_PRESET, **({"epochs": args.epochs} if args.epochs else {}))
    try:
        data = {t: (load_task(args.data, t, "train", args.size), load_task(args.test_data or args.data, t, "test", "1k"))
                for t in args.tasks}
    except (FileNotFoundError, NotADirectoryError, BabiFormatError) as exc:
        raise UsageError(str(exc)) from None
    start, cpu_start, rows = time.perf_counter(), time.process_time(), {}
    for t, stories in data.items():
        memlib.setup(args.seed)
        _, r = train(dict(options, seed=args.seed, cell=args.cell), stories, device=args.device)
        name, published = _published(args.cell, t)
        rows[t] = {"test_error": round(100 * r["test"]["error"], 1), "train_error": round(100 * r["train"]["error"], 1),
                   "published_error": None if published is None else 100 - published, "seconds": round(r["seconds"], 1)}
        print(f"task {t:2d}: test error {rows[t]['test_error']:5.1f} % "
              + (f"(published {rows[t]['published_error']} %, bAbI paper Table 3)" if published is not None
                 else "(no published RNN number)")
              + f", {r['seconds']:.0f} s", flush=True, file=sys.stderr if args.json else sys.stdout)
    out = table(rows, name, start, cpu_start)
    command = shlex.join(["memlib", "lstm", "train", "--data", os.fspath(args.data), "--tasks", tasks_text(args.tasks),
                          "--seed", str(args.seed)]
                         + (["--cell", args.cell] if args.cell != "lstm" else [])
                         + (["--size", args.size] if args.size != "1k" else [])
                         + (["--test-data", os.fspath(args.test_data)] if args.test_data else [])
                         + (["--epochs", str(args.epochs)] if args.epochs else [])
                         + (["--results", args.results] if args.results else []) + (["--json"] if args.json else []))
    write_results(args.results, out, command)
    if args.json:
        emit_json(out)
    else:
        print_table(out)
    return 0


def _distance(args) -> int:
    import memlib
    from memlib import checkpoints
    from memlib.recipes.lstm import to_checkpoint, train_distance

    _check_out(args)
    memlib.setup(args.seed)
    options = {k: v for k, v in (("stories", args.stories), ("epochs", args.epochs)) if v is not None}
    models, r = train_distance(dict(options, seed=args.seed), progress=not args.json, device=args.device)
    load = os.getloadavg()[0]
    info = {k: v for k, v in r.items() if k not in ("vocab", "answers")}
    info["loadavg"] = round(load, 2)
    if not args.json:
        print(f"One LSTM per distance, {info['stories']} stories of {info['length']} statements each: "
              f"{r['seconds']:.1f} seconds (load avg {load:.2f})")
        print("distance       " + " ".join(f"{d:>5}" for d in models))
        print("test accuracy  " + " ".join(f"{a:5.2f}" for a in info["per_distance"]))
    if args.out:
        meta = {"command": _command(args, "distance"), "vocab": r["vocab"].words, "answers": r["answers"], **info}
        checkpoints.save(args.out, *to_checkpoint(models), meta)
        info["checkpoint"] = args.out
    if args.json:
        emit_json(info)
    return 0
