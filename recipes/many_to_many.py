"""Many-to-many recipes with aligned outputs: one output per input step.

``sequence_tagger`` labels every token of a sentence (named entities, parts of speech) with a
bidirectional LSTM. ``rnn_language_model`` predicts every next token of a text, at character or
word level (the tokenizer decides), optionally ``stateful`` for truncated backpropagation through
time over one long text; ``LanguageModelDecoder`` generates text from it.
"""

from typing import Optional

import keras
import tensorflow as tf
from keras import ops

from seqrecipes import layers
from seqrecipes.data import PAD_ID, RESERVED_TOKENS, START_ID, Tokenizer, WordTokenizer
from seqrecipes.recipes import components, metrics
from seqrecipes.recipes.decoding import Decoder, ban_never_generated, generation_serving
from seqrecipes.recipes.recipe_model import RecipeModel
from seqrecipes.recipes.registry import register

NUM_RESERVED = len(RESERVED_TOKENS)


def _ragged_ids(tokenizer, strings):
    ids = tokenizer.tokenize(strings)
    if not isinstance(ids, tf.RaggedTensor):  # a tokenizer with sequence_length pads with 0
        ids = tf.RaggedTensor.from_tensor(ids, padding=PAD_ID)
    return tf.cast(ids, tf.int32)


# ------------------------------------------------------------------------------------------------
# Sequence tagging.


def tag_ids(tags_tokenizer, tags):
    """Tags of one sentence -> tag ids (T,) int32: names are looked up, class indices k become k + 4.

    String tags (``data.conll_file``) are looked up in the tags vocabulary (unknown tags give the
    unknown id 1); integer tags (TFDS ``conll2003``, where k indexes the tag names) become k + 4,
    the id of the k-th name in a tags tokenizer built from those names in order.
    """
    tags = tf.convert_to_tensor(tags)
    if tags.dtype == tf.string:
        return tf.cast(tags_tokenizer.tokens_to_ids(tags), tf.int32)
    return tf.cast(tags, tf.int32) + NUM_RESERVED


def tagging_batches(text_tokenizer, tags_tokenizer, batch_size, max_length=None):
    """A ``dataset.apply`` step from (tokens (T,), tags (T,)) sentences to ``sequence_tagger`` batches.

    Each token is tokenized on its own and stands for its first id (so a CoNLL token is one model
    step whatever the tokenizer's splitting; a token that gives no id becomes ``[UNK]``); tags go
    through ``tag_ids``. Sentences are cut to their first ``max_length`` tokens and padded with 0
    to the longest in the batch (padding is masked in the loss and metrics).

    Args:
        text_tokenizer: the recipe's text tokenizer.
        tags_tokenizer: the recipe's tags tokenizer.
        batch_size: sentences per batch.
        max_length: the model's ``max_length``, or None for no cut.

    Returns:
        A transform giving ``(token ids (B, T) int32, tag ids (B, T) int32)``.

    Example:
    >>> import tensorflow as tf
    >>> from seqrecipes import data, recipes
    >>> words = data.WordTokenizer(vocabulary=["EU", "rejects"], split_punctuation=False)
    >>> tags = data.WordTokenizer(vocabulary=["O", "B-ORG"], split_punctuation=False)
    >>> sentences = tf.data.Dataset.from_tensors((["EU", "rejects", "it"], ["B-ORG", "O", "O"]))
    >>> x, y = next(iter(sentences.apply(recipes.tagging_batches(words, tags, 2))))
    >>> x.numpy().tolist(), y.numpy().tolist()
    ([[4, 5, 1]], [[5, 4, 4]])
    """
    components.check_positive("batch_size", batch_size)
    if max_length is not None:
        components.check_positive("max_length", max_length)

    def encode(tokens, tags):
        pieces = _ragged_ids(text_tokenizer, tf.reshape(tokens, [-1]))  # (T, pieces)
        first = pieces.to_tensor(default_value=PAD_ID, shape=[None, 1])[:, 0]  # (T,)
        words = tf.where(first == PAD_ID, tf.ones_like(first), first)  # no id -> [UNK] (1)
        labels = tag_ids(tags_tokenizer, tags)
        if max_length is not None:
            words, labels = words[:max_length], labels[:max_length]
        return words, labels

    def transform(dataset):
        dataset = dataset.map(encode, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
        return dataset.padded_batch(batch_size, padding_values=(PAD_ID, PAD_ID))

    return transform


def _tagger_serving(model):
    text_tokenizer, tags_tokenizer = model.tokenizer("text"), model.tokenizer("tags")
    max_length = model.arguments["max_length"]

    def serve(strings):
        ids = _ragged_ids(text_tokenizer, strings)[:, :max_length].to_tensor(default_value=PAD_ID)  # (B, T)
        ids = tf.pad(ids, [[0, 0], [0, tf.maximum(1 - tf.shape(ids)[1], 0)]])  # at least one step
        probabilities = model(ids, training=False)  # (B, T, V_tags)
        predicted = tf.argmax(probabilities[:, :, NUM_RESERVED:], axis=-1, output_type=tf.int32) + NUM_RESERVED
        tags = tags_tokenizer.ids_to_tokens(predicted)  # (B, T)
        return {"tags": tf.where(ids != PAD_ID, tags, tf.zeros_like(tags))}

    return serve


def predict_tags(model, token_ids):
    """Tag ids (B, T) int32 for token ids (B, T): the most probable real tag (ids >= 4) per token,
    0 at padding; what the export returns as names."""
    probabilities = model(token_ids, training=False)
    predicted = ops.cast(ops.argmax(probabilities[:, :, NUM_RESERVED:], axis=-1), "int32") + NUM_RESERVED
    return ops.where(ops.not_equal(token_ids, PAD_ID), predicted, 0)


@register(
    "many-to-many (aligned)",
    datasets=("conll2003", "conll_file"),
    serving="tag",
    serving_function=_tagger_serving,
)
def sequence_tagger(
    *,
    text_vocabulary_size: int = 0,
    tags_vocabulary_size: int = 0,
    max_length: int = 128,
    embedding_dim: int = 64,
    units: int = 64,
    cell: str = "lstm",
    num_layers: int = 1,
    bidirectional: bool = True,
    dropout: float = 0.0,
    learning_rate: float = 1e-3,
    clipnorm: Optional[float] = 1.0,
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
        p(y_t | w)   = softmax(W h_t + b)                      (B, T, V_tags)

    Each tag is predicted on its own (no CRF). Tag ids are the tags tokenizer's ids (a tag name
    k-th in its vocabulary has id k + 4); the loss and the ``token_accuracy`` metric skip padded
    tokens. ``tagging_batches`` makes batches from (tokens, tags) sentences such as
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
        embedding_dim: E, the word embedding size.
        units: H, the size of each recurrent layer (each direction).
        cell: the recurrent cell, one of ``components.CELLS`` (``"lstm"`` by default).
        num_layers: stacked (bidirectional) recurrent layers.
        bidirectional: read the sentence both ways (the default) or left to right only.
        dropout: dropout rate after the embeddings and each recurrent layer (training only).
        learning_rate: Adam's learning rate.
        clipnorm: gradient clipping by global norm (None: off).
        text_tokenizer: a ``seqrecipes.data`` tokenizer of the words; needed for export.
        tags_tokenizer: the tags vocabulary: a tokenizer, or a list of tag names (made into a
            ``WordTokenizer(split_punctuation=False)``, so ``"B-PER"`` stays one tag).
        name: the model name.

    Returns:
        A compiled ``RecipeModel`` (Adam with clipping, sparse categorical cross-entropy,
        token accuracy).

    Example:
    >>> import tensorflow as tf
    >>> from seqrecipes import data, recipes
    >>> words = data.WordTokenizer(vocabulary=["Peter", "lives", "in", "Seoul"], split_punctuation=False)
    >>> model = recipes.sequence_tagger(units=8, embedding_dim=8, text_tokenizer=words,
    ...                                 tags_tokenizer=["O", "B-PER", "B-LOC"])
    >>> sentences = tf.data.Dataset.from_tensors((["Peter", "lives", "in", "Seoul"], ["B-PER", "O", "O", "B-LOC"]))
    >>> batches = sentences.apply(recipes.tagging_batches(words, model.tokenizer("tags"), 1))
    >>> history = model.fit(batches, epochs=2, verbose=0)
    >>> recipes.predict_tags(model, next(iter(batches))[0]).shape.as_list()
    [1, 4]

    References:
        - Huang, Xu, Yu (2015), Bidirectional LSTM-CRF models for sequence tagging,
          https://arxiv.org/abs/1508.01991
        - Lecture notes of seeds 002 and 004 (bidirectional RNN, many-to-many).
    """
    for argument, value in (
        ("max_length", max_length),
        ("embedding_dim", embedding_dim),
        ("units", units),
        ("num_layers", num_layers),
    ):
        components.check_positive(argument, value)
    components.check_choice("cell", cell, components.CELLS)
    components.check_bool("bidirectional", bidirectional)
    components.check_rate("dropout", dropout)
    tags_tokenizer = _tags_tokenizer(tags_tokenizer)
    vocabulary_size = components.vocabulary_size_of(text_tokenizer, text_vocabulary_size, "text")
    num_tags = components.vocabulary_size_of(tags_tokenizer, tags_vocabulary_size, "tags")

    token_ids = keras.Input((None,), dtype="int32", name="token_ids")
    x = keras.layers.Embedding(vocabulary_size, embedding_dim, mask_zero=True, name="embedding")(token_ids)  # (B, T, E)
    if dropout:
        x = keras.layers.Dropout(dropout, name="embedding_dropout")(x)
    for k in range(num_layers):
        rnn = layers.RNN(components.make_cell(cell, units, name="cell"), return_sequences=True, name=f"rnn_{k}")
        if bidirectional:
            rnn = keras.layers.Bidirectional(rnn, name=f"birnn_{k}")
        x = rnn(x)  # (B, T, 2H) or (B, T, H)
        if dropout:
            x = keras.layers.Dropout(dropout, name=f"dropout_{k}")(x)
    logits = keras.layers.Dense(num_tags, name="logits")(x)  # (B, T, V_tags)
    probabilities = keras.layers.Activation("softmax", dtype="float32", name="probabilities")(logits)

    model = RecipeModel(
        inputs=token_ids,
        outputs=probabilities,
        recipe="sequence_tagger",
        arguments={
            "text_vocabulary_size": vocabulary_size,
            "tags_vocabulary_size": num_tags,
            "max_length": max_length,
            "embedding_dim": embedding_dim,
            "units": units,
            "cell": cell,
            "num_layers": num_layers,
            "bidirectional": bidirectional,
            "dropout": dropout,
            "learning_rate": learning_rate,
            "clipnorm": clipnorm,
        },
        tokenizers=components.present_tokenizers({"text": text_tokenizer, "tags": tags_tokenizer}),
        name=name,
    )
    model.compile(
        optimizer=components.recurrent_optimizer(learning_rate, clipnorm=clipnorm),
        loss="sparse_categorical_crossentropy",
        metrics=[metrics.TokenAccuracy()],
    )
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


# ------------------------------------------------------------------------------------------------
# RNN language model.


class LanguageModelDecoder(Decoder):
    """The ``Decoder`` of ``rnn_language_model``: reads the prompt in ``encode``, one cell step per token.

    ``encode`` takes prompts (B, L) int ids, ``[START]`` + the prompt's tokens, padded with 0 on the
    right (``prompt_ids`` makes them). It runs the recurrent layers over all but the last real id
    of each row (the padding mask keeps each row's states at its own end) and keeps that last id
    for step 0. ``step`` embeds the token (the prompt's last id at index 0, else the previous
    output), runs each layer's cell once and returns the logits. It uses the cells directly, never
    a layer's stored states, so it works for ``stateful`` models at any batch size.

    State (batch-first, fixed shapes): ``{"last_token": (B,) int32, "states": one list per layer
    of the cell states, each (B, H)}``.
    """

    def __init__(self, model):
        super().__init__(model, max_length=model.arguments["max_output_length"])
        self.embedding = model.get_layer("embedding")
        self.rnns = [model.get_layer(f"rnn_{k}") for k in range(model.arguments["num_layers"])]
        self.output_layer = model.get_layer("logits")

    def encode(self, inputs):
        ids = ops.cast(inputs, "int32")  # (B, L)
        lengths = ops.sum(ops.cast(ops.not_equal(ids, PAD_ID), "int32"), axis=1)  # (B,)
        last = ops.maximum(lengths - 1, 0)  # the index of each row's last real id
        last_token = ops.take_along_axis(ids, last[:, None], axis=1)[:, 0]  # (B,)
        mask = ops.arange(ops.shape(ids)[1], dtype="int32")[None, :] < last[:, None]  # (B, L)
        x = self.embedding(ids)  # (B, L, E)
        batch = ops.shape(ids)[0]
        states = []
        for rnn in self.rnns:
            # The layer's loop without its stored (stateful) states: (last output, outputs, states).
            _, x, layer_states = rnn.inner_loop(x, rnn.cell.get_initial_state(batch_size=batch), mask, training=False)
            states.append(list(layer_states))
        return {"last_token": last_token, "states": states}

    def step(self, token_ids, state, index):
        token = ops.where(index == 0, state["last_token"], ops.cast(token_ids, "int32"))  # (B,)
        x = self.embedding(token)  # (B, E)
        states = []
        for rnn, layer_states in zip(self.rnns, state["states"]):
            x, new_states = rnn.cell(x, layer_states, training=False)  # (B, H)
            states.append(list(new_states) if isinstance(new_states, (list, tuple)) else [new_states])
        logits = ban_never_generated(self.output_layer(x))  # (B, V)
        return logits, {"last_token": state["last_token"], "states": states}

    output_role = "text"

    def inputs_from_raw(self, raw):
        return prompt_ids(self.model.tokenizer("text"), raw)


def prompt_ids(tokenizer, strings):
    """Prompts -> (B, L) int32: ``[START]`` + each prompt's ids, padded with 0 on the right (L >= 1).

    Core TensorFlow ops only (it runs inside the export). Prompts are not cut: an RNN has no
    length limit.
    """
    ids = _ragged_ids(tokenizer, strings)
    start = tf.RaggedTensor.from_tensor(tf.fill([ids.nrows(), 1], tf.constant(START_ID, tf.int32)))
    return tf.concat([start, ids], axis=1).to_tensor(default_value=PAD_ID)


def reset_states_callback(model):
    """A Keras callback that zeroes a stateful model's recurrent states at the start of every epoch
    (and of evaluation), as truncated BPTT over ``data.lm_windows(..., batch_size=B)`` needs."""

    def reset(*args):
        for layer in model.layers:
            if getattr(layer, "stateful", False):
                layer.reset_state()

    return keras.callbacks.LambdaCallback(on_epoch_begin=reset, on_test_begin=reset)


@register(
    "many-to-many (aligned)",
    datasets=("tiny_shakespeare", "text_document", "text_lines"),
    serving="generate",
    decoder=LanguageModelDecoder,
    serving_function=generation_serving,
)
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
    (``serving="generate"``) takes a 1-D string batch ``inputs`` of prompts (any length: an RNN has
    no limit, so nothing is cut) and returns ``outputs``: the greedy continuation of each prompt,
    at most ``max_output_length`` tokens, stopping at ``[END]`` (characters joined as they are,
    words with single spaces).

    Args:
        text_vocabulary_size: V, when no ``text_tokenizer`` is given.
        embedding_dim: E, the token embedding size.
        units: H, the size of each recurrent layer.
        cell: the recurrent cell, one of ``components.CELLS``.
        num_layers: stacked recurrent layers.
        dropout: dropout rate after the embeddings and each recurrent layer (training only).
        stateful: keep the recurrent states between batches (truncated BPTT).
        batch_size: the fixed batch size of a stateful model (ignored otherwise).
        max_output_length: the longest continuation decoding writes, [END] included.
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
    for argument, value in (
        ("embedding_dim", embedding_dim),
        ("units", units),
        ("num_layers", num_layers),
        ("batch_size", batch_size),
        ("max_output_length", max_output_length),
    ):
        components.check_positive(argument, value)
    components.check_choice("cell", cell, components.CELLS)
    components.check_bool("stateful", stateful)
    components.check_rate("dropout", dropout)
    vocabulary_size = components.vocabulary_size_of(text_tokenizer, text_vocabulary_size, "text")

    token_ids = keras.Input((None,), batch_size=batch_size if stateful else None, dtype="int32", name="token_ids")
    x = keras.layers.Embedding(vocabulary_size, embedding_dim, mask_zero=True, name="embedding")(token_ids)  # (B, T, E)
    if dropout:
        x = keras.layers.Dropout(dropout, name="embedding_dropout")(x)
    for k in range(num_layers):
        cell_k = components.make_cell(cell, units, name="cell")
        rnn = layers.RNN(cell_k, return_sequences=True, stateful=stateful, name=f"rnn_{k}")
        x = rnn(x)  # (B, T, H)
        if dropout:
            x = keras.layers.Dropout(dropout, name=f"dropout_{k}")(x)
    logits = keras.layers.Dense(vocabulary_size, name="logits")(x)  # (B, T, V)
    probabilities = keras.layers.Activation("softmax", dtype="float32", name="probabilities")(logits)

    model = RecipeModel(
        inputs=token_ids,
        outputs=probabilities,
        recipe="rnn_language_model",
        arguments={
            "text_vocabulary_size": vocabulary_size,
            "embedding_dim": embedding_dim,
            "units": units,
            "cell": cell,
            "num_layers": num_layers,
            "dropout": dropout,
            "stateful": stateful,
            "batch_size": batch_size,
            "max_output_length": max_output_length,
            "learning_rate": learning_rate,
            "clipnorm": clipnorm,
        },
        tokenizers=components.present_tokenizers({"text": text_tokenizer}),
        name=name,
    )
    model.compile(
        optimizer=components.recurrent_optimizer(learning_rate, clipnorm=clipnorm),
        loss="sparse_categorical_crossentropy",
        metrics=[metrics.Perplexity(), keras.metrics.SparseCategoricalAccuracy(name="accuracy")],
    )
    return model
