"""What the encoder-decoder recipes share: their inputs, loss and metric, the step helpers of their
decoders, and the source ids their exports read.

Every recipe of the group builds a teacher-forced training model and a ``Decoder`` for generation:

    training:   {"source": ids (B, S), "target_in": ids (B, T)}  ->  logits (B, T, V)
                target_in = [START] y_1 .. y_n, targets y_1 .. y_n [END] (``data.seq2seq_batches``)
    generation: encode(source ids (B, S)) once, then step(y_{t-1}, state, t) -> logits (B, V), state
                (``recipes.greedy_search(model.decoder, source_ids)``, one graph); the step's logits
                equal the teacher-forced model's, except [PAD] and [START], which are set to -1e9
                (never generated)
    serving:    raw strings -> source tokenizer -> greedy search -> target tokenizer -> {"outputs": strings}

The models output logits (no softmax): the loss is ``SparseCategoricalCrossentropy(from_logits=True,
ignore_class=0)``, so padded target positions (id 0) count for nothing, and so does the token
accuracy. Over-long inputs: serving keeps the first ``max_source_length`` source tokens (the rest is
dropped) and generates at most ``max_target_length`` target tokens.
"""

import keras
import tensorflow as tf
from keras import ops

from seqrecipes.data import PAD_ID
from seqrecipes.recipes.training.losses import token_loss
from seqrecipes.recipes._components import saved_arguments
from seqrecipes.recipes.decoding.decoder import Decoder, ban_never_generated
from seqrecipes.recipes.recipe_model import RecipeModel
from seqrecipes.recipes.training.metrics import TokenAccuracy
from seqrecipes.recipes.training.scheduled_sampling import scheduled_logits


def inputs():
    """The two inputs of every encoder-decoder: source ids (B, S) and the shifted target (B, T)."""
    source = keras.Input(shape=(None,), dtype="int32", name="source")  # (B, S)
    target_in = keras.Input(shape=(None,), dtype="int32", name="target_in")  # (B, T)
    return source, target_in


def compiled_model(recipe, values, source, target_in, logits, optimizer):
    """The ``RecipeModel`` of ``recipe`` from its inputs and logits, compiled with the masked cross-entropy on
    logits and the token accuracy; its arguments, tokenizers and name are taken from ``values``, the recipe's
    ``locals()`` once its checks have run (``saved_arguments``)."""
    tokenizers = {"source": values["source_tokenizer"], "target": values["target_tokenizer"]}
    arguments = saved_arguments(recipe, values)
    model = RecipeModel({"source": source, "target_in": target_in}, logits, recipe=recipe.__name__,
                        arguments=arguments, tokenizers=tokenizers, name=values["name"],
                        training_logits=training_logits(values))  # fmt: skip
    model.compile(
        optimizer=optimizer,
        loss=token_loss(values["label_smoothing"]),
        metrics=[TokenAccuracy()],
    )
    return model


def next_token_logits(logits_layer, h):
    """The output layer's logits (B, V) for one step, [PAD] and [START] banned (``ban_never_generated``)."""
    return ban_never_generated(logits_layer(h))  # (B, V)


def source_mask(ids):
    return ops.not_equal(ids, PAD_ID)  # (B, S)


def source_ids(tokenizer, inputs, max_length):
    """Source ids (B, S) int32 from raw strings (tokenized with ``tokenizer``) or from ids.

    The first ``max_length`` tokens are kept (the recipe's ``max_source_length``); at least one column
    is returned, so a batch of empty strings still decodes. Core TensorFlow ops only: it runs inside
    the export.

    Args:
        tokenizer: the model's source tokenizer (``model.tokenizer("source")``); needed for strings.
        inputs: strings (B,), or ids (B, S) (dense, padded with 0, or ragged).
        max_length: the most source tokens kept.

    Returns:
        ids (B, S) int32, padded with 0.

    Example:
    >>> from seqrecipes import data, recipes
    >>> tokenizer = data.CharTokenizer(vocabulary=list("abc"))
    >>> recipes.source_ids(tokenizer, ["abcab", ""], max_length=3).numpy().tolist()
    [[4, 5, 6], [0, 0, 0]]
    """
    if not isinstance(inputs, tf.RaggedTensor):
        inputs = tf.convert_to_tensor(inputs)
    if inputs.dtype == tf.string:
        if tokenizer is None:
            raise ValueError(
                "Reading source strings needs the model's source tokenizer; build the recipe with "
                "`source_tokenizer=...`. Received: string inputs and no source tokenizer"
            )
        inputs = tokenizer.tokenize(inputs)
    if isinstance(inputs, tf.RaggedTensor):
        ids = inputs[:, :max_length].to_tensor(default_value=PAD_ID)
    else:
        ids = inputs[:, :max_length]
    ids = tf.cast(ids, tf.int32)
    missing = tf.maximum(1 - tf.shape(ids)[1], 0)  # (an all-empty batch has zero columns)
    return tf.pad(ids, [[0, 0], [0, missing]])  # (B, S)


class SourceDecoder(Decoder):
    """What the decoders of the group share: raw source strings (or ids) in through ``source_ids``."""

    def __init__(self, model):
        super().__init__(model, model.arguments["max_target_length"])

    def inputs_from_raw(self, raw):
        return source_ids(self.model.tokenizers.get("source"), raw, self.model.arguments["max_source_length"])


class RecurrentSourceDecoder(SourceDecoder):
    """What the recurrent decoders share (``seq2seq``, ``seq2seq_attention``): the layers they step
    through, and ``step`` as ``step_logits`` with [PAD] and [START] banned.

    ``step_logits`` (and ``encode``) pass the recipe's Dropout layers, which act only in training (in
    a training call of the model: scheduled sampling); at inference they return their input.
    """

    def __init__(self, model):
        super().__init__(model)
        self.source_embedding = model.get_layer("source_embedding")
        self.source_dropout = model.get_layer("source_dropout")
        self.encoder = model.get_layer("encoder")
        self.target_embedding = model.get_layer("target_embedding")
        self.target_dropout = model.get_layer("target_dropout")
        self.cell = model.get_layer("decoder").cell
        self.output_dropout = model.get_layer("output_dropout")
        self.logits = model.get_layer("logits")

    def step_logits(self, token_ids, state, index):
        """token_ids (B,), the state, index -> (the training model's logits (B, V) for this step, next state)."""
        raise NotImplementedError

    def step(self, token_ids, state, index):
        logits, state = self.step_logits(token_ids, state, index)
        return ban_never_generated(logits), state


def training_logits(values):
    """The ``RecipeModel`` ``training_logits`` of a recurrent encoder-decoder: scheduled sampling when
    ``values["scheduled_sampling"]`` (its k) is not 0, else None (teacher forcing)."""
    k = values.get("scheduled_sampling", 0)
    if not k:
        return None
    return lambda model, inputs: scheduled_logits(model, inputs, float(k))
