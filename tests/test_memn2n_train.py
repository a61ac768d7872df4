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
    split,
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


def test_split_holds_out_a_fraction_and_train_uses_it():
    s, vocab, answers, t = tiny()
    big = encode(s * 10, vocab, answers, memory_size=4)  # 40 questions
    part, valid = split(big, 0.1, torch.Generator().manual_seed(3))
    assert (len(part), len(valid)) == (36, 4)
    again, valid2 = split(big, 0.1, torch.Generator().manual_seed(3))
    assert torch.equal(valid.queries, valid2.queries) and torch.equal(part.answers, again.answers)
    result = fit(big, vocab=vocab, answers=answers, restarts=2, epochs=2, seed=3)
    v_err, _ = errors(result.ensemble, valid)  # `train` held out exactly this split for its seed
    t_err, _ = errors(result.ensemble, part)
    assert v_err.tolist() == result.valid_error and t_err.tolist() == result.train_error


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
    a = torch.tensor([[30.0, 40.0, 0, 0], [3.0, 4.0, 0, 0], [0, 0, 0, 60.0]])
    b = torch.tensor([[[0.0]], [[0.0]], [[80.0]]])  # a second table: model 2's norm is √(60² + 80²) = 100
    norms = clip_per_model([a, b], 40.0)
    assert torch.allclose(norms, torch.tensor([50.0, 5.0, 100.0]))
    assert torch.allclose(a.norm(dim=1), torch.tensor([40.0, 5.0, 24.0]), atol=1e-4)
    assert torch.allclose(a[1], torch.tensor([3.0, 4.0, 0, 0])) and torch.allclose(b[2], torch.tensor([[32.0]]))


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
                 seed=3, select="train")
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


def test_selection_key_breaks_ties_in_order():
    from memlib.recipes.memn2n import selection_key

    t_err = torch.tensor([0.0, 0.0, 0.0, 0.01])
    t_loss = torch.tensor([0.30, 0.10, 0.20, 0.00])
    v_err = torch.tensor([0.02, 0.01, 0.01, 0.00])
    v_loss = torch.tensor([0.5, 0.9, 0.4, 2.0])
    # the paper: training error, then training loss → restart 1 (restart 3 has the lowest loss but an error)
    assert int(selection_key("train", t_err, t_loss, v_err, v_loss).argmin()) == 1
    # validation error first → restart 3, however high its losses
    assert int(selection_key("valid", t_err, t_loss, v_err, v_loss).argmin()) == 3
    v_err[3] = 0.01  # now 1, 2, 3 tie on validation error; 3 has a training error; 2 the lower validation loss
    assert int(selection_key("valid", t_err, t_loss, v_err, v_loss).argmin()) == 2


def test_flat_sgd_is_clipped_sgd_with_the_nil_row_held_at_zero():
    from memlib.models.memn2n_fast import MemN2NEnsemble, cross_entropy
    from memlib.recipes.memn2n import FlatSGD

    s, vocab, answers, t = tiny()
    torch.manual_seed(0)
    model = MemN2NEnsemble(len(vocab), len(answers), d=4, hops=2, memory_size=4, sentence_size=6, ensemble=2,
                           answer_words=[vocab[a] for a in answers], sigma=1.0)
    before = {k: v.clone() for k, v in model.named_parameters()}
    logits, _ = model(*t.distinct(), t.queries, t.lengths)
    loss = cross_entropy(logits, t.answers)
    grads = torch.autograd.grad(loss.sum(), list(model.parameters()), retain_graph=True)
    grads = [g.clone() for g in grads]
    for g, p in zip(grads, model.parameters()):  # by hand: nil rows out, clip each model to norm 1, step 0.1
        if any(p is table for table in model.emb):
            g[:, 0] = 0
    norms = sum(g.pow(2).flatten(1).sum(1) for g in grads).sqrt()
    scale = (1.0 / (norms + 1e-6)).clamp(max=1.0)
    assert (norms > 1).all()  # the clip is exercised
    sgd = FlatSGD(model, clip=1.0)
    assert all(p.data_ptr() >= sgd.flat.data_ptr() for p in model.parameters())  # views into one buffer
    sgd.step(loss, torch.tensor([0.1, 0.1]))
    for (name, p), g in zip(model.named_parameters(), grads):
        expected = before[name] - 0.1 * g * scale.view(-1, *[1] * (g.dim() - 1))
        assert torch.allclose(p, expected, atol=1e-6), name
    assert all(float(table.detach()[:, 0].abs().sum()) == 0 for table in model.emb)


def test_early_stopping_keeps_each_restarts_best_validation_epoch():
    s, vocab, answers, t = tiny()
    full = encode(s * 10, vocab, answers, memory_size=4)
    result = fit(full, vocab=vocab, answers=answers, hops=1, d=6, restarts=3, epochs=6, lr=0.05, ls_max_epochs=1,
                 seed=1, keep="best_valid", select="valid")
    main = [h for h in result.history if h["linear"] == 0 and h["epoch"] > 1]  # after linear start
    for e in range(3):
        assert result.valid_error[e] == pytest.approx(min(h["valid_error"][e] for h in main))
    assert result.valid_error[result.best] == min(result.valid_error)  # the default rule: validation first
    last = fit(full, vocab=vocab, answers=answers, hops=1, d=6, restarts=3, epochs=6, lr=0.05, ls_max_epochs=1,
               seed=1, keep="last")
    assert last.valid_error == pytest.approx(result.history[-1]["valid_error"])  # the same run, last epoch kept
    with pytest.raises(ValueError, match="keep must be"):
        fit(full, vocab=vocab, answers=answers, keep="best")


def test_gradient_noise_changes_the_run_and_zero_is_none():
    s, vocab, answers, t = tiny()
    full = encode(s * 5, vocab, answers, memory_size=4)
    runs = [fit(full, vocab=vocab, answers=answers, hops=1, d=4, restarts=1, epochs=2, grad_noise=noise)
            for noise in (0.0, 0.0, 1.0)]
    assert runs[0].history == runs[1].history  # seeded: the same run twice
    assert runs[2].history[-1]["loss"] != runs[0].history[-1]["loss"]


def test_failed_counts_tasks_above_five_percent_not_float32_rounding():
    from memlib.recipes.memn2n import failed

    at_five = float(torch.tensor(50 / 1000, dtype=torch.float32))  # 0.0500000007
    assert at_five > 0.05 and failed({1: at_five}) == 0
    assert failed({1: 0.051, 2: 0.0, 3: 0.5, 4: 0.05}) == 2


def test_split_index_holds_out_each_tasks_share_as_a_one_task_run_would():
    from memlib.recipes.memn2n import split_index

    kept, held = split_index(40, 0.1, torch.Generator().manual_seed(5))  # one task: the first draw of the seed
    perm = torch.randperm(40, generator=torch.Generator().manual_seed(5))
    assert torch.equal(held, perm[:4]) and torch.equal(kept, perm[4:])
    tasks = torch.tensor([1] * 40 + [2] * 30)  # two tasks, each in one block
    kept, held = split_index(70, 0.1, torch.Generator().manual_seed(5), tasks)
    alone_kept, alone_held = split_index(30, 0.1, torch.Generator().manual_seed(5))
    assert torch.equal(held, torch.cat([perm[:4], 40 + alone_held]))  # task 2: 3 of 30, as if alone
    assert torch.equal(kept, torch.cat([perm[4:], 40 + alone_kept]))
    assert sorted(torch.cat([kept, held]).tolist()) == list(range(70))


def test_choose_keeps_the_lowest_validation_error_among_every_restart_of_every_configuration():
    from memlib.recipes.memn2n import choose, task_errors

    s, vocab, answers, t = tiny()
    big = encode(s * 10, vocab, answers, memory_size=4)  # 40 questions, all of "task 1"
    data = Data(vocab, answers, big, t, torch.ones(len(t), dtype=torch.long), torch.ones(len(big), dtype=torch.long))
    runs = {name: (train(dict(hops=1, d=4, restarts=3, epochs=e, seed=3), data, device="cpu")[1], data)
            for name, e in (("short", 1), ("long", 6))}
    for fit_, _ in runs.values():  # the same held-out questions as `train` used: the same errors
        t_err, _, v_err, _ = task_errors(fit_, data, 1)
        assert t_err.tolist() == pytest.approx(fit_.train_error) and v_err.tolist() == pytest.approx(fit_.valid_error)
    assert torch.equal(runs["short"][0].valid_index, runs["long"][0].valid_index)
    kept = choose(1, runs)
    every = [(v, n, r) for n, (f, _) in runs.items() for r, v in enumerate(f.valid_error)]
    assert kept["valid_error"] == pytest.approx(min(every)[0])
    assert runs[kept["chosen"]][0].valid_error[kept["restart"]] == pytest.approx(kept["valid_error"])
    assert kept["test_error"] == pytest.approx(evaluate(kept["model"], t)["error"])


def test_holdout_last_holds_out_each_tasks_last_questions_as_the_authors_code():
    from memlib.recipes.memn2n import split_index

    tasks = torch.tensor([1] * 40 + [2] * 30)
    kept, held = split_index(70, 0.1, torch.Generator().manual_seed(5), tasks, holdout="last")
    assert held.tolist() == [36, 37, 38, 39, 67, 68, 69]  # the last 4 of task 1, the last 3 of task 2
    assert kept.tolist() == list(range(36)) + list(range(40, 67))
    s, vocab, answers, t = tiny()
    big = encode(s * 10, vocab, answers, memory_size=4)
    result = fit(big, vocab=vocab, answers=answers, restarts=2, epochs=1, seed=3, holdout="last")
    assert result.valid_index.tolist() == [36, 37, 38, 39]
    with pytest.raises(ValueError, match="holdout must be 'random' or 'last'"):
        fit(big, vocab=vocab, answers=answers, holdout="stories")
