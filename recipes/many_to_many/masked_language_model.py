"""``masked_language_model``: a Transformer encoder that predicts masked words from both sides (BERT, seed 000).

Seed 000: "BERT: predict the masked words; word2vec + Transformer". ``data.masked_lm_batches`` (or
``data.mask_tokens`` on batches of ids) hides 15% of the words; the model reads the whole sequence, left
and right context at once, and predicts the hidden ones through the token table (tied embeddings).
"""

from typing import Optional

import keras
import tensorflow as tf

from seqrecipes import layers
from seqrecipes.data import PAD_ID, RESERVED_TOKENS
from seqrecipes.recipes.training.losses import token_loss
from seqrecipes.recipes._components import check_lengths, check_schedule, check_transformer_sizes, gpt_optimizer, saved_arguments, vocabulary_size_of
from seqrecipes.recipes.recipe_model import RecipeModel
from seqrecipes.recipes.training.metrics import TokenAccuracy
from seqrecipes.recipes._precision import with_precision

MASK_TEXT = "[MASK]"
INITIALIZER_STDDEV = 0.02  # BERT's truncated normal, here a plain N(0, 0.02)


def masked_ids(tokenizer, strings, max_length):
    """Strings -> ids (B, T <= ``max_length``) int32 with the literal text ``[MASK]`` read as the mask id.

    Each string is split at ``"[MASK]"``; the pieces are tokenized and joined with the mask id between
    them, so ``"the [MASK] sat"`` is the ids of "the", the mask id, the ids of "sat", whatever the
    tokenizer does with brackets. The first ``max_length`` ids are kept, padded with 0.

    Example:
    >>> from seqrecipes import data, recipes
    >>> tokenizer = data.WordTokenizer(vocabulary=["the", "cat", "sat"]).add_mask_token()
    >>> recipes.masked_ids(tokenizer, ["the [MASK] sat", "cat"], 4).numpy().tolist()
    [[4, 7, 6, 0], [5, 0, 0, 0]]
    """
    pieces = tf.strings.split(strings, MASK_TEXT)  # (B, pieces)
    ids = tokenizer.tokenize_ragged(pieces)  # (B, pieces, tokens)
    marks = tf.fill(tf.stack([tf.size(pieces.flat_values), 1]), tf.constant(tokenizer.mask_id, tf.int32))
    ids = tf.concat([ids, pieces.with_flat_values(tf.RaggedTensor.from_tensor(marks))], axis=2)  # a mask after each piece
    ids = ids.merge_dims(1, 2)[:, :-1]  # not after the last
    return ids[:, :max_length].to_tensor(default_value=PAD_ID, shape=[None, max_length])


def masked_lm_serving(model):
    """The serving function of ``masked_language_model``: strings (B,) with ``[MASK]`` marks ->
    ``tags`` (B, T), the most probable word at every position ("" after the last), and ``filled`` (B,),
    the text with each mask replaced by its prediction."""
    tokenizer = model.tokenizer("text")
    max_length = model.arguments["max_length"]
    first = len(RESERVED_TOKENS)

    def serve(strings):
        ids = masked_ids(tokenizer, strings, max_length)  # (B, T)
        logits = tf.cast(model(ids, training=False), tf.float32)[:, :, first:]  # words only
        logits = logits + tf.one_hot(tokenizer.mask_id - first, tf.shape(logits)[-1], on_value=-1e9)  # never [MASK]
        predicted = tf.argmax(logits, axis=-1, output_type=tf.int32) + first  # (B, T)
        words = tokenizer.ids_to_tokens(predicted)
        filled = tf.where(ids == tokenizer.mask_id, predicted, ids)
        return {"tags": tf.where(ids != PAD_ID, words, tf.zeros_like(words)), "filled": tokenizer.detokenize(filled)}

    return serve


@with_precision
def masked_language_model(
    *,
    text_vocabulary_size: int = 0,
    num_layers: int = 2,
    num_heads: int = 4,
    hidden_dim: int = 128,
    intermediate_dim: Optional[int] = None,
    dropout: float = 0.1,
    max_length: int = 64,
    label_smoothing: float = 0.0,
    learning_rate: float = 1e-3,
    min_learning_rate: float = 1e-4,
    warmup_steps: int = 100,
    decay_steps: int = 2000,
    weight_decay: float = 0.01,
    beta_2: float = 0.999,
    clipnorm: Optional[float] = 1.0,
    text_tokenizer=None,
    name: str = "masked_language_model",
) -> RecipeModel:
    """A Transformer encoder that predicts masked words from both sides (BERT, seed 000).

    Shapes: B batch, T <= ``max_length``, D = ``hidden_dim``, N = ``num_heads``, F = ``intermediate_dim``,
    V the vocabulary (with ``[MASK]``); E the (V, D) token table, P the (``max_length``, D) positions.

        x_0    = Dropout(LN(E[w_t] + P[t]))                 (B, T, D), padding masked
        x_l    = Block_l(x_{l-1})                           l = 1 .. num_layers, post-norm
                                                            ``layers.TransformerEncoder`` (GELU), no causal mask
        logits = LN_m(GELU(W_m x_L + b_m)) E^T              (B, T, V): the MLM head, tied to the token table

    Training pairs come from ``data.masked_lm_batches(tokenizer, batch_size, max_length)``: the masked ids
    in, the original ids at the masked positions (0 elsewhere) out; the sparse cross-entropy ignores
    class 0, so only the masked positions count; ``accuracy`` is the share of them predicted. The
    optimizer is AdamW (weight decay on kernels and tables) with a linear warm-up and a cosine decay, as
    ``transformer_language_model``'s. The tokenizer must hold ``[MASK]`` (``tokenizer.add_mask_token()``):
    the masking step and the export take its ``mask_id``; the model itself reads ids only.

    Export (``serving="tag"``): ``serving_default`` takes strings in which the literal text ``[MASK]``
    marks a blank (``masked_ids``), keeps their first ``max_length`` ids, and returns ``tags`` (B, T),
    the most probable word at every position, and ``filled`` (B,), the text with each blank filled.

    Args:
        text_vocabulary_size: V, when no ``text_tokenizer`` is given.
        num_layers, num_heads, hidden_dim, intermediate_dim (None: 4 D), dropout: the encoder.
        max_length: the learned positions, the longest sequence.
        label_smoothing: epsilon of the label-smoothed token loss (``training.losses.LabelSmoothingCrossentropy``:
            (1 - epsilon) onehot(y) + epsilon / V as the target, padding left out); 0: plain cross-entropy.
        learning_rate, min_learning_rate, warmup_steps, decay_steps, weight_decay, beta_2, clipnorm: AdamW
            and its schedule (as ``transformer_language_model``).
        text_tokenizer: a ``seqrecipes.data`` tokenizer with ``[MASK]``; needed for export.
        name: the model name.

    Returns:
        A compiled ``RecipeModel`` with logits (B, T, V).

    Example:
    >>> import tensorflow as tf
    >>> from seqrecipes import data, recipes
    >>> text = ["the cat sat on the mat", "the dog sat on the rug"] * 4
    >>> tokenizer = data.WordTokenizer().adapt(text).add_mask_token()
    >>> model = recipes.masked_language_model(num_layers=1, num_heads=2, hidden_dim=8, max_length=16, text_tokenizer=tokenizer)
    >>> batches = tf.data.Dataset.from_tensor_slices(text).apply(data.masked_lm_batches(tokenizer, 4, 16, seed=0))
    >>> history = model.fit(batches, epochs=1, verbose=0)
    >>> sorted(recipes.predict(model, ["the [MASK] sat"]))
    ['filled', 'tags']

    References:
        - Devlin, Chang, Lee, Toutanova (2019), BERT: pre-training of deep bidirectional Transformers for
          language understanding, https://arxiv.org/abs/1810.04805
        - keras-hub ``BertBackbone`` and ``BertMaskedLM`` (the embedding layer norm, the tied MLM head).
    """
    intermediate_dim = check_transformer_sizes(num_layers, num_heads, hidden_dim, intermediate_dim, dropout)
    check_lengths(locals(), "max_length")
    check_schedule(learning_rate, min_learning_rate, warmup_steps, decay_steps, weight_decay, beta_2, clipnorm)
    text_vocabulary_size = vocabulary_size_of(text_tokenizer, text_vocabulary_size, "text")
    if text_tokenizer is not None and text_tokenizer.mask_id is None:
        raise ValueError(
            "A masked language model needs a [MASK] token in its tokenizer: call text_tokenizer.add_mask_token() "
            "(it moves no id). Received: text_tokenizer.mask_id=None"
        )

    def initializer():
        return keras.initializers.RandomNormal(stddev=INITIALIZER_STDDEV)

    token_ids = keras.Input((None,), dtype="int32", name="token_ids")
    embedding = layers.ReversibleEmbedding(text_vocabulary_size, hidden_dim, embeddings_initializer=initializer(), mask_zero=True, name="embedding")
    x = embedding(token_ids)  # (B, T, D), padding masked
    x = keras.layers.Add(name="with_position")([x, layers.PositionEmbedding(max_length, initializer(), name="position")(x)])
    x = keras.layers.LayerNormalization(epsilon=1e-12, name="embedding_norm")(x)
    if dropout:
        x = keras.layers.Dropout(dropout, name="embedding_dropout")(x)
    for i in range(num_layers):
        x = layers.TransformerEncoder(
            intermediate_dim, num_heads, dropout=dropout, activation="gelu", kernel_initializer=initializer(), name=f"encoder_{i}"
        )(x)  # fmt: skip
    x = keras.layers.Dense(hidden_dim, activation="gelu", kernel_initializer=initializer(), name="mlm_transform")(x)
    x = keras.layers.LayerNormalization(epsilon=1e-12, name="mlm_norm")(x)
    logits = keras.layers.Activation("linear", dtype="float32", name="float32_logits")(embedding(x, reverse=True))  # (B, T, V)

    model = RecipeModel(
        token_ids, logits, recipe="masked_language_model", arguments=saved_arguments(masked_language_model, locals()),
        tokenizers={"text": text_tokenizer}, name=name,
    )  # fmt: skip
    optimizer = gpt_optimizer(learning_rate, min_learning_rate, warmup_steps, decay_steps, weight_decay, beta_2, clipnorm)
    loss = token_loss(label_smoothing)
    model.compile(optimizer=optimizer, loss=loss, metrics=[TokenAccuracy(name="accuracy")], jit_compile=True)
    return model
