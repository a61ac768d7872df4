"""The strongly supervised Memory Network: each equation on a hand-computed example, then training."""

import math

import pytest
import torch

from memlib import checkpoints
from memlib.babi.encode import Batch, Sample, Vocab, samples
from memlib.babi.format import parse
from memlib.babi.generate.lecture import LECTURE_STORY, lecture_stories
from memlib.models.memnn import G, I, MemNN, MemNNTrace, hinge, hop_targets, sample_negatives
from memlib.recipes.memnn import (
    BABI_PRESET,
    bigrams_of,
    build,
    encode_samples,
    evaluate,
    fit_model,
    prepare,
    shape_of,
    to_checkpoint,
    train,
    vocab_of,
)


def tiny(time_features=False, hops=1, margin=0.5):
    """A model over the vocabulary {nil, a, b} with dim 1, all weights zero."""
    model = MemNN(3, dim=1, hops=hops, time_features=time_features, margin=margin)
    with torch.no_grad():
        model.U_O.zero_()
        model.U_R.zero_()
    return model


# --- I and G ------------------------------------------------------------------------

def test_I_is_a_bag_of_words_without_nil():
    words = torch.tensor([[2, 1, 2, 0], [0, 0, 0, 0]])
    assert I(words, 4).tolist() == [[0, 1, 2, 0], [0, 0, 0, 0]]


def test_G_writes_to_the_next_slot_and_never_changes_earlier_ones():
    m = G(None, torch.tensor([1.0, 0.0]))
    first = m.clone()
    m = G(m, torch.tensor([0.0, 2.0]))
    assert m.tolist() == [[1.0, 0.0], [0.0, 2.0]]
    assert torch.equal(m[0], first[0])


# --- features and scoring --------------------------------------------------------------

def test_feature_layout_is_three_dictionary_blocks():
    model = tiny()
    q, found, y = torch.tensor([0.0, 1, 0]), torch.tensor([0.0, 0, 2]), torch.tensor([0.0, 3, 0])
    assert model.phi_x(q, found).tolist() == [0, 1, 0, 0, 0, 2, 0, 0, 0]
    assert model.phi_y(y).tolist() == [0, 0, 0, 0, 0, 0, 0, 3, 0]
    assert model.phi_x(q, found, time=True).shape == (12,)
    assert model.phi_y(y, time=True)[-3:].tolist() == [0, 0, 0]


def test_score_is_xT_UT_U_y_on_a_hand_computed_example():
    U = torch.tensor([[1.0, 2.0, 0.0], [0.0, 1.0, -1.0]])  # dim 2, D 3
    x, y = torch.tensor([1.0, 0.0, 1.0]), torch.tensor([0.0, 1.0, 1.0])
    # U x = [1, -1], U y = [2, 0] → s = 2
    assert MemNN.s(U, x, y).item() == pytest.approx(2.0)
    assert MemNN.s(U, x, y).item() == pytest.approx((x @ U.T @ U @ y).item())


def test_time_bits_are_x_older_than_y_x_older_than_y2_y_older_than_y2():
    model = tiny(time_features=True)
    ft = model.phi_t(torch.tensor(1), torch.tensor(3), torch.tensor(0))
    assert ft.shape == (12,)
    assert ft[-3:].tolist() == [1.0, 0.0, 0.0]
    assert model.phi_t(torch.tensor(5), torch.tensor(2), torch.tensor(4))[-3:].tolist() == [0.0, 0.0, 1.0]


def test_s_Ot_adds_the_time_bits_to_the_difference_of_candidates():
    torch.manual_seed(0)
    model = MemNN(4, dim=3, time_features=True)
    fx = model.phi_x(torch.tensor([0.0, 1, 0, 1]), torch.zeros(4), time=True)
    fy, fy2 = model.phi_y(torch.tensor([0.0, 0, 1, 0]), True), model.phi_y(torch.tensor([0.0, 1, 0, 0]), True)
    ft = model.phi_t(torch.tensor(9), torch.tensor(1), torch.tensor(2))
    expected = fx @ model.U_O.T @ model.U_O @ (fy - fy2 + ft)
    assert torch.allclose(model.s_Ot(fx, fy, fy2, ft), expected)
    # antisymmetric without time bits
    zero = torch.zeros(15)
    assert torch.allclose(model.s_Ot(fx, fy, fy2, zero), -model.s_Ot(fx, fy2, fy, zero))


def test_hinge_is_max_of_zero_and_margin_minus_positive_plus_negative():
    assert hinge(torch.tensor([0.5, 0.0]), torch.tensor([0.2, 0.3]), 0.5).tolist() == pytest.approx([0.2, 0.8])
    assert hinge(torch.tensor(2.0), torch.tensor(0.0), 0.1).item() == 0.0


# --- O and R -------------------------------------------------------------------------

def test_without_time_features_O_is_an_argmax_and_each_hop_adds_the_found_memory():
    model = tiny(hops=2)
    with torch.no_grad():
        model.U_O[0, 1] = 1.0  # question word a
        model.U_O[0, 5] = 1.0  # found word b
        model.U_O[0, 7] = 1.0  # candidate word a
        model.U_O[0, 8] = -0.5  # candidate word b
    memories = torch.tensor([[[2], [1], [0]]])  # slots: "b", "a", empty
    queries = torch.tensor([[1]])  # "a"
    _, trace = model(memories, queries)
    # hop 1: U Φx = 1; scores: b → -0.5, a → 1, empty → -inf
    assert trace.scores[0, 0].tolist() == [-0.5, 1.0, float("-inf")]
    assert trace.chosen[0].tolist()[0] == 1
    # hop 2: x = q + m_o1 (word a in the found block, whose weight is 0) → same scores
    assert trace.scores[0, 1, :2].tolist() == [-0.5, 1.0]


def test_R_scores_every_word_and_never_answers_nil():
    model = tiny()
    with torch.no_grad():
        model.U_R[0, 1] = 1.0  # question word a
        model.U_R[0, 6:9] = torch.tensor([5.0, 0.3, 0.1])  # answer words nil, a, b
    scores = model.R(torch.tensor([[0.0, 1, 0]]), torch.zeros(1, 3))
    assert scores[0, 0] == float("-inf")
    assert scores[0, 1:].tolist() == pytest.approx([0.3, 0.1])


def test_time_feature_loop_breaks_ties_by_the_learned_recency_weight():
    c = torch.tensor([[1.0, 1.0, 1.0, 0.0]])  # three equal content scores, an empty slot
    mask = torch.tensor([[True, True, True, False]])
    t_x = torch.tensor([4])
    prefer_new = MemNN.winner(c, torch.tensor([[0.0, 0.0, -1.0]]), mask, t_x)  # older y penalised
    prefer_old = MemNN.winner(c, torch.tensor([[0.0, 0.0, 1.0]]), mask, t_x)
    assert prefer_new.item() == 2 and prefer_old.item() == 0


def test_time_feature_loop_matches_a_literal_loop_over_s_Ot():
    torch.manual_seed(1)
    model = MemNN(6, dim=4, hops=2, time_features=True)
    memories = torch.randint(1, 6, (5, 7, 3))
    memories[0, 5:] = 0  # a shorter story
    queries = torch.randint(1, 6, (5, 3))
    _, trace = model(memories, queries)
    q, memory, mask = model.features(memories, queries)
    for b in range(5):
        n = int(mask[b].sum())
        found, t_x = torch.zeros(6), torch.tensor(7)
        for h in range(2):
            fx = model.phi_x(q[b], found, True)
            best = n - 1
            for i in range(n - 2, -1, -1):  # the paper's loop, newest to oldest
                ft = model.phi_t(t_x, torch.tensor(i), torch.tensor(best))
                if model.s_Ot(fx, model.phi_y(memory[b, i], True), model.phi_y(memory[b, best], True), ft) > 0:
                    best = i
            assert trace.chosen[b, h].item() == best
            found, t_x = found + memory[b, best], torch.tensor(best)


def test_trace_holds_scores_chosen_slots_and_answer_scores():
    torch.manual_seed(0)
    for time_features in (False, True):
        model = MemNN(5, dim=4, hops=3, time_features=time_features)
        memories = torch.randint(1, 5, (2, 6, 4))
        memories[1, 4:] = 0
        scores, trace = model(memories, torch.randint(1, 5, (2, 4)))
        assert isinstance(trace, MemNNTrace)
        assert trace.scores.shape == (2, 3, 6) and trace.chosen.shape == (2, 3)
        assert torch.isinf(trace.scores[1, :, 4:]).all() and torch.isfinite(trace.scores[0]).all()
        assert (trace.chosen[1] < 4).all()  # never an empty slot
        assert trace.answer_scores is scores and scores.shape == (2, 5)
        assert torch.equal(trace.answer, scores.argmax(-1)) and (trace.answer != 0).all()
        if time_features:
            assert trace.versus.shape == (2, 3, 6)
            rows = torch.arange(2)
            assert (trace.versus[rows, 0, trace.chosen[:, 0]] == 0).all()
        else:
            assert trace.versus is None
            assert torch.equal(trace.chosen[:, 0], trace.scores[:, 0].argmax(-1))


def test_bad_inputs_name_the_expected_shape():
    model = MemNN(5, dim=2)
    with pytest.raises(ValueError, match=r"memories \(B, M, L\)"):
        model(torch.ones(2, 3, dtype=torch.long), torch.ones(2, 3, dtype=torch.long))
    with pytest.raises(ValueError, match="vocab_size=5"):
        model(torch.full((1, 2, 2), 7), torch.ones(1, 2, dtype=torch.long))
    with pytest.raises(ValueError, match="at least one memory"):
        model(torch.zeros(1, 2, 2, dtype=torch.long), torch.ones(1, 2, dtype=torch.long))


# --- training ---------------------------------------------------------------------------

def test_margin_loss_on_a_fixed_case():
    model = tiny(margin=0.5)
    with torch.no_grad():
        model.U_O[0, 1], model.U_O[0, 7], model.U_O[0, 8] = 1.0, 0.5, 0.2
        model.U_R[0, 1], model.U_R[0, 4] = 1.0, 1.0  # question word a, found word a
        model.U_R[0, 7], model.U_R[0, 8] = 0.3, 0.1  # answer words a, b
    memories, queries = torch.tensor([[[1], [2]]]), torch.tensor([[1]])  # memory "a", "b"; question "a"
    terms = model.loss_terms(memories, queries, torch.tensor([[0]]), torch.tensor([2]))
    # O1: max(0, 0.5 - s(q, m0) + s(q, m1)) = max(0, 0.5 - 0.5 + 0.2) = 0.2
    assert terms["O1"].item() == pytest.approx(0.2)
    # R: x = q + m0 → U_R Φx = 2; s_R(b) = 0.2, s_R(a) = 0.6: max(0, 0.5 - 0.2 + 0.6) = 0.9
    assert terms["R"].item() == pytest.approx(0.9)
    assert model.loss(memories, queries, torch.tensor([[0]]), torch.tensor([2])).item() == pytest.approx(1.1)


def test_time_loss_scores_each_pair_with_the_older_memory_as_y():
    model = tiny(time_features=True, margin=0.5)
    with torch.no_grad():
        model.U_O[0, 1] = 1.0  # question word a
        model.U_O[0, -1] = -2.0  # "y older than y'" costs 2
    memories, queries = torch.tensor([[[1], [1]]]), torch.tensor([[1]])  # two equal memories
    newest = model.loss_terms(memories, queries, torch.tensor([[1]]), torch.tensor([1]))["O1"]
    oldest = model.loss_terms(memories, queries, torch.tensor([[0]]), torch.tensor([1]))["O1"]
    # target 1 (newer): s_Ot(x, m0, m1) = 0 - 2 < -0.5 → 0; target 0: s_Ot(x, m0, m1) = -2 → 0.5 + 2
    assert newest.item() == pytest.approx(0.0) and oldest.item() == pytest.approx(2.5)


def test_hop_targets_repeat_the_last_supporting_fact():
    supports = torch.tensor([[3, 1, -1], [2, -1, -1], [-1, -1, -1]])
    assert hop_targets(supports, 3).tolist() == [[3, 1, 1], [2, 2, 2], [-1, -1, -1]]
    assert hop_targets(supports, 1).tolist() == [[3], [2], [-1]]


def test_sampled_negatives_avoid_forbidden_slots():
    allowed = torch.tensor([[True, False, True, True], [False, False, True, False]])
    idx, valid = sample_negatives(allowed, 2, torch.Generator().manual_seed(0))
    assert idx.shape == (2, 2)
    assert all(allowed[b, i] for b in range(2) for i, v in zip(idx[b], valid[b]) if v)
    assert valid.sum(1).tolist() == [2, 1]
    every, valid = sample_negatives(allowed, None)
    assert torch.equal(valid, allowed) and every.shape == (2, 4)


def test_list_answers_are_refused_with_the_reason():
    s = Sample([["a"]], ["a"], "a,b", [0], question="What?")
    with pytest.raises(ValueError, match="single word"):
        encode_samples([s], Vocab(["a", "b"]))


def test_trained_hops_pick_the_lecture_examples_supporting_facts():
    torch.manual_seed(0)
    lecture = parse(LECTURE_STORY)
    vocab, train, test = prepare(lecture_stories(200, seed=0), lecture)
    model = MemNN(len(vocab), dim=20, hops=2, time_features=True)
    fit_model(model, train, epochs=10, target=None, progress=False)  # as notebook 01 does
    assert evaluate(model, train)["accuracy"] == 1.0
    _, trace = model(test.memories, test.queries)
    # "Where is Dan now?" → slot 3 "Dan journeyed to the bedroom." → bedroom
    assert trace.chosen[0, 0].item() == 3
    # "Where is the milk now?" → "Joe took the milk." then "Joe went to the kitchen." → kitchen
    assert trace.chosen[1].tolist() == [2, 1]
    assert vocab.decode(trace.answer) == ["bedroom", "kitchen"]


def test_one_hop_cannot_answer_the_two_fact_question():
    torch.manual_seed(0)
    vocab, train, _ = prepare(lecture_stories(150, seed=0))
    objects = torch.tensor([vocab["milk"] in q or vocab["ball"] in q for q in train.queries.tolist()])
    accs = {}
    for k in (1, 2):
        model = MemNN(len(vocab), dim=20, hops=k, time_features=True)
        fit_model(model, train, epochs=10, progress=False)
        accs[k] = evaluate(model, train[objects.nonzero().flatten()])["accuracy"]
    assert accs[2] == 1.0 and accs[1] < 0.8


# --- the recipe ----------------------------------------------------------------------------

def test_evaluate_gives_the_qa_result_with_support_accuracy_per_hop():
    model = tiny(hops=2)
    with torch.no_grad():
        model.U_O[0, 1], model.U_O[0, 7] = 1.0, 1.0  # question word a likes memories with word a
        model.U_R[0, 1], model.U_R[0, 7] = 1.0, 1.0  # and answers a
    batch = Batch(memories=torch.tensor([[[1], [2]], [[2], [1]], [[2], [1]]]),  # word a in slot 0, 1, 1
                  queries=torch.tensor([[1], [1], [1]]), answers=torch.tensor([1, 2, 1]),
                  supports=torch.tensor([[0, -1], [0, 1], [1, -1]]), lengths=torch.tensor([2, 2, 2]))
    result = evaluate(model, batch, chunk=2)
    # every hop picks word a's slot; answers: a, a, a → right on 2 of 3
    # hop 1 targets 0, 0, 1 → right 2/3; hop 2 targets 0 (repeated), 1, 1 → right 3/3
    assert result == {"accuracy": pytest.approx(2 / 3), "error": pytest.approx(1 / 3), "questions": 3,
                      "support_accuracy": [pytest.approx(2 / 3), 1.0]}


def test_train_builds_a_seeded_model_and_reports_train_and_test():
    data = prepare(lecture_stories(30, seed=0), lecture_stories(10, seed=1))
    model, result = train(dict(dim=10, epochs=2), data, device="cpu")
    assert set(result) == {"train", "test", "history", "seconds"} and len(result["history"].loss) <= 2
    assert result["test"]["questions"] == len(data[2]) and len(result["test"]["support_accuracy"]) == 2
    again, _ = train(dict(dim=10, epochs=2), data, device="cpu")
    assert torch.equal(model.U_O, again.U_O) and torch.equal(model.U_R, again.U_R)
    with pytest.raises(TypeError, match="unknown options"):
        train(dict(hop=1), data)
    _, without_test = train(dict(dim=10, epochs=1), prepare(lecture_stories(30, seed=0)), device="cpu")
    assert without_test["test"] is None and without_test["train"]["questions"] == len(data[1])


def test_build_and_vocab_of_give_back_a_stored_model(tmp_path):
    vocab, batch, _ = prepare(lecture_stories(5, seed=0))
    torch.manual_seed(0)
    model = MemNN(len(vocab), dim=6, hops=2, time_features=False)
    checkpoints.save(tmp_path / "m.pt", *to_checkpoint(model), {"vocab": vocab.words})
    loaded, meta = checkpoints.load_model(tmp_path / "m.pt")
    assert isinstance(loaded, MemNN) and loaded.config == model.config and not loaded.training
    assert torch.equal(loaded(batch.memories, batch.queries)[0], model(batch.memories, batch.queries)[0])
    assert vocab_of(meta).words == vocab.words and vocab_of(meta)["milk"] == vocab["milk"]
    assert isinstance(build(dict(model.config), model.state_dict()), MemNN)


def test_a_shipped_checkpoint_gives_back_its_recorded_test_accuracy():
    from memlib.babi.generate import generate_stories

    model, meta = checkpoints.load_model("memnn_task2_k2")
    test = encode_samples(samples(generate_stories(2, 1000, seed=0, split="test"), 0), vocab_of(meta))
    result = evaluate(model, test)
    assert round(result["accuracy"], 4) == meta["test_accuracy"]
    assert [round(x, 4) for x in result["support_accuracy"]] == meta["support_accuracy"]


@pytest.mark.parametrize("time_features", [False, True])
def test_forward_and_training_step_create_every_tensor_on_the_given_device(strict_device, time_features):
    vocab, batch, _ = prepare(lecture_stories(6, seed=0))
    torch.manual_seed(0)
    model = MemNN(len(vocab), dim=6, hops=2, time_features=time_features)
    with strict_device() as device:
        model.to(device)
        scores, trace = model(batch.memories.to(device), batch.queries.to(device))
        assert scores.device == device and trace.chosen.device == device
        before = model.U_O.detach().clone()
        history = fit_model(model, batch, epochs=1, batch_size=len(batch), negatives=3, progress=False)
        assert len(history.loss) == 1 and not torch.equal(before, model.U_O) and model.U_O.device == device
        fit_model(model, batch, epochs=1, negatives=None, target=None, progress=False)  # the full sum
        assert len(evaluate(model, batch)["support_accuracy"]) == 2


# --- the bAbI paper's extensions (Weston et al. 2016, §5): NG, AM, NL, answer lists --------------

def test_I_with_bigrams_counts_the_pairs_of_neighbouring_words_after_the_words():
    words = torch.tensor([[2, 1, 2, 0], [3, 0, 0, 0]])
    table = torch.full((4, 4), -1)
    table[2, 1], table[1, 2] = 4, 5  # the pairs "b a" and "a b"; "2 0" (a word then nil) is none
    assert I(words, 4, table).tolist() == [[0, 1, 2, 0, 1, 1], [0, 0, 0, 1, 0, 0]]


def test_a_model_with_bigrams_has_blocks_of_words_and_pairs():
    model = MemNN(4, dim=2, time_features=False, bigrams=[(2, 1), (1, 2)])
    assert model.F == 6 and model.U_O.shape == (2, 18) and model.U_R.shape == (2, 18)
    q, memory, _ = model.features(torch.tensor([[[2, 1, 2]]]), torch.tensor([[1, 2, 0]]))
    assert memory[0, 0].tolist() == [0, 1, 2, 0, 1, 1] and q[0].tolist() == [0, 1, 1, 0, 0, 1]
    with pytest.raises(ValueError, match="pairs of word ids 1..3"):
        MemNN(4, bigrams=[(0, 1)])


def test_hop_targets_with_stop_target_the_stop_memory_after_the_facts():
    supports = torch.tensor([[3, 1, -1], [2, -1, -1], [-1, -1, -1]])
    assert hop_targets(supports, 4, stop=9).tolist() == [[3, 1, 9, 9], [2, 9, 9, 9], [-1, -1, -1, -1]]


def adaptive_tiny():
    """Vocabulary {nil, a, b}, dim 1, adaptive: a found 'a' turns the question towards STOP."""
    model = MemNN(3, dim=1, hops=3, time_features=False, adaptive=True)
    with torch.no_grad():
        model.U_O.zero_()
        model.U_O[0, 1] = 1.0  # question word a (block 1)
        model.U_O[0, 4] = -2.0  # found word a (block 2)
        model.U_O[0, 6:9] = torch.tensor([0.2, 1.0, 0.5])  # memory features: STOP (nil's), a, b (block 3)
    return model


def test_adaptive_O_appends_the_stop_memory_and_stops_there():
    model = adaptive_tiny()
    memories, queries = torch.tensor([[[1], [2]]]), torch.tensor([[1]])  # memories "a", "b"; question "a"
    q, memory, mask = model.features(memories, queries)
    assert memory[0, 2].tolist() == [1.0, 0.0, 0.0] and mask.tolist() == [[True, True, True]]
    _, trace = model(memories, queries)
    # hop 1: U Φx = 1 → scores a 1, b 0.5, STOP 0.2 → a; hop 2: U Φx = 1 - 2 = -1 → STOP wins (-0.2)
    assert trace.scores[0, 0].tolist() == pytest.approx([1.0, 0.5, 0.2])
    assert trace.scores[0, 1].tolist() == pytest.approx([-1.0, -0.5, -0.2])
    assert trace.chosen[0].tolist() == [0, 2, 2]  # and stays at STOP


def test_adaptive_loss_targets_stop_after_the_facts_and_has_no_term_after_it():
    model = adaptive_tiny()
    with torch.no_grad():
        model.margin = 0.5
    memories, queries = torch.tensor([[[1], [2]]]), torch.tensor([[1]])
    terms = model.loss_terms(memories, queries, torch.tensor([[0]]), torch.tensor([1]))
    # O1: target a (1) vs b (0.5), STOP (0.2): max(0, .5-1+.5) + max(0, .5-1+.2) = 0
    # O2: target STOP (-0.2) vs a (-1), b (-0.5): max(0, .5+.2-1) + max(0, .5+.2-.5) = 0.2
    assert terms["O1"].item() == pytest.approx(0.0) and terms["O2"].item() == pytest.approx(0.2)
    assert terms["O3"].item() == 0.0


def list_tiny():
    """R says words until STOP: question 'a' → 'a', then the said 'a' turns it to STOP (nil)."""
    model = MemNN(3, dim=1, hops=1, time_features=False, answer_words=3, margin=0.5)
    with torch.no_grad():
        model.U_O.zero_()
        model.U_R.zero_()
        model.U_R[0, 1] = 1.0  # question word a
        model.U_R[0, 6:9] = torch.tensor([0.1, 1.0, 0.5])  # answer words STOP (nil), a, b
        model.U_R[0, 10] = -1.5  # a said already (block 4)
    return model


def test_R_answers_a_list_word_by_word_until_the_stop_word():
    model = list_tiny()
    assert model.U_R.shape == (1, 12)
    first, trace = model(torch.tensor([[[2]]]), torch.tensor([[1]]))
    # step 1: U Φx = 1 → STOP 0.1, a 1, b 0.5 → a; step 2: U Φx = 1 - 1.5 → STOP -0.05 wins
    assert first[0].tolist() == pytest.approx([0.1, 1.0, 0.5])
    assert trace.answer_scores[0, 1].tolist() == pytest.approx([-0.05, -0.5, -0.25])
    assert trace.answer.tolist() == [[1, 0, 0]]


def test_list_loss_ranks_each_true_word_then_stop():
    model = list_tiny()
    terms = model.loss_terms(torch.tensor([[[2]]]), torch.tensor([[1]]), torch.tensor([[0]]), torch.tensor([[1, 0, 0]]))
    # step 1: a (1) vs STOP (0.1), b (0.5): 0; step 2: STOP (-0.05) vs a (-0.5), b (-0.25): 0.05 + 0.3
    assert terms["R"].item() == pytest.approx(0.35)


def test_nonlinear_embedding_is_tanh_W_tanh_U_f():
    model = MemNN(3, dim=1, time_features=False, nonlinear=True)
    with torch.no_grad():
        model.U_O.zero_()
        model.U_O[0, 1], model.W_O[0, 0] = 0.5, 2.0
    f = model.phi_x(torch.tensor([0.0, 2.0, 0.0]), torch.zeros(3))  # U f = 1
    assert model.embed("O", f).item() == pytest.approx(math.tanh(2 * math.tanh(1.0)))


def test_encode_samples_writes_list_answers_as_words_then_stop():
    vocab = Vocab(["apple", "milk", "w", "x"])
    items = [Sample([["x"]], ["x"], "apple,milk", [0]), Sample([["x"]], ["x"], "w", [0])]
    assert encode_samples(items, vocab, 3).answers.tolist() == [[1, 2, 0], [3, 0, 0]]
    with pytest.raises(ValueError, match="at most 1"):
        encode_samples(items, vocab, 2)


def test_prepare_uses_lists_only_when_some_answer_is_one():
    story = parse("1 Mary got the milk there.\n2 What is Mary carrying?\tmilk\t1\n"
                  "3 Mary took the apple there.\n4 What is Mary carrying?\tmilk,apple\t1 3\n")
    vocab, train, _ = prepare(story)
    assert train.answers.tolist() == [[vocab["milk"], 0, 0], [vocab["milk"], vocab["apple"], 0]]
    assert prepare(parse("1 Mary got the milk there.\n2 What is Mary carrying?\tmilk\t1\n"))[1].answers.dim() == 1


def test_bigrams_of_and_shape_of_read_the_training_data():
    story = parse("1 Mary got the milk there.\n2 Mary went away.\n3 What is Mary carrying?\tmilk\t1 2\n")
    vocab, train, _ = prepare(story)
    pairs = bigrams_of(train)
    assert (vocab["mary"], vocab["got"]) in pairs and (vocab["mary"], vocab["went"]) in pairs
    assert (vocab["got"], vocab["mary"]) not in pairs and len(pairs) == len(set(pairs)) == 4 + 2 + 3
    assert shape_of(train, 10) == {"hops": 3, "answer_words": 1} and shape_of(train, 2)["hops"] == 2


def test_the_babi_preset_learns_where_to_stop_on_a_list_task(tmp_path):
    from memlib.babi.generate import generate_stories

    data = prepare(generate_stories(8, 60, seed=0, split="train"))  # task 8: lists, 1 to 6 facts
    model, result = train(dict(BABI_PRESET, dim=20, epochs=15, halve_every=10), data, device="cpu")
    assert model.adaptive and model.nonlinear and model.answer_words == data[1].answers.shape[1] > 2
    assert model.hops == int((data[1].supports >= 0).sum(1).max()) + 1 and len(model.config["bigrams"]) > 20
    # every hop finds its fact, or STOP once the facts are found
    assert min(result["train"]["support_accuracy"]) >= 0.95
    assert result["train"]["accuracy"] > 0.3  # whole lists right; 12 different answers in these 60
    checkpoints.save(tmp_path / "m.pt", *to_checkpoint(model), {})
    loaded, _ = checkpoints.load_model(tmp_path / "m.pt")
    assert evaluate(loaded, data[1]) == result["train"]


def test_recency_gives_R_the_newest_fact_found_in_a_block_of_its_own():
    model = MemNN(3, dim=1, hops=2, time_features=False, adaptive=True, recency=True)
    assert model.U_R.shape == (1, 3 * 3 + 3)  # blocks: question, found, answer word, newest fact
    memory = torch.tensor([[[0.0, 1, 0], [0.0, 0, 1], [1.0, 0, 0]]])  # "a", "b", STOP
    assert model.newest(memory, torch.tensor([[1, 0]])).tolist() == [[0, 0, 1]]  # slot 1 is newer
    assert model.newest(memory, torch.tensor([[0, 2]])).tolist() == [[0, 1, 0]]  # STOP is no fact
    assert model.newest(memory, torch.tensor([[2, 2]])).tolist() == [[0, 0, 0]]
    with torch.no_grad():
        model.U_R.zero_()
        model.U_R[0, 7], model.U_R[0, 8] = 1.0, -1.0  # answer words a, b
        model.U_R[0, 11] = 1.0  # newest fact has word b
    q, found = torch.zeros(1, 3), torch.tensor([[0.0, 1, 1]])  # both found: the bag cannot tell
    assert model.R(q, found, newest=torch.tensor([[0.0, 0, 1]]))[0, 1:].tolist() == [1.0, -1.0]
    assert model.R(q, found, newest=torch.tensor([[0.0, 1, 0]]))[0, 1:].tolist() == [0.0, 0.0]
