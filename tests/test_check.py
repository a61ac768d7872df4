"""memlib.check compares and says exactly what differs; memlib.exercises registers the notebooks' exercises."""

from __future__ import annotations

import pathlib
import subprocess
import sys

import numpy as np
import pytest
import torch

from memlib import check, exercises

# ---------------------------------------------------------------- values


def test_equal_values_match_and_print_no_measured_difference(capsys):
    result = check.cmp("w", torch.tensor([0.1, 0.9]), torch.tensor([0.1, 0.9 + 1e-7]))
    assert result.ok and bool(result) and result.problems == []
    assert capsys.readouterr().out == "✓ w: matches\n"  # no diff printed: same text on every machine


def test_wrong_value_names_count_first_index_values_and_max_diff(capsys):
    got = torch.tensor([[1.0, 2.0], [3.0, 4.0]])
    expected = torch.tensor([[1.0, 2.0], [3.5, 5.0]])
    result = check.cmp("M", got, expected)
    assert not result.ok
    out = capsys.readouterr().out
    assert out.startswith("✗ M: 2 of 4 values differ; first at [1, 0]: got 3, expected 3.5; max abs diff 1")


def test_shape_dtype_and_type_mistakes_are_named():
    assert check.compare(torch.zeros(3, 4), torch.zeros(4, 3)) == ["shape (3, 4), expected (4, 3)"]
    assert check.compare(torch.zeros(2, dtype=torch.long), torch.zeros(2)) == [
        "dtype torch.int64 (integer), expected torch.float32 (float)"]
    assert check.compare([0.0, 1.0], torch.zeros(2)) == [
        "got type list, expected torch.Tensor (wrap it with torch.tensor(...))"]
    assert check.compare(np.zeros(2), torch.zeros(2))[0].startswith("got type numpy.ndarray, expected torch.Tensor")
    assert check.compare(torch.zeros(2), np.zeros(2)) == ["got type torch.Tensor, expected numpy.ndarray"]


def test_tolerance_is_absolute_plus_relative():
    assert check.compare(1000.05, 1000.0) == []  # within rtol=1e-4 of 1000
    assert check.compare(1.001, 1.0) == ["got 1.001, expected 1 (diff 0.001)"]
    assert check.compare(1.001, 1.0, atol=1e-2) == []


def test_nan_is_reported_and_matching_nans_are_equal():
    problems = check.compare(torch.tensor([float("nan"), 1.0]), torch.tensor([0.5, 1.0]))
    assert problems == ["1 of 2 values differ; first at [0]: got nan, expected 0.5; your values contain NaN"]
    assert check.compare(torch.tensor([float("nan")]), torch.tensor([float("nan")])) == []


def test_numbers_lists_dicts_strings_and_bools():
    assert check.compare(torch.tensor(3.0), 3.0) == []  # a one-element tensor is a fine number
    assert check.compare(True, 1) == ["got type bool, expected a number (int)"]
    assert check.compare("kitchen", "garden") == ["got 'kitchen', expected 'garden'"]
    assert check.compare([1, 2], [1, 2, 3]) == ["length 2, expected 3"]
    assert check.compare([1, 5], [1, 2]) == ["[1]: got 5, expected 2 (diff 3)"]
    assert check.compare({"a": 1, "b": 2}, {"a": 1, "c": 2}) == [
        "missing key(s) 'c'", "unexpected key(s) 'b'"]
    assert check.compare({"a": [1.0, 2.0]}, {"a": [1.0, 2.5]}) == ["['a'][1]: got 2, expected 2.5 (diff 0.5)"]


# ---------------------------------------------------------------- functions


def softmax_ref(x):
    return torch.softmax(x, dim=-1)


INPUTS = [(torch.tensor([[1.0, 2.0, 3.0], [0.0, 0.0, 5.0]]),), (torch.tensor([[0.5, -1.0, 2.0]]),)]


def test_function_that_agrees_passes(capsys):
    result = check.cmp_function("softmax", lambda x: x.exp() / x.exp().sum(-1, keepdim=True), softmax_ref, INPUTS)
    assert result.ok
    assert capsys.readouterr().out == "✓ softmax: agrees with the reference on 2 inputs\n"


def test_classic_bug_softmax_over_the_wrong_axis_is_caught():
    result = check.cmp_function("softmax", lambda x: torch.softmax(x, dim=0), softmax_ref, INPUTS, show=False)
    assert not result.ok
    assert result.problems[0].startswith("on input 1 (shape (2, 3)): 6 of 6 values differ; first at [0, 0]")


def test_exceptions_not_implemented_and_in_place_changes_are_reported():
    def stub(x):
        raise NotImplementedError("Exercise: your code here")

    def crash(x):
        return x @ torch.ones(2)

    def in_place(x):
        return x.exp_() / x.sum(-1, keepdim=True)

    assert check.function_problems(stub, softmax_ref, INPUTS) == [
        "not implemented yet: replace `raise NotImplementedError(...)` with your code"]
    crashed = check.function_problems(crash, softmax_ref, INPUTS)[0]
    assert crashed.startswith("on input 1 (shape (2, 3)) your function raised RuntimeError:")
    assert check.function_problems(42, softmax_ref, INPUTS) == ["got type int, expected a function"]

    def in_place_right(x):
        out = torch.softmax(x, -1)
        x.zero_()
        return out

    assert check.function_problems(in_place_right, softmax_ref, INPUTS)[0].startswith(
        "on input 1 your function changed argument 1 in place")
    assert check.function_problems(in_place, softmax_ref, INPUTS) != []


def test_seeded_input_generator_is_called_once_per_seed():
    seen = []

    def inputs(seed):
        seen.append(seed)
        return (torch.randn(4, generator=torch.Generator().manual_seed(seed)),)

    assert check.cmp_function("f", softmax_ref, softmax_ref, inputs, seeds=(3, 4), show=False).ok
    assert seen == [3, 4]


# ---------------------------------------------------------------- the exercise registry (memlib.exercises)


@pytest.fixture
def scratch_registry(monkeypatch):
    monkeypatch.setattr(exercises, "_REGISTRY", dict(exercises.all_exercises()))
    return exercises._REGISTRY


def test_register_value_function_and_judge_exercises(scratch_registry, capsys):
    exercises.register("t-value", value=lambda: torch.tensor([0.2, 0.8]), wrong=torch.tensor([0.8, 0.2]))
    exercises.register("t-func", function=softmax_ref, inputs=INPUTS, wrong=lambda x: x, hint="exp, then normalise")
    exercises.register("t-judge", judge=lambda a: [] if a in (16, 17) else [f"task {a} is not one of them"], wrong=3)
    assert exercises.check("t-value", torch.tensor([0.2, 0.8])).ok
    assert exercises.check("t-func", softmax_ref).ok
    assert exercises.check("t-judge", 17).ok
    assert capsys.readouterr().out == ("✓ t-value: right\n✓ t-func: agrees with the reference on 2 inputs\n"
                                       "✓ t-judge: right\n")
    assert not exercises.check("t-func", lambda x: x).ok
    out = capsys.readouterr().out
    assert out.startswith("✗ t-func: on input 1") and out.rstrip().endswith("hint: exp, then normalise")
    assert exercises.check("t-judge", 3, show=False).problems == ["task 3 is not one of them"]


def test_register_rejects_ambiguous_or_incomplete_references():
    with pytest.raises(ValueError, match="exactly one of"):
        exercises.register("t-bad", value=1, judge=lambda a: [])
    with pytest.raises(ValueError, match="needs inputs"):
        exercises.register("t-bad", function=softmax_ref)


def test_unknown_exercise_names_the_registered_ones():
    with pytest.raises(KeyError, match="registered: .*ntm-sharpen"):
        exercises.check("ntm-sharpn", None)


def test_every_notebook_topic_registers_its_exercises():
    topics = {ex_id.split("-")[0] for ex_id in exercises.all_exercises()}
    assert topics == {"lstm", "memnn", "memn2n", "ntm"}


def test_check_knows_no_exercise_and_no_exercise_imports_viz():
    """One-way arrows: exercises → check, never check → exercises; exercises never → viz."""
    code = ("import sys, memlib.check; assert 'memlib.exercises' not in sys.modules, 'check imported exercises'\n"
            "from memlib import exercises; exercises.all_exercises()\n"
            "assert not [m for m in sys.modules if m.startswith('memlib.viz')], 'an exercise imported viz'")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=pathlib.Path(__file__).resolve().parents[1])


@pytest.mark.parametrize("exercise_id", sorted(exercises.all_exercises()))
def test_every_registered_exercise_accepts_its_reference_and_rejects_its_wrong_answer(exercise_id):
    ex = exercises.get(exercise_id)
    assert ex.wrong is not None, f"{exercise_id}: register a wrong= answer so the check is known to fail"
    if ex.judge is None:
        assert exercises.check(exercise_id, ex.reference(), show=False).ok
    result = exercises.check(exercise_id, ex.wrong, show=False)
    assert not result.ok and result.problems


def test_ntm_references_are_the_equations_by_hand():
    """Eq. 9 by hand passes the sharpen check; a one-hot at the last slot shifted by +1 wraps to slot 0."""
    assert exercises.check("ntm-sharpen", lambda w, gamma: w ** gamma[..., None] / (w ** gamma[..., None]).sum(-1, keepdim=True),
                           show=False).ok
    assert exercises.check("ntm-shift", lambda w, s: sum(s[..., k + 1, None] * torch.roll(w, k, -1) for k in (-1, 0, 1)),
                           show=False).ok
    shifted = exercises.get("ntm-shift").function(torch.tensor([[[0.0, 0.0, 1.0]]]), torch.tensor([[[0.0, 0.0, 1.0]]]))
    assert shifted.tolist() == [[[1.0, 0.0, 0.0]]]


def test_ntm_change_and_interpret_references():
    """Replaying a trace with its own γ reproduces it (so γ = 1 is the only change); content then
    shift then sharpening reaches slot 4; a write that spreads evenly spoils the unread share."""
    from memlib.exercises import ntm as E

    trace = E._small_trace(0)
    for head in (0, 1):
        assert torch.allclose(E.replay(trace, head, 6), trace.w[0, :6, head], atol=1e-5)
    assert exercises.check("ntm-target", dict(beta=5.0, g=1.0, shift=1.0, gamma=5.0), show=False).ok
    assert not exercises.check("ntm-target", dict(beta=20.0, g=1.0, shift=1.0, gamma=1.0), show=False).ok  # β > 5
    assert not exercises.check("ntm-target", dict(beta=5.0, g=0.0, shift=1.0, gamma=20.0), show=False).ok  # slot 3

    class Uniform:  # every step writes 1/N to every slot; inputs j went to slot j
        N, L = 8, 3
        write_w = torch.cat([torch.eye(8)[:3], torch.full((4, 8), 1 / 8)])[None, :, None, :]
    # steps L+0, L+1, L+2 see 3, 2, 1 unread slots of weight 1/8 each
    assert torch.allclose(E.unread_write_mass(Uniform, 3), torch.tensor([6 / 8]))


def test_memnn_judges_need_a_real_failure_and_the_breakage_of_the_dropped_term():
    """memnn-no-time runs the learner's model on the learner's question; memnn-drop-term knows what each term trains."""
    from memlib.babi.encode import samples
    from memlib.babi.format import parse
    from memlib.models.memnn import MemNN
    from memlib.recipes.memnn import prepare

    stories = parse("1 Joe went to the garden.\n2 Joe went to the kitchen.\n3 Where is Joe?\tkitchen\t2\n")
    vocab, _, _ = prepare(stories)
    sample = samples(stories, 0)[0]
    model = MemNN(len(vocab), dim=4, hops=2, time_features=False)
    with torch.no_grad():  # every score 0: O picks sentence 1 at both hops, R the first word ("garden"): wrong
        model.U_O.zero_()
        model.U_R.zero_()
    found = dict(model=model, vocab=vocab, sample=sample, picked=[1, 1])
    assert exercises.check("memnn-no-time", found, show=False).ok
    assert not exercises.check("memnn-no-time", {**found, "picked": [2, 2]}, show=False).ok  # not what O chose
    with torch.no_grad():
        model.U_R[0, vocab["joe"]] = 1.0  # "joe" in the question (block 1) ...
        model.U_R[0, 2 * len(vocab) + vocab["kitchen"]] = 1.0  # ... answers kitchen: no failure to explain
    assert "right" in exercises.check("memnn-no-time", found, show=False).problems[0]

    def judged(term, accuracy, hop1, hop2):
        return exercises.check("memnn-drop-term", (term, {"accuracy": accuracy, "support_accuracy": [hop1, hop2]}),
                               show=False).ok

    assert judged("O1", 0.58, 0.355, 0.455) and judged("O2", 0.735, 1.0, 0.35) and judged("R", 0.155, 1.0, 1.0)
    assert not judged("O2", 0.5, 0.3, 0.3)  # hop 1 broken although only O2 was dropped
    assert not judged("R", 0.2, 0.5, 1.0) and not judged("R", 1.0, 1.0, 1.0)


def test_result_shows_nothing_more_in_a_notebook():
    result = check.cmp("x", 1, 1, show=False)
    assert result._ipython_display_() is None and result.report == "✓ x: matches"


def test_in_place_changes_inside_dataclasses_and_modules_are_caught_but_equal_objects_pass():
    from memlib.babi.encode import Batch

    def attention_on_support(reader, batch):  # mean attention on each sample's first supporting slot
        with torch.no_grad():
            p = torch.softmax(reader(batch.memories.float().sum(-1)), -1)  # (B, slots)
        return p.gather(1, batch.supports[:, :1]).mean().item()

    def clobber(reader, batch):
        out = attention_on_support(reader, batch)
        batch.supports.zero_()  # a learner's in-place slip inside a Batch
        return out

    def retrain(reader, batch):
        out = attention_on_support(reader, batch)
        with torch.no_grad():
            reader.weight.mul_(0)  # changes the model's weights
        return out

    def inputs(seed):
        g = torch.Generator().manual_seed(seed)
        torch.manual_seed(seed)
        batch = Batch(memories=torch.randint(0, 9, (8, 5, 4), generator=g), queries=torch.zeros(8, 4, dtype=torch.long),
                      answers=torch.zeros(8, dtype=torch.long), supports=torch.randint(0, 5, (8, 2), generator=g),
                      lengths=torch.full((8,), 5))
        return torch.nn.Linear(5, 5), batch

    assert check.function_problems(attention_on_support, attention_on_support, inputs, seeds=(0,)) == []  # models compare by weights
    for fn, argument in ((clobber, 2), (retrain, 1)):
        assert check.function_problems(fn, attention_on_support, inputs, seeds=(0,))[0].startswith(
            f"on input 1 your function changed argument {argument} in place")


def test_lstm_exercises_judge_the_forget_bias_and_the_average_reader():
    """b_f split over the two bias vectors passes; an in-place change and the input gate's rows fail;
    an attention reader is not an average reader."""
    import copy

    from memlib.exercises.lstm import AverageReader

    def halves(model, value):
        model = copy.deepcopy(model)
        H = model.lstm.hidden_size
        with torch.no_grad():
            model.lstm.bias_ih_l0[H : 2 * H] = value / 2
            model.lstm.bias_hh_l0[H : 2 * H] = value / 2
        return model

    def in_place(model, value):  # the classic slip: the model it was given is changed too
        H = model.lstm.hidden_size
        with torch.no_grad():
            model.lstm.bias_ih_l0[H : 2 * H] = value
            model.lstm.bias_hh_l0[H : 2 * H] = 0.0
        return model

    assert exercises.check("lstm-forget-bias", halves, show=False).ok
    assert "changed the model it was given" in exercises.check("lstm-forget-bias", in_place, show=False).problems[0]
    assert exercises.check("lstm-average-reader", AverageReader, show=False).ok

    class SoftmaxReader(AverageReader):  # the memory reader itself: attention, not an average
        def forward(self, memories, queries):
            m, c = self.A(memories).sum(2) + self.T_A, self.C(memories).sum(2) + self.T_C
            u = self.B(queries).sum(1)
            p = torch.softmax(torch.einsum("bsd,bd->bs", m, u), -1)
            return self.W(torch.einsum("bs,bsd->bd", p, c) + u), p

    problems = exercises.check("lstm-average-reader", SoftmaxReader, show=False).problems
    assert problems and problems[0].startswith("attention p:")
    assert "pass the class itself" in exercises.check("lstm-average-reader", AverageReader(5, 6), show=False).problems[0]


def test_memn2n_references_mirror_questions_and_zero_only_the_time_tables():
    """A mirror has the same bag of words and mirrors back; without_time zeroes T and nothing else, on a copy."""
    from memlib.exercises.memn2n import _time_model, mirror, without_time

    for q in ("What is north of the garden?", "What is the kitchen west of?"):
        assert sorted(mirror(q).lower().rstrip("?").split()) == sorted(q.lower().rstrip("?").split())
        assert mirror(q) != q and mirror(mirror(q)) == q
    assert mirror("What is north of the garden?") == "What is the garden north of?"
    (model,) = _time_model(0)
    timeless = without_time(model)
    assert all(float(T.abs().sum()) == 0 for T in timeless.T) and all(float(T.abs().sum()) > 0 for T in model.T)
    assert all(torch.equal(a, b) for a, b in zip(timeless.emb, model.emb))
    assert exercises.check("memn2n-wrong-story", "0, 15", show=False).problems[0].startswith("give a pair of ints")


def test_memn2n_layerwise_verdict_follows_the_results_file(tmp_path, monkeypatch):
    """Solved means at most 5 % test error in the tying results file: change the file and the answer follows."""
    import json

    from memlib.exercises import memn2n as E

    runs = json.loads(E.TYING_RESULTS.read_text())
    errors = E.tying_errors(E.TYING_TASK)
    assert errors == {s: runs[s]["output"]["tasks"][str(E.TYING_TASK)]["test_error"] for s in ("layerwise", "adjacent")}
    shipped = errors["layerwise"] <= 5
    assert exercises.check("memn2n-layerwise-solves", shipped, show=False).ok
    assert not exercises.check("memn2n-layerwise-solves", not shipped, show=False).ok
    assert "True or False" in exercises.check("memn2n-layerwise-solves", "no", show=False).problems[0]
    assert "True or False" in exercises.check("memn2n-layerwise-solves", 0, show=False).problems[0]  # not a bool
    changed = tmp_path / "tying.json"
    monkeypatch.setattr(E, "TYING_RESULTS", changed)
    for error, solved in ((5.0, True), (5.1, False), (errors["adjacent"], True), (55.9, False)):  # 5.0 % is solved
        runs["layerwise"]["output"]["tasks"][str(E.TYING_TASK)]["test_error"] = error
        changed.write_text(json.dumps(runs))
        assert exercises.check("memn2n-layerwise-solves", solved, show=False).ok, error
        problems = exercises.check("memn2n-layerwise-solves", not solved, show=False).problems
        assert problems and f"{error:.1f} % test error" in problems[0], error
