"""Decoding inside one graph: the ``Decoder`` contract, and greedy search, sampling and beam search
as keras.ops.while_loop loops.

A generating recipe gives its model a ``Decoder`` (``RecipeModel.decoder``): ``encode`` turns a
batch of inputs into a decoding state once, ``step`` turns the previous token and the state into
next-token logits and the next state. The search functions here only call those two (and
``alignments`` for the coverage penalty), so the same loops serve RNN decoders (the state holds the
recurrent states and the encoder memory) and Transformer decoders (the state holds the key/value
caches), run inside ``tf.function`` and export in a SavedModel.

    greedy_search   the most probable next token at each step
    sample          temperature sampling with optional top-k and top-p (nucleus) filtering
    beam_search     beam search with the GNMT length and coverage penalties, n-best with scores
    generate        one entry point choosing among the three; its settings may be scalar tensors

Every search encodes once; sampling and beam search then repeat the encoded state along the batch
axis (``num_results`` samples or ``beam_width`` beams per input), so users never tile inputs by hand.
"""

import keras
import numpy as np
import tensorflow as tf
from keras import ops

from seqrecipes.data import END_ID, PAD_ID, START_ID

NEG_INF = float("-inf")
# Coverage sums below this count as this in the coverage penalty (log 0 would kill a hypothesis).
COVERAGE_FLOOR = 1e-20
INT64_RANGE = (-(2**63), 2**63 - 1)


# Ids no output contains after its first position: a decoder step never proposes them.
NEVER_GENERATED = (PAD_ID, START_ID)


def ban_never_generated(logits):
    """Step logits (B, V) with [PAD] and [START] pushed to -1e9.

    Targets never contain those ids (padding is ignored by the loss), but a little-trained model can
    still rank them first; a search that emitted [PAD] mid-sequence would then feed the decoder a
    token the teacher-forced model masks out, and cut the output there.
    """
    vocabulary = logits.shape[-1]
    banned = np.zeros((vocabulary,), "float32")
    banned[list(NEVER_GENERATED)] = -1e9
    return logits + ops.cast(banned, logits.dtype)


class Decoder:
    """What a search needs from a generating model.

    Subclasses implement ``encode`` and ``step``; the state is any nest of tensors whose first axis
    is the batch, with shapes that do not change from step to step (so beam search can tile and
    reorder it and ``while_loop`` can carry it). Every recipe's ``step`` passes its logits through
    ``ban_never_generated``, so no search emits [PAD] or [START].

    Args:
        model: the ``RecipeModel``.
        max_length: the longest output the model may produce (its position limit, or the
            recipe's ``max_output_length``).
        start_id, end_id: the ids that start and end an output sequence.
    """

    def __init__(self, model, max_length, start_id=START_ID, end_id=END_ID):
        self.model = model
        self.max_length = int(max_length)
        self.start_id = int(start_id)
        self.end_id = int(end_id)

    def encode(self, inputs):
        """inputs (a batch, as the model's encoder takes it) -> the initial decoding state."""
        raise NotImplementedError

    def step(self, token_ids, state, index):
        """token_ids (B,) int32, the state, index (scalar int32, 0-based output position) ->
        (logits (B, V), next state)."""
        raise NotImplementedError

    def alignments(self, state):
        """The attention weights of the step that made ``state``, for the coverage penalty:
        (alpha (B, S), mask (B, S) bool, True at real source positions), or None for a decoder
        without attention (the default)."""
        return None

    # The role of the tokenizer that turns output ids back into text.
    output_role = "target"

    def inputs_from_raw(self, raw):
        """The export's raw input (strings (B,), or images for a captioner) -> the batch ``encode``
        takes, cut to the model's limits by the recipe's documented rule. Core TensorFlow ops only:
        it runs inside the exported graph."""
        raise NotImplementedError

    def detokenize(self, ids):
        """Output ids (..., L) -> strings (...), cut at the end token, with the output tokenizer:
        (B, L) -> (B,), and the n-best ids (B, N, L) of ``generate`` -> (B, N)."""
        ids = tf.convert_to_tensor(ids)
        shape = tf.shape(ids)
        text = self.model.tokenizer(self.output_role).detokenize(tf.reshape(ids, [-1, shape[-1]]))
        return tf.reshape(text, shape[:-1])


def check_max_length(max_length, limit):
    """``max_length`` if it is a positive integer not over ``limit``; a ValueError otherwise."""
    if max_length is None:
        return limit
    if isinstance(max_length, bool) or not isinstance(max_length, int) or not 1 <= max_length <= limit:
        raise ValueError(
            f"`max_length` must be an integer in [1, {limit}] (the model's limit). Received: max_length={max_length!r}"
        )
    return max_length


def greedy_search(decoder, inputs, max_length=None):
    """Greedy decoding in one graph: at each step the most probable next token.

    The loop stops when every sequence has produced ``decoder.end_id`` or after ``max_length``
    steps; positions after a sequence's end token hold ``PAD_ID`` (0).

    Args:
        decoder: a ``Decoder``.
        inputs: the batch ``decoder.encode`` takes.
        max_length: at most ``decoder.max_length``; defaults to it.

    Returns:
        (ids, lengths): ids (B, max_length) int32, the end token included where produced; lengths
        (B,) int32, the number of ids before the end token.

    Example:
    >>> import numpy as np
    >>> from seqrecipes import recipes
    >>> model = recipes.seq2seq(source_vocabulary_size=10, target_vocabulary_size=10, units=8, embedding_dim=4)
    >>> ids, lengths = recipes.greedy_search(model.decoder, np.array([[4, 5, 6], [7, 8, 0]], "int32"))
    >>> tuple(ids.shape), tuple(lengths.shape)
    ((2, 32), (2,))
    """
    max_length = check_max_length(max_length, decoder.max_length)
    ids, _ = _token_loop(decoder, decoder.encode(inputs), max_length, max_length, _argmax)
    return ids, sequence_lengths(ids, decoder.end_id)


def sequence_lengths(ids, end_id=END_ID):
    """The number of ids before the first ``end_id`` or padding in each row of ids (B, L)."""
    stop = ops.logical_or(ops.equal(ids, end_id), ops.equal(ids, PAD_ID))
    # Cumulative "stopped yet" flags; the count of not-yet-stopped positions is the length.
    stopped = ops.cumsum(ops.cast(stop, "int32"), axis=1) > 0
    return ops.sum(ops.cast(ops.logical_not(stopped), "int32"), axis=1)


def generation_serving(model):
    """The serving function of every generating recipe: raw inputs (B,) -> {"outputs": strings (B,)}.

    ``decoder.inputs_from_raw`` makes the decoder's inputs, greedy search decodes them in the
    graph, ``decoder.detokenize`` writes the text.
    """
    decoder = model.decoder
    model.tokenizer(decoder.output_role)  # a clear error now if the output tokenizer is missing

    def serve(raw):
        ids, _ = greedy_search(decoder, decoder.inputs_from_raw(raw))
        return {"outputs": decoder.detokenize(ids)}

    return serve


# ------------------------------------------------------------------------------------------------
# Sampling.


def sample(decoder, inputs, *, max_length=None, temperature=1.0, top_k=0, top_p=1.0, seed=0, num_results=1):
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
        temperature: T >= 0.
        top_k: >= 0; 0 keeps every token.
        top_p: in (0, 1]; 1 keeps every token.
        seed: an integer; the same seed gives the same samples.
        num_results: N >= 1 samples per input.

    Returns:
        {"ids": (B, N, L) int32, "scores": (B, N) float32, "lengths": (B, N) int32}: the samples
        (end token included where produced, PAD after it; L = max_length), the sum of the
        log-probabilities of each sample's tokens under the model's unmodified distribution (end
        token included), and the number of ids before the end token. Settings given as scalar
        tensors are clamped into range as ``generate`` documents.

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
    settings = _sampling_settings(decoder, max_length, temperature, top_k, top_p, seed, num_results)
    return _sample_state(decoder, decoder.encode(inputs), **settings)


def _sampling_settings(decoder, max_length, temperature, top_k, top_p, seed, num_results):
    max_length, buffer_length = _max_length(decoder, max_length)
    return {
        "max_length": max_length,
        "buffer_length": buffer_length,
        "temperature": _float_setting("temperature", temperature, low=0.0),
        "top_k": _int_setting("top_k", top_k, low=0),
        "top_p": _float_setting("top_p", top_p, low=0.0, high=1.0, low_open=True),
        "seed": _seed(seed),
        "num_results": _int_setting("num_results", num_results, low=1),
    }


def _sample_state(decoder, state, *, max_length, buffer_length, temperature, top_k, top_p, seed, num_results):
    state = _repeat(state, num_results)  # (B*N, ...): row b*N + n is sample n of input b
    choose = _sampler(temperature, top_k, top_p, seed)
    ids, scores = _token_loop(decoder, state, max_length, buffer_length, choose)
    return _results(ids, scores, num_results, max_length, decoder.end_id)


def _sampler(temperature, top_k, top_p, seed):
    """choose(logits (R, V), t) -> tokens (R,): a draw from the filtered, temperature-scaled logits."""
    if _is_number(temperature) and temperature == 0:
        return _argmax
    filtering = not (_is_number(top_k) and top_k == 0 and _is_number(top_p) and top_p == 1)
    divisor = temperature if _is_number(temperature) else ops.where(temperature > 0, temperature, 1.0)

    def choose(logits, t):
        scaled = logits / divisor  # (R, V): z / T
        if filtering:
            scaled = _filter_logits(scaled, top_k, top_p)
        # A TensorFlow stateless draw: keras.random takes no tensor seeds, and this loop runs in exported graphs.
        uniform = tf.random.stateless_uniform(
            tf.shape(scaled), seed=tf.stack([seed, tf.cast(t, tf.int64)]), minval=np.finfo("float32").tiny, maxval=1.0
        )
        sampled = _argmax(scaled - ops.log(-ops.log(uniform)), t)  # Gumbel-max: argmax(z/T + g)
        return sampled if _is_number(temperature) else ops.where(temperature > 0, sampled, _argmax(logits, t))

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


# ------------------------------------------------------------------------------------------------
# The loop shared by greedy search and sampling.


def _argmax(logits, t=None):
    return ops.cast(ops.argmax(logits, axis=-1), "int32")


def _token_loop(decoder, state, max_length, buffer_length, choose):
    """One token per row and step until every row has ended or after max_length steps.

    Returns ids (R, buffer_length) int32 (PAD after each row's end token and after max_length)
    and scores (R,) float32, the sum of log softmax(logits) at the chosen tokens, end included.
    """
    rows = ops.shape(keras.tree.flatten(state)[0])[0]
    ids = ops.zeros((rows, buffer_length), "int32")
    scores = ops.zeros((rows,), "float32")
    token = ops.full((rows,), decoder.start_id, "int32")
    finished = ops.zeros((rows,), "bool")

    def cond(t, token, finished, ids, scores, state):
        return ops.logical_and(t < max_length, ops.logical_not(ops.all(finished)))

    def body(t, token, finished, ids, scores, state):
        logits, state = decoder.step(token, state, t)
        logits = ops.cast(logits, "float32")  # (R, V)
        next_token = ops.where(finished, ops.full_like(token, PAD_ID), choose(logits, t))
        log_probabilities = ops.log_softmax(logits, axis=-1)  # (R, V)
        picked = ops.take_along_axis(log_probabilities, next_token[:, None], axis=1)[:, 0]  # (R,)
        scores = scores + ops.where(finished, 0.0, picked)
        ids = _write(ids, t, next_token)
        finished = ops.logical_or(finished, ops.equal(next_token, decoder.end_id))
        return t + 1, next_token, finished, ids, scores, state

    t0 = ops.convert_to_tensor(0, "int32")
    loop_vars = (t0, token, finished, ids, scores, state)
    _, _, _, ids, scores, _ = ops.while_loop(cond, body, loop_vars, maximum_iterations=buffer_length)
    return ids, scores


def _write(ids, t, token):
    """ids (..., L) with column t (still 0) set to token (...)."""
    at_t = ops.cast(ops.equal(ops.arange(ops.shape(ids)[-1], dtype="int32"), t), "int32")  # (L,)
    return ids + at_t * token[..., None]


def _repeat(state, times):
    """Every tensor of the state repeated ``times`` along axis 0: row b -> rows b*times .. b*times + times-1."""
    if _is_number(times) and times == 1:
        return state
    return keras.tree.map_structure(lambda x: ops.repeat(x, times, axis=0), state)


def _results(ids, scores, per_input, max_length, end_id):
    """ids (B*N, L'), scores (B*N,) -> the result dict with ids (B, N, max_length)."""
    ids = ops.reshape(ids, (-1, per_input, ops.shape(ids)[-1]))  # (B, N, L')
    return _result_dict(ids, ops.reshape(scores, (-1, per_input)), max_length, end_id)


def _result_dict(ids, scores, max_length, end_id):
    if not _is_number(max_length):
        ids = ids[:, :, :max_length]  # the buffer has decoder.max_length columns
    shape = ops.shape(ids)
    lengths = sequence_lengths(ops.reshape(ids, (-1, shape[2])), end_id)
    return {
        "ids": ids,
        "scores": ops.cast(scores, "float32"),
        "lengths": ops.reshape(lengths, (shape[0], shape[1])),
    }


# ------------------------------------------------------------------------------------------------
# Beam search.


def beam_search(
    decoder, inputs, *, beam_width=4, num_results=1, max_length=None, length_penalty=0.6, coverage_penalty=0.0
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
        beam_width: K >= 1.
        num_results: N in [1, K], the hypotheses returned per input, best first.
        max_length: the most tokens per hypothesis, in [1, ``decoder.max_length``]; defaults to it.
        length_penalty: alpha >= 0; 0 ranks by log P alone.
        coverage_penalty: beta >= 0; 0 is off.

    Returns:
        {"ids": (B, N, L) int32, "scores": (B, N) float32, "lengths": (B, N) int32}: the n-best
        (end token included where produced, PAD after it; L = max_length), their scores s(Y, X),
        and the number of ids before the end token. A score of -inf marks a missing hypothesis
        (only when fewer than N sequences are possible).

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
    settings = _beam_settings(decoder, beam_width, num_results, max_length, length_penalty, coverage_penalty)
    return _beam_search_state(decoder, decoder.encode(inputs), **settings)


def _beam_settings(decoder, beam_width, num_results, max_length, length_penalty, coverage_penalty):
    beam_width = _int_setting("beam_width", beam_width, low=1)
    if _is_number(beam_width):
        num_results = _int_setting("num_results", num_results, low=1, high=beam_width, high_name="beam_width")
    else:
        num_results = ops.minimum(_int_setting("num_results", num_results, low=1), beam_width)
    max_length, buffer_length = _max_length(decoder, max_length)
    return {
        "beam_width": beam_width,
        "num_results": num_results,
        "max_length": max_length,
        "buffer_length": buffer_length,
        "length_penalty": _float_setting("length_penalty", length_penalty, low=0.0),
        "coverage_penalty": _float_setting("coverage_penalty", coverage_penalty, low=0.0),
    }


def _length_penalty(length, alpha):
    """lp = ((5 + length) / 6)^alpha, for a length given as an integer tensor or number."""
    if _is_number(alpha) and alpha == 0:
        return 1.0
    return ops.power((5.0 + ops.cast(length, "float32")) / 6.0, alpha)


def _beam_search_state(
    decoder, state, *, beam_width, num_results, max_length, buffer_length, length_penalty, coverage_penalty
):
    K, N, end_id = beam_width, num_results, decoder.end_id
    alignments = decoder.alignments(state)
    if alignments is None and _is_number(coverage_penalty) and coverage_penalty > 0:
        raise ValueError(
            "`coverage_penalty` needs a decoder with attention alignments; "
            f"{type(decoder).__name__}.alignments(state) returned None. Received: coverage_penalty={coverage_penalty!r}"
        )
    use_coverage = alignments is not None and not (_is_number(coverage_penalty) and coverage_penalty == 0)
    batch = ops.shape(keras.tree.flatten(state)[0])[0]
    state = _repeat(state, K)  # (B*K, ...)
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
        log_p = ops.log_softmax(ops.cast(logits, "float32"), axis=-1)  # (B*K, V)
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
        ended_ids = _write(ended_ids, t, ops.full((batch, K), end_id, "int32"))  # (B, K, L)
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
        out["alive_ids"] = _write(ops.take_along_axis(c["alive_ids"], parent[:, :, None], axis=1), t, token)
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
    return _result_dict(ids[:, :N], scores[:, :N], max_length, end_id)


def _best(scores, ids, k):
    """The k best of the hypotheses in the lists scores [(B, K_i)] and ids [(B, K_i, L)], best first."""
    scores, pick = ops.top_k(ops.concatenate(scores, axis=1), k)  # (B, k)
    return scores, ops.take_along_axis(ops.concatenate(ids, axis=1), pick[:, :, None], axis=1)


# ------------------------------------------------------------------------------------------------
# One entry point.


def generate(
    decoder,
    inputs,
    *,
    beam_width=1,
    num_results=1,
    max_length=None,
    temperature=0.0,
    top_k=0,
    top_p=1.0,
    seed=0,
    length_penalty=0.6,
    coverage_penalty=0.0,
):
    """Greedy search, sampling or beam search, chosen by the settings, in one graph.

    The strategy: ``beam_width >= 2`` -> ``beam_search`` (``beam_width``, ``num_results``,
    ``length_penalty``, ``coverage_penalty``); else ``temperature > 0`` -> ``sample``
    (``temperature``, ``top_k``, ``top_p``, ``seed``, ``num_results``); else greedy search (one
    result per input; it equals ``greedy_search``). Settings the chosen strategy does not use are
    checked but ignored.

    Every setting may be a Python number or a scalar tensor (the export's ``generate`` signature
    feeds them per request). Python numbers are checked and a bad one raises a ValueError naming
    it; tensors are clamped into range instead: beam_width >= 1, num_results >= 1 (and <= beam_width
    for beam search; greedy gives 1), max_length into [1, ``decoder.max_length``], temperature >= 0,
    top_k >= 0 (0 and values over the vocabulary keep every token), top_p into [0, 1] (0 keeps only
    the most probable token), length_penalty >= 0, coverage_penalty >= 0 (and ignored for a decoder
    without alignments). With tensor settings the strategy is picked with ``keras.ops.cond``, and
    N (and L for a tensor max_length) are then not known until run time.

    Args:
        decoder: a ``Decoder``.
        inputs: the batch ``decoder.encode`` takes; it is encoded once.
        beam_width, num_results, length_penalty, coverage_penalty: as in ``beam_search``.
        max_length: the most tokens per result; defaults to ``decoder.max_length``.
        temperature, top_k, top_p, seed: as in ``sample``; temperature 0 is greedy.

    Returns:
        {"ids": (B, N, L) int32, "scores": (B, N) float32, "lengths": (B, N) int32}: N results per
        input, best first for beam search (N = 1 for greedy); L = max_length; ids hold the end
        token where produced and PAD (0) after it; scores are beam search's s(Y, X), or for
        greedy and sampling the sum of the log-probabilities of the emitted tokens under the
        model's unmodified distribution (end token included); lengths count the ids before the
        end token.

    Example:
    >>> import numpy as np
    >>> import tensorflow as tf
    >>> from seqrecipes import recipes
    >>> model = recipes.seq2seq(source_vocabulary_size=10, target_vocabulary_size=10, units=8, embedding_dim=4)
    >>> source = np.array([[4, 5, 6], [7, 8, 0]], "int32")
    >>> tuple(recipes.generate(model.decoder, source, beam_width=3, num_results=2)["ids"].shape)
    (2, 2, 32)
    >>> serve = tf.function(lambda x, k, t: recipes.generate(model.decoder, x, beam_width=k, temperature=t))
    >>> greedy = serve(source, tf.constant(1), tf.constant(0.0))  # k < 2, t = 0: greedy search
    >>> bool(np.all(greedy["ids"][:, 0] == recipes.greedy_search(model.decoder, source)[0]))
    True
    """
    beam_settings = _beam_settings(
        decoder, beam_width, _for_beam(num_results, beam_width), max_length, length_penalty, coverage_penalty
    )
    sampling_settings = _sampling_settings(decoder, max_length, temperature, top_k, top_p, seed, num_results)
    greedy_only = _is_number(beam_width) and beam_width < 2 and _is_number(temperature) and temperature == 0
    if greedy_only and _is_number(num_results) and num_results != 1:
        raise ValueError(
            "Greedy search (beam_width < 2, temperature 0) gives one result per input; ask for more with "
            f"beam_width >= num_results or temperature > 0. Received: num_results={num_results!r}"
        )
    state = decoder.encode(inputs)

    def beam():
        return _beam_search_state(decoder, state, **beam_settings)

    def sampling():
        return _sample_state(decoder, state, **sampling_settings)

    def greedy():
        settings = dict(sampling_settings, temperature=0.0, num_results=1)
        return _sample_state(decoder, state, **settings)

    def not_beam():
        return _branch(sampling_settings["temperature"] > 0, sampling, greedy)

    return _branch(beam_settings["beam_width"] >= 2, beam, not_beam)


def _for_beam(num_results, beam_width):
    """num_results as beam search checks it: a Python number over a Python beam_width < 2 is left for the
    greedy / sampling checks (beam search is not used then)."""
    if _is_number(beam_width) and beam_width < 2 and _is_number(num_results):
        return 1
    return num_results


def _branch(pred, true_fn, false_fn):
    if isinstance(pred, (bool, np.bool_)):
        return true_fn() if pred else false_fn()
    return ops.cond(pred, true_fn, false_fn)


# ------------------------------------------------------------------------------------------------
# Settings: Python numbers are checked, scalar tensors clamped.


def _is_number(value):
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, (bool, np.bool_))


def _scalar(name, value, dtype):
    tensor = ops.convert_to_tensor(value)
    if tensor.shape.rank not in (None, 0):
        raise ValueError(f"`{name}` must be a number or a scalar tensor. Received: {name}.shape={tuple(tensor.shape)}")
    return ops.cast(tensor, dtype)


def _bounds(low, high, low_open=False, high_name=None):
    left = "(" if low_open else "["
    if high is None:
        return f"> {low}" if low_open else f">= {low}"
    right = f"{high_name}={high}" if high_name else high
    return f"in {left}{low}, {right}]"


def _int_setting(name, value, low, high=None, high_name=None):
    """A Python integer checked against [low, high], or a scalar tensor clamped into it (int32)."""
    if _is_number(value) or isinstance(value, (bool, np.bool_)) or value is None:
        integer = isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))
        if not integer or value < low or (high is not None and value > high):
            raise ValueError(
                f"`{name}` must be an integer {_bounds(low, high, high_name=high_name)}. Received: {name}={value!r}"
            )
        return int(value)
    tensor = ops.maximum(_scalar(name, value, "int32"), low)
    return tensor if high is None else ops.minimum(tensor, high)


def _float_setting(name, value, low, high=None, low_open=False):
    """A Python number checked against [low, high] ((low, high] when low_open), or a scalar tensor
    clamped into [low, high] (float32)."""
    if _is_number(value) or isinstance(value, (bool, np.bool_)) or value is None:
        ok = _is_number(value) and (value > low if low_open else value >= low) and (high is None or value <= high)
        if not ok:
            raise ValueError(f"`{name}` must be a number {_bounds(low, high, low_open)}. Received: {name}={value!r}")
        return float(value)
    tensor = ops.maximum(_scalar(name, value, "float32"), low)
    return tensor if high is None else ops.minimum(tensor, high)


def _seed(seed):
    if _is_number(seed) or isinstance(seed, (bool, np.bool_)) or seed is None:
        if not isinstance(seed, (int, np.integer)) or isinstance(seed, (bool, np.bool_)):
            raise ValueError(f"`seed` must be an integer. Received: seed={seed!r}")
        if not INT64_RANGE[0] <= seed <= INT64_RANGE[1]:
            raise ValueError(f"`seed` must fit in 64 bits. Received: seed={seed!r}")
    else:
        _scalar("seed", seed, "int32")
    return tf.cast(seed, tf.int64)


def _max_length(decoder, max_length):
    """(max_length, buffer_length): a checked Python integer twice, or a clamped tensor and the
    decoder's limit (buffers are allocated at the limit and the results cut to max_length)."""
    limit = decoder.max_length
    if max_length is None:
        return limit, limit
    if isinstance(max_length, np.integer):
        max_length = int(max_length)
    if _is_number(max_length) or isinstance(max_length, (bool, np.bool_)):
        max_length = check_max_length(max_length, limit)
        return max_length, max_length
    return ops.clip(_scalar("max_length", max_length, "int32"), 1, limit), limit
