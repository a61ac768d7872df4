"""The MemNN recipe: prepare bAbI data, train the strongly supervised Memory Network, evaluate, rebuild.

Training follows Weston, Chopra & Bordes (2015): SGD on the margin ranking loss of §3.1
(eqs. 6–8, `memlib.models.memnn.MemNN.loss_terms`) with the supporting facts as labels and the
settings of §5.2 (learning rate 0.01, margin γ = 0.1), in the one fit loop `memlib.train.fit`.
"""

from __future__ import annotations

import time

import torch

import memlib
from memlib.babi.encode import Batch, Vocab, encode, samples
from memlib.models.memnn import MemNN, hop_targets
from memlib.recipes import options, qa_result
from memlib.train import History, fit, minibatches, model_device, tally, to_device

#: How `memlib memnn train` builds and trains the model (its defaults; `--hops`, `--epochs`, … override).
PRESET = dict(seed=0, dim=100, hops=2, time_features=True, margin=0.1, std=0.1, epochs=30, lr=0.01,
              batch_size=8, negatives=20, halve_every=10, target=1.0, clip=10.0)

MODEL_KEYS = ("dim", "hops", "time_features", "margin", "std")  # the rest of a config goes to `fit_model`


def prepare(train_stories, test_stories=(), memory_size: int = 0):
    """Stories → (vocab, train Batch, test Batch or None); answers are word ids (single words only).

    memory_size=0 keeps every statement of the story: a MemNN reads its whole memory.
    The vocabulary covers train and test words (a test-only word keeps its random vector).
    """
    train = samples(train_stories, memory_size)
    test = samples(test_stories, memory_size) if test_stories else []
    vocab = Vocab.build(train + test)
    return vocab, encode_samples(train, vocab), (encode_samples(test, vocab) if test else None)


def encode_samples(items, vocab: Vocab) -> Batch:
    """Samples → a Batch whose answers are word ids; MemNN's R answers with one word, so "a,b" is refused."""
    items = list(items)
    for s in items:
        if "," in s.answer:
            raise ValueError(f"MemNN answers with a single word; got {s.answer!r} for {s.question!r}")
    return encode(items, vocab, vocab.words)


def vocab_of(meta: dict) -> Vocab:
    """The vocabulary a checkpoint's metadata stores (``meta["vocab"]``, nil word first)."""
    return Vocab(meta["vocab"])


def evaluate(model: MemNN, data: Batch, chunk: int = 500) -> dict:
    """Answer accuracy and, per hop, supporting-fact accuracy (chosen slot = true slot): `qa_result`."""
    if len(data) == 0:
        raise ValueError("an evaluation needs at least one question")
    data = to_device(data, model_device(model))

    def counts(m, b):
        _, trace = m(b.memories, b.queries)
        targets = hop_targets(b.supports, m.hops)  # (B, k)
        known = targets >= 0
        return {"correct": (trace.answer == b.answers).sum().item(),
                "hop_right": ((trace.chosen == targets) & known).sum(0), "hop_seen": known.sum(0)}

    n = tally(model, minibatches(data, chunk, shuffle=False), counts)
    support = (n["hop_right"] / n["hop_seen"].clamp(min=1)).tolist()
    return qa_result(n["correct"], len(data), support_accuracy=support)


def fit_model(model: MemNN, train: Batch, *, epochs: int = 30, lr: float = 0.01,
              batch_size: int = 8, negatives: int | None = 20, seed: int = 0,
              halve_every: int | None = 10, target: float | None = 1.0, clip: float | None = 10.0,
              progress=True, desc: str = "MemNN") -> History:
    """SGD on the hinge loss (paper §5.2: lr 0.01, γ 0.1) of a built model; stops early at `target` train accuracy.

    The learning rate is halved every `halve_every` epochs (our addition: plain SGD keeps
    flipping a few hop-2 choices back and forth at a constant rate). The batches go to the
    model's device, and so does the generator that samples the negatives.
    """
    device = model_device(model)
    train = to_device(train, device)
    gen = torch.Generator(device=device).manual_seed(seed)

    def loss_fn(m, b):
        terms = m.loss_terms(b.memories, b.queries, b.supports, b.answers, negatives, gen)
        return sum(terms.values()), {k: v.item() for k, v in terms.items()}

    def schedule(epoch, optimizer):
        for group in optimizer.param_groups:
            group["lr"] = lr * 0.5 ** (epoch // halve_every) if halve_every else lr

    def train_accuracy(m):
        return evaluate(m, train)["accuracy"]

    return fit(model, loss_fn, minibatches(train, batch_size, seed=seed), torch.optim.SGD(model.parameters(), lr=lr),
               epochs, clip=clip, schedule=schedule, evaluate=train_accuracy if target is not None else None,
               target=target, progress=progress, desc=desc)


def train(config: dict, data, progress=None, device=None) -> tuple[MemNN, dict]:
    """Build a `MemNN` seeded with ``config["seed"]`` and train it → ``(model, result)``.

    data: ``(vocab, train Batch, test Batch)`` as `prepare` gives them. config: any keys of
    `PRESET`, which fills the rest. result: ``{train, test}`` as `evaluate` gives them,
    ``history`` and ``seconds`` (of training alone).
    """
    o = options(config, PRESET)
    vocab, train_batch, test_batch = data
    torch.manual_seed(o["seed"])
    model = MemNN(len(vocab), **{k: o[k] for k in MODEL_KEYS}).to(memlib.device(device))
    start = time.perf_counter()
    history = fit_model(model, train_batch, progress=progress,
                        **{k: v for k, v in o.items() if k not in MODEL_KEYS})
    seconds = time.perf_counter() - start
    test = evaluate(model, test_batch) if test_batch is not None else None  # prepare() without test stories
    return model, dict(train=evaluate(model, train_batch), test=test, history=history,
                       seconds=seconds)


def to_checkpoint(model: MemNN) -> tuple[dict, dict]:
    """What a checkpoint stores of `model`: ``(state_dict, config)``; `build` inverts it."""
    return model.state_dict(), {"family": "memnn", **model.config}


def build(config: dict, state_dict: dict) -> MemNN:
    """The `MemNN` of a stored config with its weights (its vocabulary: `vocab_of` the checkpoint's meta)."""
    model = MemNN(**config)
    model.load_state_dict(state_dict)
    return model
