"""TransformerDecoder against NumPy (with and without cross-attention, post-norm and pre-norm),
causality, cached decoding (eager, in one graph, exported), the cross-attention weights, padding,
argument and cache errors, and the harness."""

import keras
import numpy as np
import pytest
from attention_references import np_mha, weights_of
from layer_harness import run_layer_test
from transformer_references import M_PAD, PAD, RNG, M, X, np_decoder, np_layer_norm, np_sublayer

from seqrecipes import layers


def test_transformer_decoder_errors():
    with pytest.raises(ValueError, match="Received: intermediate_dim=-1"):
        layers.TransformerDecoder(intermediate_dim=-1, num_heads=2)
    with pytest.raises(ValueError, match=r"Received: shape=\(2, 8\)"):
        layers.TransformerDecoder(intermediate_dim=8, num_heads=2)(X[:, 0])
    decoder = layers.TransformerDecoder(intermediate_dim=8, num_heads=2)
    decoder(X)
    with pytest.raises(ValueError, match="Received: encoder_sequence="):
        decoder(X, M)


@pytest.fixture(
    params=[(False, False), (True, False), (False, True), (True, True)],
    ids=["post-norm", "pre-norm", "post-norm-cross-attention", "pre-norm-cross-attention"],
)
def decoder_and_memory(request):
    """(decoder, m, m_mask): a post- or pre-norm block, decoder-only (m = m_mask = None) or attending to M
    padded by M_PAD."""
    normalize_first, with_encoder = request.param
    decoder = layers.TransformerDecoder(intermediate_dim=12, num_heads=2, normalize_first=normalize_first)
    return (decoder, M, M_PAD) if with_encoder else (decoder, None, None)


def test_transformer_decoder_matches_numpy(decoder_and_memory):
    decoder, m, m_mask = decoder_and_memory
    out = decoder(X, m, encoder_padding_mask=m_mask)
    np.testing.assert_allclose(out, np_decoder(decoder, X.astype("float64"), m, m_mask), atol=1e-4)


@pytest.mark.parametrize("with_encoder", [False, True])
def test_transformer_decoder_is_causal(with_encoder):
    decoder = layers.TransformerDecoder(intermediate_dim=12, num_heads=2)
    args = (M,) if with_encoder else ()
    out = np.asarray(decoder(X, *args))
    for t in range(5):
        perturbed = X.copy()
        perturbed[:, t + 1 :] += RNG.normal(size=perturbed[:, t + 1 :].shape) * 3.0
        again = np.asarray(decoder(perturbed, *args))
        np.testing.assert_allclose(again[:, : t + 1], out[:, : t + 1], atol=1e-6)
        if t < 4:
            assert not np.allclose(again[:, t + 1 :], out[:, t + 1 :], atol=1e-3)


def test_transformer_decoder_cached_decoding_equals_full_pass(decoder_and_memory):
    decoder, m, m_mask = decoder_and_memory
    full = np.asarray(decoder(X, m, encoder_padding_mask=m_mask))
    self_cache = decoder.get_initial_cache(batch_size=2, max_length=5)
    cross_cache = decoder.get_initial_cache(batch_size=2, max_length=3)
    steps = []
    for i in range(5):
        x_i = X[:, i : i + 1]
        if m is not None:
            y, self_cache, cross_cache = decoder(
                x_i,
                m,
                encoder_padding_mask=m_mask,
                self_attention_cache=self_cache,
                self_attention_cache_update_index=i,
                cross_attention_cache=cross_cache,
                cross_attention_cache_update_index=0 if i == 0 else None,
            )
        else:
            y, self_cache = decoder(x_i, self_attention_cache=self_cache, self_attention_cache_update_index=i)
        steps.append(np.asarray(y))
    np.testing.assert_allclose(np.concatenate(steps, axis=1), full, atol=1e-5)


@pytest.mark.parametrize("normalize_first", [False, True])
def test_transformer_decoder_returns_the_cross_attention_weights(normalize_first):
    """A = softmax(Q K^T / sqrt(d_k)) of the cross-attention, as NumPy computes it, the same from cached steps."""
    decoder = layers.TransformerDecoder(intermediate_dim=12, num_heads=2, normalize_first=normalize_first)
    y, A = decoder(X, M, encoder_padding_mask=M_PAD, return_cross_attention_scores=True)
    np.testing.assert_allclose(y, decoder(X, M, encoder_padding_mask=M_PAD), atol=1e-6)
    x, T = X.astype("float64"), X.shape[1]
    causal = np.broadcast_to(np.tril(np.ones((T, T), bool)), (2, T, T))
    att = weights_of(decoder.self_attention)
    a = np_sublayer(x, weights_of(decoder.self_attention_layer_norm), lambda z: np_mha(att, z, z, causal)[0], normalize_first)
    q = np_layer_norm(weights_of(decoder.cross_attention_layer_norm), a) if normalize_first else a
    mask = np.broadcast_to(M_PAD[:, None, :], (2, T, 3))
    expected = np_mha(weights_of(decoder.cross_attention), q, M.astype("float64"), mask)[1]  # (B, N, T, S)
    np.testing.assert_allclose(A, expected, atol=1e-5)
    assert np.all(np.asarray(A)[0, :, :, 2] == 0.0)  # the padded source position gets no weight
    self_cache, cross_cache = decoder.get_initial_cache(2, T), decoder.get_initial_cache(2, 3)
    for i in range(T):
        y_i, A_i, self_cache, cross_cache = decoder(
            X[:, i : i + 1], M, encoder_padding_mask=M_PAD, self_attention_cache=self_cache,
            self_attention_cache_update_index=i, cross_attention_cache=cross_cache,
            cross_attention_cache_update_index=0 if i == 0 else None, return_cross_attention_scores=True,
        )  # fmt: skip
        np.testing.assert_allclose(A_i, np.asarray(A)[:, :, i : i + 1], atol=1e-5)
    with pytest.raises(ValueError, match="Received: return_cross_attention_scores=True, encoder_sequence=None"):
        layers.TransformerDecoder(intermediate_dim=12, num_heads=2)(X, return_cross_attention_scores=True)


def test_transformer_decoder_cached_generation_in_one_graph():
    """Greedy feedback generation inside keras.ops.while_loop equals recomputing the prefix each step."""
    decoder = layers.TransformerDecoder(intermediate_dim=12, num_heads=2, normalize_first=True)
    decoder(X)
    first = X[:, :1]
    steps = 5

    def body(i, cache, x_i, outputs):
        y, cache = decoder(x_i, self_attention_cache=cache, self_attention_cache_update_index=i)
        outputs = keras.ops.slice_update(outputs, (0, i, 0), y)
        return i + 1, cache, keras.ops.tanh(y), outputs

    _, _, _, cached = keras.ops.while_loop(
        lambda i, c, x, o: i < steps,
        body,
        (0, decoder.get_initial_cache(2, steps), keras.ops.convert_to_tensor(first), keras.ops.zeros((2, steps, 8))),
    )
    prefix = first
    for i in range(steps):
        y = np.asarray(decoder(prefix))[:, -1:]
        np.testing.assert_allclose(np.asarray(cached)[:, i : i + 1], y, atol=1e-5)
        prefix = np.concatenate([prefix, np.tanh(y)], axis=1)


def test_transformer_decoder_padding_and_cache_errors():
    decoder = layers.TransformerDecoder(intermediate_dim=12, num_heads=2)
    out = np.asarray(decoder(X, decoder_padding_mask=PAD))
    noisy = X + 5.0 * (~PAD)[:, :, None]
    np.testing.assert_allclose(np.asarray(decoder(noisy, decoder_padding_mask=PAD))[PAD], out[PAD], atol=1e-5)
    with pytest.raises(ValueError, match="Received: self_attention_cache_update_index=None"):
        decoder(X[:, :1], self_attention_cache=decoder.get_initial_cache(2, 5))
    with pytest.raises(ValueError, match="Received: built=False"):
        layers.TransformerDecoder(intermediate_dim=12, num_heads=2).get_initial_cache(2, 5)


@pytest.mark.parametrize("normalize_first", [False, True])
def test_transformer_decoder_harness(normalize_first):
    run_layer_test(
        layers.TransformerDecoder,
        {"intermediate_dim": 12, "num_heads": 2, "normalize_first": normalize_first},
        X,
        expected_output_shape=(2, 5, 8),
        expected_num_trainable_weights=16,  # self-attention 8, LN_1 2, W_1 b_1 W_2 b_2, LN_3 2
    )


def test_transformer_decoder_harness_with_encoder():
    run_layer_test(
        layers.TransformerDecoder,
        {"intermediate_dim": 12, "num_heads": 2, "dropout": 0.1},
        {"decoder_sequence": X, "encoder_sequence": M},
        positional=("decoder_sequence", "encoder_sequence"),
        input_mask=M_PAD,
        masked_input="encoder_sequence",
        mask_arg="encoder_padding_mask",
        expected_output_shape=(2, 5, 8),
        expected_num_trainable_weights=26,  # and cross-attention 8, LN_2 2
    )


def test_cached_generation_exports_as_saved_model(tmp_path):
    """The cache API is functional: a whole decoding loop exports and reloads with TensorFlow alone."""
    import tensorflow as tf

    decoder = layers.TransformerDecoder(intermediate_dim=12, num_heads=2)
    decoder(X, M)
    steps = 4

    def generate(first, memory):
        def body(i, self_cache, cross_cache, x_i, outputs):
            y, self_cache, cross_cache = decoder(
                x_i,
                memory,
                self_attention_cache=self_cache,
                self_attention_cache_update_index=i,
                cross_attention_cache=cross_cache,
                cross_attention_cache_update_index=None,
            )
            return i + 1, self_cache, cross_cache, keras.ops.tanh(y), keras.ops.slice_update(outputs, (0, i, 0), y)

        batch = keras.ops.shape(first)[0]
        _, cross_cache = decoder.cross_attention(
            first, memory, cache=decoder.get_initial_cache(batch, 3), cache_update_index=0
        )
        loop = (0, decoder.get_initial_cache(batch, steps), cross_cache, first, keras.ops.zeros((batch, steps, 8)))
        return keras.ops.while_loop(lambda i, *rest: i < steps, body, loop)[-1]

    expected = np.asarray(generate(keras.ops.convert_to_tensor(X[:, :1]), keras.ops.convert_to_tensor(M)))
    archive = keras.export.ExportArchive()
    archive.track(decoder)
    archive.add_endpoint(
        "generate",
        tf.function(generate),
        input_signature=[tf.TensorSpec((None, 1, 8), "float32"), tf.TensorSpec((None, 3, 6), "float32")],
    )
    archive.write_out(str(tmp_path / "decoder"), verbose=False)
    reloaded = tf.saved_model.load(str(tmp_path / "decoder"))
    np.testing.assert_allclose(reloaded.generate(X[:, :1], M).numpy(), expected, atol=1e-5)
