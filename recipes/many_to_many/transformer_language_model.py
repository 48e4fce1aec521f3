"""``transformer_language_model``: a decoder-only Transformer (GPT, seed 000), the next token at every step;
``TransformerLanguageModelDecoder`` generates from it through per-block key/value caches."""

from typing import Optional

import keras
from keras import ops

from seqrecipes import layers
from seqrecipes._checks import check_bool
from seqrecipes.data import PAD_ID, START_ID
from seqrecipes.recipes.training.losses import token_loss
from seqrecipes.recipes._components import check_lengths, check_schedule, check_transformer_sizes, gpt_optimizer, saved_arguments, vocabulary_size_of
from seqrecipes.recipes.decoding.decoder import Decoder, ban_never_generated
from seqrecipes.recipes.decoding.prompts import prompt_ids
from seqrecipes.recipes.recipe_model import RecipeModel
from seqrecipes.recipes.training.metrics import Perplexity, TokenAccuracy
from seqrecipes.recipes._precision import with_precision

# GPT-2's initialization of every kernel and table: N(0, 0.02).
INITIALIZER_STDDEV = 0.02


class TransformerLanguageModelDecoder(Decoder):
    """The ``Decoder`` of ``transformer_language_model``: one token per step through key/value caches.

    ``encode`` takes prompts (B, L) int ids, ``[START]`` + the prompt's tokens, right-padded with 0
    (``prompt_ids`` makes them); each row is first cut to its last ``prompt_length`` real ids (the
    rule below). One causal pass writes the keys and values of all L positions into each block's
    (B, 2, C, N, H) cache, C = L - 1 + ``max_length``. Step ``index`` feeds one token per row (the
    prompt's last real id at index 0, then the previous output) at position ``len_b - 1 + index`` of
    its row (the learned position of that row) and writes it at cache slot ``L - 1 + index``, the
    same slot for every row; the padding mask (B, C) hides each shorter row's padded slots and its
    last prompt id's encode-time slot (step 0 writes that id again at slot L - 1).

    The rule that keeps every position inside the ``max_length`` learned positions (the context):
    ``max_length`` (outputs) = min(``max_output_length``, context), and a prompt is read as its last
    ``prompt_length`` = context - outputs + 1 ids of ``[START]`` + tokens (its beginning is dropped),
    so the last fed token sits at position at most ``prompt_length - 1 + outputs - 1`` = context - 1.

    State (batch-first, fixed shapes): ``{"last_token": (B,) int32, "lengths": (B,) int32, the ids
    read per row, "mask": (B, C) bool, True at the cache slots a step may attend to, "caches": one
    (B, 2, C, N, H) cache per block}``.

    Example:
    >>> from seqrecipes import data, recipes
    >>> tokenizer = data.CharTokenizer(vocabulary=list("abc"))
    >>> model = recipes.transformer_language_model(num_layers=1, num_heads=2, hidden_dim=8, max_length=8,
    ...                                            max_output_length=4, text_tokenizer=tokenizer)
    >>> model.decoder.max_length, model.decoder.prompt_length
    (4, 5)
    >>> state = model.decoder.encode(recipes.prompt_ids(tokenizer, ["ab", "c"]))
    >>> state["last_token"].numpy().tolist(), tuple(state["caches"][0].shape)  # (B, 2, L - 1 + 4, N, H)
    ([5, 6], (2, 2, 6, 2, 4))
    >>> logits, state = model.decoder.step(state["last_token"], state, 0)
    >>> tuple(logits.shape)
    (2, 7)
    """

    def __init__(self, model):
        arguments = model.arguments
        context = arguments["max_length"]
        super().__init__(model, max_length=min(arguments["max_output_length"], context))
        self.prompt_length = context - self.max_length + 1
        self.embedding = model.get_layer("embedding")
        self.position = model.get_layer("position")
        self.blocks = [model.get_layer(f"decoder_{i}") for i in range(arguments["num_layers"])]
        self.final_norm = model.get_layer("final_norm")
        self.logits = None if arguments["tie_embeddings"] else model.get_layer("logits")

    def encode(self, inputs):
        ids, lengths = _last_ids(ops.cast(inputs, "int32"), self.prompt_length)  # (B, L), L <= prompt_length; (B,)
        lengths = ops.maximum(lengths, 1)
        last_token = ops.take_along_axis(ids, (lengths - 1)[:, None], axis=1)[:, 0]  # (B,)
        last_token = ops.where(ops.equal(last_token, PAD_ID), START_ID, last_token)  # an empty row starts
        shape = ops.shape(ids)
        B, L = shape[0], shape[1]
        slots = ops.arange(L - 1 + self.max_length, dtype="int32")[None, :]  # (1, C)
        mask = ops.logical_or(slots < (lengths - 1)[:, None], slots >= L - 1)  # (B, C)
        x = self.embedding(ids)  # (B, L, D)
        x = x + self.position(x)
        caches = []
        for block in self.blocks:
            cache = block.get_initial_cache(B, L - 1 + self.max_length)  # (B, 2, C, N, H)
            x, cache = block(x, decoder_padding_mask=mask, self_attention_cache=cache,
                             self_attention_cache_update_index=0, training=False)  # fmt: skip
            caches.append(cache)
        return {"last_token": last_token, "lengths": lengths, "mask": mask, "caches": caches}

    def step(self, token_ids, state, index):
        token = ops.where(index == 0, state["last_token"], ops.cast(token_ids, "int32"))  # (B,)
        positions = state["lengths"] - 1 + index  # (B,): each row's own position
        x = ops.take(self.embedding.embeddings, token, axis=0) + ops.take(self.position.embeddings, positions, axis=0)
        x = ops.cast(x, self.final_norm.compute_dtype)[:, None, :]  # (B, 1, D)
        slot = ops.shape(state["mask"])[1] - self.max_length + index  # L - 1 + index
        caches = []
        for block, cache in zip(self.blocks, state["caches"]):
            x, cache = block(x, decoder_padding_mask=state["mask"], self_attention_cache=cache,
                             self_attention_cache_update_index=slot, training=False)  # fmt: skip
            caches.append(cache)
        h = self.final_norm(x)[:, 0]  # (B, D)
        logits = self.embedding(h, reverse=True) if self.logits is None else self.logits(h)  # (B, V)
        return ban_never_generated(logits), dict(state, caches=caches)

    output_role = "text"

    def inputs_from_raw(self, raw):
        return prompt_ids(self.model.tokenizer("text"), raw, max_length=self.prompt_length)


def _last_ids(ids, k):
    """Right-padded ids (B, L) -> each row's last ``k`` real ids, still right-padded: (B, min(L, k)), and
    how many each row keeps (B,)."""
    L = ops.shape(ids)[1]
    lengths = ops.sum(ops.cast(ops.not_equal(ids, PAD_ID), "int32"), axis=1)  # (B,)
    columns = ops.maximum(lengths - k, 0)[:, None] + ops.arange(ops.minimum(L, k), dtype="int32")[None, :]  # (B, W)
    kept = ops.take_along_axis(ids, ops.minimum(columns, L - 1), axis=1)  # (B, W)
    return ops.where(columns < lengths[:, None], kept, PAD_ID), ops.minimum(lengths, k)


@with_precision
def transformer_language_model(
    *,
    text_vocabulary_size: int = 0,
    num_layers: int = 4,
    num_heads: int = 4,
    hidden_dim: int = 128,
    intermediate_dim: Optional[int] = None,
    dropout: float = 0.0,
    max_length: int = 64,
    tie_embeddings: bool = True,
    label_smoothing: float = 0.0,
    learning_rate: float = 1e-3,
    min_learning_rate: float = 1e-4,
    warmup_steps: int = 100,
    decay_steps: int = 2000,
    weight_decay: float = 0.1,
    beta_2: float = 0.99,
    clipnorm: Optional[float] = 1.0,
    max_output_length: int = 32,
    text_tokenizer=None,
    name: str = "transformer_language_model",
) -> RecipeModel:
    """A decoder-only Transformer language model (GPT, seed 000): the next token at every step.

    Shapes: B batch, T <= ``max_length`` steps, D = ``hidden_dim``, N = ``num_heads`` heads of size
    H = D / N, F = ``intermediate_dim``, V the vocabulary; E the (V, D) token table, P the
    (``max_length``, D) learned position table.

        x_0    = Dropout(E[w_t] + P[t])                     (B, T, D)
        x_l    = Block_l(x_{l-1})                           l = 1 .. num_layers, pre-norm, causal:
                 a = x + Dropout(MHA(LN_1(x), causal)),   x_l = a + Dropout(W_2 GELU(W_1 LN_2(a)))
        logits = LN_f(x_L) E^T                              (B, T, V); a separate W_o when not tied

    The blocks are ``layers.TransformerDecoder(normalize_first=True)`` without cross-attention. Every
    kernel and table starts from N(0, 0.02) (GPT-2). Training data are those of ``rnn_language_model``:
    inputs ``[START] w_1 .. w_n``, targets ``w_1 .. w_n [END]`` (``data.tokenize``, then
    ``data.teacher_forcing_shift()``, then ``data.batch_with_padding(B)``), or windows of one long text
    (``data.lm_windows``), each at most ``max_length`` long. Padding (id 0) goes on the right: causal
    attention keeps it out of every real position, and the loss and metrics skip padded targets. The
    loss is the sparse categorical cross-entropy of the logits; its exponential is the perplexity.

    The optimizer is nanoGPT's AdamW (``gpt_optimizer``): warm-up from 0 to ``learning_rate`` over
    ``warmup_steps`` steps, cosine decay to ``min_learning_rate`` at ``decay_steps`` (flat after),
    ``weight_decay`` on the kernels and tables only, beta_1 0.9, ``beta_2``, epsilon 1e-8, global
    gradient-norm clipping at ``clipnorm``. The model compiles with ``jit_compile=True``: XLA fuses the
    layer norms, GELUs and the AdamW update, 1.6x the training steps per second on CPU at nanoGPT's
    size; each new batch shape compiles once, so train on few shapes (``data.lm_windows``, or
    ``data.batch_with_padding(B, pad_to_multiple_of=16)``), or ``compile`` again with ``jit_compile=False``.

    Generating: ``recipes.generate(model.decoder, prompt_ids(tokenizer, prompts, model.decoder.prompt_length))``
    (greedy, sampling or beam search through the key/value caches; ``TransformerLanguageModelDecoder``).
    The outputs are at most min(``max_output_length``, ``max_length``) tokens and a prompt is read as its
    last ``max_length`` - that + 1 ids of ``[START]`` + tokens, so prompt and output fit the learned
    positions. The export (``serving="generate"``) takes a 1-D string batch of prompts and returns
    their greedy continuations; its ``generate`` and ``score`` signatures are those of every
    generating recipe.

    Args:
        text_vocabulary_size: V, when no ``text_tokenizer`` is given.
        num_layers: the number of blocks.
        num_heads: N; it must divide hidden_dim.
        hidden_dim: D, the model width.
        intermediate_dim: F, the feed-forward width; None for 4 D.
        dropout: the rate of the embedding, attention-weight and residual dropouts (training only).
        max_length: the context: the learned positions, the longest sequence trained or generated.
        tie_embeddings: logits from the token table (x E^T) instead of a separate output matrix.
        label_smoothing: epsilon of the label-smoothed token loss (``training.losses.LabelSmoothingCrossentropy``:
            (1 - epsilon) onehot(y) + epsilon / V as the target, padding left out); 0: plain cross-entropy.
        learning_rate, min_learning_rate, warmup_steps, decay_steps: the schedule above.
        weight_decay: AdamW's decoupled weight decay (>= 0).
        beta_2: AdamW's second-moment decay, in [0, 1).
        clipnorm: the global gradient-norm clip (None: off).
        max_output_length: the longest continuation decoding writes, [END] included (cut to
            ``max_length``).
        text_tokenizer: a ``seqrecipes.data`` ``CharTokenizer`` or ``WordTokenizer``; needed for export.
        name: the model name.

    Returns:
        A compiled ``RecipeModel`` with logits (B, T, V) (AdamW as above, the masked cross-entropy on
        logits, perplexity, accuracy); ``model.decoder`` is a ``TransformerLanguageModelDecoder``.

    Example:
    >>> import tensorflow as tf
    >>> from seqrecipes import data, recipes
    >>> text = ["hello world", "hello there"]
    >>> tokenizer = data.CharTokenizer().adapt(text)
    >>> model = recipes.transformer_language_model(num_layers=1, num_heads=2, hidden_dim=8, max_length=16,
    ...                                            max_output_length=8, text_tokenizer=tokenizer)
    >>> batches = (tf.data.Dataset.from_tensor_slices(text).apply(data.tokenize(tokenizer))
    ...            .apply(data.teacher_forcing_shift()).apply(data.batch_with_padding(2)))
    >>> history = model.fit(batches, epochs=2, verbose=0)
    >>> result = recipes.generate(model.decoder, recipes.prompt_ids(tokenizer, ["hel"]), beam_width=2)
    >>> result["ids"].shape.as_list()
    [1, 1, 8]

    References:
        - Radford et al. (2018), Improving language understanding by generative pre-training (GPT).
        - Radford et al. (2019), Language models are unsupervised multitask learners (GPT-2).
        - Karpathy, nanoGPT, https://github.com/karpathy/nanoGPT (model.py, train.py).
    """
    intermediate_dim = check_transformer_sizes(num_layers, num_heads, hidden_dim, intermediate_dim, dropout)
    check_lengths(locals(), "max_length", "max_output_length")
    check_bool("tie_embeddings", tie_embeddings)
    check_schedule(learning_rate, min_learning_rate, warmup_steps, decay_steps, weight_decay, beta_2, clipnorm)
    text_vocabulary_size = vocabulary_size_of(text_tokenizer, text_vocabulary_size, "text")
    optimizer = gpt_optimizer(learning_rate, min_learning_rate, warmup_steps, decay_steps, weight_decay, beta_2, clipnorm)

    def initializer():
        return keras.initializers.RandomNormal(stddev=INITIALIZER_STDDEV)

    token_ids = keras.Input((None,), dtype="int32", name="token_ids")
    embedding = layers.ReversibleEmbedding(text_vocabulary_size, hidden_dim, embeddings_initializer=initializer(), name="embedding")
    x = embedding(token_ids)  # (B, T, D)
    x = keras.layers.Add(name="with_position")([x, layers.PositionEmbedding(max_length, initializer(), name="position")(x)])
    if dropout:
        x = keras.layers.Dropout(dropout, name="embedding_dropout")(x)
    for i in range(num_layers):
        x = layers.TransformerDecoder(
            intermediate_dim, num_heads, dropout=dropout, activation="gelu", kernel_initializer=initializer(),
            normalize_first=True, name=f"decoder_{i}",
        )(x)  # fmt: skip
    x = keras.layers.LayerNormalization(epsilon=1e-5, name="final_norm")(x)
    if tie_embeddings:
        logits = keras.layers.Activation("linear", dtype="float32", name="float32_logits")(embedding(x, reverse=True))  # (B, T, V)
    else:
        logits = keras.layers.Dense(text_vocabulary_size, use_bias=False, kernel_initializer=initializer(), dtype="float32", name="logits")(x)

    model = RecipeModel(
        token_ids, logits, recipe="transformer_language_model",
        arguments=saved_arguments(transformer_language_model, locals()),
        tokenizers={"text": text_tokenizer}, name=name,
    )  # fmt: skip
    metrics = [Perplexity(from_logits=True), TokenAccuracy(name="accuracy")]
    loss = token_loss(label_smoothing)
    model.compile(optimizer=optimizer, loss=loss, metrics=metrics, jit_compile=True)  # XLA: see the docstring
    return model
