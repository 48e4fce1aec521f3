"""``ngram_language_model`` (issue 13): back-off tables equal to every estimator, the ``NGramTable`` layer against
NumPy, scoring, sampling from p, ``.keras`` and export, ARPA files in and out, and bad input."""

import itertools
import math
import os
import textwrap

import keras
import numpy as np
import pytest
import tensorflow as tf

from bad_input import answers, expect_clear, params, raises
from recipe_checks import reloaded

from seqrecipes import data, layers, recipes
from seqrecipes.data import END_ID, START_ID, UNKNOWN_ID
from seqrecipes.recipes.many_to_many import _ngram_arpa as arpa
from seqrecipes.recipes.many_to_many._ngram import count_ngrams
from seqrecipes.recipes.many_to_many._ngram_estimators import (
    AdditiveSmoothing,
    KatzBackOff,
    KneserNey,
    LinearInterpolation,
    MaximumLikelihood,
)

pytestmark = pytest.mark.filterwarnings("ignore:.*out of range:UserWarning")  # small corpora

VOCABULARY_SIZE = 12
TEXT = ["the cat sat on the mat", "the dog sat", "a cat ran", "the cat ran on a mat", "a dog ran"] * 3
HELD_OUT = ["the dog ran on the mat", "a cat sat"]


def _corpus(seed, sentences):
    rng = np.random.default_rng(seed)
    words = [UNKNOWN_ID] + list(range(4, VOCABULARY_SIZE))
    weights = np.arange(len(words), 0, -1) ** 2.0
    return [list(rng.choice(words, size=rng.integers(0, 9), p=weights / weights.sum())) for _ in range(sentences)]


def _estimators(counts):
    held_out = _corpus(9, 40)
    return {
        "maximum_likelihood": MaximumLikelihood(counts),
        "additive": AdditiveSmoothing(counts, alpha=0.5),
        "linear_interpolation": LinearInterpolation(counts, held_out),
        "katz": KatzBackOff(counts, k=3),
        "kneser_ney": KneserNey(counts),
    }


def _histories(order, padding):
    """Every history a sentence can give: fillers (0) only in front, and after single padding's <s> only."""
    ids = (0, START_ID, UNKNOWN_ID, 4, 5, 11, END_ID)
    for history in itertools.product(ids, repeat=order - 1):
        lead = next((i for i, x in enumerate(history) if x != 0), len(history))
        rest = history[lead:]
        if 0 in rest or START_ID in rest[1:]:
            continue
        if padding == "full" and lead:
            continue
        if padding == "single" and lead and (not rest or rest[0] != START_ID):
            continue
        yield list(history)


def _rows(order, padding, words):
    return np.array([h + [w] for h in _histories(order, padding) for w in words], dtype=np.int64).reshape(-1, order)


def _assert_same_log_probs(actual, expected, atol):
    finite = np.isfinite(expected)
    assert np.array_equal(np.isfinite(actual), finite) and not np.any(np.isnan(actual))
    np.testing.assert_allclose(actual[finite], expected[finite], atol=atol, rtol=0)


@pytest.mark.parametrize("padding", ["single", "full"])
@pytest.mark.parametrize("order", [1, 2, 3, 4])
def test_back_off_tables_give_every_estimator_s_probabilities(order, padding, tmp_path):
    counts = count_ngrams(_corpus(0, 200), order, vocabulary_size=VOCABULARY_SIZE, padding=padding)
    rows = _rows(order, padding, counts.words)
    names = ["[PAD]", "[UNK]", "[START]", "[END]"] + [f"w{i}" for i in range(4, VOCABULARY_SIZE)]
    for name, estimator in _estimators(counts).items():
        tables = arpa.from_estimator(estimator)
        with np.errstate(divide="ignore"):
            expected = np.log(estimator.probability(rows))
        _assert_same_log_probs(tables.log_prob(rows), expected, atol=1e-9)
        arpa.write_arpa(tables, names, tmp_path / f"{name}.arpa")  # ... and an ARPA file holds them (log10, 8 digits)
        read, words = arpa.read_arpa(tmp_path / f"{name}.arpa")
        assert words[4:] == names[4:] and read.sizes == tables.sizes
        _assert_same_log_probs(read.log_prob(rows), expected, atol=1e-6)


def _filled_table(order=3):
    counts = count_ngrams(_corpus(1, 150), order, vocabulary_size=VOCABULARY_SIZE)
    tables = arpa.from_estimator(KneserNey(counts))
    table = layers.NGramTable(order, VOCABULARY_SIZE, tables.sizes)
    table.build()
    values = [tables.log_probs[0], tables.log_backoffs[0]]
    for n in range(2, order + 1):
        values += [tables.keys[n - 1], tables.log_probs[n - 1]] + ([tables.log_backoffs[n - 1]] if n < order else [])
    table.set_weights([np.asarray(v, dtype=w.dtype) for v, w in zip(values, table.weights)])
    return table, tables, counts


def test_ngram_table_layer_computes_the_back_off_rule_of_numpy():
    table, tables, counts = _filled_table()
    rows = _rows(3, "single", counts.words)
    got = np.asarray(table.log_prob(rows[:, :-1], rows[:, -1]))
    np.testing.assert_allclose(got, tables.log_prob(rows), atol=1e-5)
    distribution = np.exp(np.asarray(table.distribution(np.array([[0, START_ID], [4, 5], [UNKNOWN_ID, END_ID]]))))
    np.testing.assert_allclose(distribution.sum(axis=-1), 1.0, atol=1e-5)  # Kneser-Ney sums to 1 over V
    assert np.all(distribution[:, [0, START_ID]] == 0)  # [PAD] and <s> are never predicted
    # The output: step t reads the last N-1 ids up to t, nothing before the first step.
    token_ids = np.array([[START_ID, 4, 5, 6, 0, 0], [START_ID, 7, 0, 0, 0, 0]])
    histories = np.asarray(table.histories(token_ids))
    assert histories[0, :4].tolist() == [[0, START_ID], [START_ID, 4], [4, 5], [5, 6]]
    out = np.asarray(table(token_ids))  # (B, T, V)
    np.testing.assert_allclose(out[0, 2], np.asarray(table.distribution(np.array([[4, 5]])))[0], atol=0)
    # Padding: what follows a position never changes its output.
    changed = token_ids.copy()
    changed[1, 2:] = [9, 10, 11, 4]
    np.testing.assert_array_equal(np.asarray(table(changed))[1, :2], out[1, :2])


def test_ngram_table_config_round_trip_and_bad_arguments():
    table, _, _ = _filled_table()
    config = table.get_config()
    clone = layers.NGramTable.from_config(config)
    assert clone.get_config() == config and config["sizes"] == table.sizes
    restored = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(table))
    assert isinstance(restored, layers.NGramTable) and restored.order == 3
    for arguments, name in [
        (dict(order=0, vocabulary_size=5, sizes=[]), "order"),
        (dict(order=11, vocabulary_size=5, sizes=[0] * 10), "order"),
        (dict(order=2, vocabulary_size=0, sizes=[0]), "vocabulary_size"),
        (dict(order=2, vocabulary_size=5, sizes=[0, 0]), "sizes"),
        (dict(order=2, vocabulary_size=5, sizes=[-1]), "sizes"),
        (dict(order=5, vocabulary_size=10**5, sizes=[0] * 4), "vocabulary_size"),
    ]:
        with pytest.raises(ValueError, match=f"`{name}`"):
            layers.NGramTable(**arguments)


# ------------------------------------------------------------------------------------------------
# The recipe.


@pytest.fixture(scope="module")
def words():
    return data.WordTokenizer(split_punctuation=False).adapt(TEXT)


@pytest.fixture(scope="module")
def fitted(words):
    return {
        name: recipes.ngram_language_model(
            TEXT, order=3, estimator=name, text_tokenizer=words, held_out=HELD_OUT if name == "linear_interpolation" else None
        )
        for name in ["maximum_likelihood", "additive", "linear_interpolation", "katz", "kneser_ney"]
    }


SCORED = ["the cat sat", "a dog ran on the mat", "mat the on", "the zebra sat", ""]


def test_score_equals_the_estimator_s_log_prob(fitted, words):
    ids = [np.asarray(words.tokenize(s).numpy().tolist()) for s in SCORED]
    counts = count_ngrams([np.asarray(words.tokenize(s).numpy().tolist()) for s in TEXT], 3, words.vocabulary_size())
    estimators = {
        "maximum_likelihood": MaximumLikelihood(counts),
        "additive": AdditiveSmoothing(counts, alpha=1.0),
        "linear_interpolation": LinearInterpolation(counts, [np.asarray(words.tokenize(s).numpy().tolist()) for s in HELD_OUT]),
        "katz": KatzBackOff(counts, k=5),
        "kneser_ney": KneserNey(counts),
    }
    for name, model in fitted.items():
        scores = recipes.score(model, SCORED)
        assert scores["lengths"].tolist() == [len(i) + 1 for i in ids]  # </s> counted; "" scores </s> alone
        for b, sentence_ids in enumerate(ids):
            with np.errstate(divide="ignore"):
                expected = np.log(estimators[name].probability(_padded_rows(sentence_ids, 3)))
            got = scores["token_log_probs"][b, : len(expected)]
            _assert_same_log_probs(got.astype(float), expected, atol=1e-5)
            assert not np.isnan(scores["perplexity"][b])
        np.testing.assert_allclose(scores["perplexity"], np.exp(-scores["log_prob"] / scores["lengths"]), rtol=1e-6)
    mle = recipes.score(fitted["maximum_likelihood"], ["mat the on"])
    assert mle["log_prob"][0] == -math.inf and mle["perplexity"][0] == math.inf  # said, never NaN
    ranked = recipes.score(fitted["kneser_ney"], ["the cat sat on the mat", "mat the on sat cat the"])["log_prob"]
    assert ranked[0] > ranked[1]  # seed 004: p(sentence) tells the natural order from a scrambled one


def _padded_rows(ids, order):
    padded = [0] * (order - 2) + [START_ID] + list(ids) + [END_ID]
    return np.array([padded[i - order + 1 : i + 1] for i in range(order - 1, len(padded))])


def test_unknown_words_score_as_unk_with_the_estimator_s_probability(fitted):
    model = fitted["kneser_ney"]
    a, b = recipes.score(model, ["the zebra sat", "the okapi sat"])["token_log_probs"]
    np.testing.assert_array_equal(a, b)  # both unknown words are <unk>
    assert -30 < a[1] < 0


def test_sampling_draws_from_the_model_s_distribution(words):
    model = recipes.ngram_language_model(TEXT, order=2, estimator="kneser_ney", text_tokenizer=words)
    decoder = model.decoder
    prompt = recipes.prompt_ids(words, ["the"])
    result = recipes.generate(decoder, prompt, temperature=1.0, num_results=4000, max_length=1, seed=3)
    first = np.asarray(result["ids"])[0, :, 0]
    p = np.exp(np.asarray(model.get_layer("ngram_table").distribution(np.array([[words.tokenize("the").numpy()[0]]])))[0])
    frequencies = np.bincount(first, minlength=p.size) / first.size
    assert np.max(np.abs(frequencies - p)) < 0.03  # 4000 draws: a few standard errors
    greedy = recipes.generate(decoder, recipes.prompt_ids(words, ["the", ""]))
    assert decoder.detokenize(greedy["ids"][:, 0]).numpy().tolist()[0] == b"cat ran"
    beams = recipes.generate(decoder, prompt, beam_width=3, num_results=3)
    assert beams["ids"].shape[:2] == (1, 3)


def test_keras_file_reloads_and_export_serves_score_and_generate(fitted, tmp_path):
    model = fitted["kneser_ney"]
    token_ids = np.array([[START_ID, 4, 5, 6], [START_ID, 7, 0, 0]], "int32")
    loaded = reloaded(model, token_ids, str(tmp_path / "ngram.keras"))
    np.testing.assert_allclose(recipes.score(loaded, SCORED)["log_prob"], recipes.score(model, SCORED)["log_prob"], atol=0)
    path = recipes.export(model, str(tmp_path / "export"))
    served = tf.saved_model.load(path)
    assert sorted(served.signatures) == ["generate", "score", "serving_default"]
    scores = served.signatures["score"](inputs=tf.constant(SCORED))
    np.testing.assert_allclose(scores["log_prob"].numpy(), recipes.score(model, SCORED)["log_prob"], atol=1e-6)
    outputs = served.signatures["serving_default"](inputs=tf.constant(["the", "a dog"]))["outputs"].numpy()
    assert outputs.tolist() == recipes.predict(model, ["the", "a dog"])["outputs"].tolist()


def test_arpa_round_trip_and_a_file_written_by_hand(fitted, tmp_path):
    model = fitted["kneser_ney"]
    recipes.write_arpa(model, tmp_path / "kn.arpa")
    text = (tmp_path / "kn.arpa").read_text()
    assert text.startswith("\\data\\\nngram 1=") and "\n-99\t<s>\t" in text and text.endswith("\\end\\\n")
    read = recipes.read_arpa(tmp_path / "kn.arpa")
    np.testing.assert_allclose(recipes.score(read, SCORED)["log_prob"], recipes.score(model, SCORED)["log_prob"], atol=1e-5)
    # A bigram file by hand: p(a | <s>) = 10^-0.2, p(b | a) backs off: b(a) p(b) = 10^(-0.3 - 0.6).
    (tmp_path / "hand.arpa").write_text(textwrap.dedent("""\
        \\data\\
        ngram 1=5
        ngram 2=2

        \\1-grams:
        -1.0\t<unk>
        -99\t<s>\t-0.1
        -0.4\t</s>
        -0.5\ta\t-0.3
        -0.6\tb

        \\2-grams:
        -0.2\t<s> a
        -0.25\ta </s>

        \\end\\
        """))
    hand = recipes.read_arpa(tmp_path / "hand.arpa")
    tokens = recipes.score(hand, ["a b", "b"])["token_log_probs"] / math.log(10)
    np.testing.assert_allclose(tokens[0], [-0.2, -0.3 - 0.6, -0.4], atol=1e-6)  # p(</s> | b): b(b) = 1, p(</s>)
    np.testing.assert_allclose(tokens[1][:2], [-0.1 - 0.6, -0.4], atol=1e-6)


def test_a_character_model_counts_and_scores_but_its_space_cannot_be_written_to_arpa(tmp_path):
    chars = data.CharTokenizer().adapt(TEXT)
    model = recipes.ngram_language_model(TEXT, order=4, text_tokenizer=chars)
    scores = recipes.score(model, ["the cat", "tca eht"])["log_prob"]
    assert scores[0] > scores[1]
    with pytest.raises(ValueError, match="whitespace.*Received: words\\[\\d+\\]=' '"):
        recipes.write_arpa(model, tmp_path / "chars.arpa")
    assert not (tmp_path / "chars.arpa").exists() or (tmp_path / "chars.arpa").stat().st_size == 0


# ------------------------------------------------------------------------------------------------
# Bad input.

ARPA_HEADER = "\\data\\\nngram 1=2\n\n\\1-grams:\n-0.5\ta\n-0.5\t</s>\n"


def _write(tmp_name, content):
    def make():
        path = os.path.join(os.environ.get("TMPDIR", "/tmp"), f"seqrecipes_test_{tmp_name}.arpa")
        with open(path, "wb") as file:
            file.write(content if isinstance(content, bytes) else content.encode())
        return path

    return make


def _read(name, content):
    make = _write(name, content)
    return lambda: recipes.read_arpa(make())


def _tokenizer():
    return data.WordTokenizer(split_punctuation=False).adapt(TEXT)


def _fit(sentences, **arguments):
    return lambda: recipes.ngram_language_model(sentences, text_tokenizer=_tokenizer(), **arguments)


CASES = [
    raises("empty corpus", _fit([]), ValueError, "sentences"),
    raises("only empty sentences", _fit(["", ""]), ValueError, "sentences"),
    raises("corpus shorter than the order", _fit(["a"], order=3), ValueError, "sentences", "order"),
    raises("order 0", _fit(TEXT, order=0), ValueError, "order"),
    raises("order 50", _fit(TEXT, order=50), ValueError, "order"),
    raises("alpha 0", _fit(TEXT, estimator="additive", alpha=0.0), ValueError, "alpha"),
    raises("alpha negative", _fit(TEXT, estimator="additive", alpha=-1.0), ValueError, "alpha"),
    raises("alpha NaN", _fit(TEXT, estimator="additive", alpha=float("nan")), ValueError, "alpha"),
    raises("katz_k 0", _fit(TEXT, estimator="katz", katz_k=0), ValueError, "katz_k"),
    raises("unknown estimator", _fit(TEXT, estimator="witten_bell"), ValueError, "estimator"),
    raises("linear interpolation without held-out text", _fit(TEXT, estimator="linear_interpolation"), ValueError, "held_out"),
    raises("held-out text for another estimator", _fit(TEXT, held_out=HELD_OUT), ValueError, "held_out"),
    raises("one string, not a batch", _fit("the cat sat"), TypeError, "sentences"),
    raises("non-UTF-8 bytes", _fit([b"the cat", b"\xff\xfe sat"]), ValueError, "sentences"),
    raises("strings without a tokenizer", lambda: recipes.ngram_language_model(TEXT, text_vocabulary_size=20), ValueError, "text_tokenizer"),
    raises("ids past the vocabulary", lambda: recipes.ngram_language_model([[4, 30]], text_vocabulary_size=20), ValueError, "sentences"),
    raises("no sentences and no table sizes", lambda: recipes.ngram_language_model(text_tokenizer=_tokenizer()), ValueError, "sentences"),
    raises("max_output_length 10**9", _fit(TEXT, max_output_length=10**9), ValueError, "max_output_length"),
    answers("an empty sentence to score scores </s> alone", lambda: recipes.score(_fit(TEXT)(), [""]),
            lambda s: s["lengths"].tolist() == [1] and np.isfinite(s["log_prob"][0])),  # fmt: skip
    answers("maximum likelihood on an unseen sentence: inf perplexity, never NaN",
            lambda: recipes.score(_fit(TEXT, estimator="maximum_likelihood")(), ["mat mat mat"]),
            lambda s: s["perplexity"][0] == math.inf and s["log_prob"][0] == -math.inf),  # fmt: skip
    raises("ARPA: no \\data\\ header", _read("no_header", "ngram 1=2\n"), ValueError, "path", "line 1"),
    raises("ARPA: a bad count line", _read("bad_count", "\\data\\\nngram one=2\n"), ValueError, "path", "line 2"),
    raises("ARPA: a non-number probability", _read("bad_number", ARPA_HEADER.replace("-0.5\ta", "x\ta") + "\n\\end\\\n"),
           ValueError, "path", "line 5"),  # fmt: skip
    raises("ARPA: an entry with too many fields", _read("fields", ARPA_HEADER.replace("-0.5\ta", "-0.5\ta b c d") + "\\end\\\n"),
           ValueError, "path", "line 5"),  # fmt: skip
    raises("ARPA: truncated inside a section", _read("truncated", ARPA_HEADER[: ARPA_HEADER.rindex("-0.5")]),
           ValueError, "path", "2 1-gram entries"),  # fmt: skip
    raises("ARPA: no \\end\\", _read("no_end", ARPA_HEADER), ValueError, "path", "\\end\\"),
    raises("ARPA: a bigram of unknown words", _read("unknown_word",
           ARPA_HEADER.replace("ngram 1=2\n", "ngram 1=2\nngram 2=1\n") + "\n\\2-grams:\n-0.1\ta zz\n\n\\end\\\n"),
           ValueError, "path", "line 10"),  # fmt: skip
    raises("ARPA: a repeated n-gram", _read("repeated", ARPA_HEADER.replace("</s>", "a") + "\n\\end\\\n"), ValueError, "path", "once"),
    raises("ARPA: not UTF-8", _read("latin1", ARPA_HEADER.encode() .replace(b"\ta\n", b"\t\xe9\n") + b"\n\\end\\\n"),
           ValueError, "path", "UTF-8"),  # fmt: skip
    raises("ARPA: a missing file", lambda: recipes.read_arpa("/nonexistent/x.arpa"), FileNotFoundError, "x.arpa"),
    raises("write_arpa of another recipe", lambda: recipes.write_arpa(recipes.rnn_language_model(text_vocabulary_size=8), "/tmp/x.arpa"),
           ValueError, "model"),  # fmt: skip
]


@pytest.mark.parametrize("case", params(CASES))
def test_bad_input_is_answered_clearly(case):
    expect_clear(case)
