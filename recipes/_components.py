"""What the recipe files share: recurrent cells by name, the clipped optimizer, vocabulary sizes, and the
arguments a ``RecipeModel`` stores (derived from the recipe's signature, not retyped)."""

import inspect

import keras
import numpy as np
from keras import ops

from seqrecipes import layers
from seqrecipes._checks import check_choice, check_positive_int, check_positive_number

# The longest sequence a recipe may be built for (its max_length, max_source_length, max_target_length,
# max_output_length, context_size, input_length, horizon): every buffer of a request is at most this long.
LENGTH_LIMIT = 4096

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
    return CELLS[check_choice("cell", cell, CELLS)](units, name=name, **kwargs)


def recurrent_stack(x, cell, units, num_layers, dropout=0.0, bidirectional=False, stateful=False, sequences=True, dropout_last=True):
    """``num_layers`` stacked RNN layers over x (B, T, D), the recurrent encoder of the recipes.

    Layer k is ``RNN`` ``rnn_k`` over a new ``cell`` of ``units`` (in a ``Bidirectional`` ``birnn_k`` when
    ``bidirectional``: [h_fwd ; h_bwd]), followed by a ``Dropout`` ``dropout_k`` when ``dropout`` (after the
    last layer only with ``dropout_last``). Every layer returns its sequences but the last, which does only
    with ``sequences``. Returns (B, T, H) or (B, H); (B, T, 2H) or (B, 2H) when bidirectional.
    """
    for k in range(num_layers):
        last = k == num_layers - 1
        rnn = layers.RNN(make_cell(cell, units, name="cell"), return_sequences=sequences or not last, stateful=stateful, name=f"rnn_{k}")
        if bidirectional:
            rnn = keras.layers.Bidirectional(rnn, name=f"birnn_{k}")
        x = rnn(x)
        if dropout and (dropout_last or not last):
            x = keras.layers.Dropout(dropout, name=f"dropout_{k}")(x)
    return x


def recurrent_optimizer(learning_rate=1e-3, clipnorm=1.0):
    """Adam with gradient clipping by global norm, on by default for recurrent recipes.

    Exploding gradients are the other half of the seeds' BPTT lesson; ``clipnorm=None`` turns the
    clipping off.
    """
    check_positive_number("learning_rate", learning_rate)
    if clipnorm is not None:
        check_positive_number("clipnorm", clipnorm)
    return keras.optimizers.Adam(learning_rate, global_clipnorm=clipnorm)


def vocabulary_size_of(tokenizer, vocabulary_size, role):
    """The vocabulary size from a tokenizer when given, else the argument; above 4 either way."""
    if tokenizer is not None:
        vocabulary_size = tokenizer.vocabulary_size()
    if isinstance(vocabulary_size, bool) or not isinstance(vocabulary_size, int) or vocabulary_size <= 4:
        raise ValueError(
            f"`{role}_vocabulary_size` must be an integer above 4 (ids 0-3 are reserved: pad, unknown, start, end), "
            f"or pass `{role}_tokenizer`. Received: {role}_vocabulary_size={vocabulary_size!r}"
        )
    return vocabulary_size


def embed(embedding, token_ids):
    """One decoding step's embeddings (B, E) of token ids (B,), looked up in the layer's table directly:
    calling the layer would attach a padding mask, which the recurrent cells warn about."""
    return ops.take(embedding.embeddings, ops.cast(token_ids, "int32"), axis=0)


def _json_value(value):
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (list, tuple)):
        return [_json_value(v) for v in value]
    return value


def saved_arguments(recipe, values, leave_out=()):
    """The keyword arguments a ``RecipeModel`` of ``recipe`` stores, for ``from_config`` to call it again.

    Every parameter of the recipe function but its tokenizers (``*_tokenizer``, stored apart),
    ``name`` and ``leave_out``, with its value in ``values`` (the recipe's ``locals()`` once its checks
    have run, so that derived values such as a tokenizer's vocabulary size are the ones stored), as
    JSON values (NumPy scalars as Python numbers, tuples as lists).
    """
    names = [n for n in inspect.signature(recipe).parameters if not n.endswith("_tokenizer")]
    return {n: _json_value(values[n]) for n in names if n != "name" and n not in leave_out}


def check_positive_ints(values, *names):
    """``check_positive_int`` on each named argument of ``values`` (a recipe's ``locals()``)."""
    for name in names:
        check_positive_int(name, values[name])


def check_lengths(values, *names):
    """Each named argument of ``values`` must be an integer in [1, ``LENGTH_LIMIT``] (a sequence length).

    Example:
    >>> check_lengths({"max_length": 64}, "max_length")
    >>> check_lengths({"max_length": 10**9}, "max_length")
    Traceback (most recent call last):
    ...
    ValueError: `max_length` must be an integer in [1, 4096] (LENGTH_LIMIT). Received: max_length=1000000000
    """
    for name in names:
        value = values[name]
        if not check_positive_int(name, value) <= LENGTH_LIMIT:
            raise ValueError(f"`{name}` must be an integer in [1, {LENGTH_LIMIT}] (LENGTH_LIMIT). Received: {name}={value!r}")
