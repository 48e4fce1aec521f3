"""Encoder-decoder recipes: seq2seq, seq2seq_attention, transformer_seq2seq.

Each recipe, shrunk, trains with model.fit on a seqrecipes.data pipeline, saves and reloads in safe
mode with the same predictions, fine-tunes, and exports a SavedModel that a fresh TensorFlow-only
process serves with the same outputs. Decoding: one decoder step at a time equals the
teacher-forced full pass, and in-graph greedy search equals a step-by-step Python reference that
calls the model once per token.
"""

import json
import os
import subprocess
import sys
import textwrap

import keras
import numpy as np
import pytest
import tensorflow as tf

from recipe_checks import assert_fine_tunes, reloaded

from seqrecipes import data, layers, recipes
from seqrecipes.recipes.training.metrics import TokenAccuracy

ALPHABET = "abcdef"
MAX_TARGET_LENGTH = 9
SHRUNK = {
    "seq2seq": dict(cell="lstm", units=16, embedding_dim=8, reverse_source=True, context_every_step=True),
    "seq2seq_attention": dict(cell="gru", units=16, embedding_dim=8, attention="bahdanau"),
    "transformer_seq2seq": dict(num_layers=1, num_heads=2, hidden_dim=16, intermediate_dim=32, dropout=0.1),
}
# Serving inputs: mixed lengths, an empty string, an unknown character, one over max_source_length (12).
SERVING_INPUTS = ["abc", "fedcba", "", "aaaaaaaaaaaaaaaaaaaaaaaa", "cab", "ab?", "ffff", "eabd"]


def _tokenizer():
    return data.CharTokenizer(vocabulary=list(ALPHABET))


def _batches(tokenizer, num_examples=48, seed=0):
    pairs = data.sequence_reversal(num_examples, min_length=2, max_length=6, alphabet=ALPHABET, seed=seed)
    return pairs.apply(data.seq2seq_batches(tokenizer, tokenizer, 16, max_target_length=MAX_TARGET_LENGTH))


def _build(name, **overrides):
    tokenizer = _tokenizer()
    arguments = {**SHRUNK[name], "max_source_length": 12, "max_target_length": MAX_TARGET_LENGTH, **overrides}
    return getattr(recipes, name)(source_tokenizer=tokenizer, target_tokenizer=tokenizer, **arguments)


@pytest.fixture(scope="module")
def trained():
    """Each recipe, shrunk, trained for a few steps on sequence reversal."""
    keras.utils.set_random_seed(7)
    models = {}
    for name in SHRUNK:
        model = _build(name)
        history = model.fit(_batches(model.tokenizer("source")), epochs=3, verbose=0)
        assert history.history["loss"][-1] < history.history["loss"][0]
        models[name] = model
    return models


def _source_batch(model, strings):
    return model.decoder.inputs_from_raw(tf.constant(strings))


# ------------------------------------------------------------------------------------------------
# The whole cycle.


@pytest.mark.parametrize("name", list(SHRUNK))
def test_fit_save_reload_same_predictions_and_finetune(trained, name, tmp_path):
    model = trained[name]
    inputs, target = next(iter(_batches(model.tokenizer("source"), seed=1)))
    loaded = reloaded(model, inputs, str(tmp_path / f"{name}.keras"), atol=1e-5)
    assert loaded.recipe == name
    source = _source_batch(model, SERVING_INPUTS)
    np.testing.assert_array_equal(
        recipes.greedy_search(loaded.decoder, source)[0].numpy(),
        recipes.greedy_search(model.decoder, source)[0].numpy(),
    )
    # The compiled token accuracy skips padding: compare with a count over the real target tokens.
    logits = np.asarray(model(inputs))
    real = target.numpy() != 0
    assert not real.all()
    accuracy = TokenAccuracy()
    accuracy.update_state(target, logits)
    assert float(accuracy.result()) == pytest.approx((logits.argmax(-1) == target.numpy())[real].mean(), abs=1e-6)
    assert "token_accuracy" in model.history.history
    assert_fine_tunes(loaded, _batches(model.tokenizer("source")), steps_per_epoch=1)


def test_export_serves_the_same_strings_in_a_fresh_tensorflow_process(trained, tmp_path):
    expected, paths = {}, {}
    for name, model in trained.items():
        paths[name] = recipes.export(model, str(tmp_path / name))
        assert sorted(os.listdir(os.path.join(paths[name], "assets"))) == ["source.vocab", "target.vocab"]
        serve = recipes.serving.generation_serving(model)
        expected[name] = {
            "1": [s.decode() for s in serve(tf.constant(SERVING_INPUTS[:1]))["outputs"].numpy()],
            "8": [s.decode() for s in serve(tf.constant(SERVING_INPUTS))["outputs"].numpy()],
        }
    script = textwrap.dedent(f"""
        import json, tensorflow as tf
        results = {{}}
        for name, path in {paths!r}.items():
            served = tf.saved_model.load(path).signatures["serving_default"]
            results[name] = {{
                size: [s.decode() for s in served(inputs=tf.constant(inputs))["outputs"].numpy()]
                for size, inputs in (("1", {SERVING_INPUTS[:1]!r}), ("8", {SERVING_INPUTS!r}))
            }}
        print("RESULTS" + json.dumps(results))
        """)
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    done = subprocess.run(
        [sys.executable, "-c", script], check=True, env=env, timeout=300, capture_output=True, text=True
    )
    served = json.loads(done.stdout.split("RESULTS", 1)[1])
    assert served == expected


# ------------------------------------------------------------------------------------------------
# Decoding.


def _reference_greedy(model, source, max_length):
    """Greedy decoding in Python: the full teacher-forced model called once per output token."""
    source = np.asarray(source)
    batch = source.shape[0]
    target_in = np.full((batch, 1), data.START_ID, "int32")
    finished = np.zeros(batch, bool)
    ids = np.zeros((batch, max_length), "int32")
    for t in range(max_length):
        logits = np.array(model({"source": source, "target_in": target_in}))[:, -1]  # (B, V)
        logits[:, list(recipes.decoding.NEVER_GENERATED)] = -np.inf
        token = np.where(finished, data.PAD_ID, logits.argmax(-1)).astype("int32")
        ids[:, t] = token
        finished |= token == data.END_ID
        if finished.all():
            break
        target_in = np.concatenate([target_in, token[:, None]], axis=1)
    return ids


@pytest.mark.parametrize("name", list(SHRUNK))
def test_in_graph_greedy_search_equals_stepwise_python_reference(trained, name):
    model = trained[name]
    source = _source_batch(model, ["abc", "fedcba", "ab", "eeeddd", "f"])
    ids, lengths = tf.function(lambda s: recipes.greedy_search(model.decoder, s))(source)
    expected = _reference_greedy(model, source, MAX_TARGET_LENGTH)
    np.testing.assert_array_equal(ids.numpy(), expected)
    assert lengths.numpy().tolist() == recipes.sequence_lengths(expected).numpy().tolist()


STEP_CONFIGURATIONS = [
    ("seq2seq", dict(cell="gru")),
    ("seq2seq", dict(cell="lstm", reverse_source=True, context_every_step=True)),
    ("seq2seq_attention", dict(attention="bahdanau", bidirectional=True, cell="lstm")),
    ("seq2seq_attention", dict(attention="luong_dot", bidirectional=True)),
    ("seq2seq_attention", dict(attention="luong_general", bidirectional=False)),
    ("seq2seq_attention", dict(attention="luong_concat", attention_units=6)),
    ("transformer_seq2seq", dict(position="sinusoidal", num_layers=2)),
    ("transformer_seq2seq", dict(position="learned", share_embeddings=True, normalize_first=True)),
]


@pytest.mark.parametrize("name, overrides", STEP_CONFIGURATIONS, ids=lambda v: v if isinstance(v, str) else None)
def test_decoder_steps_equal_the_teacher_forced_pass(name, overrides):
    keras.utils.set_random_seed(3)
    model = _build(name, **overrides)
    source = np.array([[4, 5, 6, 7, 0, 0], [9, 8, 0, 0, 0, 0], [5, 5, 6, 6, 7, 7]], "int32")  # right-padded
    target_in = np.array([[2, 7, 6, 5, 4, 3], [2, 8, 9, 3, 0, 0], [2, 7, 7, 6, 6, 5]], "int32")
    full = np.asarray(model({"source": source, "target_in": target_in}))  # (B, T, V)
    decoder = model.decoder
    state = decoder.encode(source)
    steps = []
    for t in range(target_in.shape[1]):
        logits, state = decoder.step(tf.constant(target_in[:, t]), state, tf.constant(t, "int32"))
        steps.append(np.asarray(logits))
    steps = np.stack(steps, axis=1)  # (B, T, V)
    real = target_in != 0
    generated = np.setdiff1d(np.arange(full.shape[-1]), recipes.decoding.NEVER_GENERATED)
    np.testing.assert_allclose(steps[real][:, generated], full[real][:, generated], atol=1e-5, rtol=1e-5)
    assert np.all(steps[:, :, list(recipes.decoding.NEVER_GENERATED)] <= -1e8)  # [PAD] and [START] never come out


def test_chos_output_layer_matches_numpy():
    # o_t = maxout(O_h s_t + O_y y_{t-1} + O_c c + b), logits = W_o o_t + b_o (Cho et al. 2014, A.1.2).
    keras.utils.set_random_seed(4)
    model = _build("seq2seq", cell="gru", context_every_step=True)
    decoder = model.decoder
    source = np.array([[4, 5, 6, 0], [7, 8, 9, 5]], "int32")
    state = decoder.encode(source)
    token = np.array([2, 6], "int32")
    logits, _ = decoder.step(tf.constant(token), state, tf.constant(0))
    c = np.asarray(state["cell"][0], "float64")  # the context: the encoder's final state
    y = np.asarray(model.get_layer("target_embedding")(token), "float64")
    x = decoder.input_projection(y.astype("float32")) + decoder.context_projection(c.astype("float32"))
    s, _ = decoder.cell(x, state["cell"])  # the GRU step (checked against NumPy in the layer tests)
    weight = {name: np.asarray(model.get_layer(name).get_weights()[0], "float64") for name in
              ("deep_output", "deep_output_context", "logits")}  # fmt: skip
    deep = np.concatenate([np.asarray(s, "float64"), y], -1) @ weight["deep_output"]
    deep += model.get_layer("deep_output").get_weights()[1] + c @ weight["deep_output_context"]
    o = deep.reshape(2, -1, 2).max(-1)  # (B, U)
    expected = o @ weight["logits"] + model.get_layer("logits").get_weights()[1]
    generated = np.setdiff1d(np.arange(expected.shape[-1]), recipes.decoding.NEVER_GENERATED)
    np.testing.assert_allclose(np.asarray(logits)[:, generated], expected[:, generated], atol=1e-5)
    plain = _build("seq2seq", cell="gru", context_every_step=False)
    assert "maxout" in [layer.name for layer in model.layers] and "maxout" not in [layer.name for layer in plain.layers]


def test_reverse_source_reverses_only_the_real_tokens():
    keras.utils.set_random_seed(5)
    reversing = _build("seq2seq", cell="gru", reverse_source=True, context_every_step=False)
    plain = _build("seq2seq", cell="gru", reverse_source=False, context_every_step=False)
    plain.set_weights(reversing.get_weights())
    source = np.array([[4, 5, 6, 0, 0], [7, 8, 9, 5, 4]], "int32")
    by_hand = np.array([[6, 5, 4, 0, 0], [4, 5, 9, 8, 7]], "int32")  # real tokens reversed, padding stays
    target_in = np.array([[2, 6, 5], [2, 4, 5]], "int32")
    np.testing.assert_allclose(
        np.asarray(reversing({"source": source, "target_in": target_in})),
        np.asarray(plain({"source": by_hand, "target_in": target_in})),
        atol=1e-6,
    )
    # More padding changes nothing, and the reversal does change the outputs.
    padded = np.pad(source, [[0, 0], [0, 3]])
    reversed_outputs = np.asarray(reversing({"source": source, "target_in": target_in}))
    np.testing.assert_allclose(
        np.asarray(reversing({"source": padded, "target_in": target_in})), reversed_outputs, atol=1e-6
    )
    assert not np.allclose(np.asarray(plain({"source": source, "target_in": target_in})), reversed_outputs, atol=1e-4)


def test_attention_alignments_are_distributions_over_the_real_source_tokens(trained):
    model = trained["seq2seq_attention"]
    ids, alignments = recipes.attention_alignments(model, ["abc", "fedcba", ""])
    assert ids.shape[0] == 3 and alignments.shape == (3, ids.shape[1], 6)
    lengths = recipes.sequence_lengths(ids).numpy()
    for b, n_source in enumerate([3, 6, 0]):
        produced = [t for t in range(ids.shape[1]) if ids[b, t] != data.PAD_ID]
        assert len(produced) >= lengths[b]
        for t in range(ids.shape[1]):
            row = alignments[b, t]
            if t in produced and n_source:
                assert row.sum() == pytest.approx(1.0, abs=1e-5)
                assert np.all(row[n_source:] == 0)  # padding gets no attention
            else:
                assert np.all(row == 0)
    # The same alignments as the AttentionDecoder layer's teacher-forced history over the output.
    source = _source_batch(model, ["abc", "fedcba", ""])
    target_in = np.concatenate([np.full((3, 1), data.START_ID), ids[:, :-1]], axis=1).astype("int32")
    memory, *states = model.get_layer("encoder")(model.get_layer("source_embedding")(source), mask=source != 0)
    states = [tf.concat([f, b], axis=-1) for f, b in zip(states[:1], states[1:])]  # GRU: one state per direction
    replay = layers.AttentionDecoder(model.get_layer("decoder").cell, return_alignments=True)
    _, history = replay(
        model.get_layer("target_embedding")(target_in), memory, memory_mask=source != 0, initial_state=states
    )
    produced = ids != data.PAD_ID
    np.testing.assert_allclose(np.asarray(history)[produced], alignments[produced], atol=1e-5)
    with pytest.raises(ValueError, match=r"needs a model whose decoder attends .*Received: model.recipe='seq2seq'"):
        recipes.attention_alignments(trained["seq2seq"], ["abc"])


def test_serving_keeps_the_first_max_source_length_tokens(trained):
    model = trained["seq2seq_attention"]
    serve = recipes.serving.generation_serving(model)
    long_input = "abcdefabcdef" + "fffff"  # 17 characters, max_source_length=12
    outputs = serve(tf.constant([long_input, long_input[:12], ""]))["outputs"].numpy()
    assert outputs[0] == outputs[1]
    assert recipes.source_ids(model.tokenizer("source"), tf.constant([""]), max_length=12).shape == (1, 1)


def test_registered_as_generating_encoder_decoder_recipes():
    for name in SHRUNK:
        info = recipes.get_recipe(name)
        assert info.task_type == "many-to-many (encoder-decoder)" and info.serving == "generate"
        assert "date_translation" in info.datasets and info.decoder is not None


# ------------------------------------------------------------------------------------------------
# Bad arguments.


@pytest.mark.parametrize(
    "name, arguments, message",
    [
        ("seq2seq", dict(cell="tree"), r"`cell` must be one of .*Received: cell='tree'"),
        ("seq2seq", dict(units=0), r"`units` must be a positive integer. Received: units=0"),
        ("seq2seq", dict(dropout=1.5), r"`dropout` must be a number in \[0, 1\). Received: dropout=1.5"),
        (
            "seq2seq_attention",
            dict(attention="dot"),
            r"'bahdanau', 'luong_concat', 'luong_dot', 'luong_general'.*Received: attention='dot'",
        ),
        ("seq2seq_attention", dict(units=15), r"even .*Received: units=15"),
        ("seq2seq_attention", dict(max_target_length=0), r"Received: max_target_length=0"),
        ("transformer_seq2seq", dict(hidden_dim=10, num_heads=4), r"multiple of num_heads=4. Received: hidden_dim=10"),
        ("transformer_seq2seq", dict(position="rotary"), r"`position` must be one of .*Received: position='rotary'"),
    ],
)
def test_bad_arguments_name_the_argument_and_the_value(name, arguments, message):
    with pytest.raises(ValueError, match=message):
        _build(name, **arguments)


def test_vocabulary_sizes_are_checked():
    with pytest.raises(ValueError, match=r"source_vocabulary_size.*Received: source_vocabulary_size=0"):
        recipes.seq2seq()
    with pytest.raises(ValueError, match=r"target_vocabulary_size.*Received: target_vocabulary_size=0"):
        recipes.seq2seq_attention(source_vocabulary_size=10)
    with pytest.raises(ValueError, match=r"share_embeddings.*source_vocabulary_size=10, target_vocabulary_size=12"):
        recipes.transformer_seq2seq(source_vocabulary_size=10, target_vocabulary_size=12, share_embeddings=True)
    model = recipes.seq2seq(source_vocabulary_size=10, target_vocabulary_size=10, units=8, embedding_dim=4)
    with pytest.raises(ValueError, match=r"no 'target' tokenizer"):
        recipes.serving.generation_serving(model)
