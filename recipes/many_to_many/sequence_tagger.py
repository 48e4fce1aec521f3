"""``sequence_tagger``: one label per token of a sentence (named entities, parts of speech), from a
bidirectional LSTM."""

from typing import Optional

import keras
import tensorflow as tf
from keras import ops

from seqrecipes import layers
from seqrecipes._checks import check_bool, check_choice, check_rate
from seqrecipes.data import PAD_ID, RESERVED_TOKENS, Tokenizer, WordTokenizer
from seqrecipes.recipes.backbones import backbone_features, check_downstream, fine_tuning_optimizer
from seqrecipes.recipes._components import CELLS, check_lengths, check_positive_ints, embedded_tokens, recurrent_optimizer, recurrent_stack, saved_arguments, vocabulary_size_of
from seqrecipes.recipes.recipe_model import RecipeModel
from seqrecipes.recipes.training.metrics import TokenAccuracy
from seqrecipes.recipes._precision import with_precision

NUM_RESERVED = len(RESERVED_TOKENS)
ENCODERS = ("rnn", "pretrained")


def tagger_serving(model):
    """The serving function of ``sequence_tagger``: strings (B,) -> tags (B, T), "" after each sentence."""
    text_tokenizer, tags_tokenizer = model.tokenizer("text"), model.tokenizer("tags")
    max_length = model.arguments["max_length"]

    def serve(strings):
        ids = text_tokenizer.tokenize_ragged(strings)[:, :max_length].to_tensor(default_value=PAD_ID)  # (B, T)
        ids = tf.pad(ids, [[0, 0], [0, tf.maximum(1 - tf.shape(ids)[1], 0)]])  # at least one step
        tags = tags_tokenizer.ids_to_tokens(tf.maximum(predict_tags(model, ids), NUM_RESERVED))  # (B, T)
        return {"tags": tf.where(ids != PAD_ID, tags, tf.zeros_like(tags))}

    return serve


def predict_tags(model, token_ids):
    """Tag ids (B, T) int32 for token ids (B, T): the most probable real tag (ids >= 4) per token
    (with ``crf=True``, of the most probable tag sequence: Viterbi), 0 at padding; what the export
    returns as names.

    Example:
    >>> import numpy as np
    >>> from seqrecipes import recipes
    >>> model = recipes.sequence_tagger(text_vocabulary_size=10, tags_vocabulary_size=7, units=4, embedding_dim=4)
    >>> tags = recipes.predict_tags(model, np.array([[4, 5, 0]], "int32")).numpy()
    >>> bool(np.all(tags[:, :2] >= 4)), int(tags[0, 2])
    (True, 0)
    """
    scores = model(token_ids, training=False)  # (B, T, V_tags): probabilities, or a CRF's emissions
    real = ops.not_equal(token_ids, PAD_ID)  # (B, T)
    if model.arguments.get("crf"):
        reserved = ops.arange(ops.shape(scores)[-1]) < NUM_RESERVED  # (V_tags,): never decoded
        predicted, _ = model.get_layer("crf").decode(ops.where(reserved, -1e4, ops.cast(scores, "float32")), real)
    else:
        predicted = ops.cast(ops.argmax(scores[:, :, NUM_RESERVED:], axis=-1), "int32") + NUM_RESERVED
    return ops.where(real, predicted, 0)


def crf_loss(model, token_ids, tags, emissions):
    """The CRF tagger's loss: -log p(y | x) summed over the batch's sentences, per real token.

    Tags (B, T) have the token ids' shape (``RecipeModel.fit`` checks it in the data set); padding (id 0) is
    left out by the mask of the ids."""
    real = ops.not_equal(token_ids, PAD_ID)
    negative_log_likelihood = -model.get_layer("crf").log_likelihood(emissions, tags, real)  # (B,)
    return ops.sum(negative_log_likelihood) / ops.maximum(ops.sum(ops.cast(real, "float32")), 1.0)


@with_precision
def sequence_tagger(
    *,
    text_vocabulary_size: int = 0,
    tags_vocabulary_size: int = 0,
    max_length: int = 128,
    encoder: str = "rnn",
    embedding_dim: int = 64,
    units: int = 64,
    cell: str = "lstm",
    num_layers: int = 1,
    bidirectional: bool = True,
    dropout: float = 0.0,
    crf: bool = False,
    learning_rate: float = 1e-3,
    clipnorm: Optional[float] = 1.0,
    backbone: Optional[dict] = None,
    backbone_trainable: bool = True,
    backbone_learning_rate: Optional[float] = None,
    text_tokenizer=None,
    tags_tokenizer=None,
    name: str = "sequence_tagger",
) -> RecipeModel:
    """Sequence tagging: one label per token from a bidirectional LSTM (named entities, POS tags).

    Shapes: B batch, T tokens, E ``embedding_dim``, H ``units``, V_tags the tags vocabulary (the
    four reserved ids included).

        x_t          = Embedding(w_t)                          (B, T, E), padding (id 0) masked
        h_t          = [h_fwd,t ; h_bwd,t]                     (B, T, 2H): ``num_layers`` BiLSTMs
                                                               (one direction with bidirectional=False)
                                                               or, with encoder="pretrained", a GPT, BERT
                                                               or ELMo body (``recipes.fine_tune``)
        p(y_t | w)   = softmax(W h_t + b)                      (B, T, V_tags)

    Each tag is predicted on its own; with ``crf=True`` the scores x_t = W h_t + b (B, T, V_tags) are
    the emissions of a linear-chain CRF (``layers.CRF``, Huang et al. 2015, Lample et al. 2016):

        p(y_1..y_L | w) = exp(b[y_1] + sum_t x_t[y_t] + sum_t A[y_{t-1}, y_t] + e[y_L]) / Z(x)

    trained on -log p(y | w) per real token (the forward algorithm's log Z), decoded by Viterbi in
    the graph (``predict_tags`` and the export); the model's output is then x, not probabilities.
    Tag ids are the tags tokenizer's ids (a tag name
    k-th in its vocabulary has id k + 4); the loss and the ``token_accuracy`` metric skip padded
    tokens. ``data.tagging_batches`` makes batches from (tokens, tags) sentences such as
    ``data.conll_file`` gives; ``predict_tags`` returns the best real tag per token.

    Export (``serving="tag"``): ``serving_default`` takes a 1-D string batch ``inputs``, splits
    each sentence with the text tokenizer in the graph (use a
    ``WordTokenizer(split_punctuation=False)`` so that raw text splits on whitespace, as CoNLL
    tokens are), keeps the first ``max_length`` tokens (later tokens get no tag) and returns
    ``tags``: (B, T) strings, one real tag per token, padded with ``""`` (T the longest sentence
    of the batch, at least 1).

    Args:
        text_vocabulary_size: the word vocabulary, when no ``text_tokenizer`` is given.
        tags_vocabulary_size: V_tags, when no ``tags_tokenizer`` is given.
        max_length: the most tokens the export tags per sentence.
        encoder: ``"rnn"`` (the recurrent layers below) or ``"pretrained"`` (``backbone``).
        embedding_dim: E, the word embedding size.
        units: H, the size of each recurrent layer (each direction).
        cell: the recurrent cell: "simple_rnn", "gru", "lstm" (the default), "peephole_lstm",
            "layer_norm_lstm" or "cifg_lstm".
        num_layers: stacked (bidirectional) recurrent layers.
        bidirectional: read the sentence both ways (the default) or left to right only.
        dropout: dropout rate after the embeddings and each recurrent layer (training only).
        crf: a CRF over the tag scores (at least 2 real tags), instead of one softmax per token.
        learning_rate: Adam's learning rate.
        clipnorm: gradient clipping by global norm (None: off).
        backbone, backbone_trainable, backbone_learning_rate: with ``encoder="pretrained"``, the
            pretrained body {"recipe", "arguments"}, whether its weights learn, and their learning rate
            (None: ``learning_rate``); see ``recipes.fine_tune``, which sets them and moves the weights in.
        text_tokenizer: a ``seqrecipes.data`` tokenizer of the words; needed for export.
        tags_tokenizer: the tags vocabulary: a tokenizer, or a list of tag names (made into a
            ``WordTokenizer(split_punctuation=False)``, so ``"B-PER"`` stays one tag).
        name: the model name.

    Returns:
        A compiled ``RecipeModel`` (Adam with clipping, sparse categorical cross-entropy or with
        ``crf=True`` the CRF's negative log-likelihood, token accuracy).

    Example:
    >>> import tensorflow as tf
    >>> from seqrecipes import data, recipes
    >>> words = data.WordTokenizer(vocabulary=["Peter", "lives", "in", "Seoul"], split_punctuation=False)
    >>> model = recipes.sequence_tagger(units=8, embedding_dim=8, text_tokenizer=words,
    ...                                 tags_tokenizer=["O", "B-PER", "B-LOC"])
    >>> sentences = tf.data.Dataset.from_tensors((["Peter", "lives", "in", "Seoul"], ["B-PER", "O", "O", "B-LOC"]))
    >>> batches = sentences.apply(data.tagging_batches(words, model.tokenizer("tags"), 1))
    >>> history = model.fit(batches, epochs=2, verbose=0)
    >>> recipes.predict_tags(model, next(iter(batches))[0]).shape.as_list()
    [1, 4]

    References:
        - Huang, Xu, Yu (2015), Bidirectional LSTM-CRF models for sequence tagging,
          https://arxiv.org/abs/1508.01991
        - Lecture notes of seeds 002 and 004 (bidirectional RNN, many-to-many).
    """
    check_lengths(locals(), "max_length")
    check_positive_ints(locals(), "embedding_dim", "units", "num_layers")
    check_choice("cell", cell, CELLS)
    check_choice("encoder", encoder, ENCODERS)
    check_bool("bidirectional", bidirectional)
    check_bool("crf", crf)
    check_rate("dropout", dropout)
    tags_tokenizer = _tags_tokenizer(tags_tokenizer)
    text_vocabulary_size = vocabulary_size_of(text_tokenizer, text_vocabulary_size, "text")
    tags_vocabulary_size = vocabulary_size_of(tags_tokenizer, tags_vocabulary_size, "tags")
    if crf and tags_vocabulary_size - NUM_RESERVED < 2:
        raise ValueError(
            f"crf=True needs at least 2 tags besides the {NUM_RESERVED} reserved ids (a CRF with one tag has nothing to choose). "
            f"Received: tags_vocabulary_size={tags_vocabulary_size}"
        )
    backbone = check_downstream(encoder, backbone, backbone_trainable, backbone_learning_rate, text_vocabulary_size, max_length)
    recurrent_optimizer(learning_rate, clipnorm=clipnorm)  # its checks, before anything is built

    token_ids = keras.Input((None,), dtype="int32", name="token_ids")
    if encoder == "pretrained":
        x, _ = backbone_features(token_ids, backbone, backbone_trainable)  # (B, T, D); the loss skips padded tags
        if dropout:
            x = keras.layers.Dropout(dropout, name="backbone_dropout")(x)
    else:
        x = embedded_tokens(token_ids, text_vocabulary_size, embedding_dim, dropout)  # (B, T, E)
        x = recurrent_stack(x, cell, units, num_layers, dropout, bidirectional)  # (B, T, 2H) or (B, T, H)
    logits = keras.layers.Dense(tags_vocabulary_size, dtype="float32", name="logits")(x)  # (B, T, V_tags)
    if crf:  # the emissions x_t, the CRF's weights in the graph
        outputs = keras.layers.Activation("linear", dtype="float32", name="emissions")(layers.CRF(tags_vocabulary_size, name="crf")(logits))
    else:
        outputs = keras.layers.Activation("softmax", dtype="float32", name="probabilities")(logits)

    model = RecipeModel(
        token_ids, outputs, recipe="sequence_tagger", arguments=saved_arguments(sequence_tagger, locals()),
        tokenizers={"text": text_tokenizer, "tags": tags_tokenizer}, name=name, model_loss=crf_loss if crf else None,
    )  # fmt: skip
    # Padded tags (0) are left out by the mask of the recurrent encoder, and by ignore_class for a
    # pretrained body (a GPT body carries no mask).
    loss = None if crf else keras.losses.SparseCategoricalCrossentropy(ignore_class=PAD_ID if encoder == "pretrained" else None)
    optimizer = fine_tuning_optimizer(model, learning_rate, backbone_learning_rate, clipnorm)
    model.compile(optimizer=optimizer, loss=loss, metrics=[TokenAccuracy()])
    return model


def _tags_tokenizer(tags_tokenizer):
    if tags_tokenizer is None or isinstance(tags_tokenizer, Tokenizer):
        return tags_tokenizer
    if isinstance(tags_tokenizer, (str, bytes)) or not isinstance(tags_tokenizer, (list, tuple)):
        raise ValueError(
            "`tags_tokenizer` must be a seqrecipes tokenizer or a list of tag names. "
            f"Received: tags_tokenizer={tags_tokenizer!r:.200}"
        )
    names = list(tags_tokenizer)
    if (
        not names
        or not all(isinstance(n, str) and n and not n.isspace() for n in names)
        or len(set(names)) != len(names)
    ):
        raise ValueError(
            f"Tag names must be distinct non-empty strings, at least one. Received: tags_tokenizer={names!r:.200}"
        )
    return WordTokenizer(vocabulary=names, split_punctuation=False)
