"""The recipes layer: the same verbs in every family, one options rule, one QA result shape."""

import pytest

from memlib import recipes
from memlib.recipes import FAMILIES, family, options, qa_result

VERBS = ("train", "evaluate", "to_checkpoint", "build")


@pytest.mark.parametrize("name", FAMILIES)
def test_every_family_has_the_same_verbs(name):
    module = family(name)
    missing = [verb for verb in VERBS if not callable(getattr(module, verb, None))]
    assert not missing, f"memlib.recipes.{name} lacks {missing}"


def test_an_unknown_family_is_named():
    with pytest.raises(ValueError, match="unknown model family 'dnc'"):
        family("dnc")


def test_options_fill_in_the_preset_and_refuse_unknown_keys():
    assert options({"lr": 0.1}, {"lr": 0.01, "epochs": 5}) == {"lr": 0.1, "epochs": 5}
    with pytest.raises(TypeError, match=r"unknown options \['lrate'\] \(expected some of \['epochs', 'lr'\]\)"):
        options({"lrate": 0.1}, {"lr": 0.01, "epochs": 5})


def test_qa_result_has_one_shape():
    assert qa_result(3, 4, support_accuracy=[1.0]) == {"accuracy": 0.75, "error": 0.25, "questions": 4,
                                                       "support_accuracy": [1.0]}
    with pytest.raises(ValueError, match="at least one question"):
        recipes.qa_result(0, 0)
