"""Per task, the configuration the held-out questions choose, from stored per-task runs.

    PYTHONPATH=. python benchmarks/memn2n_choose.py [--results data/results/memn2n_babi10k.json] [--results …]
        [--tasks 1-20] [--out FILE.md] [--json]

`memlib memn2n train --also …` trains several configurations and keeps, per task, the restart of
lowest validation error among all of them. This script applies the same rule to runs that were
made one task at a time and stored in a results file (a ``{"runs": [{"command", "output"}]}``
file of `memlib memn2n train --json` lines): it groups the runs by their command without
``--tasks``, keeps the configurations that ran every task asked for (the last run of a task
counts), and per task takes the configuration whose kept restart has the lowest validation error,
ties to the lower training error, then to the configuration listed first.

What it cannot do that ``--also`` does: compare every restart (only each run's kept one is
stored) and break the last ties by validation loss (not stored). The comparison is fair only when
the runs held out the same questions: the same data, the same ``--seed`` (the recipe draws the
split first from the seed), one task per run. The errors are stored rounded to 0.1 %; on 10k data
(1,000 held-out questions) that is one question.
"""

from __future__ import annotations

import argparse
import json
import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent))

from memlib.cli import parse_tasks  # noqa: E402
from memlib.recipes.memn2n import choose_stored, stored_configurations  # noqa: E402

# Sukhbaatar et al. 2015, Appendix A, Table 3 (test error %, bAbI 10k, per task)
PAPER_10K = {
    "PE LS RN": [0.0, 0.3, 9.3, 0.0, 0.8, 0.0, 3.7, 0.8, 0.8, 2.4, 0.0, 0.0, 0.0, 0.0, 0.0, 0.4, 40.7, 6.7, 66.5, 0.0],
    "PE LS LW RN*": [0.0, 0.3, 2.1, 0.0, 0.8, 0.1, 2.0, 0.9, 0.3, 0.0, 0.1, 0.0, 0.0, 0.1, 0.0, 51.8, 18.6, 5.3, 2.3, 0.0],
}


def summary(errors: list) -> tuple[float, int]:
    """Mean error and failed tasks (above 5 %)."""
    return round(sum(errors) / len(errors), 2), sum(e > 5.0 for e in errors)


def report(files: list, tasks: list) -> tuple[str, dict]:
    """The markdown table and the --json object of the runs of every results file in `files`."""
    runs = [run for f in files for run in json.loads(pathlib.Path(f).read_text())["runs"]]
    results = ", ".join(str(f) for f in files)
    configs, left = stored_configurations(runs, tasks)
    if len(configs) < 2:
        raise SystemExit(f"{results}: fewer than two configurations ran every task of {tasks}")
    chosen = choose_stored(configs, tasks)
    names = list(configs)
    lines = [f"Per task, the configuration of lowest validation error (then training error), from `{results}`.", ""]
    lines += [f"- config {chr(65 + i)}: `{name}`" for i, name in enumerate(names)]
    lines += [f"- not every task, left out: `{name}`" for name in left]
    head = " | ".join(f"{chr(65 + i)} test / valid" for i in range(len(names)))
    lines += ["", f"| task | {head} | chosen | test | paper PE LS RN | paper PE LS LW RN* |",
              "|---:|" + "---:|" * len(names) + ":---:|---:|---:|---:|"]
    for t in tasks:
        cells = " | ".join(f"{configs[n][t]['test_error']:.1f} / {configs[n][t]['valid_error']:.1f}" for n in names)
        i, row = chosen[t]
        lines.append(f"| {t} | {cells} | {chr(65 + i)} | {row['test_error']:.1f} | "
                     f"{PAPER_10K['PE LS RN'][t - 1]:.1f} | {PAPER_10K['PE LS LW RN*'][t - 1]:.1f} |")
    out = {"configurations": {}, "tasks": {str(t): {"test_error": chosen[t][1]["test_error"],
                                                     "valid_error": chosen[t][1]["valid_error"],
                                                     "chosen": names[chosen[t][0]]} for t in tasks}}
    for i, name in enumerate(names):
        mean, failed = summary([configs[name][t]["test_error"] for t in tasks])
        out["configurations"][name] = {"mean_error": mean, "failed": failed}
        lines.append(f"\nconfig {chr(65 + i)} alone: mean {mean:.2f} %, failed {failed}")
    out["mean_error"], out["failed"] = summary([chosen[t][1]["test_error"] for t in tasks])
    lines.append(f"chosen per task: mean {out['mean_error']:.2f} %, failed {out['failed']}")
    for name, column in PAPER_10K.items():
        mean, failed = summary([column[t - 1] for t in tasks])
        lines.append(f"paper {name}: mean {mean:.2f} %, failed {failed}")
    return "\n".join(lines) + "\n", out


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--results", type=pathlib.Path, action="append",
                   help="a results file of stored runs; repeatable (default data/results/memn2n_babi10k.json)")
    p.add_argument("--tasks", type=parse_tasks, default=parse_tasks("1-20"))
    p.add_argument("--out", type=pathlib.Path, help="also write the table to this markdown file")
    p.add_argument("--json", action="store_true", help="print one JSON object as the last line")
    args = p.parse_args(argv)
    text, out = report(args.results or [pathlib.Path("data/results/memn2n_babi10k.json")], args.tasks)
    print(text)
    if args.out:
        made = "PYTHONPATH=. python benchmarks/memn2n_choose.py " + " ".join(argv if argv is not None else sys.argv[1:])
        args.out.write_text(f"Made by `{made}`.\n\n{text}")
    if args.json:
        print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
