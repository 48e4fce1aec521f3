"""Decoding: sampling, beam search and generate, in one graph.

Toy decoders built here (a fixed transition table over a 5-token vocabulary, with and without a
toy attention) give exact answers: beam search with a wide beam is checked against a brute-force
search over every sequence scored with the GNMT formula in NumPy, sampling frequencies against the
filtered distribution. Tiny untrained recipes check that beam width 1 is greedy search, that the
Transformer's key/value cache is reordered with the beams, and that tensor settings inside a
tf.function pick the same strategy as Python numbers.
"""

import inspect
import itertools

import keras
import numpy as np
import pytest
import tensorflow as tf

from seqrecipes import recipes
from seqrecipes.data import END_ID, PAD_ID, START_ID
from seqrecipes.recipes import decoding
from seqrecipes.recipes.decoding import _settings

V = 5  # ids 0 PAD, 1 a, 2 START, 3 END, 4 b
RESERVED = [PAD_ID, START_ID]
ALLOWED = [1, END_ID, 4]


def _log_softmax(x):
    x = np.asarray(x, "float64")
    m = np.max(x, axis=-1, keepdims=True)
    return x - m - np.log(np.sum(np.exp(x - m), axis=-1, keepdims=True))


def _softmax(x):
    return np.exp(_log_softmax(x))


class TableDecoder(recipes.Decoder):
    """Logits table[row, t, previous token] (R, L, V, V); the input is the table row of each example.

    With ``attention`` (R, L, V, S) and ``source_lengths`` (R,), each step also attends over the
    row's first source_lengths[row] positions: alpha = softmax(attention[row, t, previous]) over them.
    """

    def __init__(self, table, attention=None, source_lengths=None):
        super().__init__(model=None, max_length=table.shape[1])
        self.table = tf.constant(table, tf.float32)
        self.attention = None if attention is None else tf.constant(attention, tf.float32)
        self.source_lengths = None if source_lengths is None else tf.constant(source_lengths, tf.int32)

    def encode(self, inputs):
        row = tf.cast(inputs, tf.int32)  # (B,)
        state = {"row": row}
        if self.attention is not None:
            size = self.attention.shape[-1]
            state["mask"] = tf.range(size)[None, :] < tf.gather(self.source_lengths, row)[:, None]  # (B, S)
            state["alpha"] = tf.zeros(tf.shape(state["mask"]), tf.float32)
        return state

    def step(self, token_ids, state, index):
        where = tf.stack([state["row"], tf.fill(tf.shape(token_ids), index), tf.cast(token_ids, tf.int32)], axis=-1)
        logits = tf.gather_nd(self.table, where)  # (B, V)
        if self.attention is None:
            return logits, state
        scores = tf.where(state["mask"], tf.gather_nd(self.attention, where), -np.inf)  # (B, S)
        return logits, dict(state, alpha=tf.nn.softmax(scores, axis=-1))

    def alignments(self, state):
        return None if self.attention is None else (state["alpha"], state["mask"])


def _table(seed, rows=2, length=4, scale=2.0):
    table = np.random.default_rng(seed).normal(size=(rows, length, V, V)) * scale
    table[..., RESERVED] = -np.inf  # never generated, as the recipes' decoders push them to -1e9
    return table.astype("float32")


# ------------------------------------------------------------------------------------------------
# Tiny untrained recipes.


RECIPE_BUILDS = {
    "window_language_model": lambda: recipes.window_language_model(
        text_vocabulary_size=12, context_size=2, embedding_dim=4, units=8, max_output_length=7
    ),
    "rnn_language_model": lambda: recipes.rnn_language_model(
        text_vocabulary_size=12, units=8, embedding_dim=4, num_layers=2, cell="gru", max_output_length=7
    ),
    "seq2seq": lambda: recipes.seq2seq(
        source_vocabulary_size=10, target_vocabulary_size=12, units=8, embedding_dim=4, max_target_length=7
    ),
    "seq2seq_attention": lambda: recipes.seq2seq_attention(
        source_vocabulary_size=10, target_vocabulary_size=12, units=8, embedding_dim=4, attention_units=6,
        max_target_length=7,
    ),
    "transformer_seq2seq": lambda: recipes.transformer_seq2seq(
        source_vocabulary_size=10, target_vocabulary_size=12, num_layers=2, num_heads=2, hidden_dim=8,
        intermediate_dim=16, max_target_length=7,
    ),
    "image_captioner": lambda: recipes.image_captioner(
        image_height=8, image_width=8, filters=[4], target_vocabulary_size=12, embedding_dim=4, units=8,
        attention_units=4, max_output_length=7,
    ),
}
SOURCES = np.array([[4, 5, 6, 7, 0], [9, 8, 0, 0, 0], [5, 5, 6, 6, 7]], "int32")


def _recipe(name):
    keras.utils.set_random_seed(5)
    model = RECIPE_BUILDS[name]()
    if name == "window_language_model":
        inputs = SOURCES[:, :2]
    elif name == "rnn_language_model":
        inputs = np.concatenate([np.full((3, 1), START_ID, "int32"), SOURCES], axis=1)
    elif name == "image_captioner":
        inputs = np.random.default_rng(0).uniform(size=(3, 8, 8, 3)).astype("float32")
    else:
        inputs = SOURCES
    return model, tf.constant(inputs)


# ------------------------------------------------------------------------------------------------
# Sampling.


class FixedDecoder(recipes.Decoder):
    """The same logits (V,) at every step, for every row; the input is only a batch of anything."""

    def __init__(self, logits, max_length):
        super().__init__(model=None, max_length=max_length)
        self.logits = tf.constant(logits, tf.float32)

    def encode(self, inputs):
        return {"dummy": tf.zeros([tf.shape(inputs)[0], 1])}

    def step(self, token_ids, state, index):
        return tf.tile(self.logits[None], [tf.shape(token_ids)[0], 1]), state


def test_the_same_seed_gives_the_same_samples_and_another_seed_others():
    decoder = FixedDecoder(np.zeros(12), max_length=6)  # flat: every sequence equally likely
    x = tf.zeros([4])
    first, again = recipes.sample(decoder, x, seed=7, num_results=2), recipes.sample(decoder, x, seed=7, num_results=2)
    other = recipes.sample(decoder, x, seed=8, num_results=2)
    np.testing.assert_array_equal(first["ids"].numpy(), again["ids"].numpy())
    assert not np.array_equal(first["ids"].numpy(), other["ids"].numpy())
    rows = first["ids"].numpy().reshape(8, -1)
    assert len({tuple(r) for r in rows}) == 8  # the N samples of one input differ


def test_top_k_one_tiny_top_p_and_temperature_zero_are_greedy():
    table = _table(3, scale=1.0)
    decoder = TableDecoder(table)
    x = tf.constant([0, 1, 1, 0])
    greedy, _ = recipes.greedy_search(decoder, x)
    for settings in (dict(top_k=1), dict(top_p=1e-6), dict(temperature=0.0)):
        out = recipes.sample(decoder, x, seed=3, num_results=3, **settings)
        np.testing.assert_array_equal(out["ids"].numpy(), np.repeat(greedy.numpy()[:, None], 3, axis=1))
    model, inputs = _recipe("seq2seq_attention")
    greedy, _ = recipes.greedy_search(model.decoder, inputs)
    np.testing.assert_array_equal(recipes.sample(model.decoder, inputs, top_k=1, seed=1)["ids"][:, 0], greedy)


def test_sample_scores_are_log_probabilities_under_the_unmodified_model():
    table = _table(4, scale=1.0)
    out = recipes.sample(TableDecoder(table), tf.constant([0, 1]), temperature=1.7, top_k=2, seed=2, num_results=5)
    ids, lengths = out["ids"].numpy(), out["lengths"].numpy()
    for b, k in itertools.product(range(2), range(5)):
        n = min(lengths[b, k] + 1, 4)
        previous = [START_ID] + list(ids[b, k, : n - 1])
        expected = sum(_log_softmax(table[b, t, previous[t]])[ids[b, k, t]] for t in range(n))
        np.testing.assert_allclose(out["scores"][b, k].numpy(), expected, atol=1e-5)
        assert np.all(ids[b, k, n:] == PAD_ID)


def _filtered(logits, temperature, top_k, top_p):
    """NumPy: the distribution sample() draws from."""
    p = _softmax(np.asarray(logits) / temperature)
    order = np.argsort(-p, kind="stable")
    keep = np.zeros(len(p), bool)
    keep[order[: top_k or len(p)]] = True
    q = np.where(keep, p, 0.0) / np.sum(np.where(keep, p, 0.0))
    mass_before = np.cumsum(q[order]) - q[order]
    nucleus = np.zeros(len(p), bool)
    nucleus[order[(mass_before < top_p) | (np.arange(len(p)) == 0)]] = True
    keep &= nucleus if top_p < 1 else True
    return np.where(keep, p, 0.0) / np.sum(np.where(keep, p, 0.0))


@pytest.mark.parametrize(
    "temperature, top_k, top_p", [(1.0, 0, 1.0), (0.7, 3, 1.0), (1.5, 0, 0.8), (1.0, 4, 0.6), (2.0, 6, 0.9)]
)
def test_sample_frequencies_follow_the_filtered_distribution(temperature, top_k, top_p):
    logits = np.array([0.5, 1.9, -0.3, 1.2, 0.9, -1.0, 0.1, 1.5], "float32")
    expected = _filtered(logits, temperature, top_k, top_p)
    n = 2000
    out = recipes.sample(
        FixedDecoder(logits, 1), tf.zeros([1]), temperature=temperature, top_k=top_k, top_p=top_p, seed=11,
        num_results=n,
    )  # fmt: skip
    counts = np.bincount(out["ids"].numpy().reshape(-1), minlength=len(logits))
    assert np.all(counts[expected == 0] == 0)  # nothing outside top-k / the nucleus
    standard_error = np.sqrt(expected * (1 - expected) / n)
    assert np.all(np.abs(counts / n - expected) <= 4 * standard_error + 1e-9), (counts / n, expected)
    assert np.count_nonzero(expected) < len(logits) or (top_k == 0 and top_p == 1.0)


@pytest.mark.parametrize(
    "settings, message",
    [
        (dict(temperature=-1.0), r"temperature=-1.0"),
        (dict(top_k=-1), r"top_k=-1"),
        (dict(top_p=0.0), r"top_p=0.0"),
        (dict(top_p=1.5), r"top_p=1.5"),
        (dict(seed=1.5), r"seed=1.5"),
        (dict(num_results=0), r"num_results=0"),
        (dict(max_length=5), r"max_length=5"),
        (dict(top_k=tf.constant([1, 2])), r"top_k.shape=\(2,\)"),
    ],
)
def test_bad_sample_settings_name_the_argument_and_the_value(settings, message):
    with pytest.raises(ValueError, match=message):
        recipes.sample(TableDecoder(_table(0)), tf.constant([0]), **settings)


# ------------------------------------------------------------------------------------------------
# Beam search against exhaustive search.


def possible_outputs(length):
    """Every output of at most ``length`` tokens over ALLOWED (ended by END, or cut at ``length``), with
    the tokens the decoder was fed for it ([START] y_1 .. y_{n-1})."""
    for n in range(1, length + 1):
        for sequence in itertools.product(ALLOWED, repeat=n):
            if END_ID not in sequence[:-1] and (n == length or sequence[-1] == END_ID):
                yield sequence, (START_ID,) + sequence[:-1]


def _brute_force(decoder_table, row, length_penalty, coverage_penalty=0.0, attention=None, source_length=None):
    """Every hypothesis (ended by END, or cut at max_length) with its GNMT score, best first."""
    length = decoder_table.shape[1]
    hypotheses = []
    for sequence, previous in possible_outputs(length):
        n = len(sequence)
        log_p = sum(_log_softmax(decoder_table[row, t, previous[t]])[y] for t, y in enumerate(sequence))
        score = log_p / ((5.0 + n) / 6.0) ** length_penalty
        if attention is not None:
            alphas = [_softmax(attention[row, t, previous[t], :source_length]) for t in range(n)]
            coverage = np.sum(alphas, axis=0)
            score += coverage_penalty * np.sum(np.log(np.clip(coverage, 1e-20, 1.0)))
        hypotheses.append((score, list(sequence) + [PAD_ID] * (length - n)))
    hypotheses.sort(key=lambda h: -h[0])
    return hypotheses


@pytest.mark.parametrize("length_penalty", [0.0, 0.6])
def test_wide_beam_returns_the_brute_force_n_best(length_penalty):
    table = _table(0)
    decoder = TableDecoder(table)
    out = recipes.beam_search(decoder, tf.constant([0, 1]), beam_width=16, num_results=6, length_penalty=length_penalty)
    for row in range(2):
        expected = _brute_force(table, row, length_penalty)[:6]
        np.testing.assert_array_equal(out["ids"][row].numpy(), [ids for _, ids in expected])
        np.testing.assert_allclose(out["scores"][row].numpy(), [s for s, _ in expected], atol=1e-5, rtol=0)
        lengths = [ids.index(END_ID) if END_ID in ids else len(ids) for _, ids in expected]
        np.testing.assert_array_equal(out["lengths"][row].numpy(), lengths)


def test_narrow_beam_misses_what_a_wide_beam_finds():
    """From START, a (0.57) beats b (0.43), but only b is followed by a likely END: greedy misses [b, END]."""
    table = np.full((1, 4, V, V), -np.inf, "float32")
    table[0, :, :, ALLOWED] = 0.0  # uniform over a, END, b by default
    table[0, 0, START_ID, [1, END_ID, 4]] = [0.3, -20.0, 0.0]
    table[0, 1, 4, [1, END_ID, 4]] = [-8.0, 5.0, -8.0]
    decoder = TableDecoder(table)
    best = _brute_force(table, 0, 0.0)[0]
    assert best[1][:2] == [4, END_ID]
    narrow = recipes.beam_search(decoder, tf.constant([0]), beam_width=1, length_penalty=0.0)
    wide = recipes.beam_search(decoder, tf.constant([0]), beam_width=2, length_penalty=0.0)
    greedy, _ = recipes.greedy_search(decoder, tf.constant([0]))
    np.testing.assert_array_equal(narrow["ids"][0, 0].numpy(), greedy[0].numpy())
    assert narrow["scores"][0, 0].numpy() < best[0] - 0.5
    np.testing.assert_array_equal(wide["ids"][0, 0].numpy(), best[1])
    np.testing.assert_allclose(wide["scores"][0, 0].numpy(), best[0], atol=1e-5)


def test_coverage_penalty_matches_numpy_on_a_toy_attention_decoder():
    table = _table(1)
    attention = np.random.default_rng(2).normal(size=(2, 4, V, 3)).astype("float32") * 2.0
    source_lengths = [3, 2]  # row 1 attends over 2 real positions of 3
    decoder = TableDecoder(table, attention, source_lengths)
    out = recipes.beam_search(
        decoder, tf.constant([0, 1]), beam_width=16, num_results=5, length_penalty=0.6, coverage_penalty=0.4
    )
    for row in range(2):
        expected = _brute_force(table, row, 0.6, 0.4, attention, source_lengths[row])[:5]
        np.testing.assert_array_equal(out["ids"][row].numpy(), [ids for _, ids in expected])
        np.testing.assert_allclose(out["scores"][row].numpy(), [s for s, _ in expected], atol=1e-5, rtol=0)
    # The penalty changes the ranking here, so the check above is not the no-coverage one.
    plain = [ids for _, ids in _brute_force(table, 0, 0.6)[:5]]
    assert plain != [ids for _, ids in _brute_force(table, 0, 0.6, 0.4, attention, 3)[:5]]


@pytest.mark.parametrize(
    "settings, message",
    [
        (dict(beam_width=0), "beam_width=0"),
        (dict(beam_width=2.5), "beam_width=2.5"),
        (dict(beam_width=2, num_results=3), r"num_results=3"),
        (dict(length_penalty=-0.1), r"length_penalty=-0.1"),
        (dict(coverage_penalty=-1.0), r"coverage_penalty=-1.0"),
        (dict(max_length=0), r"max_length=0"),
        (dict(max_length=5), r"\[1, 4\].*max_length=5"),
    ],
)
def test_bad_beam_settings_name_the_argument_and_the_value(settings, message):
    with pytest.raises(ValueError, match=message):
        recipes.beam_search(TableDecoder(_table(0)), tf.constant([0]), **settings)


def test_coverage_penalty_needs_alignments():
    decoder = TableDecoder(_table(0))
    with pytest.raises(ValueError, match=r"TableDecoder.alignments.*coverage_penalty=0.2"):
        recipes.beam_search(decoder, tf.constant([0]), coverage_penalty=0.2)


def _counting(decoder):
    """decoder with encode and step wrapped: (calls to encode, rows of every step's token_ids)."""
    calls, rows = [], []
    encode, step = decoder.encode, decoder.step
    decoder.encode = lambda inputs: calls.append(1) or encode(inputs)
    decoder.step = lambda token_ids, state, index: rows.append(int(token_ids.shape[0])) or step(token_ids, state, index)
    return calls, rows


def test_encoder_runs_once_and_the_state_is_tiled_inside():
    decoder = TableDecoder(_table(0))
    calls, rows = _counting(decoder)
    recipes.beam_search(decoder, tf.constant([0, 1]), beam_width=3, num_results=2)
    assert calls == [1] and set(rows) == {6}
    calls.clear(), rows.clear()
    recipes.sample(decoder, tf.constant([0, 1]), num_results=4)
    assert calls == [1] and set(rows) == {8}


# ------------------------------------------------------------------------------------------------
# Beam search on the recipes: width 1 is greedy, the Transformer's cache follows the beams, coverage on
# real attention.


@pytest.mark.parametrize("name", sorted(RECIPE_BUILDS))
def test_beam_width_one_equals_greedy_search_on_every_recipe(name):
    model, inputs = _recipe(name)
    decoder = model.decoder
    greedy_ids, greedy_lengths = recipes.greedy_search(decoder, inputs)
    beam = recipes.beam_search(decoder, inputs, beam_width=1, length_penalty=0.0)
    np.testing.assert_array_equal(beam["ids"][:, 0].numpy(), greedy_ids.numpy())
    np.testing.assert_array_equal(beam["lengths"][:, 0].numpy(), greedy_lengths.numpy())
    # Without penalties the score is log P: the log-probabilities of the emitted tokens, replayed step by step.
    state, token, expected = decoder.encode(inputs), tf.fill([3], START_ID), np.zeros(3)
    ids = greedy_ids.numpy()
    emitted = np.cumsum(ids == END_ID, axis=1) - (ids == END_ID) == 0  # (B, L): no end token before t
    for t in range(ids.shape[1]):
        logits, state = decoder.step(token, state, tf.constant(t, tf.int32))
        expected += np.where(emitted[:, t], _log_softmax(logits.numpy())[np.arange(3), ids[:, t]], 0.0)
        token = tf.constant(ids[:, t])
    np.testing.assert_allclose(beam["scores"][:, 0].numpy(), expected, atol=1e-4)


def _teacher_forced_log_p(model, source, ids):
    """log P(Y | X) of each hypothesis ids (N, L) from the model's full forward pass (no cache)."""
    lengths = recipes.sequence_lengths(ids).numpy()
    n = np.minimum(lengths + 1, ids.shape[1])  # the end token counts where produced
    target_in = np.concatenate([np.full((len(ids), 1), START_ID, "int32"), ids[:, :-1]], axis=1)
    logits = np.array(model({"source": np.repeat(source[None], len(ids), 0), "target_in": target_in}))
    logits[..., list(decoding.NEVER_GENERATED)] -= 1e9  # as the decoder step bans them
    log_p = _log_softmax(logits)  # (N, L, V)
    picked = np.take_along_axis(log_p, ids[:, :, None], axis=2)[:, :, 0]
    return np.sum(np.where(np.arange(ids.shape[1])[None, :] < n[:, None], picked, 0.0), axis=1)


def test_transformer_beam_scores_equal_the_teacher_forced_model():
    """The cache is reordered with the beams: each hypothesis' beam score (no penalty) is its log P
    from a full forward pass of the training model, which has no cache."""
    model, inputs = _recipe("transformer_seq2seq")
    out = recipes.beam_search(model.decoder, inputs, beam_width=4, num_results=4, length_penalty=0.0)
    ids = out["ids"].numpy()
    for b in range(3):
        assert len({tuple(row) for row in ids[b]}) == 4  # distinct hypotheses
        expected = _teacher_forced_log_p(model, SOURCES[b], ids[b])
        np.testing.assert_allclose(out["scores"][b].numpy(), expected, atol=1e-4)
    # One input at a time gives the same beams: nothing leaks between the tiled inputs.
    alone = recipes.beam_search(model.decoder, inputs[1:2], beam_width=4, num_results=4, length_penalty=0.0)
    np.testing.assert_array_equal(alone["ids"][0].numpy(), ids[1])


@pytest.mark.parametrize("name", ["seq2seq_attention", "transformer_seq2seq", "image_captioner"])
def test_coverage_penalty_and_alignments_of_attention_recipes_match_a_replay_of_each_hypothesis(name):
    """Each hypothesis replayed alone, step by step: its score with the coverage penalty, and the
    alignments generate returns with it (the weights of every written token, 0 after its end)."""
    model, inputs = _recipe(name)
    decoder = model.decoder
    settings = dict(beam_width=3, num_results=3, length_penalty=0.6, coverage_penalty=0.5)
    out = recipes.beam_search(decoder, inputs, **settings)
    with_alignments = recipes.generate(decoder, inputs, **settings, alignments=True)
    np.testing.assert_array_equal(with_alignments["ids"].numpy(), out["ids"].numpy())
    ids, lengths, aligned = out["ids"].numpy(), out["lengths"].numpy(), with_alignments["alignments"].numpy()
    assert aligned.shape[:3] == ids.shape
    for b in range(3):
        for k in range(3):
            n = min(lengths[b, k] + 1, ids.shape[-1])
            state, token, log_p, coverage = decoder.encode(inputs[b : b + 1]), tf.constant([START_ID]), 0.0, 0.0
            for t in range(n):
                logits, state = decoder.step(token, state, tf.constant(t, tf.int32))
                log_p += _log_softmax(logits.numpy()[0])[ids[b, k, t]]
                alpha, mask = decoder.alignments(state)
                np.testing.assert_allclose(aligned[b, k, t], alpha.numpy()[0], atol=1e-5)
                coverage = coverage + alpha.numpy()[0]
                token = tf.constant([ids[b, k, t]])
            assert np.all(aligned[b, k, n:] == 0)
            real = mask.numpy()[0]
            expected = log_p / ((5 + n) / 6) ** 0.6 + 0.5 * np.sum(np.log(np.minimum(coverage[real], 1.0)))
            np.testing.assert_allclose(out["scores"][b, k].numpy(), expected, atol=1e-4)


def test_alignments_of_greedy_and_sampling_and_per_request_in_a_graph():
    model, inputs = _recipe("seq2seq_attention")
    decoder = model.decoder
    greedy = recipes.generate(decoder, inputs, alignments=True)
    ids, expected = recipes.attention_alignments(model, inputs)
    np.testing.assert_array_equal(greedy["ids"].numpy()[:, 0], ids)
    np.testing.assert_allclose(greedy["alignments"].numpy()[:, 0], expected, atol=1e-6)
    assert "alignments" not in recipes.generate(decoder, inputs)
    sampled = recipes.generate(decoder, inputs, temperature=1.0, num_results=4, seed=2, alignments=True)
    assert sampled["alignments"].shape[:3] == sampled["ids"].shape
    written = sampled["ids"].numpy() != 0
    np.testing.assert_allclose(sampled["alignments"].numpy().sum(-1), written.astype("float32"), atol=1e-5)
    serve = tf.function(lambda x, on, k: recipes.generate(decoder, x, beam_width=k, num_results=k, alignments=on))
    on, off = serve(inputs, tf.constant(True), tf.constant(2)), serve(inputs, tf.constant(False), tf.constant(2))
    np.testing.assert_array_equal(on["ids"].numpy(), off["ids"].numpy())
    assert on["alignments"].shape == (3, 2, decoder.max_length, 5) and off["alignments"].shape == (3, 2, 0, 5)
    beam = recipes.generate(decoder, inputs, beam_width=2, num_results=2, alignments=True)
    np.testing.assert_allclose(on["alignments"].numpy(), beam["alignments"].numpy(), atol=1e-6)


def test_alignments_need_a_decoder_with_attention_and_a_bool():
    model, inputs = _recipe("seq2seq")
    with pytest.raises(ValueError, match=r"`alignments` needs a decoder with attention .*Received: alignments=True"):
        recipes.generate(model.decoder, inputs, alignments=True)
    assert "alignments" not in recipes.generate(model.decoder, inputs, alignments=tf.constant(True))  # ignored, as exported
    attending, inputs = _recipe("seq2seq_attention")
    with pytest.raises(TypeError, match=r"`alignments` must be a bool or a scalar bool tensor. Received: alignments=1"):
        recipes.generate(attending.decoder, inputs, alignments=1)


# ------------------------------------------------------------------------------------------------
# generate: the strategy rule, tensor settings in a graph, bad settings.


SIGNATURE = [
    tf.TensorSpec([None], tf.int32),
    tf.TensorSpec([], tf.int32),  # beam_width
    tf.TensorSpec([], tf.int32),  # num_results
    tf.TensorSpec([], tf.int32),  # max_length
    tf.TensorSpec([], tf.float32),  # temperature
    tf.TensorSpec([], tf.int32),  # top_k
    tf.TensorSpec([], tf.float32),  # top_p
    tf.TensorSpec([], tf.int64),  # seed
]
SETTINGS = [
    dict(beam_width=3, num_results=2, max_length=4, temperature=0.0, top_k=0, top_p=1.0, seed=0),  # beam
    dict(beam_width=1, num_results=3, max_length=3, temperature=0.8, top_k=3, top_p=0.9, seed=5),  # sampling
    dict(beam_width=1, num_results=1, max_length=4, temperature=0.0, top_k=0, top_p=1.0, seed=0),  # greedy
    dict(beam_width=4, num_results=4, max_length=2, temperature=1.0, top_k=0, top_p=1.0, seed=0),  # beam
]


@pytest.mark.parametrize("name", sorted(RECIPE_BUILDS))
def test_generate_defaults_to_greedy_search_on_every_recipe(name):
    """Greedy through generate: greedy_search's ids, and log P (beam width 1 without penalties) as score."""
    model, inputs = _recipe(name)
    greedy_ids, greedy_lengths = recipes.greedy_search(model.decoder, inputs)
    calls, _ = _counting(model.decoder)
    generated = recipes.generate(model.decoder, inputs)
    assert calls == [1]
    np.testing.assert_array_equal(generated["ids"][:, 0].numpy(), greedy_ids.numpy())
    np.testing.assert_array_equal(generated["lengths"][:, 0].numpy(), greedy_lengths.numpy())
    beam = recipes.beam_search(model.decoder, inputs, beam_width=1, length_penalty=0.0)
    np.testing.assert_allclose(generated["scores"].numpy(), beam["scores"].numpy(), atol=1e-5)


def test_generate_picks_the_strategy_by_the_rule():
    decoder = TableDecoder(_table(7))
    x = tf.constant([0, 1])
    calls, _ = _counting(decoder)
    pairs = [
        (dict(beam_width=3, num_results=2, temperature=0.9), recipes.beam_search, dict(beam_width=3, num_results=2)),
        (dict(temperature=0.9, top_k=2, seed=4, num_results=2), recipes.sample,
         dict(temperature=0.9, top_k=2, seed=4, num_results=2)),
    ]  # fmt: skip
    for settings, function, same in pairs:
        calls.clear()
        got = recipes.generate(decoder, x, **settings)
        assert calls == [1]
        expected = function(decoder, x, **same)
        np.testing.assert_array_equal(got["ids"].numpy(), expected["ids"].numpy())
        np.testing.assert_allclose(got["scores"].numpy(), expected["scores"].numpy(), atol=1e-6)


def test_generate_with_tensor_settings_in_a_graph_matches_python_numbers():
    decoder = TableDecoder(_table(5))

    @tf.function(input_signature=SIGNATURE)
    def serve(x, beam_width, num_results, max_length, temperature, top_k, top_p, seed):
        return recipes.generate(
            decoder, x, beam_width=beam_width, num_results=num_results, max_length=max_length,
            temperature=temperature, top_k=top_k, top_p=top_p, seed=seed,
        )  # fmt: skip

    x = tf.constant([0, 1])
    for settings in SETTINGS:
        expected = recipes.generate(decoder, x, **settings)
        got = serve(x, **{k: tf.constant(v, spec.dtype) for (k, v), spec in zip(settings.items(), SIGNATURE[1:])})
        assert got["ids"].shape == (2, settings["num_results"], settings["max_length"])
        for key in ("ids", "scores", "lengths"):
            np.testing.assert_allclose(got[key].numpy(), expected[key].numpy(), atol=1e-6)
    beam = recipes.beam_search(decoder, x, beam_width=3, num_results=2, max_length=4)
    np.testing.assert_array_equal(serve(x, 3, 2, 4, 0.0, 0, 1.0, 0)["ids"].numpy(), beam["ids"].numpy())


def test_generate_with_a_tensor_beam_width_on_the_transformer():
    model, inputs = _recipe("transformer_seq2seq")
    spec = [tf.TensorSpec([None, None], tf.int32), tf.TensorSpec([], tf.int32), tf.TensorSpec([], tf.int32)]
    serve = tf.function(
        lambda x, k, m: recipes.generate(model.decoder, x, beam_width=k, num_results=2, max_length=m),
        input_signature=spec,
    )
    for k, m in ((3, 5), (1, 7)):
        expected = recipes.generate(model.decoder, inputs, beam_width=k, num_results=2 if k > 1 else 1, max_length=m)
        got = serve(inputs, k, m)
        np.testing.assert_array_equal(got["ids"].numpy(), expected["ids"].numpy())
        np.testing.assert_allclose(got["scores"].numpy(), expected["scores"].numpy(), atol=1e-5)


def test_tensor_settings_are_clamped():
    decoder = TableDecoder(_table(6))
    x = tf.constant([0, 1])
    greedy = recipes.generate(decoder, x)
    same_as_greedy = [
        dict(beam_width=tf.constant(0), num_results=tf.constant(5)),  # width 0 -> 1 (greedy gives N = 1)
        dict(temperature=tf.constant(-1.0)),  # -> 0
        dict(temperature=tf.constant(1.0), top_p=tf.constant(0.0)),  # only the most probable token
        dict(max_length=tf.constant(99)),  # -> the decoder's limit
    ]
    for settings in same_as_greedy:
        out = recipes.generate(decoder, x, **settings)
        np.testing.assert_array_equal(out["ids"].numpy(), greedy["ids"].numpy())
    wide = recipes.generate(decoder, x, beam_width=tf.constant(3), num_results=tf.constant(9))
    assert wide["ids"].shape[1] == 3  # num_results -> beam_width
    shortest = recipes.generate(decoder, x, max_length=tf.constant(-2))
    np.testing.assert_array_equal(shortest["ids"].numpy(), greedy["ids"].numpy()[:, :, :1])


def test_non_finite_tensor_settings_become_the_defaults_of_generate():
    """A NaN or inf float tensor is replaced by ``_settings.TENSOR_DEFAULTS``: generate's own defaults."""
    parameters = inspect.signature(recipes.generate).parameters
    assert _settings.TENSOR_DEFAULTS == {name: parameters[name].default for name in _settings.TENSOR_DEFAULTS}
    decoder, x = TableDecoder(_table(6)), tf.constant([0, 1])
    for name, value in _settings.TENSOR_DEFAULTS.items():
        settings = {"temperature": dict(seed=1), "top_p": dict(temperature=0.7, seed=1)}.get(
            name, dict(beam_width=3, num_results=2)
        )
        expected = recipes.generate(decoder, x, **settings, **{name: value})
        for bad in (np.nan, np.inf, -np.inf):
            got = recipes.generate(decoder, x, **settings, **{name: tf.constant(bad)})
            np.testing.assert_array_equal(got["ids"].numpy(), expected["ids"].numpy(), err_msg=f"{name}={bad}")
            np.testing.assert_allclose(got["scores"].numpy(), expected["scores"].numpy(), atol=1e-6)


@pytest.mark.parametrize(
    "settings, message",
    [
        (dict(num_results=2), r"beam_width >= num_results.*num_results=2"),  # greedy gives one result
        (dict(beam_width=3, num_results=4), r"\[1, beam_width=3\].*num_results=4"),
        (dict(beam_width=2, coverage_penalty=0.2), r"alignments.*coverage_penalty=0.2"),
        (dict(temperature=float("nan")), r"temperature=nan"),
        (dict(top_p=0.0), r"top_p=0.0"),  # checked even when greedy does not use it
        (dict(max_length=tf.constant([3])), r"max_length.shape=\(1,\)"),
    ],
)
def test_bad_generate_settings_name_the_argument_and_the_value(settings, message):
    with pytest.raises(ValueError, match=message):
        recipes.generate(TableDecoder(_table(0)), tf.constant([0]), **settings)


# ------------------------------------------------------------------------------------------------
# Greedy search.


class _CountingDecoder(recipes.Decoder):
    """Emits start+1, start+2, ... then the end token after `n` steps (n from the input)."""

    def encode(self, inputs):
        return {"n": tf.cast(inputs, "int32")}

    def step(self, token_ids, state, index):
        vocab = 12
        want = tf.where(index < state["n"], tf.fill(tf.shape(token_ids), 4 + index % 8), tf.fill(tf.shape(token_ids), self.end_id))
        return tf.one_hot(want, vocab) * 5.0, state


def test_greedy_search_runs_in_one_graph_and_stops_at_end():
    decoder = _CountingDecoder(model=None, max_length=6)
    search = tf.function(lambda n: recipes.greedy_search(decoder, n))
    ids, lengths = search(tf.constant([2, 0, 9]))
    np.testing.assert_array_equal(
        ids.numpy(),
        [[4, 5, 3, 0, 0, 0], [3, 0, 0, 0, 0, 0], [4, 5, 6, 7, 8, 9]],
    )
    np.testing.assert_array_equal(lengths.numpy(), [2, 0, 6])
    with pytest.raises(ValueError, match=r"max_length=7"):
        recipes.greedy_search(decoder, tf.constant([1]), max_length=7)
