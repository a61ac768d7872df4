"""The NTM recipe's verbs and policies, each test named after the bug it prevents: rebuild from a
checkpoint (`build` through `load_model`), a device honoured everywhere, and the policies
`Schedule`, `Rollback`, `Restart`, `WarmUp`, `Convergence` and `Selection` one by one."""

import pytest
import torch

from memlib import algorithmic as alg
from memlib import checkpoints
from memlib.models.baselines import SequenceLSTM
from memlib.models.ntm import NTM
from memlib.recipes import ntm as recipe
from memlib.recipes.ntm import (
    Convergence,
    Learner,
    Restart,
    Rollback,
    Schedule,
    Selection,
    TrainConfig,
    TrainResult,
    WarmUp,
    model_config,
    to_checkpoint,
)


def tiny_ntm(**kw):
    torch.manual_seed(0)
    return NTM(9, 8, controller_size=8, N=12, M=4, **kw)


def tiny_lstm():
    torch.manual_seed(0)
    return SequenceLSTM(9, 8, hidden_size=8, layers=2)


@pytest.mark.parametrize("make", [tiny_ntm, tiny_lstm])
def test_build_through_load_model_gives_the_same_logits(tmp_path, make):
    model = make().eval()
    f = checkpoints.save(tmp_path / "m.pt", model.state_dict(), model_config(model), {"task": "copy"})
    again, meta = checkpoints.load_model(f)
    x = alg.copy(3, seed=1, length=4).x
    assert type(again) is type(model) and meta == {"task": "copy"}
    assert torch.equal(model(x)[0], again(x)[0])


def test_to_checkpoint_stores_the_lstm_baseline_in_float16_and_the_ntm_as_is():
    lstm_state, lstm_config = to_checkpoint(tiny_lstm())
    ntm_state, ntm_config = to_checkpoint(tiny_ntm())
    assert {v.dtype for v in lstm_state.values()} == {torch.float16} and lstm_config["model"] == "lstm"
    assert {v.dtype for v in ntm_state.values()} == {torch.float32} and ntm_config["family"] == "ntm"


def test_build_turns_a_float16_lstm_back_into_float32():
    model = tiny_lstm()
    config = {k: v for k, v in model_config(model).items() if k != "family"}
    again = recipe.build(config, {k: v.half() for k, v in model.state_dict().items()})
    assert all(p.dtype == torch.float32 for p in again.parameters())
    with pytest.raises(ValueError, match="unknown model kind"):
        recipe.build({**config, "model": "gru"}, model.state_dict())


@pytest.mark.parametrize("make", [tiny_ntm, tiny_lstm])
def test_forward_and_training_step_create_every_tensor_on_the_given_device(strict_device, make):
    model = make().train()
    if isinstance(model, NTM):
        model.slip = 0.2  # the slip's random directions must be drawn on the device too
    batch = alg.copy(4, seed=0, length=3)
    learner = Learner(model, 1e-3)
    with strict_device() as device:
        logits, _ = model(batch.x.to(device))
        assert logits.device == device
        assert learner.step(batch.to(device), clip_norm=10.0) is not None
        assert all(p.device == device for p in model.parameters())


def test_train_and_evaluate_run_on_the_given_device(strict_device):
    cfg = TrainConfig(seed=0, max_sequences=16, batch_size=8, window=1, eval_size=8, restart_after=8,
                      plateau=-1.0, model_kw=dict(controller_size=8, N=12, M=4, slip=0.2))
    with strict_device() as device:  # a fresh model, batches, held-out checks and a restart
        model, res = recipe.train(cfg, "copy", device=device)
        assert recipe.evaluate(model, "copy", n=4)["bit_errors"] >= 0
    assert res.restarts == 2 and next(model.parameters()).device == device


def test_train_takes_the_task_as_data_or_from_the_config():
    cfg = TrainConfig(task="copy", seed=0, max_sequences=16, batch_size=8, window=1, eval_size=8,
                      model_kw=dict(hidden_size=8, layers=1), model="lstm")
    a, res_a = recipe.train(cfg)
    b, res_b = recipe.train(cfg, alg.get_task("copy"))
    assert res_a.curve == res_b.curve and res_a.heldout == res_b.heldout
    with pytest.raises(ValueError, match="unknown task"):
        recipe.train(cfg, "sorting")


def test_schedule_lowers_the_rate_once_and_never_raises_it():
    learner, res = Learner(tiny_ntm(), 3e-3), TrainResult()
    schedule = Schedule(((1.0, 1e-3),), converged=5e-3)
    schedule.after_window(learner, 2.0, res)  # still high: keep the rate
    assert learner.lr == 3e-3 and res.events == []
    schedule.after_window(learner, 0.5, res)
    schedule.after_window(learner, 0.4, res)  # already lower: no second event
    assert learner.lr == 1e-3 and learner.opt.param_groups[0]["lr"] == 1e-3 and len(res.events) == 1
    schedule.at_convergence(learner)  # a converged rate above the current one must not raise it
    assert learner.lr == 1e-3


def test_nonfinite_rollback_restores_the_last_window_state_and_halves_the_rate():
    learner, res = Learner(tiny_ntm(), 2e-3), TrainResult()
    saved = {k: v.clone() for k, v in learner.model.state_dict().items()}
    with torch.no_grad():
        learner.model.out.weight.fill_(float("nan"))
    Rollback.nonfinite(learner, res)
    assert all(torch.equal(v, saved[k]) for k, v in learner.model.state_dict().items())
    assert learner.lr == 1e-3 and res.nonfinite == 1 and "lr 0.001" in res.events[0][1]


def test_a_noisy_window_is_not_rolled_back_unless_heldout_confirms_it(monkeypatch):
    held = []
    monkeypatch.setattr(recipe, "heldout", lambda model, task, cfg, seen: held.pop(0))
    learner, res, task, cfg = Learner(tiny_ntm(), 2e-3), TrainResult(), alg.get_task("copy"), TrainConfig()
    learner.best_held = 0.2
    assert not Rollback.relapse(learner, 1.0, task, cfg, res)  # under 0.2 + 1.5: not even checked
    held.append(0.9)  # suspicious window, but held-out under max(0.6, 1.2): noise
    assert not Rollback.relapse(learner, 2.0, task, cfg, res)
    held.append(5.0)  # confirmed: back to the best state, half the rate
    assert Rollback.relapse(learner, 2.0, task, cfg, res)
    assert res.rollbacks == 1 and learner.lr == 1e-3 and held == []


def test_restart_is_due_only_after_the_budget_and_only_on_the_plateau():
    restart = Restart(after=32, plateau=10.0)
    curve = [(8 * i, e, 0.0) for i, e in enumerate([30.0, 20.0, 12.0, 11.0], start=1)]
    restart.seen = 24
    assert not restart.due(curve, window_sequences=8)  # too early
    restart.seen = 32
    assert restart.due(curve, window_sequences=8)
    assert not restart.due(curve + [(40, 9.0, 0.0)], window_sequences=8)  # left the plateau
    assert not Restart(after=0, plateau=10.0).due(curve, 8)  # 0: never


def test_restart_gives_fresh_seeded_weights_and_a_fresh_optimiser():
    cfg = TrainConfig(seed=0, lr=2e-3, model_kw=dict(controller_size=8, N=12, M=4))
    learner, res = Learner(recipe.make_model(cfg, alg.get_task("copy")), 1e-4), TrainResult()
    learner.best_held = 0.5
    fresh = Restart(after=8, plateau=0.0).fresh(learner, cfg, alg.get_task("copy"), res, err=12.0)
    torch.manual_seed(cfg.seed + 7919)
    expected = recipe.make_model(cfg, alg.get_task("copy")).state_dict()
    assert all(torch.equal(v, expected[k]) for k, v in fresh.model.state_dict().items())
    assert fresh.lr == 2e-3 and fresh.best_held == float("inf") and res.restarts == 1


def test_warmup_draws_the_easier_task_until_it_is_learned():
    cfg, res = TrainConfig(task_kw=dict(max_len=3)), TrainResult()
    warmup = WarmUp(dict(max_len=20, max_repeats=3), until=1.0)
    assert warmup.task_kw(cfg) == dict(max_len=20, max_repeats=3)
    warmup.check(1.0, res)  # not below 1: still warming up
    assert warmup.active
    warmup.check(0.5, res)
    assert not warmup.active and warmup.task_kw(cfg) == dict(max_len=3) and len(res.events) == 1
    assert not WarmUp({}, until=1.0).active  # no warm-up asked: the task from the start


def test_one_lucky_heldout_check_does_not_count_as_convergence():
    learner, convergence = Learner(tiny_ntm(), 1e-3), Convergence(below=0.1, confirm=2)
    assert not convergence.check(learner, 0.05)
    assert not convergence.check(learner, 0.3)  # the streak breaks
    assert not convergence.check(learner, 0.05)
    assert convergence.check(learner, 0.08)
    assert learner.best_held == 0.05  # the best held-out state is kept along the way


def test_selection_keeps_the_earlier_state_when_the_last_one_is_worse(monkeypatch):
    scores = iter([0.2, 0.5])
    monkeypatch.setattr(recipe, "evaluate", lambda *a, **kw: {"bit_errors": next(scores)})
    model, task, cfg = tiny_ntm(), alg.get_task("copy"), TrainConfig()
    selection, res = Selection(), TrainResult(sequences=100)
    selection.start(model, task, cfg, seen=40)
    at_40 = {k: v.clone() for k, v in model.state_dict().items()}
    with torch.no_grad():
        model.out.weight.add_(1.0)  # training went on, and got worse on the selection set
    selection.hand_back(model, task, cfg, res)
    assert all(torch.equal(v, at_40[k]) for k, v in model.state_dict().items())
    assert "handed back the state at 40 sequences" in res.events[0][1]


def test_the_copy_preset_serves_both_controllers_and_ff_has_no_recurrent_state():
    from dataclasses import asdict

    ff, lstm = recipe.preset("copy", controller="ff", seed=2), recipe.preset("copy", seed=2)
    assert ff.controller == "ff" and asdict(ff) == {**asdict(lstm), "controller": "ff"}
    model = recipe.make_model(ff, alg.get_task("copy"))
    assert isinstance(model.controller, torch.nn.Linear) and not hasattr(model, "h0")
    # a feed-forward controller of 100 units: 13,536 parameters against the LSTM controller's 63,136
    # (Graves et al. 2014, Tables 1-2: 17,162 and 67,561, with the paper's head parametrisation)
    assert sum(p.numel() for p in model.parameters()) == 13_536
    assert sum(p.numel() for p in recipe.make_model(lstm, alg.get_task("copy")).parameters()) == 63_136
