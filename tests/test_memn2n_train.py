"""The MemN2N recipe: sentence tables, random noise, clipping, linear start, restarts, checkpoints."""

import pytest
import torch

from memlib.babi.encode import encode, longest_sentence, samples
from memlib.babi.format import parse
from memlib.recipes.memn2n import (
    Data,
    build,
    build_vocab,
    clip_per_model,
    errors,
    evaluate,
    noisy_time,
    to_checkpoint,
    train,
)

STORY = """1 Mary moved to the bathroom.
2 John went to the hallway.
3 Where is Mary? \tbathroom\t1
4 Daniel went back to the hallway.
5 Mary moved to the bathroom.
6 Where is Daniel? \thallway\t4
7 Sandra took the apple there.
8 What is Sandra carrying? \tapple,milk\t7
1 John went to the hallway.
2 Where is John? \thallway\t1
"""


def tiny():
    s = samples(parse(STORY))
    vocab, answers = build_vocab(s)
    return s, vocab, answers, encode(s, vocab, answers, memory_size=4)


def fit(batch, *, vocab, answers, **config):
    """`train` on `batch` (no test set needed here) → the `Fit`."""
    _, result = train(config, Data(vocab, answers, batch, batch, torch.zeros(len(batch))), device="cpu")
    return result


def test_sentence_table_stores_each_distinct_sentence_once():
    s, vocab, answers, t = tiny()
    assert len(t) == 4
    texts = [tuple(vocab.decode(row)) for row in t.sentences]
    assert texts[0] == () and len(set(texts)) == len(texts)  # row 0 = empty, no duplicates
    assert len(texts) == 1 + 4  # 6 statements told, 4 distinct (two are repeated)
    for b, sample in enumerate(s):  # every slot points at its own sentence, padding at row 0
        n = min(len(sample.memories), 4)  # the 4 most recent
        assert t.lengths[b] == n
        assert [vocab.decode(t.sentences[r]) for r in t.rows[b, :n]] == sample.memories[-n:]
        assert (t.rows[b, n:] == 0).all()
        assert torch.equal(t.memories[b], t.sentences[t.rows[b]])  # the padded tensor and the table agree
    assert t.supports[1].tolist()[0] == 2 and t.supports[2].tolist()[0] == 3 and t.answers[2] == answers.index("apple,milk")


def test_list_answers_are_one_class_and_one_word():
    _, vocab, answers, _ = tiny()
    assert "apple,milk" in answers and "apple,milk" in vocab
    assert longest_sentence(samples(parse(STORY))) == 6  # "daniel went back to the hallway"


def test_batch_embeds_only_the_batch_sentences():
    _, _, _, t = tiny()
    sentences, rows = t[torch.tensor([0])].distinct()
    assert sentences.shape[0] == 3  # empty row + 2 sentences of the first question
    assert torch.equal(sentences[rows[0, :2]], t.sentences[t.rows[0, :2]])


def test_noisy_time_keeps_order_and_leaves_gaps():
    torch.manual_seed(0)
    lengths = torch.tensor([1, 5, 20, 50])
    time = noisy_time(lengths, 50, E=64)
    assert time.shape == (64, 4, 50)
    for b, n in enumerate(lengths.tolist()):
        t = time[:, b, :n]
        assert (t >= 0).all() and (t <= 49).all()
        assert (t[:, :-1] > t[:, 1:]).all() if n > 1 else True  # older sentences get larger indices
        assert (t[:, -1] <= -(-n // 10)).all()  # the most recent one is near 0
        gaps = t[:, 0] - (n - 1)  # extra slots opened by the blanks, at most ceil(n/10)
        assert (gaps >= 0).all() and (gaps <= -(-n // 10)).all()
    assert (time[:, 2, :20].max(-1).values > 19).any()  # some draws do add blanks
    assert (time[:, 3, :50] == torch.arange(49, -1, -1)).all()  # a full memory has no room


def test_clip_rescales_each_model_on_its_own():
    a = torch.zeros(3, 4, requires_grad=True)
    a.grad = torch.tensor([[30.0, 40.0, 0, 0], [3.0, 4.0, 0, 0], [0, 0, 0, 80.0]])
    norms = clip_per_model([a], 40.0)
    assert torch.allclose(norms, torch.tensor([50.0, 5.0, 80.0]))
    assert torch.allclose(a.grad.norm(dim=1), torch.tensor([40.0, 5.0, 40.0]), atol=1e-4)
    assert torch.allclose(a.grad[1], torch.tensor([3.0, 4.0, 0, 0]))


def test_linear_start_ends_when_validation_loss_stops_decreasing():
    s, vocab, answers, t = tiny()
    full = encode(s * 5, vocab, answers, memory_size=4)
    # with lr = 0 nothing learns: epoch 1 sets the best loss, then it never falls again
    result = fit(full, vocab=vocab, answers=answers, hops=1, d=4, restarts=2, epochs=3, lr=0.0, ls_lr=0.0,
                 valid_fraction=0.3, ls_patience=2)
    assert result.ls_epochs == [3, 3]  # epochs 2 and 3 without a new minimum → softmax back
    assert [h["linear"] for h in result.history] == [2, 2, 0, 0, 0, 0]  # then the full 3-epoch schedule
    assert not result.model.linear and not result.ensemble.linear.any()
    capped = fit(full, vocab=vocab, answers=answers, hops=1, d=4, restarts=2, epochs=1, lr=0.0, ls_lr=0.0,
                 valid_fraction=0.3, ls_patience=100, ls_max_epochs=4)
    assert capped.ls_epochs == [4, 4]
    off = fit(full, vocab=vocab, answers=answers, hops=1, d=4, restarts=1, epochs=2, linear_start=False)
    assert off.ls_epochs == [0] and len(off.history) == 2


def test_learning_rate_schedule_restarts_after_linear_start():
    s, vocab, answers, t = tiny()
    full = encode(s * 5, vocab, answers, memory_size=4)
    result = fit(full, vocab=vocab, answers=answers, hops=1, d=4, restarts=1, epochs=4, decay_every=2,
                 ls_patience=100, ls_max_epochs=2)
    assert [round(h["lr"][0], 6) for h in result.history] == [0.005, 0.005, 0.01, 0.01, 0.005, 0.005]


def test_restarts_keep_the_lowest_training_error():
    s, vocab, answers, t = tiny()
    full = encode(s * 10, vocab, answers, memory_size=4)
    result = fit(full, vocab=vocab, answers=answers, hops=1, d=6, restarts=4, epochs=3, lr=0.002, ls_lr=0.002,
                 seed=3)
    train_errors = torch.tensor(result.train_error)
    assert train_errors[result.best] == train_errors.min()
    assert result.ensemble.E == 4 and result.model.A(0).shape == (len(vocab), 6)
    for name, value in result.model.state_dict().items():
        full_value = result.ensemble.state_dict()[name]
        expected = full_value if name == "answer_words" else full_value[result.best]
        assert torch.equal(value, expected)


def test_training_learns_task_1_quickly():
    from memlib.babi.generate import generate_stories

    train = samples(generate_stories(1, 300, seed=0, split="train"))
    test = samples(generate_stories(1, 200, seed=0, split="test"))
    vocab, answers = build_vocab(train + test)
    L = longest_sentence(train + test)
    result = fit(encode(train, vocab, answers, 50, L), vocab=vocab, answers=answers, hops=1,
                 restarts=2, epochs=20, seed=0)
    test_result = evaluate(result.model, encode(test, vocab, answers, 50, L))
    assert test_result["error"] < 0.2 and test_result["questions"] == len(test)  # chance is 5/6 wrong
    assert result.history[-1]["loss"] < result.history[0]["loss"]


def test_evaluate_on_samples_agrees_with_the_table_path():
    s, vocab, answers, t = tiny()
    result = fit(encode(s * 3, vocab, answers, memory_size=4), vocab=vocab, answers=answers, hops=2, d=6,
                 restarts=1, epochs=2, valid_fraction=0.0)
    err, _ = errors(result.ensemble, t)
    on_samples, on_table = evaluate(result.model, s), evaluate(result.model, t)
    assert on_samples == on_table and on_table["error"] == pytest.approx(float(err[0]))
    assert set(on_table) >= {"accuracy", "error", "questions"} and on_table["questions"] == len(s)


def test_checkpoint_round_trip_keeps_weights_and_answers(tmp_path):
    from memlib import checkpoints

    s, vocab, answers, t = tiny()
    result = fit(t, vocab=vocab, answers=answers, hops=2, d=6, restarts=2, epochs=1, tying="layerwise")
    other = fit(t, vocab=vocab, answers=answers, hops=1, d=4, restarts=1, epochs=1, encoding="bow")
    models = {"1": result.model, "2": other.model}
    state, config = to_checkpoint(models)
    assert config["family"] == "memn2n" and state["1.emb.0"].shape == (1, len(vocab), 6)  # stored with E = 1
    back = build({k: v for k, v in config.items() if k != "family"}, state)
    file = checkpoints.save(tmp_path / "m.pt", state, config, {"command": "test"})
    loaded, meta = checkpoints.load_model(file)
    for again in (back, loaded):
        assert set(again) == {"1", "2"}
        for name, model in models.items():
            assert again[name].config == model.config
            assert all(torch.equal(v, again[name].state_dict()[k]) for k, v in model.state_dict().items())
            assert torch.equal(again[name](t.memories, t.queries)[0], model(t.memories, t.queries)[0])
    assert meta["command"] == "test"


def test_shipped_checkpoints_reproduce_their_recorded_errors(tmp_path):
    from memlib.babi.format import load_task
    from memlib.babi.generate import generate
    from memlib.checkpoints import load_model

    generate(tmp_path, tasks=[1, 6, 16], size="1k", seed=0)  # the data notebook 02 generates
    for name, tasks in (("memn2n_babi1k_3hops", ("1", "6")), ("memn2n_ablation_pepaper", ("16",)),
                        ("memn2n_ablation_masked", ("6",))):
        models, meta = load_model(name)
        for task in tasks:
            error = evaluate(models[task], samples(load_task(tmp_path, int(task), "test")))["error"]
            assert round(100 * error, 1) == meta["tasks"][task]["test_error"], (name, task)


def test_training_runs_on_the_given_device(strict_device):
    s, vocab, answers, t = tiny()
    data = Data(vocab, answers, encode(s * 5, vocab, answers, memory_size=4), t, torch.zeros(len(t)))
    config = dict(hops=2, d=4, restarts=2, epochs=1, ls_max_epochs=1, batch_size=4)
    with strict_device() as device:  # every tensor of a training run and an evaluation is created on `device`
        model, result = train(config, data, device=device)
        test = evaluate(model, t)
    assert model.A(0).device == device and result.ensemble.linear.device == device
    assert len(result.history) == 2 and 0 <= test["error"] <= 1
