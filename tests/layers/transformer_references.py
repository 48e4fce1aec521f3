"""NumPy references of the Transformer blocks and the data their tests share."""

import numpy as np
from attention_references import np_mha, weights_of

RNG = np.random.default_rng(1)
X = RNG.normal(size=(2, 5, 8)).astype("float32")  # (B, T, D)
M = RNG.normal(size=(2, 3, 6)).astype("float32")  # (B, S, D_m)
PAD = np.array([[1, 1, 1, 1, 1], [1, 1, 1, 0, 0]], bool)
M_PAD = np.array([[1, 1, 0], [1, 1, 1]], bool)  # (B, S): the last source position of example 0 is padding


def np_layer_norm(w, x, eps=1e-5):
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * w["gamma"] + w["beta"]


def np_ffn(block, z):
    w1, w2 = weights_of(block.feedforward_intermediate_dense), weights_of(block.feedforward_output_dense)
    return np.maximum(z @ w1["kernel"] + w1["bias"], 0.0) @ w2["kernel"] + w2["bias"]


def np_sublayer(x, ln, f, normalize_first):
    """post-norm: LN(x + f(x)); pre-norm: x + f(LN(x))."""
    if normalize_first:
        return x + f(np_layer_norm(ln, x))
    return np_layer_norm(ln, x + f(x))


def np_encoder(block, x, mask):
    pre = block.normalize_first
    att = weights_of(block.self_attention)
    key_mask = np.broadcast_to(mask[:, None, :], (x.shape[0], x.shape[1], x.shape[1]))
    a = np_sublayer(x, weights_of(block.self_attention_layer_norm), lambda z: np_mha(att, z, z, key_mask)[0], pre)
    return np_sublayer(a, weights_of(block.feedforward_layer_norm), lambda z: np_ffn(block, z), pre)


def np_decoder(block, x, m=None, m_mask=None):
    pre = block.normalize_first
    T = x.shape[1]
    causal = np.broadcast_to(np.tril(np.ones((T, T), bool)), (x.shape[0], T, T))
    att = weights_of(block.self_attention)
    a = np_sublayer(x, weights_of(block.self_attention_layer_norm), lambda z: np_mha(att, z, z, causal)[0], pre)
    if m is not None:
        m = np.asarray(m, "float64")
        cross = weights_of(block.cross_attention)
        mask = None if m_mask is None else np.broadcast_to(m_mask[:, None, :], (x.shape[0], T, m.shape[1]))
        a = np_sublayer(a, weights_of(block.cross_attention_layer_norm), lambda z: np_mha(cross, z, m, mask)[0], pre)
    return np_sublayer(a, weights_of(block.feedforward_layer_norm), lambda z: np_ffn(block, z), pre)
