"""Beam search with the GNMT length and coverage penalties: the n-best with their scores."""

import keras
from keras import ops

from seqrecipes.recipes.decoding._loop import NEG_INF, repeat_state, result_dict, write_column
from seqrecipes.recipes.decoding._settings import MAX_BEAM_WIDTH, float_setting, int_setting, is_number, max_length_setting
from seqrecipes.recipes.decoding.controls import apply_controls, control_settings

# Coverage sums below this count as this in the coverage penalty (log 0 would kill a hypothesis).
COVERAGE_FLOOR = 1e-20


def beam_search(
    decoder,
    inputs,
    *,
    beam_width=4,
    num_results=1,
    max_length=None,
    length_penalty=0.6,
    coverage_penalty=0.0,
    **controls,
):
    """Beam search over log-probabilities with the GNMT length and coverage penalties, in one graph.

    Hypotheses Y = y_1 .. y_n for a source X are ranked by (Wu et al. 2016, eq. 14)

        s(Y, X)  = log P(Y | X) / lp(Y) + cp(X; Y)
        lp(Y)    = (5 + |Y|)^alpha / (5 + 1)^alpha                  alpha = length_penalty
        cp(X; Y) = beta * sum_i log(min(sum_j p_ij, 1))             beta = coverage_penalty

    where |Y| counts the emitted tokens, the end token included (a hypothesis cut at max_length
    has |Y| = max_length), p_ij is the attention weight on source position i when y_j was
    produced (``decoder.alignments``), and i runs over the real (unpadded) source positions; sums
    below 1e-20 count as 1e-20.

    Each input is encoded once and the state repeated ``beam_width`` times (K beams per input,
    rows b*K .. b*K + K-1). At step t every alive beam is extended by every token and scored with
    s; the end-token candidates among the step's K best become finished hypotheses with their
    final score (the K best finished are kept), the K best continuations by other tokens stay
    alive, and the state (recurrent states, key/value caches, coverage) is reordered with
    ``ops.take`` along axis 0.
    Alive beams still at max_length join the finished ones with their score. The loop stops early
    once, for every input, the num_results-th best finished score is at least
    max(alive log P) / lp(max_length), a bound no continuation can beat (log P only falls and cp
    <= 0), so stopping early does not change the result.

    With beam_width=1, length_penalty=0 and coverage_penalty=0 the result is the greedy one (an
    end token finishes a hypothesis only when it ranks among the step's K best); with a length
    penalty, width 1 can go on past greedy's end and return a longer hypothesis that scores higher.

    Args:
        decoder: a ``Decoder``; a coverage penalty needs one whose ``alignments(state)`` is not None.
        inputs: the batch ``decoder.encode`` takes (B inputs).
        beam_width: K in [1, 1024] (``MAX_BEAM_WIDTH``).
        num_results: N in [1, K], the hypotheses returned per input, best first.
        max_length: the most tokens per hypothesis, in [1, ``decoder.max_length``]; defaults to it.
        length_penalty: alpha, a finite number >= 0; 0 ranks by log P alone.
        coverage_penalty: beta, a finite number >= 0; 0 is off.
        **controls: ``min_length``, ``no_repeat_ngram_size``, ``repetition_penalty``, ``banned``
            (``decoding.controls``; defaults: off); log P is then that of the controlled logits.

    Returns:
        {"ids": (B, N, L) int32, "scores": (B, N) float32, "lengths": (B, N) int32}: the n-best
        (end token included where produced, PAD after it; L = max_length), their scores s(Y, X),
        and the number of ids before the end token. A score of -inf marks a missing hypothesis
        (only when fewer than N sequences are possible). Settings given as scalar tensors are
        clamped as ``generate`` documents.

    Raises:
        ValueError: a Python setting out of range or not finite (naming it), or a coverage penalty
            for a decoder without alignments.
        TypeError: a setting that is neither a number nor a scalar tensor of one.

    Example:
    >>> import numpy as np
    >>> from seqrecipes import recipes
    >>> model = recipes.seq2seq_attention(source_vocabulary_size=10, target_vocabulary_size=10, units=8,
    ...                                   embedding_dim=4, max_target_length=8)
    >>> source = np.array([[4, 5, 6], [7, 8, 0]], "int32")
    >>> out = recipes.beam_search(model.decoder, source, beam_width=4, num_results=2, coverage_penalty=0.2)
    >>> tuple(out["ids"].shape), bool(np.all(out["scores"][:, 0] >= out["scores"][:, 1]))
    ((2, 2, 8), True)

    References:
        - Wu et al. (2016), Google's neural machine translation system, eq. 14,
          https://arxiv.org/abs/1609.08144
    """
    settings = beam_settings(decoder, beam_width, num_results, max_length, length_penalty, coverage_penalty)
    controls = control_settings(decoder, **controls)
    return beam_search_state(decoder, decoder.encode(inputs), **settings, controls=controls)


def beam_settings(decoder, beam_width, num_results, max_length, length_penalty, coverage_penalty):
    beam_width = int_setting("beam_width", beam_width, low=1, high=MAX_BEAM_WIDTH)
    if is_number(beam_width):
        num_results = int_setting("num_results", num_results, low=1, high=beam_width, high_name="beam_width")
    else:
        num_results = ops.minimum(int_setting("num_results", num_results, low=1), beam_width)
    max_length, buffer_length = max_length_setting(decoder, max_length)
    return {
        "beam_width": beam_width,
        "num_results": num_results,
        "max_length": max_length,
        "buffer_length": buffer_length,
        "length_penalty": float_setting("length_penalty", length_penalty, low=0.0),
        "coverage_penalty": float_setting("coverage_penalty", coverage_penalty, low=0.0),
    }


def _length_penalty(length, alpha):
    """lp = ((5 + length) / 6)^alpha, for a length given as an integer tensor or number."""
    if is_number(alpha) and alpha == 0:
        return 1.0
    return ops.power((5.0 + ops.cast(length, "float32")) / 6.0, alpha)


def beam_search_state(
    decoder, state, *, beam_width, num_results, max_length, buffer_length, length_penalty, coverage_penalty, controls=None
):
    K, N, end_id = beam_width, num_results, decoder.end_id
    alignments = decoder.alignments(state)
    if alignments is None and is_number(coverage_penalty) and coverage_penalty > 0:
        raise ValueError(
            "`coverage_penalty` needs a decoder with attention alignments; "
            f"{type(decoder).__name__}.alignments(state) returned None. Received: coverage_penalty={coverage_penalty!r}"
        )
    use_coverage = alignments is not None and not (is_number(coverage_penalty) and coverage_penalty == 0)
    batch = ops.shape(keras.tree.flatten(state)[0])[0]
    state = repeat_state(state, K)  # (B*K, ...)
    offsets = ops.arange(batch, dtype="int32")[:, None] * K  # (B, 1): row of beam 0 of each input
    beam = ops.arange(K, dtype="int32")  # (K,)
    longest = _length_penalty(max_length, length_penalty)

    carry = {
        "t": ops.convert_to_tensor(0, "int32"),
        "token": ops.full((batch * K,), decoder.start_id, "int32"),
        # Only beam 0 is alive at first: the K copies of the state are the same hypothesis.
        "alive_log_p": ops.broadcast_to(ops.where(beam == 0, 0.0, NEG_INF)[None, :], (batch, K)),  # (B, K)
        "alive_ids": ops.zeros((batch, K, buffer_length), "int32"),
        "finished_ids": ops.zeros((batch, K, buffer_length), "int32"),
        "finished_scores": ops.full((batch, K), NEG_INF, "float32"),
        "state": state,
    }
    if use_coverage:
        alpha, mask = decoder.alignments(state)  # (B*K, S) each
        mask = ops.cast(mask, "bool")
        carry["coverage"] = ops.zeros_like(ops.cast(alpha, "float32"))  # (B*K, S): sum_j p_ij

        def coverage_term(coverage):  # (B*K, S) -> cp (B, K)
            logs = ops.where(mask, ops.log(ops.clip(coverage, COVERAGE_FLOOR, 1.0)), 0.0)
            return coverage_penalty * ops.reshape(ops.sum(logs, axis=-1), (batch, K))

    def cond(c):
        bound = ops.max(c["alive_log_p"], axis=1) / longest  # (B,): the best any alive beam can reach
        nth = ops.take(c["finished_scores"], N - 1, axis=1)  # (B,)
        return ops.logical_and(c["t"] < max_length, ops.logical_not(ops.all(nth >= bound)))

    def body(c):
        t = c["t"]
        logits, state = decoder.step(c["token"], c["state"], t)
        logits = ops.cast(logits, "float32")
        if controls is not None:
            logits = apply_controls(logits, ops.reshape(c["alive_ids"], (batch * K, -1)), t, controls, end_id)
        log_p = ops.log_softmax(logits, axis=-1)  # (B*K, V)
        vocabulary = ops.shape(log_p)[-1]
        total = c["alive_log_p"][:, :, None] + ops.reshape(log_p, (batch, K, vocabulary))  # (B, K, V): log P(y_1..t)
        scores = total / _length_penalty(t + 1, length_penalty)  # (B, K, V)
        out = {"t": t + 1}
        if use_coverage:
            alpha, _ = decoder.alignments(state)  # (B*K, S): the step just taken
            coverage = c["coverage"] + ops.cast(alpha, "float32")
            scores = scores + coverage_term(coverage)[:, :, None]

        # End-token candidates among the step's K best become finished hypotheses; keep the K best so far.
        best, flat = ops.top_k(ops.reshape(scores, (batch, K * vocabulary)), K)  # (B, K)
        ended = ops.equal(flat % vocabulary, end_id)  # (B, K)
        ended_ids = ops.take_along_axis(c["alive_ids"], (flat // vocabulary)[:, :, None], axis=1)
        ended_ids = write_column(ended_ids, t, ops.full((batch, K), end_id, "int32"))  # (B, K, L)
        out["finished_scores"], out["finished_ids"] = _best(
            [c["finished_scores"], ops.where(ended, best, NEG_INF)], [c["finished_ids"], ended_ids], K
        )

        # The K best continuations by any other token stay alive.
        other = ops.not_equal(ops.arange(vocabulary, dtype="int32"), end_id)  # (V,)
        candidates = ops.reshape(ops.where(other, scores, NEG_INF), (batch, K * vocabulary))  # (B, K*V)
        _, flat = ops.top_k(candidates, K)  # (B, K)
        parent, token = flat // vocabulary, flat % vocabulary  # (B, K) each
        # (An end-token pick, made only when fewer than K other candidates are finite, stays dead.)
        total = ops.reshape(ops.where(other, total, NEG_INF), (batch, K * vocabulary))
        out["alive_log_p"] = ops.take_along_axis(total, flat, axis=1)
        out["alive_ids"] = write_column(ops.take_along_axis(c["alive_ids"], parent[:, :, None], axis=1), t, token)
        rows = ops.reshape(parent + offsets, (-1,))  # (B*K,): the parent row of every new beam
        out["state"] = keras.tree.map_structure(lambda x: ops.take(x, rows, axis=0), state)
        out["token"] = ops.reshape(token, (-1,))
        if use_coverage:
            out["coverage"] = ops.take(coverage, rows, axis=0)
        return out

    c = ops.while_loop(cond, body, carry, maximum_iterations=buffer_length)
    # Beams alive at max_length are hypotheses too (|Y| = max_length); after an early stop they can't win.
    alive_scores = c["alive_log_p"] / longest
    if use_coverage:
        alive_scores = alive_scores + coverage_term(c["coverage"])
    alive_scores = ops.where(c["t"] >= max_length, alive_scores, NEG_INF)
    scores, ids = _best([c["finished_scores"], alive_scores], [c["finished_ids"], c["alive_ids"]], K)
    return result_dict(ids[:, :N], scores[:, :N], max_length, end_id)


def _best(scores, ids, k):
    """The k best of the hypotheses in the lists scores [(B, K_i)] and ids [(B, K_i, L)], best first."""
    scores, pick = ops.top_k(ops.concatenate(scores, axis=1), k)  # (B, k)
    return scores, ops.take_along_axis(ops.concatenate(ids, axis=1), pick[:, :, None], axis=1)

