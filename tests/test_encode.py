"""Tokens, vocabulary, samples and padded tensors, PE weights."""

import re

import pytest
import torch
from conftest import QA1, QA2, QA8

from memlib.babi.encode import Vocab, encode, position_encoding, samples, sentence_weights, tokenize
from memlib.babi.format import parse


def test_tokenize_keeps_words_whole():
    assert tokenize("Where is Mary? ") == ["where", "is", "mary"]
    assert tokenize("Daniel picked up the football there.") == ["daniel", "picked", "up", "the", "football", "there"]
    # the classic bug: re.split('(\W+)?', …) splits into characters on Python >= 3.7
    assert len(re.split(r"(\W+)?", "Mary")) > 2
    assert tokenize("Mary") == ["mary"]


def test_vocab_has_nil_at_zero_and_clear_unknowns():
    v = Vocab(["mary", "kitchen"])
    assert v.words[0] == "<nil>" and v["mary"] == 1 and len(v) == 3
    assert v.decode([0, 2, 1]) == ["kitchen", "mary"]
    with pytest.raises(KeyError, match="'garden' is not in the vocabulary"):
        v["garden"]


def test_samples_memory_and_support_slots():
    s = samples(parse(QA1))
    assert len(s) == 3
    second = s[1]  # "Where is Daniel?" sees the 4 statements before it (question lines excluded)
    assert second.memories == [["mary", "moved", "to", "the", "bathroom"], ["john", "went", "to", "the", "hallway"],
                               ["daniel", "went", "back", "to", "the", "hallway"], ["sandra", "moved", "to", "the", "garden"]]
    assert second.support == [2] and second.answer == "hallway" and second.line_ids == [1, 2, 4, 5]
    # memory limited to the most recent N sentences: slots are remapped, forgotten facts become -1
    short = samples(parse(QA1), memory_size=2)
    assert short[1].sentences == ["Daniel went back to the hallway.", "Sandra moved to the garden."]
    assert short[1].support == [0]
    assert samples(parse(QA2), memory_size=1)[0].support == [-1, 0]


def test_encode_shapes_and_padding():
    s = samples(parse(QA1)) + samples(parse(QA2)) + samples(parse(QA8))
    vocab = Vocab.build(s)
    answers = sorted({x.answer for x in s})
    assert "football,milk" in answers  # list answers are one class
    b = encode(s, vocab, answers)
    B, M, L = b.memories.shape
    assert (B, M) == (5, 4) and L == 6 and b.queries.shape == (5, L)
    assert b.lengths.tolist() == [2, 4, 2, 4, 2]
    assert b.memories[0, 2:].eq(0).all()  # padding slots are nil
    assert vocab.decode(b.queries[0]) == ["where", "is", "mary"]
    assert [answers[i] for i in b.answers] == ["bathroom", "hallway", "office", "hallway", "football,milk"]
    assert b.supports[3].tolist() == [0, 3] and b.supports[0].tolist() == [0, -1]
    assert len(b[1:3]) == 2
    fixed = encode(s, vocab, answers, memory_size=3, sentence_size=8)
    assert fixed.memories.shape == (5, 3, 8)
    assert fixed.supports[3].tolist() == [-1, 2]  # slot 0 fell out of a 3-slot memory
    with pytest.raises(KeyError, match="answer 'hallway' is not in the answer list"):
        encode(s, vocab, ["bathroom"])


def test_position_encoding_hand_computed():
    # paper: l_kj = (1 - j/J) - (k/d)(1 - 2j/J); J = 3 words, d = 2
    pe = position_encoding(3, 2, "paper")
    expected = torch.tensor([[2 / 3 - 0.5 * (1 / 3), 2 / 3 - 1.0 * (1 / 3)],
                             [1 / 3 - 0.5 * (-1 / 3), 1 / 3 - 1.0 * (-1 / 3)],
                             [0 - 0.5 * (-1), 0 - 1.0 * (-1)]])
    assert torch.allclose(pe, expected)
    # Matlab: 1 + 4 (k - (d+1)/2)(j - (J+1)/2) / (d J)
    m = position_encoding(3, 2, "matlab")
    assert torch.allclose(m[0, 0], torch.tensor(1 + 4 * (-0.5) * (-1) / 6))
    assert torch.allclose(m[1], torch.ones(2))  # the middle word gets weight 1
    with pytest.raises(ValueError, match="'paper' or 'matlab'"):
        position_encoding(3, 2, "other")


def test_sentence_weights_use_each_sentence_length_in_paper_variant():
    words = torch.tensor([[4, 5, 0, 0], [1, 2, 3, 4]])
    w = sentence_weights(words, 2, "paper")
    assert w.shape == (2, 4, 2)
    assert torch.allclose(w[0, :2], position_encoding(2, 2))
    assert w[0, 2:].eq(0).all()
    assert torch.allclose(w[1], position_encoding(4, 2))
    wm = sentence_weights(words, 2, "matlab")
    assert torch.allclose(wm[0, :2], position_encoding(4, 2, "matlab")[:2]) and wm[0, 2:].eq(0).all()
    wj = sentence_weights(words[:1, :3], 2, "matlab", J=4)  # a model's J: its own sentence size, not the batch's
    assert torch.allclose(wj[0, :2], position_encoding(4, 2, "matlab")[:2])


def test_the_batch_holds_each_distinct_sentence_once():
    s = samples(parse(QA1)) + samples(parse(QA1))  # every sentence told twice
    vocab = Vocab.build(s)
    b = encode(s, vocab, sorted({x.answer for x in s}))
    assert b.sentences.shape == (1 + 6, b.memories.shape[2])  # the empty row, then 6 distinct sentences
    assert b.sentences[0].eq(0).all() and torch.equal(b.sentences[b.rows], b.memories)
    assert [vocab.decode(r) for r in b.sentences[1:3]] == [["mary", "moved", "to", "the", "bathroom"],
                                                          ["john", "went", "to", "the", "hallway"]]  # first seen first
    part = b[[2, 0]]
    assert torch.equal(part.sentences, b.sentences) and torch.equal(part.rows, b.rows[[2, 0]])
    sentences, rows = part.distinct()  # only the sentences these two samples remember
    assert sentences.shape[0] == 1 + 4 and torch.equal(sentences[rows], part.memories)  # 2 + 2 and the empty one


def test_lenient_encoding_for_new_text():
    s = samples(parse(QA1))
    vocab = Vocab(["mary", "where", "is"])
    with pytest.raises(KeyError, match="'moved' is not in the vocabulary"):
        encode(s, vocab, ["bathroom"])
    b = encode(s, vocab, ["bathroom"], strict=False)  # unknown words become nil, unknown answers -1
    assert b.memories[0, 0].tolist()[:2] == [vocab["mary"], 0] and b.answers.tolist() == [0, -1, -1]
    assert encode(s, vocab, strict=False).answers.tolist() == [-1, -1, -1]
