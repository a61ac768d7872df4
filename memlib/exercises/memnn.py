"""Exercise references for 01_memory_networks (sentence numbers count from 1, as in bAbI files).

* ``memnn-dropped-milk``  predict, then run: ``(room, facts)`` for "John took the milk. John went to
  the kitchen. John dropped the milk. John moved to the garden. Where is the milk?": the room and
  the sentence numbers of the two supporting facts in the order O needs them
* ``memnn-one-hop``  predict, then run: how often a k = 1 MemNN with time features answers "Where is the
  <object> now?" right, one of "never", "guess" (about 1 in 4 rooms), "half", "always": its one fact
  names no room, so R can only guess (Weston, Chopra & Bordes 2015, §3.1)
* ``memnn-no-time``  ``dict(model=, vocab=, sample=, picked=)``: a k = 2 MemNN trained without the
  write-time features (§3.4), a question it answers wrong, and the sentences O picked at each hop
* ``memnn-drop-term``  ``(term, result)``: one hinge term ("O1", "O2" or "R") left out of training and
  the `evaluate` result of the model trained without it; judged by what must break
"""

from __future__ import annotations

import torch

from memlib.exercises import register
from memlib.models.memnn import MemNN


def _dropped_milk_problems(answer) -> list[str]:
    if not (isinstance(answer, tuple) and len(answer) == 2):
        return ["give a pair (room, facts), e.g. (\"bedroom\", [4, 1])"]
    room, facts = answer
    problems = []
    if room != "kitchen":
        problems.append(f"the milk is not in the {room}: it stays where John dropped it; his later move "
                        "does not take it along")
    if list(facts) != [3, 2]:
        problems.append(f"facts {list(facts)}: O first needs the last sentence about the milk, then where John "
                        "was at that moment (sentence numbers from 1)")
    return problems


register(
    "memnn-dropped-milk",
    judge=_dropped_milk_problems,
    wrong=("garden", [3, 4]),  # John's latest move: as if the milk were still carried
)

register(
    "memnn-one-hop",
    value="guess",
    wrong="always",
    hint="with one hop R sees q and the object's last fact (\"Joe took the milk.\"), which names no room: "
         "how often can R then name the right one of the four rooms?",
)


def _no_time_problems(found) -> list[str]:
    keys = {"model", "vocab", "sample", "picked"}
    if not isinstance(found, dict) or set(found) != keys:
        return [f"give dict(model=…, vocab=…, sample=…, picked=…), got {type(found).__name__}"]
    model, vocab, sample, picked = (found[k] for k in ("model", "vocab", "sample", "picked"))
    if not isinstance(model, MemNN):
        return [f"model must be a MemNN, got {type(model).__name__}"]
    if model.time_features:
        return ["this model has time features: train one with time_features=False"]
    if model.hops != 2:
        return [f"this model has {model.hops} hops; the exercise is about k = 2"]
    from memlib.recipes.memnn import encode_samples

    batch = encode_samples([sample], vocab)
    with torch.no_grad():
        _, trace = model(batch.memories, batch.queries)
    answer = vocab.words[trace.answer[0].item()]
    problems = []
    if answer == sample.answer:
        problems.append(f"the model answers {sample.question!r} right ({answer}); find a question it gets wrong")
    if list(picked) != (trace.chosen[0] + 1).tolist():
        problems.append(f"picked {list(picked)} is not what O chose at each hop (sentence numbers from 1)")
    return problems


register(
    "memnn-no-time",
    judge=_no_time_problems,
    wrong=dict(model=MemNN(4, dim=2, hops=2, time_features=True), vocab=None, sample=None, picked=[]),
)

TERMS = ("O1", "O2", "R")


def _drop_term_problems(answer) -> list[str]:
    if not (isinstance(answer, tuple) and len(answer) == 2) or answer[0] not in TERMS:
        return [f"give (term, result) with term one of {TERMS} and result = evaluate(model, test)"]
    term, result = answer
    hops, accuracy = result["support_accuracy"], result["accuracy"]
    if len(hops) != 2:
        return [f"the result has {len(hops)} hops; train a k = 2 model"]
    works = {"O1": hops[0] >= 0.9, "O2": hops[1] >= 0.9, "R": accuracy >= 0.9}  # what each term trains
    what = {"O1": "hop 1 finds its fact", "O2": "hop 2 finds its fact", "R": "R answers right"}
    problems = []
    if works[term]:
        problems.append(f"{what[term]} in ≥ 90 % of the questions, so {term} was not left out of the loss")
    for before in TERMS[:TERMS.index(term)]:  # a hop before the dropped term does not need it
        if before != "R" and not works[before]:
            problems.append(f"{what[before]} in < 90 % of the questions although only {term} was dropped")
    return problems


register(
    "memnn-drop-term",
    judge=_drop_term_problems,
    wrong=("O1", {"accuracy": 1.0, "support_accuracy": [1.0, 1.0]}),  # the full model: nothing dropped
)
