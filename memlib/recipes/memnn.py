"""The MemNN recipe: prepare bAbI data, train the strongly supervised Memory Network, evaluate, rebuild.

Training follows Weston, Chopra & Bordes (2015): SGD on the margin ranking loss of §3.1
(eqs. 6–8, `memlib.models.memnn.MemNN.loss_terms`) with the supporting facts as labels and the
settings of §5.2 (learning rate 0.01, margin γ = 0.1), in the one fit loop `memlib.train.fit`.

`PRESET` is the model of Memory Networks (k fixed hops, single-word answers: tasks 1–3).
`BABI_PRESET` is the one that answers all 20 bAbI tasks, the "AM+NG+NL" MemNN of the bAbI paper
(Weston et al. 2016, §5 and Table 3; "Strongly Supervised MemNN" in Sukhbaatar et al. 2015,
Table 1). What it needs beyond tasks 1–3, and which task needs it:

* adaptive memory (AM): as many hops as the question has supporting facts, then the STOP memory
  m_∅; the cap is the most facts of a training question + 1 (task 7 counts up to 8 facts, task 8
  up to 7; 1–3 facts elsewhere);
* answer lists (task 8 "apple,milk", task 19 paths "n,w"): R answers word after word, each step
  seeing the words said before, until the STOP word (the answer is right if every word and the
  STOP are); counts (task 7 "two") and yes/no/maybe (tasks 6, 9, 10, 17, 18) are single words;
* N-grams (NG): pairs of neighbouring words as features, for word order ("what is north of the
  hallway" against "what is the hallway north of", task 4; "mice are afraid" against "afraid of
  mice", task 15);
* a nonlinear matching function (NL), E(x) = tanh(W tanh(U Φ(x))): a yes/no answer compares the
  question's place with the memory's (tasks 6, 9, 10, 17, 18), which no sum of bilinear scores can;
* not in the paper: R sees the newest fact found in a block of its own (``recency``). Without it
  R reads the found facts as one bag and cannot tell "John went to the garden. Then he went to
  the office." from the reverse: on generated data tasks 11 and 13 had 51.0 % and 53.5 % test
  error with every supporting fact found (99.6–100 % per hop), and 0.3 % and 0.2 % with it.
"""

from __future__ import annotations

import dataclasses
import time

import torch

import memlib
from memlib.babi.encode import Batch, Vocab, encode, samples
from memlib.models.memnn import MemNN, hop_targets
from memlib.recipes import options, qa_result
from memlib.train import History, fit, minibatches, model_device, tally, to_device

#: How `memlib memnn train --task` builds and trains the model (its defaults; `--hops`, `--epochs`, … override).
PRESET = dict(seed=0, dim=100, hops=2, time_features=True, margin=0.1, std=0.1, epochs=30, lr=0.01,
              batch_size=8, negatives=20, halve_every=10, target=1.0, clip=10.0,
              adaptive=False, ngrams=False, nonlinear=False, recency=False)

#: How `memlib memnn train --tasks` trains one MemNN per task: AM+NG+NL of the bAbI paper (see above).
#: With `adaptive`, `hops` is the cap of the paper (10); each task uses its most facts + 1. The
#: nonlinear R learned yes/no (task 6, generated data) only at a higher rate: lr 0.01 for 30 epochs
#: reached 89 % train accuracy, lr 0.05 100 %; halving it every 15 epochs, 40 epochs at most.
BABI_PRESET = dict(PRESET, hops=10, adaptive=True, ngrams=True, nonlinear=True, recency=True, lr=0.05, epochs=40,
                   halve_every=15)

MODEL_KEYS = ("dim", "hops", "time_features", "margin", "std", "adaptive", "nonlinear", "recency")  # the rest: `fit_model`
DATA_KEYS = ("ngrams",)  # read by `train` to build the model from the data


def prepare(train_stories, test_stories=(), memory_size: int = 0):
    """Stories → (vocab, train Batch, test Batch or None); answers are word ids.

    memory_size=0 keeps every statement of the story: a MemNN reads its whole memory.
    The vocabulary covers train and test words (a test-only word keeps its random vector).
    If some answer is a list ("apple,milk", "n,w"), every answer becomes a row of word ids
    ending with STOP (0), as long as the longest answer + 1 (`encode_samples`).
    """
    train = samples(train_stories, memory_size)
    test = samples(test_stories, memory_size) if test_stories else []
    vocab = Vocab.build(train + test)
    longest = max(len(s.answer.split(",")) for s in train + test)
    words = 1 if longest == 1 else longest + 1
    return vocab, encode_samples(train, vocab, words), (encode_samples(test, vocab, words) if test else None)


def encode_samples(items, vocab: Vocab, answer_words: int = 1) -> Batch:
    """Samples → a Batch whose answers are word ids (B,); MemNN's R answers with one word, so "a,b" is refused.

    answer_words > 1 (an R that answers lists): answers (B, answer_words), the words of each
    answer then STOP (0) and padding 0.
    """
    items = list(items)
    if answer_words == 1:
        for s in items:
            if "," in s.answer:
                raise ValueError(f"MemNN answers with a single word; got {s.answer!r} for {s.question!r}")
        return encode(items, vocab, vocab.words)
    answers = torch.zeros(len(items), answer_words, dtype=torch.long)
    for b, s in enumerate(items):
        words = vocab.encode(s.answer.split(","))
        if len(words) >= answer_words:
            raise ValueError(f"answer {s.answer!r} has {len(words)} words; this R says at most {answer_words - 1}")
        answers[b, : len(words)] = torch.tensor(words)
    return dataclasses.replace(encode(items, vocab), answers=answers)


def bigrams_of(data: Batch) -> list[tuple[int, int]]:
    """Every pair of neighbouring words in the memories and questions of `data` (the N-gram features), sorted."""
    words = torch.cat([data.sentences if data.sentences is not None else data.memories.flatten(0, 1), data.queries])
    pairs = torch.stack([words[:, :-1], words[:, 1:]], -1).reshape(-1, 2)
    pairs = pairs[(pairs > 0).all(1)]
    return [tuple(p) for p in torch.unique(pairs, dim=0).tolist()]


def shape_of(data: Batch, cap: int) -> dict:
    """What an adaptive MemNN's shape takes from its training data: hops (most facts + 1, at most `cap`), answer words."""
    facts = int((data.supports >= 0).sum(1).max())
    return dict(hops=min(cap, facts + 1), answer_words=1 if data.answers.dim() == 1 else data.answers.shape[1])


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
        targets = hop_targets(b.supports, m.hops, b.memories.shape[1] if m.adaptive else None)  # (B, k)
        known = targets >= 0
        right = trace.answer == b.answers
        return {"correct": (right if right.dim() == 1 else right.all(1)).sum().item(),
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
    shape = {k: o[k] for k in MODEL_KEYS}
    if o["adaptive"]:
        shape.update(shape_of(train_batch, o["hops"]))
    elif train_batch.answers.dim() == 2:
        shape["answer_words"] = train_batch.answers.shape[1]
    if o["ngrams"]:
        shape["bigrams"] = bigrams_of(train_batch)
    torch.manual_seed(o["seed"])
    model = MemNN(len(vocab), **shape).to(memlib.device(device))
    start = time.perf_counter()
    history = fit_model(model, train_batch, progress=progress,
                        **{k: v for k, v in o.items() if k not in MODEL_KEYS + DATA_KEYS})
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
