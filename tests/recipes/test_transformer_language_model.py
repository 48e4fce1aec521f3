"""transformer_language_model (GPT): the cached steps equal the causal pass, generation, scores against NumPy,
weight tying, nanoGPT's schedule, training, save/reload, export, bad arguments."""

import functools
import math

import keras
import numpy as np
import pytest
import tensorflow as tf

from bad_input import expect_clear, params, raises
from recipe_checks import assert_fine_tunes, reloaded, sentence_batches

from seqrecipes import data, recipes
from seqrecipes.data import END_ID, PAD_ID, START_ID
from seqrecipes.recipes.many_to_many.transformer_language_model import transformer_language_model
from seqrecipes.recipes.serving.signatures import generate_settings

TEXT = ["hello world", "goodbye moon"]
PROMPTS = ["hel", "good", "", "hello w", "goodbye m"]
BANNED = [PAD_ID, START_ID]
TINY = dict(num_layers=1, num_heads=2, hidden_dim=8, max_length=16, max_output_length=6)


def _tokenizer():
    return data.CharTokenizer().adapt(TEXT)



@pytest.fixture(scope="module")
def trained():
    keras.utils.set_random_seed(0)
    tokenizer = _tokenizer()
    model = transformer_language_model(
        num_layers=1, num_heads=2, hidden_dim=16, max_length=16, max_output_length=12, learning_rate=1e-2,
        min_learning_rate=1e-3, warmup_steps=5, decay_steps=150, weight_decay=0.0, text_tokenizer=tokenizer,
    )  # fmt: skip
    batches = sentence_batches(tokenizer, TEXT, 2)
    history = model.fit(batches, epochs=150, verbose=0)
    return model, tokenizer, batches, history


def _logits(model, ids):
    """The full causal pass's logits (T, V) of one row of ids, [PAD] and [START] banned as the step bans them."""
    logits = np.asarray(model(np.asarray(ids, "int32")[None]))[0].astype("float64")
    logits[:, BANNED] = -1e9
    return logits


def _log_softmax(x):
    x = x - x.max(axis=-1, keepdims=True)
    return x - np.log(np.exp(x).sum(axis=-1, keepdims=True))


@pytest.mark.parametrize("tie_embeddings, num_layers", [(True, 2), (False, 1)])
def test_cached_steps_equal_the_full_causal_pass_for_prompts_of_different_lengths(tie_embeddings, num_layers):
    keras.utils.set_random_seed(1)
    tokenizer = _tokenizer()
    model = transformer_language_model(
        num_layers=num_layers, num_heads=2, hidden_dim=16, max_length=12, max_output_length=5,
        tie_embeddings=tie_embeddings, dropout=0.1, text_tokenizer=tokenizer,
    )  # fmt: skip
    decoder = model.decoder
    assert (decoder.max_length, decoder.prompt_length) == (5, 8)
    prompts = ["hel", "", "goodbye", "hello world!"]  # 4, 1, 8 and 13 ids with [START]: the last one is cut to 8
    ids = recipes.prompt_ids(tokenizer, prompts).numpy()
    lengths = (ids != PAD_ID).sum(1)
    read = [ids[b, max(0, n - decoder.prompt_length) : n] for b, n in enumerate(lengths)]  # the rule: last 8 ids
    continuation = np.random.default_rng(0).integers(4, tokenizer.vocabulary_size(), size=(4, 5)).astype("int32")
    full = [_logits(model, np.concatenate([r, c[:-1]])) for r, c in zip(read, continuation)]  # the last is never fed
    state = decoder.encode(ids)
    token = np.full((4,), START_ID, "int32")
    for index in range(decoder.max_length):
        logits, state = decoder.step(token, state, np.int32(index))
        logits = np.asarray(logits)
        assert np.all(logits[:, BANNED] <= -1e8)
        for b in range(4):
            expected = full[b][len(read[b]) - 1 + index]
            np.testing.assert_allclose(logits[b][4:], expected[4:], atol=1e-5)
        token = continuation[:, index]
    # The last fed token sat at position prompt_length - 1 + max_length - 1, the table's last one.
    assert len(read[3]) - 1 + decoder.max_length - 1 == model.arguments["max_length"] - 1


def test_greedy_sampling_and_beam_search_generate_strings(trained):
    model, tokenizer, _, _ = trained
    decoder = model.decoder
    prompts = recipes.prompt_ids(tokenizer, PROMPTS, decoder.prompt_length)
    greedy = recipes.generate(decoder, prompts)
    assert [s.decode() for s in decoder.detokenize(greedy["ids"][:, 0]).numpy()[:2]] == ["lo world", "bye moon"]
    search = tf.function(lambda ids: recipes.greedy_search(decoder, ids))
    np.testing.assert_array_equal(search(prompts)[0].numpy(), greedy["ids"].numpy()[:, 0])
    sampled = recipes.generate(decoder, prompts, temperature=1.0, top_k=3, seed=7, num_results=2)
    beams = recipes.generate(decoder, prompts, beam_width=3, num_results=2)
    for result in (sampled, beams):
        assert tuple(result["ids"].shape)[:2] == (len(PROMPTS), 2)
        text = decoder.detokenize(result["ids"]).numpy()
        assert text.shape == (len(PROMPTS), 2) and all(isinstance(s, bytes) for s in text.ravel())
    assert [s.decode() for s in decoder.detokenize(beams["ids"][:, 0]).numpy()[:2]] == ["lo world", "bye moon"]
    np.testing.assert_allclose(beams["scores"][:, 0] <= 0, True)


def test_score_equals_a_numpy_replay_of_the_full_pass(trained):
    model, tokenizer, _, _ = trained
    limit = model.decoder.max_length  # 12
    sentences = ["hello world", "", "goodbye", "hello world hello"]  # the last one is cut to its first 12 ids
    result = recipes.score(model, sentences)
    for b, sentence in enumerate(sentences):
        tokens = [int(i) for i in tokenizer.tokenize_ragged(tf.constant([sentence]))[0].numpy()]
        token_in, targets = ([START_ID] + tokens)[:limit], (tokens + [END_ID])[:limit]
        log_p = _log_softmax(_logits(model, token_in))
        expected = np.array([log_p[t, y] for t, y in enumerate(targets)])
        assert result["lengths"][b] == len(targets)
        np.testing.assert_allclose(result["token_log_probs"][b, : len(targets)], expected, rtol=1e-4, atol=1e-5)
        np.testing.assert_allclose(result["log_prob"][b], expected.sum(), rtol=1e-4, atol=1e-5)
    assert result["log_prob"][0] > recipes.score(model, ["dlrow olleh"])["log_prob"][0]  # seen beats scrambled


def test_tied_logits_are_the_final_features_times_the_token_table():
    keras.utils.set_random_seed(2)
    tied = transformer_language_model(text_vocabulary_size=9, **TINY)
    untied = transformer_language_model(text_vocabulary_size=9, tie_embeddings=False, **TINY)
    names = [layer.name for layer in tied.layers]
    assert "logits" not in names and "logits" in [layer.name for layer in untied.layers]
    assert untied.count_params() - tied.count_params() == 9 * 8  # W_o (D, V), no bias
    assert all(weight.path.startswith("embedding/") for weight in tied.weights if weight.shape == (9, 8))
    ids = np.array([[2, 5, 6, 7], [2, 8, 0, 0]], "int32")
    features = keras.Model(tied.input, tied.get_layer("final_norm").output)(ids)  # LN_f(x_L) (B, T, D)
    table = tied.get_layer("embedding").embeddings.numpy()  # E (V, D)
    np.testing.assert_allclose(np.asarray(tied(ids)), np.asarray(features) @ table.T, atol=1e-5)


def _nanogpt_lr(it, learning_rate=1e-3, min_lr=1e-4, warmup_iters=100, lr_decay_iters=2000):
    """nanoGPT train.py's get_lr."""
    if it < warmup_iters:
        return learning_rate * it / warmup_iters
    if it > lr_decay_iters:
        return min_lr
    decay_ratio = (it - warmup_iters) / (lr_decay_iters - warmup_iters)
    coeff = 0.5 * (1.0 + math.cos(math.pi * decay_ratio))
    return min_lr + coeff * (learning_rate - min_lr)


def test_adamw_follows_nanogpt_s_schedule_and_decays_only_matrices():
    model = transformer_language_model(text_vocabulary_size=9, **TINY)
    optimizer = model.optimizer
    assert isinstance(optimizer, keras.optimizers.AdamW)
    assert (optimizer.weight_decay, optimizer.beta_2, optimizer.global_clipnorm) == (0.1, 0.99, 1.0)
    for step in (0, 50, 100, 1050, 2000, 2500):
        optimizer.iterations.assign(step)  # the rate the update of that step uses
        assert float(optimizer.learning_rate) == pytest.approx(_nanogpt_lr(step), abs=1e-6)
    decayed = {weight.path for weight in model.trainable_weights if optimizer._use_weight_decay(weight)}
    for weight in model.trainable_weights:
        assert (weight.path in decayed) == (len(weight.shape) >= 2 and "bias" not in weight.name), weight.path


def test_trains_saves_reloads_and_fine_tunes(trained, tmp_path):
    model, tokenizer, batches, history = trained
    assert history.history["loss"][-1] < 0.2 * history.history["loss"][0]
    assert history.history["perplexity"][-1] < 1.5
    x = next(iter(batches))[0]
    loaded = reloaded(model, x, str(tmp_path / "gpt.keras"), atol=1e-5)
    def decayed(m):
        return {weight.path for weight in m.trainable_weights if m.optimizer._use_weight_decay(weight)}

    assert isinstance(loaded.optimizer, keras.optimizers.AdamW) and decayed(loaded) == decayed(model)  # kept on reload
    assert int(loaded.optimizer.iterations.numpy()) == int(model.optimizer.iterations.numpy())  # the schedule's step
    prompts = recipes.prompt_ids(tokenizer, PROMPTS)
    np.testing.assert_array_equal(
        recipes.greedy_search(loaded.decoder, prompts)[0].numpy(), recipes.greedy_search(model.decoder, prompts)[0].numpy()
    )
    assert_fine_tunes(loaded, batches.take(1), layer="embedding")


def test_padding_does_not_change_the_real_positions(trained):
    model = trained[0]
    ids = np.array([[2, 7, 5, 9]], "int32")
    padded = np.pad(ids, [[0, 0], [0, 5]])
    np.testing.assert_allclose(np.asarray(model(padded))[:, :4], np.asarray(model(ids)), atol=1e-5)
    y = np.array([[7, 5, 9, 3, 0, 0, 0, 0, 0]], "int32")
    noisy = np.where(y == 0, 6, y)  # targets at padded positions must not count
    assert model.evaluate(padded, y, verbose=0)[0] != pytest.approx(model.evaluate(padded, noisy, verbose=0)[0])
    assert model.evaluate(padded, y, verbose=0)[0] == pytest.approx(model.evaluate(ids, y[:, :4], verbose=0)[0], rel=1e-5)


def test_export_answers_serving_default_generate_and_score(trained, tmp_path):
    model, tokenizer, _, _ = trained
    path = recipes.export(model, str(tmp_path / "gpt"))
    signatures = tf.saved_model.load(path).signatures
    inputs = tf.constant(PROMPTS + ["hello world " * 20])  # the long one is cut to its last prompt_length ids
    outputs = [s.decode() for s in signatures["serving_default"](inputs=inputs)["outputs"].numpy()]
    python = recipes.greedy_search(model.decoder, model.decoder.inputs_from_raw(inputs))[0]
    assert outputs == [s.decode() for s in model.decoder.detokenize(python).numpy()]
    assert outputs[:2] == ["lo world", "bye moon"]
    settings = {k: tf.constant(v) for k, v in generate_settings(8, beam_width=3, num_results=2).items()}
    generated = signatures["generate"](inputs=inputs[:2], **settings)
    assert generated["outputs"].shape == (2, 2) and [s.decode() for s in generated["outputs"].numpy()[:, 0]] == [
        "lo world", "bye moon"
    ]
    scored = signatures["score"](inputs=tf.constant(TEXT))
    np.testing.assert_allclose(scored["log_prob"].numpy(), recipes.score(model, TEXT)["log_prob"], rtol=1e-5, atol=1e-5)


@functools.cache
def _tiny():
    return dict(TINY, text_vocabulary_size=9)


def _build(**arguments):
    return lambda: transformer_language_model(**dict(_tiny(), **arguments))


CASES = [
    raises("hidden_dim-not-a-multiple-of-num_heads", _build(hidden_dim=6, num_heads=4), ValueError, "hidden_dim"),
    raises("num_layers=0", _build(num_layers=0), ValueError, "num_layers"),
    raises("intermediate_dim=0", _build(intermediate_dim=0), ValueError, "intermediate_dim"),
    raises("max_length=0", _build(max_length=0), ValueError, "max_length"),
    raises("max_length=10**9", _build(max_length=10**9), ValueError, "max_length"),
    raises("max_output_length=10**9", _build(max_output_length=10**9), ValueError, "max_output_length"),
    raises("warmup_steps=-1", _build(warmup_steps=-1), ValueError, "warmup_steps"),
    raises("warmup_steps=decay_steps", _build(warmup_steps=2000, decay_steps=2000), ValueError, "warmup_steps"),
    raises("decay_steps=0", _build(decay_steps=0), ValueError, "decay_steps"),
    raises("dropout=nan", _build(dropout=float("nan")), ValueError, "dropout"),
    raises("learning_rate=nan", _build(learning_rate=float("nan")), ValueError, "learning_rate"),
    raises("min_learning_rate-above-learning_rate", _build(min_learning_rate=1e-2), ValueError, "min_learning_rate"),
    raises("weight_decay=-0.1", _build(weight_decay=-0.1), ValueError, "weight_decay"),
    raises("beta_2=1.0", _build(beta_2=1.0), ValueError, "beta_2"),
    raises("clipnorm=nan", _build(clipnorm=float("nan")), ValueError, "clipnorm"),
    raises("tie_embeddings='no'", _build(tie_embeddings="no"), ValueError, "tie_embeddings"),
    raises("vocabulary=4", _build(text_vocabulary_size=4), ValueError, "text_vocabulary_size"),
]


@pytest.mark.parametrize("case", params(CASES))
def test_bad_arguments_name_the_argument(case):
    expect_clear(case)


def test_the_command_line_s_text_batches_fit_the_context_in_few_shapes():
    from seqrecipes.recipes.cli.trainers import PAD_MULTIPLE, TRAINERS

    lines = ["abc" * 30, "hello world", "x", "ab" * 9]  # 90, 11, 1 and 18 characters; the context is 20
    trainer = TRAINERS["text"]
    model = trainer.build(recipes.get_recipe("transformer_language_model"), lines,
                          dict(num_layers=1, num_heads=2, hidden_dim=8, max_length=20))  # fmt: skip
    shapes = set()
    for x, y in trainer.batches(model, lines, 1):
        assert x.shape == y.shape and x.shape[1] <= 20 and (x.shape[1] % PAD_MULTIPLE == 0 or x.shape[1] == 20)
        assert int(x[0, 0]) == START_ID and int(np.sum(y.numpy() == END_ID)) == 1  # [START] w -> w [END], cut to fit
        shapes.add(x.shape[1])
    assert shapes == {16, 20}  # 1, 11 and 18 ids + 1 pad to 16 or the context; 90 are cut to 19 + 1
    assert np.isfinite(model.fit(trainer.batches(model, lines, 2), epochs=1, verbose=0).history["loss"][0])
