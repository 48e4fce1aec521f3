"""Date-format translation: human-written dates in English and Korean to ISO 8601.

The task of the attention tutorials (Bahdanau-style alignment plots show the model reading the
day, month and year from the right places): ``"June 25th, 2009"`` and ``"2009년 6월 25일"`` both
become ``"2009-06-25"``.
"""

import datetime

import numpy as np
import tensorflow as tf

from seqrecipes._checks import check_positive_int
from seqrecipes.data.synthetic_tasks import check_total_size, seeded_rng

MAX_FILLER_WORDS = 1000

MONTHS = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
KOREAN_WEEKDAYS = ("월", "화", "수", "목", "금", "토", "일")
FILLER_WORDS = {
    "en": ("on", "the", "date", "is", "please", "note", "meeting", "due", "by", "from", "until", "see"),
    "ko": ("날짜", "회의", "마감", "일정", "오늘", "예정", "약속", "시작", "기준", "까지"),
}


def _as_date(name, value):
    """A ``datetime.date`` from a date or an ISO string, or a ValueError naming the argument."""
    if isinstance(value, datetime.date):
        return value
    if isinstance(value, str):
        try:
            return datetime.date.fromisoformat(value)
        except ValueError as error:
            raise ValueError(f"`{name}` must be an ISO date 'YYYY-MM-DD' or a datetime.date. Received: {name}={value!r:.100}") from error
    raise TypeError(f"`{name}` must be an ISO date 'YYYY-MM-DD' or a datetime.date. Received: {name}={value!r:.100}")


def _check_fraction(test_fraction):
    if isinstance(test_fraction, bool) or not isinstance(test_fraction, (int, float, np.number)) or not 0.0 < test_fraction < 1.0:
        raise ValueError(f"`test_fraction` must be in (0, 1). Received: test_fraction={test_fraction!r}")


def _ordinal(day):
    if day in (11, 12, 13):
        return f"{day}th"
    return f"{day}{ {1: 'st', 2: 'nd', 3: 'rd'}.get(day % 10, 'th') }"


# name -> (language, formatter). Two-digit years are unambiguous only inside one century window
# (the default date range, 1950-2049, maps 50-99 to 19xx and 00-49 to 20xx).
DATE_FORMATS = {
    "en_long": ("en", lambda d: f"{MONTHS[d.month - 1]} {d.day}, {d.year}"),
    "en_long_ordinal": ("en", lambda d: f"{MONTHS[d.month - 1]} {_ordinal(d.day)}, {d.year}"),
    "en_day_month": ("en", lambda d: f"{d.day} {MONTHS[d.month - 1]} {d.year}"),
    "en_day_of_month": ("en", lambda d: f"{_ordinal(d.day)} of {MONTHS[d.month - 1]}, {d.year}"),
    "en_short": ("en", lambda d: f"{MONTHS[d.month - 1][:3]} {d.day}, {d.year}"),
    "en_weekday": ("en", lambda d: f"{WEEKDAYS[d.weekday()]}, {MONTHS[d.month - 1]} {d.day}, {d.year}"),
    "en_short_weekday": ("en", lambda d: f"{WEEKDAYS[d.weekday()][:3]}, {d.day} {MONTHS[d.month - 1][:3]} {d.year}"),
    "en_lower": ("en", lambda d: f"{MONTHS[d.month - 1].lower()} {d.day} {d.year}"),
    "us_numeric": ("en", lambda d: f"{d.month}/{d.day}/{d.year}"),
    "us_numeric_short": ("en", lambda d: f"{d.month:02d}/{d.day:02d}/{d.year % 100:02d}"),
    "eu_dotted": ("en", lambda d: f"{d.day:02d}.{d.month:02d}.{d.year}"),
    "ko_long": ("ko", lambda d: f"{d.year}년 {d.month}월 {d.day}일"),
    "ko_padded": ("ko", lambda d: f"{d.year}년 {d.month:02d}월 {d.day:02d}일"),
    "ko_weekday": ("ko", lambda d: f"{d.year}년 {d.month}월 {d.day}일 {KOREAN_WEEKDAYS[d.weekday()]}요일"),
    "ko_weekday_short": ("ko", lambda d: f"{d.year}년 {d.month}월 {d.day}일 ({KOREAN_WEEKDAYS[d.weekday()]})"),
    "ko_short_year": ("ko", lambda d: f"{d.year % 100:02d}년 {d.month}월 {d.day}일"),
    "ko_dotted": ("ko", lambda d: f"{d.year}. {d.month}. {d.day}."),
    "ko_compact": ("ko", lambda d: f"{d.year}.{d.month:02d}.{d.day:02d}"),
}
SPLITS = ("train", "test")


def format_date(date, format_name):
    """Writes ``date`` (a ``datetime.date`` or ISO string) in one of ``DATE_FORMATS``.

    Raises:
        ValueError: an unknown format, or ``date`` is not an ISO date string.
        TypeError: ``date`` is neither a string nor a ``datetime.date``.

    Example:
    >>> from seqrecipes import data
    >>> data.format_date("2009-06-25", "en_long_ordinal"), data.format_date("2009-06-25", "ko_weekday")
    ('June 25th, 2009', '2009년 6월 25일 목요일')
    """
    if format_name not in DATE_FORMATS:
        raise ValueError(f"Unknown date format; known: {sorted(DATE_FORMATS)}. Received: format_name={format_name!r}")
    return DATE_FORMATS[format_name][1](_as_date("date", date))


def is_test_date(date, test_fraction=0.1):
    """Whether ``date`` belongs to the held-out test dates (a fixed hash of the day, not random).

    ``date_translation(split="test")`` draws only such days and ``split="train"`` only the others.

    Raises:
        ValueError: ``date`` is not an ISO date string, ``test_fraction`` not in (0, 1).
        TypeError: ``date`` is neither a string nor a ``datetime.date``.

    Example:
    >>> from seqrecipes import data
    >>> data.is_test_date("2009-07-05"), data.is_test_date("2009-07-06")
    (False, True)
    """
    date = _as_date("date", date)
    _check_fraction(test_fraction)
    return (date.toordinal() * 2654435761) % 1000 < round(test_fraction * 1000)


def date_translation(
    num_examples=10_000,
    languages=("en", "ko"),
    formats=None,
    start_date="1950-01-01",
    end_date="2049-12-31",
    split=None,
    test_fraction=0.1,
    filler_words=0,
    seed=0,
):
    """Pairs (a date as people write it, the same date in ISO 8601).

    Dates are drawn uniformly from ``[start_date, end_date]``, each written in a format drawn
    uniformly from the chosen ones (``DATE_FORMATS``: 11 English and 7 Korean formats, such as
    ``"June 25th, 2009"``, ``"6/25/2009"``, ``"Thursday, June 25, 2009"``, ``"2009년 6월 25일"``,
    ``"2009. 6. 25."``, ``"2009년 6월 25일 목요일"``).

    Held-out evaluation: ``split="train"`` never yields a date of ``split="test"`` and vice versa;
    about ``test_fraction`` of all days are test days (``is_test_date``, a fixed hash of the day,
    so the split is the same for every seed). Other generalization tests: a later date range,
    formats left out of training, or ``filler_words`` to make inputs longer than any seen in
    training (the seq2seq bottleneck experiment).

    Args:
        num_examples: how many pairs.
        languages: which formats to use by language: ``"en"``, ``"ko"`` or both.
        formats: explicit format names (overrides ``languages``), or ``None``.
        start_date: the earliest date, ISO string or ``datetime.date``.
        end_date: the latest date.
        split: ``None`` (every day), ``"train"`` or ``"test"``.
        test_fraction: the share of days held out for ``"test"``.
        filler_words: words put before the date, drawn from a small list in the format's language
            (``"please note the date June 25th, 2009"``): an int, or ``(min, max)`` for a number
            drawn per example.
        seed: the random seed.

    Returns:
        A dataset with element spec ``(TensorSpec((), string), TensorSpec((), string))``: the
        human-written date (UTF-8) and ``"YYYY-MM-DD"``.

    Raises:
        ValueError: ``num_examples`` is not a positive integer; unknown languages or formats (or
            one bare format string); a bad ``split`` or ``test_fraction``; a date that is not ISO, or
            ``end_date`` before ``start_date``; ``filler_words`` not an int or (min, max) within
            ``0 <= min <= max <= MAX_FILLER_WORDS`` (1000); more than ``MAX_VALUES`` words in all; a
            bad ``seed``.
        TypeError: a date that is neither a string nor a ``datetime.date``.

    Example:
    >>> from seqrecipes import data
    >>> ds = data.date_translation(3, seed=1)
    >>> [(a.decode(), b.decode()) for a, b in ds.as_numpy_iterator()]
    [('1997.04.27', '1997-04-27'), ('March 8, 2001', '2001-03-08'), ('8 July 2025', '2025-07-08')]

    References:
        Bahdanau et al., "Neural machine translation by jointly learning to align and
        translate", ICLR 2015; Andrew Ng's deep-learning course, "Neural machine translation with
        attention" (human to machine-readable dates).
    """
    check_positive_int("num_examples", num_examples)
    if isinstance(languages, str) and languages in FILLER_WORDS:
        languages = (languages,)
    if isinstance(formats, str):
        raise ValueError(f"`formats` must be a list of format names, not one string. Received: formats={formats!r}")
    if formats is None:
        if isinstance(languages, str):
            raise ValueError(f"`languages` must be a non-empty subset of ['en', 'ko']. Received: languages={languages!r}")
        unknown = [lang for lang in languages if lang not in FILLER_WORDS]
        if unknown or not languages:
            raise ValueError(f"`languages` must be a non-empty subset of ['en', 'ko']. Received: languages={languages!r}")
        formats = [name for name, (lang, _) in DATE_FORMATS.items() if lang in languages]
    else:
        formats = list(formats)
        unknown = [name for name in formats if name not in DATE_FORMATS]
        if unknown or not formats:
            raise ValueError(f"Unknown date formats {unknown}; known: {sorted(DATE_FORMATS)}. Received: formats={formats}")
    if split not in (None,) + SPLITS:
        raise ValueError(f"`split` must be None, 'train' or 'test'. Received: split={split!r}")
    _check_fraction(test_fraction)
    start, end = _as_date("start_date", start_date), _as_date("end_date", end_date)
    if end < start:
        raise ValueError(f"`end_date` must not precede start_date={start}. Received: end_date={end}")
    counts = [filler_words] * 2 if isinstance(filler_words, (int, np.integer)) else filler_words
    if (
        not isinstance(counts, (list, tuple))
        or len(counts) != 2
        or not all(isinstance(c, (int, np.integer)) and not isinstance(c, bool) for c in counts)
        or not 0 <= counts[0] <= counts[1] <= MAX_FILLER_WORDS
    ):
        raise ValueError(
            f"`filler_words` must be an int or (min, max) with 0 <= min <= max <= {MAX_FILLER_WORDS}. "
            f"Received: filler_words={filler_words!r:.100}"
        )
    low, high = int(counts[0]), int(counts[1])
    check_total_size(num_examples=num_examples, words=high + 1)

    days = np.arange(start.toordinal(), end.toordinal() + 1)
    if split is not None:
        test = (days * 2654435761) % 1000 < round(test_fraction * 1000)
        days = days[test] if split == "test" else days[~test]
        if days.size == 0:
            raise ValueError(f"No {split} days in [{start}, {end}]. Received: test_fraction={test_fraction}")
    rng = seeded_rng(seed)
    chosen_days = rng.choice(days, size=num_examples)
    chosen_formats = rng.integers(0, len(formats), size=num_examples)
    filler_counts = rng.integers(low, high + 1, size=num_examples)
    sources, targets = [], []
    for day, format_index, count in zip(chosen_days.tolist(), chosen_formats.tolist(), filler_counts.tolist()):
        date = datetime.date.fromordinal(day)
        language, formatter = DATE_FORMATS[formats[format_index]]
        text = formatter(date)
        if count:
            words = rng.choice(FILLER_WORDS[language], size=count)
            text = " ".join(list(words) + [text])
        sources.append(text)
        targets.append(date.isoformat())
    return tf.data.Dataset.from_tensor_slices((sources, targets))
