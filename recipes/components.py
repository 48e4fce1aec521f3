"""Pieces the recipe files share: cell names, the clipped optimizer, argument checks.

Recipe files import from here and from ``seqrecipes.layers``, never from each other.
"""

import keras

from seqrecipes import layers

CELLS = {
    "simple_rnn": layers.SimpleRNNCell,
    "gru": layers.GRUCell,
    "lstm": layers.LSTMCell,
    "peephole_lstm": layers.PeepholeLSTMCell,
    "layer_norm_lstm": layers.LayerNormLSTMCell,
    "cifg_lstm": layers.CIFGLSTMCell,
}


def make_cell(cell, units, name=None, **kwargs):
    """A new recurrent cell by name (``CELLS``); a ValueError listing the names otherwise."""
    if cell not in CELLS:
        raise ValueError(f"`cell` must be one of {sorted(CELLS)}. Received: cell={cell!r}")
    return CELLS[cell](units, name=name, **kwargs)


def recurrent_optimizer(learning_rate=1e-3, clipnorm=1.0):
    """Adam with gradient clipping by global norm, on by default for recurrent recipes.

    Exploding gradients are the other half of the seeds' BPTT lesson; ``clipnorm=None`` turns the
    clipping off.
    """
    check_positive("learning_rate", learning_rate, number=True)
    if clipnorm is not None:
        check_positive("clipnorm", clipnorm, number=True)
    return keras.optimizers.Adam(learning_rate, global_clipnorm=clipnorm)


def check_positive(name, value, number=False):
    """Raises ValueError unless ``value`` is a positive int (or number)."""
    kinds = (int, float) if number else (int,)
    if isinstance(value, bool) or not isinstance(value, kinds) or value <= 0:
        kind = "number" if number else "integer"
        raise ValueError(f"`{name}` must be a positive {kind}. Received: {name}={value!r}")
    return value


def check_rate(name, value):
    """Raises ValueError unless ``value`` is a number in [0, 1) (a dropout rate)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 <= value < 1.0:
        raise ValueError(f"`{name}` must be a number in [0, 1). Received: {name}={value!r}")
    return value


def check_bool(name, value):
    """Raises ValueError unless ``value`` is True or False."""
    if not isinstance(value, bool):
        raise ValueError(f"`{name}` must be True or False. Received: {name}={value!r}")
    return value


def present_tokenizers(tokenizers):
    """The tokenizers dict without the roles given as None, or None when none is given."""
    return {role: t for role, t in tokenizers.items() if t is not None} or None


def check_choice(name, value, choices):
    """Raises ValueError unless ``value`` is one of ``choices``."""
    if value not in choices:
        raise ValueError(f"`{name}` must be one of {sorted(choices)}. Received: {name}={value!r}")
    return value


def vocabulary_size_of(tokenizer, vocabulary_size, role):
    """The vocabulary size from a tokenizer when given, else the argument; positive either way."""
    if tokenizer is not None:
        vocabulary_size = tokenizer.vocabulary_size()
    if isinstance(vocabulary_size, bool) or not isinstance(vocabulary_size, int) or vocabulary_size <= 4:
        raise ValueError(
            f"`{role}_vocabulary_size` must be an integer above 4 (ids 0-3 are reserved: pad, unknown, start, end), "
            f"or pass `{role}_tokenizer`. Received: {role}_vocabulary_size={vocabulary_size!r}"
        )
    return vocabulary_size
