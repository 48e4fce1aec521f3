"""``bidirectional_language_model``: a forward and a backward LSTM language model with one token table and
one softmax, trained on both directions' next tokens (ELMo, seed 000); the forward LM generates text.

Seed 000: "ELMo: a left-to-right LM and a right-to-left LM, combined". The backward LM is a forward
stack over the sentence reversed (``layers.ReverseSequence``: each row's real steps, padding kept in
place); a second reversal puts h_bwd,t beside h_fwd,t. A downstream recipe reads the layers of both
through ``recipes.fine_tune`` as a learned scalar mix (``layers.ScalarMix``).
"""

from typing import Optional

import keras
from keras import ops

from seqrecipes import layers
from seqrecipes._checks import check_choice, check_rate
from seqrecipes.recipes.training.losses import token_loss
from seqrecipes.recipes._components import CELLS, check_lengths, check_positive_ints, embedded_tokens, recurrent_optimizer, recurrent_stack, saved_arguments, vocabulary_size_of
from seqrecipes.recipes.decoding.recurrent_lm import RecurrentLanguageModelDecoder
from seqrecipes.recipes.recipe_model import RecipeModel
from seqrecipes.recipes.training.metrics import Perplexity, TokenAccuracy
from seqrecipes.recipes._precision import with_precision


class BidirectionalLanguageModelDecoder(RecurrentLanguageModelDecoder):
    """The ``Decoder`` of ``bidirectional_language_model``: its forward LM (``embedding``, ``rnn_k``, ``logits``),
    stepped as ``rnn_language_model``'s; the backward stack is not used to generate.

    Example:
    >>> from seqrecipes import data, recipes
    >>> tokenizer = data.CharTokenizer(vocabulary=list("abc"))
    >>> model = recipes.bidirectional_language_model(units=8, embedding_dim=4, text_tokenizer=tokenizer)
    >>> state = model.decoder.encode(recipes.prompt_ids(tokenizer, ["ab", "c"]))
    >>> logits, state = model.decoder.step(state["last_token"], state, 0)
    >>> tuple(logits.shape), len(state["states"])  # (B, V), one state list per forward layer
    ((2, 7), 2)
    """


@with_precision
def bidirectional_language_model(
    *,
    text_vocabulary_size: int = 0,
    embedding_dim: int = 64,
    units: int = 128,
    cell: str = "lstm",
    num_layers: int = 2,
    dropout: float = 0.1,
    max_output_length: int = 64,
    label_smoothing: float = 0.0,
    learning_rate: float = 1e-3,
    clipnorm: Optional[float] = 1.0,
    text_tokenizer=None,
    name: str = "bidirectional_language_model",
) -> RecipeModel:
    """A bidirectional language model (ELMo, seed 000): a forward and a backward LM, trained together.

    Shapes: B batch, T steps, E ``embedding_dim``, H ``units``, L ``num_layers``, V the vocabulary.

        x_t                 = Embedding(w_t)                         (B, T, E), shared, padding masked
        h_fwd,t^(j)         = RNN_fwd^(j)(h_fwd,t^(j-1), h_fwd,t-1^(j))   j = 1 .. L, layers ``rnn_j``
        h_bwd,t^(j)         = RNN_bwd^(j)(h_bwd,t^(j-1), h_bwd,t+1^(j))   layers ``backward_rnn_j``, run over
                                                                     the reversed sentence, reversed back
        p(w_{t+1} | w_1..w_t)   = softmax(W h_fwd,t^(L) + b)         (B, T, V)   the one softmax (W, b)
        p(w_{t-1} | w_t..w_n)   = softmax(W h_bwd,t^(L) + b)         (B, T, V)   serves both directions
        logits              = [forward ; backward]                   (B, T, 2, V)

    Training pairs come from ``data.bidirectional_lm_targets()`` then ``data.batch_with_padding(B)``:
    inputs ``[START] w_1 .. w_n [END]``, targets (B, T, 2): the next id and the previous id at every
    step, 0 where there is none. The loss is the sum of both directions' cross-entropies, padding and
    the ends ignored (class 0), as Peters et al. (2018) maximise log p_fwd + log p_bwd; the perplexity
    is exp of the mean over both directions' tokens.

    Generating and scoring use the forward LM alone (``BidirectionalLanguageModelDecoder``, stepped as
    ``rnn_language_model``'s: the layers ``embedding``, ``rnn_j`` and ``logits``): the export
    (``serving="generate"``) takes a 1-D string batch of prompts and returns their greedy
    continuations, at most ``max_output_length`` tokens. For a downstream task,
    ``recipes.fine_tune(model, "text_classifier" or "sequence_tagger", ...)`` moves the embedding and
    both stacks in and mixes [h_fwd,t^(j) ; h_bwd,t^(j)] over j with a ``layers.ScalarMix``.

    Args:
        text_vocabulary_size: V, when no ``text_tokenizer`` is given.
        embedding_dim: E, the shared token embedding size.
        units: H, the size of every recurrent layer of each direction.
        cell: the recurrent cell: "simple_rnn", "gru", "lstm" (ELMo's), "peephole_lstm",
            "layer_norm_lstm" or "cifg_lstm".
        num_layers: L, stacked layers per direction.
        dropout: dropout rate after the embeddings and each recurrent layer (training only).
        max_output_length: the longest continuation decoding writes, [END] included.
        label_smoothing: epsilon of the label-smoothed token loss (``training.losses.LabelSmoothingCrossentropy``:
            (1 - epsilon) onehot(y) + epsilon / V as the target, padding left out); 0: plain cross-entropy.
        learning_rate: Adam's learning rate.
        clipnorm: gradient clipping by global norm (None: off).
        text_tokenizer: a ``seqrecipes.data`` tokenizer; needed for export.
        name: the model name.

    Returns:
        A compiled ``RecipeModel`` with logits (B, T, 2, V) (Adam with clipping, the cross-entropy of both
        directions, perplexity, accuracy).

    Example:
    >>> import tensorflow as tf
    >>> from seqrecipes import data, recipes
    >>> text = ["the cat sat", "the dog ran"]
    >>> tokenizer = data.WordTokenizer().adapt(text)
    >>> model = recipes.bidirectional_language_model(units=8, embedding_dim=8, text_tokenizer=tokenizer)
    >>> batches = (tf.data.Dataset.from_tensor_slices(text).apply(data.tokenize(tokenizer))
    ...            .apply(data.bidirectional_lm_targets()).apply(data.batch_with_padding(2)))
    >>> history = model.fit(batches, epochs=1, verbose=0)
    >>> model.predict(next(iter(batches))[0], verbose=0).shape  # (B, T, 2, V)
    (2, 5, 2, 9)

    References:
        - Peters et al. (2018), Deep contextualized word representations (ELMo),
          https://arxiv.org/abs/1802.05365
        - Jozefowicz et al. (2016), Exploring the limits of language modeling.
    """
    check_lengths(locals(), "max_output_length")
    check_positive_ints(locals(), "embedding_dim", "units", "num_layers")
    check_choice("cell", cell, CELLS)
    check_rate("dropout", dropout)
    text_vocabulary_size = vocabulary_size_of(text_tokenizer, text_vocabulary_size, "text")
    optimizer = recurrent_optimizer(learning_rate, clipnorm=clipnorm)

    token_ids = keras.Input((None,), dtype="int32", name="token_ids")
    x = embedded_tokens(token_ids, text_vocabulary_size, embedding_dim, dropout)  # (B, T, E)
    forward = recurrent_stack(x, cell, units, num_layers, dropout)  # (B, T, H), layers rnn_j
    backward = recurrent_stack(layers.ReverseSequence(name="reverse_inputs")(x), cell, units, num_layers, dropout, prefix="backward_")
    backward = layers.ReverseSequence(name="reverse_outputs")(backward)  # (B, T, H): h_bwd,t back at step t
    softmax = keras.layers.Dense(text_vocabulary_size, dtype="float32", name="logits")  # one (W, b) for both directions
    # (B, T, 2, V); a stacking op, not a Reshape layer, which would warn that it drops the padding mask
    # (the loss needs none: the targets are 0 at padding and at the ends).
    logits = ops.stack([softmax(forward), softmax(backward)], axis=2)

    model = RecipeModel(
        token_ids, logits, recipe="bidirectional_language_model",
        arguments=saved_arguments(bidirectional_language_model, locals()), tokenizers={"text": text_tokenizer}, name=name,
    )  # fmt: skip
    loss = token_loss(label_smoothing)
    metrics = [Perplexity(from_logits=True), TokenAccuracy(name="accuracy")]
    model.compile(optimizer=optimizer, loss=loss, metrics=metrics)
    return model
