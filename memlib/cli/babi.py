"""`memlib babi …`: generate bAbI data, measure and compare its statistics, validate files."""

from __future__ import annotations

import pathlib
import sys
import time

from memlib.cli import UsageError, emit_json, parse_tasks


def register(sub) -> None:
    babi = sub.add_parser("babi", help="bAbI QA data: generate, stats, check, download")
    cmds = babi.add_subparsers(dest="command", metavar="COMMAND", parser_class=type(babi))
    cmds.required = True

    p = cmds.add_parser("generate", help="write generated tasks in the official layout (en/, en-10k/)")
    p.add_argument("--out", required=True, type=pathlib.Path, help="output folder")
    p.add_argument("--tasks", type=parse_tasks, default=list(range(1, 21)), help="e.g. 1-3 or 1,2,16 (default 1-20)")
    p.add_argument("--size", choices=("1k", "10k"), default="1k", help="training questions per task")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", action="store_true", help="print one JSON object as the last line")
    p.set_defaults(func=cmd_generate)

    p = cmds.add_parser("stats", help="per-task statistics, optionally checked against reference ones")
    p.add_argument("path", type=pathlib.Path, help="a folder of qa*_train/test.txt files or an archive root")
    p.add_argument("--tasks", type=parse_tasks, default=list(range(1, 21)))
    p.add_argument("--size", choices=("1k", "10k"), default="1k")
    p.add_argument("--reference", nargs="?", const="shipped", default=None, metavar="PATH",
                   help="compare with reference statistics: the shipped JSON (no value), a JSON file "
                        "or an official bAbI folder; exit 1 if a check fails")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_stats)

    p = cmds.add_parser("check", help="validate bAbI files (exit 1 naming file and line if one is malformed)")
    p.add_argument("path", type=pathlib.Path, help="a bAbI file, a folder of them or an archive root")
    p.add_argument("--roundtrip", action="store_true", help="also check that writing back reproduces each file byte for byte")
    p.add_argument("--answers", action="store_true", help="also re-derive every answer and support with the task checkers")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_check)

    p = cmds.add_parser("download", help="fetch the official bAbI v1.2 archive into data/babi/ (needs a connection)")
    p.add_argument("--dest", type=pathlib.Path, default=None)
    p.add_argument("--sha256", default=None, help="insist on this SHA-256 of the archive")
    p.set_defaults(func=cmd_download)


def _progress(iterable, total, desc):
    from tqdm.auto import tqdm

    return tqdm(iterable, total=total, desc=desc, file=sys.stderr, leave=False)


def cmd_generate(args) -> int:
    from memlib.babi.generate import generate, generators

    missing = [t for t in args.tasks if t not in generators()]
    if missing:
        raise UsageError(f"no generator for task(s) {missing} yet (available: {sorted(generators())})")
    start = time.perf_counter()
    bar = _progress(None, len(args.tasks), "generating")
    written = generate(args.out, args.tasks, args.size, args.seed, progress=lambda t: bar.update(1))
    bar.close()
    seconds = time.perf_counter() - start
    folders = sorted({str(p) for paths in written.values() for p in paths.values()})
    print(f"wrote tasks {_ranges(args.tasks)} ({args.size}, seed {args.seed}) to {', '.join(folders)} in {seconds:.2f} s")
    if args.json:
        emit_json({"out": str(args.out), "tasks": args.tasks, "size": args.size, "seed": args.seed,
                   "folders": folders, "seconds": round(seconds, 3)})
    return 0


def _ranges(tasks) -> str:
    return ",".join(map(str, tasks)) if len(tasks) < 4 else f"{tasks[0]}-{tasks[-1]}"


def cmd_stats(args) -> int:
    from memlib.babi import stats as S
    from memlib.babi.format import BabiFormatError

    try:
        measured = S.folder_stats(args.path, args.tasks, args.size)
    except (FileNotFoundError, NotADirectoryError) as exc:
        raise UsageError(str(exc)) from None
    except BabiFormatError as exc:
        print(f"memlib: {exc}", file=sys.stderr)
        return 1
    if not measured:
        raise UsageError(f"none of tasks {_ranges(args.tasks)} has both train and test files in {args.path}")
    reference = None
    if args.reference is not None:
        try:
            reference = S.load_reference(None if args.reference == "shipped" else args.reference)
        except (ValueError, FileNotFoundError) as exc:
            raise UsageError(str(exc)) from None
    out, failed = {"tasks": {}}, 0
    for task, m in measured.items():
        print(f"task {task}: {m['stories_train']}+{m['stories_test']} stories, "
              f"{sum(int(k) * v for k, v in m['q_per_story'].items())} questions, vocabulary {m['vocabulary']}, "
              f"statements/story {m['stmts']['min']}/{m['stmts']['median']:g}/{m['stmts']['mean']:g}/{m['stmts']['max']} "
              f"(min/median/mean/max), support sizes {m['support_size']}, answers {m['n_distinct_answers']}")
        entry = {"stats": m}
        if reference is not None and str(task) in reference:
            rows = S.compare(m, reference[str(task)], task)
            for r in rows:
                print(f"    {r['check']:<26} {str(r['value']):>10}  ref {str(r['reference']):>8}  "
                      f"({r['tolerance']})  {'PASS' if r['pass'] else 'FAIL'}")
            failed += sum(not r["pass"] for r in rows)
            entry["checks"] = rows
        out["tasks"][str(task)] = entry
    if reference is not None:
        print(f"{failed} check(s) failed")
        out["failed_checks"] = failed
    if args.json:
        emit_json(out)
    return 1 if failed else 0


def cmd_check(args) -> int:
    from memlib.babi.format import BabiFormatError, format_stories, read_file, task_files

    path = args.path
    if not path.exists():
        raise UsageError(f"no such file or folder: {path}")
    if path.is_file():
        files = [path]
    else:  # a folder of task files, or an archive root with en/ and en-10k/
        folders = [path / sub for sub in ("", "en", "en-10k", "tasks_1-20_v1-2/en", "tasks_1-20_v1-2/en-10k")]
        files = [f for d in folders if d.is_dir() for f in task_files(d).values()]
        if not files:
            raise UsageError(f"no bAbI task files (qa<N>_<slug>_<train|test>.txt) in {path} or its en/, en-10k/")
    problems, questions = [], 0
    for f in _progress(files, len(files), "checking"):
        try:
            stories = read_file(f)
        except BabiFormatError as exc:
            problems.append(str(exc))
            continue
        questions += sum(len(s.questions) for s in stories)
        if args.roundtrip and format_stories(stories).encode("utf-8") != f.read_bytes():
            problems.append(f"{f}: writing the parsed stories back does not reproduce the file byte for byte")
        if args.answers:
            problems.extend(_answer_problems(f, stories))
    for p in problems:
        print(p)
    print(f"{len(files)} file(s), {questions} questions: {'OK' if not problems else f'{len(problems)} problem(s)'}")
    if args.json:
        emit_json({"files": len(files), "questions": questions, "problems": problems, "ok": not problems})
    return 1 if problems else 0


def _answer_problems(path, stories) -> list[str]:
    import re

    from memlib.babi.oracle import checkers, disagreements

    m = re.match(r"qa([0-9]+)_", path.name)
    if not m or int(m.group(1)) not in checkers():
        return []
    return [f"{path}: {p}" for p in disagreements(int(m.group(1)), stories)]


def cmd_download(args) -> int:
    from memlib.babi import download as D

    try:
        root = D.download(args.dest or D.DEST, checksum=args.sha256 or D.SHA256)
    except (ConnectionError, ValueError) as exc:
        print(f"memlib: {exc}", file=sys.stderr)
        return 1
    print(f"official bAbI files unpacked at {root}")
    return 0


