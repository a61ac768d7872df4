"""Recipes: how each model family is trained, evaluated and rebuilt from a checkpoint.

One module per family, with the same verbs in each, so that a notebook, the CLI and a test
use every model the same way:

* a preset or config: the settings the shipped checkpoints were trained with;
* ``train(config, data, progress=None) -> (model, result)``;
* ``evaluate(model, data) -> dict``: `qa_result` for question answering (bAbI), and
  ``{"bit_errors", "median_bit_errors", "bits_per_seq", "perfect"}`` for sequence tasks;
* ``build(config, state_dict)``: the model a checkpoint stores (`memlib.checkpoints.load_model`
  calls it), or ``{name: model}`` for a file that holds several (one per task or distance).

The families: ``lstm`` (the QA LSTM baselines), ``memnn`` (Weston, Chopra & Bordes 2015),
``memn2n`` (Sukhbaatar et al. 2015) and ``ntm`` (Graves et al. 2014, with the LSTM baseline of
its algorithmic tasks). The models themselves live in `memlib.models`; the fit loop most
recipes share is `memlib.train.fit`.
"""

from __future__ import annotations

import importlib

FAMILIES = ("lstm", "memnn", "memn2n", "ntm")


def family(name: str):
    """The recipe module of model family `name` (one of `FAMILIES`)."""
    if name not in FAMILIES:
        raise ValueError(f"unknown model family {name!r} (expected one of {', '.join(FAMILIES)})")
    return importlib.import_module(f"memlib.recipes.{name}")


def qa_result(correct: int, total: int, **extra) -> dict:
    """The one result shape of a question-answering evaluation: accuracy, error, questions (+ extras)."""
    if total <= 0:
        raise ValueError("an evaluation needs at least one question")
    accuracy = correct / total
    return {"accuracy": accuracy, "error": 1.0 - accuracy, "questions": int(total), **extra}
