"""`memlib memn2n train`: End-To-End Memory Networks on the bAbI tasks, per task or jointly."""

from __future__ import annotations

import shlex
import sys
import time

from memlib.cli import (
    UsageError,
    add_babi_data,
    add_run_flags,
    command_group,
    emit_json,
    parse_tasks,
    positive,
    print_table,
    table,
    tasks_text,
)


def register(subparsers) -> None:
    sub = command_group(subparsers, "memn2n", "End-To-End Memory Networks (Sukhbaatar et al. 2015)")
    p = sub.add_parser("train", help="train per task (or jointly) and print the test-error table")
    add_babi_data(p)
    p.add_argument("--tasks", type=parse_tasks, default=parse_tasks("1-20"), help="e.g. 1-20, 1-3,16 (default 1-20)")
    p.add_argument("--hops", type=positive(int), default=3, help="K, the number of hops (default 3)")
    p.add_argument("--joint", action="store_true", help="one model for all tasks (d=50, 60 epochs, as the paper)")
    p.add_argument("--restarts", type=positive(int), help="random restarts, of which one is kept (default: the recipe's)")
    p.add_argument("--paper", action="store_true",
                   help="the paper's recipe (Sukhbaatar et al. 2015, §4.2): 10 restarts, keep the lowest training "
                        "error, the weights of the last epoch; other flags still apply on top")
    p.add_argument("--select", choices=("train", "valid"),
                   help="keep the restart with the lowest training error (the paper) or validation error")
    p.add_argument("--keep", choices=("last", "best_valid"),
                   help="each restart's weights after the last epoch (the paper) or at its best validation epoch")
    p.add_argument("--holdout", choices=("random", "last"),
                   help="the 10 %% held out for validation: random questions (default) or each task's last ones, "
                        "whole stories, as the authors' code")
    p.add_argument("--grad-noise", type=float, help="variance η of Gaussian gradient noise, η/(1+t)^0.55 (0: none)")
    p.add_argument("--relu", action="store_true", help="a ReLU on u after each hop (the paper's 10k model, App. A)")
    p.add_argument("--encoding", choices=("pe", "bow"), default="pe", help="position encoding or bag of words (pe)")
    p.add_argument("--pe-variant", choices=("matlab", "paper"), default="matlab",
                   help="PE formula: the authors' code (matlab, default) or as printed in the paper")
    p.add_argument("--no-ls", dest="ls", action="store_false", help="no linear start")
    p.add_argument("--no-rn", dest="rn", action="store_false", help="no random noise (empty memories) in training")
    p.add_argument("--no-te", dest="te", action="store_false", help="no temporal encoding")
    p.add_argument("--masked-empty", dest="null", action="store_false",
                   help="mask the empty memory slots out of the softmax (default: they score 0, as the authors' code)")
    p.add_argument("--tying", choices=("adjacent", "layerwise"), default="adjacent", help="weight tying (adjacent)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument("--epochs", type=positive(int), help="epochs (default 100 per task, 60 joint)")
    p.add_argument("--dim", type=positive(int), help="embedding dimension d (default 20 per task, 50 joint)")
    p.add_argument("--decay-every", type=positive(int),
                   help="halve the learning rate every N epochs (default 25 per task, 15 joint; 5 with --size 10k)")
    p.add_argument("--batch-size", type=positive(int), default=32, help="batch size (default 32)")
    p.add_argument("--also", metavar="FLAGS", action="append", default=[],
                   help="one more configuration, given as flags on top of this command's (e.g. --also "
                        "'--joint --restarts 10', or --also=--joint for a single flag); repeatable. Every "
                        "configuration trains, and each task keeps the restart with the lowest validation error "
                        "among all of them (the same held-out questions)")
    p.add_argument("--save", metavar="FILE", help="write the kept model(s) to one checkpoint (.pt) with the command")
    add_run_flags(p, train)
    p.set_defaults(parser=p)


#: flags an --also configuration may not change: every configuration trains on the same data and split
SHARED = ("--data", "--size", "--test-data", "--tasks", "--seed", "--holdout", "--also", "--save", "--json",
          "--device")


def command(args, extras: bool = True) -> str:
    """The `memlib memn2n train …` command that recreates this run (without --also and --save if not `extras`)."""
    parts = ["memlib", "memn2n", "train", "--data", args.data, "--tasks", tasks_text(args.tasks),
             "--hops", args.hops, "--encoding", args.encoding, "--tying", args.tying, "--seed", args.seed]
    for flag, on in (("--joint", args.joint), ("--paper", args.paper), ("--relu", args.relu)):
        if on:
            parts.append(flag)
    for flag, on in (("--no-ls", args.ls), ("--no-rn", args.rn), ("--no-te", args.te), ("--masked-empty", args.null)):
        if not on:
            parts.append(flag)
    for flag, value, default in ([("--pe-variant", args.pe_variant, "matlab"), ("--size", args.size, "1k"),
                                 ("--test-data", args.test_data, None), ("--epochs", args.epochs, None),
                                 ("--dim", args.dim, None), ("--batch-size", args.batch_size, 32),
                                 ("--restarts", args.restarts, None), ("--select", args.select, None),
                                 ("--keep", args.keep, None), ("--grad-noise", args.grad_noise, None),
                                 ("--holdout", args.holdout, None),
                                 ("--decay-every", args.decay_every, None)]
                                 + [("--also", also, None) for also in (args.also if extras else [])]
                                 + [("--save", args.save if extras else None, None)]):
        if value != default:
            parts += [flag, value]
    return " ".join(shlex.quote(str(p)) for p in parts)


def train(args) -> int:
    import torch

    import memlib
    from memlib import checkpoints
    from memlib.babi.format import BabiFormatError
    from memlib.recipes.memn2n import to_checkpoint

    memlib.setup(args.seed)
    settings = _settings(args)
    variants = _variants(args) if args.also else None
    start, cpu_start = time.perf_counter(), time.process_time()
    try:
        if variants:
            results, models = _run_chosen(args, variants, show=not args.json)
        else:
            results, models = _run(args, settings, show=not args.json)
    except (BabiFormatError, KeyError) as exc:
        raise UsageError(str(exc)) from None
    label = _label(args) if not variants else \
        " | ".join(variants) + ": per task, the restart of lowest validation error among all"
    out = table(results, label, start, cpu_start)
    if variants:  # each configuration alone, as it would keep its own restart
        own = {name: {t: r["own"][name] for t, r in results.items()} for name in variants}
        out["configurations"] = {name: {"mean_error": round(sum(e.values()) / len(e), 2),
                                        "failed": sum(v > 5.0 for v in e.values())} for name, e in own.items()}
    if not args.json:
        print_table(out)
    if args.save:
        checkpoints.save(args.save, *to_checkpoint(models), {**out, "command": command(args),
                                                             "torch": str(torch.__version__)})
        out["saved"] = str(args.save)
    if args.json:
        emit_json(out)
    return 0


def _label(args) -> str:
    """The model's name in the table, e.g. ``MemN2N 3 hops PE LS RN joint``."""
    return f"MemN2N {args.hops} hop{'s' if args.hops > 1 else ''} {args.encoding.upper()}" + \
        "".join(f" {n}" for n, on in (("LS", args.ls), ("LW", args.tying == "layerwise"), ("RN", args.rn)) if on) + \
        (" ReLU" if args.relu else "") + (" joint" if args.joint else "") + (" (paper recipe)" if args.paper else "")


def _variants(args) -> dict:
    """``{label: recipe settings}`` of this command and of each --also configuration (flags on top of it)."""
    base = shlex.split(command(args, extras=False))[3:]
    parsed = [args]
    for also in args.also:
        try:
            flags = shlex.split(also)
        except ValueError as exc:
            raise UsageError(f"--also {also!r}: {exc}") from None
        shared = [f for f in flags if f.split("=")[0] in SHARED]
        if shared:
            raise UsageError(f"--also {also!r}: {shared[0]} is shared by every configuration; give it once, "
                             f"outside --also")
        parsed.append(args.parser.parse_args(base + flags))
    variants = {}
    for a in parsed:
        settings = _settings(a)
        if settings.get("select", "valid") != "valid":
            raise UsageError("--also keeps the restart of lowest validation error across configurations: "
                             "drop --paper and --select train (use --restarts 10 for the paper's number)")
        name = _label(a) + (f" d={a.dim}" if a.dim else "") + (f" {a.epochs} epochs" if a.epochs else "")
        if name in variants:
            raise UsageError(f"--also repeats a configuration: {name}")
        variants[name] = {**settings, "joint": a.joint}
    return variants


def _run_chosen(args, variants: dict, show: bool) -> tuple[dict, dict]:
    """Train every configuration and keep one restart per task among all (`recipes.memn2n.run_chosen`)."""
    from memlib.recipes.memn2n import failed, run_chosen

    shared = ("device", "size", "test_root")
    first = next(iter(variants.values()))
    configs = {name: {k: v for k, v in s.items() if k not in shared} for name, s in variants.items()}

    def report(task, r):
        mark = "FAIL" if failed({task: r["test_error"]}) else "ok"
        own = ", ".join(f"{name}: {100 * e:.1f}" for name, e in r["own"].items())
        print(f"task {task:2d}: test error {100 * r['test_error']:5.1f} %  {mark:4s}  (kept: {r['chosen']}, "
              f"restart {r['restart']}, validation {100 * r['valid_error']:.1f} %; each alone: {own})", flush=True,
              file=sys.stdout if show else sys.stderr)

    chosen = run_chosen(args.data, args.tasks, configs, size=first["size"], test_root=first["test_root"],
                        device=first["device"], report=report)
    results = {task: {"test_error": round(100 * r["test_error"], 1), "train_error": round(100 * r["train_error"], 1),
                      "valid_error": round(100 * r["valid_error"], 1), "chosen": r["chosen"], "restart": r["restart"],
                      "own": {name: round(100 * e, 1) for name, e in r["own"].items()}}
               for task, r in chosen.items()}
    return results, {str(task): r["model"] for task, r in chosen.items()}


def _settings(args) -> dict:
    """The recipe's options from the flags, after checking the data folders."""
    from memlib.babi.format import find_task_folder, task_files

    try:
        files = task_files(find_task_folder(args.data, args.size))
        test_files = task_files(find_task_folder(args.test_data, args.size)) if args.test_data else files
    except (FileNotFoundError, NotADirectoryError, ValueError) as exc:
        raise UsageError(str(exc)) from None
    missing = [t for t in args.tasks if (t, "train") not in files or (t, "test") not in test_files]
    if missing:
        raise UsageError(f"no train/test files for task(s) {tasks_text(missing)} in {args.data} "
                         f"(generate them with `memlib babi generate`)")
    from memlib.recipes.memn2n import PAPER

    settings = dict(PAPER) if args.paper else {}
    settings.update(hops=args.hops, encoding=args.encoding, pe_variant=args.pe_variant, temporal=args.te,
                    tying=args.tying, linear_start=args.ls, random_noise=args.rn, batch_size=args.batch_size,
                    seed=args.seed, null_memories=args.null, device=args.device, size=args.size,
                    test_root=args.test_data)
    for key, value in (("restarts", args.restarts), ("select", args.select), ("keep", args.keep),
                       ("holdout", args.holdout),
                       ("grad_noise", args.grad_noise), ("epochs", args.epochs), ("d", args.dim),
                       ("decay_every", args.decay_every)):
        if value is not None:
            settings[key] = value
    if args.relu:
        settings["relu"] = True
    return settings


def _run(args, settings: dict, show: bool) -> tuple[dict, dict]:
    """Train per task (or jointly) → ``({task: result row}, {name: MemN2N})``; progress lines as it goes."""
    from memlib.recipes.memn2n import failed, run_joint, run_task, task_errors

    results, models = {}, {}
    if args.joint:
        fit, per_task, data = run_joint(args.data, args.tasks, **settings)
        for task, err in per_task.items():  # the kept restart on the task's share of the trained and held-out parts
            t_err, _, v_err, _ = task_errors(fit, data, task)
            results[task] = {"test_error": round(100 * err, 1), "train_error": round(100 * float(t_err[fit.best]), 1),
                             "valid_error": round(100 * float(v_err[fit.best]), 1)}
        models["joint"] = fit.model
        if show:
            print(f"joint model: training error {100 * fit.train_error[fit.best]:.1f} %, "
                  f"kept restart {fit.best} of {len(fit.train_error)}, {fit.seconds:.0f} s")
        return results, models
    for task in args.tasks:
        fit, summary, _ = run_task(args.data, task, **settings)
        results[task] = {"test_error": round(100 * summary["test_error"], 1),
                         "train_error": round(100 * summary["train_error"], 1),
                         "valid_error": round(100 * summary["valid_error"], 1),
                         "seconds": round(summary["seconds"], 1)}
        models[str(task)] = fit.model
        mark = "FAIL" if failed({task: summary["test_error"]}) else "ok"  # as the summary counts: 5.0 % is no failure
        print(f"task {task:2d}: test error {100 * summary['test_error']:5.1f} %  {mark:4s}  "
              f"(train {100 * summary['train_error']:.1f} %, {summary['seconds']:.0f} s)", flush=True,
              file=sys.stdout if show else sys.stderr)  # with --json, progress goes to stderr
    return results, models
