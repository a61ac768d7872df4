"""LSTM baselines of the lecture's comparisons (the LSTM: Hochreiter & Schmidhuber 1997).

`SequenceLSTM` is the baseline of the NTM's algorithmic tasks (Graves et al. 2014, §4);
`QALSTM` the LSTM column of the bAbI paper (Weston et al. 2016, Table 3) and, with ``cell="rnn"``,
the plain RNN (Elman 1990) of the RNN row of Memory Networks' Table 3 (Weston, Chopra & Bordes 2015).
Modules only: `memlib.recipes.lstm` trains and loads the QA baseline, `memlib.recipes.ntm` the other one.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn as nn
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


#: The recurrent cells `QALSTM` can read with: the LSTM, and the plain (Elman 1990) RNN.
CELLS = ("lstm", "rnn")


class QALSTM(nn.Module):
    """The bAbI paper's LSTM baseline: read the story word by word, then the question; answer a word.

    It has no memory but its own state: the whole story must pass through `hidden_size`
    numbers before the question is seen. It takes the memory networks' tensors
    (``memories (B, M, L)``, ``queries (B, L)``) and reads their words in order.
    ``cell="rnn"`` reads with a plain RNN instead, ``h_t = tanh(W x_t + U h_{t-1} + b)``
    (Elman 1990): no gates and no cell state, the RNN row of Memory Networks' Table 3.
    """

    def __init__(self, vocab_size: int, n_answers: int, *, embedding_dim: int = 50,
                 hidden_size: int = 100, dropout: float = 0.0, cell: str = "lstm"):
        super().__init__()
        if cell not in CELLS:
            raise ValueError(f"cell must be one of {CELLS}, got {cell!r}")
        self.config = dict(vocab_size=vocab_size, n_answers=n_answers, embedding_dim=embedding_dim,
                           hidden_size=hidden_size, dropout=dropout, cell=cell)
        self.embed = nn.Embedding(vocab_size, embedding_dim, padding_idx=0)  # word 0 = nil
        if cell == "lstm":
            self.lstm = nn.LSTM(embedding_dim, hidden_size, batch_first=True)
        else:
            self.rnn = nn.RNN(embedding_dim, hidden_size, nonlinearity="tanh", batch_first=True)
        self.drop = nn.Dropout(dropout)
        self.out = nn.Linear(hidden_size, n_answers)

    def forward(self, memories: torch.Tensor, queries: torch.Tensor):
        """memories (B, M, L), queries (B, L) → answer logits (B, n_answers), `QATrace`."""
        words, lengths = story_words(memories, queries)
        x = self.drop(self.embed(words))  # (B, T, embedding_dim)
        packed = pack_padded_sequence(x, lengths.clamp(min=1).cpu(), batch_first=True, enforce_sorted=False)
        if self.config["cell"] == "lstm":
            out, (h, _) = self.lstm(packed)  # h: (1, B, hidden), the state after each sample's last word
        else:
            out, h = self.rnn(packed)  # the RNN's state is h alone (no cell state c)
        hidden, _ = pad_packed_sequence(out, batch_first=True, total_length=words.shape[1])
        return self.out(self.drop(h[-1])), QATrace(words, lengths, hidden)
