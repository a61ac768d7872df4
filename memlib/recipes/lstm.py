"""The LSTM baselines' recipe: train, evaluate and rebuild the question-answering LSTM (`QALSTM`).

Two ways to train it, both with the one fit loop `memlib.train.fit` (Adam on cross-entropy; the
epoch with the best validation accuracy is kept):

* `train`: one LSTM on one bAbI task, the LSTM column of the bAbI paper (Weston et al. 2016,
  Table 3), which `memlib lstm train` runs (``--cell rnn``: a plain RNN instead, the RNN row of
  Memory Networks' Table 3, Weston, Chopra & Bordes 2015);
* `train_distance`: one LSTM per distance between the supporting fact and the question, the
  curve of notebook 00, which `memlib lstm distance` runs and ships as ``lstm_qa_distance``.
"""

from __future__ import annotations

import time

import torch
import torch.nn.functional as F

import memlib
from memlib.babi.encode import Batch, Vocab, encode, samples
from memlib.models.baselines import QALSTM
from memlib.recipes import join_states, options, qa_result, state_of
from memlib.train import History, fit, minibatches, model_device, tally, to_device

#: The LSTM's test accuracy (%) with 1k training questions: bAbI paper (Weston et al. 2016), Table 3.
BABI_LSTM_ACCURACY = {1: 50, 2: 20, 3: 20, 4: 61, 5: 70, 6: 48, 7: 49, 8: 45, 9: 64, 10: 44,
                      11: 72, 12: 74, 13: 94, 14: 27, 15: 21, 16: 23, 17: 51, 18: 52, 19: 8, 20: 91}

#: How `memlib lstm train` trains the baseline (chosen on generated training data, see benchmarks/).
#: It reads the last 20 sentences before each question (about 130 words), which keeps one run of
#: task 3 (stories of up to 228 sentences) within a minute on a laptop CPU.
TRAIN_PRESET = dict(embedding_dim=50, hidden_size=64, epochs=15, lr=0.01, batch_size=64, patience=4,
                    memory_size=20)

#: How `memlib lstm distance` trains one LSTM per distance (the motivation notebook's curve).
DISTANCE_PRESET = dict(stories=1000, length=10, epochs=20, embedding_dim=32, hidden_size=32, lr=0.01, batch_size=32)

#: The settings `train` uses for the keys its config leaves out (`TRAIN_PRESET` is what the CLI passes).
DEFAULTS = dict(seed=0, memory_size=50, valid_share=0.1, embedding_dim=50, hidden_size=100, dropout=0.0,
                cell="lstm", epochs=40, lr=0.01, batch_size=32, clip=5.0, patience=None)

MODEL_KEYS = ("embedding_dim", "hidden_size", "dropout", "cell")  # the rest of a config goes to `fit_model`


def evaluate(model, data: Batch, chunk: int = 500) -> dict:
    """Answer accuracy of `model` on an encoded `data` batch (any model mapping memories, queries → logits)."""
    data = to_device(data, model_device(model))

    def counts(m, b):
        return {"correct": (m(b.memories, b.queries)[0].argmax(-1) == b.answers).sum().item()}

    return qa_result(tally(model, minibatches(data, chunk, shuffle=False), counts).get("correct", 0), len(data))


def fit_model(model, train: Batch, *, valid: Batch | None = None, epochs: int = 40, lr: float = 0.01,
              batch_size: int = 32, clip: float = 5.0, patience: int | None = None, seed: int = 0,
              progress=False) -> History:
    """Fit a built model with Adam on cross-entropy (`memlib.train.fit`); keep the best `valid` epoch's weights.

    With `valid`, training stops after `patience` epochs without a better validation accuracy.
    The batches go to the model's device.
    """
    device = model_device(model)

    def loss_fn(m, b):
        return F.cross_entropy(m(b.memories, b.queries)[0], b.answers)

    valid = to_device(valid, device) if valid is not None else None
    check = (lambda m: evaluate(m, valid)["accuracy"]) if valid is not None else None
    batches = minibatches(to_device(train, device), batch_size, seed=seed)
    return fit(model, loss_fn, batches, torch.optim.Adam(model.parameters(), lr=lr), epochs, clip=clip,
               evaluate=check, patience=(patience or epochs) if valid is not None else None,
               progress=progress, desc=model.config["cell"].upper())


def _new_model(config: dict, n_words: int, n_answers: int, train: Batch, valid: Batch | None,
              progress, device) -> tuple[QALSTM, History]:
    """A `QALSTM` seeded with ``config["seed"]`` on `device`, fitted by `fit_model` with the config's options."""
    torch.manual_seed(config["seed"])
    model = QALSTM(n_words, n_answers, **{k: v for k, v in config.items() if k in MODEL_KEYS}).to(device)
    settings = {k: config[k] for k in ("epochs", "lr", "batch_size", "clip", "patience", "seed") if k in config}
    return model, fit_model(model, train, valid=valid, progress=progress, **settings)


def train(config: dict, data, progress=None, device=None) -> tuple[QALSTM, dict]:
    """Train a `QALSTM` on bAbI stories as the bAbI paper's baseline → ``(model, result)``.

    data: ``(train_stories, test_stories)``. config: any keys of `DEFAULTS` (`TRAIN_PRESET` is the
    CLI's choice; ``cell="rnn"`` trains the plain RNN instead of the LSTM); the last ``valid_share`` of the training questions picks the epoch (the paper
    chose hyperparameters "using the training set"). result: ``{train, test}`` as `evaluate` gives
    them (train on the questions fitted), ``vocab``, ``answers``, ``history``, ``seconds``.
    """
    o = options(config, DEFAULTS)
    start = time.perf_counter()
    train_s, test_s = samples(data[0], o["memory_size"]), samples(data[1], o["memory_size"])
    if not train_s or not test_s:
        raise ValueError(f"need questions in both train and test stories, got {len(train_s)} and {len(test_s)}")
    vocab = Vocab.build(train_s + test_s)
    answers = sorted({s.answer for s in train_s + test_s})
    whole, test = encode(train_s, vocab, answers), encode(test_s, vocab, answers)
    n_valid = int(len(whole) * o["valid_share"])
    part, valid = (whole[: len(whole) - n_valid], whole[len(whole) - n_valid :]) if n_valid else (whole, None)
    model, history = _new_model(o, len(vocab), len(answers), part, valid, progress, memlib.device(device))
    return model, dict(train=evaluate(model, part), test=evaluate(model, test), vocab=vocab, answers=answers,
                       history=history, seconds=time.perf_counter() - start)


def train_distance(config: dict, progress=None, device=None) -> tuple[dict, dict]:
    """Train one `QALSTM` per distance 0..length-1, each on stories whose supporting fact sits that far back.

    As Memory Networks' Table 3 (Weston, Chopra & Bordes 2015) trains one model per difficulty:
    with a fixed budget (``stories`` per distance, 1k as in bAbI), how far back can an LSTM carry
    one fact? config: ``seed`` and any keys of `DISTANCE_PRESET`, which fills the rest. The data
    are generated (`memlib.babi.generate.distance`). Returns ``({distance: QALSTM}, result)``,
    result ``{vocab, answers, per_distance, train_per_distance, seed, <the preset's keys>, seconds}``;
    accuracies are measured on 500 seeded test stories per distance.
    """
    from memlib.babi.generate.distance import distance_stories, words
    from memlib.babi.world import LOCATIONS

    seed = config.get("seed", 0)
    o = options({k: v for k, v in config.items() if k != "seed"}, DISTANCE_PRESET)
    start = time.perf_counter()
    vocab, answers = Vocab(words()), sorted(LOCATIONS)
    models, per_distance, train_per_distance = {}, [], []
    for d in range(o["length"]):
        data = encode(samples(distance_stories(o["stories"], d, seed=seed, length=o["length"])), vocab, answers)
        test = encode(samples(distance_stories(500, d, seed=seed + 1000, length=o["length"])), vocab, answers)
        n_fit = len(data) - len(data) // 10  # the last 10 % picks the epoch
        models[d], _ = _new_model(dict(o, seed=seed), len(vocab), len(answers), data[:n_fit], data[n_fit:],
                                 progress, memlib.device(device))
        per_distance.append(round(evaluate(models[d], test)["accuracy"], 4))
        train_per_distance.append(round(evaluate(models[d], data[:n_fit])["accuracy"], 4))
    return models, dict(vocab=vocab, answers=answers, per_distance=per_distance,
                        train_per_distance=train_per_distance, seed=seed, **o,
                        seconds=round(time.perf_counter() - start, 2))


def to_checkpoint(model: QALSTM | dict) -> tuple[dict, dict]:
    """What a checkpoint stores of a `QALSTM` or of ``{distance: QALSTM}``: ``(state_dict, config)``; `build` inverts it."""
    if not isinstance(model, dict):
        return model.state_dict(), {"family": "lstm", **model.config}
    state = join_states({d: m.state_dict() for d, m in model.items()})
    return state, {"family": "lstm", **next(iter(model.values())).config, "distances": list(model)}


def build(config: dict, state_dict: dict) -> QALSTM | dict:
    """The `QALSTM` of a stored config with its weights; a per-distance file (``distances``) gives ``{d: QALSTM}``."""
    if "distances" not in config:
        model = QALSTM(**config)
        model.load_state_dict(state_dict)
        return model
    shared = {k: v for k, v in config.items() if k != "distances"}
    return {d: build(shared, state_of(state_dict, d)) for d in config["distances"]}
