"""data.date_translation: the date formats, held-out days, languages and filler words."""

import datetime

import pytest
import tensorflow as tf

from seqrecipes import data

from data_helpers import assert_reproducible, items


def test_date_translation_is_reproducible_under_a_seed():
    assert_reproducible(lambda seed: data.date_translation(20, seed=seed))


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
    pairs = [(a.decode("utf-8"), b.decode()) for a, b in items(ds)]
    for source, target in pairs:
        date = datetime.date.fromisoformat(target)
        assert datetime.date(1950, 1, 1) <= date <= datetime.date(2049, 12, 31)
        assert source in {data.format_date(date, name) for name in data.DATE_FORMATS}
    assert any("년" in s for s, _ in pairs) and any("June" in s or "Jun" in s for s, _ in pairs)
    korean = [s for s, _ in items(data.date_translation(50, languages=("ko",), seed=0))]
    assert all("년" in s.decode() or s.decode().count(".") >= 2 for s in korean)
    train = {t for _, t in items(data.date_translation(3000, split="train", seed=0))}
    test = {t for _, t in items(data.date_translation(3000, split="test", seed=0))}
    assert train and test and not (train & test)
    assert all(data.is_test_date(t.decode()) for t in test) and not any(data.is_test_date(t.decode()) for t in train)
    plain = max(len(s) for s, _ in items(data.date_translation(500, formats=["en_long"], seed=0)))
    padded = min(len(s) for s, _ in items(data.date_translation(500, formats=["en_long"], filler_words=(8, 10), seed=0)))
    assert padded > plain  # longer than any training input: the bottleneck experiment
    late = [t.decode() for _, t in items(data.date_translation(50, start_date="2100-01-01", end_date="2100-12-31"))]
    assert all(t.startswith("2100-") for t in late)
    with pytest.raises(ValueError, match=r"Unknown date formats \['iso'\]"):
        data.date_translation(formats=["iso"])
    with pytest.raises(ValueError, match=r"Received: languages=\('fr',\)"):
        data.date_translation(languages=("fr",))
    with pytest.raises(ValueError, match=r"Received: split='valid'"):
        data.date_translation(split="valid")
