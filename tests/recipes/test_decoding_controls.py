"""The decoding controls (min_length, no_repeat_ngram_size, repetition_penalty, banned) against NumPy.

``_controlled`` writes the rules of ``decoding.controls``' docstring as plain Python loops; the graph
version must match it on random logits and histories, and greedy search and beam search with the
controls must match a NumPy greedy loop and an exhaustive search over a toy decoder's table.
"""

import numpy as np
import pytest
import tensorflow as tf
from test_decoding import TableDecoder, _log_softmax, _table, possible_outputs

from seqrecipes import data, recipes
from seqrecipes.data import END_ID, PAD_ID, START_ID
from seqrecipes.recipes.decoding.controls import apply_controls, control_settings


def _controlled(logits, history, min_length=0, n=0, theta=1.0, banned=()):
    """The controlled logits of one row: logits (V,), history the emitted ids y_1 .. y_t (a list)."""
    z = np.array(logits, "float64")
    t = len(history)
    for w in set(history):
        z[w] = z[w] / theta if z[w] > 0 else z[w] * theta
    ban = set()
    if t < min_length:
        ban.add(END_ID)
    if n >= 1:
        for j in range(n - 1, t):
            if history[j - n + 1 : j] == history[t - n + 1 :] if n > 1 else True:
                ban.add(history[j])
    for phrase in banned:
        if len(phrase) - 1 <= t and (len(phrase) == 1 or history[t - len(phrase) + 1 :] == list(phrase[:-1])):
            ban.add(phrase[-1])
    z[sorted(ban)] = -np.inf
    if np.max(z) < -1e8:
        z[END_ID] = 0.0
    return z


def _settings_for(decoder, min_length=0, n=0, theta=1.0, banned=()):
    return control_settings(decoder, min_length, n, theta, [list(p) for p in banned] if banned else "")


CASES = [
    dict(min_length=3),
    dict(n=1),
    dict(n=2),
    dict(n=3),
    dict(theta=1.7),
    dict(theta=0.5),
    dict(banned=[(4,), (5, 6), (6, 4, 5)]),
    dict(min_length=2, n=2, theta=1.3, banned=[(5, 5), (7,)]),
]


@pytest.mark.parametrize("case", CASES, ids=[str(c) for c in CASES])
def test_apply_controls_matches_numpy_on_random_histories(case):
    rng = np.random.default_rng(0)
    vocabulary, length = 9, 8
    decoder = recipes.Decoder(model=None, max_length=length)
    settings = _settings_for(decoder, **case)
    for t in range(length):
        logits = rng.normal(size=(6, vocabulary)).astype("float32") * 3
        history = np.zeros((6, length), "int32")
        history[:, :t] = rng.integers(4, 8, size=(6, t))  # few tokens, so that n-grams repeat
        out = apply_controls(tf.constant(logits), tf.constant(history), tf.constant(t), settings, END_ID).numpy()
        for r in range(6):
            expected = _controlled(logits[r], history[r, :t].tolist(), **case)
            np.testing.assert_allclose(out[r], expected, rtol=1e-6, err_msg=f"t={t} row={r}")


def test_tensor_settings_give_the_python_settings_results():
    rng = np.random.default_rng(1)
    decoder = recipes.Decoder(model=None, max_length=8)
    logits = tf.constant(rng.normal(size=(4, 9)).astype("float32"))
    history = tf.constant(rng.integers(4, 7, size=(4, 8)).astype("int32"))
    python = control_settings(decoder, 6, 2, 1.4, "")

    @tf.function(input_signature=[tf.TensorSpec([], tf.int32)] * 2 + [tf.TensorSpec([], tf.float32)])
    def traced(m, n, theta):
        return apply_controls(logits, history, tf.constant(5), control_settings(decoder, m, n, theta), END_ID)

    expected = apply_controls(logits, history, tf.constant(5), python, END_ID).numpy()
    np.testing.assert_array_equal(traced(6, 2, 1.4).numpy(), expected)
    # Clamps: a huge n is the model's limit, NaN is off, a penalty over 100 is 100.
    np.testing.assert_array_equal(
        traced(0, 2**30, float("nan")).numpy(),
        apply_controls(logits, history, tf.constant(5), control_settings(decoder, 0, 8, 1.0), END_ID).numpy(),
    )
    np.testing.assert_array_equal(
        traced(0, 0, 1e9).numpy(),
        apply_controls(logits, history, tf.constant(5), control_settings(decoder, 0, 0, 100.0), END_ID).numpy(),
    )


def test_a_row_with_every_token_banned_ends():
    decoder = recipes.Decoder(model=None, max_length=4)
    settings = control_settings(decoder, 3, 0, 1.0, [[1], [4]])
    logits = np.full((1, 5), -1e9, "float32")
    logits[0, [1, END_ID, 4]] = [1.0, 2.0, 3.0]
    out = apply_controls(tf.constant(logits), tf.zeros((1, 4), tf.int32), tf.constant(0), settings, END_ID).numpy()
    assert out[0].tolist() == [-1e9, -np.inf, -1e9, 0.0, -np.inf]


def _numpy_greedy(table, row, **case):
    history, previous = [], START_ID
    for t in range(table.shape[1]):
        y = int(np.argmax(_controlled(table[row, t, previous], history, **case)))
        history.append(y)
        if y == END_ID:
            break
        previous = y
    return history + [PAD_ID] * (table.shape[1] - len(history))


GREEDY_CASES = [dict(min_length=4), dict(n=1), dict(n=2), dict(theta=3.0), dict(banned=[(4,)]), dict(banned=[(1, 1)])]


@pytest.mark.parametrize("case", GREEDY_CASES, ids=[str(c) for c in GREEDY_CASES])
def test_greedy_search_with_controls_matches_a_numpy_greedy_loop(case):
    table = _table(3, rows=3, length=6, scale=1.0)
    table[:, :, :, 1] += 2.0  # "a" is likely everywhere: repetition to control
    table[0, 1:, :, END_ID] += 4.0  # row 0 ends early: a minimum length to control
    decoder = TableDecoder(table)
    ids, _ = recipes.greedy_search(decoder, tf.constant([0, 1, 2]), **_keywords(case))
    for row in range(3):
        assert ids[row].numpy().tolist() == _numpy_greedy(table, row, **case), row
    plain, _ = recipes.greedy_search(decoder, tf.constant([0, 1, 2]))
    assert not np.array_equal(plain.numpy(), ids.numpy())  # the control changed something here


def _keywords(case):
    names = {"min_length": "min_length", "n": "no_repeat_ngram_size", "theta": "repetition_penalty"}
    out = {names[key]: value for key, value in case.items() if key in names}
    if "banned" in case:
        out["banned"] = [list(p) for p in case["banned"]]
    return out


def _brute_force_controlled(table, row, length_penalty, **case):
    """Every hypothesis scored by the controlled log-probabilities, best first (finite scores only)."""
    length = table.shape[1]
    hypotheses = []
    for sequence, previous in possible_outputs(length):
        log_p = sum(
            _log_softmax(_controlled(table[row, t, previous[t]], list(sequence[:t]), **case))[y]
            for t, y in enumerate(sequence)
        )
        if np.isfinite(log_p):
            score = log_p / ((5.0 + len(sequence)) / 6.0) ** length_penalty
            hypotheses.append((score, list(sequence) + [PAD_ID] * (length - len(sequence))))
    hypotheses.sort(key=lambda h: -h[0])
    return hypotheses


BEAM_CASES = [dict(min_length=3), dict(n=2), dict(theta=2.0), dict(banned=[(1, 4), (4, 4)]), dict(n=1, min_length=2)]


@pytest.mark.parametrize("case", BEAM_CASES, ids=[str(c) for c in BEAM_CASES])
def test_wide_beam_with_controls_returns_the_brute_force_n_best(case):
    table = _table(4, length=4)
    decoder = TableDecoder(table)
    out = recipes.beam_search(
        decoder, tf.constant([0, 1]), beam_width=16, num_results=4, length_penalty=0.6, **_keywords(case)
    )
    for row in range(2):
        expected = _brute_force_controlled(table, row, 0.6, **case)[:4]
        np.testing.assert_array_equal(out["ids"][row].numpy()[: len(expected)], [ids for _, ids in expected])
        np.testing.assert_allclose(out["scores"][row].numpy()[: len(expected)], [s for s, _ in expected], atol=1e-5)


def _ngrams(ids, n):
    ids = [i for i in ids if i not in (PAD_ID, END_ID)]
    return [tuple(ids[i : i + n]) for i in range(len(ids) - n + 1)]


def test_samples_obey_the_controls_and_keep_the_models_scores():
    table = _table(5, rows=1, length=6, scale=1.0)
    table[:, :, :, 1] += 1.5
    decoder = TableDecoder(table)
    out = recipes.sample(
        decoder, tf.constant([0]), temperature=1.0, seed=3, num_results=200, min_length=2, no_repeat_ngram_size=2,
        banned=[[4, 1]],
    )  # fmt: skip
    ids, lengths = out["ids"][0].numpy(), out["lengths"][0].numpy()
    assert np.all(lengths >= 2)
    for sample, score in zip(ids, out["scores"][0].numpy()):
        bigrams = _ngrams(sample.tolist(), 2)
        assert len(bigrams) == len(set(bigrams)) and (4, 1) not in bigrams, sample
        previous = (START_ID,) + tuple(sample[:-1])
        steps = [t for t in range(len(sample)) if sample[t] != PAD_ID]
        expected = sum(_log_softmax(table[0, t, previous[t]])[sample[t]] for t in steps)  # the model's own
        np.testing.assert_allclose(score, expected, atol=1e-4)
    assert len({tuple(s) for s in ids}) >= 4  # still a distribution over what the controls leave


def test_default_controls_change_nothing_also_as_tensors():
    table = _table(6, length=5)
    decoder = TableDecoder(table)
    inputs = tf.constant([0, 1])

    @tf.function
    def served(beam_width, temperature):
        return recipes.generate(
            decoder, inputs, beam_width=beam_width, num_results=2, temperature=temperature, seed=1,
            min_length=tf.constant(0), no_repeat_ngram_size=tf.constant(0), repetition_penalty=tf.constant(1.0),
        )  # fmt: skip

    for beam_width, temperature in [(3, 0.0), (1, 0.9)]:
        plain = recipes.generate(decoder, inputs, beam_width=beam_width, num_results=2, temperature=temperature, seed=1)
        got = served(tf.constant(beam_width), tf.constant(temperature))
        np.testing.assert_array_equal(got["ids"].numpy(), plain["ids"].numpy())
        np.testing.assert_allclose(got["scores"].numpy(), plain["scores"].numpy(), atol=1e-6)


@pytest.fixture(scope="module")
def char_lm():
    tokenizer = data.CharTokenizer(vocabulary=list("abcd "))
    return recipes.rnn_language_model(units=8, embedding_dim=4, text_tokenizer=tokenizer, max_output_length=12)


def test_banned_phrases_are_read_with_the_output_tokenizer_and_a_tensor_ignores_unusable_ones(char_lm):
    decoder = char_lm.decoder
    inputs = decoder.inputs_from_raw(tf.constant(["ab", "", "dd c"]))
    ids = lambda phrase: char_lm.tokenizer("text").tokenize_ragged([phrase]).to_list()[0]  # noqa: E731
    as_ids = recipes.generate(decoder, inputs, beam_width=2, banned=[ids("a"), ids("bc")])
    as_text = recipes.generate(decoder, inputs, beam_width=2, banned="a\nbc")
    traced = tf.function(lambda b: recipes.generate(decoder, inputs, beam_width=2, banned=b))
    # An empty line, an unknown character, a phrase over the 12-token limit: ignored in a tensor.
    as_tensor = traced(tf.constant("a\n\nzz\nbc\n" + "a" * 13))
    for other in (as_text, as_tensor):
        np.testing.assert_array_equal(other["ids"].numpy(), as_ids["ids"].numpy())
    for row in as_ids["ids"].numpy()[:, 0]:
        assert ids("a")[0] not in row.tolist() and tuple(ids("bc")) not in _ngrams(row.tolist(), 2)


@pytest.mark.parametrize(
    "settings, error, message",
    [
        (dict(min_length=-1), ValueError, r"`min_length` must be an integer in \[0, max_length=12\]. Received: min_length=-1"),
        (dict(min_length=13), ValueError, r"min_length=13"),
        (dict(no_repeat_ngram_size=-2), ValueError, r"`no_repeat_ngram_size` .* Received: no_repeat_ngram_size=-2"),
        (dict(no_repeat_ngram_size=10**9), ValueError, r"no_repeat_ngram_size=1000000000"),
        (dict(no_repeat_ngram_size=1.5), ValueError, r"no_repeat_ngram_size=1.5"),
        (dict(repetition_penalty=0.0), ValueError, r"`repetition_penalty` must be a finite number in \(0.0, 100.0\]"),
        (dict(repetition_penalty=-1.0), ValueError, r"repetition_penalty=-1.0"),
        (dict(repetition_penalty=float("nan")), ValueError, r"repetition_penalty=nan"),
        (dict(banned="a\n\nb"), ValueError, r"`banned` must hold no empty phrase; phrase 1 of 3 .* banned\[1\]=''"),
        (dict(banned="az"), ValueError, r"`banned` phrase 0 has a token the output vocabulary lacks .* banned\[0\]='az'"),
        (dict(banned=[[]]), ValueError, r"non-empty token id lists, ids in \[0, 9\)\. Received: banned\[0\]=\[\]"),
        (dict(banned=[[4], [99]]), ValueError, r"banned\[1\]=\[99\]"),
        (dict(banned=[["a", 4]]), ValueError, r"banned\[0\]=\['a', 4\]"),
        (dict(banned=3), TypeError, r"`banned` must be newline-separated phrases .* Received: banned=3"),
    ],
)
def test_bad_controls_name_the_setting_and_the_value(char_lm, settings, error, message):
    inputs = char_lm.decoder.inputs_from_raw(tf.constant(["ab"]))
    with pytest.raises(error, match=message):
        recipes.generate(char_lm.decoder, inputs, **settings)


def test_phrases_need_an_output_tokenizer():
    with pytest.raises(ValueError, match=r"`banned` phrases need a decoder whose model has an output tokenizer"):
        recipes.greedy_search(TableDecoder(_table(0)), tf.constant([0]), banned="a")



def test_a_model_built_from_vocabulary_sizes_takes_id_lists_but_not_phrases():
    model = recipes.seq2seq(source_vocabulary_size=10, target_vocabulary_size=10, units=8, embedding_dim=4)
    source = np.array([[4, 5, 6]], "int32")
    ids, _ = recipes.greedy_search(model.decoder, source, banned=[[4], [5, 6]])
    assert 4 not in ids.numpy()[0].tolist()
    with pytest.raises(ValueError, match=r"`banned` phrases need a decoder whose model has an output tokenizer"):
        recipes.greedy_search(model.decoder, source, banned="a")
