"""Recipes: how each model family is trained, evaluated, saved and rebuilt.

One module per family, with the same verbs in each, so that a notebook, the CLI and a test
use every model the same way:

* a preset: the settings the shipped checkpoints were trained with (`options` merges a
  config over it and refuses unknown keys);
* ``train(config, data, progress=None, device=None) -> (model, result)``: `progress` is None
  (quiet), True (a progress bar) or a function called with a dict after every epoch (every
  window of batches for the NTM);
* ``evaluate(model, data) -> dict``: `qa_result` for question answering (bAbI), and
  ``{"bit_errors", "median_bit_errors", "bits_per_seq", "perfect"}`` for sequence tasks;
* ``to_checkpoint(model) -> (state_dict, config)`` and its inverse ``build(config, state_dict)``,
  which `memlib.checkpoints.load_model` calls (``{name: model}`` for a file of several models).

What differs is the data each family learns from, and so the type of `config` and `result`:

========  ==================================  =====================  =========================
family    data                                config                 result
========  ==================================  =====================  =========================
lstm      (train stories, test stories)       dict over DEFAULTS     dict: train, test, history
memnn     (vocab, train Batch, test Batch)    dict over PRESET       dict: train, test, history
memn2n    `memn2n.Data` from `load_data`      dict over DEFAULTS     `memn2n.Fit` (all restarts)
ntm       an algorithmic task or its name     `ntm.TrainConfig`      `ntm.TrainResult` (curve)
========  ==================================  =====================  =========================

The families: ``lstm`` (the QA LSTM baselines), ``memnn`` (Weston, Chopra & Bordes 2015),
``memn2n`` (Sukhbaatar et al. 2015) and ``ntm`` (Graves et al. 2014, with the LSTM baseline of
its algorithmic tasks). The models themselves live in `memlib.models`. The LSTM and MemNN
recipes share the fit loop `memlib.train.fit`; MemN2N (restarts trained as one batched
ensemble) and the NTM (restarts, rollback, a curriculum) have loops of their own.
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


def options(config: dict, preset: dict) -> dict:
    """`config` over `preset`; an unknown key is refused with the expected ones."""
    unknown = set(config) - set(preset)
    if unknown:
        raise TypeError(f"unknown options {sorted(unknown)} (expected some of {sorted(preset)})")
    return {**preset, **config}


def join_states(states: dict) -> dict:
    """One state dict for a file of several models: ``{name: state_dict}`` → keys ``"<name>.<key>"``."""
    return {f"{name}.{k}": v for name, state in states.items() for k, v in state.items()}


def state_of(state_dict: dict, name) -> dict:
    """The state dict of model `name` in a file of several models (the inverse of `join_states`)."""
    prefix = f"{name}."
    return {k[len(prefix):]: v for k, v in state_dict.items() if k.startswith(prefix)}
