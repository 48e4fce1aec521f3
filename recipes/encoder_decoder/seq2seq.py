"""``seq2seq``: the encoder-decoder with a fixed context vector (Sutskever et al. 2014; Cho et al. 2014)."""

import keras
from keras import ops

from seqrecipes import layers
from seqrecipes._checks import check_bool, check_choice, check_positive_int, check_rate
from seqrecipes.recipes._components import CELLS, check_lengths, embed, make_cell, recurrent_optimizer, vocabulary_size_of
from seqrecipes.recipes.encoder_decoder._encoder_decoder import RecurrentSourceDecoder, compiled_model, inputs, source_mask
from seqrecipes.recipes.recipe_model import RecipeModel
from seqrecipes.recipes.training.scheduled_sampling import check_schedule
from seqrecipes.recipes._precision import with_precision


class Seq2SeqDecoder(RecurrentSourceDecoder):
    """The ``Decoder`` of ``seq2seq``: the encoder once in ``encode``, one decoder-cell step in ``step``.

    State: {"cell": the decoder cell's states, each (B, U); "context": W_c c (B, U), with
    ``context_every_step`` only}.

    Example:
    >>> import numpy as np
    >>> from seqrecipes import recipes
    >>> model = recipes.seq2seq(source_vocabulary_size=10, target_vocabulary_size=10, units=8, embedding_dim=4)
    >>> state = model.decoder.encode(np.array([[4, 5, 6]], "int32"))
    >>> logits, state = model.decoder.step(np.array([2], "int32"), state, 0)
    >>> tuple(logits.shape)
    (1, 10)
    """

    def __init__(self, model):
        super().__init__(model)
        self.context_every_step = model.arguments["context_every_step"]
        if self.context_every_step:
            self.context_projection = model.get_layer("context_projection")
            self.input_projection = model.get_layer("decoder_input_projection")
            self.deep_output = model.get_layer("deep_output")
            self.deep_output_context = model.get_layer("deep_output_context")
            self.maxout = model.get_layer("maxout")

    def encode(self, inputs):
        ids = ops.cast(inputs, "int32")  # (B, S)
        x = self.source_dropout(self.source_embedding(ids))  # (B, S, E)
        _, *states = self.encoder(x, mask=source_mask(ids))
        state = {"cell": list(states)}
        if self.context_every_step:
            state["context"] = self.context_projection(states[0])  # (B, U): W_c c
            state["output_context"] = self.deep_output_context(states[0])  # (B, 2U): O_c c
        return state

    def step_logits(self, token_ids, state, index):
        y = self.target_dropout(embed(self.target_embedding, token_ids))  # (B, E)
        x = y
        if self.context_every_step:
            x = self.input_projection(y) + state["context"]  # (B, U): W_y y_{t-1} + W_c c
        output, cell_states = self.cell(x, state["cell"])  # (B, U)
        if self.context_every_step:  # Cho's output: maxout(O_h s_t + O_y y_{t-1} + O_c c + b)
            output = self.maxout(self.deep_output(ops.concatenate([output, y], axis=-1)) + state["output_context"])
        new_state = dict(state, cell=list(cell_states))
        return self.logits(self.output_dropout(output)), new_state


@with_precision
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
    label_smoothing: float = 0.0,
    scheduled_sampling: float = 0.0,
    learning_rate: float = 3e-3,
    clipnorm: float = 1.0,
    source_tokenizer=None,
    target_tokenizer=None,
    name: str = "seq2seq",
) -> RecipeModel:
    """Encoder-decoder with a fixed context vector (Sutskever et al. 2014; Cho et al. 2014).

    Shapes: B batch, S source length, T target length, E embedding size, U units, V target vocabulary.

        h_S, states   = Encoder(embed(x_1 .. x_S))            the final states are the context c
        s_0           = states                                 they initialise the decoder
        s_t           = Cell(embed(y_{t-1}), s_{t-1})          context_every_step=False (Sutskever)
        s_t           = Cell(W_y embed(y_{t-1}) + W_c c, s_{t-1})  context_every_step=True (Cho)
        o_t           = s_t                                    context_every_step=False
        o_t           = maxout(O_h s_t + O_y embed(y_{t-1}) + O_c c + b)   context_every_step=True
        logits_t      = W_o o_t + b_o                          (B, T, V); softmax in the loss

    With ``context_every_step`` the context reaches every step twice, as in Cho et al. (2014,
    appendix A.1.2): in the recurrence and in the output g(y_{t-1}, s_t, c), a maxout over pairs of
    a 2U-wide linear map (``layers.Maxout``).

    The whole source must squeeze through c (the first state of the encoder cell: h for GRU, h of
    (h, c) for LSTM), which is the bottleneck attention removes: accuracy drops on sources longer
    than those seen in training. ``reverse_source=True`` reads the real source tokens last to first,
    as Sutskever et al. did, so the first source words sit close to the first target words; padding
    is skipped (the encoder runs backwards over a masked sequence, which is the same as reversing
    the real tokens and leaving the padding at the end).

    Args:
        source_vocabulary_size, target_vocabulary_size: vocabulary sizes (ids 0-3 reserved); taken
            from the tokenizers when these are given.
        cell: the recurrent cell of encoder and decoder: "simple_rnn", "gru", "lstm", "peephole_lstm",
            "layer_norm_lstm" or "cifg_lstm".
        units: U, the size of the recurrent states.
        embedding_dim: E, the size of the source and target embeddings.
        reverse_source: read the source backwards (Sutskever et al.).
        context_every_step: also feed the context c to every decoder step and to the output layer
            (Cho et al.).
        dropout: dropout rate on the embeddings and on the decoder outputs (training only).
        max_source_length: the longest source serving reads (longer inputs keep their first
            ``max_source_length`` tokens).
        max_target_length: the most tokens generation writes.
        label_smoothing: epsilon of the label-smoothed token loss (``training.losses.LabelSmoothingCrossentropy``:
            (1 - epsilon) onehot(y) + epsilon / V as the target, padding left out); 0: plain cross-entropy.
        scheduled_sampling: k of Bengio et al.'s inverse-sigmoid schedule, k >= 1: at training step i
            the decoder is fed the true previous token with probability k / (k + exp(i / k)), else a
            token sampled from its own step t-1 distribution (``training/scheduled_sampling.py``; the
            training step then runs the decoder step by step); 0: teacher forcing.
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
    >>> train = pairs.apply(data.seq2seq_batches(tokenizer, tokenizer, batch_size=16))
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
    source_vocabulary_size = vocabulary_size_of(source_tokenizer, source_vocabulary_size, "source")
    target_vocabulary_size = vocabulary_size_of(target_tokenizer, target_vocabulary_size, "target")
    check_choice("cell", cell, CELLS)
    check_positive_int("units", units)
    check_positive_int("embedding_dim", embedding_dim)
    check_bool("reverse_source", reverse_source)
    check_bool("context_every_step", context_every_step)
    check_rate("dropout", dropout)
    check_schedule(scheduled_sampling)
    check_lengths(locals(), "max_source_length", "max_target_length")
    optimizer = recurrent_optimizer(learning_rate, clipnorm=clipnorm)

    source, target_in = inputs()
    x = keras.layers.Embedding(source_vocabulary_size, embedding_dim, mask_zero=True, name="source_embedding")(source)
    x = keras.layers.Dropout(dropout, name="source_dropout")(x)
    encoder = layers.RNN(make_cell(cell, units, name="encoder_cell"), return_state=True, go_backwards=reverse_source, name="encoder")
    _, *states = encoder(x)  # the final states; states[0] is the context c (B, U)

    y = keras.layers.Embedding(target_vocabulary_size, embedding_dim, mask_zero=True, name="target_embedding")(target_in)
    y = embedded = keras.layers.Dropout(dropout, name="target_dropout")(y)
    if context_every_step:
        context = keras.layers.Dense(units, use_bias=False, name="context_projection")(states[0])  # (B, U)
        context = keras.layers.Reshape((1, units), name="context_over_time")(context)  # (B, 1, U)
        y = keras.layers.Dense(units, name="decoder_input_projection")(y)  # (B, T, U)
        y = keras.layers.Add(name="decoder_inputs")([y, context])  # (B, T, U), c broadcast over T
    decoder = layers.RNN(make_cell(cell, units, name="decoder_cell"), return_sequences=True, name="decoder")
    outputs = decoder(y, initial_state=list(states))  # (B, T, U)
    if context_every_step:  # Cho's output layer g(y_{t-1}, s_t, c)
        deep = keras.layers.Concatenate(name="deep_output_inputs")([outputs, embedded])  # (B, T, U + E)
        deep = keras.layers.Dense(2 * units, name="deep_output")(deep)  # O_h s_t + O_y y_{t-1} + b
        output_context = keras.layers.Dense(2 * units, use_bias=False, name="deep_output_context")(states[0])
        output_context = keras.layers.Reshape((1, 2 * units), name="deep_output_context_over_time")(output_context)
        deep = keras.layers.Add(name="deep_output_sum")([deep, output_context])  # (B, T, 2U)
        outputs = layers.Maxout(2, name="maxout")(deep)  # (B, T, U)
    outputs = keras.layers.Dropout(dropout, name="output_dropout")(outputs)
    logits = keras.layers.Dense(target_vocabulary_size, dtype="float32", name="logits")(outputs)  # (B, T, V)

    return compiled_model(seq2seq, locals(), source, target_in, logits, optimizer)
