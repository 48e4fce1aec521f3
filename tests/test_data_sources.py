"""Dataset sources: synthetic tasks, scikit-learn digits, statsmodels series, TFDS by name, user files."""

import datetime

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_datasets as tfds

from seqrecipes import data
from seqrecipes.data.handwritten_digits import DIGIT_WORDS
from seqrecipes.data.shapes_captioning import COLOURS


def _items(dataset):
    return list(dataset.as_numpy_iterator())


def _same(a, b):
    for x, y in zip(_items(a), _items(b), strict=True):
        for u, v in zip(x, y, strict=True):
            np.testing.assert_array_equal(u, v)


# ---------------------------------------------------------------------------------------------
# synthetic tasks


@pytest.mark.parametrize(
    "make",
    [
        lambda seed: data.adding_problem(20, length=12, seed=seed),
        lambda seed: data.copy_memory(20, delay=5, copy_length=3, seed=seed),
        lambda seed: data.sequence_reversal(20, seed=seed),
        lambda seed: data.digit_addition(20, seed=seed),
        lambda seed: data.date_translation(20, seed=seed),
        lambda seed: data.shapes_captioning(5, seed=seed),
        lambda seed: data.noisy_periodic_series(50, seed=seed).batch(50).map(lambda x: (x, x)),
    ],
    ids=["adding", "copy", "reversal", "addition", "dates", "shapes", "series"],
)
def test_synthetic_tasks_are_reproducible_under_a_seed(make):
    _same(make(7), make(7))
    with pytest.raises(AssertionError):
        _same(make(7), make(8))


def test_adding_problem():
    ds = data.adding_problem(100, length=20, seed=0)
    assert ds.element_spec == (tf.TensorSpec((20, 2), tf.float32), tf.TensorSpec((), tf.float32))
    for x, y in _items(ds):
        marked = np.flatnonzero(x[:, 1])
        assert len(marked) == 2 and marked[0] < 10 <= marked[1]
        assert y == pytest.approx(x[marked, 0].sum(), abs=1e-6)
    with pytest.raises(ValueError, match=r"Received: length=1"):
        data.adding_problem(length=1)


def test_copy_memory():
    ds = data.copy_memory(50, delay=6, copy_length=4, num_symbols=5, seed=0)
    assert ds.element_spec == (tf.TensorSpec((14,), tf.int32), tf.TensorSpec((14,), tf.int32))
    for x, y in _items(ds):
        symbols = x[:4]
        assert ((1 <= symbols) & (symbols <= 5)).all()
        assert x[4:9].tolist() == [0] * 5 and x[9] == 6 and x[10:].tolist() == [0] * 4
        assert y[:10].tolist() == [0] * 10 and y[10:].tolist() == symbols.tolist()


def test_reversal_and_addition():
    for source, target in _items(data.sequence_reversal(50, min_length=2, max_length=5, alphabet="가나다", seed=1)):
        source, target = source.decode(), target.decode()
        assert target == source[::-1] and 2 <= len(source) <= 5 and set(source) <= set("가나다")
    pairs = [(a.decode(), b.decode()) for a, b in _items(data.digit_addition(200, max_digits=3, seed=0))]
    for source, target in pairs:
        left, right = source.split("+")
        assert int(target) == int(left) + int(right) and str(int(left)) == left and len(left) <= 3
    assert {len(s.split("+")[0]) for s, _ in pairs} == {1, 2, 3}


def test_date_formats_exact():
    expected = {
        "en_long": "June 25, 2009",
        "en_long_ordinal": "June 25th, 2009",
        "en_day_month": "25 June 2009",
        "en_day_of_month": "25th of June, 2009",
        "en_short": "Jun 25, 2009",
        "en_weekday": "Thursday, June 25, 2009",
        "en_short_weekday": "Thu, 25 Jun 2009",
        "en_lower": "june 25 2009",
        "us_numeric": "6/25/2009",
        "us_numeric_short": "06/25/09",
        "eu_dotted": "25.06.2009",
        "ko_long": "2009년 6월 25일",
        "ko_padded": "2009년 06월 25일",
        "ko_weekday": "2009년 6월 25일 목요일",
        "ko_weekday_short": "2009년 6월 25일 (목)",
        "ko_short_year": "09년 6월 25일",
        "ko_dotted": "2009. 6. 25.",
        "ko_compact": "2009.06.25",
    }
    assert {name: data.format_date("2009-06-25", name) for name in data.DATE_FORMATS} == expected
    ordinals = [data.format_date(d, "en_long_ordinal") for d in ("2001-03-01", "2023-02-22", "2023-02-03", "2002-11-12")]
    assert ordinals == ["March 1st, 2001", "February 22nd, 2023", "February 3rd, 2023", "November 12th, 2002"]
    with pytest.raises(ValueError, match=r"Received: format_name='iso'"):
        data.format_date("2009-06-25", "iso")


def test_date_translation_targets_splits_languages_and_fillers():
    ds = data.date_translation(300, seed=0)
    assert ds.element_spec == (tf.TensorSpec((), tf.string), tf.TensorSpec((), tf.string))
    pairs = [(a.decode("utf-8"), b.decode()) for a, b in _items(ds)]
    for source, target in pairs:
        date = datetime.date.fromisoformat(target)
        assert datetime.date(1950, 1, 1) <= date <= datetime.date(2049, 12, 31)
        assert source in {data.format_date(date, name) for name in data.DATE_FORMATS}
    assert any("년" in s for s, _ in pairs) and any("June" in s or "Jun" in s for s, _ in pairs)
    korean = [s for s, _ in _items(data.date_translation(50, languages=("ko",), seed=0))]
    assert all("년" in s.decode() or s.decode().count(".") >= 2 for s in korean)
    train = {t for _, t in _items(data.date_translation(3000, split="train", seed=0))}
    test = {t for _, t in _items(data.date_translation(3000, split="test", seed=0))}
    assert train and test and not (train & test)
    assert all(data.is_test_date(t.decode()) for t in test) and not any(data.is_test_date(t.decode()) for t in train)
    plain = max(len(s) for s, _ in _items(data.date_translation(500, formats=["en_long"], seed=0)))
    padded = min(len(s) for s, _ in _items(data.date_translation(500, formats=["en_long"], filler_words=(8, 10), seed=0)))
    assert padded > plain  # longer than any training input: the bottleneck experiment
    late = [t.decode() for _, t in _items(data.date_translation(50, start_date="2100-01-01", end_date="2100-12-31"))]
    assert all(t.startswith("2100-") for t in late)
    with pytest.raises(ValueError, match=r"Unknown date formats \['iso'\]"):
        data.date_translation(formats=["iso"])
    with pytest.raises(ValueError, match=r"Received: languages=\('fr',\)"):
        data.date_translation(languages=("fr",))
    with pytest.raises(ValueError, match=r"Received: split='valid'"):
        data.date_translation(split="valid")


def test_shapes_captioning_pictures_match_captions():
    ds = data.shapes_captioning(60, image_size=32, seed=0)
    assert ds.element_spec == (tf.TensorSpec((32, 32, 3), tf.float32), tf.TensorSpec((), tf.string))
    checked = 0
    for image, caption in _items(ds):
        words = caption.decode().split()
        colours = [w for w in words if w in COLOURS]
        for colour in colours:
            rgb = COLOURS[colour]
            assert (np.abs(image - rgb).sum(axis=-1) < 1e-6).any(), caption
        painted = (image.sum(axis=-1) > 0).sum()
        if len(colours) == 2 and colours[0] != colours[1]:
            rgb = [COLOURS[c] for c in colours]
            centres = [np.argwhere(np.abs(image - c).sum(axis=-1) < 1e-6).mean(axis=0) for c in rgb]
            (y1, x1), (y2, x2) = centres
            relation = caption.decode().split(" ", 3)[3].rsplit(" a ", 1)[0]
            assert {"above": y1 < y2, "below": y1 > y2, "to the left of": x1 < x2, "to the right of": x1 > x2}[relation]
            checked += 1
        assert painted > 0
    assert checked > 20


def test_noisy_periodic_series():
    clean = np.array([v[0] for v in _items(data.noisy_periodic_series(48, periods=(12,), noise=0.0, seed=0))])
    np.testing.assert_allclose(clean[:12], clean[12:24], atol=1e-5)
    trend = np.array([v[0] for v in _items(data.noisy_periodic_series(24, periods=(12,), trend=1.0, noise=0.0, seed=0))])
    np.testing.assert_allclose(trend[12:] - trend[:12], 12.0, atol=1e-4)
    with pytest.raises(ValueError, match=r"Received: amplitudes=\[1.0, 2.0\]"):
        data.noisy_periodic_series(periods=(12,), amplitudes=(1, 2))


# ---------------------------------------------------------------------------------------------
# real data sets shipped by packages


def test_digit_rows():
    train, test = data.digit_rows("train"), data.digit_rows("test")
    assert int(train.cardinality()) == 1438 and int(test.cardinality()) == 359
    assert train.element_spec == (tf.TensorSpec((8, 8), tf.float32), tf.TensorSpec((), tf.int32))
    images = np.stack([x for x, _ in _items(train)])
    assert images.min() == 0.0 and images.max() == 1.0
    assert [int(y) for _, y in _items(train.take(10))] == list(range(10))
    with pytest.raises(ValueError, match=r"Received: split='valid'"):
        data.digit_rows("valid")


def test_digit_strips_captions_name_the_digits():
    lookup = {x.tobytes(): int(y) for x, y in _items(data.digit_rows("all"))}
    for language in ("en", "ko"):
        ds = data.digit_strips(30, min_digits=1, max_digits=3, language=language, seed=0)
        assert ds.element_spec == (tf.TensorSpec((8, 24, 1), tf.float32), tf.TensorSpec((), tf.string))
        for strip, caption in _items(ds):
            words = caption.decode().split()
            blocks = [strip[:, 8 * k : 8 * k + 8, 0] for k in range(3)]
            assert [DIGIT_WORDS[language][lookup[b.tobytes()]] for b in blocks[: len(words)]] == words
            assert all(not b.any() for b in blocks[len(words) :])
    with pytest.raises(ValueError, match=r"Received: min_digits=3, max_digits=2"):
        data.digit_strips(min_digits=3, max_digits=2)


def test_statsmodels_series():
    nile = [float(v[0]) for v in _items(data.statsmodels_series("nile"))]
    assert len(nile) == 100 and nile[:3] == [1120.0, 1160.0, 963.0]
    assert int(data.statsmodels_series("sunspots").cardinality()) == 309
    assert int(data.statsmodels_series("elnino").cardinality()) == 732
    with pytest.raises(ValueError, match=r"'co2' holds NaN at 5 of 526 time steps"):
        data.statsmodels_series("co2")
    with pytest.warns(UserWarning):
        co2 = np.array([v[0] for v in _items(data.statsmodels_series("co2", nan_policy="interpolate"))])
    assert len(co2) == 526 and np.isfinite(co2).all()
    windows = data.statsmodels_series("nile").apply(data.series_windows(24, horizon=12, stride=12))
    assert int(sum(1 for _ in windows)) == 6
    with pytest.raises(ValueError, match=r"known: \['co2', 'elnino', 'macrodata', 'nile', 'sunspots'\]"):
        data.statsmodels_series("airline")


# ---------------------------------------------------------------------------------------------
# TensorFlow Datasets by name (offline, mocked)

TFDS_SPECS = {
    "tiny_shakespeare": tf.TensorSpec((), tf.string),
    "imdb_reviews": (tf.TensorSpec((), tf.string), tf.TensorSpec((), tf.int64)),
    "glue/sst2": (tf.TensorSpec((), tf.string), tf.TensorSpec((), tf.int64)),
    "ag_news_subset": (tf.TensorSpec((), tf.string), tf.TensorSpec((), tf.int64)),
    "ted_hrlr_translate/pt_to_en": (tf.TensorSpec((), tf.string), tf.TensorSpec((), tf.string)),
    "conll2003": (tf.TensorSpec((None,), tf.string), tf.TensorSpec((None,), tf.int64)),
}


@pytest.mark.parametrize("name", sorted(TFDS_SPECS))
def test_load_tfds_maps_features_to_inputs_and_targets(name):
    with tfds.testing.mock_data(num_examples=3):
        ds, info = data.load_tfds(name, split="train", with_info=True)
    assert set(data.TFDS_DATASETS) == set(TFDS_SPECS)
    assert ds.element_spec == TFDS_SPECS[name]
    assert len(_items(ds)) == 3
    assert info.name == name.split("/")[0]


def test_load_tfds_pipeline_and_unknown_name():
    with tfds.testing.mock_data(num_examples=4):
        ds = data.load_tfds("imdb_reviews:1.0.0", split="test")
    chars = data.CharTokenizer().adapt(ds.map(lambda text, label: text))
    batches = list(ds.apply(data.tokenize(chars)).apply(data.batch_with_padding(2)).as_numpy_iterator())
    assert len(batches) == 2 and batches[0][0].shape[0] == 2
    with tfds.testing.mock_data(num_examples=2):
        ag = next(iter(data.load_tfds("ag_news_subset")))[0]
    with pytest.raises(ValueError, match=r"known: ag_news_subset, conll2003, glue/sst2, imdb_reviews, ted_hrlr_translate/pt_to_en, tiny_shakespeare. Received: name='wmt14'"):
        data.load_tfds("wmt14")
    assert b" " in ag.numpy()  # title and description joined


# ---------------------------------------------------------------------------------------------
# the user's files


def test_text_lines_and_document(tmp_path):
    path = tmp_path / "corpus.txt"
    path.write_bytes("경마장에 있는 말이 뛰고 있다\r\n\r\n   \r\n그의 말이 법이다\nbad \xff byte\n".encode("utf-8").replace(b"\xc3\xbf", b"\xff"))
    lines = _items(data.text_lines(str(path)))
    assert lines[:2] == ["경마장에 있는 말이 뛰고 있다".encode(), "그의 말이 법이다".encode()]
    assert lines[2] == b"bad \xff byte"
    chars = data.CharTokenizer().adapt(data.text_lines(str(path)))
    assert chars.detokenize(chars.tokenize(lines[2])).numpy().decode() == "bad \ufffd byte"  # replaced, never raised
    assert len(_items(data.text_lines(str(path), skip_empty=False))) == 5
    assert len(_items(data.text_lines([str(path), str(path)]))) == 6
    document = _items(data.text_document(str(path)))
    assert len(document) == 1 and document[0] == path.read_bytes()


@pytest.mark.parametrize("reader", [data.text_lines, data.text_document, lambda p: data.conll_file(p), lambda p: data.delimited_file(p, "a", "b", delimiter="\t")])
def test_missing_and_empty_files(tmp_path, reader):
    with pytest.raises(FileNotFoundError, match=r"Received: path='.*nothing.txt'"):
        reader(str(tmp_path / "nothing.txt"))
    empty = tmp_path / "empty.txt"
    empty.write_text(" \n\n")
    with pytest.raises(ValueError, match=r"data file is empty.*Received: path='.*empty.txt'"):
        reader(str(empty))


def test_delimited_files(tmp_path):
    tsv = tmp_path / "pairs.tsv"
    tsv.write_text('id\tsource\ttarget\n1\tJune 25th, 2009\t2009-06-25\n\n2\t"2009년 6월 25일"\t2009-06-25\n', encoding="utf-8")
    pairs = [(a.decode(), b.decode()) for a, b in _items(data.delimited_file(str(tsv), "source", "target"))]
    assert pairs == [("June 25th, 2009", "2009-06-25"), ('"2009년 6월 25일"', "2009-06-25")]
    csv_path = tmp_path / "labels.csv"
    csv_path.write_text('text,label\n"good, really",1\nbad,0\n', encoding="utf-8")
    ds = data.delimited_file(str(csv_path), inputs="text", targets="label", targets_dtype="int64")
    assert ds.element_spec == (tf.TensorSpec((), tf.string), tf.TensorSpec((), tf.int64))
    assert _items(ds) == [(b"good, really", 1), (b"bad", 0)]
    malformed = tmp_path / "bad.tsv"
    malformed.write_text("source\ttarget\na\tb\nc\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"bad.tsv:3: expected 2 fields \(\['source', 'target'\]\), found 1. Received: line='c'"):
        data.delimited_file(str(malformed), "source", "target")
    with pytest.raises(ValueError, match=r"pairs.tsv:1: column\(s\) \['label'\] not in the header \['id', 'source', 'target'\]"):
        data.delimited_file(str(tsv), "source", "label")
    not_int = tmp_path / "labels2.csv"
    not_int.write_text("text,label\nok,1\nhmm,positive\n")
    with pytest.raises(ValueError, match=r"labels2.csv:3: the 'label' field is not int64. Received: label='positive'"):
        data.delimited_file(str(not_int), "text", "label", targets_dtype="int64")
    header_only = tmp_path / "header.csv"
    header_only.write_text("text,label\n")
    with pytest.raises(ValueError, match=r"no data rows"):
        data.delimited_file(str(header_only), "text", "label")
    with pytest.raises(ValueError, match=r"Cannot tell the delimiter"):
        data.delimited_file(str(_copy(tsv, tmp_path / "pairs.dat")), "source", "target")


def _copy(source, destination):
    destination.write_bytes(source.read_bytes())
    return destination


def test_conll_files(tmp_path):
    path = tmp_path / "train.conll"
    path.write_text(
        "-DOCSTART- -X- -X- O\n\nEU NNP B-NP B-ORG\nrejects VBZ B-VP O\nGerman JJ B-NP B-MISC\n\n\nPeter NNP B-NP B-PER\nBlackburn NNP I-NP I-PER\n",
        encoding="utf-8",
    )
    ds = data.conll_file(str(path))
    assert ds.element_spec == (tf.TensorSpec((None,), tf.string), tf.TensorSpec((None,), tf.string))
    sentences = [([t.decode() for t in x], [g.decode() for g in y]) for x, y in _items(ds)]
    assert sentences == [(["EU", "rejects", "German"], ["B-ORG", "O", "B-MISC"]), (["Peter", "Blackburn"], ["B-PER", "I-PER"])]
    pos = [[g.decode() for g in y] for _, y in _items(data.conll_file(str(path), tag_column=1))]
    assert pos == [["NNP", "VBZ", "JJ"], ["NNP", "NNP"]]
    # Tags to ids with a vocabulary, tokens with a word tokenizer's table.
    tags = data.Vocabulary.build(ds.map(lambda tokens, tags: tags))
    words = data.WordTokenizer(vocabulary=data.Vocabulary.build(ds.map(lambda tokens, tags: tokens)))
    tagger = data.WordTokenizer(vocabulary=tags, split_punctuation=False)
    ids = ds.map(lambda tokens, t: (words.tokens_to_ids(tokens), tagger.tokens_to_ids(t)))
    first = next(iter(ids))
    assert [words.id_to_token(int(i)) for i in first[0]] == ["EU", "rejects", "German"]
    assert [tags.id_to_token(int(i)) for i in first[1]] == ["B-ORG", "O", "B-MISC"]
    bad = tmp_path / "bad.conll"
    bad.write_text("EU NNP B-NP B-ORG\nrejects\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"bad.conll:2: expected at least 2 columns .* found 1. Received: line='rejects'"):
        data.conll_file(str(bad))
    only_docstart = tmp_path / "docstart.conll"
    only_docstart.write_text("-DOCSTART- -X- -X- O\n\n")
    with pytest.raises(ValueError, match=r"no sentences"):
        data.conll_file(str(only_docstart))
