"""The NTM module: shapes, bounded head parameters, a trace consistent with the equations,
stability at extreme controller outputs, a tiny "loss falls" check, and the training loop's
safety nets (NaN rollback, checkpoints). The policies one by one: tests/test_ntm_recipe.py."""

import pytest
import torch

from memlib import algorithmic as alg
from memlib import checkpoints
from memlib.models import addressing as A
from memlib.models.ntm import NTM, NTMTrace
from memlib.recipes.ntm import Selection, TrainConfig, build, evaluate, model_config, train


def small(**kw):
    torch.manual_seed(0)
    return NTM(9, 8, controller_size=16, N=12, M=5, **kw)


def test_forward_shapes_and_trace_fields():
    m = small(read_heads=2, write_heads=1)
    b = alg.copy(3, seed=0, length=4)
    logits, tr = m(b.x, trace=True)
    T = b.x.shape[1]
    assert logits.shape == (3, T, 8)
    assert isinstance(tr, NTMTrace)
    assert tr.w.shape == tr.w_c.shape == tr.w_g.shape == tr.w_tilde.shape == (3, T, 3, 12)
    assert tr.read_w.shape == (3, T, 2, 12) and tr.write_w.shape == (3, T, 1, 12)
    assert tr.k.shape == (3, T, 3, 5) and tr.s.shape == (3, T, 3, 3)
    assert tr.beta.shape == tr.g.shape == tr.gamma.shape == (3, T, 3)
    assert tr.e.shape == tr.a.shape == (3, T, 1, 5) and tr.r.shape == (3, T, 2, 5)
    assert tr.memory.shape == (3, T + 1, 12, 5)
    assert tr.item(1).w.shape == (1, T, 3, 12)
    assert m(b.x)[1] is None  # no trace unless asked: the fast path


def test_memory_starts_constant_small_never_zero():
    m = small()
    _, tr = m(alg.copy(2, seed=0, length=2).x, trace=True)
    assert torch.all(tr.memory[:, 0] == 1e-6)


def test_trace_is_consistent_with_the_equations():
    m = small()
    b = alg.copy(2, seed=1, length=3)
    _, tr = m(b.x, trace=True)
    w_prev = torch.softmax(m.w0, -1).expand(2, -1, -1)
    for t in range(b.x.shape[1]):
        M_prev = tr.memory[:, t]
        w_c = A.content(tr.k[:, t], tr.beta[:, t], M_prev)
        assert torch.allclose(w_c, tr.w_c[:, t], atol=1e-6)
        w_g = A.interpolate(w_c, w_prev, tr.g[:, t])
        assert torch.allclose(w_g, tr.w_g[:, t], atol=1e-6)
        assert torch.allclose(A.shift(w_g, tr.s[:, t]), tr.w_tilde[:, t], atol=1e-6)
        w = A.sharpen(tr.w_tilde[:, t], tr.gamma[:, t])
        assert torch.allclose(w, tr.w[:, t], atol=1e-6)
        assert torch.allclose(A.read(tr.read_w[:, t], M_prev), tr.r[:, t], atol=1e-6)
        M_new = A.write(M_prev, tr.write_w[:, t], tr.e[:, t], tr.a[:, t])
        assert torch.allclose(M_new, tr.memory[:, t + 1], atol=1e-6)
        w_prev = tr.w[:, t]


def test_head_parameters_are_bounded_even_for_huge_controller_outputs():
    m = small()
    with torch.no_grad():
        m.heads.weight.mul_(1e4)  # controller outputs far beyond the clip
    h = torch.randn(4, 16) * 10
    p = m.head_parameters(h)
    assert (p["beta"] > 0).all() and torch.isfinite(p["beta"]).all()
    assert ((p["g"] >= 0) & (p["g"] <= 1)).all()
    assert torch.allclose(p["s"].sum(-1), torch.ones(4, 2))
    assert (p["gamma"] >= 1).all() and (p["gamma"] <= 1 + 20.01).all()
    assert ((p["e"] >= 0) & (p["e"] <= 1)).all() and (p["a"].abs() <= 1).all()
    b = alg.copy(2, seed=0, length=5)
    logits, tr = m(b.x, trace=True)
    assert torch.isfinite(logits).all() and torch.isfinite(tr.memory).all()
    alg.loss(logits, b).backward()
    assert all(torch.isfinite(q.grad).all() for q in m.parameters() if q.grad is not None)


def test_weightings_in_trace_are_distributions():
    m = small(read_heads=1, write_heads=2)
    _, tr = m(alg.copy(2, seed=0, length=5).x, trace=True)
    for w in (tr.w_c, tr.w_g, tr.w_tilde, tr.w):
        assert torch.allclose(w.sum(-1), torch.ones(w.shape[:-1]), atol=1e-5)


def test_feedforward_controller_and_bad_arguments():
    m = small(controller="ff")
    logits, _ = m(alg.copy(2, seed=0, length=3).x)
    assert logits.shape == (2, 7, 8)
    with pytest.raises(ValueError, match="controller"):
        NTM(9, 8, controller="gru")
    with pytest.raises(ValueError, match=r"\(batch, time, 9\)"):
        m(torch.zeros(2, 7, 10))


def test_slip_only_in_training_and_only_when_asked():
    x = alg.copy(4, seed=1, length=6).x
    torch.manual_seed(0)
    plain = small()
    torch.manual_seed(0)
    slipping = small(slip=0.3)
    assert torch.equal(plain(x)[0], slipping.eval()(x)[0])  # eval: no slip, same model
    assert torch.equal(plain.eval()(x)[0], plain.train()(x)[0])  # slip 0: train = eval
    slipping.train()
    torch.manual_seed(1)
    a = slipping(x)[0]
    torch.manual_seed(1)
    assert torch.equal(a, slipping(x)[0])  # seeded: the same slips
    assert not torch.allclose(a, slipping.eval()(x)[0])
    config = {k: v for k, v in model_config(slipping).items() if k != "family"}
    assert build(config, slipping.state_dict()).slip == 0.3
    with pytest.raises(ValueError, match="slip must be in"):
        small(slip=1.0)


def test_evaluate_runs_in_eval_mode_and_restores_the_mode():
    torch.manual_seed(0)
    model = NTM(9, 8, controller_size=16, N=12, M=5, slip=0.3)
    before = evaluate(model.eval(), "copy", n=8, batch_size=4, max_len=5)
    assert evaluate(model.train(), "copy", n=8, batch_size=4, max_len=5) == before  # no slip
    assert model.training


def test_loss_falls_on_a_fixed_batch():
    m = small()
    b = alg.copy(8, seed=0, length=3)
    opt = torch.optim.Adam(m.parameters(), lr=1e-2)
    first = None
    for _ in range(40):
        loss = alg.loss(m(b.x)[0], b)
        first = loss.item() if first is None else first
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert loss.item() < 0.8 * first


def test_checkpoint_round_trip(tmp_path):
    m = small()
    f = checkpoints.save(tmp_path / "m.pt", m.state_dict(), model_config(m), {"command": "x"})
    m2, meta = checkpoints.load_model(f)
    assert meta == {"command": "x"} and not m2.training
    x = alg.copy(2, seed=0, length=3).x
    assert torch.equal(m(x)[0], m2(x)[0])


def test_train_budget_curve_and_evaluate():
    cfg = TrainConfig(seed=0, max_sequences=64, batch_size=8, window=2, eval_size=16,
                      model_kw=dict(controller_size=16, N=24, M=6))
    model, res = train(cfg)
    assert res.sequences == 64 and len(res.curve) == 4
    assert set(res.heldout) == {"bit_errors", "median_bit_errors", "bits_per_seq", "perfect"}
    again = evaluate(model, "copy", n=16)
    assert again == res.heldout  # held-out sequences are seeded


class _NaNOnce(torch.nn.Module):
    """Wraps a model; its second forward returns NaN logits (a simulated blow-up)."""

    def __init__(self, inner):
        super().__init__()
        self.inner, self.calls = inner, 0

    def forward(self, x, trace=False):
        self.calls += 1
        y, tr = self.inner(x, trace)
        return (y * float("nan") if self.calls == 2 else y), tr


def test_nonfinite_loss_rolls_back_and_never_steps():
    inner = small()
    cfg = TrainConfig(seed=0, max_sequences=32, batch_size=8, window=2, eval_size=8)
    model, res = train(cfg, model=_NaNOnce(inner))
    assert res.nonfinite == 1 and any("non-finite" in e for _, e in res.events)
    assert all(torch.isfinite(p).all() for p in inner.parameters())


def test_restart_when_still_on_the_plateau():
    cfg = TrainConfig(seed=0, max_sequences=96, batch_size=8, window=2, eval_size=8,
                      restart_after=32, plateau=-1.0,  # "on the plateau" whatever the error
                      model_kw=dict(controller_size=8, N=12, M=4))
    _, res = train(cfg)
    assert res.restarts == 3 and sum("restart" in e for _, e in res.events) == 3  # at 32, 64, 96


class _PerfectCopier(torch.nn.Module):
    """Solves copy exactly (logits ±20 from the input) so every training window has 0 errors."""

    def __init__(self):
        super().__init__()
        self.p = torch.nn.Parameter(torch.zeros(()))

    def forward(self, x, trace=False):
        B, T, _ = x.shape
        L = x[..., -1].argmax(1)  # the delimiter's step = the sequence length
        src = torch.arange(T)[None] - L[:, None] - 1
        y = torch.gather(x[..., :-1], 1, src.clamp(0, T - 1)[..., None].expand(-1, -1, 8))
        return (y * 40 - 20) + 0 * self.p, None


@pytest.mark.parametrize("confirm, expected_check", [(1, 1), (2, 4)])
def test_convergence_needs_consecutive_heldout_passes(monkeypatch, confirm, expected_check):
    # held-out checks give 0.05 (lucky draw), 0.3, 0.05, 0.05: one pass is not enough for confirm=2
    script = iter([0.05, 0.3, 0.05, 0.05] + [0.0] * 100)
    calls = []

    def fake_evaluate(model, task, n=320, seed=0, **kw):
        calls.append(seed)
        return {"bit_errors": next(script), "median_bit_errors": 0.0, "bits_per_seq": 0.0,
                "perfect": 1.0}

    monkeypatch.setattr("memlib.recipes.ntm.evaluate", fake_evaluate)
    cfg = TrainConfig(seed=0, max_sequences=400, batch_size=4, window=2, eval_size=8,
                      confirm=confirm, task_kw=dict(max_len=3))
    _, res = train(cfg, model=_PerfectCopier())
    assert res.converged_at == expected_check * 2 * 4  # one check per window of 2 batches of 4
    assert len({s for s in calls[:-1]}) == len(calls) - 1  # every check on fresh sequences


def test_presets_cover_every_task_and_model_and_are_independent_copies():
    from memlib.algorithmic import TASKS
    from memlib.recipes.ntm import LSTM_SIZE, preset

    for task in TASKS:
        for kind in ("ntm", "lstm"):
            cfg = preset(task, kind, seed=3, sequences=123)
            assert (cfg.task, cfg.model, cfg.seed, cfg.max_sequences) == (task, kind, 3, 123)
    lstm = preset("copy", "lstm")
    assert lstm.model_kw == LSTM_SIZE
    a = preset("priority-sort")
    a.model_kw["read_heads"] = 99  # changing one run's config must not change the preset
    assert preset("priority-sort").model_kw["read_heads"] != 99
    with pytest.raises(ValueError, match="unknown task"):
        preset("sorting")
    assert preset("copy").model_kw["slip"] > 0 and preset("copy", slip=0).model_kw["slip"] == 0
    assert "slip" not in preset("repeat-copy").model_kw
    assert preset("repeat-copy").warmup_kw and not preset("copy").warmup_kw
    with pytest.raises(ValueError, match="NTM only"):
        preset("copy", "lstm", slip=0.1)


class _MovingCopier(_PerfectCopier):
    """A perfect copier whose parameter moves every step (so states differ) without new errors."""

    def forward(self, x, trace=False):
        y, _ = super().forward(x)
        return y + self.p, None


@pytest.mark.parametrize("selection, handed_back", [
    ([0.3, 0.1, 0.2, 0.4], 32),  # a state in between
    ([0.3, 0.1, 0.2, 0.1], 56),  # a tie goes to the later state
    ([0.0, 0.1, 0.2, 0.3], 16),  # the state at convergence
])
def test_after_convergence_hands_back_the_state_best_on_the_selection_set(monkeypatch, selection,
                                                                          handed_back):
    # held-out checks: 0.05, 0.05 (converged at 16 sequences), then worse; candidates on the
    # selection set: at convergence (16), every Selection.every (32, 48) and the last state (56)
    checks = iter([0.05, 0.05] + [0.5] * 20)
    pick = iter(selection)

    def fake_evaluate(model, task, n=320, seed=0, **kw):
        v = next(pick) if seed == Selection.seed else next(checks, 0.5)
        return {"bit_errors": v, "median_bit_errors": 0.0, "bits_per_seq": 0.0, "perfect": 1.0}

    monkeypatch.setattr("memlib.recipes.ntm.evaluate", fake_evaluate)
    monkeypatch.setattr(Selection, "every", 16)
    cfg = TrainConfig(seed=0, max_sequences=56, batch_size=4, window=2, eval_size=8, lr=0.1,
                      stop_at_convergence=False, task_kw=dict(max_len=3))
    m = _MovingCopier()
    seen = {}
    _, res = train(cfg, model=m, progress=lambda point: seen.update({point["sequences"]: m.p.item()}))
    assert res.converged_at == 16 and res.sequences == 56
    assert next(pick, None) is None  # every candidate was tested, no more
    assert m.p.item() == pytest.approx(seen[handed_back])
    assert len({round(seen[k], 6) for k in (16, 32, 48, 56)}) == 4  # the states differ


class _RecordingCopier(_PerfectCopier):
    """A perfect copier that notes the sequence length of every batch it is given."""

    def __init__(self):
        super().__init__()
        self.lengths = []

    def forward(self, x, trace=False):
        if self.training:
            self.lengths.append(int(x[0, :, -1].argmax()))  # the delimiter's step = the length
        return super().forward(x)


def _fake_heldout(calls):
    def fake_evaluate(model, task, n=320, seed=0, **kw):
        calls.append(kw)
        return {"bit_errors": 0.0, "median_bit_errors": 0.0, "bits_per_seq": 0.0, "perfect": 1.0}
    return fake_evaluate


def test_curriculum_trains_on_the_warmup_until_it_is_learned_then_on_the_task(monkeypatch):
    calls = []
    monkeypatch.setattr("memlib.recipes.ntm.evaluate", _fake_heldout(calls))
    cfg = TrainConfig(seed=0, max_sequences=400, batch_size=4, window=2, eval_size=8,
                      task_kw=dict(max_len=3), warmup_kw=dict(min_len=5, max_len=6))
    m = _RecordingCopier()
    _, res = train(cfg, model=m)
    # first window (2 batches) on lengths 5–6; it has 0 bit errors, so the task from then on
    assert all(5 <= n <= 6 for n in m.lengths[:2]) and all(n <= 3 for n in m.lengths[2:])
    assert any("warm-up learned" in text for s, text in res.events if s == 8)
    assert res.converged_at == 3 * 2 * 4  # held-out checks (on the task) start after warm-up
    assert all(kw == dict(max_len=3) for kw in calls)


def test_curriculum_that_is_never_learned_never_checks_the_task(monkeypatch):
    calls = []
    monkeypatch.setattr("memlib.recipes.ntm.evaluate", _fake_heldout(calls))
    cfg = TrainConfig(seed=0, max_sequences=80, batch_size=4, window=2, eval_size=8,
                      task_kw=dict(max_len=3), warmup_kw=dict(min_len=5, max_len=6),
                      warmup_until=0.0)  # 0 bit errors is not below 0: the warm-up never ends
    m = _RecordingCopier()
    _, res = train(cfg, model=m)
    assert res.sequences == 80 and res.converged_at is None
    assert all(5 <= n <= 6 for n in m.lengths)
    assert calls == [dict(max_len=3)]  # only the final held-out report, on the task itself
