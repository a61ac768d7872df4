"""`memlib …` / `python -m memlib …`: generate data, train, evaluate, reproduce tables.

Each command group lives in its own module with a ``register(subparsers)`` function.
Contracts kept by every command: bad arguments give a one-line error and exit code 2;
``--json`` prints one JSON object as the last line of stdout.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import pathlib
import sys
import time

#: command groups, in the order of the lecture (each module registers its sub-commands)
COMMANDS = ("babi", "lstm", "memnn", "memn2n", "ntm", "course")


class UsageError(Exception):
    """A bad argument value found after parsing (reported as a one-line error, exit code 2)."""


class Parser(argparse.ArgumentParser):
    """argparse with a one-line error instead of the usage dump."""

    def error(self, message):  # noqa: D102 - argparse hook
        self.exit(2, f"{self.prog}: error: {message}\n")


def parse_tasks(text: str, lo: int = 1, hi: int = 20) -> list[int]:
    """Parse a task selection such as ``1-3``, ``1,2,16`` or ``1-3,16`` into sorted ids."""
    tasks: set[int] = set()
    try:
        for part in text.split(","):
            part = part.strip()
            if "-" in part:
                a, b = (int(x) for x in part.split("-", 1))
                if a > b:
                    raise ValueError
                tasks.update(range(a, b + 1))
            else:
                tasks.add(int(part))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"invalid task selection {text!r} (expected e.g. 1-3 or 1,2,16)"
        ) from None
    bad = sorted(t for t in tasks if not lo <= t <= hi)
    if bad:
        raise argparse.ArgumentTypeError(f"no such task {bad[0]} (tasks are {lo}..{hi})")
    return sorted(tasks)


def task_number(text: str) -> int:
    """An argparse type: exactly one task id, e.g. ``2``."""
    tasks = parse_tasks(text)
    if len(tasks) != 1:
        raise argparse.ArgumentTypeError(f"expected one task number 1..20, got {text!r}")
    return tasks[0]


def positive(kind=int):
    """An argparse type: a number of `kind` (int or float) greater than zero."""
    what = "integer" if kind is int else "number"

    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a positive {what}, got {text!r}") from None
        if value <= 0:
            raise argparse.ArgumentTypeError(f"expected a positive {what} (must be > 0), got {text}")
        return value

    parse.__name__ = f"positive {what}"  # argparse names the type in its messages
    return parse


def device(text: str):
    """An argparse type: a torch device that this machine has (``cpu``, ``cuda``, ``cuda:1``)."""
    import torch  # only when --device is given: `memlib --help` need not import torch

    try:
        value = torch.device(text)
    except RuntimeError:
        raise argparse.ArgumentTypeError(f"invalid device {text!r} (expected e.g. cpu, cuda, cuda:1)") from None
    if value.type == "cuda" and not torch.cuda.is_available():
        raise argparse.ArgumentTypeError(f"device {text!r}: no CUDA GPU on this machine")
    return value


def add_run_flags(parser, func, verb: str = "train") -> None:
    """The last flags of every train and evaluate command: --device (default `memlib.device()`), --json."""
    parser.add_argument("--device", type=device, default=None,
                        help=f"where to {verb}: cpu, cuda, cuda:1 … (default: a GPU when present)")
    parser.add_argument("--json", action="store_true", help="print one JSON object as the last line")
    parser.set_defaults(func=func)


def command_group(subparsers, name: str, help: str):
    """The group ``memlib NAME …``; returns the sub-parsers its commands are added to."""
    group = subparsers.add_parser(name, help=help)
    sub = group.add_subparsers(dest="command", metavar="COMMAND", parser_class=type(group))
    sub.required = True
    return sub


def add_babi_data(parser) -> None:
    """The data flags of a command that trains on bAbI files: --data, --size, --test-data."""
    parser.add_argument("--data", required=True,
                        help="folder of qa*_train.txt/qa*_test.txt files (or an unpacked archive)")
    parser.add_argument("--size", choices=("1k", "10k"), default="1k", help="training set size (default 1k)")
    parser.add_argument("--test-data", help="evaluate on this folder's test files instead of --data's")


def emit_json(obj) -> None:
    """Print `obj` as one JSON object on the last line of stdout."""
    sys.stdout.flush()
    print(json.dumps(obj, sort_keys=False))


# --- the table every --tasks command prints (memn2n, memnn, lstm train): test error in % per task,
# the mean, and the failed tasks (error > 5 %, Sukhbaatar et al. 2015, Table 1)


def tasks_text(tasks) -> str:
    """Task ids as a --tasks argument: [1, 2, 3, 16] → ``1-3,16``."""
    runs, start = [], None
    tasks = sorted(tasks)
    for i, t in enumerate(tasks):
        start = t if start is None else start
        if i + 1 == len(tasks) or tasks[i + 1] != t + 1:
            runs.append(str(start) if start == t else f"{start}-{t}")
            start = None
    return ",".join(runs)


def table(rows: dict, model: str, start: float, cpu_start: float) -> dict:
    """The --json object of a --tasks run: ``{"tasks": {"1": {"test_error": …}, …}, "mean_error", "failed", …}``.

    test_error in %; failed: tasks above 5 % (Sukhbaatar et al. 2015, Table 1, "err. > 5%").
    """
    errors = [r["test_error"] for r in rows.values()]
    return {"tasks": {str(t): rows[t] for t in sorted(rows)}, "mean_error": round(sum(errors) / len(errors), 2),
            "failed": sum(e > 5.0 for e in errors), "seconds": round(time.perf_counter() - start, 1),
            "cpu_seconds": round(time.process_time() - cpu_start, 1), "loadavg": round(os.getloadavg()[0], 2),
            "model": model}


def print_table(out: dict) -> None:
    print("\n| task | test error (%) | failed (> 5 %) |\n|---:|---:|:---:|")
    for t, r in out["tasks"].items():
        print(f"| {t} | {r['test_error']:.1f} | {'yes' if r['test_error'] > 5.0 else ''} |")
    print(f"\n{out['model']}: mean test error {out['mean_error']:.1f} %, failed tasks {out['failed']} of "
          f"{len(out['tasks'])}, {out['seconds']:.0f} s (load average {out['loadavg']:.1f})")


def check_results(path) -> None:
    if path is not None and not str(path).endswith(".json"):
        raise UsageError(f"--results must name a .json file, got {path!r}")


def write_results(path, out: dict, command: str) -> None:
    """Write the --json object with the command that made it to `path` (nothing if None)."""
    if path is not None:
        path = pathlib.Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps({"command": command, **out}, indent=1) + "\n")


def build_parser() -> Parser:
    parser = Parser(prog="memlib", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="group", metavar="COMMAND", parser_class=Parser)
    sub.required = True
    for name in COMMANDS:
        importlib.import_module(f"memlib.cli.{name}").register(sub)
    return parser


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except UsageError as exc:
        print(f"memlib: error: {exc}", file=sys.stderr)
        return 2
    except (FileNotFoundError, ValueError) as exc:
        from memlib.checkpoints import CheckpointError

        if isinstance(exc, ValueError) and not isinstance(exc, CheckpointError):
            raise
        print(f"memlib: error: {exc}", file=sys.stderr)  # a checkpoint that cannot be loaded
        return 2
    except KeyboardInterrupt:
        print("memlib: interrupted", file=sys.stderr)
        return 130
