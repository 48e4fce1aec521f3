"""Sampling: temperature, top-k and top-p (nucleus) filtering, reproducible under a seed."""

import numpy as np
import tensorflow as tf
from keras import ops

from seqrecipes.recipes.decoding._loop import NEG_INF, argmax, repeat_state, results, token_loop
from seqrecipes.recipes.decoding._settings import (
    MAX_NUM_RESULTS,
    float_setting,
    int_setting,
    is_number,
    max_length_setting,
    seed_setting,
)
from seqrecipes.recipes.decoding.controls import control_settings


def sample(
    decoder, inputs, *, max_length=None, temperature=1.0, top_k=0, top_p=1.0, seed=0, num_results=1, **controls
):
    """Temperature sampling in one graph, with optional top-k and top-p (nucleus) filtering.

    At step t, with logits z (V,) and temperature T, the next token is drawn from

        p(y) proportional to exp(z_y / T)   for y in the kept set, 0 elsewhere

    The kept set is the ``top_k`` most probable tokens (all of them when ``top_k`` is 0), then the
    smallest prefix of those, most probable first, whose probability (renormalised over the top k)
    reaches ``top_p``: token i of the sorted list is kept when the mass before it is below
    ``top_p``, so the most probable token is always kept. Ties with the last kept logit are kept
    too. ``temperature=0`` picks the most probable token (greedy).

    The draw is Gumbel-max with a stateless uniform seeded by (seed, t), so a seed gives the same
    samples every time, also as a scalar tensor inside an exported graph.

    Args:
        decoder: a ``Decoder``.
        inputs: the batch ``decoder.encode`` takes; it is encoded once and the state repeated
            ``num_results`` times along the batch axis.
        max_length: the most tokens per sample, in [1, ``decoder.max_length``]; defaults to it.
        temperature: T, a finite number >= 0.
        top_k: >= 0; 0 keeps every token.
        top_p: in (0, 1]; 1 keeps every token.
        seed: an integer; the same seed gives the same samples.
        num_results: N in [1, 10000] (``MAX_NUM_RESULTS``) samples per input.
        **controls: ``min_length``, ``no_repeat_ngram_size``, ``repetition_penalty``, ``banned``
            (``decoding.controls``; defaults: off), applied to the logits before the temperature.

    Returns:
        {"ids": (B, N, L) int32, "scores": (B, N) float32, "lengths": (B, N) int32}: the samples
        (end token included where produced, PAD after it; L = max_length), the sum of the
        log-probabilities of each sample's tokens under the model's unmodified distribution (end
        token included), and the number of ids before the end token. Settings given as scalar
        tensors are clamped into range as ``generate`` documents.

    Raises:
        ValueError: a Python setting out of range or not finite, naming it.
        TypeError: a setting that is neither a number nor a scalar tensor of one (``seed="a"``).

    Example:
    >>> import numpy as np
    >>> from seqrecipes import recipes
    >>> model = recipes.seq2seq(source_vocabulary_size=10, target_vocabulary_size=10, units=8, embedding_dim=4)
    >>> source = np.array([[4, 5, 6], [7, 8, 0]], "int32")
    >>> out = recipes.sample(model.decoder, source, temperature=0.8, top_p=0.9, seed=3, num_results=2)
    >>> tuple(out["ids"].shape), tuple(out["scores"].shape)
    ((2, 2, 32), (2, 2))
    >>> again = recipes.sample(model.decoder, source, temperature=0.8, top_p=0.9, seed=3, num_results=2)
    >>> bool(np.all(out["ids"] == again["ids"]))
    True

    References:
        - Fan, Lewis, Dauphin (2018), Hierarchical neural story generation (top-k),
          https://arxiv.org/abs/1805.04833
        - Holtzman et al. (2020), The curious case of neural text degeneration (top-p),
          https://arxiv.org/abs/1904.09751
    """
    settings = sampling_settings(decoder, max_length, temperature, top_k, top_p, seed, num_results)
    return sample_state(decoder, decoder.encode(inputs), **settings, controls=control_settings(decoder, **controls))


def sampling_settings(decoder, max_length, temperature, top_k, top_p, seed, num_results):
    max_length, buffer_length = max_length_setting(decoder, max_length)
    return {
        "max_length": max_length,
        "buffer_length": buffer_length,
        "temperature": float_setting("temperature", temperature, low=0.0),
        "top_k": int_setting("top_k", top_k, low=0),
        "top_p": float_setting("top_p", top_p, low=0.0, high=1.0, low_open=True),
        "seed": seed_setting(seed),
        "num_results": int_setting("num_results", num_results, low=1, high=MAX_NUM_RESULTS),
    }


def sample_state(
    decoder, state, *, max_length, buffer_length, temperature, top_k, top_p, seed, num_results, controls=None
):
    state = repeat_state(state, num_results)  # (B*N, ...): row b*N + n is sample n of input b
    choose = _sampler(temperature, top_k, top_p, seed)
    ids, scores = token_loop(decoder, state, max_length, buffer_length, choose, controls)
    return results(ids, scores, num_results, max_length, decoder.end_id)


def _sampler(temperature, top_k, top_p, seed):
    """choose(logits (R, V), t) -> tokens (R,): a draw from the filtered, temperature-scaled logits."""
    if is_number(temperature) and temperature == 0:
        return argmax
    filtering = not (is_number(top_k) and top_k == 0 and is_number(top_p) and top_p == 1)
    divisor = temperature if is_number(temperature) else ops.where(temperature > 0, temperature, 1.0)

    def choose(logits, t):
        scaled = logits / divisor  # (R, V): z / T
        if filtering:
            scaled = _filter_logits(scaled, top_k, top_p)
        # A TensorFlow stateless draw: keras.random takes no tensor seeds, and this loop runs in exported graphs.
        uniform = tf.random.stateless_uniform(
            tf.shape(scaled), seed=tf.stack([seed, tf.cast(t, tf.int64)]), minval=np.finfo("float32").tiny, maxval=1.0
        )
        sampled = argmax(scaled - ops.log(-ops.log(uniform)), t)  # Gumbel-max: argmax(z/T + g)
        return sampled if is_number(temperature) else ops.where(temperature > 0, sampled, argmax(logits, t))

    return choose


def _filter_logits(scaled, top_k, top_p):
    """scaled logits (R, V) -> the same with tokens outside the top-k / top-p set at -inf."""
    vocabulary = ops.shape(scaled)[-1]
    ordered, _ = ops.top_k(scaled, vocabulary)  # (R, V), descending
    position = ops.arange(vocabulary, dtype="int32")  # (V,)
    k = ops.where(top_k > 0, ops.minimum(top_k, vocabulary), vocabulary)
    in_top_k = position < k  # (V,)
    probabilities = ops.softmax(ops.where(in_top_k, ordered, NEG_INF), axis=-1)  # (R, V), renormalised over top k
    mass_before = ops.cumsum(probabilities, axis=-1) - probabilities  # (R, V)
    in_nucleus = ops.logical_or(ops.logical_or(mass_before < top_p, position == 0), top_p >= 1)
    kept = ops.sum(ops.cast(ops.logical_and(in_top_k, in_nucleus), "int32"), axis=-1)  # (R,), a prefix
    threshold = ops.take_along_axis(ordered, (kept - 1)[:, None], axis=1)  # (R, 1): the last kept logit
    return ops.where(scaled >= threshold, scaled, NEG_INF)

