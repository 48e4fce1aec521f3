"""Many-to-many encoder-decoder recipes: seq2seq, seq2seq with attention, and the Transformer.

Every recipe here builds a teacher-forced training model and a ``Decoder`` for generation:

    training:   {"source": ids (B, S), "target_in": ids (B, T)}  ->  logits (B, T, V)
                target_in = [START] y_1 .. y_n, targets y_1 .. y_n [END] (``data.teacher_forcing_shift``)
    generation: encode(source ids (B, S)) once, then step(y_{t-1}, state, t) -> logits (B, V), state
                (``recipes.greedy_search(model.decoder, source_ids)``, one graph); the step's logits
                equal the teacher-forced model's, except [PAD] and [START], which are set to -1e9
                (never generated)
    serving:    raw strings -> source tokenizer -> greedy search -> target tokenizer -> {"outputs": strings}

The models output logits (no softmax): the loss is ``SparseCategoricalCrossentropy(from_logits=True,
ignore_class=0)``, so padded target positions (id 0) count for nothing, and the token accuracy
(``TargetTokenAccuracy``, a ``SparseCategoricalAccuracy``) skips them too. ``seq2seq_batches`` turns
(source, target) string pairs into training batches; a pipeline of ``((source, target_in),
target_out)`` tuples, as ``data.teacher_forcing_shift`` makes, works too (Keras matches the tuple to
the inputs in the order source, target_in, with a warning about the structure).

Over-long inputs: serving keeps the first ``max_source_length`` source tokens (the rest is dropped)
and generates at most ``max_target_length`` target tokens.
"""

import keras
import numpy as np
import tensorflow as tf
from keras import ops

from seqrecipes import data, layers
from seqrecipes.data import END_ID, PAD_ID, START_ID
from seqrecipes.recipes import components
from seqrecipes.recipes.decoding import Decoder, ban_never_generated, generation_serving, greedy_search
from seqrecipes.recipes.recipe_model import RecipeModel
from seqrecipes.recipes.registry import register

TASK_TYPE = "many-to-many (encoder-decoder)"
DATASETS = ("date_translation", "sequence_reversal", "digit_addition", "ted_hrlr_translate")
ATTENTIONS = {
    "bahdanau": None,
    "luong_dot": "dot",
    "luong_general": "general",
    "luong_concat": "concat",
}
POSITIONS = ("sinusoidal", "learned")


# ------------------------------------------------------------------------------------------------
# Shared pieces: inputs, loss and metrics, argument checks, serving.


def _inputs():
    source = keras.Input(shape=(None,), dtype="int32", name="source")  # (B, S)
    target_in = keras.Input(shape=(None,), dtype="int32", name="target_in")  # (B, T)
    return source, target_in


@keras.saving.register_keras_serializable(package="seqrecipes")
class TargetTokenAccuracy(keras.metrics.SparseCategoricalAccuracy):
    """``SparseCategoricalAccuracy`` over the real target tokens: positions whose target id is 0
    (padding) do not count, whether or not the logits carry a Keras mask."""

    def __init__(self, name="token_accuracy", dtype=None):
        super().__init__(name=name, dtype=dtype)

    def update_state(self, y_true, y_pred, sample_weight=None):
        weight = ops.cast(ops.not_equal(y_true, PAD_ID), self.dtype)  # (B, T)
        if sample_weight is not None:
            weight = weight * ops.cast(sample_weight, self.dtype)
        return super().update_state(y_true, y_pred, sample_weight=weight)


def _compile(model, optimizer):
    model.compile(
        optimizer=optimizer,
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True, ignore_class=PAD_ID),
        metrics=[TargetTokenAccuracy()],
    )
    return model


def _embed(embedding, token_ids):
    """One step's embeddings (B, E), looked up in the table directly: calling the layer would attach
    a padding mask that the recurrent cells warn about."""
    return ops.take(embedding.embeddings, ops.cast(token_ids, "int32"), axis=0)


def _next_token_logits(logits_layer, h):
    """The output layer's logits (B, V) for one step, [PAD] and [START] banned (``ban_never_generated``)."""
    return ban_never_generated(logits_layer(h))  # (B, V)


def _tokenizers(source_tokenizer, target_tokenizer):
    tokenizers = {}
    if source_tokenizer is not None:
        tokenizers["source"] = source_tokenizer
    if target_tokenizer is not None:
        tokenizers["target"] = target_tokenizer
    return tokenizers



def _check_lengths(max_source_length, max_target_length):
    components.check_positive("max_source_length", max_source_length)
    components.check_positive("max_target_length", max_target_length)


def seq2seq_batches(
    source_tokenizer, target_tokenizer, batch_size, max_source_length=None, max_target_length=None, bucket=False
):
    """A ``dataset.apply`` step from (source string, target string) pairs to training batches.

    The source is tokenized and cut to its first ``max_source_length`` tokens; the target is cut to
    its first ``max_target_length - 1`` tokens (so that with [END] it fits the model's limit);
    ``target_in`` is ``[START] y_1 .. y_n`` and the target ``y_1 .. y_n [END]``
    (``data.teacher_forcing_shift``), all padded with 0 to the longest in the batch.

    Args:
        source_tokenizer, target_tokenizer: the recipe's tokenizers.
        batch_size: examples per batch.
        max_source_length, max_target_length: the model's limits, or None for no cut.
        bucket: batch examples of similar source length together (``data.bucket_by_length``),
            which saves the padded steps of recurrent encoders; False keeps the order.

    Returns:
        A transform giving ``({"source": (B, S), "target_in": (B, T)}, target (B, T))``.

    Example:
    >>> from seqrecipes import data, recipes
    >>> tokenizer = data.CharTokenizer(vocabulary=list("abc"))
    >>> pairs = data.sequence_reversal(4, max_length=5, alphabet="abc", seed=0)
    >>> inputs, target = next(iter(pairs.apply(recipes.seq2seq_batches(tokenizer, tokenizer, 4))))
    >>> sorted(inputs), int(inputs["target_in"][0, 0]), inputs["target_in"].shape == target.shape
    (['source', 'target_in'], 2, True)
    """
    components.check_positive("batch_size", batch_size)
    for name, value in (("max_source_length", max_source_length), ("max_target_length", max_target_length)):
        if value is not None:
            components.check_positive(name, value)

    def shift(source, target):
        x = tf.cast(source_tokenizer.tokenize(source), tf.int32)
        y = tf.cast(target_tokenizer.tokenize(target), tf.int32)
        if max_source_length is not None:
            x = x[:max_source_length]
        if max_target_length is not None:
            y = y[: max_target_length - 1]
        target_in = tf.concat([[START_ID], y], axis=0)
        target_out = tf.concat([y, [END_ID]], axis=0)
        return {"source": x, "target_in": target_in}, target_out

    def transform(dataset):
        dataset = dataset.map(shift, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
        if bucket:
            return dataset.apply(
                data.bucket_by_length(batch_size, length_fn=lambda inputs, target: tf.shape(inputs["source"])[0])
            )
        return dataset.padded_batch(batch_size, padding_values=({"source": PAD_ID, "target_in": PAD_ID}, PAD_ID))

    return transform


def source_ids(model, inputs):
    """Source ids (B, S) int32 from raw strings (tokenized with the model's source tokenizer) or ids.

    Strings are tokenized and cut to the model's ``max_source_length`` (the first tokens are kept);
    at least one column is returned, so a batch of empty strings still decodes.
    """
    inputs = tf.convert_to_tensor(inputs) if not isinstance(inputs, tf.RaggedTensor) else inputs
    if inputs.dtype == tf.string:
        inputs = model.tokenizer("source").tokenize(inputs)
    max_length = model.arguments["max_source_length"]
    if isinstance(inputs, tf.RaggedTensor):
        ids = inputs[:, :max_length].to_tensor(default_value=PAD_ID)
    else:
        ids = inputs[:, :max_length]
    ids = tf.cast(ids, tf.int32)
    missing = tf.maximum(1 - tf.shape(ids)[1], 0)  # (an all-empty batch has zero columns)
    return tf.pad(ids, [[0, 0], [0, missing]])  # (B, S)


def _source_mask(ids):
    return ops.not_equal(ids, PAD_ID)  # (B, S)


# ------------------------------------------------------------------------------------------------
# seq2seq: a fixed context vector.


class _SourceDecoder(Decoder):
    """What the three encoder-decoder ``Decoder`` s share: raw strings in through ``source_ids``."""

    def inputs_from_raw(self, raw):
        return source_ids(self.model, raw)


class Seq2SeqDecoder(_SourceDecoder):
    """Decoder of ``seq2seq``. State: {"cell": the decoder cell's states, "context": W_c c or absent}."""

    def __init__(self, model):
        super().__init__(model, model.arguments["max_target_length"])
        self.context_every_step = model.arguments["context_every_step"]
        self.source_embedding = model.get_layer("source_embedding")
        self.encoder = model.get_layer("encoder")
        self.target_embedding = model.get_layer("target_embedding")
        self.cell = model.get_layer("decoder").cell
        self.logits = model.get_layer("logits")
        if self.context_every_step:
            self.context_projection = model.get_layer("context_projection")
            self.input_projection = model.get_layer("decoder_input_projection")

    def encode(self, inputs):
        ids = ops.cast(inputs, "int32")  # (B, S)
        x = self.source_embedding(ids)  # (B, S, E)
        _, *states = self.encoder(x, mask=_source_mask(ids))
        state = {"cell": list(states)}
        if self.context_every_step:
            state["context"] = self.context_projection(states[0])  # (B, U): W_c c
        return state

    def step(self, token_ids, state, index):
        x = _embed(self.target_embedding, token_ids)  # (B, E)
        if self.context_every_step:
            x = self.input_projection(x) + state["context"]  # (B, U): W_y y_{t-1} + W_c c
        output, cell_states = self.cell(x, state["cell"])  # (B, U)
        new_state = dict(state, cell=list(cell_states))
        return _next_token_logits(self.logits, output), new_state


@register(TASK_TYPE, datasets=DATASETS, serving="generate", decoder=Seq2SeqDecoder, serving_function=generation_serving)
def seq2seq(
    *,
    source_vocabulary_size: int = 0,
    target_vocabulary_size: int = 0,
    cell: str = "lstm",
    units: int = 128,
    embedding_dim: int = 64,
    reverse_source: bool = False,
    context_every_step: bool = False,
    dropout: float = 0.0,
    max_source_length: int = 64,
    max_target_length: int = 32,
    learning_rate: float = 3e-3,
    clipnorm: float = 1.0,
    source_tokenizer=None,
    target_tokenizer=None,
    name: str = "seq2seq",
):
    """Encoder-decoder with a fixed context vector (Sutskever et al. 2014; Cho et al. 2014).

    Shapes: B batch, S source length, T target length, E embedding size, U units, V target vocabulary.

        h_S, states   = Encoder(embed(x_1 .. x_S))            the final states are the context c
        s_0           = states                                 they initialise the decoder
        s_t           = Cell(embed(y_{t-1}), s_{t-1})          context_every_step=False (Sutskever)
        s_t           = Cell(W_y embed(y_{t-1}) + W_c c, s_{t-1})  context_every_step=True (Cho)
        logits_t      = W_o s_t + b_o                          (B, T, V); softmax in the loss

    The whole source must squeeze through c (the first state of the encoder cell: h for GRU, h of
    (h, c) for LSTM), which is the bottleneck attention removes: accuracy drops on sources longer
    than those seen in training. ``reverse_source=True`` reads the real source tokens last to first,
    as Sutskever et al. did, so the first source words sit close to the first target words; padding
    is skipped (the encoder runs backwards over a masked sequence, which is the same as reversing
    the real tokens and leaving the padding at the end).

    Args:
        source_vocabulary_size, target_vocabulary_size: vocabulary sizes (ids 0-3 reserved); taken
            from the tokenizers when these are given.
        cell: the recurrent cell of encoder and decoder, one of ``components.CELLS``.
        units: U, the size of the recurrent states.
        embedding_dim: E, the size of the source and target embeddings.
        reverse_source: read the source backwards (Sutskever et al.).
        context_every_step: also feed the context c to every decoder step (Cho et al.).
        dropout: dropout rate on the embeddings and on the decoder outputs (training only).
        max_source_length: the longest source serving reads (longer inputs keep their first
            ``max_source_length`` tokens).
        max_target_length: the most tokens generation writes.
        learning_rate: Adam's learning rate.
        clipnorm: gradient clipping by global norm (None: off).
        source_tokenizer, target_tokenizer: ``seqrecipes.data`` tokenizers; needed for serving.
        name: the model's name.

    Returns:
        A compiled ``RecipeModel`` with inputs {"source": (B, S), "target_in": (B, T)} int32 and
        logits (B, T, V); ``model.decoder`` is a ``Seq2SeqDecoder``.

    Example:
    >>> from seqrecipes import data, recipes
    >>> pairs = data.sequence_reversal(64, max_length=6, alphabet="abcd", seed=0)
    >>> tokenizer = data.CharTokenizer(vocabulary=list("abcd"))
    >>> model = recipes.seq2seq(units=16, embedding_dim=8, source_tokenizer=tokenizer,
    ...                         target_tokenizer=tokenizer, reverse_source=True)
    >>> train = pairs.apply(recipes.seq2seq_batches(tokenizer, tokenizer, batch_size=16))
    >>> history = model.fit(train, epochs=1, verbose=0)
    >>> ids, lengths = recipes.greedy_search(model.decoder, tokenizer.tokenize(["abc"]).to_tensor())
    >>> tuple(ids.shape)
    (1, 32)

    References:
        - Sutskever, Vinyals, Le (2014), Sequence to sequence learning with neural networks,
          https://arxiv.org/abs/1409.3215
        - Cho et al. (2014), Learning phrase representations using RNN encoder-decoder for
          statistical machine translation, https://arxiv.org/abs/1406.1078
    """
    source_vocabulary_size = components.vocabulary_size_of(source_tokenizer, source_vocabulary_size, "source")
    target_vocabulary_size = components.vocabulary_size_of(target_tokenizer, target_vocabulary_size, "target")
    components.check_choice("cell", cell, components.CELLS)
    components.check_positive("units", units)
    components.check_positive("embedding_dim", embedding_dim)
    components.check_rate("dropout", dropout)
    _check_lengths(max_source_length, max_target_length)

    source, target_in = _inputs()
    x = keras.layers.Embedding(source_vocabulary_size, embedding_dim, mask_zero=True, name="source_embedding")(source)
    x = keras.layers.Dropout(dropout, name="source_dropout")(x)
    encoder = layers.RNN(
        components.make_cell(cell, units, name="encoder_cell"),
        return_state=True,
        go_backwards=reverse_source,
        name="encoder",
    )
    _, *states = encoder(x)  # the final states; states[0] is the context c (B, U)

    y = keras.layers.Embedding(target_vocabulary_size, embedding_dim, mask_zero=True, name="target_embedding")(
        target_in
    )
    y = keras.layers.Dropout(dropout, name="target_dropout")(y)
    if context_every_step:
        context = keras.layers.Dense(units, use_bias=False, name="context_projection")(states[0])  # (B, U)
        context = keras.layers.Reshape((1, units), name="context_over_time")(context)  # (B, 1, U)
        y = keras.layers.Dense(units, name="decoder_input_projection")(y)  # (B, T, U)
        y = keras.layers.Add(name="decoder_inputs")([y, context])  # (B, T, U), c broadcast over T
    decoder = layers.RNN(components.make_cell(cell, units, name="decoder_cell"), return_sequences=True, name="decoder")
    outputs = decoder(y, initial_state=list(states))  # (B, T, U)
    outputs = keras.layers.Dropout(dropout, name="output_dropout")(outputs)
    logits = keras.layers.Dense(target_vocabulary_size, name="logits")(outputs)  # (B, T, V)

    arguments = {
        "source_vocabulary_size": source_vocabulary_size,
        "target_vocabulary_size": target_vocabulary_size,
        "cell": cell,
        "units": units,
        "embedding_dim": embedding_dim,
        "reverse_source": bool(reverse_source),
        "context_every_step": bool(context_every_step),
        "dropout": dropout,
        "max_source_length": max_source_length,
        "max_target_length": max_target_length,
        "learning_rate": learning_rate,
        "clipnorm": clipnorm,
    }
    model = RecipeModel(
        {"source": source, "target_in": target_in}, logits, recipe="seq2seq", arguments=arguments,
        tokenizers=_tokenizers(source_tokenizer, target_tokenizer), name=name,
    )  # fmt: skip
    return _compile(model, components.recurrent_optimizer(learning_rate, clipnorm=clipnorm))


# ------------------------------------------------------------------------------------------------
# seq2seq with attention.


class AttentionSeq2SeqDecoder(_SourceDecoder):
    """Decoder of ``seq2seq_attention``. State: the ``AttentionDecoderCell`` state list
    [*cell states, h~_{t-1}, alpha_{t-1}, memory, keys, memory mask], all batch-first."""

    def __init__(self, model):
        super().__init__(model, model.arguments["max_target_length"])
        self.bidirectional = model.arguments["bidirectional"]
        self.source_embedding = model.get_layer("source_embedding")
        self.encoder = model.get_layer("encoder")
        self.target_embedding = model.get_layer("target_embedding")
        self.cell = model.get_layer("decoder").cell
        self.logits = model.get_layer("logits")

    def encode(self, inputs):
        ids = ops.cast(inputs, "int32")  # (B, S)
        mask = _source_mask(ids)
        x = self.source_embedding(ids)  # (B, S, E)
        memory, *states = self.encoder(x, mask=mask)  # (B, S, U)
        states = _merge_directions(states, self.bidirectional, lambda i, f, b: ops.concatenate([f, b], axis=-1))
        return self.cell.get_initial_state(memory=memory, memory_mask=mask, cell_states=states)

    def step(self, token_ids, state, index):
        x = _embed(self.target_embedding, token_ids)  # (B, E)
        h_tilde, new_state = self.cell(x, state)  # (B, U)
        return _next_token_logits(self.logits, h_tilde), list(new_state)

    def alignments(self, state):
        return state[self.cell.alignments_index], state[-1] > 0.5  # alpha (B, S), real positions (B, S)


def _merge_directions(states, bidirectional, join):
    """The decoder's initial states from the encoder's final ones: each forward state joined with
    its backward twin, ``join(i, forward, backward)`` -> [h_fwd ; h_bwd] (B, U), when the encoder is
    bidirectional."""
    if not bidirectional:
        return list(states)
    n = len(states) // 2
    return [join(i, forward, backward) for i, (forward, backward) in enumerate(zip(states[:n], states[n:]))]


@register(
    TASK_TYPE, datasets=DATASETS, serving="generate", decoder=AttentionSeq2SeqDecoder, serving_function=generation_serving
)
def seq2seq_attention(
    *,
    source_vocabulary_size: int = 0,
    target_vocabulary_size: int = 0,
    cell: str = "gru",
    units: int = 128,
    embedding_dim: int = 64,
    bidirectional: bool = True,
    attention: str = "bahdanau",
    attention_units: int = 0,
    dropout: float = 0.0,
    max_source_length: int = 64,
    max_target_length: int = 32,
    learning_rate: float = 3e-3,
    clipnorm: float = 1.0,
    source_tokenizer=None,
    target_tokenizer=None,
    name: str = "seq2seq_attention",
):
    """Encoder-decoder with attention (Bahdanau et al. 2015; Luong et al. 2015), alignments for plotting.

    Shapes: B batch, S source length, T target length, E embedding size, U units, A attention units,
    V target vocabulary.

        h_1 .. h_S          = Encoder(embed(x))                  (B, S, U): [h_fwd ; h_bwd], U/2 each
        s_0                 = the encoder's final states           ([fwd ; bwd] when bidirectional)
        s_t                 = Cell([embed(y_{t-1}) ; h~_{t-1}], s_{t-1})      input feeding
        c_t, alpha_t        = attention(s_t, h_1 .. h_S)           alpha_t (B, S) sums to 1 over real tokens
        h~_t                = tanh(W_c [c_t ; s_t])
        logits_t            = W_o h~_t + b_o                       (B, T, V)

    attention: "bahdanau" e_j = v^T tanh(W s_t + U h_j); "luong_dot" e_j = s_t^T h_j;
    "luong_general" e_j = s_t^T W_a h_j; "luong_concat" e_j = v_a^T tanh(W_1 s_t + W_2 h_j).
    The decoder is ``seqrecipes.layers.AttentionDecoder`` over an ``AttentionDecoderCell``; the
    alignments alpha (B, T, S) of a generated output come from ``attention_alignments(model, ...)``.

    Defaults are tuned for the date-format task (``data.date_translation``, character tokens): with
    Adam at 3e-3 (clipnorm 1) and batches of 64 from 20,000 pairs, 400 steps give 99.9-100% exact
    match on held-out days (three seeds), about a minute of training on two shared CPU cores
    (``experiments/dates.py``).

    Args:
        source_vocabulary_size, target_vocabulary_size: vocabulary sizes (ids 0-3 reserved); taken
            from the tokenizers when these are given.
        cell: the recurrent cell of encoder and decoder, one of ``components.CELLS``.
        units: U, the size of the decoder state and of the encoder outputs (an even number when
            bidirectional: each direction has U/2).
        embedding_dim: E.
        bidirectional: a bidirectional encoder.
        attention: "bahdanau", "luong_dot", "luong_general" or "luong_concat".
        attention_units: A for "bahdanau" and "luong_concat" (0: U); "luong_dot" and
            "luong_general" use U.
        dropout: dropout rate on the embeddings and on h~ (training only).
        max_source_length: the longest source serving reads (longer inputs keep their first
            ``max_source_length`` tokens).
        max_target_length: the most tokens generation writes.
        learning_rate: Adam's learning rate.
        clipnorm: gradient clipping by global norm (None: off).
        source_tokenizer, target_tokenizer: ``seqrecipes.data`` tokenizers; needed for serving.
        name: the model's name.

    Returns:
        A compiled ``RecipeModel`` with inputs {"source": (B, S), "target_in": (B, T)} int32 and
        logits (B, T, V); ``model.decoder`` is an ``AttentionSeq2SeqDecoder``.

    Example:
    >>> from seqrecipes import data, recipes
    >>> from seqrecipes.recipes.encoder_decoder import attention_alignments
    >>> pairs = data.date_translation(64, seed=0)
    >>> source = data.CharTokenizer().adapt(pairs.map(lambda s, t: s))
    >>> target = data.CharTokenizer(vocabulary=list("0123456789-"))
    >>> model = recipes.seq2seq_attention(units=16, embedding_dim=8, attention="luong_general",
    ...                                   source_tokenizer=source, target_tokenizer=target)
    >>> train = pairs.apply(recipes.seq2seq_batches(source, target, batch_size=16))
    >>> history = model.fit(train, epochs=1, verbose=0)
    >>> ids, alignments = attention_alignments(model, ["June 25th, 2009"])
    >>> tuple(alignments.shape)[::2]
    (1, 15)

    References:
        - Bahdanau, Cho, Bengio (2015), Neural machine translation by jointly learning to align and
          translate, https://arxiv.org/abs/1409.0473
        - Luong, Pham, Manning (2015), Effective approaches to attention-based neural machine
          translation, https://arxiv.org/abs/1508.04025
    """
    source_vocabulary_size = components.vocabulary_size_of(source_tokenizer, source_vocabulary_size, "source")
    target_vocabulary_size = components.vocabulary_size_of(target_tokenizer, target_vocabulary_size, "target")
    components.check_choice("cell", cell, components.CELLS)
    components.check_choice("attention", attention, ATTENTIONS)
    components.check_positive("units", units)
    components.check_positive("embedding_dim", embedding_dim)
    if attention_units != 0:
        components.check_positive("attention_units", attention_units)
    if bidirectional and units % 2:
        raise ValueError(
            f"`units` must be even with a bidirectional encoder (U/2 per direction). Received: units={units}"
        )
    components.check_rate("dropout", dropout)
    _check_lengths(max_source_length, max_target_length)

    source, target_in = _inputs()
    x = keras.layers.Embedding(source_vocabulary_size, embedding_dim, mask_zero=True, name="source_embedding")(source)
    x = keras.layers.Dropout(dropout, name="source_dropout")(x)
    if bidirectional:
        forward = layers.RNN(
            components.make_cell(cell, units // 2, name="encoder_cell"), return_sequences=True, return_state=True
        )
        encoder = keras.layers.Bidirectional(forward, merge_mode="concat", name="encoder")
    else:
        encoder = layers.RNN(
            components.make_cell(cell, units, name="encoder_cell"),
            return_sequences=True,
            return_state=True,
            name="encoder",
        )
    memory, *states = encoder(x)  # (B, S, U) with the source mask
    states = _merge_directions(
        states, bidirectional, lambda i, f, b: keras.layers.Concatenate(name=f"initial_state_{i}")([f, b])
    )

    A = attention_units or units
    if attention == "bahdanau":
        attention_layer = layers.BahdanauAttention(A, name="attention")
    elif ATTENTIONS[attention] == "concat":
        attention_layer = layers.LuongAttention(A, score="concat", name="attention")
    else:
        attention_layer = layers.LuongAttention(units, score=ATTENTIONS[attention], name="attention")
    decoder_cell = layers.AttentionDecoderCell(
        components.make_cell(cell, units, name="decoder_cell"),
        attention_layer,
        units=units,
        name="attention_decoder_cell",
    )
    y = keras.layers.Embedding(target_vocabulary_size, embedding_dim, mask_zero=True, name="target_embedding")(
        target_in
    )
    y = keras.layers.Dropout(dropout, name="target_dropout")(y)
    outputs = layers.AttentionDecoder(decoder_cell, name="decoder")(y, memory, initial_state=states)  # (B, T, U)
    outputs = keras.layers.Dropout(dropout, name="output_dropout")(outputs)
    logits = keras.layers.Dense(target_vocabulary_size, name="logits")(outputs)  # (B, T, V)

    arguments = {
        "source_vocabulary_size": source_vocabulary_size,
        "target_vocabulary_size": target_vocabulary_size,
        "cell": cell,
        "units": units,
        "embedding_dim": embedding_dim,
        "bidirectional": bool(bidirectional),
        "attention": attention,
        "attention_units": attention_units,
        "dropout": dropout,
        "max_source_length": max_source_length,
        "max_target_length": max_target_length,
        "learning_rate": learning_rate,
        "clipnorm": clipnorm,
    }
    model = RecipeModel(
        {"source": source, "target_in": target_in}, logits, recipe="seq2seq_attention", arguments=arguments,
        tokenizers=_tokenizers(source_tokenizer, target_tokenizer), name=name,
    )  # fmt: skip
    return _compile(model, components.recurrent_optimizer(learning_rate, clipnorm=clipnorm))


def attention_alignments(model, inputs, max_length=None):
    """Greedy-decodes with a ``seq2seq_attention`` model and returns where it looked.

    Args:
        model: a model built by ``seq2seq_attention``.
        inputs: raw source strings (B,) (tokenized with the model's source tokenizer and cut to
            ``max_source_length``) or source ids (B, S).
        max_length: the most tokens to generate (defaults to ``max_target_length``).

    Returns:
        (ids, alignments) as NumPy arrays: ids (B, L) int32, the greedy output (end token included
        where produced, padding after it); alignments (B, L, S) float32, row t the attention weights
        alpha_t over the source tokens when ids[:, t] was produced (rows after the end token are 0).
        S is the number of source token columns (the source as tokenized, cut to
        ``max_source_length``).

    Example:
    >>> ids, alignments = attention_alignments(model, ["June 25th, 2009"])  # doctest: +SKIP
    >>> model.tokenizer("target").detokenize(ids)  # doctest: +SKIP
    """
    if model.recipe != "seq2seq_attention":
        raise ValueError(
            f"attention_alignments needs a seq2seq_attention model. Received: model.recipe={model.recipe!r}"
        )
    ids = source_ids(model, inputs)
    decoder = model.decoder
    output_ids, lengths = greedy_search(decoder, ids, max_length=max_length)
    # Replay the decoded tokens through the decoder cell and keep alpha_t at every step.
    target_in = ops.concatenate(
        [ops.full((ops.shape(output_ids)[0], 1), START_ID, "int32"), output_ids[:, :-1]], axis=1
    )
    state = decoder.encode(ids)
    history = []
    for t in range(output_ids.shape[1]):
        _, state = decoder.step(target_in[:, t], state, t)
        history.append(state[decoder.cell.alignments_index])
    alignments = ops.stack(history, axis=1)  # (B, L, S)
    produced = ops.arange(output_ids.shape[1])[None, :] <= ops.cast(lengths, "int32")[:, None]  # (B, L)
    produced = ops.logical_and(produced, ops.not_equal(output_ids, PAD_ID))
    alignments = ops.where(produced[:, :, None], alignments, ops.zeros_like(alignments))
    return np.asarray(output_ids), np.asarray(alignments, dtype="float32")


# ------------------------------------------------------------------------------------------------
# The Transformer.


class TransformerSeq2SeqDecoder(_SourceDecoder):
    """Decoder of ``transformer_seq2seq``, one token per step through the key/value caches.

    State: {"memory": encoder outputs (B, S, D), "memory_mask": (B, S), "self_caches": one
    (B, 2, L, N, H) cache per decoder block (L = max_target_length), "cross_caches": one
    (B, 2, S, N, H) cache per block, filled once in ``encode``, "alignments": (B, S) the last
    block's cross-attention weights of the last step, averaged over the heads (what beam search's
    coverage penalty reads)}.
    """

    def __init__(self, model):
        super().__init__(model, model.arguments["max_target_length"])
        arguments = model.arguments
        self.source_embedding = model.get_layer("source_embedding")
        self.source_position = model.get_layer("source_position")
        self.source_add = model.get_layer("source_with_position")
        shared = arguments["share_embeddings"]
        self.target_embedding = self.source_embedding if shared else model.get_layer("target_embedding")
        self.target_position = model.get_layer("target_position")
        self.target_add = model.get_layer("target_with_position")
        self.encoders = [model.get_layer(f"encoder_{i}") for i in range(arguments["num_layers"])]
        self.decoders = [model.get_layer(f"decoder_{i}") for i in range(arguments["num_layers"])]
        self.logits = model.get_layer("logits")
        self.hidden_dim = arguments["hidden_dim"]
        self.normalize_first = arguments["normalize_first"]
        if self.normalize_first:
            self.encoder_norm = model.get_layer("encoder_norm")
            self.decoder_norm = model.get_layer("decoder_norm")

    def encode(self, inputs):
        ids = ops.cast(inputs, "int32")  # (B, S)
        mask = _source_mask(ids)
        x = self.source_embedding(ids)  # (B, S, D)
        x = self.source_add([x, self.source_position(x)])
        for encoder in self.encoders:
            x = encoder(x, mask=mask)
        if self.normalize_first:
            x = self.encoder_norm(x)
        shape = ops.shape(ids)
        B, S = shape[0], shape[1]
        query = ops.zeros((B, 1, self.hidden_dim), dtype=x.dtype)
        self_caches, cross_caches = [], []
        for decoder in self.decoders:
            self_caches.append(decoder.get_initial_cache(B, self.max_length))
            # The cross-attention keys and values depend on the memory only: project them once here.
            _, cache = decoder.cross_attention(query, x, cache=decoder.get_initial_cache(B, S), cache_update_index=0)
            cross_caches.append(cache)
        alignments = ops.zeros((B, S), dtype=x.dtype)  # (B, S)
        return {
            "memory": x, "memory_mask": mask, "self_caches": self_caches, "cross_caches": cross_caches,
            "alignments": alignments,
        }  # fmt: skip

    def step(self, token_ids, state, index):
        y = self.target_embedding(ops.cast(token_ids, "int32")[:, None])  # (B, 1, D)
        y = self.target_add([y, self.target_position(y, start_index=index)])
        self_caches, cross_caches = [], []
        last = len(self.decoders) - 1
        for k, (decoder, self_cache, cross_cache) in enumerate(
            zip(self.decoders, state["self_caches"], state["cross_caches"])
        ):
            y, *scores, self_cache, cross_cache = decoder(
                y,
                state["memory"],
                encoder_padding_mask=state["memory_mask"],
                self_attention_cache=self_cache,
                self_attention_cache_update_index=index,
                cross_attention_cache=cross_cache,
                cross_attention_cache_update_index=None,
                return_cross_attention_scores=k == last,
            )
            self_caches.append(self_cache)
            cross_caches.append(cross_cache)
        alignments = ops.mean(scores[0][:, :, 0], axis=1)  # (B, N, 1, S) -> (B, S): the heads' mean
        if self.normalize_first:
            y = self.decoder_norm(y)
        logits = _next_token_logits(self.logits, y[:, 0])  # (B, V)
        new_state = dict(state, self_caches=self_caches, cross_caches=cross_caches, alignments=alignments)
        return logits, new_state

    def alignments(self, state):
        return state["alignments"], ops.cast(state["memory_mask"], "bool")  # (B, S), real positions (B, S)


@register(
    TASK_TYPE,
    datasets=DATASETS,
    serving="generate",
    decoder=TransformerSeq2SeqDecoder,
    serving_function=generation_serving,
)
def transformer_seq2seq(
    *,
    source_vocabulary_size: int = 0,
    target_vocabulary_size: int = 0,
    num_layers: int = 2,
    num_heads: int = 4,
    hidden_dim: int = 128,
    intermediate_dim: int = 256,
    dropout: float = 0.1,
    position: str = "sinusoidal",
    share_embeddings: bool = False,
    normalize_first: bool = False,
    max_source_length: int = 64,
    max_target_length: int = 32,
    learning_rate: float = 1e-3,
    source_tokenizer=None,
    target_tokenizer=None,
    name: str = "transformer_seq2seq",
):
    """The Transformer encoder-decoder (Vaswani et al. 2017), decoding one token per step with a cache.

    Shapes: B batch, S source length, T target length, D = hidden_dim, N = num_heads, each head of
    size H = D / N (the key_dim), F = intermediate_dim, V target vocabulary.

        x_0   = embed_src(x) + P_src                      P: sinusoidal table or learned (position)
        x_l   = EncoderBlock_l(x_{l-1})                   self-attention + FFN, l = 1 .. num_layers
        y_0   = embed_tgt(y_in) + P_tgt
        y_l   = DecoderBlock_l(y_{l-1}, x_L)              causal self-attention, cross-attention, FFN
        logits = W_o y_L + b_o                            (B, T, V)

    Generation keeps, per decoder block, a (B, 2, max_target_length, N, H) self-attention key/value
    cache and a (B, 2, S, N, H) cross-attention cache filled once from the encoder output, so each
    step costs one token (``TransformerSeq2SeqDecoder``).

    Args:
        source_vocabulary_size, target_vocabulary_size: vocabulary sizes (ids 0-3 reserved); taken
            from the tokenizers when these are given.
        num_layers: encoder and decoder blocks (each).
        num_heads: N; it must divide hidden_dim.
        hidden_dim: D, the model width (embedding size); key_dim = D / N.
        intermediate_dim: F, the feed-forward hidden size.
        dropout: dropout rate on the embeddings, attention weights and residual branches.
        position: "sinusoidal" (``layers.PositionalEncoding``) or "learned"
            (``layers.PositionEmbedding`` of max_source_length / max_target_length positions).
        share_embeddings: one embedding table for source and target (the same vocabulary, e.g. one
            tokenizer for both; the sizes must match).
        normalize_first: pre-norm blocks instead of the paper's post-norm (with a final layer norm
            after the last encoder and the last decoder block).
        max_source_length: the longest source (serving keeps the first ``max_source_length``
            tokens).
        max_target_length: the longest decoder input and the most tokens generation writes.
        learning_rate: Adam's learning rate (beta_2 0.98, epsilon 1e-9, as in the paper).
        source_tokenizer, target_tokenizer: ``seqrecipes.data`` tokenizers; needed for serving.
        name: the model's name.

    Returns:
        A compiled ``RecipeModel`` with inputs {"source": (B, S), "target_in": (B, T)} int32 and
        logits (B, T, V); ``model.decoder`` is a ``TransformerSeq2SeqDecoder``.

    Example:
    >>> from seqrecipes import data, recipes
    >>> pairs = data.sequence_reversal(64, max_length=6, alphabet="abcd", seed=0)
    >>> tokenizer = data.CharTokenizer(vocabulary=list("abcd"))
    >>> model = recipes.transformer_seq2seq(num_layers=1, num_heads=2, hidden_dim=16, intermediate_dim=32,
    ...                                     share_embeddings=True, source_tokenizer=tokenizer,
    ...                                     target_tokenizer=tokenizer)
    >>> train = pairs.apply(recipes.seq2seq_batches(tokenizer, tokenizer, batch_size=16))
    >>> history = model.fit(train, epochs=1, verbose=0)
    >>> serve = recipes.decoding.generation_serving(model)
    >>> serve(["abc"])["outputs"].shape
    TensorShape([1])

    References:
        - Vaswani et al. (2017), Attention is all you need, https://arxiv.org/abs/1706.03762
    """
    source_vocabulary_size = components.vocabulary_size_of(source_tokenizer, source_vocabulary_size, "source")
    target_vocabulary_size = components.vocabulary_size_of(target_tokenizer, target_vocabulary_size, "target")
    components.check_positive("num_layers", num_layers)
    components.check_positive("num_heads", num_heads)
    components.check_positive("hidden_dim", hidden_dim)
    components.check_positive("intermediate_dim", intermediate_dim)
    if hidden_dim % num_heads:
        raise ValueError(f"`hidden_dim` must be a multiple of num_heads={num_heads}. Received: hidden_dim={hidden_dim}")
    components.check_rate("dropout", dropout)
    components.check_choice("position", position, POSITIONS)
    _check_lengths(max_source_length, max_target_length)
    if share_embeddings and source_vocabulary_size != target_vocabulary_size:
        raise ValueError(
            "`share_embeddings=True` needs one vocabulary for source and target. Received: "
            f"source_vocabulary_size={source_vocabulary_size}, target_vocabulary_size={target_vocabulary_size}"
        )

    def position_layer(name, length):
        if position == "learned":
            return layers.PositionEmbedding(length, name=name)
        return layers.PositionalEncoding(name=name)

    source, target_in = _inputs()
    source_embedding = keras.layers.Embedding(
        source_vocabulary_size, hidden_dim, mask_zero=True, name="source_embedding"
    )
    if share_embeddings:
        target_embedding = source_embedding
    else:
        target_embedding = keras.layers.Embedding(
            target_vocabulary_size, hidden_dim, mask_zero=True, name="target_embedding"
        )
    x = source_embedding(source)  # (B, S, D)
    x = keras.layers.Add(name="source_with_position")([x, position_layer("source_position", max_source_length)(x)])
    x = keras.layers.Dropout(dropout, name="source_dropout")(x)
    for i in range(num_layers):
        x = layers.TransformerEncoder(
            intermediate_dim, num_heads, dropout=dropout, normalize_first=normalize_first, name=f"encoder_{i}"
        )(x)
    if normalize_first:
        x = keras.layers.LayerNormalization(epsilon=1e-5, name="encoder_norm")(x)  # pre-norm ends with a norm
    y = target_embedding(target_in)  # (B, T, D)
    y = keras.layers.Add(name="target_with_position")([y, position_layer("target_position", max_target_length)(y)])
    y = keras.layers.Dropout(dropout, name="target_dropout")(y)
    for i in range(num_layers):
        y = layers.TransformerDecoder(
            intermediate_dim, num_heads, dropout=dropout, normalize_first=normalize_first, name=f"decoder_{i}"
        )(y, x)
    if normalize_first:
        y = keras.layers.LayerNormalization(epsilon=1e-5, name="decoder_norm")(y)
    logits = keras.layers.Dense(target_vocabulary_size, name="logits")(y)  # (B, T, V)

    arguments = {
        "source_vocabulary_size": source_vocabulary_size,
        "target_vocabulary_size": target_vocabulary_size,
        "num_layers": num_layers,
        "num_heads": num_heads,
        "hidden_dim": hidden_dim,
        "intermediate_dim": intermediate_dim,
        "dropout": dropout,
        "position": position,
        "share_embeddings": bool(share_embeddings),
        "normalize_first": bool(normalize_first),
        "max_source_length": max_source_length,
        "max_target_length": max_target_length,
        "learning_rate": learning_rate,
    }
    model = RecipeModel(
        {"source": source, "target_in": target_in}, logits, recipe="transformer_seq2seq", arguments=arguments,
        tokenizers=_tokenizers(source_tokenizer, target_tokenizer), name=name,
    )  # fmt: skip
    optimizer = keras.optimizers.Adam(learning_rate, beta_2=0.98, epsilon=1e-9)
    return _compile(model, optimizer)
