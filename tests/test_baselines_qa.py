"""The bAbI LSTM baseline: reads story words then question words, in order, ignoring padding; its recipe."""

import pytest
import torch
import torch.nn as nn

from memlib import checkpoints
from memlib.babi.encode import Vocab, encode, samples
from memlib.babi.format import parse
from memlib.babi.generate.distance import distance_stories
from memlib.models.baselines import QALSTM, story_words
from memlib.recipes.lstm import build, evaluate, fit_model, to_checkpoint, train

STORY = """1 Mary moved to the bathroom.
2 John went to the hallway.
3 Where is Mary? \tbathroom\t1
4 Daniel went back to the hallway.
5 Sandra moved to the garden.
6 Where is Daniel? \thallway\t4
"""


def test_story_words_hand_example_drops_nil_and_keeps_order():
    memories = torch.tensor([[[1, 2, 0], [0, 0, 0], [3, 0, 0]],  # an empty slot in the middle
                             [[6, 0, 0], [0, 0, 0], [0, 0, 0]]])
    queries = torch.tensor([[4, 5, 0], [7, 0, 0]])
    words, lengths = story_words(memories, queries)
    assert words.tolist() == [[1, 2, 3, 4, 5], [6, 7, 0, 0, 0]]
    assert lengths.tolist() == [5, 2]


def test_story_words_names_the_expected_shapes():
    with pytest.raises(ValueError, match=r"memories \(batch, memory, words\)"):
        story_words(torch.zeros(2, 3, dtype=torch.long), torch.zeros(2, 3, dtype=torch.long))


def _model(vocab_size=12, n_answers=5, seed=0, **kw):
    torch.manual_seed(seed)
    return QALSTM(vocab_size, n_answers, embedding_dim=8, hidden_size=6, **kw).eval()


def test_shapes_and_trace():
    model = _model()
    memories = torch.randint(1, 12, (3, 4, 5))
    memories[1, 2:] = 0
    queries = torch.randint(1, 12, (3, 5))
    logits, trace = model(memories, queries)
    assert logits.shape == (3, 5)
    assert trace.lengths.tolist() == [25, 15, 25]
    assert trace.words.shape == (3, 25) and trace.hidden.shape == (3, 25, 6)
    assert torch.all(trace.hidden[1, 15:] == 0)  # nothing is read after the end
    # the answer is read from the state after the last word (the question's last word)
    assert torch.allclose(logits[1], model.out(trace.hidden[1, 14]), atol=1e-6)


def test_padding_does_not_change_the_answer():
    model = _model()
    mem = torch.tensor([[[3, 4, 0], [5, 6, 7]]])
    q = torch.tensor([[8, 9, 0]])
    alone, _ = model(mem, q)
    # the same sample padded to more slots and longer sentences, batched with a longer one
    big = torch.zeros(2, 4, 5, dtype=torch.long)
    big[0, 0, :2], big[0, 1, :3] = torch.tensor([3, 4]), torch.tensor([5, 6, 7])
    big[1] = torch.randint(1, 12, (4, 5))
    bq = torch.zeros(2, 5, dtype=torch.long)
    bq[0, :2], bq[1] = torch.tensor([8, 9]), torch.randint(1, 12, (5,))
    batched, _ = model(big, bq)
    assert torch.allclose(alone[0], batched[0], atol=1e-6)


def test_reads_in_order_unlike_a_bag_of_words():
    model = _model()
    q = torch.tensor([[8, 9]])
    a, _ = model(torch.tensor([[[3, 4], [5, 6]]]), q)
    b, _ = model(torch.tensor([[[5, 6], [3, 4]]]), q)
    assert not torch.allclose(a, b, atol=1e-4)


def test_nil_word_embedding_is_zero():
    model = _model()
    assert torch.all(model.embed.weight[0] == 0)


def test_evaluate_counts_top_answers_in_the_qa_result_shape():
    class Fixed(nn.Module):
        def forward(self, memories, queries):
            return torch.tensor([[0.0, 1.0], [2.0, 1.0], [0.0, 3.0]])[: len(queries)], None

    stories = parse(STORY) * 2
    s = samples(stories)[:3]
    vocab = Vocab.build(s)
    batch = encode(s, vocab, ["bathroom", "hallway"])  # answers: bathroom, hallway, bathroom
    assert batch.answers.tolist() == [0, 1, 0]
    assert evaluate(Fixed(), batch) == {"accuracy": 0.0, "error": 1.0, "questions": 3}
    batch.answers = torch.tensor([1, 0, 2])
    assert evaluate(Fixed(), batch, chunk=2)["accuracy"] == pytest.approx(2 / 3)  # over two chunks


def test_learns_the_easy_case_answer_in_the_last_sentence():
    # distance 0: the answer is the place in the last sentence; an LSTM learns that fast
    stories = distance_stories(300, 0, seed=0, length=3)
    s = samples(stories)
    vocab = Vocab.build(s)
    answers = sorted({x.answer for x in s})
    batch = encode(s, vocab, answers)
    torch.manual_seed(0)
    model = QALSTM(len(vocab), len(answers), embedding_dim=16, hidden_size=16)
    before = evaluate(model, batch)["accuracy"]
    history = fit_model(model, batch, epochs=12, lr=0.02, batch_size=32)
    assert history.loss[-1] < history.loss[0] / 2
    assert before < 0.4 and evaluate(model, batch)["accuracy"] > 0.9


def test_train_reports_accuracies_and_keeps_the_best_validation_epoch():
    stories = distance_stories(60, range(3), seed=0, length=3), distance_stories(20, range(3), seed=1, length=3)
    config = dict(epochs=3, hidden_size=8, embedding_dim=8, seed=1)
    model, r = train(config, stories, device="cpu")
    assert set(r) == {"train", "test", "vocab", "answers", "seconds", "history"}
    assert r["test"]["questions"] == 20 and r["train"]["questions"] == 54  # 10 % of 60 held out to pick the epoch
    assert len(r["history"].loss) == 3 and len(r["history"].metric) == 3  # validation accuracy per epoch
    assert r["history"].best_epoch == max(range(3), key=lambda e: (r["history"].metric[e], -e))
    assert 0 <= r["train"]["accuracy"] <= 1 and r["test"]["error"] == pytest.approx(1 - r["test"]["accuracy"])
    assert r["answers"] == sorted(r["answers"]) and model.config["hidden_size"] == 8
    again, r2 = train(config, stories, device="cpu")
    assert r2["test"] == r["test"] and all(torch.equal(a, b) for a, b in zip(model.parameters(), again.parameters()))
    with pytest.raises(ValueError, match="need questions"):
        train(dict(epochs=1), (stories[0], []))
    with pytest.raises(TypeError, match="unknown options"):
        train(dict(epoch=1), stories)


def test_build_gives_back_the_stored_model_and_the_per_distance_file(tmp_path):
    torch.manual_seed(0)
    models = {d: QALSTM(12, 5, embedding_dim=8, hidden_size=6) for d in (0, 1, 2)}
    memories, queries = torch.randint(1, 12, (3, 4, 5)), torch.randint(1, 12, (3, 5))
    state, config = to_checkpoint(models[1])
    assert config == {"family": "lstm", **models[1].config}
    one = build({k: v for k, v in config.items() if k != "family"}, state)  # as load_model calls it
    assert torch.equal(one(memories, queries)[0], models[1](memories, queries)[0])
    state, config = to_checkpoint(models)
    checkpoints.save(tmp_path / "d.pt", state, config, {"command": "test"})
    loaded, meta = checkpoints.load_model(tmp_path / "d.pt")
    assert sorted(loaded) == [0, 1, 2] and meta == {"command": "test"}
    for d, model in models.items():
        assert torch.equal(loaded[d](memories, queries)[0], model(memories, queries)[0]) and not loaded[d].training


def test_forward_and_training_step_create_every_tensor_on_the_given_device(strict_device):
    stories = distance_stories(40, range(3), seed=0, length=3)
    s = samples(stories)
    vocab = Vocab.build(s)
    batch = encode(s, vocab, sorted({x.answer for x in s}))
    torch.manual_seed(0)
    model = QALSTM(len(vocab), 6, embedding_dim=8, hidden_size=6)
    with strict_device() as device:
        model.to(device)
        logits, trace = model(batch.memories.to(device), batch.queries.to(device))
        assert logits.device == device and trace.hidden.device == device
        before = [p.detach().clone() for p in model.parameters()]
        history = fit_model(model, batch[:20], valid=batch[20:], epochs=1, batch_size=20)
        assert len(history.loss) == 1 and all(p.device == device for p in model.parameters())
        assert not all(torch.equal(a, b) for a, b in zip(before, model.parameters()))
        assert evaluate(model, batch)["questions"] == len(batch)


# --- the plain RNN (cell="rnn"): the RNN row of Memory Networks' Table 3 -----------------------

def test_rnn_cell_is_the_elman_recurrence_worked_by_hand():
    model = _model(cell="rnn")
    assert model.config["cell"] == "rnn" and not hasattr(model, "lstm")
    rnn = model.rnn
    assert rnn.weight_hh_l0.shape == (6, 6) and rnn.weight_ih_l0.shape == (6, 8)  # no gates: 1 block, not 4
    memories, queries = torch.tensor([[[3, 4, 0], [5, 6, 7]]]), torch.tensor([[8, 9, 0]])
    logits, trace = model(memories, queries)
    h = torch.zeros(6)
    for t, word in enumerate([3, 4, 5, 6, 7, 8, 9]):  # h_t = tanh(W x_t + b_W + U h_{t-1} + b_U)
        x = model.embed.weight[word]
        h = torch.tanh(rnn.weight_ih_l0 @ x + rnn.bias_ih_l0 + rnn.weight_hh_l0 @ h + rnn.bias_hh_l0)
        assert torch.allclose(trace.hidden[0, t], h, atol=1e-6)
    assert torch.allclose(logits[0], model.out(h), atol=1e-6)


def test_rnn_cell_keeps_the_padding_invariance_and_an_unknown_cell_is_refused():
    model = _model(cell="rnn")
    alone, _ = model(torch.tensor([[[3, 4, 0], [5, 6, 7]]]), torch.tensor([[8, 9, 0]]))
    padded, _ = model(torch.tensor([[[0, 0, 0, 0], [3, 4, 0, 0], [5, 6, 7, 0]], [[1, 2, 3, 4]] * 3]),
                      torch.tensor([[8, 9, 0, 0], [5, 5, 5, 5]]))
    assert torch.allclose(alone[0], padded[0], atol=1e-6)
    with pytest.raises(ValueError, match=r"cell must be one of \('lstm', 'rnn'\), got 'gru'"):
        QALSTM(12, 5, cell="gru")


def test_rnn_cell_trains_and_round_trips_through_a_checkpoint(tmp_path):
    stories = distance_stories(60, range(2), seed=0, length=3), distance_stories(20, range(2), seed=1, length=3)
    model, r = train(dict(epochs=3, hidden_size=8, embedding_dim=8, seed=1, cell="rnn"), stories, device="cpu")
    assert isinstance(model.rnn, nn.RNN) and model.rnn.nonlinearity == "tanh"
    assert r["history"].loss[-1] < r["history"].loss[0]  # a few steps of Adam lower the loss
    state, config = to_checkpoint(model)
    assert config["cell"] == "rnn" and any(k.startswith("rnn.") for k in state)
    checkpoints.save(tmp_path / "rnn.pt", state, config, {"command": "test"})
    loaded, _ = checkpoints.load_model(tmp_path / "rnn.pt")
    assert loaded.config == model.config
    test = encode(samples(stories[1], 50), r["vocab"], r["answers"])
    model.eval()
    assert torch.equal(loaded(test.memories, test.queries)[0], model(test.memories, test.queries)[0])
    assert evaluate(loaded, test) == r["test"]


def test_an_lstm_checkpoint_saved_before_the_cell_option_still_loads(tmp_path):
    # a file written before `cell` existed: its config has no "cell"; it must load as the LSTM it was
    torch.manual_seed(0)
    old = QALSTM(12, 5, embedding_dim=8, hidden_size=6).eval()
    state, config = to_checkpoint(old)
    del config["cell"]
    checkpoints.save(tmp_path / "old.pt", state, config, {"command": "test"})
    loaded, _ = checkpoints.load_model(tmp_path / "old.pt")
    memories, queries = torch.randint(1, 12, (3, 4, 5)), torch.randint(1, 12, (3, 5))
    assert loaded.config["cell"] == "lstm" and isinstance(loaded.lstm, nn.LSTM)
    assert torch.equal(loaded(memories, queries)[0], old(memories, queries)[0])
    # the shipped one, saved before this option: it still gives back its recorded accuracies
    assert "cell" not in checkpoints.load(checkpoints.path("lstm_qa_distance"))["config"]
    models, meta = checkpoints.load_model("lstm_qa_distance")
    vocab, answers = Vocab(meta["vocab"]), meta["answers"]
    for d in (0, meta["length"] - 1):
        test = encode(samples(distance_stories(500, d, seed=meta["seed"] + 1000, length=meta["length"])), vocab, answers)
        assert models[d].config["cell"] == "lstm"
        assert evaluate(models[d], test)["accuracy"] == pytest.approx(meta["per_distance"][d], abs=1e-4)
