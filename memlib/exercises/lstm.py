"""Exercise references for 00_motivation: a lazy baseline, the LSTM's forget gate, a reader without attention.

* ``lstm-last-sentence``   ``last_sentence_accuracy(stories)``: accuracy of answering the room named
  in each story's last sentence
* ``lstm-forget-bias``     ``with_forget_bias(model, value)``: a copy of a `QALSTM` whose forget-gate
  bias b_f (``bias_ih + bias_hh``, rows H..2H) is `value` in every unit, judged on three small models (Gers, Schmidhuber & Cummins 2000 start it high; Jozefowicz,
  Zaremba & Sutskever 2015, §2.2, recommend 1)
* ``lstm-average-reader``  a class ``AverageReader`` (the notebook's memory reader with the parameters
  ``A, B, C, T_A, T_C, W``) whose forward reads the plain average of the slots instead of attending:
  ``p_i = 1/slots``, ``o = Σ p_i c_i``, logits ``W(o + u)``; judged by loading its weights into
  `AverageReader` here and comparing both outputs
"""

from __future__ import annotations

import copy

import torch
import torch.nn as nn

from memlib.check import compare
from memlib.exercises import register
from memlib.models.baselines import QALSTM


def _room(sentence: str) -> str:
    return sentence.split()[-1].rstrip(".")


def last_sentence_accuracy(stories) -> float:
    """Accuracy of always answering the room named in the story's last sentence."""
    return sum(_room(st.statements[-1].text) == st.questions[0].answer for st in stories) / len(stories)


def _stories(seed: int):
    from memlib.babi.generate.distance import distance_stories

    return (distance_stories(60, [0, 1, 3, 6][seed % 4], seed=100 + seed, length=10),)


register(
    "lstm-last-sentence",
    function=last_sentence_accuracy,
    inputs=_stories,
    wrong=lambda stories: sum(_room(st.statements[0].text) == st.questions[0].answer for st in stories) / len(stories),
    hint="st.statements[-1].text is the last sentence; its last word (without the full stop) is a room",
)


def with_forget_bias(model: QALSTM, value: float) -> QALSTM:
    """A copy of `model` whose forget gate starts from bias b_f = value in every unit.

    PyTorch's `nn.LSTM` stacks the gates' rows as i, f, g, o (H rows each) and adds two bias
    vectors, ``bias_ih + bias_hh``; the forget gate sees rows H..2H of their sum.
    """
    model = copy.deepcopy(model)
    H = model.lstm.hidden_size
    with torch.no_grad():
        model.lstm.bias_ih_l0[H : 2 * H] = value
        model.lstm.bias_hh_l0[H : 2 * H] = 0.0
    return model


def _lstm_inputs(seed: int):
    torch.manual_seed(seed)
    return (QALSTM(12, 6, embedding_dim=4, hidden_size=3 + seed), [1.0, 5.0, -2.0][seed % 3])


def _input_gate_bias(model, value):  # a classic slip: rows 0..H are the input gate
    model = copy.deepcopy(model)
    H = model.lstm.hidden_size
    with torch.no_grad():
        model.lstm.bias_ih_l0[:H] = value
        model.lstm.bias_hh_l0[:H] = 0.0
    return model


def _gate_weights(model) -> dict:
    """A QALSTM's weights with the two bias vectors summed, as the gates see them."""
    w = dict(model.state_dict())
    w["lstm bias (bias_ih_l0 + bias_hh_l0)"] = w.pop("lstm.bias_ih_l0") + w.pop("lstm.bias_hh_l0")
    return w


def forget_bias_problems(fn) -> list[str]:
    """What is wrong with a learner's ``with_forget_bias``: its copies' weights against the reference's."""
    if not callable(fn):
        return [f"pass the function itself (with_forget_bias), got {type(fn).__name__}"]
    problems = []
    for seed in (0, 1, 2):
        model, value = _lstm_inputs(seed)
        before = {k: v.clone() for k, v in model.state_dict().items()}
        try:
            got = fn(model, value)
        except NotImplementedError:
            return ["not implemented yet: replace `raise NotImplementedError(...)` with your code"]
        except Exception as e:  # noqa: BLE001 - reported to the learner
            return [f"with_forget_bias(model, {value}) raised {type(e).__name__}: {e}"]
        if compare(dict(model.state_dict()), before):
            return ["your function changed the model it was given: return a changed copy (copy.deepcopy)"]
        if not isinstance(got, QALSTM):
            return [f"return the changed copy of the model (a QALSTM), got {type(got).__name__}"]
        expected = with_forget_bias(model, value)
        problems += [f"b_f = {value}, hidden size {model.lstm.hidden_size}: {x}"
                     for x in compare(_gate_weights(got), _gate_weights(expected))]
        if problems:
            return problems
    return problems


register(
    "lstm-forget-bias",
    judge=forget_bias_problems,
    wrong=_input_gate_bias,
    hint="copy.deepcopy the model; the gates' rows are i, f, g, o (H each), and the gate sees "
         "bias_ih_l0 + bias_hh_l0, so rows H..2H of their sum must equal the value",
)


class AverageReader(nn.Module):
    """The notebook's memory reader with its attention replaced by the plain average of the slots."""

    def __init__(self, vocab_size: int, n_answers: int, d: int = 20, slots: int = 10):
        super().__init__()
        self.A, self.B, self.C = (nn.Embedding(vocab_size, d, padding_idx=0) for _ in range(3))
        self.T_A = nn.Parameter(torch.zeros(slots, d))  # unused without attention, kept for the weights' names
        self.T_C = nn.Parameter(torch.zeros(slots, d))
        self.W = nn.Linear(d, n_answers)

    def forward(self, memories, queries):
        c = self.C(memories).sum(2) + self.T_C  # (B, slots, d)
        p = torch.full(c.shape[:2], 1.0 / c.shape[1])  # (B, slots): every slot weighs the same
        o = (p.unsqueeze(-1) * c).sum(1)  # (B, d)
        return self.W(o + self.B(queries).sum(1)), p


class _SummingReader(AverageReader):
    """A classic slip: the slots summed, not averaged (p_i = 1 instead of 1/slots)."""

    def forward(self, memories, queries):
        c = self.C(memories).sum(2) + self.T_C
        p = torch.ones(c.shape[:2])
        return self.W((p.unsqueeze(-1) * c).sum(1) + self.B(queries).sum(1)), p


def average_reader_problems(cls) -> list[str]:
    """What is wrong with a learner's AverageReader class (built with vocab 12, 6 answers)."""
    if not (isinstance(cls, type) and issubclass(cls, nn.Module)):
        return [f"pass the class itself (AverageReader), got {type(cls).__name__}"]
    torch.manual_seed(0)
    try:
        model = cls(12, 6)
    except Exception as e:  # noqa: BLE001 - reported to the learner
        return [f"AverageReader(12, 6) raised {type(e).__name__}: {e}"]
    d, slots = model.W.in_features, model.T_C.shape[0]
    reference = AverageReader(12, 6, d, slots)
    try:
        reference.load_state_dict(model.state_dict())
    except (RuntimeError, AttributeError) as e:
        return [f"keep the memory reader's parameters A, B, C, T_A, T_C and W ({str(e).splitlines()[0]})"]
    g = torch.Generator().manual_seed(1)
    memories, queries = torch.randint(0, 12, (4, slots, 5), generator=g), torch.randint(0, 12, (4, 5), generator=g)
    try:
        with torch.no_grad():
            got = model(memories, queries)
    except NotImplementedError:
        return ["not implemented yet: replace `raise NotImplementedError(...)` with your code"]
    except Exception as e:  # noqa: BLE001
        return [f"forward raised {type(e).__name__}: {e}"]
    if not (isinstance(got, tuple) and len(got) == 2):
        return ["forward must return (logits, p), as the memory reader does"]
    with torch.no_grad():
        logits, p = reference(memories, queries)
    return ([f"attention p: {x}" for x in compare(got[1], p)]
            + [f"logits: {x}" for x in compare(got[0], logits)])


register(
    "lstm-average-reader",
    judge=average_reader_problems,
    wrong=_SummingReader,
    hint="p is 1/slots everywhere, shape (batch, slots); o = Σ_i p_i c_i with c_i = C m_i + T_C[i]; "
         "the answer is W(o + u)",
)
