"""MemN2N: each equation on a hand-sized example, the invariants, the classic bugs, and the two forms."""

import pytest
import torch
from conftest import QA1, QA2

from memlib.babi.encode import encode, position_encoding, samples, sentence_weights
from memlib.babi.format import parse
from memlib.models.memn2n import MemN2N
from memlib.models.memn2n_fast import MemN2NEnsemble, cross_entropy


def small(cls=MemN2N, **kw):
    torch.manual_seed(0)
    args = dict(vocab_size=8, n_answers=3, d=4, hops=2, memory_size=5, sentence_size=3,
                answer_words=torch.tensor([5, 6, 7]))
    args.update(kw)
    return cls(**args)


def as_table(memories):
    """The fast form's input: distinct sentences, the row of each slot, and the real memories per sample."""
    B, M, L = memories.shape
    sentences, rows = torch.unique(memories.reshape(B * M, L), dim=0, return_inverse=True)
    return sentences, rows.view(B, M), (memories != 0).any(-1).sum(-1)


def batch():
    # two samples: 3 and 2 real memories of up to 3 words (0 = nil), oldest first
    memories = torch.tensor([[[1, 2, 0], [3, 4, 1], [2, 0, 0], [0, 0, 0], [0, 0, 0]],
                             [[4, 3, 0], [1, 1, 2], [0, 0, 0], [0, 0, 0], [0, 0, 0]]])
    queries = torch.tensor([[1, 3, 0], [2, 4, 4]])
    return memories, queries


# --- position encoding ----------------------------------------------------------------------------

def test_pe_paper_hand_computed():
    # l_kj = (1 - j/J) - (k/d)(1 - 2j/J), J = 2 words, d = 2 dims
    # j=1: k=1 → 0.5 - 0.5*0 = 0.5; k=2 → 0.5 - 1*0 = 0.5
    # j=2: k=1 → 0 - 0.5*(-1) = 0.5; k=2 → 0 - 1*(-1) = 1.0
    expected = torch.tensor([[0.5, 0.5], [0.5, 1.0]])
    assert torch.allclose(position_encoding(2, 2, "paper"), expected)


def test_pe_matlab_hand_computed():
    # l_kj = 1 + 4 (k - (d+1)/2)(j - (J+1)/2) / (d J), J = 2, d = 2
    # j=1: k=1 → 1 + 4(-0.5)(-0.5)/4 = 1.25; k=2 → 1 + 4(0.5)(-0.5)/4 = 0.75
    # j=2: k=1 → 0.75; k=2 → 1.25
    expected = torch.tensor([[1.25, 0.75], [0.75, 1.25]])
    assert torch.allclose(position_encoding(2, 2, "matlab"), expected)


def test_pe_sentence_embedding_by_hand():
    model = small(encoding="pe", pe_variant="paper", temporal=False)
    words = torch.tensor([[3, 5, 0]])  # a 2-word sentence padded to 3
    A = model.A(0)
    l = position_encoding(2, 4, "paper")  # noqa: E741
    expected = l[0] * A[3] + l[1] * A[5]
    got = model.embed(model.A(0), words)[0]
    assert torch.allclose(got, expected, atol=1e-6)
    # the paper's J is the sentence's own length: zero beyond it
    weights = sentence_weights(words, 4, "paper")[0]
    assert torch.allclose(weights[:2], l) and weights[2].abs().sum() == 0


def test_matlab_pe_uses_the_model_sentence_size():
    model = small(encoding="pe", pe_variant="matlab", sentence_size=5)
    words = torch.tensor([[3, 5, 0]])  # shorter than the model's 5 words: J is still 5
    assert torch.allclose(model.weights(words)[0, :2], position_encoding(5, 4, "matlab")[:2])


def test_bow_is_a_plain_sum():
    model = small(encoding="bow", temporal=False)
    words = torch.tensor([[3, 5, 3]])
    A = model.A(0)
    got = model.embed(model.A(0), words)[0]
    assert torch.allclose(got, 2 * A[3] + A[5], atol=1e-6)


# --- the lecture's equations ----------------------------------------------------------------------

def test_one_hop_matches_the_lecture_equations():
    model = small(hops=1, encoding="bow", temporal=False, null_memories=False)
    memories, queries = batch()
    logits, trace = model(memories, queries)
    A, C, B = model.A(0), model.C(0), model.B()
    W = model.Wt()
    for b in range(2):
        u = B[queries[b]].sum(0)  # u = B q
        m = A[memories[b]].sum(1)  # m_i = A x_i
        c = C[memories[b]].sum(1)  # c_i = C x_i
        n = int((memories[b] != 0).any(-1).sum())
        p = torch.softmax(m[:n] @ u, 0)  # p = softmax(uᵀ m)
        o = (p.unsqueeze(1) * c[:n]).sum(0)  # o = Σ p c
        assert torch.allclose(trace.attention[b, 0, :n], p, atol=1e-6)
        assert torch.allclose(logits[b], W @ (o + u), atol=1e-5)  # â = W (o + u)


def test_hops_add_what_they_read():
    model = small(hops=3)
    logits, trace = model(*batch())
    assert trace.u.shape == (2, 4, 4) and trace.o.shape == (2, 3, 4)
    for k in range(3):  # u^{k+1} = u^k + o^k
        assert torch.allclose(trace.u[:, k + 1], trace.u[:, k] + trace.o[:, k], atol=1e-6)


def test_attention_sums_to_one_per_hop_and_ignores_padding():
    model = small(hops=3, null_memories=False)
    memories, queries = batch()
    _, trace = model(memories, queries)
    assert trace.attention.shape == (2, 3, 5)
    assert torch.allclose(trace.attention.sum(-1), torch.ones(2, 3), atol=1e-6)
    assert trace.attention[0, :, 3:].abs().sum() == 0 and trace.attention[1, :, 2:].abs().sum() == 0
    assert trace.lengths.tolist() == [3, 2] and trace.empty.abs().sum() == 0


def test_empty_memories_score_zero_and_share_the_attention():
    model = small(hops=2, encoding="bow", temporal=False)  # null_memories=True is the default
    memories, queries = batch()
    _, trace = model(memories, queries)
    # attention over the sentences plus the empty slots' share is a distribution in every hop
    assert torch.allclose(trace.attention.sum(-1) + trace.empty, torch.ones(2, 2), atol=1e-6)
    # by hand, sample 1 (2 sentences, 3 empty slots of score uᵀ0 = 0): p_i = e^{s_i} / (Σ e^{s_j} + 3 e^0)
    A, B = model.A(0), model.B()
    u = B[queries[1]].sum(0)
    s_ = torch.stack([A[memories[1, i]].sum(0) for i in range(2)]) @ u
    z = s_.exp().sum() + 3
    assert torch.allclose(trace.attention[1, 0, :2], s_.exp() / z, atol=1e-6)
    assert torch.allclose(trace.empty[1, 0], 3 / z, atol=1e-6)
    # a full memory has no empty slot
    full = torch.tensor([[[1, 2, 0], [3, 0, 0], [4, 0, 0], [5, 1, 0], [2, 2, 0]]])
    _, t_full = model(full, queries[:1])
    assert torch.allclose(t_full.attention.sum(-1), torch.ones(1, 2), atol=1e-6)


def test_softmax_is_over_memories_not_over_the_batch():
    model = small()
    memories, queries = batch()
    _, both = model(memories, queries)
    _, first = model(memories[:1], queries[:1])
    assert torch.allclose(both.attention[0], first.attention[0], atol=1e-6)


def test_temporal_encoding_counts_from_the_most_recent_sentence():
    model = small(hops=1, encoding="bow", temporal=True, null_memories=False)
    memories, queries = batch()
    _, trace = model(memories, queries)
    A, B, TA = model.A(0), model.B(), model.TA(0)
    u = B[queries[0]].sum(0)
    # sample 0 has 3 memories: slot 2 is the most recent → T_A(0), slot 0 → T_A(2)
    m = torch.stack([A[memories[0, i]].sum(0) + TA[2 - i] for i in range(3)])
    assert torch.allclose(trace.attention[0, 0, :3], torch.softmax(m @ u, 0), atol=1e-6)


def test_linear_start_removes_the_softmax():
    model = small(hops=2)
    memories, queries = batch()
    _, soft = model(memories, queries)
    model.linear = True
    _, lin = model(memories, queries)
    assert not torch.allclose(lin.attention.sum(-1), torch.ones(2, 2))  # raw scores
    u = lin.u[0, 0]
    m = model.embed(model.A(0), memories[0]) + model.TA(0)[[2, 1, 0, 0, 0]]
    assert torch.allclose(lin.attention[0, 0, :3], (m @ u)[:3], atol=1e-5)
    assert lin.attention[0, 0, 3:].abs().sum() == 0
    model.linear = False
    _, back = model(memories, queries)
    assert torch.allclose(back.attention, soft.attention)


# --- weight tying and the nil word ----------------------------------------------------------------

def test_adjacent_tying_shares_the_right_tensors():
    model = small(hops=3, tying="adjacent")
    assert model.B() is model.A(0)  # B = A^1
    for k in range(2):
        assert model.A(k + 1) is model.C(k)  # A^{k+1} = C^k
        assert model.TA(k + 1) is model.TC(k)
    assert torch.equal(model.Wt(), model.C(2)[model.answer_words])  # Wᵀ = C^K
    assert len(list(model.parameters())) == 4 + 4  # K+1 embeddings and K+1 temporal tables


def test_layerwise_tying_shares_the_right_tensors():
    model = small(hops=3, tying="layerwise")
    assert model.A(0) is model.A(1) is model.A(2)
    assert model.C(0) is model.C(1) is model.C(2)
    assert model.B() is not model.A(0) and model.A(0) is not model.C(0)
    assert model.H.shape == (4, 4) and model.W.shape == (3, 4)
    logits, trace = model(*batch())
    H = model.H
    assert torch.allclose(trace.u[:, 1], trace.u[:, 0] @ H.T + trace.o[:, 0], atol=1e-6)  # u^{k+1} = H u^k + o^k


def test_relu_after_each_hop():
    model = small(hops=2, tying="layerwise", relu=True)
    _, trace = model(*batch())
    H = model.H
    for k in range(2):  # u^{k+1} = ReLU(H u^k + o^k) (Appendix A's 10k model)
        assert torch.allclose(trace.u[:, k + 1], torch.relu(trace.u[:, k] @ H.T + trace.o[:, k]), atol=1e-6)
    assert (trace.u[:, 1:] >= 0).all() and (trace.u[:, 1:] == 0).any()  # some units are cut off
    assert model.config["relu"] is True and "relu" not in small().config  # old checkpoints keep their config


def test_nil_embedding_is_zero_and_stays_zero_after_a_step():
    model = small()
    assert all(float(t[0].detach().abs().sum()) == 0 for t in model.emb)
    memories, queries = batch()
    logits, _ = model(memories, queries)
    torch.nn.functional.cross_entropy(logits, torch.tensor([0, 2])).backward()
    model.zero_nil()  # before clipping: the nil word takes no part in the gradient norm
    assert all(float(t.grad[0].abs().sum()) == 0 for t in model.emb)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(torch.randn_like(p))  # an update that would move the nil rows
    model.zero_nil()
    assert all(float(t[0].detach().abs().sum()) == 0 for t in model.emb)


# --- the fast form: restarts batched, each distinct sentence embedded once ---------------------

def test_ensemble_members_are_independent_models():
    model = small(MemN2NEnsemble, ensemble=3)
    memories, queries = batch()
    sentences, rows, lengths = as_table(memories)
    logits, trace = model(sentences, rows, queries, lengths)
    assert logits.shape == (3, 2, 3) and trace.attention.shape == (3, 2, 2, 5)
    for e in range(3):
        one = model.member(e)
        l1, t1 = one(memories, queries)
        assert torch.allclose(l1, logits[e], atol=1e-6)
        assert torch.allclose(t1.attention, trace.attention[e], atol=1e-6)
    loss = cross_entropy(logits, torch.tensor([0, 1]))
    loss[1].backward()  # model 1's loss moves only model 1's weights
    g = model.emb[0].grad
    assert g[0].abs().sum() == 0 and g[2].abs().sum() == 0 and g[1].abs().sum() > 0


def test_any_sentence_table_gives_the_same_logits():
    model = small(MemN2NEnsemble, ensemble=2)
    memories, queries = batch()
    sentences, rows, lengths = as_table(memories)
    logits, trace = model(sentences, rows, queries, lengths)
    sentences = torch.tensor([[0, 0, 0], [1, 2, 0], [3, 4, 1], [2, 0, 0], [4, 3, 0], [1, 1, 2]])
    rows = torch.tensor([[1, 2, 3, 0, 0], [4, 5, 0, 0, 0]])
    l2, t2 = model(sentences, rows, queries, torch.tensor([3, 2]))
    assert torch.allclose(logits, l2, atol=1e-6) and torch.allclose(trace.attention, t2.attention, atol=1e-6)


def test_stack_is_the_inverse_of_member():
    model = small(MemN2NEnsemble, ensemble=3, tying="layerwise")
    model.linear[1] = True
    back = MemN2NEnsemble.stack([model.member(e) for e in range(3)])
    assert back.config == model.config
    assert all(torch.equal(v, back.state_dict()[k]) for k, v in model.state_dict().items())


FORMS = [  # the options the shipped checkpoints use, in both tying schemes
    dict(tying="adjacent", encoding="pe", pe_variant="matlab", temporal=True, null_memories=True),
    dict(tying="adjacent", encoding="pe", pe_variant="paper", temporal=True, null_memories=False),
    dict(tying="adjacent", encoding="bow", temporal=False, null_memories=True),
    dict(tying="layerwise", encoding="pe", pe_variant="matlab", temporal=True, null_memories=False),
    dict(tying="layerwise", encoding="bow", temporal=True, null_memories=True),
    dict(tying="layerwise", encoding="pe", pe_variant="paper", temporal=False, null_memories=True),
    dict(tying="layerwise", encoding="pe", pe_variant="matlab", temporal=True, null_memories=True, relu=True),
]


@pytest.mark.parametrize("linear", [False, True], ids=["softmax", "linear-start"])
@pytest.mark.parametrize("options", FORMS, ids=lambda o: "-".join(str(v) for v in o.values()))
def test_reference_and_fast_forms_give_the_same_logits_and_gradients(options, linear):
    from memlib.recipes.memn2n import build_vocab

    s = samples(parse(QA1 + QA2))
    vocab, answers = build_vocab(s)
    data = encode(s, vocab, answers, memory_size=4)  # the model has 6 slots: 2 or more stay empty
    torch.manual_seed(1)
    fast = MemN2NEnsemble(len(vocab), len(answers), d=5, hops=3, memory_size=6, sentence_size=6, ensemble=2,
                          answer_words=[vocab[a] for a in answers], sigma=0.2, **options)
    fast.linear[:] = linear
    logits, trace = fast(*data.distinct(), data.queries, data.lengths)
    cross_entropy(logits, data.answers).sum().backward()
    fast.zero_nil()  # the recipe zeroes the nil word's gradient before it is used: compare what is used
    grads = dict(fast.named_parameters())
    for e in range(2):
        reference = fast.member(e)
        one, one_trace = reference(data.memories, data.queries)
        assert torch.allclose(one, logits[e], rtol=1e-4, atol=1e-5)
        assert torch.allclose(one_trace.attention, trace.attention[e], atol=1e-6)
        assert torch.allclose(one_trace.empty, trace.empty[e], atol=1e-6)
        cross_entropy(one.unsqueeze(0), data.answers).sum().backward()
        reference.zero_nil()
        for name, p in reference.named_parameters():
            assert p.grad.abs().sum() > 0 or grads[name].grad[e].abs().sum() == 0, name
            assert torch.allclose(p.grad, grads[name].grad[e], rtol=1e-4, atol=1e-5), name


def test_both_forms_create_tensors_on_the_model_device(strict_device):
    reference, fast = small(hops=2), small(MemN2NEnsemble, ensemble=2, tying="layerwise")
    memories, queries = batch()
    sentences, rows, lengths = as_table(memories)
    optimizers = [torch.optim.SGD(m.parameters(), lr=0.1) for m in (reference, fast)]
    answers = torch.tensor([0, 2])
    with strict_device():  # a forward pass and an SGD step of each form
        logits, _ = reference(memories, queries)
        cross_entropy(logits.unsqueeze(0), answers).sum().backward()
        logits, _ = fast(sentences, rows, queries, lengths)
        cross_entropy(logits, answers).sum().backward()
        for optimizer in optimizers:
            optimizer.step()
        reference.zero_nil()
        fast.zero_nil()
        member = fast.member(1)
    assert member.linear is False and member.emb[0].device.type == "cpu"


def test_set_weights_hands_over_hand_made_tables():
    model = small(hops=1, encoding="bow", temporal=False)
    A, C = torch.randn(8, 4), torch.randn(8, 4)
    model.set_weights(A=A, C=C)
    assert torch.equal(model.A(0)[1:], A[1:]) and torch.equal(model.C(0)[1:], C[1:])
    assert model.A(0)[0].abs().sum() == 0  # the nil word stays zero
    assert torch.equal(model.Wt(), model.C(0)[[5, 6, 7]])


def test_set_weights_refuses_tables_the_tying_does_not_have():
    adjacent = small(hops=1, encoding="bow", temporal=False)
    with pytest.raises(ValueError, match="no table H, W with adjacent tying"):
        adjacent.set_weights(H=torch.eye(4), W=torch.randn(3, 4))
    with pytest.raises(ValueError, match="give A or B, not both"):
        adjacent.set_weights(A=torch.randn(8, 4), B=torch.randn(8, 4))
    with pytest.raises(ValueError, match=r"A must have shape \(8, 4\)"):
        adjacent.set_weights(A=torch.randn(4, 8))
    layerwise = small(hops=2, encoding="bow", temporal=False, tying="layerwise")
    layerwise.set_weights(H=torch.eye(4))
    assert torch.equal(layerwise.H, torch.eye(4))


def test_answer_new_text():
    words = ["<nil>", "mary", "went", "to", "the", "kitchen", "garden", "where", "is"]
    model = MemN2N(len(words), 2, d=4, hops=2, memory_size=5, sentence_size=4, answer_words=[5, 6],
                   words=words, answers=["kitchen", "garden"])
    reply = model.answer("Mary went to the kitchen. Mary went to the garden.", "Where is Mary?")
    assert reply.answer in ("kitchen", "garden") and 0 < reply.probability <= 1
    assert reply.sentences == ["Mary went to the kitchen", "Mary went to the garden"]
    assert reply.attention.shape == (2, 2) and (reply.attention.sum(-1) <= 1).all()  # 3 empty slots take the rest
    assert model.answer("1 Mary went to the moon.", "Where is Mary?").unknown == ["moon"]


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="encoding"):
        small(encoding="cnn")
    with pytest.raises(ValueError, match="answer_words"):
        MemN2N(8, 3, answer_words=None)
    with pytest.raises(ValueError, match=r"memories \(B, M, L\)"):
        small()(torch.zeros(2, 3, dtype=torch.long), torch.zeros(2, 3, dtype=torch.long))
