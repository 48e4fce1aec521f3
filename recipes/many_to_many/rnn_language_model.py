"""``rnn_language_model``: the next token at every step, at character or word level (seeds 002, 004),
optionally ``stateful`` for truncated backpropagation through time over one long text;
``RNNLanguageModelDecoder`` generates text from it."""

from typing import Optional

import keras

from seqrecipes._checks import check_bool, check_choice, check_rate
from seqrecipes.recipes.training.losses import token_loss
from seqrecipes.recipes._components import CELLS, check_lengths, check_positive_ints, embedded_tokens, recurrent_optimizer, recurrent_stack, saved_arguments, vocabulary_size_of
from seqrecipes.recipes.decoding.prompts import MAX_PROMPT_LENGTH  # noqa: F401 (read here by users)
from seqrecipes.recipes.decoding.recurrent_lm import RecurrentLanguageModelDecoder
from seqrecipes.recipes.recipe_model import RecipeModel
from seqrecipes.recipes.training.metrics import Perplexity, TokenAccuracy
from seqrecipes.recipes._precision import with_precision


class RNNLanguageModelDecoder(RecurrentLanguageModelDecoder):
    """The ``Decoder`` of ``rnn_language_model``: reads the prompt in ``encode``, one cell step per token.

    ``encode`` takes prompts (B, L) int ids, ``[START]`` + the prompt's tokens, padded with 0 on the
    right (``prompt_ids`` makes them). It runs the recurrent layers over all but the last real id
    of each row (the padding mask keeps each row's states at its own end) and keeps that last id
    for step 0. ``step`` embeds the token (the prompt's last id at index 0, else the previous
    output), runs each layer's cell once and returns the logits. It uses the cells directly, never
    a layer's stored states, so it works for ``stateful`` models at any batch size.

    State (batch-first, fixed shapes): ``{"last_token": (B,) int32, "states": one list per layer
    of the cell states, each (B, H)}``. The steps are ``decoding.RecurrentLanguageModelDecoder``'s.

    Example:
    >>> from seqrecipes import data, recipes
    >>> tokenizer = data.CharTokenizer(vocabulary=list("abc"))
    >>> model = recipes.rnn_language_model(units=8, embedding_dim=4, text_tokenizer=tokenizer)
    >>> state = model.decoder.encode(recipes.prompt_ids(tokenizer, ["ab", "c"]))
    >>> state["last_token"].numpy().tolist()
    [5, 6]
    >>> logits, state = model.decoder.step(state["last_token"], state, 0)
    >>> tuple(logits.shape)
    (2, 7)
    """



@with_precision
def rnn_language_model(
    *,
    text_vocabulary_size: int = 0,
    embedding_dim: int = 64,
    units: int = 128,
    cell: str = "lstm",
    num_layers: int = 1,
    dropout: float = 0.0,
    stateful: bool = False,
    batch_size: int = 32,
    max_output_length: int = 64,
    label_smoothing: float = 0.0,
    learning_rate: float = 1e-3,
    clipnorm: Optional[float] = 1.0,
    text_tokenizer=None,
    name: str = "rnn_language_model",
) -> RecipeModel:
    """RNN language model at character or word level: the next token at every step (seeds 002, 004).

    Shapes: B batch, T steps, E ``embedding_dim``, H ``units``, V the vocabulary. The level is
    the tokenizer's: a ``CharTokenizer`` makes a character model (char-RNN), a ``WordTokenizer``
    a word model.

        x_t             = Embedding(w_t)                      (B, T, E), padding (id 0) masked
        h_t             = RNN(x_t, h_{t-1})                   ``num_layers`` stacked ``cell`` RNNs, (B, T, H)
        p(w_{t+1} | w_1..w_t) = softmax(W h_t + b)            (B, T, V)

    Two ways to train:

    - sentences (``stateful=False``, the default): inputs ``[START] w_1 .. w_n``, targets
      ``w_1 .. w_n [END]`` (``data.tokenize`` then ``data.teacher_forcing_shift()`` then
      ``data.batch_with_padding(B)``); padding is masked in the loss and metrics;
    - one long text with truncated BPTT (``stateful=True``): ``data.lm_windows(T, batch_size=B)``
      cuts the text into B rows walked T steps at a time, and the recurrent states carry over from
      one batch to the next, so gradients flow T steps back while the state sees the whole text.
      A stateful model has a fixed batch size (``batch_size``; every batch it is fit or evaluated
      on must have exactly that many rows): pass ``callbacks=[recipes.reset_states_callback(model)]``
      to ``fit`` to start each epoch from zero states.

    The loss is sparse categorical cross-entropy per token; its exponential is the perplexity.

    Generating (both modes; the stateful model's stored states are not used, so any batch size
    works): ``recipes.greedy_search(model.decoder, prompt_ids(tokenizer, prompts))``. The export
    (``serving="generate"``) takes a 1-D string batch ``inputs`` of prompts (any length; the last
    ``MAX_PROMPT_LENGTH`` = 4096 ids of ``[START]`` + tokens are read) and returns ``outputs``: the
    greedy continuation of each prompt, at most ``max_output_length`` tokens, stopping at ``[END]``
    (characters joined as they are, words with single spaces).

    Args:
        text_vocabulary_size: V, when no ``text_tokenizer`` is given.
        embedding_dim: E, the token embedding size.
        units: H, the size of each recurrent layer.
        cell: the recurrent cell: "simple_rnn", "gru", "lstm", "peephole_lstm", "layer_norm_lstm" or
            "cifg_lstm".
        num_layers: stacked recurrent layers.
        dropout: dropout rate after the embeddings and each recurrent layer (training only).
        stateful: keep the recurrent states between batches (truncated BPTT).
        batch_size: the fixed batch size of a stateful model (ignored otherwise).
        max_output_length: the longest continuation decoding writes, [END] included.
        label_smoothing: epsilon of the label-smoothed token loss (``training.losses.LabelSmoothingCrossentropy``:
            (1 - epsilon) onehot(y) + epsilon / V as the target, padding left out); 0: plain cross-entropy.
        learning_rate: Adam's learning rate.
        clipnorm: gradient clipping by global norm (None: off); on by default, for the exploding
            gradients of BPTT.
        text_tokenizer: a ``seqrecipes.data`` ``CharTokenizer`` or ``WordTokenizer``; needed for
            export.
        name: the model name.

    Returns:
        A compiled ``RecipeModel`` (Adam with clipping, sparse categorical cross-entropy, perplexity,
        accuracy).

    Example:
    >>> import tensorflow as tf
    >>> from seqrecipes import data, recipes
    >>> text = ["hello world", "hello there"]
    >>> tokenizer = data.CharTokenizer().adapt(text)
    >>> model = recipes.rnn_language_model(units=16, embedding_dim=8, text_tokenizer=tokenizer)
    >>> batches = (tf.data.Dataset.from_tensor_slices(text).apply(data.tokenize(tokenizer))
    ...            .apply(data.teacher_forcing_shift()).apply(data.batch_with_padding(2)))
    >>> history = model.fit(batches, epochs=2, verbose=0)
    >>> ids, lengths = recipes.greedy_search(model.decoder, recipes.prompt_ids(tokenizer, ["hel"]), max_length=5)
    >>> ids.shape.as_list()
    [1, 5]

    References:
        - Mikolov et al. (2010), Recurrent neural network based language model, Interspeech.
        - Karpathy (2015), The unreasonable effectiveness of recurrent neural networks (char-RNN).
        - Williams and Peng (1990), An efficient gradient-based algorithm for on-line training of
          recurrent network trajectories (truncated BPTT).
    """
    check_lengths(locals(), "max_output_length")
    check_positive_ints(locals(), "embedding_dim", "units", "num_layers", "batch_size")
    check_choice("cell", cell, CELLS)
    check_bool("stateful", stateful)
    check_rate("dropout", dropout)
    text_vocabulary_size = vocabulary_size_of(text_tokenizer, text_vocabulary_size, "text")
    optimizer = recurrent_optimizer(learning_rate, clipnorm=clipnorm)

    token_ids = keras.Input((None,), batch_size=batch_size if stateful else None, dtype="int32", name="token_ids")
    x = embedded_tokens(token_ids, text_vocabulary_size, embedding_dim, dropout)  # (B, T, E)
    x = recurrent_stack(x, cell, units, num_layers, dropout, stateful=stateful)  # (B, T, H)
    logits = keras.layers.Dense(text_vocabulary_size, name="logits")(x)  # (B, T, V)
    probabilities = keras.layers.Activation("softmax", dtype="float32", name="probabilities")(logits)

    model = RecipeModel(
        token_ids, probabilities, recipe="rnn_language_model", arguments=saved_arguments(rnn_language_model, locals()),
        tokenizers={"text": text_tokenizer}, name=name,
    )  # fmt: skip
    metrics = [Perplexity(), TokenAccuracy(name="accuracy")]  # the token accuracy over the real positions
    model.compile(optimizer=optimizer, loss=token_loss(label_smoothing, from_logits=False, ignore_class=None), metrics=metrics)
    return model
