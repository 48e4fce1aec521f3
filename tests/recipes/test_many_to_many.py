"""sequence_tagger and rnn_language_model: masking, context, decoding, truncated BPTT, save/reload, export."""

import json
import os
import subprocess
import sys
import textwrap

import keras
import numpy as np
import pytest
import tensorflow as tf

from recipe_checks import assert_fine_tunes, reloaded, sentence_batches

from seqrecipes import data, recipes
from seqrecipes.recipes.many_to_many import sequence_tagger

NAMES, CITIES = ["Peter", "Mina", "Jisoo", "Tom"], ["Seoul", "Busan", "Paris", "Rome"]
TAGS = ["O", "B-PER", "B-LOC"]
SENTENCES_TO_TAG = [
    "Peter lives in Seoul", "Washington said hello", "we met in Washington", "", "Mina",
    "Tom visited Rome " * 3, "zzz in Paris", "Jisoo said no",
]  # fmt: skip
LM_TEXT = ["hello world", "goodbye moon"]
PROMPTS = ["hel", "good", "hello w", "", "goodbye m", "h", "xyz", "hello world and more"]


def _tagging_sentences(num_sentences, seed):
    """(tokens, tags) pairs; "Washington" is a person before "said" and a place after "in"."""
    rng = np.random.default_rng(seed)
    sentences = []
    for _ in range(num_sentences):
        name, city = rng.choice(NAMES), rng.choice(CITIES)
        kind = rng.integers(0, 4)
        if kind == 0:
            tokens, tags = [name, "lives", "in", city], ["B-PER", "O", "O", "B-LOC"]
        elif kind == 1:
            tokens, tags = [name, "visited", city, "with", rng.choice(NAMES)], ["B-PER", "O", "B-LOC", "O", "B-PER"]
        elif kind == 2:
            tokens, tags = ["Washington", "said", "hello", "to", name], ["B-PER", "O", "O", "O", "B-PER"]
        else:
            tokens, tags = ["we", "met", name, "in", "Washington"], ["O", "O", "B-PER", "O", "B-LOC"]
        sentences.append((tokens, tags))
    return sentences


def _sentences_dataset(sentences):
    return tf.data.Dataset.from_generator(
        lambda: iter(sentences),
        output_signature=(tf.TensorSpec([None], tf.string), tf.TensorSpec([None], tf.string)),
    )


@pytest.fixture(scope="module")
def tagger():
    keras.utils.set_random_seed(0)
    sentences = _tagging_sentences(64, seed=0)
    words = data.WordTokenizer(split_punctuation=False).adapt([" ".join(tokens) for tokens, _ in sentences])
    model = recipes.sequence_tagger(
        units=16, embedding_dim=16, learning_rate=0.02, text_tokenizer=words, tags_tokenizer=TAGS
    )
    batches = _sentences_dataset(sentences).apply(data.tagging_batches(words, model.tokenizer("tags"), 16)).cache()
    history = model.fit(batches, epochs=15, verbose=0)
    return model, words, batches, history


@pytest.fixture(scope="module")
def language_model():
    keras.utils.set_random_seed(0)
    tokenizer = data.CharTokenizer().adapt(LM_TEXT)
    model = recipes.rnn_language_model(
        units=32, embedding_dim=16, learning_rate=0.02, max_output_length=12, text_tokenizer=tokenizer
    )
    batches = sentence_batches(tokenizer, LM_TEXT, 2)
    history = model.fit(batches, epochs=120, verbose=0)
    return model, tokenizer, batches, history


@pytest.fixture(scope="module")
def stateful_model():
    keras.utils.set_random_seed(0)
    text = ["the quick brown fox jumps over the lazy dog " * 3]
    tokenizer = data.CharTokenizer().adapt(text)
    model = recipes.rnn_language_model(
        units=16, embedding_dim=8, cell="gru", stateful=True, batch_size=2, max_output_length=8, learning_rate=0.02,
        text_tokenizer=tokenizer,
    )  # fmt: skip
    stream = tf.data.Dataset.from_tensor_slices(text).apply(data.tokenize(tokenizer))
    windows = stream.apply(data.lm_windows(8, batch_size=2)).cache()  # (2, 8) batches, row b continuing row b
    history = model.fit(windows, epochs=10, verbose=0, callbacks=[recipes.reset_states_callback(model)])
    return model, tokenizer, windows, history


@pytest.fixture(scope="module")
def served(tagger, language_model, stateful_model, tmp_path_factory):
    """The three models exported and served by one fresh process that imports only TensorFlow."""
    root = tmp_path_factory.mktemp("served")
    paths = {
        "tag": recipes.export(tagger[0], str(root / "tagger")),
        "lm": recipes.export(language_model[0], str(root / "lm")),
        "stateful": recipes.export(stateful_model[0], str(root / "stateful")),
    }
    out = root / "served.json"
    script = textwrap.dedent(f"""
        import json, tensorflow as tf
        paths, result = {paths!r}, {{}}
        inputs = {{"tag": {SENTENCES_TO_TAG!r}, "lm": {PROMPTS!r}, "stateful": {PROMPTS!r}}}
        for kind, path in paths.items():
            served = tf.saved_model.load(path).signatures["serving_default"]
            key = "tags" if kind == "tag" else "outputs"
            for n in (1, 8):
                value = served(inputs=tf.constant(inputs[kind][:n]))[key].numpy()
                decode = (lambda row: [s.decode() for s in row]) if kind == "tag" else (lambda s: s.decode())
                result[f"{{kind}}_{{n}}"] = [decode(item) for item in value]
        json.dump(result, open({str(out)!r}, "w"))
        """)
    subprocess.run(
        [sys.executable, "-c", script], check=True, env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2"), timeout=300
    )
    return json.loads(out.read_text())


def _tags(model, sentences):
    out = sequence_tagger.tagger_serving(model)(tf.constant(sentences))["tags"].numpy()
    return [[s.decode() for s in row] for row in out]


def _generate(model, prompts):
    return [
        s.decode() for s in recipes.serving.generation_serving(model)(tf.constant(prompts))["outputs"].numpy()
    ]


# ------------------------------------------------------------------------------------------------
# sequence_tagger


def test_tagger_learns_tags_that_need_both_directions(tagger):
    model, words, batches, history = tagger
    assert history.history["token_accuracy"][-1] >= 0.95
    tags = _tags(model, ["Washington said hello to Mina", "we met Tom in Washington", "Peter lives in Busan"])
    # "Washington" is only told apart by the next word (a person) or the previous one (a place).
    assert tags[0] == ["B-PER", "O", "O", "O", "B-PER"]
    assert tags[1] == ["O", "O", "B-PER", "O", "B-LOC"]
    assert tags[2] == ["B-PER", "O", "O", "B-LOC", ""]  # padded to the longest sentence of the batch


def test_tagger_loss_ignores_padding_and_padding_does_not_change_tags(tagger):
    model, words, batches, _ = tagger
    x, y = next(iter(batches))
    x, y = x.numpy(), y.numpy()
    noisy = np.where(x == 0, 5, y)  # labels at padded positions must not count in the loss
    assert (x == 0).any()
    loss, accuracy = model.evaluate(x, y, verbose=0)
    assert model.evaluate(x, noisy, verbose=0)[0] == pytest.approx(loss, rel=1e-6)
    predicted = np.asarray(model(x)).argmax(-1)
    assert accuracy == pytest.approx((predicted == y)[x != 0].mean(), abs=1e-6)  # real tokens only
    alone = recipes.predict_tags(model, x[:1, : int((x[0] != 0).sum())])
    padded = recipes.predict_tags(model, np.pad(x[:1], [[0, 0], [0, 7]]))
    np.testing.assert_array_equal(padded.numpy()[:, : alone.shape[1]], alone.numpy())
    assert (padded.numpy()[:, alone.shape[1] :] == 0).all()


def test_tagger_saves_reloads_and_fine_tunes(tagger, tmp_path):
    model, words, batches, _ = tagger
    loaded = reloaded(model, next(iter(batches))[0], str(tmp_path / "tagger.keras"))
    assert loaded.tokenizer("tags").get_vocabulary()[4:] == TAGS
    assert _tags(loaded, SENTENCES_TO_TAG) == _tags(model, SENTENCES_TO_TAG)
    assert_fine_tunes(loaded, batches.take(1), layer="logits")


def test_tagger_export_matches_python(tagger, served):
    model = tagger[0]
    for n in (1, 8):
        assert served[f"tag_{n}"] == _tags(model, SENTENCES_TO_TAG[:n])
    rows = served["tag_8"]
    assert rows[3] == [""] * len(rows[3]) and len(rows[3]) == 9  # the empty sentence: all padding
    assert rows[0][:4] == ["B-PER", "O", "O", "B-LOC"] and rows[0][4:] == [""] * 5
    assert rows[6][0] != ""  # an unknown word still gets a tag


# ------------------------------------------------------------------------------------------------
# rnn_language_model


def test_language_model_memorizes_and_continues_prompts_in_one_graph(language_model):
    model, tokenizer, _, history = language_model
    assert history.history["loss"][-1] < 0.1 < history.history["loss"][0]
    assert history.history["perplexity"][-1] < 1.15
    search = tf.function(lambda ids: recipes.greedy_search(model.decoder, ids))
    ids, lengths = search(recipes.prompt_ids(tokenizer, ["hel", "good"]))
    assert [s.decode() for s in tokenizer.detokenize(ids).numpy()] == ["lo world", "bye moon"]
    np.testing.assert_array_equal(lengths.numpy(), [8, 8])
    assert _generate(model, ["hello w", "goodbye m"]) == ["orld", "oon"]


@pytest.mark.parametrize("level, cell, num_layers", [("char", "lstm", 1), ("word", "gru", 2)])
def test_decoder_steps_equal_the_full_model(level, cell, num_layers):
    """Each decoding step gives the probabilities the whole-sequence model gives at that position,
    renormalised without [PAD] and [START], which the step bans."""
    texts = ["a b c d e", "b c a"] if level == "word" else ["abcde", "bca"]
    tokenizer = (data.WordTokenizer() if level == "word" else data.CharTokenizer()).adapt(texts)
    model = recipes.rnn_language_model(
        units=8, embedding_dim=4, cell=cell, num_layers=num_layers, text_tokenizer=tokenizer
    )
    prompts, continuation = ["a b", "c"] if level == "word" else ["ab", "c"], np.array([[6, 7, 4], [5, 5, 8]], "int32")
    ids = recipes.prompt_ids(tokenizer, prompts).numpy()  # (2, L), [START] + prompt, right-padded
    lengths = (ids != 0).sum(1)
    state = model.decoder.encode(ids)
    rows = [np.concatenate([ids[b, : lengths[b]], continuation[b]]) for b in range(2)]
    full = [np.asarray(model(row[None]))[0] for row in rows]  # (L_b + 3, V)
    token = np.full((2,), 2, "int32")
    for index in range(3):
        logits, state = model.decoder.step(token, state, np.int32(index))
        probabilities = np.asarray(tf.nn.softmax(logits))
        assert np.all(np.asarray(logits)[:, list(recipes.decoding.NEVER_GENERATED)] <= -1e8)
        for b in range(2):
            expected = full[b][lengths[b] - 1 + index].copy()
            expected[list(recipes.decoding.NEVER_GENERATED)] = 0.0
            np.testing.assert_allclose(probabilities[b], expected / expected.sum(), atol=1e-5)
        token = continuation[:, index]
    out = _generate(model, ["a", ""])
    vocabulary = set(tokenizer.get_vocabulary())
    assert all(piece in vocabulary for text in out for piece in (text.split() if level == "word" else text))


def test_language_model_saves_reloads_and_fine_tunes(language_model, tmp_path):
    model, tokenizer, batches, _ = language_model
    loaded = reloaded(model, next(iter(batches))[0], str(tmp_path / "lm.keras"))
    assert _generate(loaded, PROMPTS) == _generate(model, PROMPTS)
    assert_fine_tunes(loaded, batches.take(1), layer="logits")


def test_stateful_windows_equal_one_pass_over_the_whole_row(stateful_model):
    """Truncated BPTT's forward pass: window k+1 starts from the states window k ended with."""
    model, tokenizer, windows, history = stateful_model
    assert history.history["loss"][-1] < 0.7 * history.history["loss"][0]
    (x1, _), (x2, _) = list(windows.take(2))
    twin = recipes.rnn_language_model(**{**model.arguments, "stateful": False}, text_tokenizer=tokenizer)
    twin.set_weights(model.get_weights())
    reset = recipes.reset_states_callback(model)
    reset.on_epoch_begin(0)
    first, second = np.asarray(model(x1)), np.asarray(model(x2))
    assert np.abs(np.asarray(model.get_layer("rnn_0").states[0])).max() > 0
    whole = np.asarray(twin(tf.concat([x1, x2], axis=1)))
    np.testing.assert_allclose(np.concatenate([first, second], axis=1), whole, atol=1e-5)
    reset.on_epoch_begin(1)
    assert np.abs(np.asarray(model.get_layer("rnn_0").states[0])).max() == 0
    np.testing.assert_allclose(np.asarray(model(x1)), first, atol=1e-6)


def test_stateful_model_reloads_and_generates_at_any_batch_size(stateful_model, tmp_path):
    model, tokenizer, windows, _ = stateful_model
    path = str(tmp_path / "stateful.keras")
    model.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    assert loaded.arguments["stateful"] and loaded.get_layer("rnn_0").stateful
    x = next(iter(windows))[0]
    for m in (model, loaded):
        m.get_layer("rnn_0").reset_state()
    np.testing.assert_allclose(np.asarray(loaded(x)), np.asarray(model(x)), atol=1e-6)
    assert len(_generate(loaded, PROMPTS)) == 8 and len(_generate(loaded, PROMPTS[:1])) == 1  # batch 2 is not needed
    with pytest.raises(ValueError, match="batch size"):
        model(x[:1])
    loaded.fit(windows.take(1), epochs=1, verbose=0, callbacks=[recipes.reset_states_callback(loaded)])


def test_language_model_exports_match_python(language_model, stateful_model, served):
    for kind, model in (("lm", language_model[0]), ("stateful", stateful_model[0])):
        for n in (1, 8):
            assert served[f"{kind}_{n}"] == _generate(model, PROMPTS[:n])
    assert served["lm_8"][:2] == ["lo world", "bye moon"]


# ------------------------------------------------------------------------------------------------
# Bad arguments


@pytest.mark.parametrize(
    "arguments, match",
    [
        ({"units": 0}, r"units=0"),
        ({"cell": "lstn"}, r"cell='lstn'"),
        ({"tags_tokenizer": "O B-PER"}, r"tags_tokenizer='O B-PER'"),
        ({"tags_tokenizer": ["O", "O"]}, r"distinct"),
        ({"tags_vocabulary_size": 3}, r"tags_vocabulary_size=3"),
        ({"bidirectional": 1}, r"bidirectional=1"),
        ({"dropout": 1.0}, r"dropout=1.0"),
    ],
)
def test_tagger_bad_arguments_are_named(arguments, match):
    arguments = {"text_vocabulary_size": 10, "tags_vocabulary_size": 8, **arguments}
    with pytest.raises(ValueError, match=match):
        recipes.sequence_tagger(**arguments)


@pytest.mark.parametrize(
    "arguments, match",
    [
        ({"text_vocabulary_size": 0}, r"text_vocabulary_size=0"),
        ({"num_layers": 0}, r"num_layers=0"),
        ({"stateful": "yes"}, r"stateful='yes'"),
        ({"stateful": True, "batch_size": 0}, r"batch_size=0"),
        ({"max_output_length": -1}, r"max_output_length=-1"),
    ],
)
def test_language_model_bad_arguments_are_named(arguments, match):
    arguments = {"text_vocabulary_size": 10, **arguments}
    with pytest.raises(ValueError, match=match):
        recipes.rnn_language_model(**arguments)
