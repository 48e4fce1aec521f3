"""Where a vocabulary's tokens come from: a file the caller names, or a config that names no file.

The vocabulary file: UTF-8, one token per line, ``\\n`` line ends. Three escapes keep every token
on one line: a backslash is written ``\\\\``, a line feed ``\\n`` and a carriage return ``\\r``.
Reading one checks its format line by line; every error names the file, the line and what is
wrong, and never quotes the file's text, so a path that names some other file (``/etc/passwd``)
shows nothing of it.

A config (``get_config``, the ``config.json`` of a ``.keras`` file) carries the tokens themselves
and never a path: ``check_config_vocabulary`` refuses a path by its type alone, without opening,
stat-ing or resolving it, so a crafted archive cannot make loading read a file.
"""

import os

import keras

ESCAPES = {"\\": "\\", "n": "\n", "r": "\r"}


def escape(token):
    """``token`` as one line of a vocabulary file."""
    return token.replace("\\", "\\\\").replace("\n", "\\n").replace("\r", "\\r")


def write_lines(path, tokens):
    """Writes ``tokens`` to ``path``, one escaped token per line; an OSError naming ``path`` if it cannot."""
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"`path` must be a file path. Received: path={type(path).__name__}")
    try:
        with open(path, "w", encoding="utf-8", newline="") as file:
            for token in tokens:
                file.write(escape(token) + "\n")
    except OSError as error:
        raise type(error)(f"`path` must be a file that can be written: {error.strerror}. Received: path={path!r}") from error
    return path


def read_lines(path, name):
    """The unescaped lines of the vocabulary file ``path``; errors name the argument ``name``.

    Args:
        path: the file's path.
        name: the argument the errors name (``path``, ``vocabulary``).

    Returns:
        The tokens, one per line, in file order.

    Raises:
        FileNotFoundError: no file at ``path``.
        IsADirectoryError: ``path`` is a folder.
        ValueError: ``path`` is not a regular file (a device, a pipe), or the file is empty, not
            UTF-8, has an empty line or an unknown escape (the error names the line and column).

    Example:
    >>> import os, tempfile
    >>> from seqrecipes.data.vocabulary_sources import read_lines, write_lines
    >>> path = write_lines(os.path.join(tempfile.mkdtemp(), "v.txt"), ["a", "line\\nbreak"])
    >>> read_lines(path, "path")
    ['a', 'line\\nbreak']
    """
    path = os.fspath(path)
    if os.path.isdir(path):
        raise IsADirectoryError(f"`{name}` must be a vocabulary file, not a folder. Received: {name}={path!r}")
    if os.path.exists(path) and not os.path.isfile(path):  # a device or a pipe (/dev/zero): never read
        raise ValueError(f"`{name}` must be a regular vocabulary file. Received: {name}={path!r}")
    if not os.path.isfile(path):
        raise FileNotFoundError(f"Vocabulary file not found. Received: {name}={path!r}")
    with open(path, "rb") as file:
        content = file.read()
    if content.endswith(b"\n"):
        content = content[:-1]
    if not content:
        raise ValueError(f"`{name}` must be a vocabulary file, and the file is empty. Received: {name}={path!r}")
    lines = []
    for number, line in enumerate(content.split(b"\n"), start=1):
        try:
            text = line.decode("utf-8")
        except UnicodeDecodeError:
            raise ValueError(f"`{name}` must be a UTF-8 vocabulary file. Received: {name}={path!r} (line {number} is not UTF-8)") from None
        if text == "":
            raise ValueError(f"`{name}` must be a vocabulary file without empty lines. Received: {name}={path!r} (line {number} is empty)")
        lines.append(_unescape(text, f"{name}={path!r} (line {number}", name))
    return lines


def _unescape(line, where, name):
    out = []
    chars = iter(enumerate(line, start=1))
    for column, char in chars:
        if char != "\\":
            out.append(char)
            continue
        following = next(chars, (None, None))[1]
        if following not in ESCAPES:
            raise ValueError(
                f"`{name}` must be a vocabulary file whose backslashes start one of the escapes '\\\\', '\\n' or '\\r'. "
                f"Received: {where}, column {column}: another escape)"
            )
        out.append(ESCAPES[following])
    return "".join(out)


def read_vocabulary_file(path, name, reserved_tokens):
    """The tokens of the vocabulary file ``path``, ``reserved_tokens`` first and no duplicate; errors name the
    argument ``name``, the file and the line, never the file's text."""
    tokens = read_lines(path, name)
    where = f"{name}={os.fspath(path)!r}"
    for number, (token, reserved) in enumerate(zip(tokens + [None] * 4, reserved_tokens), start=1):
        if token != reserved:
            problem = f"line {number} is not {reserved!r}" if token is not None else f"only {len(tokens)} lines"
            raise ValueError(
                f"`{name}` must be a vocabulary file whose first four lines are the reserved tokens "
                f"{list(reserved_tokens)}. Received: {where} ({problem})"
            )
    first_line = {}
    for number, token in enumerate(tokens, start=1):
        if token in first_line:
            raise ValueError(
                f"`{name}` must be a vocabulary file without duplicate tokens. Received: {where} "
                f"(line {number} repeats line {first_line[token]})"
            )
        first_line[token] = number
    if len(tokens) == len(reserved_tokens):
        raise ValueError(
            f"`{name}` must be a vocabulary file with at least one token after the reserved ones. "
            f"Received: {where} (only the {len(tokens)} reserved lines)"
        )
    return tokens


def check_config_vocabulary(vocabulary, name="vocabulary"):
    """A ValueError unless a config's ``vocabulary`` is ``None`` or a list of strings; looks only at types.

    Example:
    >>> from seqrecipes.data.vocabulary_sources import check_config_vocabulary
    >>> check_config_vocabulary(["[PAD]", "[UNK]", "[START]", "[END]", "a"])
    >>> check_config_vocabulary("../vocab.txt")
    Traceback (most recent call last):
    ...
    ValueError: `vocabulary` in a config must be a list of tokens: a config carries its tokens, never a file path. Received: vocabulary='../vocab.txt'
    """
    if vocabulary is None or (isinstance(vocabulary, list) and all(isinstance(token, str) for token in vocabulary)):
        return
    if isinstance(vocabulary, list):
        position = next(i for i, token in enumerate(vocabulary) if not isinstance(token, str))
        received = f"a list whose item {position} is a {type(vocabulary[position]).__name__}"
    else:
        received = f"{vocabulary!r:.200}"
    raise ValueError(
        f"`{name}` in a config must be a list of tokens: a config carries its tokens, never a file path. "
        f"Received: {name}={received}"
    )


def tokenizer_from_config(cls, config):
    """A tokenizer of class ``cls`` from its ``get_config``: ``vocabulary`` must be ``None`` or a list of tokens.

    A config is data from a file (a ``.keras`` archive): anything else is refused by its type,
    without opening, stat-ing or resolving it.

    Args:
        cls: the tokenizer class.
        config: a dict, as ``get_config`` returns.

    Returns:
        A tokenizer of class ``cls``.

    Raises:
        ValueError: ``vocabulary`` is a path (or anything but a list of strings or ``None``).

    Example:
    >>> from seqrecipes import data
    >>> config = data.WordTokenizer(vocabulary=["good", "bad"]).get_config()
    >>> data.WordTokenizer.from_config({**config, "vocabulary": "/etc/passwd"})
    Traceback (most recent call last):
    ...
    ValueError: `vocabulary` in a config must be a list of tokens: a config carries its tokens, never a file path. Received: vocabulary='/etc/passwd'
    """
    if not isinstance(config, dict):
        raise TypeError(f"`config` must be a dict. Received: config={type(config).__name__}")
    check_config_vocabulary(config.get("vocabulary"))
    config = dict(config)
    if isinstance(config.get("dtype"), dict):  # a serialized DTypePolicy, as in keras.layers.Layer.from_config
        config["dtype"] = keras.dtype_policies.deserialize(config["dtype"]).name
    return cls(**config)  # not Layer.from_config: it rewraps every error as a TypeError printing the config
