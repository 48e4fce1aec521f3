"""TensorFlow Datasets by name, with the features mapped to (inputs, targets)."""

import os

import tensorflow as tf

from seqrecipes._checks import check_bool

TFDS_DATASETS = {
    "tiny_shakespeare": "the text itself (one string per split): a character language-model corpus",
    "imdb_reviews": "(review text, label: 0 negative, 1 positive)",
    "glue/sst2": "(sentence, label: 0 negative, 1 positive; the test split's labels are -1)",
    "ag_news_subset": "(title + ' ' + description, label: 0 World, 1 Sports, 2 Business, 3 Sci/Tech)",
    "ted_hrlr_translate/pt_to_en": "(Portuguese sentence, English sentence)",
    "conll2003": "(tokens (T,) string, NER tags (T,) int64; names in info.features['ner'].names)",
}

_MAPPERS = {
    "tiny_shakespeare": lambda x: x["text"],
    "imdb_reviews": lambda x: (x["text"], x["label"]),
    "glue/sst2": lambda x: (x["sentence"], x["label"]),
    "ag_news_subset": lambda x: (tf.strings.join([x["title"], x["description"]], separator=" "), x["label"]),
    "ted_hrlr_translate/pt_to_en": lambda x: (x["pt"], x["en"]),
    "conll2003": lambda x: (x["tokens"], x["ner"]),
}


def load_tfds(name, split="train", data_dir=None, download=True, shuffle_files=False, with_info=False):
    """Loads a TensorFlow Datasets data set by name and maps its features to (inputs, targets).

    Known names and what each element becomes (``TFDS_DATASETS``): ``tiny_shakespeare`` (the text,
    for ``lm_windows``), ``imdb_reviews``, ``glue/sst2``, ``ag_news_subset`` (text, label),
    ``ted_hrlr_translate/pt_to_en`` (source, target), ``conll2003`` (tokens, NER tag ids). A
    version may follow the name (``"imdb_reviews:1.0.0"``).

    This calls ``tfds.load(name, split=split, ...)``: the first call downloads and prepares the
    data under ``data_dir`` (``~/tensorflow_datasets`` by default); later calls read it from
    there. Offline, pass ``download=False`` with a prepared ``data_dir``; tests use
    ``tfds.testing.mock_data``.

    Args:
        name: one of ``TFDS_DATASETS``, optionally with ``:version``.
        split: a TFDS split string (``"train"``, ``"test"``, ``"train[:90%]"``, ...).
        data_dir: where TFDS keeps data.
        download: let TFDS download and prepare the data if missing.
        shuffle_files: shuffle the input files (for training).
        with_info: also return the ``tfds.core.DatasetInfo`` (label names, sizes).

    Returns:
        The mapped ``tf.data.Dataset``, or ``(dataset, info)`` with ``with_info``.

    Raises:
        ValueError: the name is not one of the known data sets (the message lists them), or its
            version is not one TFDS knows (the message lists those).
        TypeError: ``name`` or ``split`` is not a string, ``data_dir`` not a path or None, or a
            flag not True or False.
        NotADirectoryError: ``data_dir`` names a file.
        FileNotFoundError: with ``download=False``, the data set is not prepared under
            ``data_dir`` (the message names both).

    Example:
    >>> import tensorflow_datasets as tfds
    >>> from seqrecipes import data
    >>> with tfds.testing.mock_data(num_examples=2):
    ...     ds = data.load_tfds("ted_hrlr_translate/pt_to_en")
    >>> ds.element_spec[1]
    TensorSpec(shape=(), dtype=tf.string, name=None)

    References:
        TensorFlow Datasets, https://www.tensorflow.org/datasets; Karpathy's char-rnn
        (tiny_shakespeare); Maas et al. 2011 (IMDB); Socher et al. 2013 (SST-2); Zhang et al. 2015
        (AG News); Qi et al. 2018 (TED talks); Tjong Kim Sang and De Meulder 2003 (CoNLL-2003).
    """
    if not isinstance(name, str):
        raise TypeError(f"`name` must be a string. Received: name={name!r}")
    base = name.split(":", 1)[0]
    if base not in _MAPPERS:
        raise ValueError(f"Unknown TFDS data set; known: {', '.join(sorted(TFDS_DATASETS))}. Received: name={name!r}")
    if not isinstance(split, str):
        raise TypeError(f"`split` must be one TFDS split string such as 'train' or 'train[:90%]'. Received: split={split!r}")
    if data_dir is not None:
        if not isinstance(data_dir, (str, os.PathLike)):
            raise TypeError(f"`data_dir` must be a folder path or None. Received: data_dir={data_dir!r}")
        data_dir = os.fspath(data_dir)
        if os.path.exists(data_dir) and not os.path.isdir(data_dir):
            raise NotADirectoryError(f"`data_dir` must be a folder, not a file. Received: data_dir={data_dir!r}")
    for flag, value in (("download", download), ("shuffle_files", shuffle_files), ("with_info", with_info)):
        check_bool(flag, value)
    import tensorflow_datasets as tfds

    _check_version(tfds, name)
    try:
        dataset, info = tfds.load(
            name,
            split=split,
            data_dir=data_dir,
            download=download,
            shuffle_files=shuffle_files,
            with_info=True,
        )
    except AssertionError as error:  # TFDS asserts that prepared data exist when download=False
        if download:
            raise
        raise FileNotFoundError(
            f"The TFDS data set {name!r} is not prepared under data_dir={data_dir!r} (None: TFDS's default, "
            "~/tensorflow_datasets or $TFDS_DATA_DIR): pass download=True to download and prepare it, or "
            f"data_dir= a folder that holds it. Received: name={name!r}, download=False, data_dir={data_dir!r}"
        ) from error
    dataset = dataset.map(_MAPPERS[base], num_parallel_calls=tf.data.AUTOTUNE)
    return (dataset, info) if with_info else dataset


def _check_version(tfds, name):
    """A ``name:version`` must name a version the builder supports (TFDS asserts it, unclearly)."""
    base, _, version = name.partition(":")
    if not version or "*" in version:  # no version, or a pattern such as "1.*.*" for TFDS to resolve
        return
    builder = tfds.builder_cls(base.split("/")[0])
    versions = [builder.VERSION, *getattr(builder, "SUPPORTED_VERSIONS", ())]
    versions += [getattr(config, "version", None) for config in getattr(builder, "BUILDER_CONFIGS", ())]
    known = sorted({str(v) for v in versions if v is not None})
    if known and version not in known:
        raise ValueError(f"Unknown version of {base!r}; known: {', '.join(known)}. Received: name={name!r}")
