"""MemN2N on bAbI 1k: the paper's Table 1 next to ours, with the time it took; before and after.

    PYTHONPATH=. python benchmarks/memn2n_babi.py [--tasks 1-20] [--restarts 10] [--joint]
        [--data data/generated/babi] [--out benchmarks/results/memn2n_babi.md] [extra fit options]
    PYTHONPATH=. python benchmarks/memn2n_babi.py --compare [--tasks 1-20] [--profile 15]
    PYTHONPATH=. python benchmarks/memn2n_babi.py --selection [--tasks 1-20] [--restarts 20]

Generates the data with `memlib.babi.generate` (seed 0) when the folder is missing, trains
each task (or one joint model), and writes a markdown table: our test error per task, the
paper's PE LS RN column (per task, 3 hops) and its 1/2/3-hop joint columns, mean error and
failed tasks, seconds per task, the whole run's seconds and the load average.

``--compare`` is the before/after table of one run: per task, the recipe and code of commit
`OLD_COMMIT` (read with ``git show`` and imported as a module of its own: the code that was
measured before, not a re-enactment of it), then today's recipe with its defaults, each
timed on the same task right after the other so that both see the same machine load.
``--profile N`` adds the N costliest functions of each side (cProfile, by own time).

``--selection`` measures the restart-selection rules of `memlib.recipes.memn2n` (which restart to
keep, with the last or the early-stopped weights) on the same runs: see `selection`.
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import sys
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent))

import torch  # noqa: E402

from memlib import checkpoints  # noqa: E402
from memlib.cli import parse_tasks  # noqa: E402
from memlib.recipes.memn2n import failed, mean, run_joint, run_task, to_checkpoint  # noqa: E402

# Sukhbaatar et al. 2015, Table 1 (test error %, bAbI 1k): PE LS RN (3 hops, per task) and the
# joint PE LS columns with 1, 2, 3 hops, and PE LS RN joint
PAPER = {
    "PE LS RN": [0.0, 8.3, 40.3, 2.8, 13.1, 7.6, 17.3, 10.0, 13.2, 15.1, 0.9, 0.2, 0.4, 1.7, 0.0, 1.3, 51.0, 11.1, 82.8, 0.0],
    "1 hop joint": [0.8, 62.0, 76.9, 22.8, 11.0, 7.2, 15.9, 13.2, 5.1, 10.6, 8.4, 0.4, 6.3, 36.9, 46.4, 47.4, 44.4, 9.6, 90.7, 0.0],
    "2 hops joint": [0.0, 15.6, 31.6, 2.2, 13.4, 2.3, 25.4, 11.7, 2.0, 5.0, 1.2, 0.0, 0.2, 8.1, 0.5, 51.3, 41.2, 10.3, 89.9, 0.1],
    "3 hops joint": [0.1, 14.0, 33.1, 5.7, 14.8, 3.3, 17.9, 10.1, 3.1, 6.6, 0.9, 0.3, 1.4, 8.2, 0.0, 3.5, 44.5, 9.2, 90.2, 0.0],
    "PE LS RN joint": [0.0, 11.4, 21.9, 13.4, 14.4, 2.8, 18.3, 9.3, 1.9, 6.5, 0.3, 0.1, 0.2, 6.9, 0.0, 2.7, 40.4, 9.4, 88.0, 0.0],
}
PAPER_SUMMARY = {"PE LS RN": (13.9, 11), "1 hop joint": (25.8, 17), "2 hops joint": (15.6, 11),
                 "3 hops joint": (13.3, 11), "PE LS RN joint": (12.4, 11)}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", default="data/generated/babi")
    p.add_argument("--tasks", type=parse_tasks, default=parse_tasks("1-20"))
    p.add_argument("--restarts", type=int, default=10)
    p.add_argument("--hops", type=int, default=3)
    p.add_argument("--joint", action="store_true")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default=None, help="markdown file to write (default: print only)")
    p.add_argument("--save", default=None, help="checkpoint of the kept models")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="extra `memlib.recipes.memn2n.train` option, e.g. --set batch_size=64 --set pe_variant=paper")
    p.add_argument("--from-json", metavar="FILE", action="append", default=[],
                   help="no training: tabulate the JSON line(s) of `memlib memn2n train --json` runs")
    p.add_argument("--compare", action="store_true",
                   help=f"before/after: commit {OLD_COMMIT}'s recipe and code vs today's defaults, same run")
    p.add_argument("--selection", action="store_true",
                   help="20 restarts per task, then the test error of the restart each selection rule keeps")
    p.add_argument("--profile", type=int, default=0, metavar="N", help="with --compare: the top N of each side's profile")
    p.add_argument("--speed", action="store_true",
                   help="no table: CPU time per training step of the sentence table vs per-slot encoding, "
                        "and of 10 batched restarts vs 10 models one after another (task 2)")
    args = p.parse_args(argv)
    if args.speed:
        torch.set_num_threads(1)
        print(speed(pathlib.Path(args.data)))
        return 0
    if args.selection:
        torch.set_num_threads(1)
        print(selection(pathlib.Path(args.data), args.tasks, args.restarts if args.restarts != 10 else 20, args.seed))
        return 0
    if args.compare:
        torch.set_num_threads(1)
        text = compare(pathlib.Path(args.data), args.tasks, args.profile, args.seed)
        print(text)
        if args.out:
            pathlib.Path(args.out).parent.mkdir(parents=True, exist_ok=True)
            pathlib.Path(args.out).write_text(text)
        return 0
    if args.from_json:
        text = tabulate_runs(args.from_json)
        print(text)
        if args.out:
            pathlib.Path(args.out).parent.mkdir(parents=True, exist_ok=True)
            pathlib.Path(args.out).write_text(text)
        return 0
    torch.set_num_threads(1)
    extra = {}
    for item in args.set:
        key, value = item.split("=", 1)
        try:
            extra[key] = json.loads(value)
        except json.JSONDecodeError:
            extra[key] = value
    data = pathlib.Path(args.data)
    if not data.exists():
        from memlib.babi.generate import generate

        generate(data, tasks=args.tasks, size="1k", seed=0)
    settings = dict(hops=args.hops, restarts=args.restarts, seed=args.seed, **extra)
    start, cpu0 = time.perf_counter(), time.process_time()
    errors, seconds, models = {}, {}, {}
    if args.joint:
        fit_, per_task, _ = run_joint(data, args.tasks, **settings)
        errors = {t: 100 * e for t, e in per_task.items()}
        models["joint"] = fit_.model
    else:
        for task in args.tasks:
            fit_, summary, _ = run_task(data, task, **settings)
            errors[task] = 100 * summary["test_error"]
            seconds[task] = summary["seconds"]
            models[str(task)] = fit_.model
            print(f"task {task:2d}: {errors[task]:5.1f} %  (paper {PAPER['PE LS RN'][task - 1]:5.1f} %)  "
                  f"{summary['seconds']:.1f} s  load {os.getloadavg()[0]:.1f}", flush=True)
    wall, cpu = time.perf_counter() - start, time.process_time() - cpu0
    load = os.getloadavg()
    ours = f"ours {args.hops} hops" + (" joint" if args.joint else "") + f" ({args.restarts} restarts)"
    cols = ["PE LS RN joint", "3 hops joint", "2 hops joint", "1 hop joint"] if args.joint else \
        ["PE LS RN", "3 hops joint", "2 hops joint", "1 hop joint"]
    lines = [f"| task | {ours} | " + " | ".join(f"paper {c}" for c in cols) + (" | seconds |" if seconds else " |"),
             "|---:|---:|" + "---:|" * len(cols) + ("---:|" if seconds else "")]
    for t in args.tasks:
        row = f"| {t} | {errors[t]:.1f} | " + " | ".join(f"{PAPER[c][t - 1]:.1f}" for c in cols)
        lines.append(row + (f" | {seconds[t]:.1f} |" if seconds else " |"))
    m = mean(errors.values())
    paper_means = [mean(PAPER[c][t - 1] for t in args.tasks) for c in cols]
    paper_failed = [sum(PAPER[c][t - 1] > 5 for t in args.tasks) for c in cols]
    lines.append(f"| **mean** | **{m:.1f}** | " + " | ".join(f"{x:.1f}" for x in paper_means) + (" | |" if seconds else " |"))
    lines.append(f"| **failed (> 5 %)** | **{failed({t: e / 100 for t, e in errors.items()})}** | "
                 + " | ".join(str(x) for x in paper_failed) + (" | |" if seconds else " |"))
    settings_text = ", ".join(f"{k}={v}" for k, v in settings.items())
    note = (f"\n{len(args.tasks)} tasks, {settings_text}: {wall:.0f} s wall, {cpu:.0f} s CPU, "
            f"load average {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} (1/5/15 min), 1 torch thread, "
            f"torch {torch.__version__}. Data: {data} (generated, seed 0).")
    text = "\n".join(lines) + "\n" + note + "\n"
    print(text)
    if args.out:
        out = pathlib.Path(args.out)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text)
    if args.save:
        checkpoints.save(args.save, *to_checkpoint(models),
                         {"command": " ".join(["python", "benchmarks/memn2n_babi.py", *sys.argv[1:]]),
                          "test_error": {str(t): round(e, 2) for t, e in errors.items()}, "mean_error": round(m, 2)})
    return 0


#: the last commit before issue 17: the paper's recipe on the first batched code
OLD_COMMIT = "223b83d"


def old_recipe(commit: str = OLD_COMMIT):
    """`memlib.recipes.memn2n` as it was at `commit`, with its own copies of the two model modules."""
    import subprocess
    import types

    root = pathlib.Path(__file__).resolve().parent.parent
    modules = {}
    for name, path in (("memn2n", "memlib/models/memn2n.py"), ("memn2n_fast", "memlib/models/memn2n_fast.py"),
                       ("recipe", "memlib/recipes/memn2n.py")):
        try:
            source = subprocess.run(["git", "show", f"{commit}:{path}"], capture_output=True, text=True,
                                    check=True, cwd=root).stdout
        except (OSError, subprocess.CalledProcessError) as exc:
            raise SystemExit(f"--compare needs the git history (commit {commit}): {exc}") from None
        for other in ("memn2n", "memn2n_fast"):  # the old modules import each other, not today's
            source = source.replace(f"from memlib.models.{other} import", f"from _old_{other} import")
        module = types.ModuleType(f"_old_{name}")
        module.__file__ = f"{commit}:{path}"
        sys.modules[module.__name__] = module
        exec(compile(source, module.__file__, "exec"), module.__dict__)
        modules[name] = module
    return modules["recipe"]


def compare(data, tasks, top: int = 0, seed: int = 0) -> str:
    """The before/after table: per task, the old recipe and code, then today's defaults; totals and ratio."""
    import cProfile
    import io
    import pstats

    from memlib.recipes import memn2n

    if not data.exists():
        from memlib.babi.generate import generate

        generate(data, tasks=tasks, size="1k", seed=0)
    sides = {f"before: commit {OLD_COMMIT} (paper recipe)": (old_recipe(), {}),
             "after: paper recipe (--paper)": (memn2n, memn2n.PAPER), "after: today's defaults": (memn2n, {})}
    rows = {name: {} for name in sides}
    profiles = {name: cProfile.Profile() for name in sides}
    for task in tasks:
        for name, (recipe, options) in sides.items():
            if top:
                profiles[name].enable()
            start, cpu = time.perf_counter(), time.process_time()
            _, summary, _ = recipe.run_task(data, task, seed=seed, device="cpu", **options)
            rows[name][task] = (100 * summary["test_error"], time.perf_counter() - start, os.getloadavg()[0],
                                time.process_time() - cpu)
            if top:
                profiles[name].disable()
        print(f"task {task:2d}: " + "   ".join(f"{name.split(' (')[0]}: {e:5.1f} % {t:5.1f} s (load {ld:.1f})"
                                              for name, (e, t, ld, _) in ((n, rows[n][task]) for n in sides)), flush=True)
    lines = ["| task | " + " | ".join(f"{n}: error (%) | seconds" for n in sides) + " | paper PE LS RN |",
             "|---:|" + "---:|---:|" * len(sides) + "---:|"]
    for t in tasks:
        lines.append(f"| {t} | " + " | ".join(f"{rows[n][t][0]:.1f} | {rows[n][t][1]:.1f}" for n in sides)
                     + f" | {PAPER['PE LS RN'][t - 1]:.1f} |")
    lines += ["", "| recipe | mean error (%) | failed (> 5 %) | seconds | CPU seconds | mean load |",
              "|---|---:|---:|---:|---:|---:|"]
    totals, cpus = {}, {}
    for n in sides:
        errs = {t: e / 100 for t, (e, _, _, _) in rows[n].items()}
        totals[n], cpus[n] = (sum(r[i] for r in rows[n].values()) for i in (1, 3))
        lines.append(f"| {n} | {100 * mean(errs.values()):.1f} | {failed(errs)} | {totals[n]:.0f} | {cpus[n]:.0f} | "
                     f"{mean(r[2] for r in rows[n].values()):.1f} |")
    (before, paper, after), (c_before, c_paper, c_after) = totals.values(), cpus.values()
    lines.append(f"\nseconds before / after: {before / paper:.2f} (same recipe, today's code; CPU seconds "
                 f"{c_before / c_paper:.2f}), {before / after:.2f} (today's defaults; CPU {c_before / c_after:.2f}); "
                 f"{len(tasks)} tasks, seed {seed}, "
                 f"1 torch thread, torch {torch.__version__}, data {data}")
    for n in sides if top else ():
        out = io.StringIO()
        pstats.Stats(profiles[n], stream=out).sort_stats("tottime").print_stats(top)
        body = out.getvalue()
        lines += ["", f"profile, {n} (top {top} by own time):", body[body.index("ncalls"):].rstrip()]
    return "\n".join(lines) + "\n"


RULES = {  # restart selection rules: the key each restart is ranked by (smallest kept)
    "training error, loss (paper)": lambda r, e: (r["t_err"][e], r["t_loss"][e]),
    "validation error, training error, validation loss": lambda r, e: (r["v_err"][e], r["t_err"][e], r["v_loss"][e]),
    "validation error, validation loss": lambda r, e: (r["v_err"][e], r["v_loss"][e]),
    "validation loss": lambda r, e: (r["v_loss"][e],),
}


def selection(data, tasks, restarts: int = 20, seed: int = 0) -> str:
    """Which restart each rule keeps, among the first 10 and all `restarts`, with the last or early-stopped weights.

    One run per task trains `restarts` restarts (``keep="best_valid"``, so the `Fit` has both the
    last weights and each restart's best-validation ones); the rules see only training and
    validation numbers, and the table reports the test error of the restart each one keeps.
    """
    from memlib.recipes import memn2n

    runs = {}
    for task in tasks:
        d = memn2n.load_data(data, [task])
        _, fit = memn2n.train({**memn2n.PER_TASK, "restarts": restarts, "keep": "best_valid", "seed": seed}, d,
                              device="cpu")
        part, valid = memn2n.split(d.train, memn2n.DEFAULTS["valid_fraction"], torch.Generator().manual_seed(seed))
        runs[task] = {}
        for weights in ("best_valid", "last"):
            if weights == "last":
                fit.ensemble.load_state_dict(fit.last_state)
            (te, tl), (ve, vl), (xe, _) = (memn2n.errors(fit.ensemble, b) for b in (part, valid, d.test))
            runs[task][weights] = dict(t_err=te.tolist(), t_loss=tl.tolist(), v_err=ve.tolist(), v_loss=vl.tolist(),
                                       test=xe.tolist())
        print(f"task {task:2d}: test error of each restart (last weights) "
              + " ".join(f"{100 * x:.1f}" for x in runs[task]["last"]["test"]), flush=True)
    lines = ["| weights | restarts | rule | mean error (%) | failed (> 5 %) |", "|---|---:|---|---:|---:|"]
    for weights in ("last", "best_valid"):
        for n in sorted({min(10, restarts), restarts}):
            for name, key in RULES.items():
                errs = {}
                for task, run in runs.items():
                    r = run[weights]
                    errs[task] = r["test"][min(range(n), key=lambda e: key(r, e))]
                lines.append(f"| {weights} | {n} | {name} | {100 * mean(errs.values()):.2f} | {failed(errs)} |")
    random = mean(mean(run["last"]["test"][:10]) for run in runs.values())
    lines.append(f"\na restart drawn at random (last weights, first 10): {100 * random:.2f} %; {len(tasks)} tasks, "
                 f"seed {seed}, data {data}")
    return "\n".join(lines) + "\n"


def speed(data, task: int = 2, steps: int = 60) -> str:
    """CPU seconds per training step (batch 32, 3 hops) for the ways of computing the same thing.

    The fast form (`memlib.models.memn2n_fast`) embeds each distinct sentence of a batch once
    and batches the restarts; the reference form (`memlib.models.memn2n.MemN2N`) embeds every slot.
    """
    from memlib.babi.encode import encode, longest_sentence, samples
    from memlib.babi.format import load_task
    from memlib.models.memn2n import MemN2N
    from memlib.models.memn2n_fast import MemN2NEnsemble, cross_entropy
    from memlib.recipes.memn2n import build_vocab, noisy_time

    train = samples(load_task(data, task, "train"))
    vocab, answers = build_vocab(train)
    L = longest_sentence(train)
    table = encode(train, vocab, answers, 50, L)
    options = dict(sentence_size=L, answer_words=torch.tensor([vocab[a] for a in answers]))

    def run(E, per_slot=False, reference=False):
        torch.manual_seed(0)
        model = MemN2N(len(vocab), len(answers), **options) if reference else \
            MemN2NEnsemble(len(vocab), len(answers), ensemble=E, **options)
        t0 = time.process_time()
        for i in range(steps):
            part = table[torch.arange(i * 32, i * 32 + 32) % len(table)]
            if reference:
                logits = model(part.memories, part.queries)[0].unsqueeze(0)
            else:
                if per_slot:  # every memory slot of every sample is its own sentence
                    sentences, rows = part.memories.view(-1, L), torch.arange(part.rows.numel()).view(part.rows.shape)
                else:
                    sentences, rows = part.distinct()
                logits, _ = model(sentences, rows, part.queries, part.lengths, noisy_time(part.lengths, 50, E))
            model.zero_grad()
            cross_entropy(logits, part.answers).sum().backward()
        return (time.process_time() - t0) / steps

    one_table, one_slot, one_reference = run(1), run(1, per_slot=True), run(1, reference=True)
    ten_table = run(10)
    load = os.getloadavg()[0]
    return (f"task {task}, 3 hops, d=20, batch 32, forward+backward, CPU ms per step (load average {load:.1f}):\n"
            f"- 1 model, reference form:         {1000 * one_reference:6.1f}\n"
            f"- 1 model, per-slot encoding:      {1000 * one_slot:6.1f}\n"
            f"- 1 model, sentence table:         {1000 * one_table:6.1f}  ({one_slot / one_table:.1f}x faster)\n"
            f"- 10 restarts, one after another:  {10000 * one_table:6.1f}\n"
            f"- 10 restarts, one batched model:  {1000 * ten_table:6.1f}  ({10 * one_table / ten_table:.1f}x faster)\n")


def tabulate_runs(files) -> str:
    """A markdown table of several CLI runs (one column each) next to the paper's columns."""
    runs = []
    for f in files:
        lines = [x for x in pathlib.Path(f).read_text().splitlines() if x.startswith("{")]
        runs.append(json.loads(lines[-1]))
    tasks = sorted({int(t) for r in runs for t in r["tasks"]})
    cols = ["PE LS RN", "PE LS RN joint", "3 hops joint", "2 hops joint", "1 hop joint"]
    head = "| task | " + " | ".join(f"ours: {r['model']}" for r in runs) + " | " + " | ".join(f"paper {c}" for c in cols) + " |"
    lines = [head, "|---:|" + "---:|" * (len(runs) + len(cols))]
    for t in tasks:
        ours = [f"{r['tasks'][str(t)]['test_error']:.1f}" if str(t) in r["tasks"] else "" for r in runs]
        lines.append(f"| {t} | " + " | ".join(ours) + " | " + " | ".join(f"{PAPER[c][t - 1]:.1f}" for c in cols) + " |")
    lines.append("| **mean** | " + " | ".join(f"**{r['mean_error']:.1f}**" for r in runs) + " | "
                 + " | ".join(f"{mean(PAPER[c][t - 1] for t in tasks):.1f}" for c in cols) + " |")
    lines.append("| **failed (> 5 %)** | " + " | ".join(f"**{r['failed']}**" for r in runs) + " | "
                 + " | ".join(str(sum(PAPER[c][t - 1] > 5 for t in tasks)) for c in cols) + " |")
    lines.append("| seconds (load avg at end) | " + " | ".join(f"{r['seconds']:.0f} ({r.get('loadavg', '?')})" for r in runs)
                 + " |" + " |" * len(cols))
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    raise SystemExit(main())
