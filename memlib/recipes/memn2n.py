"""Training MemN2N the paper's way (Sukhbaatar et al. 2015, §4.2), per bAbI task or jointly (§4.4).

The recipe: SGD (no momentum) with the cost summed over a batch of 32, learning rate 0.01
halved every 25 epochs for 100 epochs (0.005 during linear start, which comes first and, as in
the authors' code, is followed by the full schedule), gradients clipped to norm 40,
Gaussian σ = 0.1 init, the nil embedding kept at zero, 10 % of the training questions held out
for validation. Linear start (LS) trains without the memory softmax until the validation loss
stops decreasing (no new minimum for 5 epochs, at most 20 epochs as in the authors' code);
random noise (RN) leaves 10 % empty memories between the sentences (random gaps in the
temporal index). Each configuration is trained N times from different random initialisations
and the run with the lowest *training* error is kept (ties: the lower training loss).

The N restarts train as one `MemN2NEnsemble` over tables of distinct sentences
(``benchmarks/memn2n_babi.py --speed`` measures the gain); the kept restart comes back as the
reference form `MemN2N`.
"""

from __future__ import annotations

import math
import time as _time
from dataclasses import dataclass, field

import torch

import memlib
from memlib.babi.encode import Batch, Vocab, encode, longest_sentence, samples
from memlib.models.memn2n import MemN2N
from memlib.models.memn2n_fast import MemN2NEnsemble, cross_entropy
from memlib.recipes import join_states, options, qa_result, state_of
from memlib.train import model_device, to_device

#: every option of `train`, with the paper's per-task values
DEFAULTS = dict(hops=3, d=20, encoding="pe", pe_variant="matlab", temporal=True, tying="adjacent",
                linear_start=True, random_noise=True, null_memories=True, restarts=10, epochs=100, batch_size=32,
                lr=0.01, ls_lr=0.005, decay_every=25, clip=40.0, valid_fraction=0.1, ls_patience=5, ls_max_epochs=20,
                seed=0)
#: the paper's recipe, per-task (§4.2) and joint (§4.4, the authors' joint config)
PER_TASK = dict(d=20, epochs=100, decay_every=25, ls_max_epochs=20)
JOINT = dict(d=50, epochs=60, decay_every=15, ls_max_epochs=30)
MODEL_KEYS = ("hops", "d", "encoding", "pe_variant", "temporal", "tying", "null_memories")


@dataclass
class Data:
    """bAbI questions encoded for MemN2N, with one vocabulary (answers included) and answer list."""

    vocab: Vocab
    answers: list[str]
    train: Batch
    test: Batch
    test_tasks: torch.Tensor  # (N_test,) the bAbI task of each test question


@dataclass
class Fit:
    """The result of `train`: the kept model, every restart's errors, and the history."""

    model: MemN2N  # the kept restart
    ensemble: MemN2NEnsemble  # all restarts
    best: int  # which restart was kept
    train_error: list  # per restart, on the training part
    valid_error: list  # per restart, on the held-out 10 %
    ls_epochs: list  # per restart, epochs trained without softmax (linear start)
    history: list = field(default_factory=list)  # per epoch: {"epoch", "lr", "loss", "valid_error", ...}
    seconds: float = 0.0


def build_vocab(samples) -> tuple[Vocab, list[str]]:
    """The vocabulary (list answers such as ``apple,milk`` added as one word each) and the answer classes."""
    vocab = Vocab.build(samples)
    answers = sorted({s.answer for s in samples})
    for a in answers:
        vocab.add(a)  # Wᵀ = C^K needs a word for every answer class
    return vocab, answers


def load_data(root, tasks, size: str = "1k", test_root=None, memory_size: int = 50) -> Data:
    """The train and test questions of bAbI `tasks` (official or generated files), encoded together."""
    from memlib.babi.format import load_task

    train_s, test_s, test_tasks = [], [], []
    for task in tasks:
        train_s += samples(load_task(root, task, "train", size), memory_size)
        test = samples(load_task(test_root or root, task, "test", size), memory_size)
        test_s += test
        test_tasks += [task] * len(test)
    vocab, answers = build_vocab(train_s + test_s)
    L = longest_sentence(train_s + test_s)
    M = min(memory_size, max(len(s.memories) for s in train_s + test_s))  # as the authors' code
    return Data(vocab, answers, encode(train_s, vocab, answers, M, L), encode(test_s, vocab, answers, M, L),
                torch.tensor(test_tasks))


def noisy_time(lengths: torch.Tensor, M: int, E: int, generator=None) -> torch.Tensor:
    """Random noise (RN): temporal indices with random gaps, as if 10 % empty memories were added.

    For a sample with n memories, draw ``k ~ U{0..ceil(n/10)}`` empty memories (fewer if the
    memory has no room) and put each one in a random gap between the sentences; a sentence's
    index is its rank from the most recent plus the number of empty memories after it.
    Returns ``(E, B, M)``: an independent draw for each model of the ensemble.
    """
    B, device = lengths.shape[0], lengths.device
    n = lengths.view(1, B, 1)  # (1, B, 1)
    K = max(1, math.ceil(M / 10))
    k = (torch.rand(E, B, 1, generator=generator, device=device) * (torch.ceil(n / 10) + 1)).floor().long()
    k = torch.minimum(k, M - n)  # (E, B, 1) empty memories, only where there is room
    gap = (torch.rand(E, B, K, generator=generator, device=device) * (n + 1)).floor().long()  # (E, B, K) gap 0..n
    gap = gap.masked_fill(torch.arange(K, device=device).view(1, 1, K) >= k, M + 1)  # unused: beyond every sentence
    rank = (n - 1 - torch.arange(M, device=device).view(1, 1, M)).clamp(min=0)  # (1, B, M) 0 = most recent slot
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
def errors(model: MemN2NEnsemble, batch: Batch, chunk: int = 1000) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-restart error rate and summed loss per question on `batch`: two tensors of shape (E,)."""
    wrong = torch.zeros(model.E, device=model_device(model))
    loss = torch.zeros(model.E, device=model_device(model))
    for i in range(0, len(batch), chunk):
        part = batch[i:i + chunk]
        logits, _ = model(*part.distinct(), part.queries, part.lengths)
        wrong += (logits.argmax(-1) != part.answers).float().sum(1)
        loss += cross_entropy(logits, part.answers)
    return wrong / max(1, len(batch)), loss / max(1, len(batch))


@torch.no_grad()
def predictions(model: MemN2N, batch: Batch, chunk: int = 1000) -> torch.Tensor:
    """The answer class `model` gives each question of `batch` (N,), computed by the fast form."""
    fast = MemN2NEnsemble.stack([model])
    batch = to_device(batch, model_device(fast))
    out = []
    for i in range(0, len(batch), chunk):
        part = batch[i:i + chunk]
        logits, _ = fast(*part.distinct(), part.queries, part.lengths)
        out.append(logits[0].argmax(-1))
    return torch.cat(out)


def evaluate(model: MemN2N, data) -> dict:
    """`memlib.recipes.qa_result` of `model` on `data`: samples, or a `Batch` in the model's vocabulary."""
    batch = data if isinstance(data, Batch) else model.batch(data)
    correct = int((predictions(model, batch).cpu() == batch.answers.cpu()).sum())
    return qa_result(correct, len(batch))


def train(config: dict, data: Data, progress=None, device=None) -> tuple[MemN2N, Fit]:
    """Train ``config["restarts"]`` MemN2Ns on ``data.train`` together; keep the lowest training error.

    Its own loop, not `memlib.train.fit`: each restart has its own gradient clipping, learning
    rate and linear-start phase. config: any keys of `DEFAULTS`. `progress` (optional) is called
    after every epoch with the history entry. Returns the kept restart (a `MemN2N`) and the `Fit`.
    """
    o = options(config, DEFAULTS)
    start = _time.perf_counter()
    device = memlib.device(device)
    torch.manual_seed(o["seed"])
    gen = torch.Generator(device=device).manual_seed(o["seed"])
    whole, E = to_device(data.train, device), o["restarts"]
    n_valid = int(round(len(whole) * o["valid_fraction"]))
    perm = torch.randperm(len(whole), generator=gen, device=device)
    valid, part = whole[perm[:n_valid]], whole[perm[n_valid:]]
    with device:  # the weights are born on the device
        model = MemN2NEnsemble(len(data.vocab), len(data.answers), memory_size=whole.rows.shape[1],
                               sentence_size=whole.sentences.shape[1], ensemble=E, words=data.vocab.words,
                               answers=data.answers, answer_words=[data.vocab[a] for a in data.answers],
                               **{k: o[k] for k in MODEL_KEYS})
    model.linear[:] = o["linear_start"]
    history, ls_epochs = run_epochs(model, part, valid, o, gen, progress)
    model.linear[:] = False
    t_err, t_loss = errors(model, part)
    v_err, _ = errors(model, valid) if n_valid else (torch.zeros(E, device=device), None)
    best = int(torch.argmin(t_err * 1e6 + t_loss))  # lowest training error, then lowest training loss
    fit = Fit(model.member(best), model, best, t_err.tolist(), v_err.tolist(), ls_epochs.tolist(), history,
              _time.perf_counter() - start)
    return fit.model, fit


def run_epochs(model: MemN2NEnsemble, part: Batch, valid: Batch, o: dict, gen, progress) -> tuple[list, torch.Tensor]:
    """Linear start, then `epochs` epochs from `lr` halved every `decay_every`, for each restart on its own.

    Linear start ends for a restart when its validation loss has not reached a new minimum for
    `ls_patience` epochs (the loss of a linear model is noisy, so one bad epoch is not enough),
    after at most `ls_max_epochs` (the authors' code uses exactly 20); then the restart gets the
    full schedule, as in the authors' ``train_linear_start.m``. Returns the history and the
    linear-start epochs of each restart.
    """
    E, device = model.E, model_device(model)
    best_valid_loss = torch.full((E,), float("inf"), device=device)
    stale = torch.zeros(E, dtype=torch.long, device=device)  # epochs since the validation loss last fell
    ls_epochs = torch.zeros(E, dtype=torch.long, device=device)  # epochs each model spent in linear start
    history, epoch = [], 0
    while True:
        main = epoch - ls_epochs  # (E,) epochs into the main schedule (negative while linear)
        lr = torch.where(model.linear, torch.tensor(o["ls_lr"], device=device),
                         o["lr"] * 0.5 ** (main.clamp(min=0) // o["decay_every"]))
        done = (main >= o["epochs"]) & ~model.linear
        if bool(done.all()):
            return history, ls_epochs
        lr = torch.where(done, torch.tensor(0.0, device=device), lr)  # finished models wait for the others
        ls_epochs += model.linear.long()
        total = train_epoch(model, part, lr, o, gen)
        v_err, v_loss = errors(model, valid) if len(valid) else (torch.zeros(E, device=device),) * 2
        if model.linear.any():  # linear start ends when the validation loss stops decreasing
            stale = torch.where(v_loss < best_valid_loss, 0, stale + 1)
            best_valid_loss = torch.minimum(best_valid_loss, v_loss)
            model.linear &= ~((stale >= o["ls_patience"]) | (ls_epochs >= o["ls_max_epochs"]))
        epoch += 1
        history.append({"epoch": epoch, "lr": lr.tolist(), "loss": total / (len(part) * E),
                        "valid_error": v_err.tolist(), "valid_loss": v_loss.tolist(), "linear": int(model.linear.sum())})
        if progress is not None:
            progress(history[-1])


def train_epoch(model: MemN2NEnsemble, part: Batch, lr: torch.Tensor, o: dict, gen) -> float:
    """One pass over `part` in random order: plain SGD on the summed loss; returns the summed loss."""
    params = list(model.parameters())
    order = torch.randperm(len(part), generator=gen, device=gen.device)
    step = -lr.view(-1, 1, 1)
    total = 0.0
    for i in range(0, len(part), o["batch_size"]):
        batch = part[order[i:i + o["batch_size"]]]
        time = noisy_time(batch.lengths, model.M, model.E, gen) if (o["random_noise"] and o["temporal"]) else None
        logits, _ = model(*batch.distinct(), batch.queries, batch.lengths, time)
        loss = cross_entropy(logits, batch.answers)  # (E,) summed over the batch
        for p in params:
            p.grad = None
        loss.sum().backward()  # the models are independent: each gets its own gradient
        model.zero_nil()  # the nil word takes no part in the gradient norm
        clip_per_model(params, o["clip"])
        with torch.no_grad():
            for p in params:
                p.addcmul_(p.grad, step.view(-1, *[1] * (p.dim() - 1)))
        model.zero_nil()
        total += float(loss.detach().sum())
    return total


# --- bAbI: per-task and joint, for the CLI and the benchmark -----------------------------------

def run_task(root, task: int, *, size: str = "1k", test_root=None, memory_size: int = 50, progress=None,
             device=None, **config):
    """Train on one task and return ``(fit, {"test_error", "train_error", ...}, (train, test))``."""
    data = load_data(root, [task], size, test_root, memory_size)
    model, fit = train({**PER_TASK, **config}, data, progress, device)
    test_err, _ = errors(MemN2NEnsemble.stack([model]), to_device(data.test, model_device(fit.ensemble)))
    summary = {"test_error": float(test_err[0]), "train_error": fit.train_error[fit.best],
               "valid_error": fit.valid_error[fit.best], "best_restart": fit.best,
               "restart_train_errors": fit.train_error, "seconds": fit.seconds}
    return fit, summary, (data.train, data.test)


def run_joint(root, tasks, *, size: str = "1k", test_root=None, memory_size: int = 50, progress=None,
              device=None, **config):
    """Train one model on all `tasks` together (shared vocabulary) → ``(fit, {task: test error}, (train, test))``."""
    data = load_data(root, tasks, size, test_root, memory_size)
    model, fit = train({**JOINT, **config}, data, progress, device)
    wrong = (predictions(model, data.test) != data.test.answers.to(model_device(fit.ensemble))).cpu()
    per_task = {task: float(wrong[data.test_tasks == task].float().mean()) for task in tasks}
    return fit, per_task, (data.train, data.test)


def failed(errors: dict, threshold: float = 0.05) -> int:
    """Number of tasks with test error above 5 % (the paper's 'failed tasks')."""
    return sum(1 for e in errors.values() if e > threshold)


def mean(values) -> float:
    """The mean of `values` (NaN for none)."""
    values = list(values)
    return sum(values) / len(values) if values else math.nan


# --- checkpoints: one file holds several models (one per task, or "joint") ----------------------

def to_checkpoint(models: dict) -> tuple[dict, dict]:
    """What a checkpoint stores of ``{name: MemN2N}``: ``(state_dict, config)``; `build` inverts it.

    Each model is stored as a one-restart `MemN2NEnsemble` (its keys and shapes, E = 1).
    """
    stored = {name: MemN2NEnsemble.stack([m]) for name, m in models.items()}
    state = join_states({name: m.state_dict() for name, m in stored.items()})
    return state, {"family": "memn2n", "models": {name: m.config for name, m in stored.items()}}


def build(config: dict, state_dict: dict) -> dict:
    """``{name: MemN2N}`` of a checkpoint: each stored one-restart ensemble as the reference form."""
    models = {}
    for name, settings in config["models"].items():
        state = state_of(state_dict, name)
        fast = MemN2NEnsemble(**settings, answer_words=state.get("answer_words"))
        fast.load_state_dict(state)
        models[name] = fast.member(0)
    return models
