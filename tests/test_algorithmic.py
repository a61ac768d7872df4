"""The four NTM tasks: layout, seeding, settings of the paper, and both metrics."""

import math

import pytest
import torch

from memlib import algorithmic as alg
from memlib.models.baselines import SequenceLSTM


def test_copy_layout_by_hand():
    b = alg.copy(1, seed=3, length=3)
    x, y, m = b.x[0], b.y[0], b.mask[0]
    assert x.shape == (7, 9) and y.shape == (7, 8) and m.shape == (7,)
    assert x[:3, 8].sum() == 0 and x[3, 8] == 1 and x[3, :8].sum() == 0  # delimiter at step 3
    assert x[4:].sum() == 0  # silence while recalling
    assert m.tolist() == [False] * 4 + [True] * 3
    assert torch.equal(y[4:], x[:3, :8])  # the target is the input, in order
    assert y[:4].sum() == 0


def test_copy_padding_and_lengths_in_a_batch():
    b = alg.copy(64, seed=0)
    assert b.size.min() >= 1 and b.size.max() <= 20
    assert b.x.shape[1] == 2 * int(b.size.max()) + 1
    assert torch.equal(b.mask.sum(1), b.size)  # one scored step per input vector
    for i in range(5):
        L = int(b.size[i])
        assert torch.equal(b.y[i, L + 1 : 2 * L + 1], b.x[i, :L, :8])
        assert b.x[i, L, 8] == 1 and b.x[i, :, 8].sum() == 1


def test_same_length_batches_and_seeding():
    b = alg.copy(8, seed=5, same_length=True)
    assert len(set(b.size.tolist())) == 1
    assert torch.equal(alg.copy(8, seed=5).x, alg.copy(8, seed=5).x)
    assert not torch.equal(alg.copy(8, seed=5, length=10).x, alg.copy(8, seed=6, length=10).x)


def test_repeat_copy_layout():
    b = alg.repeat_copy(1, seed=1, length=2, repeats=3)
    x, y, m = b.x[0], b.y[0], b.mask[0]
    assert x.shape == (2 + 1 + 2 * 3 + 1, 10) and y.shape[1] == 9
    assert x[2, 8] == 1
    assert math.isclose(x[2, 9].item(), (3 - 5.5) / math.sqrt(99 / 12), rel_tol=1e-6)
    seq = x[:2, :8]
    assert torch.equal(y[3:9, :8], seq.repeat(3, 1))
    assert y[9, 8] == 1 and y[:9, 8].sum() == 0  # end marker after the copies
    assert m.sum() == 7 and m[3:10].all()


def test_repeat_count_channel_is_standardised_over_the_training_range():
    counts = torch.tensor([(r - alg.REPEAT_MEAN) / alg.REPEAT_STD for r in range(1, 11)])
    assert abs(counts.mean()) < 1e-6 and abs(counts.var(unbiased=False) - 1) < 1e-6


def test_associative_recall_layout():
    b = alg.associative_recall(1, seed=2, items=3)
    x, y, m = b.x[0], b.y[0], b.mask[0]
    assert x.shape == (3 * 4 + 1 + 3 + 1 + 3, 8)
    assert x[[0, 4, 8], 6].tolist() == [1, 1, 1] and x[:, 6].sum() == 3  # item delimiters
    assert x[12, 7] == 1 and x[16, 7] == 1  # query delimiters
    query = x[13:16, :6]
    items = [x[4 * i + 1 : 4 * i + 4, :6] for i in range(3)]
    q = next(i for i in range(2) if torch.equal(items[i], query))
    assert torch.equal(y[17:20], items[q + 1]) and m[17:20].all() and m.sum() == 3


def test_priority_sort_targets_highest_first():
    b = alg.priority_sort(2, seed=4)
    x, y = b.x, b.y
    assert x.shape == (2, 37, 10) and b.mask.sum(1).tolist() == [16, 16]
    for i in range(2):
        prio = x[i, :20, 8]
        assert (prio.abs() <= 1).all()
        order = prio.argsort(descending=True)[:16]
        assert torch.equal(y[i, 21:], x[i, order, :8])


def test_metrics_by_hand():
    b = alg.copy(2, seed=0, length=2)
    logits = torch.where(b.y > 0, 20.0, -20.0)  # confident and right
    assert alg.bit_errors(logits, b).tolist() == [0.0, 0.0]
    wrong = logits.clone()
    wrong[0, 3, :3] *= -1  # three flipped bits on a scored step
    wrong[1, 0] *= -1  # an unscored step does not count
    assert alg.bit_errors(wrong, b).tolist() == [3.0, 0.0]
    zero = torch.zeros_like(logits)  # p = 0.5 everywhere: 1 bit per target bit
    assert torch.allclose(alg.bits_per_sequence(zero, b), torch.tensor([16.0, 16.0]))
    assert torch.isclose(alg.loss(zero, b), torch.tensor(16 * math.log(2)))


def test_get_task_and_sizes():
    for task in alg.TASKS.values():
        b = task.batch(3, 0)
        assert b.x.shape[-1] == task.input_size and b.y.shape[-1] == task.output_size
    with pytest.raises(ValueError, match="expected one of"):
        alg.get_task("sorting")


def test_sequence_lstm_shapes_and_errors():
    m = SequenceLSTM(9, 8, hidden_size=16, layers=2)
    logits, trace = m(alg.copy(4, 0).x)
    assert logits.shape[-1] == 8 and trace is None
    with pytest.raises(ValueError, match=r"\(batch, time, 9\)"):
        m(torch.zeros(4, 9))


@pytest.mark.parametrize("name", list(alg.TASKS))
def test_batches_are_drawn_on_the_cpu_and_put_on_the_device_asked(strict_device, name):
    # a seed must give the same batch on every device, and nothing may land on torch's default device
    task = alg.get_task(name)
    expected = task.batch(3, seed=7)
    with strict_device() as device:
        b = task.batch(3, seed=7, device=device)
    for field in ("x", "y", "mask", "size"):
        assert getattr(b, field).device == device
        assert torch.equal(getattr(b, field), getattr(expected, field))
