"""What the recipe files share: recurrent cells by name, the clipped optimizer, vocabulary sizes, and the
arguments a ``RecipeModel`` stores (derived from the recipe's signature, not retyped)."""

import inspect

import keras
import numpy as np
from keras import ops

from seqrecipes import layers
from seqrecipes._checks import _is_integer, check_choice, check_positive_int, check_positive_number, check_rate

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


def recurrent_stack(x, cell, units, num_layers, dropout=0.0, bidirectional=False, stateful=False, sequences=True, dropout_last=True, prefix=""):
    """``num_layers`` stacked RNN layers over x (B, T, D), the recurrent encoder of the recipes.

    Layer k is ``RNN`` ``rnn_k`` over a new ``cell`` of ``units`` (in a ``Bidirectional`` ``birnn_k`` when
    ``bidirectional``: [h_fwd ; h_bwd]), followed by a ``Dropout`` ``dropout_k`` when ``dropout`` (after the
    last layer only with ``dropout_last``). Every layer returns its sequences but the last, which does only
    with ``sequences``. Every layer name starts with ``prefix`` (a second stack in one model: ``"backward_"``).
    Returns (B, T, H) or (B, H); (B, T, 2H) or (B, 2H) when bidirectional.
    """
    for k in range(num_layers):
        last = k == num_layers - 1
        rnn = layers.RNN(make_cell(cell, units, name="cell"), return_sequences=sequences or not last, stateful=stateful, name=f"{prefix}rnn_{k}")
        if bidirectional:
            rnn = keras.layers.Bidirectional(rnn, name=f"{prefix}birnn_{k}")
        x = rnn(x)
        if dropout and (dropout_last or not last):
            x = keras.layers.Dropout(dropout, name=f"{prefix}dropout_{k}")(x)
    return x


def embedded_tokens(token_ids, vocabulary_size, embedding_dim, dropout=0.0):
    """x (B, T, E) of token ids (B, T): the ``embedding`` table (padding id 0 masked), then a Dropout
    ``embedding_dropout`` when ``dropout``: the input of the recurrent recipes."""
    x = keras.layers.Embedding(vocabulary_size, embedding_dim, mask_zero=True, name="embedding")(token_ids)
    if dropout:
        x = keras.layers.Dropout(dropout, name="embedding_dropout")(x)
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
    leave_out = (*leave_out, "name", "mixed_precision")  # the precision wrapper stores its own (``_precision.py``)
    return {n: _json_value(values[n]) for n in names if n not in leave_out}


def check_transformer_sizes(num_layers, num_heads, hidden_dim, intermediate_dim, dropout):
    """The checks of a Transformer stack's sizes; returns F, ``intermediate_dim`` or 4 ``hidden_dim`` when None."""
    check_positive_ints(locals(), "num_layers", "num_heads", "hidden_dim")
    if hidden_dim % num_heads:
        raise ValueError(f"`hidden_dim` must be a multiple of num_heads={num_heads}. Received: hidden_dim={hidden_dim}")
    check_rate("dropout", dropout)
    return 4 * hidden_dim if intermediate_dim is None else check_positive_int("intermediate_dim", intermediate_dim)


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


# The weights AdamW does not decay (nanoGPT decays the 2-D and higher weights only): the biases of the
# dense and attention layers and the layer norms' scales (gamma) and offsets (beta).
NOT_DECAYED = ("bias", "gamma", "beta")


def check_schedule(learning_rate, min_learning_rate, warmup_steps, decay_steps, weight_decay, beta_2, clipnorm):
    check_positive_number("learning_rate", learning_rate)
    check_positive_number("min_learning_rate", min_learning_rate)
    if min_learning_rate > learning_rate:
        raise ValueError(
            f"`min_learning_rate` must be at most learning_rate={learning_rate}. Received: min_learning_rate={min_learning_rate}"
        )
    if not (_is_integer(warmup_steps) and warmup_steps >= 0):
        raise ValueError(f"`warmup_steps` must be an integer >= 0. Received: warmup_steps={warmup_steps!r}")
    if check_positive_int("decay_steps", decay_steps) <= warmup_steps:
        raise ValueError(
            f"`warmup_steps` must be below decay_steps={decay_steps} (the cosine runs from warmup_steps to "
            f"decay_steps). Received: warmup_steps={warmup_steps}"
        )
    if weight_decay != 0:
        check_positive_number("weight_decay", weight_decay)
    check_rate("beta_2", beta_2)
    if clipnorm is not None:
        check_positive_number("clipnorm", clipnorm)


@keras.saving.register_keras_serializable(package="seqrecipes")
class GPTAdamW(keras.optimizers.AdamW):
    """AdamW that decays the kernels and tables only, as nanoGPT's ``configure_optimizers`` does.

    The biases and the layer norms' gamma and beta (``NOT_DECAYED``, matched in the weight names) are
    left out of the decoupled weight decay; the exclusion is made in ``__init__``, so an optimizer
    reloaded from a ``.keras`` file keeps it.

    Args:
        **kwargs: as ``keras.optimizers.AdamW``.

    Example:
    >>> import keras
    >>> optimizer = GPTAdamW(learning_rate=1e-3, weight_decay=0.1)
    >>> kernel, bias = keras.Variable([[1.0]], name="kernel"), keras.Variable([1.0], name="bias")
    >>> optimizer._use_weight_decay(kernel), optimizer._use_weight_decay(bias)
    (True, False)
    """

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.exclude_from_weight_decay(var_names=list(NOT_DECAYED))


def gpt_optimizer(learning_rate, min_learning_rate, warmup_steps, decay_steps, weight_decay, beta_2, clipnorm):
    """nanoGPT's AdamW (``GPTAdamW``): a linear warm-up from 0 to ``learning_rate`` over ``warmup_steps``,
    a cosine to ``min_learning_rate`` at ``decay_steps`` (then flat), decoupled weight decay on the kernels
    and tables, clipping by the global gradient norm."""
    schedule = keras.optimizers.schedules.CosineDecay(
        0.0, decay_steps - warmup_steps, alpha=min_learning_rate / learning_rate, warmup_target=learning_rate,
        warmup_steps=warmup_steps,
    )  # fmt: skip
    return GPTAdamW(
        learning_rate=schedule, weight_decay=weight_decay, beta_1=0.9, beta_2=beta_2, epsilon=1e-8,
        global_clipnorm=clipnorm,
    )  # fmt: skip
