"""``recipes.score`` (issue 13): log p(sentence) per sentence and token, and perplexity, for every generating recipe.

Each recipe is tiny and untrained; its scores are checked against a NumPy replay of the teacher-forced
softmax, computed here from the model's own full forward pass (``model(...)`` on [START] + tokens), with
[PAD] and [START] banned as the decoder step bans them. Then: the export's ``score`` signature equals
Python's, a generated output scores what ``generate`` said, the cut rules, the ranking of a sentence a
toy model saw above a scrambled one, and bad input.
"""

import functools
import os
import tempfile

import numpy as np
import pytest
import tensorflow as tf

from bad_input import answers, expect_clear, params, raises

from seqrecipes import data, recipes
from seqrecipes.data import END_ID, PAD_ID, START_ID
from seqrecipes.recipes.decoding import scoring
from seqrecipes.recipes.serving import warmup

ALPHABET = "abcde"
MAX_LENGTH = 5  # every recipe's output limit
SOURCE_LENGTH = 4
IMAGE_SIZE = 8
SENTENCES = ["abc", "", "e", "abzd"]  # "z" is unknown: the [UNK] id, scored as that token
SOURCES = ["ab", "cde", "", "abcdeabcde"]  # the last one is cut to SOURCE_LENGTH tokens
LONG = "abcdeabcde"  # 10 tokens, over MAX_LENGTH


@functools.cache
def tokenizer():
    return data.CharTokenizer(vocabulary=list(ALPHABET))


@functools.cache
def model(name):
    t = tokenizer()
    small = dict(units=8, embedding_dim=4)
    pair = dict(source_tokenizer=t, target_tokenizer=t, max_source_length=SOURCE_LENGTH, max_target_length=MAX_LENGTH)
    builders = {
        "window_language_model": lambda: recipes.window_language_model(context_size=2, text_tokenizer=t, max_output_length=MAX_LENGTH, **small),
        "rnn_language_model": lambda: recipes.rnn_language_model(text_tokenizer=t, max_output_length=MAX_LENGTH, **small),
        "seq2seq": lambda: recipes.seq2seq(**pair, **small),
        "seq2seq_attention": lambda: recipes.seq2seq_attention(**pair, **small),
        "transformer_seq2seq": lambda: recipes.transformer_seq2seq(
            num_layers=1, num_heads=2, hidden_dim=8, intermediate_dim=16, **pair),
        "image_captioner": lambda: recipes.image_captioner(
            image_height=IMAGE_SIZE, image_width=IMAGE_SIZE, target_tokenizer=t, max_output_length=MAX_LENGTH, **small),
    }  # fmt: skip
    return builders[name]()


@functools.cache
def classifier():
    return recipes.text_classifier(max_length=4, units=4, embedding_dim=4, label_names=["n", "y"], text_tokenizer=tokenizer())


LANGUAGE_MODELS = ["window_language_model", "rnn_language_model"]
CONDITIONAL = ["seq2seq", "seq2seq_attention", "transformer_seq2seq", "image_captioner"]
OUTPUTS_PROBABILITIES = {"window_language_model", "rnn_language_model", "image_captioner"}  # the others: logits


def images():
    return np.random.default_rng(0).uniform(size=(len(SENTENCES), IMAGE_SIZE, IMAGE_SIZE, 3)).astype("float32")


def sentence_ids(sentence):
    """The tokenizer's ids of one sentence, in Python (the unknown "z" -> [UNK], 1)."""
    return [ALPHABET.index(c) + 4 if c in ALPHABET else 1 for c in sentence]


def numpy_log_softmax(x):
    x = x - x.max(axis=-1, keepdims=True)
    return x - np.log(np.exp(x).sum(axis=-1, keepdims=True))


def replay(name, sentences, sources=None):
    """(token log probs per sentence, lengths) from the full forward pass and a NumPy log softmax."""
    m = model(name)
    rows = [[START_ID] + sentence_ids(s) for s in sentences]
    cut = [(r + [END_ID])[1 : MAX_LENGTH + 1] for r in rows]  # the targets, cut to the output limit
    token_in = [r[:MAX_LENGTH] for r in rows]
    width = max(len(r) for r in token_in)
    padded = np.array([r + [PAD_ID] * (width - len(r)) for r in token_in], "int32")  # (B, T)
    if name == "window_language_model":  # one context per predicted position: the last 2 ids, 0 in front
        contexts = [([0, 0] + r[: t + 1])[-2:] for r in token_in for t in range(len(r))]
        flat = np.asarray(m(np.array(contexts, "int32")))  # (sum T_b, V)
        outputs, k = np.zeros(padded.shape + flat.shape[-1:]), 0
        for b, r in enumerate(token_in):
            outputs[b, : len(r)], k = flat[k : k + len(r)], k + len(r)
    elif name == "rnn_language_model":
        outputs = np.asarray(m(padded))
    elif name == "image_captioner":
        outputs = np.asarray(m({"image": sources, "target_in": padded}))
    else:
        source = [sentence_ids(s)[:SOURCE_LENGTH] for s in sources]
        s_width = max(1, max(len(s) for s in source))
        source = np.array([s + [PAD_ID] * (s_width - len(s)) for s in source], "int32")
        outputs = np.asarray(m({"source": source, "target_in": padded}))
    outputs = outputs.astype("float64")
    if name in OUTPUTS_PROBABILITIES:
        np.testing.assert_allclose(outputs.sum(-1)[padded != PAD_ID], 1.0, atol=1e-5)
        outputs = np.log(np.maximum(outputs, 1e-30))  # (padded window rows are all 0)
    outputs[..., [PAD_ID, START_ID]] = -1e9  # banned, as the decoder step bans them
    log_p = numpy_log_softmax(outputs)  # (B, T, V)
    return [np.array([log_p[b, t, y] for t, y in enumerate(c)]) for b, c in enumerate(cut)], [len(c) for c in cut]


def call_score(name, sentences, sources=None):
    if name in LANGUAGE_MODELS:
        return recipes.score(model(name), sentences)
    return recipes.score(model(name), sources, sentences)


def sources_for(name):
    return images() if name == "image_captioner" else SOURCES


@pytest.mark.parametrize("name", LANGUAGE_MODELS + CONDITIONAL)
def test_scores_equal_a_numpy_replay_of_the_teacher_forced_softmax(name):
    sentences = SENTENCES[:3] + [LONG]  # an empty one ([END] alone) and an over-long one (cut at MAX_LENGTH)
    sources = sources_for(name)
    result = call_score(name, sentences, sources)
    expected, lengths = replay(name, sentences, sources)
    assert result["lengths"].tolist() == lengths == [4, 1, 2, MAX_LENGTH]
    assert result["token_log_probs"].shape == (4, MAX_LENGTH)
    for b, row in enumerate(expected):
        np.testing.assert_allclose(result["token_log_probs"][b, : len(row)], row, rtol=1e-4, atol=1e-5)
        assert np.all(result["token_log_probs"][b, len(row) :] == 0)
        np.testing.assert_allclose(result["log_prob"][b], row.sum(), rtol=1e-4, atol=1e-5)
        np.testing.assert_allclose(result["perplexity"][b], np.exp(-row.mean()), rtol=1e-4)


def test_unknown_words_are_scored_as_the_unk_token():
    result = recipes.score(model("rnn_language_model"), ["abzd", "ab\u00e9d"])  # "z", "é": both [UNK]
    np.testing.assert_allclose(result["token_log_probs"][0], result["token_log_probs"][1], rtol=1e-6)
    expected, _ = replay("rnn_language_model", ["abzd"])
    np.testing.assert_allclose(result["token_log_probs"][0], expected[0], rtol=1e-4, atol=1e-5)


def test_an_over_long_source_scores_as_its_cut_form():
    long, cut = recipes.score(model("seq2seq_attention"), ["abcdeabcde", "abcd"], ["ab", "ab"])["log_prob"]
    np.testing.assert_allclose(long, cut, rtol=1e-6)


def test_perplexity_is_the_metric_s_definition():
    """metrics.Perplexity on the replayed (banned) distribution gives exp(-sum log P / sum lengths) of score."""
    result = recipes.score(model("rnn_language_model"), SENTENCES)
    corpus = np.exp(-result["log_prob"].sum() / result["lengths"].sum())
    metric = recipes.metrics.Perplexity(from_logits=True)
    rows = [[START_ID] + sentence_ids(s) for s in SENTENCES]
    width = max(len(r) for r in rows)
    token_in = np.array([r + [0] * (width - len(r)) for r in rows], "int32")
    targets = np.array([r[1:] + [END_ID] + [0] * (width - len(r)) for r in rows], "int32")
    logits = np.log(np.asarray(model("rnn_language_model")(token_in), "float64"))
    logits[..., [PAD_ID, START_ID]] = -1e9
    metric.update_state(targets, logits.astype("float32"))
    np.testing.assert_allclose(float(metric.result()), corpus, rtol=1e-4)


@pytest.mark.parametrize("name", ["rnn_language_model", "transformer_seq2seq"])
def test_a_generated_output_scores_what_generate_said(name):
    m = model(name)
    raw = tf.constant(["ab", "cde"])
    inputs = m.decoder.inputs_from_raw(raw) if name != "rnn_language_model" else recipes.prompt_ids(tokenizer(), ["", ""])
    result = recipes.generate(m.decoder, inputs, temperature=1.0, seed=3)
    ids, lengths = result["ids"][:, 0], result["lengths"][:, 0]
    ends = tf.minimum(lengths + 1, MAX_LENGTH)  # the predicted ids, [END] included where produced
    token_in = tf.concat([tf.fill([2, 1], START_ID), ids[:, :-1]], axis=1)
    scored = scoring.teacher_forced_scores(m.decoder, m.decoder.encode(inputs), token_in, ids, ends)
    np.testing.assert_allclose(scored["log_prob"], result["scores"][:, 0], rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("name", ["window_language_model", "image_captioner"])
def test_the_export_s_score_signature_equals_python(name):
    path = recipes.export(model(name), os.path.join(tempfile.mkdtemp(), name))  # score: on by default
    signature = tf.saved_model.load(path).signatures["score"]
    sentences = SENTENCES + [LONG]
    if name in LANGUAGE_MODELS:
        python, served = recipes.score(model(name), sentences), signature(inputs=tf.constant(sentences))
    else:
        sources = np.concatenate([images(), images()[:1]]) if name == "image_captioner" else SOURCES + ["a"]
        python = recipes.score(model(name), sources, sentences)
        raw = {"images": tf.constant(sources)} if name == "image_captioner" else {"inputs": tf.constant(sources)}
        served = signature(targets=tf.constant(sentences), **raw)
    assert sorted(served) == sorted(python) == ["lengths", "log_prob", "perplexity", "token_log_probs"]
    for key in python:
        np.testing.assert_allclose(served[key].numpy(), python[key], rtol=1e-5, atol=1e-6)
    assert sorted(n for n, _ in warmup.warmup_requests(path)) == ["generate", "score", "serving_default"]


def test_a_trained_toy_model_ranks_a_seen_sentence_above_a_scrambled_one():
    seen = ["abcde", "abcd", "abc"]
    m = recipes.rnn_language_model(units=16, embedding_dim=8, text_tokenizer=tokenizer(), learning_rate=0.05)
    batches = (tf.data.Dataset.from_tensor_slices(seen * 4).apply(data.tokenize(tokenizer()))
               .apply(data.teacher_forcing_shift()).apply(data.batch_with_padding(12)))  # fmt: skip
    m.fit(batches, epochs=15, verbose=0)
    result = recipes.score(m, ["abcde", "edbca"])
    assert result["log_prob"][0] > result["log_prob"][1] + 1.0
    assert result["perplexity"][0] < result["perplexity"][1]


# ------------------------------------------------------------------------------------------------
# Bad input.

CASES = [
    raises("bare string", lambda: recipes.score(model("rnn_language_model"), "abc"), TypeError, "inputs"),
    raises("empty list", lambda: recipes.score(model("rnn_language_model"), []), ValueError, "inputs"),
    raises("targets for a language model", lambda: recipes.score(model("rnn_language_model"), ["ab"], ["a"]), ValueError, "targets"),
    raises("no targets for seq2seq", lambda: recipes.score(model("seq2seq"), ["ab"]), ValueError, "targets"),
    raises("mismatched lengths", lambda: recipes.score(model("seq2seq"), ["ab", "c"], ["a"]), ValueError, "targets"),
    raises("bare string targets", lambda: recipes.score(model("seq2seq"), ["ab"], "a"), TypeError, "targets"),
    raises("non-string item", lambda: recipes.score(model("rnn_language_model"), ["ab", 3]), TypeError, "inputs[1]"),
    raises("non-UTF-8 bytes", lambda: recipes.score(model("rnn_language_model"), [b"\xff"]), ValueError, "inputs[0]"),
    raises("2-D strings", lambda: recipes.score(model("rnn_language_model"), np.array([["a"]])), ValueError, "inputs"),
    raises("images not numbers", lambda: recipes.score(model("image_captioner"), ["a"], ["a"]), TypeError, "inputs"),
    raises("not a generating recipe", lambda: recipes.score(classifier(), ["ab"]), ValueError, "model"),
    raises("export: score of a classifier", lambda: recipes.export(classifier(), tempfile.mkdtemp(), score_signature=True),
           ValueError, "score_signature"),  # fmt: skip
    raises("export: score_signature not a bool", lambda: recipes.export(model("seq2seq"), tempfile.mkdtemp(), score_signature="yes"),
           ValueError, "score_signature"),  # fmt: skip
    raises("not a model", lambda: recipes.score("rnn", ["ab"]), ValueError, "model"),
    answers("empty sentence scores [END] alone", lambda: recipes.score(model("rnn_language_model"), [""]),
            lambda r: r["lengths"].tolist() == [1] and np.isfinite(r["perplexity"]).all()),  # fmt: skip
]


@pytest.mark.parametrize("case", params(CASES))
def test_bad_input_gets_a_clear_answer(case):
    expect_clear(case)


def test_one_sentence_of_words_scores_as_it_does_in_a_batch():
    # A word tokenizer's ragged ops lose the batch size a one-string batch has; the scoring loop kept it
    # from the prompt's state and failed ("enters the loop with shape (1, 8)") before the fix.
    words = data.WordTokenizer(vocabulary=["the", "cat", "sat"])
    lm = recipes.rnn_language_model(units=8, embedding_dim=4, text_tokenizer=words)
    alone = recipes.score(lm, ["the cat sat"])["log_prob"]
    batched = recipes.score(lm, ["the cat sat", "cat"])["log_prob"]
    np.testing.assert_allclose(alone[0], batched[0], rtol=1e-5)
