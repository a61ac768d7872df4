"""The MemN2N recipe: sentence tables, random noise, clipping, linear start, restarts."""

import torch

from memlib.babi.encode import samples
from memlib.babi.format import parse
from memlib.memn2n_train import (
    build_vocab,
    clip_per_model,
    encode_table,
    evaluate,
    fit,
    noisy_time,
    sentence_size,
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
    return s, vocab, answers, encode_table(s, vocab, answers, memory_size=4)


def test_sentence_table_stores_each_distinct_sentence_once():
    s, vocab, answers, t = tiny()
    assert len(t) == 4
    texts = [tuple(vocab.decode(row)) for row in t.sentences]
    assert texts[0] == () and len(set(texts)) == len(texts)  # row 0 = empty, no duplicates
    assert len(texts) == 1 + 4  # 6 statements told, 4 distinct (two are repeated)
    for b, sample in enumerate(s):  # every slot points at its own sentence, padding at row 0
        n = min(len(sample.memories), 4)  # the 4 most recent
        assert t.lengths[b] == n
        assert [vocab.decode(t.sentences[r]) for r in t.memory[b, :n]] == sample.memories[-n:]
        assert (t.memory[b, n:] == 0).all()
    assert t.supports[1].tolist()[0] == 2 and t.supports[2].tolist()[0] == 3 and t.answers[2] == answers.index("apple,milk")


def test_list_answers_are_one_class_and_one_word():
    _, vocab, answers, _ = tiny()
    assert "apple,milk" in answers and "apple,milk" in vocab
    assert sentence_size(samples(parse(STORY))) == 6  # "daniel went back to the hallway"


def test_batch_embeds_only_the_batch_sentences():
    _, _, _, t = tiny()
    sentences, memory, queries, lengths = t.batch(torch.tensor([0]))
    assert sentences.shape[0] == 3  # empty row + 2 sentences of the first question
    assert torch.equal(sentences[memory[0, :2]], t.sentences[t.memory[0, :2]])


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
    full = encode_table(s * 5, vocab, answers, memory_size=4)
    # with lr = 0 nothing learns: epoch 1 sets the best loss, then it never falls again
    result = fit(full, vocab=vocab, answers=answers, hops=1, d=4, restarts=2, epochs=3, lr=0.0, ls_lr=0.0,
                 memory_size=4, valid_fraction=0.3, ls_patience=2)
    assert result.ls_epochs == [3, 3]  # epochs 2 and 3 without a new minimum → softmax back
    assert [h["linear"] for h in result.history] == [2, 2, 0, 0, 0, 0]  # then the full 3-epoch schedule
    assert not result.model.linear.any()
    capped = fit(full, vocab=vocab, answers=answers, hops=1, d=4, restarts=2, epochs=1, lr=0.0, ls_lr=0.0,
                 memory_size=4, valid_fraction=0.3, ls_patience=100, ls_max_epochs=4)
    assert capped.ls_epochs == [4, 4]
    off = fit(full, vocab=vocab, answers=answers, hops=1, d=4, restarts=1, epochs=2, memory_size=4,
              linear_start=False)
    assert off.ls_epochs == [0] and len(off.history) == 2


def test_learning_rate_schedule_restarts_after_linear_start():
    s, vocab, answers, t = tiny()
    full = encode_table(s * 5, vocab, answers, memory_size=4)
    result = fit(full, vocab=vocab, answers=answers, hops=1, d=4, restarts=1, epochs=4, decay_every=2,
                 memory_size=4, ls_patience=100, ls_max_epochs=2)
    assert [round(h["lr"][0], 6) for h in result.history] == [0.005, 0.005, 0.01, 0.01, 0.005, 0.005]


def test_restarts_keep_the_lowest_training_error():
    s, vocab, answers, t = tiny()
    full = encode_table(s * 10, vocab, answers, memory_size=4)
    result = fit(full, vocab=vocab, answers=answers, hops=1, d=6, restarts=4, epochs=3, lr=0.002, ls_lr=0.002,
                 memory_size=4, seed=3)
    errors = torch.tensor(result.train_error)
    assert errors[result.best] == errors.min()
    assert result.ensemble.E == 4 and result.model.E == 1
    for name, value in result.model.state_dict().items():
        full_value = result.ensemble.state_dict()[name]
        expected = full_value if name == "answer_words" else full_value[result.best:result.best + 1]
        assert torch.equal(value, expected)


def test_training_learns_task_1_quickly():
    from memlib.babi.generate import generate_stories

    train = samples(generate_stories(1, 300, seed=0, split="train"))
    test = samples(generate_stories(1, 200, seed=0, split="test"))
    vocab, answers = build_vocab(train + test)
    L = sentence_size(train + test)
    result = fit(encode_table(train, vocab, answers, 50, L), vocab=vocab, answers=answers, hops=1,
                 restarts=2, epochs=20, seed=0)
    err, _ = evaluate(result.model, encode_table(test, vocab, answers, 50, L))
    assert float(err[0]) < 0.2  # chance is 5/6 wrong
    assert result.history[-1]["loss"] < result.history[0]["loss"]


def test_error_rate_on_samples_agrees_with_the_table_path():
    from memlib.memn2n_train import error_rate

    s, vocab, answers, t = tiny()
    result = fit(encode_table(s * 3, vocab, answers, memory_size=4), vocab=vocab, answers=answers, hops=2, d=6,
                 restarts=1, epochs=2, memory_size=4, valid_fraction=0.0)
    err, _ = evaluate(result.model, t)
    assert error_rate(result.model, s) == float(err[0])
