"""How the cost of MemN2N and the NTM grows with memory size and sequence length, printed and plotted.

    PYTHONPATH=. python benchmarks/cost_curves.py [--repeats 3] [--plot docs/cost_curves.png]

MemN2N (the fast form the recipe trains, one restart, d = 20, 3 hops, batch 32): CPU seconds
per epoch of 1,000 questions against the memory size M (50 → 800 sentences, every slot holding
its own sentence) and against the sentence length (words per sentence, M = 50). One hop scores
M memories and reads them back (O(M·d) per question) after embedding M·L words (O(M·L·d)), so
the math predicts a cost linear in M, and linear in L with an offset (the hops do not grow with L).

NTM (LSTM controller of 100 units, M = 20, one read and one write head, batch 32, copy task):
CPU seconds per 1,000 training sequences against the number of memory rows N (128 → 1,024, input
length 20) and against the input length T (N = 128). Each step addresses all N rows per head
(content similarity, interpolation, shift, sharpening: O(N·M)) next to an N-independent
controller, so the math predicts a + b·N per step, and a cost linear in T (a copy episode is 2T + 1
steps).

Each point is the best of `--repeats` timings (CPU time of this process, one thread), which
filters out most of the noise of a shared machine. The printed `growth` is the fitted exponent of
``cost ∝ x^k`` between the first and the last point (k = 1: linear); `fixed share` is the
intercept a of a straight-line fit a + b·x as a share of the cost at the smallest x.
"""

from __future__ import annotations

import argparse
import math
import os
import pathlib
import sys
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent))

import torch  # noqa: E402

from memlib import algorithmic as alg  # noqa: E402
from memlib.babi.encode import Batch  # noqa: E402
from memlib.models.memn2n_fast import MemN2NEnsemble  # noqa: E402
from memlib.models.ntm import NTM  # noqa: E402
from memlib.recipes.memn2n import DEFAULTS, FlatSGD, train_epoch  # noqa: E402


def best_of(repeats: int, run) -> float:
    """The smallest CPU time of `repeats` calls of `run()` (after one warm-up call)."""
    run()
    times = []
    for _ in range(repeats):
        t0 = time.process_time()
        run()
        times.append(time.process_time() - t0)
    return min(times)


def memn2n_batch(questions: int, memory: int, words: int, vocab: int = 100, seed: int = 0) -> Batch:
    """Random questions whose memories are `memory` distinct sentences of `words` words each."""
    g = torch.Generator().manual_seed(seed)
    sentences = torch.cat([torch.zeros(1, words, dtype=torch.long),
                           torch.randint(1, vocab, (questions * memory, words), generator=g)])
    rows = torch.arange(1, questions * memory + 1).view(questions, memory)
    queries = torch.randint(1, vocab, (questions, words), generator=g)
    answers = torch.randint(0, 10, (questions,), generator=g)
    return Batch(sentences[rows], queries, answers, torch.full((questions, 1), -1),
                 torch.full((questions,), memory), sentences=sentences, rows=rows)


def memn2n_epoch(memory: int, words: int, repeats: int, questions: int = 160) -> float:
    """CPU seconds per epoch of 1,000 questions: the recipe's training step (RN on), one restart."""
    torch.manual_seed(0)
    data = memn2n_batch(questions, memory, words)
    model = MemN2NEnsemble(100, 10, d=20, hops=3, memory_size=memory, sentence_size=words, ensemble=1,
                           answer_words=list(range(90, 100)))
    sgd = FlatSGD(model, 40.0)
    lr, gen = torch.tensor([0.01]), torch.Generator().manual_seed(0)
    seconds = best_of(repeats, lambda: train_epoch(model, data, lr, DEFAULTS, gen, sgd))
    return seconds * 1000 / questions


def ntm_sequences(N: int, length: int, repeats: int, batches: int = 2) -> float:
    """CPU seconds per 1,000 copy sequences of `length` vectors: forward, backward, an Adam step."""
    torch.manual_seed(0)
    model = NTM(9, 8, N=N, M=20, controller_size=100)
    opt = torch.optim.Adam(model.parameters(), lr=1e-4)
    data = [alg.copy(32, seed=i, length=length) for i in range(batches)]

    def run():
        for batch in data:
            opt.zero_grad()
            logits = model(batch.x)
            logits = logits[0] if isinstance(logits, tuple) else logits
            alg.loss(logits, batch).backward()
            opt.step()

    return best_of(repeats, run) * 1000 / (32 * batches)


def growth(xs, ys) -> tuple[float, float]:
    """(k of y ∝ x^k between the ends, intercept of the least-squares line as a share of ys[0])."""
    k = math.log(ys[-1] / ys[0]) / math.log(xs[-1] / xs[0])
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    b = sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sum((x - mx) ** 2 for x in xs)
    return k, (my - b * mx) / ys[0]


CURVES = {  # name: (x label, x values, cost function of x and repeats, y label)
    "memn2n_memory": ("memory size M (sentences)", [50, 100, 200, 400, 800],
                      lambda x, r: memn2n_epoch(x, 6, r), "MemN2N: s per epoch (1,000 questions)"),
    "memn2n_words": ("words per sentence L (M = 50)", [4, 8, 16, 32],
                     lambda x, r: memn2n_epoch(50, x, r), "MemN2N: s per epoch (1,000 questions)"),
    "ntm_rows": ("memory rows N (copy, T = 20)", [128, 256, 512, 1024],
                 lambda x, r: ntm_sequences(x, 20, r), "NTM: s per 1,000 sequences"),
    "ntm_length": ("input length T (N = 128)", [10, 20, 40, 80],
                   lambda x, r: ntm_sequences(128, x, r), "NTM: s per 1,000 sequences"),
}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repeats", type=int, default=3, help="timings per point; the best is kept (default 3)")
    p.add_argument("--curves", default=",".join(CURVES), help=f"some of {','.join(CURVES)}")
    p.add_argument("--plot", default="docs/cost_curves.png", help="figure to write ('' for none)")
    args = p.parse_args(argv)
    torch.set_num_threads(1)
    results = {}
    for name in args.curves.split(","):
        label, xs, cost, ylabel = CURVES[name]
        ys = []
        for x in xs:
            ys.append(cost(x, args.repeats))
            print(f"{name}: {label} = {x}: {ys[-1]:.3f} s  (load {os.getloadavg()[0]:.1f})", flush=True)
        k, fixed = growth(xs, ys)
        results[name] = (label, xs, ys, ylabel)
        print(f"{name}: growth x^{k:.2f} from {xs[0]} to {xs[-1]}; fixed share at x = {xs[0]}: {100 * fixed:.0f} %\n",
              flush=True)
    if args.plot:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, axes = plt.subplots(1, len(results), figsize=(4.2 * len(results), 3.6))
        for ax, (label, xs, ys, ylabel) in zip([axes] if len(results) == 1 else axes, results.values()):
            ax.plot(xs, ys, "o-", label="measured")
            ax.plot(xs, [ys[0] * x / xs[0] for x in xs], ":", color="grey", label="linear from the first point")
            ax.set(xlabel=label, ylabel=ylabel, xscale="log", yscale="log")
            ax.set_xticks(xs, [str(x) for x in xs], minor=False)
            ax.set_xticks([], minor=True)
            ax.legend(fontsize=8)
        fig.tight_layout()
        fig.savefig(args.plot, dpi=120)
        print(f"figure: {args.plot}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
