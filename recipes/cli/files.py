"""The user's own files for ``seqrecipes train``, ``evaluate`` and ``predict``: examples and tokenizers.

A trainer kind (``trainers.TRAINERS``) reads these formats, all through ``seqrecipes.data``'s file readers
(missing, empty or malformed files are errors naming the file and line):

    text_pairs       tsv / csv (two header columns: source, target) or parallel (two files of aligned lines)
    classification   tsv / csv (two header columns: text, label; labels are ids 0..C-1 or names)
    tagging          conll (a token column and a tag column, sentences separated by blank lines)
    text             lines (one example a line) or document (one text, cut into pieces)

The format is told by ``--format`` or by the file's extension (.tsv, .tab, .csv, .conll; two files:
parallel; otherwise lines). The tokenizer (``--tokenizer``: char, word, wordpiece, sentencepiece, with
``--vocabulary-size`` and ``--lowercase``) is fitted on the training file only.
"""

import csv
import io
import os

from seqrecipes import data
from seqrecipes.recipes.cli.config import FORMATS, TOKENIZERS, TRAINER_FORMATS
from seqrecipes.recipes.cli.errors import CommandError

DOCUMENT_PIECE = 200  # the characters of each language-model example cut from a document


def file_format(paths, format_name, kind):
    """The format of ``paths`` (one file, or two for parallel lines) for a trainer ``kind``: ``format_name``
    if given, else told by the extension; a CommandError for a format the kind does not read."""
    if format_name is None:
        if len(paths) == 2:
            format_name = "parallel"
        else:
            extension = os.path.splitext(paths[0])[1].lower()
            format_name = {".tsv": "tsv", ".tab": "tsv", ".csv": "csv", ".conll": "conll"}.get(extension, TRAINER_FORMATS[kind][0])
    if format_name not in FORMATS:
        raise CommandError(f"`--format` must be one of {', '.join(FORMATS)}. Received: --format={format_name!r}")
    if format_name not in TRAINER_FORMATS[kind]:
        raise CommandError(
            f"This recipe trains on {', '.join(TRAINER_FORMATS[kind])} files; {paths[0]!r} reads as {format_name!r}. "
            f"Pass --format, or a file of the right kind. Received: format={format_name!r}"
        )
    if (format_name == "parallel") != (len(paths) == 2):
        raise CommandError(
            f"The parallel format takes two files (source lines, target lines) and the others one. "
            f"Received: {len(paths)} file(s) {list(paths)} as {format_name!r}"
        )
    return format_name


def _header(path, delimiter):
    """The column names of a TSV / CSV file's first non-blank row."""
    with open(path, "rb") as file:
        text = file.read(1 << 20).decode("utf-8", errors="replace")
    quoting = csv.QUOTE_NONE if delimiter == "\t" else csv.QUOTE_MINIMAL
    for row in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, quoting=quoting):
        if any(field.strip() for field in row):
            return [field.strip() for field in row]
    return []


def _as_text(value):
    return value.decode("utf-8") if isinstance(value, bytes) else value


def read_examples(paths, format_name, kind, columns=None):
    """(examples, names): the Python examples of ``paths`` for a trainer ``kind``, as its ``build`` takes them.

    text_pairs: [(source, target)]; classification: [(text, label)] with label strings (``label_ids``
    turns them into ids); tagging: [(tokens, tag strings)], names None; text: [line]. ``columns``: the two
    column names of a TSV / CSV file (default: its first two), or for CoNLL the token and tag column
    numbers (default 0 and -1).
    """
    try:
        if format_name == "parallel":
            sources, targets = (list(data.text_lines(path, skip_empty=False).as_numpy_iterator()) for path in paths)
            if len(sources) != len(targets):
                raise CommandError(
                    f"Parallel files must have one line each per pair. Received: {paths[0]!r} has {len(sources)} "
                    f"lines, {paths[1]!r} has {len(targets)}"
                )
            examples = [(_as_text(s), _as_text(t)) for s, t in zip(sources, targets) if s.strip() and t.strip()]
        elif format_name in ("tsv", "csv"):
            delimiter = "\t" if format_name == "tsv" else ","
            names = list(columns or [])
            if not names:
                data.text_lines(paths[0])  # the file checks (missing, empty) before the header is read
                names = _header(paths[0], delimiter)[:2]
            if len(names) != 2:
                raise CommandError(f"`--columns` must name two columns of {paths[0]!r}. Received: columns={names}")
            dataset = data.delimited_file(paths[0], names[0], names[1], delimiter=delimiter)
            examples = [(_as_text(x), _as_text(y)) for x, y in dataset.as_numpy_iterator()]
        elif format_name == "conll":
            token_column, tag_column = (int(c) for c in columns) if columns else (0, -1)
            dataset = data.conll_file(paths[0], token_column=token_column, tag_column=tag_column)
            examples = [([_as_text(t) for t in tokens], [_as_text(t) for t in tags]) for tokens, tags in dataset.as_numpy_iterator()]
        elif format_name == "document":
            text = _as_text(next(iter(data.text_document(paths[0]).as_numpy_iterator())))
            examples = [text[i : i + DOCUMENT_PIECE] for i in range(0, len(text), DOCUMENT_PIECE) if text[i : i + DOCUMENT_PIECE].strip()]
        else:
            examples = [_as_text(line) for line in data.text_lines(paths[0]).as_numpy_iterator()]
    except (OSError, ValueError, TypeError) as error:  # the readers' errors (a CommandError passes through)
        raise CommandError(str(error)) from error
    if not examples:
        raise CommandError(f"{paths[0]!r} holds no examples. Received: format={format_name!r}")
    return examples


def label_ids(labels, names=None):
    """(ids, names) of string labels: integers as they are when every label is one (names None), else the
    index in ``names`` (default: the sorted distinct labels); a CommandError for a label not in ``names``."""
    if names is None and all(label.strip().lstrip("-").isdigit() for label in labels):
        ids = [int(label) for label in labels]
        if min(ids) < 0:
            raise CommandError(f"Class labels must be ids 0, 1, ... or names. Received: label {min(ids)}")
        return ids, None
    names = list(names) if names is not None else sorted(set(labels))
    index = {name: i for i, name in enumerate(names)}
    unknown = sorted(set(labels) - set(index))
    if unknown:
        raise CommandError(f"Labels the model does not know: {unknown[:10]}. Known labels: {names}")
    return [index[label] for label in labels], names


def make_tokenizer(kind, texts, vocabulary_size=None, lowercase=False, words_given=False):
    """A tokenizer of ``kind`` fitted on ``texts`` (``vocabulary_size``: its most entries, reserved ones included;
    None: every character, 20,000 words, 8,000 subwords). ``words_given``: the texts are space-joined tokens
    (a tagger's), which a word tokenizer keeps as they are."""
    if kind not in TOKENIZERS:
        raise CommandError(f"`--tokenizer` must be one of {', '.join(TOKENIZERS)}. Received: --tokenizer={kind!r}")
    if vocabulary_size is not None and (isinstance(vocabulary_size, bool) or not isinstance(vocabulary_size, int) or vocabulary_size < 5):
        raise CommandError(f"`--vocabulary-size` must be an integer of at least 5. Received: vocabulary_size={vocabulary_size!r}")
    if kind == "char":
        tokenizer = data.CharTokenizer(lowercase=lowercase, max_size=vocabulary_size)
    elif kind == "word":
        tokenizer = data.WordTokenizer(lowercase=lowercase, max_size=vocabulary_size or 20_000, split_punctuation=not words_given)
    elif kind == "wordpiece":
        tokenizer = data.SubwordTokenizer(lowercase=lowercase, max_size=vocabulary_size or 8000)
    else:
        tokenizer = data.SentencePieceTokenizer(lowercase=lowercase, max_size=vocabulary_size or 8000)
    try:
        return tokenizer.adapt(list(texts))
    except (ValueError, TypeError, ImportError) as error:
        raise CommandError(f"Could not fit a {kind} tokenizer on the training file: {error}") from error
