"""Bad arguments to the recipe builders: each is refused at build time, naming the argument.

Learning rates that are not finite and positive, flags that are not bools, a classifier of one class,
and every sequence length over ``LENGTH_LIMIT`` (a model built for 10^9 steps would let one request
allocate gigabytes), for every recipe that takes them; the lengths at the limit build.
"""

import inspect

import pytest
from bad_input import answers, expect_clear, params, raises

from seqrecipes import data, recipes
from seqrecipes.recipes._components import LENGTH_LIMIT

TOKENS = list("abc")


def _tokenizer():
    return data.CharTokenizer(vocabulary=TOKENS)


# Each recipe with the smallest arguments that build it; a case adds the argument under test.
TINY = {
    "seq2seq": dict(units=4, embedding_dim=4, source_vocabulary_size=8, target_vocabulary_size=8),
    "seq2seq_attention": dict(units=4, embedding_dim=4, source_vocabulary_size=8, target_vocabulary_size=8),
    "transformer_seq2seq": dict(
        num_layers=1, num_heads=1, hidden_dim=4, intermediate_dim=4, source_vocabulary_size=8, target_vocabulary_size=8
    ),
    "rnn_language_model": dict(units=4, embedding_dim=4, text_vocabulary_size=8),
    "ngram_language_model": dict(sentences=[[4, 5], [6]], order=2, text_vocabulary_size=8),
    "transformer_language_model": dict(num_layers=1, num_heads=1, hidden_dim=4, max_length=8, text_vocabulary_size=8),
    "masked_language_model": dict(num_layers=1, num_heads=1, hidden_dim=4, max_length=8, text_vocabulary_size=8),
    "bidirectional_language_model": dict(units=4, embedding_dim=4, num_layers=1, text_vocabulary_size=8),
    "window_language_model": dict(units=4, embedding_dim=4, context_size=2, text_vocabulary_size=8),
    "word2vec": dict(embedding_dim=4, window=2, negative_samples=2, text_vocabulary_size=8),
    "text_classifier": dict(units=4, embedding_dim=4, max_length=4, text_vocabulary_size=8),
    "sequence_tagger": dict(units=4, embedding_dim=4, max_length=4, text_vocabulary_size=8, tags_vocabulary_size=6),
    "sequence_regressor": dict(units=4, input_length=4, mean=0.0, variance=1.0),
    "image_captioner": dict(
        image_height=8, image_width=8, filters=(4,), units=4, embedding_dim=4, attention_units=4, target_vocabulary_size=8
    ),
}

LENGTHS = (
    "max_length", "max_source_length", "max_target_length", "max_output_length", "context_size", "input_length",
    "horizon", "image_height", "image_width",
)  # fmt: skip


def _build(recipe, **arguments):
    return lambda: getattr(recipes, recipe)(**dict(TINY[recipe], **arguments))


def _parameters(recipe):
    return inspect.signature(getattr(recipes, recipe)).parameters


def _cases():
    cases = []
    for recipe in TINY:
        parameters = _parameters(recipe)
        for value in (float("nan"), float("inf"), -1.0, 0.0, "0.1", None) if "learning_rate" in parameters else ():
            cases.append(raises(f"{recipe}-learning_rate={value!r}", _build(recipe, learning_rate=value), ValueError, "learning_rate"))
        if "clipnorm" in parameters:
            cases.append(raises(f"{recipe}-clipnorm=nan", _build(recipe, clipnorm=float("nan")), ValueError, "clipnorm"))
        if "dropout" in parameters:
            cases.append(raises(f"{recipe}-dropout=nan", _build(recipe, dropout=float("nan")), ValueError, "dropout"))
        for value in (-0.1, 1.0, float("nan"), "0.1") if "label_smoothing" in parameters else ():
            cases.append(raises(f"{recipe}-label_smoothing={value!r}", _build(recipe, label_smoothing=value), ValueError, "label_smoothing"))
        for value in (-1, 0.5, float("nan"), float("inf"), 1e10, True, "100") if "scheduled_sampling" in parameters else ():
            cases.append(raises(f"{recipe}-scheduled_sampling={value!r}", _build(recipe, scheduled_sampling=value), ValueError, "scheduled_sampling"))
        for flag in ("bidirectional", "reverse_source", "stateful", "share_embeddings", "position_embedding", "tie_embeddings", "backbone_trainable", "crf"):
            if flag in parameters:
                cases.append(raises(f"{recipe}-{flag}='no'", _build(recipe, **{flag: "no"}), ValueError, flag))
        for length in LENGTHS:
            if length in parameters:
                for value in (10**9, LENGTH_LIMIT + 1, 0, 2.5):
                    cases.append(raises(f"{recipe}-{length}={value!r}", _build(recipe, **{length: value}), ValueError, length))
    cases += [
        raises("text_classifier-num_classes=1", _build("text_classifier", num_classes=1), ValueError, "num_classes"),
        raises("text_classifier-one-label-name", _build("text_classifier", label_names=["only"]), ValueError, "num_classes"),
        raises("text_classifier-num_classes=2.0", _build("text_classifier", num_classes=2.0), ValueError, "num_classes"),
        raises("seq2seq-cell='rnn'", _build("seq2seq", cell="rnn"), ValueError, "cell"),
        raises("seq2seq-units=0", _build("seq2seq", units=0), ValueError, "units"),
        raises("seq2seq-vocabulary=4", _build("seq2seq", source_vocabulary_size=4), ValueError, "source_vocabulary_size"),
        raises("get_recipe-unknown", lambda: recipes.get_recipe("seq3seq"), ValueError, "recipe", "seq3seq"),
        # At the limit: a length of LENGTH_LIMIT builds (the limit is inclusive).
        answers(
            "seq2seq-max_target_length=LENGTH_LIMIT",
            lambda: recipes.seq2seq(**TINY["seq2seq"], max_target_length=LENGTH_LIMIT).decoder.max_length,
            lambda max_length: max_length == LENGTH_LIMIT,
        ),
        answers(
            "rnn_language_model-max_output_length=LENGTH_LIMIT",
            lambda: recipes.rnn_language_model(**TINY["rnn_language_model"], max_output_length=LENGTH_LIMIT).decoder.max_length,
            lambda max_length: max_length == LENGTH_LIMIT,
        ),
    ]
    return cases


CASES = _cases()


@pytest.mark.parametrize("case", params(CASES))
def test_bad_input(case):
    expect_clear(case)


def test_every_recipe_and_every_length_argument_is_covered():
    # A new recipe, or a new length argument of one, gets its cases here (TINY, LENGTHS).
    packaged = [info.name for info in recipes.list_recipes() if info.module.startswith("seqrecipes.")]  # not the tests' toy
    assert sorted(TINY) == sorted(packaged)
    for recipe in TINY:
        for name in _parameters(recipe):
            if name.startswith("max_") or name.endswith("_length") or name in ("context_size", "horizon"):
                assert name in LENGTHS, f"{recipe}({name}=...) is a length without a case"
