"""LSTM baselines of the lecture's comparisons."""

from __future__ import annotations

import time
from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence


class SequenceLSTM(nn.Module):
    """A stacked LSTM that maps an input sequence to output logits, step by step (NTM tasks).

    The paper's baseline for the algorithmic tasks: 3 layers, learned initial state, a linear
    read-out to one logit per output bit. ``forward`` returns ``(logits, None)`` so that it can
    be trained and evaluated by the same code as the NTM (which also returns a trace).
    """

    def __init__(self, input_size: int, output_size: int, *, hidden_size: int = 256,
                 layers: int = 3, clip: float = 20.0):
        super().__init__()
        self.config = dict(input_size=input_size, output_size=output_size,
                           hidden_size=hidden_size, layers=layers, clip=clip)
        self.lstm = nn.LSTM(input_size, hidden_size, num_layers=layers, batch_first=True)
        self.h0 = nn.Parameter(torch.zeros(layers, 1, hidden_size))  # learned initial state
        self.c0 = nn.Parameter(torch.zeros(layers, 1, hidden_size))
        self.out = nn.Linear(hidden_size, output_size)
        self.clip = clip

    def forward(self, x: torch.Tensor, trace: bool = False):
        """x: (B, T, input_size) → logits (B, T, output_size), None."""
        if x.dim() != 3 or x.shape[-1] != self.config["input_size"]:
            raise ValueError(f"x must have shape (batch, time, {self.config['input_size']}), "
                             f"got {tuple(x.shape)}")
        B = x.shape[0]
        h, _ = self.lstm(x, (self.h0.expand(-1, B, -1).contiguous(),
                             self.c0.expand(-1, B, -1).contiguous()))  # (B, T, hidden)
        return self.out(h).clamp(-self.clip, self.clip), None


# --- Question answering on bAbI: the LSTM column of the lecture's tables ---------------------

#: The LSTM's test accuracy (%) with 1k training questions: bAbI paper (Weston et al. 2016), Table 3.
BABI_LSTM_ACCURACY = {1: 50, 2: 20, 3: 20, 4: 61, 5: 70, 6: 48, 7: 49, 8: 45, 9: 64, 10: 44,
                      11: 72, 12: 74, 13: 94, 14: 27, 15: 21, 16: 23, 17: 51, 18: 52, 19: 8, 20: 91}

#: How `memlib lstm train` trains the baseline (chosen on generated training data, see benchmarks/).
#: It reads the last 20 sentences before each question (about 130 words), which keeps one run of
#: task 3 (stories of up to 228 sentences) within a minute on a laptop CPU.
TRAIN_PRESET = dict(embedding_dim=50, hidden_size=64, epochs=15, lr=0.01, batch_size=64, patience=4,
                    memory_size=20)


def story_words(memories: torch.Tensor, queries: torch.Tensor):
    """The story's words, then the question's, nil words dropped: ids (B, T) and lengths (B,)."""
    if memories.dim() != 3 or queries.dim() != 2 or memories.shape[0] != queries.shape[0]:
        raise ValueError("expected memories (batch, memory, words) and queries (batch, words), "
                         f"got {tuple(memories.shape)} and {tuple(queries.shape)}")
    ids = torch.cat([memories.flatten(1), queries], dim=1)  # (B, M*L + L), oldest sentence first
    real = ids != 0
    order = torch.argsort((~real).long(), dim=1, stable=True)  # real words first, order kept
    lengths = real.sum(1)  # (B,)
    return ids.gather(1, order)[:, : max(1, int(lengths.max()))], lengths


@dataclass
class QATrace:
    """What the QA LSTM read and the state it carried."""

    words: torch.Tensor  # (B, T) word ids read, story then question, 0 after the end
    lengths: torch.Tensor  # (B,) words read per sample
    hidden: torch.Tensor  # (B, T, hidden) LSTM output after each word, 0 after the end


class QALSTM(nn.Module):
    """The bAbI paper's LSTM baseline: read the story word by word, then the question; answer a word.

    It has no memory but its own state: the whole story must pass through `hidden_size`
    numbers before the question is seen. It takes the memory networks' tensors
    (``memories (B, M, L)``, ``queries (B, L)``) and reads their words in order.
    """

    def __init__(self, vocab_size: int, n_answers: int, *, embedding_dim: int = 50,
                 hidden_size: int = 100, dropout: float = 0.0):
        super().__init__()
        self.config = dict(vocab_size=vocab_size, n_answers=n_answers, embedding_dim=embedding_dim,
                           hidden_size=hidden_size, dropout=dropout)
        self.embed = nn.Embedding(vocab_size, embedding_dim, padding_idx=0)  # word 0 = nil
        self.lstm = nn.LSTM(embedding_dim, hidden_size, batch_first=True)
        self.drop = nn.Dropout(dropout)
        self.out = nn.Linear(hidden_size, n_answers)

    def forward(self, memories: torch.Tensor, queries: torch.Tensor):
        """memories (B, M, L), queries (B, L) → answer logits (B, n_answers), `QATrace`."""
        words, lengths = story_words(memories, queries)
        x = self.drop(self.embed(words))  # (B, T, embedding_dim)
        packed = pack_padded_sequence(x, lengths.clamp(min=1).cpu(), batch_first=True, enforce_sorted=False)
        out, (h, _) = self.lstm(packed)  # h: (1, B, hidden), the state after each sample's last word
        hidden, _ = pad_packed_sequence(out, batch_first=True, total_length=words.shape[1])
        return self.out(self.drop(h[-1])), QATrace(words, lengths, hidden)


def qa_accuracy(model: nn.Module, batch, batch_size: int = 500) -> float:
    """Share of `batch` (an `encode.Batch`) whose answer is the model's top word."""
    from memlib.train import accuracy

    chunks = (batch[i : i + batch_size] for i in range(0, len(batch), batch_size))
    return accuracy(model, chunks, predict=lambda m, b: m(b.memories, b.queries)[0].argmax(-1))


def train_qa_lstm(model: nn.Module, train, *, valid=None, epochs: int = 40, lr: float = 0.01,
                  batch_size: int = 32, clip: float = 5.0, patience: int | None = None, seed: int = 0,
                  progress: bool = False):
    """Fit with Adam on cross-entropy (`memlib.train.fit`); keep the best `valid` epoch's weights.

    With `valid`, training stops after `patience` epochs without a better validation accuracy.
    """
    from memlib.train import fit, minibatches

    def loss_fn(m, b):
        return F.cross_entropy(m(b.memories, b.queries)[0], b.answers)

    evaluate = (lambda m: qa_accuracy(m, valid)) if valid is not None else None
    return fit(model, loss_fn, minibatches(train, batch_size, seed=seed), torch.optim.Adam(model.parameters(), lr=lr),
               epochs, clip=clip, evaluate=evaluate, patience=(patience or epochs) if valid is not None else None,
               progress=progress, desc="LSTM")


def babi_lstm(train_stories, test_stories, *, seed: int = 0, memory_size: int = 50,
              valid_share: float = 0.1, progress: bool = False, **options) -> dict:
    """Train a `QALSTM` on bAbI stories as the bAbI paper's baseline; measure train/test accuracy.

    The last `valid_share` of the training questions is held out to pick the epoch (the paper
    chose hyperparameters "using the training set"). `options` go to the model
    (``embedding_dim``, ``hidden_size``, ``dropout``) or to `train_qa_lstm` (``epochs``, ``lr``, …).
    Returns ``{model, vocab, answers, train_accuracy, test_accuracy, seconds, history}``.
    """
    from memlib.babi.encode import Vocab, encode, samples

    start = time.perf_counter()
    train_s, test_s = samples(train_stories, memory_size), samples(test_stories, memory_size)
    if not train_s or not test_s:
        raise ValueError(f"need questions in both train and test stories, got {len(train_s)} and {len(test_s)}")
    vocab = Vocab.build(train_s + test_s)
    answers = sorted({s.answer for s in train_s + test_s})
    model_keys = {"embedding_dim", "hidden_size", "dropout"}
    torch.manual_seed(seed)
    model = QALSTM(len(vocab), len(answers), **{k: v for k, v in options.items() if k in model_keys})
    train, test = encode(train_s, vocab, answers), encode(test_s, vocab, answers)
    n_valid = int(len(train) * valid_share)
    part, valid = (train[: len(train) - n_valid], train[len(train) - n_valid :]) if n_valid else (train, None)
    history = train_qa_lstm(model, part, valid=valid, seed=seed, progress=progress,
                            **{k: v for k, v in options.items() if k not in model_keys})
    return dict(model=model, vocab=vocab, answers=answers, train_accuracy=qa_accuracy(model, part),
                test_accuracy=qa_accuracy(model, test), seconds=time.perf_counter() - start, history=history)


#: How `memlib lstm distance` trains one LSTM per distance (the motivation notebook's curve).
DISTANCE_PRESET = dict(stories=1000, length=10, epochs=20, embedding_dim=32, hidden_size=32, lr=0.01, batch_size=32)


def distance_lstm(*, seed: int = 0, progress: bool = False, **options) -> dict:
    """Train one `QALSTM` per distance 0..length-1, each on stories whose supporting fact sits that far back.

    As Memory Networks' Table 3 trains one model per difficulty: with a fixed budget (`stories`
    per distance, 1k as in bAbI), how far back can an LSTM carry one fact? Options override
    `DISTANCE_PRESET`. Returns ``{models: {d: QALSTM}, per_distance, train_per_distance, vocab,
    answers, seconds, …}``; accuracies are measured on 500 seeded test stories per distance.
    """
    from memlib.babi.encode import Vocab, encode, samples
    from memlib.babi.generate.distance import distance_stories, words
    from memlib.babi.world import LOCATIONS

    o = dict(DISTANCE_PRESET, **options)
    unknown = set(o) - set(DISTANCE_PRESET)
    if unknown:
        raise TypeError(f"unknown options {sorted(unknown)} (expected some of {sorted(DISTANCE_PRESET)})")
    start = time.perf_counter()
    vocab, answers = Vocab(words()), sorted(LOCATIONS)
    models, per_distance, train_per_distance = {}, [], []
    for d in range(o["length"]):
        data = encode(samples(distance_stories(o["stories"], d, seed=seed, length=o["length"])), vocab, answers)
        test = encode(samples(distance_stories(500, d, seed=seed + 1000, length=o["length"])), vocab, answers)
        n_fit = len(data) - len(data) // 10  # the last 10 % picks the epoch
        torch.manual_seed(seed)
        model = QALSTM(len(vocab), len(answers), embedding_dim=o["embedding_dim"], hidden_size=o["hidden_size"])
        train_qa_lstm(model, data[:n_fit], valid=data[n_fit:], epochs=o["epochs"], lr=o["lr"],
                      batch_size=o["batch_size"], seed=seed, progress=progress)
        models[d] = model
        per_distance.append(round(qa_accuracy(model, test), 4))
        train_per_distance.append(round(qa_accuracy(model, data[:n_fit]), 4))
    return dict(models=models, vocab=vocab, answers=answers, per_distance=per_distance,
                train_per_distance=train_per_distance, seed=seed, **o,
                seconds=round(time.perf_counter() - start, 2))


def distance_models(payload: dict) -> dict:
    """The per-distance LSTMs of a `memlib lstm distance` checkpoint, ``{distance: QALSTM}``."""
    config = {k: v for k, v in payload["config"].items() if k != "distances"}
    models = {}
    for d in payload["config"]["distances"]:
        model = QALSTM(**config)
        prefix = f"{d}."
        model.load_state_dict({k[len(prefix):]: v for k, v in payload["state_dict"].items() if k.startswith(prefix)})
        models[d] = model.eval()
    return models
