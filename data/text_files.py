"""The user's own files: plain text, TSV/CSV columns, CoNLL token-and-tag columns.

Every reader checks its file when called (missing or empty files, folders and other non-files
raise at once, malformed lines raise with the file name and line number) and decodes bytes that
are not UTF-8 with replacement characters instead of failing. Messages quote at most 200
characters of a line.
"""

import csv
import io
import logging
import os

import numpy as np
import tensorflow as tf

from seqrecipes._checks import check_bool, check_choice

logger = logging.getLogger(__name__)

TARGET_DTYPES = ("string", "int64", "float32")
INT64_RANGE = (-(2**63), 2**63 - 1)
FLOAT32_MAX = float(np.finfo(np.float32).max)


def _check_file(path):
    if not isinstance(path, (str, bytes, os.PathLike)):
        raise TypeError(f"`path` must be a file path (a string or os.PathLike). Received: path={path!r:.200}")
    path = os.fsdecode(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"Data file not found. Received: path={path!r}")
    if os.path.isdir(path):
        raise IsADirectoryError(f"`path` must be a data file, not a folder. Received: path={path!r}")
    if not os.path.isfile(path):
        raise ValueError(f"`path` must be a regular data file (not a device or pipe). Received: path={path!r}")
    try:
        with open(path, "rb") as file:
            while True:
                chunk = file.read(1 << 16)
                if not chunk:
                    raise ValueError(f"The data file is empty (no text). Received: path={path!r}")
                if chunk.strip():
                    return path
    except PermissionError as error:
        raise PermissionError(f"Cannot read the data file ({error.strerror}). Received: path={path!r}") from error


def _read_text(path):
    with open(path, "rb") as file:
        return file.read().decode("utf-8", errors="replace")


def _check_column(name, value):
    if not isinstance(value, str) or not value.strip():
        raise TypeError(f"`{name}` must be a column name (a non-empty string). Received: {name}={value!r:.100}")


def _parse_target(text, dtype, where, targets):
    """One target field as an int64 or a finite float32 (NaN, inf and overflow raise, naming the line)."""
    try:
        value = int(text) if dtype == "int64" else float(text)
    except ValueError as error:
        raise ValueError(f"{where}: the {targets!r} field is not {dtype}. Received: {targets}={text!r:.100}") from error
    if dtype == "int64" and not INT64_RANGE[0] <= value <= INT64_RANGE[1]:
        raise ValueError(f"{where}: the {targets!r} field is outside the int64 range. Received: {targets}={text!r:.100}")
    if dtype == "float32" and not (np.isfinite(value) and abs(value) <= FLOAT32_MAX):
        raise ValueError(
            f"{where}: the {targets!r} field must be a finite float32 (not NaN, inf or beyond 3.4e38). "
            f"Received: {targets}={text!r:.100}"
        )
    return value


def _rows_dataset(rows):
    # A ragged slice yields a RaggedTensorSpec; tf.identity makes the element a plain 1-D tensor.
    return tf.data.Dataset.from_tensor_slices(tf.ragged.constant(rows, dtype=tf.string)).map(tf.identity)


def text_lines(path, skip_empty=True):
    """One element per line of a plain-text file (one sentence per line).

    Args:
        path: a UTF-8 text file, or a list of them (read in order).
        skip_empty: skip lines that are empty or whitespace only.

    Returns:
        A dataset with element spec ``TensorSpec((), string)``, the lines without their line
        breaks. Invalid UTF-8 passes through as bytes; the tokenizers replace it.

    Raises:
        FileNotFoundError: a file is missing.
        IsADirectoryError: a path is a folder.
        TypeError: ``path`` is not a path or a list of paths.
        ValueError: a file is empty or not a regular file; no path is given.

    Example: two files read in order; the Windows line ending and the blank line are dropped.
    >>> import tempfile, os
    >>> from seqrecipes import data
    >>> folder = tempfile.mkdtemp()
    >>> paths = [os.path.join(folder, name) for name in ("a.txt", "b.txt")]
    >>> for path, text in zip(paths, ["경마장에 있는 말이 뛰고 있다\\r\\n\\n", "그의 말이 법이다\\n"]):
    ...     with open(path, "w", encoding="utf-8", newline="") as file:
    ...         _ = file.write(text)
    >>> [s.decode() for s in data.text_lines(paths).as_numpy_iterator()]
    ['경마장에 있는 말이 뛰고 있다', '그의 말이 법이다']
    """
    check_bool("skip_empty", skip_empty)
    if isinstance(path, (str, bytes, os.PathLike)):
        paths = [path]
    elif isinstance(path, (list, tuple)):
        paths = list(path)
    else:
        raise TypeError(f"`path` must be a file path or a list of them. Received: path={path!r:.200}")
    if not paths:
        raise ValueError(f"`path` must name at least one file. Received: path={path!r}")
    paths = [_check_file(p) for p in paths]
    dataset = tf.data.TextLineDataset(paths)
    dataset = dataset.map(lambda line: tf.strings.regex_replace(line, "\r$", ""))
    if skip_empty:
        dataset = dataset.filter(lambda line: tf.strings.length(tf.strings.strip(line)) > 0)
    return dataset


def text_document(path):
    """A whole plain-text file as one element (a language-model corpus).

    Args:
        path: a UTF-8 text file.

    Returns:
        A dataset with one element, spec ``TensorSpec((), string)``: the file's bytes.

    Raises:
        FileNotFoundError: the file is missing.
        IsADirectoryError: the path is a folder.
        ValueError: the file is empty or not a regular file.

    Example: one element however many lines, the blank line and the line breaks kept (compare
    ``text_lines``).
    >>> import pathlib, tempfile
    >>> from seqrecipes import data
    >>> doc = pathlib.Path(tempfile.mkdtemp(), "doc.txt")
    >>> doc.write_text("hello\\n\\nworld\\n", encoding="utf-8")
    13
    >>> document = data.text_document(doc)
    >>> int(document.cardinality()), document.get_single_element().numpy()
    (1, b'hello\\n\\nworld\\n')
    """
    path = _check_file(path)
    return tf.data.Dataset.from_tensors(tf.constant(path)).map(tf.io.read_file)


def delimited_file(path, inputs, targets, delimiter=None, targets_dtype="string"):
    """Two named columns of a TSV or CSV file with a header row: (source, target) or (text, label).

    The first row names the columns. TSV files are read without quoting (a ``"`` is an ordinary
    character); CSV files use standard CSV quoting. Blank lines are skipped.

    Args:
        path: the file.
        inputs: the name of the input column (e.g. ``"source"`` or ``"text"``).
        targets: the name of the target column (e.g. ``"target"`` or ``"label"``).
        delimiter: ``"\\t"`` or ``","``; ``None`` picks it from the extension (``.tsv``, ``.tab``:
            tab; ``.csv``: comma).
        targets_dtype: ``"string"`` (default), ``"int64"`` (class labels) or ``"float32"``.

    Returns:
        A dataset with element spec ``(TensorSpec((), string), TensorSpec((), targets_dtype))``,
        rows in file order.

    Raises:
        FileNotFoundError: the file is missing.
        IsADirectoryError: the path is a folder.
        TypeError: ``inputs`` or ``targets`` is not a column name.
        ValueError: the file is empty or has no data rows; ``delimiter`` is not one character
            (other than a quote or a line break); a column name is not in the header, or is in it
            twice (the message lists the header); a row has the wrong number of fields or a
            target that does not parse, or a float target that is NaN, inf or beyond float32, or
            an int target beyond int64 (the message names the file and line).

    Example:
    >>> import tempfile, os
    >>> from seqrecipes import data
    >>> path = os.path.join(tempfile.mkdtemp(), "pairs.tsv")
    >>> _ = open(path, "w", encoding="utf-8").write("source\\ttarget\\nJune 25th, 2009\\t2009-06-25\\n")
    >>> [(a.decode(), b.decode()) for a, b in data.delimited_file(path, "source", "target").as_numpy_iterator()]
    [('June 25th, 2009', '2009-06-25')]
    """
    path = _check_file(path)
    check_choice("targets_dtype", targets_dtype, TARGET_DTYPES)
    _check_column("inputs", inputs)
    _check_column("targets", targets)
    if delimiter is not None and (not isinstance(delimiter, str) or len(delimiter) != 1 or delimiter in '\r\n"'):
        raise ValueError(
            f"`delimiter` must be one character such as '\\t' or ',' (not a quote or a line break), or None. "
            f"Received: delimiter={delimiter!r:.100}"
        )
    if delimiter is None:
        extension = os.path.splitext(path)[1].lower()
        delimiter = {".tsv": "\t", ".tab": "\t", ".csv": ","}.get(extension)
        if delimiter is None:
            raise ValueError(f"Cannot tell the delimiter from the file extension; pass delimiter='\\t' or ','. Received: path={path!r}")
    quoting = csv.QUOTE_NONE if delimiter == "\t" else csv.QUOTE_MINIMAL
    reader = csv.reader(io.StringIO(_read_text(path), newline=""), delimiter=delimiter, quoting=quoting)
    header = None
    sources, labels = [], []
    try:
        for row in reader:
            if not row or all(not field.strip() for field in row):
                continue
            if header is None:
                header = [field.strip() for field in row]
                twice = sorted({name for name in (inputs, targets) if header.count(name) > 1})
                if twice:
                    raise ValueError(
                        f"{path}:{reader.line_num}: the header names the column(s) {twice} more than once. "
                        f"Received: header={header}"
                    )
                missing = [name for name in (inputs, targets) if name not in header]
                if missing:
                    raise ValueError(
                        f"{path}:{reader.line_num}: column(s) {missing} not in the header {header}. "
                        f"Received: inputs={inputs!r}, targets={targets!r}"
                    )
                input_index, target_index = header.index(inputs), header.index(targets)
                continue
            if len(row) != len(header):
                raise ValueError(
                    f"{path}:{reader.line_num}: expected {len(header)} fields ({header}), found {len(row)}. "
                    f"Received: line={delimiter.join(row)!r:.200}"
                )
            target = row[target_index]
            if targets_dtype != "string":
                target = _parse_target(target, targets_dtype, f"{path}:{reader.line_num}", targets)
            sources.append(row[input_index])
            labels.append(target)
    except csv.Error as error:
        raise ValueError(f"{path}:{reader.line_num}: malformed CSV ({error}). Received: path={path!r}") from error
    if not sources:
        raise ValueError(f"{path}: no data rows after the header. Received: header={header}")
    logger.info("Read %d rows from %s", len(sources), path)
    dtype = {"string": tf.string, "int64": np.int64, "float32": np.float32}[targets_dtype]
    labels = tf.constant(labels, dtype=dtype)
    return tf.data.Dataset.from_tensor_slices((tf.constant(sources, tf.string), labels))


def conll_file(path, token_column=0, tag_column=-1, delimiter=None, skip_docstart=True):
    """Sentences of a CoNLL-style column file: one token per line, blank lines between sentences.

    Args:
        path: the file (CoNLL-2003 ``token POS chunk NER`` lines, or any ``token ... tag``).
        token_column: the column that holds the token.
        tag_column: the column that holds the tag (``-1``: the last one).
        delimiter: the column separator; ``None`` splits on runs of whitespace.
        skip_docstart: skip ``-DOCSTART-`` lines.

    Returns:
        A dataset with element spec ``(TensorSpec((None,), string), TensorSpec((None,), string))``:
        each sentence's tokens and tags (build tag ids with ``Vocabulary.build`` or a tokenizer's
        ``tokens_to_ids``).

    Raises:
        FileNotFoundError: the file is missing.
        IsADirectoryError: the path is a folder.
        ValueError: the file is empty or holds no sentence; a column is not an integer index, or
            both name the same column; ``delimiter`` is not a non-empty string or None; a line
            lacks the token or tag column (the message names the file and line).

    Example:
    >>> import tempfile, os
    >>> from seqrecipes import data
    >>> path = os.path.join(tempfile.mkdtemp(), "ner.conll")
    >>> _ = open(path, "w").write("EU NNP B-NP B-ORG\\nrejects VBZ B-VP O\\n\\nPeter NNP B-NP B-PER\\n")
    >>> [(t.tolist(), g.tolist()) for t, g in data.conll_file(path).as_numpy_iterator()]
    [([b'EU', b'rejects'], [b'B-ORG', b'O']), ([b'Peter'], [b'B-PER'])]
    """
    path = _check_file(path)
    for name, column in (("token_column", token_column), ("tag_column", tag_column)):
        if isinstance(column, bool) or not isinstance(column, (int, np.integer)):
            raise ValueError(f"`{name}` must be an integer column index (0 first, -1 last). Received: {name}={column!r:.100}")
    if token_column == tag_column:
        raise ValueError(
            f"`tag_column` must name another column than token_column={token_column}. Received: tag_column={tag_column}"
        )
    if delimiter is not None and (not isinstance(delimiter, str) or not delimiter or delimiter in "\r\n"):
        raise ValueError(
            f"`delimiter` must be a non-empty string other than a line break, or None. Received: delimiter={delimiter!r:.100}"
        )
    check_bool("skip_docstart", skip_docstart)
    # Columns a line must have: enough for both indices, and at least two (token and tag differ).
    needed = max(2, *(c + 1 if c >= 0 else -c for c in (token_column, tag_column)))
    sentences, tags = [], []
    tokens_now, tags_now = [], []
    for number, line in enumerate(_read_text(path).split("\n"), start=1):
        line = line.rstrip("\r")
        if not line.strip():
            if tokens_now:
                sentences.append(tokens_now)
                tags.append(tags_now)
                tokens_now, tags_now = [], []
            continue
        if skip_docstart and line.startswith("-DOCSTART-"):
            continue
        fields = line.split(delimiter) if delimiter is not None else line.split()
        if len(fields) < needed or token_column % len(fields) == tag_column % len(fields):
            same = len(fields) >= needed
            raise ValueError(
                f"{path}:{number}: expected at least {needed} columns (token_column={token_column}, "
                f"tag_column={tag_column}), found {len(fields)}"
                + (" (on this line both name the same column)" if same else "")
                + f". Received: line={line!r:.200}"
            )
        tokens_now.append(fields[token_column])
        tags_now.append(fields[tag_column])
    if tokens_now:
        sentences.append(tokens_now)
        tags.append(tags_now)
    if not sentences:
        raise ValueError(f"{path}: no sentences (only -DOCSTART- or blank lines). Received: path={path!r}")
    logger.info("Read %d sentences from %s", len(sentences), path)
    return tf.data.Dataset.zip((_rows_dataset(sentences), _rows_dataset(tags)))
