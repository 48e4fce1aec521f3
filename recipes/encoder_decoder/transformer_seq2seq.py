"""``transformer_seq2seq``: the Transformer encoder-decoder (Vaswani et al. 2017), key/value-cached decoding."""

import keras
from keras import ops

from seqrecipes import layers
from seqrecipes._checks import check_bool, check_choice, check_positive_number, check_rate
from seqrecipes.recipes._components import check_lengths, check_positive_ints, vocabulary_size_of
from seqrecipes.recipes.encoder_decoder._encoder_decoder import SourceDecoder, compiled_model, inputs, next_token_logits, source_mask
from seqrecipes.recipes.recipe_model import RecipeModel
from seqrecipes.recipes._precision import with_precision

POSITIONS = ("sinusoidal", "learned")


class TransformerSeq2SeqDecoder(SourceDecoder):
    """Decoder of ``transformer_seq2seq``, one token per step through the key/value caches.

    State: {"memory": encoder outputs (B, S, D), "memory_mask": (B, S), "self_caches": one
    (B, 2, L, N, H) cache per decoder block (L = max_target_length), "cross_caches": one
    (B, 2, S, N, H) cache per block, filled once in ``encode``, "alignments": (B, S) the last
    block's cross-attention weights of the last step, averaged over the heads (what beam search's
    coverage penalty reads)}.

    Example:
    >>> import numpy as np
    >>> from seqrecipes import recipes
    >>> model = recipes.transformer_seq2seq(source_vocabulary_size=10, target_vocabulary_size=10, num_layers=1,
    ...                                     num_heads=2, hidden_dim=8, intermediate_dim=16, max_target_length=6)
    >>> state = model.decoder.encode(np.array([[4, 5, 6]], "int32"))
    >>> tuple(state["self_caches"][0].shape)  # (B, 2, max_target_length, heads, key_dim)
    (1, 2, 6, 2, 4)
    >>> logits, state = model.decoder.step(np.array([2], "int32"), state, 0)
    >>> tuple(logits.shape), tuple(model.decoder.alignments(state)[0].shape)
    ((1, 10), (1, 3))
    """

    def __init__(self, model):
        super().__init__(model)
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
        mask = source_mask(ids)
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
        logits = next_token_logits(self.logits, y[:, 0])  # (B, V)
        new_state = dict(state, self_caches=self_caches, cross_caches=cross_caches, alignments=alignments)
        return logits, new_state

    def alignments(self, state):
        return state["alignments"], ops.cast(state["memory_mask"], "bool")  # (B, S), real positions (B, S)


@with_precision
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
    label_smoothing: float = 0.0,
    learning_rate: float = 1e-3,
    source_tokenizer=None,
    target_tokenizer=None,
    name: str = "transformer_seq2seq",
) -> RecipeModel:
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
        max_target_length: the longest decoder input (the learned positions' limit) and the most
            tokens generation writes.
        label_smoothing: epsilon of the label-smoothed token loss (``training.losses.LabelSmoothingCrossentropy``:
            (1 - epsilon) onehot(y) + epsilon / V as the target, padding left out); 0: plain cross-entropy.
        learning_rate: Adam's learning rate (beta_2 0.98, epsilon 1e-9, as in the paper).
        source_vocabulary_size, target_vocabulary_size, max_source_length, source_tokenizer,
            target_tokenizer, name: as in ``seq2seq``.

    Returns:
        A compiled ``RecipeModel`` with the inputs and logits of ``seq2seq``'s; ``model.decoder`` is a
        ``TransformerSeq2SeqDecoder``.

    Example:
    >>> from seqrecipes import data, recipes
    >>> sums = data.digit_addition(64, max_digits=2, seed=0)  # ("12+7", "19"), ...
    >>> digits = data.CharTokenizer(vocabulary=list("0123456789+"))
    >>> model = recipes.transformer_seq2seq(num_layers=1, num_heads=2, hidden_dim=16, intermediate_dim=32,
    ...                                     share_embeddings=True, source_tokenizer=digits, target_tokenizer=digits)
    >>> history = model.fit(sums.apply(data.seq2seq_batches(digits, digits, batch_size=16)), epochs=1, verbose=0)
    >>> recipes.predict(model, ["12+7", "5+5"])["outputs"].shape
    (2,)

    References:
        - Vaswani et al. (2017), Attention is all you need, https://arxiv.org/abs/1706.03762
    """
    source_vocabulary_size = vocabulary_size_of(source_tokenizer, source_vocabulary_size, "source")
    target_vocabulary_size = vocabulary_size_of(target_tokenizer, target_vocabulary_size, "target")
    check_positive_ints(locals(), "num_layers", "num_heads", "hidden_dim", "intermediate_dim")
    if hidden_dim % num_heads:
        raise ValueError(f"`hidden_dim` must be a multiple of num_heads={num_heads}. Received: hidden_dim={hidden_dim}")
    check_rate("dropout", dropout)
    check_choice("position", position, POSITIONS)
    check_bool("share_embeddings", share_embeddings)
    check_bool("normalize_first", normalize_first)
    check_lengths(locals(), "max_source_length", "max_target_length")
    if share_embeddings and source_vocabulary_size != target_vocabulary_size:
        raise ValueError(
            "`share_embeddings=True` needs one vocabulary for source and target. Received: "
            f"source_vocabulary_size={source_vocabulary_size}, target_vocabulary_size={target_vocabulary_size}"
        )
    check_positive_number("learning_rate", learning_rate)
    optimizer = keras.optimizers.Adam(learning_rate, beta_2=0.98, epsilon=1e-9)

    source, target_in = inputs()
    source_embedding = keras.layers.Embedding(source_vocabulary_size, hidden_dim, mask_zero=True, name="source_embedding")
    if share_embeddings:
        target_embedding = source_embedding
    else:
        target_embedding = keras.layers.Embedding(target_vocabulary_size, hidden_dim, mask_zero=True, name="target_embedding")
    block = {"dropout": dropout, "normalize_first": normalize_first}
    x = _with_positions(source_embedding(source), "source", max_source_length, position, dropout)  # (B, S, D)
    for i in range(num_layers):
        x = layers.TransformerEncoder(intermediate_dim, num_heads, **block, name=f"encoder_{i}")(x)
    if normalize_first:
        x = keras.layers.LayerNormalization(epsilon=1e-5, name="encoder_norm")(x)  # pre-norm ends with a norm
    y = _with_positions(target_embedding(target_in), "target", max_target_length, position, dropout)  # (B, T, D)
    for i in range(num_layers):
        y = layers.TransformerDecoder(intermediate_dim, num_heads, **block, name=f"decoder_{i}")(y, x)
    if normalize_first:
        y = keras.layers.LayerNormalization(epsilon=1e-5, name="decoder_norm")(y)
    logits = keras.layers.Dense(target_vocabulary_size, dtype="float32", name="logits")(y)  # (B, T, V)

    return compiled_model(transformer_seq2seq, locals(), source, target_in, logits, optimizer)


def _with_positions(x, role, length, position, dropout):
    """The input of an encoder or decoder stack: embeddings x (B, T, D) + P, then dropout; P sinusoidal, or
    learned over ``length`` positions."""
    if position == "learned":
        positions = layers.PositionEmbedding(length, name=f"{role}_position")
    else:
        positions = layers.PositionalEncoding(name=f"{role}_position")
    x = keras.layers.Add(name=f"{role}_with_position")([x, positions(x)])
    return keras.layers.Dropout(dropout, name=f"{role}_dropout")(x)
