"""Training MemN2N the paper's way (Sukhbaatar et al. 2015, §4.2), fast on a CPU.

The recipe: SGD (no momentum) with the cost summed over a batch of 32, learning rate 0.01
halved every 25 epochs for 100 epochs (0.005 during linear start, which comes first and, as in
the authors' code, is followed by the full schedule), gradients clipped to norm 40,
Gaussian σ = 0.1 init, the nil embedding kept at zero, 10 % of the training questions held out
for validation. Linear start (LS) trains without the memory softmax until the validation loss
stops decreasing (no new minimum for 5 epochs, at most 20 epochs as in the authors' code);
random noise (RN) leaves 10 % empty memories between the sentences (random gaps in the
temporal index). Each configuration is trained N times from different random initialisations
and the run with the lowest *training* error is kept (ties: the lower training loss).

Two things make it fast (``benchmarks/memn2n_babi.py --speed`` measures them):
- the N restarts are one `MemN2N` with a leading ensemble dimension, trained as one batched
  computation (their losses are independent, so the summed loss gives each its own gradient);
  10 batched restarts cost about 3.7x less than 10 models one after another;
- samples are stored as rows of a table of distinct sentences (`Table`): a batch embeds each
  distinct sentence once instead of every memory slot of every question (3.4x faster on task 2).
"""

from __future__ import annotations

import math
import time as _time
from dataclasses import dataclass, field

import torch

from memlib.babi.encode import Vocab
from memlib.babi.encode import samples as story_samples_of
from memlib.models.memn2n import MemN2N, cross_entropy

#: the paper's recipe, per-task (§4.2) and joint (§4.4, the authors' joint config)
PER_TASK = dict(d=20, epochs=100, decay_every=25, ls_max_epochs=20)
JOINT = dict(d=50, epochs=60, decay_every=15, ls_max_epochs=30)


@dataclass
class Table:
    """Samples as rows of a sentence table: each distinct sentence stored (and embedded) once."""

    sentences: torch.Tensor  # (S, L) distinct sentences, row 0 = the empty sentence
    memory: torch.Tensor  # (N, M) row of each memory slot, oldest first; 0 = padding
    queries: torch.Tensor  # (N, L)
    answers: torch.Tensor  # (N,) answer class
    lengths: torch.Tensor  # (N,) real memories
    supports: torch.Tensor  # (N, S) supporting slots, -1 = none
    tasks: torch.Tensor  # (N,) bAbI task of each sample (0 if unknown)

    def __len__(self) -> int:
        return self.memory.shape[0]

    def subset(self, idx) -> Table:
        return Table(self.sentences, self.memory[idx], self.queries[idx], self.answers[idx],
                     self.lengths[idx], self.supports[idx], self.tasks[idx])

    def batch(self, idx):
        """Arguments of `MemN2N.read` for the samples `idx`: only their sentences are embedded."""
        memory = self.memory[idx]
        rows, local = torch.unique(memory, return_inverse=True)
        return self.sentences[rows], local, self.queries[idx], self.lengths[idx]


def build_vocab(samples) -> tuple[Vocab, list[str]]:
    """The vocabulary (list answers such as ``apple,milk`` added as one word each) and the answer classes."""
    vocab = Vocab.build(samples)
    answers = sorted({s.answer for s in samples})
    for a in answers:
        vocab.add(a)  # Wᵀ = C^K needs a word for every answer class
    return vocab, answers


def sentence_size(samples) -> int:
    """The longest memory sentence or question, in words."""
    return max(max((len(m) for s in samples for m in s.memories), default=1), max(len(s.query) for s in samples))


def encode_table(samples, vocab: Vocab, answers: list[str], memory_size: int = 50, sentence_size_: int | None = None,
                 tasks=None) -> Table:
    """Turn samples into a `Table`; unknown words become nil, unknown answers raise KeyError."""
    samples = list(samples)
    L = sentence_size_ or sentence_size(samples)
    answer_index = {a: i for i, a in enumerate(answers)}
    rows: dict[tuple, int] = {(): 0}
    ids = lambda toks: tuple(vocab.index.get(t, 0) for t in toks[:L])  # noqa: E731
    N, M = len(samples), memory_size
    memory = torch.zeros(N, M, dtype=torch.long)
    queries = torch.zeros(N, L, dtype=torch.long)
    answers_t = torch.zeros(N, dtype=torch.long)
    lengths = torch.zeros(N, dtype=torch.long)
    S = max(1, max(len(s.support) for s in samples))
    supports = torch.full((N, S), -1, dtype=torch.long)
    for b, s in enumerate(samples):
        mem = s.memories[-M:]
        shift = len(s.memories) - len(mem)
        for i, sentence in enumerate(mem):
            memory[b, i] = rows.setdefault(ids(sentence), len(rows))
        q = ids(s.query)
        queries[b, : len(q)] = torch.tensor(q, dtype=torch.long)
        if s.answer not in answer_index:
            raise KeyError(f"answer {s.answer!r} is not among the {len(answers)} answer classes")
        answers_t[b] = answer_index[s.answer]
        for j, slot in enumerate(s.support):
            supports[b, j] = slot - shift if slot - shift >= 0 else -1
        lengths[b] = len(mem)
    sentences = torch.zeros(len(rows), L, dtype=torch.long)
    for key, r in rows.items():
        if key:
            sentences[r, : len(key)] = torch.tensor(key)
    tasks_t = torch.as_tensor(list(tasks) if tasks is not None else [0] * N, dtype=torch.long)
    return Table(sentences, memory, queries, answers_t, lengths, supports, tasks_t)


def noisy_time(lengths: torch.Tensor, M: int, E: int, generator=None) -> torch.Tensor:
    """Random noise (RN): temporal indices with random gaps, as if 10 % empty memories were added.

    For a sample with n memories, draw ``k ~ U{0..ceil(n/10)}`` empty memories (fewer if the
    memory has no room) and put each one in a random gap between the sentences; a sentence's
    index is its rank from the most recent plus the number of empty memories after it.
    Returns ``(E, B, M)``: an independent draw for each model of the ensemble.
    """
    B = lengths.shape[0]
    n = lengths.view(1, B, 1)  # (1, B, 1)
    K = max(1, math.ceil(M / 10))
    k = (torch.rand(E, B, 1, generator=generator) * (torch.ceil(n / 10) + 1)).floor().long()
    k = torch.minimum(k, M - n)  # (E, B, 1) empty memories, only where there is room
    gap = (torch.rand(E, B, K, generator=generator) * (n + 1)).floor().long()  # (E, B, K) gap 0..n
    gap = gap.masked_fill(torch.arange(K).view(1, 1, K) >= k, M + 1)  # unused blanks: beyond every sentence
    rank = (n - 1 - torch.arange(M).view(1, 1, M)).clamp(min=0)  # (1, B, M) 0 = most recent slot
    before = (gap.unsqueeze(2) <= rank.unsqueeze(3)).sum(-1)  # (E, B, M) blanks more recent than the slot
    return (rank + before).clamp(max=M - 1)


def clip_per_model(params, max_norm: float) -> torch.Tensor:
    """Rescale each model's gradient (leading ensemble dim) to ℓ2 norm ≤ `max_norm`; returns the norms."""
    sq = sum(p.grad.pow(2).flatten(1).sum(1) for p in params)  # (E,)
    norms = sq.sqrt()
    scale = (max_norm / (norms + 1e-6)).clamp(max=1.0)
    for p in params:
        p.grad.mul_(scale.view(-1, *[1] * (p.dim() - 1)))
    return norms


@torch.no_grad()
def evaluate(model: MemN2N, table: Table, chunk: int = 1000):
    """Per-model error rate and summed loss on `table`: two tensors of shape (E,)."""
    wrong = torch.zeros(model.E)
    loss = torch.zeros(model.E)
    for i in range(0, len(table), chunk):
        idx = torch.arange(i, min(i + chunk, len(table)))
        logits, _ = model.read(*table.batch(idx))
        answers = table.answers[idx]
        wrong += (logits.argmax(-1) != answers).float().sum(1)
        loss += cross_entropy(logits, answers)
    return wrong / max(1, len(table)), loss / max(1, len(table))


@torch.no_grad()
def predict(model: MemN2N, table: Table, chunk: int = 1000) -> torch.Tensor:
    """Predicted answer class of each sample, (E, N)."""
    out = []
    for i in range(0, len(table), chunk):
        idx = torch.arange(i, min(i + chunk, len(table)))
        logits, _ = model.read(*table.batch(idx))
        out.append(logits.argmax(-1))
    return torch.cat(out, 1)


@dataclass
class Fit:
    """The result of `fit`: the kept model, every restart's errors, and the history."""

    model: MemN2N  # the kept restart (E = 1)
    ensemble: MemN2N  # all restarts
    best: int  # which restart was kept
    train_error: list  # per restart, on the training part
    valid_error: list  # per restart, on the held-out 10 %
    ls_epochs: list  # per restart, epochs trained without softmax (linear start)
    history: list = field(default_factory=list)  # per epoch: {"epoch", "lr", "loss", "valid_error"}
    seconds: float = 0.0


def fit(train: Table, *, vocab: Vocab, answers: list[str], hops: int = 3, d: int = 20, encoding: str = "pe",
        pe_variant: str = "matlab", temporal: bool = True, tying: str = "adjacent", linear_start: bool = True,
        random_noise: bool = True, restarts: int = 10, epochs: int = 100, batch_size: int = 32,
        lr: float = 0.01, ls_lr: float = 0.005, decay_every: int = 25, clip: float = 40.0, valid_fraction: float = 0.1,
        ls_patience: int = 5, ls_max_epochs: int = 20, null_memories: bool = True, memory_size: int = 50,
        seed: int = 0, progress=None) -> Fit:
    """Train `restarts` MemN2Ns together on `train` and keep the one with the lowest training error.

    Linear start: each model trains without the memory softmax until its validation loss has
    not reached a new minimum for `ls_patience` epochs (the loss of a linear model is noisy, so
    one bad epoch is not enough), at most `ls_max_epochs` (the authors' code uses exactly 20);
    then the softmax is restored and the model gets the full schedule of `epochs` epochs from
    `lr`, halved every `decay_every` (as in the authors' ``train_linear_start.m``). The linear
    phase uses `ls_lr` (the paper's 0.005).
    `progress` (optional) is called after every epoch with the history entry.
    """
    start = _time.perf_counter()
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    n_valid = int(round(len(train) * valid_fraction))
    perm = torch.randperm(len(train), generator=gen)
    valid, fit_part = train.subset(perm[:n_valid]), train.subset(perm[n_valid:])
    answer_words = torch.tensor([vocab[a] for a in answers])
    model = MemN2N(len(vocab), len(answers), d=d, hops=hops, memory_size=memory_size,
                   sentence_size=train.sentences.shape[1], encoding=encoding, pe_variant=pe_variant,
                   temporal=temporal, tying=tying, answer_words=answer_words, ensemble=restarts,
                   words=vocab.words, answers=answers, null_memories=null_memories)
    model.linear[:] = linear_start
    params = list(model.parameters())
    best_valid_loss = torch.full((restarts,), float("inf"))
    stale = torch.zeros(restarts, dtype=torch.long)  # epochs since the validation loss last reached a minimum
    ls_epochs = torch.zeros(restarts, dtype=torch.long)  # epochs each model spent in linear start
    history = []
    N = len(fit_part)
    epoch = 0
    while True:
        main = epoch - ls_epochs  # (E,) epochs into the main schedule (negative while linear)
        lr_now = torch.where(model.linear, torch.tensor(ls_lr), lr * 0.5 ** (main.clamp(min=0) // decay_every))
        done = (main >= epochs) & ~model.linear
        if bool(done.all()):
            break
        lr_now = torch.where(done, torch.tensor(0.0), lr_now)  # finished models wait for the others
        ls_epochs += model.linear.long()
        order = torch.randperm(N, generator=gen)
        total = 0.0
        step = -lr_now.view(-1, 1, 1)
        for i in range(0, N, batch_size):
            idx = order[i:i + batch_size]
            sentences, memory, queries, lengths = fit_part.batch(idx)
            time = noisy_time(lengths, memory_size, restarts, gen) if (random_noise and temporal) else None
            logits, _ = model.read(sentences, memory, queries, lengths, time)
            loss = cross_entropy(logits, fit_part.answers[idx])  # (E,) summed over the batch
            for p in params:
                p.grad = None
            loss.sum().backward()  # the models are independent: each gets its own gradient
            model.zero_nil()  # the nil word takes no part in the gradient norm
            clip_per_model(params, clip)
            with torch.no_grad():
                for p in params:
                    p.addcmul_(p.grad, step.view(-1, *[1] * (p.dim() - 1)))
            model.zero_nil()
            total += float(loss.detach().sum())
        v_err, v_loss = evaluate(model, valid) if n_valid else (torch.zeros(restarts), torch.zeros(restarts))
        if model.linear.any():  # linear start ends when the validation loss stops decreasing
            stale = torch.where(v_loss < best_valid_loss, 0, stale + 1)
            best_valid_loss = torch.minimum(best_valid_loss, v_loss)
            stop = model.linear & ((stale >= ls_patience) | (ls_epochs >= ls_max_epochs))
            model.linear &= ~stop
        epoch += 1
        entry = {"epoch": epoch, "lr": lr_now.tolist(), "loss": total / (N * restarts), "valid_error": v_err.tolist(),
                 "valid_loss": v_loss.tolist(), "linear": int(model.linear.sum())}
        history.append(entry)
        if progress is not None:
            progress(entry)
    model.linear[:] = False
    t_err, t_loss = evaluate(model, fit_part)
    v_err, _ = evaluate(model, valid) if n_valid else (torch.zeros(restarts), None)
    best = int(torch.argmin(t_err * 1e6 + t_loss))  # lowest training error, then lowest training loss
    return Fit(model.member(best), model, best, t_err.tolist(), v_err.tolist(), ls_epochs.tolist(), history,
               _time.perf_counter() - start)


# --- bAbI: per-task and joint -------------------------------------------------------------------

def load_samples(root, task: int, split: str, size: str = "1k", memory_size: int = 50):
    """The samples of one bAbI task file (official or generated)."""
    from memlib.babi.format import load_task

    return story_samples_of(load_task(root, task, split, size), memory_size)


def run_task(root, task: int, *, size: str = "1k", test_root=None, memory_size: int = 50, **kwargs):
    """Train on one task and return ``(fit, {"test_error", "train_error", ...}, tables)``."""
    train_s = load_samples(root, task, "train", size, memory_size)
    test_s = load_samples(test_root or root, task, "test", size, memory_size)
    vocab, answers = build_vocab(train_s + test_s)
    L = sentence_size(train_s + test_s)
    memory_size = min(memory_size, max(len(s.memories) for s in train_s + test_s))  # as the authors' code
    train_t = encode_table(train_s, vocab, answers, memory_size, L, [task] * len(train_s))
    test_t = encode_table(test_s, vocab, answers, memory_size, L, [task] * len(test_s))
    settings = dict(PER_TASK)
    settings.update(kwargs)
    result = fit(train_t, vocab=vocab, answers=answers, memory_size=memory_size, **settings)
    test_err, _ = evaluate(result.model, test_t)
    summary = {"test_error": float(test_err[0]), "train_error": result.train_error[result.best],
               "valid_error": result.valid_error[result.best], "best_restart": result.best,
               "restart_train_errors": result.train_error, "seconds": result.seconds}
    return result, summary, (train_t, test_t)


def run_joint(root, tasks, *, size: str = "1k", test_root=None, memory_size: int = 50, **kwargs):
    """Train one model on all `tasks` together (shared vocabulary) and report each task's test error."""
    train_s, test_s, train_tasks, test_tasks = [], [], [], []
    for task in tasks:
        a = load_samples(root, task, "train", size, memory_size)
        b = load_samples(test_root or root, task, "test", size, memory_size)
        train_s += a
        test_s += b
        train_tasks += [task] * len(a)
        test_tasks += [task] * len(b)
    vocab, answers = build_vocab(train_s + test_s)
    L = sentence_size(train_s + test_s)
    memory_size = min(memory_size, max(len(s.memories) for s in train_s + test_s))
    train_t = encode_table(train_s, vocab, answers, memory_size, L, train_tasks)
    test_t = encode_table(test_s, vocab, answers, memory_size, L, test_tasks)
    settings = dict(JOINT)
    settings.update(kwargs)
    result = fit(train_t, vocab=vocab, answers=answers, memory_size=memory_size, **settings)
    pred = predict(result.model, test_t)[0]
    per_task = {}
    for task in tasks:
        mask = test_t.tasks == task
        per_task[task] = float((pred[mask] != test_t.answers[mask]).float().mean())
    return result, per_task, (train_t, test_t)


def failed(errors: dict, threshold: float = 0.05) -> int:
    """Number of tasks with test error above 5 % (the paper's 'failed tasks')."""
    return sum(1 for e in errors.values() if e > threshold)


def mean(values) -> float:
    values = list(values)
    return sum(values) / len(values) if values else math.nan


def save_models(file, models: dict, meta: dict):
    """Write several MemN2Ns (``{name: model}``, e.g. one per task) to one checkpoint."""
    from memlib import checkpoints

    state = {f"{name}.{k}": v for name, model in models.items() for k, v in model.state_dict().items()}
    return checkpoints.save(file, state, {"models": {name: m.config for name, m in models.items()}}, meta)


def load_models(file) -> dict:
    """The models of a checkpoint written by `save_models` (``memlib memn2n train --save``): ``{name: MemN2N}``."""
    from memlib import checkpoints

    payload = checkpoints.load(file)
    out = {}
    for name, config in payload["config"]["models"].items():
        prefix = f"{name}."
        state = {k[len(prefix):]: v for k, v in payload["state_dict"].items() if k.startswith(prefix)}
        out[name] = MemN2N.from_checkpoint({"config": config, "state_dict": state})
    return out


@torch.no_grad()
def error_rate(model: MemN2N, samples, chunk: int = 250) -> float:
    """Fraction of `samples` (a list of `Sample`) that a one-model MemN2N answers wrongly."""
    samples = list(samples)
    index = {a: i for i, a in enumerate(model.answers)}
    wrong = 0
    for i in range(0, len(samples), chunk):
        part = samples[i:i + chunk]
        logits, _ = model(*model.encode(part))
        truth = torch.tensor([index.get(s.answer, -1) for s in part])
        wrong += int((logits.argmax(-1) != truth).sum())
    return wrong / max(1, len(samples))
