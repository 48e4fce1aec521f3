"""Handwritten digits from scikit-learn (the UCI 8x8 digits, shipped with the package: no download)."""

import numpy as np
import tensorflow as tf

from seqrecipes._checks import check_choice, check_positive_int
from seqrecipes.data.synthetic_tasks import check_total_size, seeded_rng

DIGIT_WORDS = {
    "en": ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"),
    "ko": ("영", "일", "이", "삼", "사", "오", "육", "칠", "팔", "구"),
}
SPLITS = ("train", "test", "all")


def _digits(split, test_fraction):
    check_choice("split", split, SPLITS)
    if isinstance(test_fraction, bool) or not isinstance(test_fraction, (int, float, np.number)) or not 0.0 < test_fraction < 1.0:
        raise ValueError(f"`test_fraction` must be in (0, 1). Received: test_fraction={test_fraction!r}")
    from sklearn.datasets import load_digits

    bunch = load_digits()
    images = (bunch.images / 16.0).astype(np.float32)  # (1797, 8, 8), ink in [0, 1]
    labels = bunch.target.astype(np.int32)
    cut = int(round(len(images) * (1.0 - test_fraction)))
    if split == "train":
        return images[:cut], labels[:cut]
    if split == "test":
        return images[cut:], labels[cut:]
    return images, labels


def digit_rows(split="train", test_fraction=0.2):
    """Each 8x8 digit as a sequence of its 8 rows (8 features per step), with its label.

    The many-to-one classification task: an RNN reads the image top to bottom, one row per time
    step. Splits are fixed: the first ``1 - test_fraction`` of scikit-learn's order is
    ``"train"`` (1438 images at the default), the rest ``"test"`` (359).

    Args:
        split: ``"train"``, ``"test"`` or ``"all"``.
        test_fraction: the share of images in ``"test"``.

    Returns:
        A dataset with element spec ``(TensorSpec((8, 8), float32), TensorSpec((), int32))``:
        rows of ink in [0, 1] and the digit.

    Raises:
        ValueError: ``split`` is not one of ``SPLITS``, ``test_fraction`` not in (0, 1).

    Example:
    >>> from seqrecipes import data
    >>> rows, label = next(iter(data.digit_rows()))
    >>> rows.shape.as_list(), int(label)
    ([8, 8], 0)

    References:
        Alpaydin and Kaynak, "Optical recognition of handwritten digits", UCI 1998;
        ``sklearn.datasets.load_digits``.
    """
    images, labels = _digits(split, test_fraction)
    return tf.data.Dataset.from_tensor_slices((images, labels))


def digit_strips(num_examples=1000, min_digits=1, max_digits=4, language="en", split="train", test_fraction=0.2, seed=0):
    """Strips of several handwritten digits side by side, captioned with the digits spoken.

    Digits are drawn (with replacement) from the chosen split's images and placed left to right;
    the strip is padded with blank columns on the right to ``8 * max_digits`` pixels. The caption
    names the digits in order: ``"three one four"``, or in Korean (``language="ko"``, Sino-Korean
    numerals) ``"삼 일 사"``.

    Args:
        num_examples: how many strips.
        min_digits: the fewest digits in a strip.
        max_digits: the most digits in a strip.
        language: ``"en"`` or ``"ko"``.
        split: which digit images to draw from, ``"train"``, ``"test"`` or ``"all"``.
        test_fraction: as in ``digit_rows``.
        seed: the random seed.

    Returns:
        A dataset with element spec
        ``(TensorSpec((8, 8 * max_digits, 1), float32), TensorSpec((), string))``.

    Raises:
        ValueError: a bad language, split or ``test_fraction``; sizes that are not positive integers
            or ``min_digits > max_digits``; more than ``MAX_VALUES`` pixels in all; a bad ``seed``.

    Example:
    >>> from seqrecipes import data
    >>> [c.decode() for _, c in data.digit_strips(2, seed=0).as_numpy_iterator()]
    ['zero three one one', 'seven']
    """
    check_choice("language", language, DIGIT_WORDS)
    check_positive_int("num_examples", num_examples)
    check_positive_int("max_digits", max_digits)
    if not (isinstance(min_digits, (int, np.integer)) and not isinstance(min_digits, bool) and 1 <= min_digits <= max_digits):
        raise ValueError(
            f"Need 1 <= min_digits <= max_digits. Received: min_digits={min_digits!r}, max_digits={max_digits!r}"
        )
    check_total_size(num_examples=num_examples, max_digits=max_digits, pixels_per_digit=8 * 8)
    rng = seeded_rng(seed)
    images, labels = _digits(split, test_fraction)
    strips = np.zeros((num_examples, 8, 8 * max_digits, 1), np.float32)
    captions = []
    for index in range(num_examples):
        count = int(rng.integers(min_digits, max_digits + 1))
        picks = rng.integers(0, len(images), size=count)
        for position, pick in enumerate(picks.tolist()):
            strips[index, :, 8 * position : 8 * position + 8, 0] = images[pick]
        captions.append(" ".join(DIGIT_WORDS[language][labels[p]] for p in picks.tolist()))
    return tf.data.Dataset.from_tensor_slices((strips, captions))
