"""`memlib course …`: student and lecture copies of the notebooks, and the exercise list."""

from __future__ import annotations

import pathlib

from memlib.cli import UsageError, emit_json


def register(sub) -> None:
    course = sub.add_parser("course", help="teaching: student notebooks, lecture copies, exercises")
    cmds = course.add_subparsers(dest="command", metavar="COMMAND", parser_class=type(course))
    cmds.required = True

    for kind, name, default, what in (
        ("student", "student-notebooks", "student", "student copies: solutions become NotImplementedError stubs"),
        ("lecture", "lecture", "lecture", "lecture copies: demo cells only, fast budget, large fonts"),
    ):
        p = cmds.add_parser(name, help=what)
        p.add_argument("--src", type=pathlib.Path, default=pathlib.Path("notebooks"),
                       help="the instructor notebooks (default: notebooks)")
        p.add_argument("--out", type=pathlib.Path, default=pathlib.Path(default),
                       help=f"where the copies go (default: {default})")
        p.add_argument("--check", action="store_true",
                       help="write nothing; exit 1 if the copies in --out are missing or out of date")
        p.add_argument("--json", action="store_true", help="print one JSON object as the last line")
        p.set_defaults(func=cmd_generate, kind=kind, name=name)

    p = cmds.add_parser("exercises", help="list the registered exercises and the notebooks that use them")
    p.add_argument("--src", type=pathlib.Path, default=pathlib.Path("notebooks"))
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_exercises)


def cmd_generate(args) -> int:
    from memlib import course

    if not args.src.is_dir():
        raise UsageError(f"no notebook folder {args.src} (run from the repository root or pass --src)")
    notebooks = course.sources(args.src)
    try:
        if args.check:
            problems = course.stale(args.kind, args.src, args.out)
            for line in problems:
                print(f"stale: {line}")
            if problems:
                print(f"{len(problems)} {args.kind} cop{'y is' if len(problems) == 1 else 'ies are'} stale; "
                      f"regenerate with: memlib course {args.name} --out {args.out}")
            else:
                print(f"{args.kind} copies in {args.out} are up to date ({len(notebooks)} notebooks)")
            if args.json:
                emit_json({"kind": args.kind, "out": str(args.out), "notebooks": [p.name for p in notebooks],
                           "up_to_date": not problems, "stale": problems})
            return 1 if problems else 0
        written = course.generate(args.kind, args.src, args.out)
    except course.NotebookError as exc:
        raise UsageError(str(exc)) from None
    for path in written:
        print(f"wrote {path}")
    print(f"{len(written)} {args.kind} notebooks in {args.out}")
    if args.json:
        emit_json({"kind": args.kind, "out": str(args.out), "written": [str(p) for p in written]})
    return 0


def cmd_exercises(args) -> int:
    import nbformat

    from memlib import course, exercises

    used: dict[str, list[str]] = {}
    for path in course.sources(args.src) if args.src.is_dir() else []:
        nb = nbformat.read(path, as_version=4)
        for cell in nb.cells:
            if cell.cell_type == "code":
                for ex_id in course.exercise_ids(cell.source):
                    used.setdefault(ex_id, []).append(path.name)
    registered = exercises.all_exercises()
    rows = []
    for ex_id in sorted(set(registered) | set(used)):
        kind = ("function" if registered[ex_id].function is not None else
                "judge" if registered[ex_id].judge is not None else "value") if ex_id in registered else "-"
        where = ", ".join(sorted(set(used.get(ex_id, [])))) or "-"
        status = "ok" if ex_id in registered else "NOT REGISTERED"
        rows.append({"id": ex_id, "kind": kind, "notebooks": where, "status": status})
        print(f"{ex_id:24s} {kind:9s} {where:40s} {status}")
    missing = [r["id"] for r in rows if r["status"] != "ok"]
    if args.json:
        emit_json({"exercises": rows, "unregistered": missing})
    return 1 if missing else 0
