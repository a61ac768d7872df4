"""`memlib ntm train|evaluate`: train an NTM (or its LSTM baseline) on an algorithmic task,
and test a checkpoint on longer sequences than it was trained on."""

from __future__ import annotations

import argparse
import os
import shlex

from memlib.cli import UsageError, add_run_flags, emit_json, positive

CONTROLLERS = ("lstm", "ff")
MODELS = ("ntm", "lstm")
DEFAULT_LENGTHS = {"copy": "10,20,40,80", "repeat-copy": "10,15,20",
                   "associative-recall": "6,10,15", "priority-sort": "20"}


def _lengths(text):
    try:
        vals = [int(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"invalid lengths {text!r} (expected e.g. 10,20,40,80)") from None
    if not vals or min(vals) < 1:
        raise argparse.ArgumentTypeError(f"invalid lengths {text!r} (expected positive integers)")
    return vals


def _fraction(text):
    try:
        val = float(text)
    except ValueError:
        val = -1.0
    if not 0 <= val < 1:
        raise argparse.ArgumentTypeError(f"invalid fraction {text!r} (expected 0 <= ETA < 1)")
    return val


#: the names of memlib.algorithmic.TASKS, spelled out so that `memlib --help` need not import torch
TASK_NAMES = ("copy", "repeat-copy", "associative-recall", "priority-sort")


def register(subparsers) -> None:
    p = subparsers.add_parser("ntm", help="Neural Turing Machine: train, evaluate")
    sub = p.add_subparsers(dest="ntm_command", metavar="SUBCOMMAND", parser_class=type(p))
    sub.required = True

    t = sub.add_parser("train", help="train until < 0.1 held-out bit errors per sequence")
    t.add_argument("--task", required=True, choices=TASK_NAMES)
    t.add_argument("--model", choices=MODELS, default="ntm")
    t.add_argument("--controller", choices=CONTROLLERS, default="lstm",
                   help="the NTM's controller: lstm (default) or ff, feed-forward (Graves et al. 2014, §3.3)")
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--max-seconds", type=positive(float), default=600.0)
    t.add_argument("--sequences", type=positive(int), default=None,
                   help="training budget in sequences (default: the task's preset)")
    t.add_argument("--slip", type=_fraction, default=None, metavar="ETA",
                   help="NTM only: fraction of each head's weighting that slips one slot per "
                        "training step (default: the task's preset; 0 turns it off)")
    t.add_argument("--no-stop", action="store_true",
                   help="train for the whole budget even after convergence")
    t.add_argument("--out", default=None, help="write a checkpoint here")
    add_run_flags(t, _train)

    e = sub.add_parser("evaluate", help="bit errors and bits/seq at several test lengths")
    e.add_argument("--checkpoint", required=True)
    e.add_argument("--lengths", type=_lengths, default=None,
                   help="comma-separated test sizes (copy: lengths; associative recall: items)")
    e.add_argument("--sequences", type=positive(int), default=320)
    add_run_flags(e, _evaluate, "evaluate")


def command_line(args) -> str:
    """The `memlib ntm train …` command that repeats this run (stored in the checkpoint)."""
    parts = ["memlib", "ntm", "train", "--task", args.task, "--model", args.model]
    if args.model == "ntm":
        parts += ["--controller", args.controller]
    parts += ["--seed", str(args.seed)]
    if args.slip is not None:
        parts += ["--slip", f"{args.slip:g}"]
    if args.sequences:
        parts += ["--sequences", str(args.sequences)]
    parts += ["--max-seconds", f"{args.max_seconds:g}"]
    if args.no_stop:
        parts.append("--no-stop")
    if args.out:
        parts += ["--out", args.out]
    return shlex.join(parts)


def _train(args) -> int:
    import memlib
    from memlib import checkpoints
    from memlib.recipes.ntm import config_dict, preset, summary, to_checkpoint, train

    if args.out and not args.out.endswith(".pt"):
        raise UsageError(f"--out must name a .pt file, got {args.out!r}")
    if args.slip is not None and args.model != "ntm":
        raise UsageError("--slip applies to --model ntm only")
    if args.controller != "lstm" and args.model != "ntm":
        raise UsageError("--controller applies to --model ntm only (the LSTM baseline has no controller)")
    memlib.setup(args.seed)
    cfg = preset(args.task, args.model, controller=args.controller, seed=args.seed,
                 max_seconds=args.max_seconds, sequences=args.sequences,
                 stop_at_convergence=not args.no_stop, slip=args.slip)

    def progress(point):
        if not args.json:
            print(f"  {point['sequences']:>7} sequences  bit errors/seq {point['bit_errors']:7.2f}", flush=True)

    model, res = train(cfg, progress=progress, device=args.device)
    info = summary(cfg, res)
    info["loadavg"] = [round(x, 2) for x in os.getloadavg()]  # the 1/5/15-minute load: seconds vary with it
    if not args.json:
        print(f"{cfg.model} on {cfg.task}: {res.sequences} sequences in {res.seconds:.1f} s "
              f"(load avg {info['loadavg'][0]:.2f}); converged at "
              f"{res.converged_at if res.converged_at else 'not yet'}; held-out "
              f"{res.heldout['bit_errors']:.3f} bit errors/seq, "
              f"{res.heldout['bits_per_seq']:.3f} bits/seq")
    if args.out:
        meta = {"command": command_line(args), "train": config_dict(cfg), **info,
                "curve": res.curve, "events": res.events}
        checkpoints.save(args.out, *to_checkpoint(model), meta)
        info["checkpoint"] = os.fspath(args.out)
    if args.json:
        emit_json(info)
    return 0


def _evaluate(args) -> int:
    import memlib
    from memlib import algorithmic as alg
    from memlib.checkpoints import load_model
    from memlib.models.baselines import SequenceLSTM
    from memlib.models.ntm import NTM
    from memlib.recipes.ntm import evaluate, model_config

    memlib.setup(0)
    try:
        model, meta = load_model(args.checkpoint, device=args.device or memlib.device())
    except (FileNotFoundError, ValueError) as exc:
        raise UsageError(str(exc)) from None
    if not isinstance(model, (NTM, SequenceLSTM)):
        raise UsageError(f"{args.checkpoint}: not a model of the algorithmic tasks (an NTM or its LSTM "
                         "baseline); evaluate it with the command of its own model family")
    task = alg.get_task(meta.get("task", "copy"))
    lengths = args.lengths or _lengths(DEFAULT_LENGTHS[task.name])
    rows = []
    for n in lengths:
        r = evaluate(model, task, args.sequences, **{task.size_kw: n})
        rows.append({task.size_kw: n, **{k: round(v, 4) for k, v in r.items()}})
    if not args.json:
        print(f"{model_config(model)['model']} on {task.name} ({args.sequences} sequences per size)")
        print(f"{task.size_kw:>8} {'bit errors':>11} {'median':>7} {'bits/seq':>9} {'perfect':>8}")
        for r in rows:
            print(f"{r[task.size_kw]:>8} {r['bit_errors']:>11.3f} {r['median_bit_errors']:>7.1f} "
                  f"{r['bits_per_seq']:>9.2f} {100 * r['perfect']:>7.1f}%")
    else:
        emit_json({"checkpoint": os.fspath(args.checkpoint), "task": task.name, "results": rows})
    return 0
