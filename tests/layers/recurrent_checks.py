"""Checks that several recurrent test modules run: golden values, outputs and gradients of a layer,
Keras weight transfer."""

import keras
import numpy as np
import tensorflow as tf
from recurrent_references import GOLDEN_INPUT, B, D, H, T, randomize

from seqrecipes import layers


def outputs_and_gradients(layer, x, initial_state, mask, training=False):
    """The layer's outputs and d loss / d (x, initial states, weights) for a loss on every output."""
    x = tf.constant(x)
    initial_state = [tf.constant(s) for s in initial_state]
    with tf.GradientTape() as tape:
        tape.watch([x] + initial_state)
        outputs = layer(x, initial_state=initial_state or None, mask=mask, training=training)
        outputs = outputs if isinstance(outputs, (list, tuple)) else [outputs]
        weights = [np.random.default_rng(i).normal(size=o.shape).astype("float32") for i, o in enumerate(outputs)]
        loss = sum(tf.reduce_sum(o * w) for o, w in zip(outputs, weights))
    grads = tape.gradient(loss, [x] + initial_state + layer.trainable_weights)
    assert all(g is not None for g in grads)
    return [np.asarray(o) for o in outputs] + [np.asarray(g) for g in grads]


def check_keras_weight_transfer(ours, theirs, kwargs):
    """``ours`` and the Keras layer ``theirs`` give the same outputs and states with each other's
    weights, both ways, with and without a mask; their cells do too, one step."""
    rng = np.random.default_rng(3)
    x = rng.normal(size=(B, T, D)).astype("float32")
    mask = np.arange(T)[None, :] < np.array([T, 3, 5])[:, None]
    k = theirs(H, return_sequences=True, return_state=True, **kwargs)
    o = ours(H, return_sequences=True, return_state=True, **kwargs)
    k(x), o(x)
    randomize(k, rng)
    o.set_weights(k.get_weights())
    for a, b in zip(k(x, mask=mask), o(x, mask=mask)):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), atol=1e-5)
    randomize(o, rng)
    k.set_weights(o.get_weights())
    for a, b in zip(k(x), o(x)):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), atol=1e-5)
    # The cells alone transfer too.
    kc = getattr(keras.layers, type(o.cell).__name__)(H, **kwargs)
    kc.build((None, D))
    kc.set_weights(o.cell.get_weights())
    states = o.cell.get_initial_state(batch_size=B)
    np.testing.assert_allclose(np.asarray(kc(x[:, 0], states)[0]), np.asarray(o.cell(x[:, 0], states)[0]), atol=1e-5)


def check_golden_values(cell, expected, atol=1e-6):
    """The outputs (B, T, H) of ``layers.RNN(cell, return_sequences=True)`` on GOLDEN_INPUT equal
    ``expected``, through the cell's hand-written recurrence (where it has one) and through its
    ``step`` in the generic loop."""
    for hand_written in (True, False):
        rnn = layers.RNN(cell, return_sequences=True)
        rnn.hand_written_bptt = hand_written
        got = np.asarray(rnn(GOLDEN_INPUT))
        np.testing.assert_allclose(got, np.asarray(expected), atol=atol, err_msg=f"hand_written_bptt={hand_written}")
