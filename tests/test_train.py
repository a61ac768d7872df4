"""The generic fit loop: it learns, clips, schedules, stops early, and measures accuracy."""

import pytest
import torch
import torch.nn as nn

from memlib.train import accuracy, fit, minibatches, model_device, tally, to_device


class Pairs:
    """A tiny dataset with the Batch interface: len, tensor indexing, .answers."""

    def __init__(self, x, answers):
        self.x, self.answers = x, answers

    def __len__(self):
        return len(self.x)

    def __getitem__(self, idx):
        return Pairs(self.x[idx], self.answers[idx])


class Linear(nn.Module):
    def __init__(self):
        super().__init__()
        self.layer = nn.Linear(2, 2)

    def forward(self, batch):
        return self.layer(batch.x), None


def data(n=64, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 2, generator=g)
    return Pairs(x, (x[:, 0] > x[:, 1]).long())


def ce(model, batch):
    return nn.functional.cross_entropy(model(batch)[0], batch.answers)


def test_minibatches_cover_every_item_once_per_pass_and_reshuffle():
    d = Pairs(torch.arange(10).float().unsqueeze(1), torch.arange(10))
    mb = minibatches(d, 4, seed=0)
    assert len(mb) == 3
    first = torch.cat([b.answers for b in mb])
    second = torch.cat([b.answers for b in mb])
    assert sorted(first.tolist()) == list(range(10)) == sorted(second.tolist())
    assert not torch.equal(first, second)
    assert torch.cat([b.answers for b in minibatches(d, 4, shuffle=False)]).tolist() == list(range(10))
    with pytest.raises(ValueError, match="batch_size"):
        minibatches(d, 0)


def test_fit_lowers_the_loss_and_learns_a_separable_problem():
    torch.manual_seed(0)
    model, train = Linear(), data()
    history = fit(model, ce, minibatches(train, 16), torch.optim.SGD(model.parameters(), lr=0.5), 20,
                  progress=False)
    assert len(history.loss) == 20 and history.loss[-1] < history.loss[0] / 2
    assert accuracy(model, train) > 0.9
    assert history.best_epoch == 19 and history.stopped == ""


def test_a_progress_function_hears_every_epoch():
    torch.manual_seed(0)
    model, points = Linear(), []
    history = fit(model, ce, minibatches(data(), 16), torch.optim.SGD(model.parameters(), lr=0.5), 3,
                  evaluate=lambda m: accuracy(m, data()), progress=points.append)
    assert [p["epoch"] for p in points] == [1, 2, 3]
    assert [p["loss"] for p in points] == history.loss and [p["metric"] for p in points] == history.metric
    assert all(p["lr"] == 0.5 for p in points)


def test_named_loss_parts_are_averaged_per_epoch():
    torch.manual_seed(0)
    model = Linear()

    def loss_fn(m, b):
        loss = ce(m, b)
        return loss, {"ce": loss.item(), "one": 1.0}

    history = fit(model, loss_fn, minibatches(data(), 16), torch.optim.SGD(model.parameters(), lr=0.1), 2,
                  progress=False)
    assert history.parts[0]["one"] == pytest.approx(1.0)
    assert history.parts[0]["ce"] == pytest.approx(history.loss[0])


def test_gradient_clipping_bounds_the_update():
    model = nn.Linear(1, 1, bias=False)
    nn.init.zeros_(model.weight)
    batches = [torch.tensor([[1000.0]])]

    def loss_fn(m, x):
        return (m(x) - 1000.0 * 1000.0).pow(2).sum()  # a huge gradient

    fit(model, loss_fn, batches, torch.optim.SGD(model.parameters(), lr=1.0), 1, clip=0.5, progress=False)
    assert abs(model.weight.item()) == pytest.approx(0.5)  # one step of norm exactly `clip`


def test_schedule_hook_sets_the_learning_rate_of_each_epoch():
    model = Linear()
    seen = []

    def halve(epoch, optimizer):
        seen.append(epoch)
        for group in optimizer.param_groups:
            group["lr"] = 0.1 * 0.5 ** epoch

    history = fit(model, ce, minibatches(data(), 32), torch.optim.SGD(model.parameters(), lr=0.1), 3,
                  schedule=halve, progress=False)
    assert seen == [0, 1, 2]
    assert history.lr == pytest.approx([0.1, 0.05, 0.025])


def test_target_stops_as_soon_as_the_metric_reaches_it():
    model = Linear()
    scores = iter([0.5, 0.9, 1.0, 1.0])
    history = fit(model, ce, minibatches(data(), 32), torch.optim.SGD(model.parameters(), lr=0.1), 10,
                  evaluate=lambda m: next(scores), target=0.95, progress=False)
    assert history.metric == [0.5, 0.9, 1.0] and history.stopped == "target" and history.best_epoch == 2


def test_patience_stops_and_restores_the_best_weights():
    torch.manual_seed(0)
    model = Linear()
    snapshots, scores = [], iter([0.3, 0.8, 0.6, 0.5, 0.4, 0.2])

    def evaluate(m):
        snapshots.append(m.layer.weight.detach().clone())
        return next(scores)

    history = fit(model, ce, minibatches(data(), 32), torch.optim.SGD(model.parameters(), lr=0.5), 10,
                  evaluate=evaluate, patience=2, progress=False)
    assert history.stopped == "patience" and len(history.metric) == 4
    assert history.best_epoch == 1
    assert torch.equal(model.layer.weight, snapshots[1])


def test_a_non_finite_loss_stops_with_advice():
    model = Linear()

    def bad(m, b):
        return m(b)[0].sum() * float("inf")

    with pytest.raises(FloatingPointError, match="learning rate"):
        fit(model, bad, minibatches(data(), 32), torch.optim.SGD(model.parameters(), lr=0.1), 1, progress=False)


def test_accuracy_counts_correct_predictions_and_restores_training_mode():
    model = Linear()
    model.train()
    d = data(8)
    predict = lambda m, b: b.answers.clone()  # noqa: E731 - always right
    assert accuracy(model, d, predict=predict) == 1.0
    assert accuracy(model, [d[torch.arange(4)], d[torch.arange(4, 8)]], predict=lambda m, b: 1 - b.answers) == 0.0
    assert model.training
    with pytest.raises(ValueError, match="at least one"):
        accuracy(model, [])


def test_tally_sums_named_counts_over_batches_and_restores_training_mode():
    model = Linear()
    model.train()
    d = data(10)
    seen = []

    def counts(m, b):
        seen.append(m.training)
        return {"n": len(b), "right": (b.answers == 1).sum()}

    total = tally(model, minibatches(d, 4, shuffle=False), counts)
    assert total["n"] == 10 and int(total["right"]) == int((d.answers == 1).sum())
    assert seen == [False, False, False] and model.training
    assert tally(model, [], counts) == {}


def test_to_device_moves_every_tensor_field_and_model_device_finds_the_weights():
    from memlib.babi.encode import Batch

    b = Batch(*(torch.zeros(2, dtype=torch.long) for _ in range(5)))
    moved = to_device(b, "meta")
    tensors = [t for t in vars(moved).values() if isinstance(t, torch.Tensor)]
    assert isinstance(moved, Batch) and len(tensors) >= 5 and all(t.device.type == "meta" for t in tensors)
    assert b.memories.device.type == "cpu"  # the original is left where it was
    assert model_device(Linear().to("meta")).type == "meta" and model_device(nn.ReLU()) == torch.device("cpu")


def test_minibatches_and_a_training_step_create_no_tensor_off_the_device(strict_device):
    torch.manual_seed(0)
    model, d = Linear(), data(16)
    with strict_device() as device:
        history = fit(model, ce, minibatches(d, 8, seed=0), torch.optim.SGD(model.parameters(), lr=0.1), 1,
                      evaluate=lambda m: accuracy(m, d), patience=1, progress=False)
        assert len(history.loss) == 1 and model.layer.weight.device == device
        assert len(list(minibatches(d, 8, shuffle=False))) == 2
