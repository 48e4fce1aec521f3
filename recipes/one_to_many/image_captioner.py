"""``image_captioner``: show, attend and tell (Xu et al. 2015).

A small CNN turns the image into a grid of feature vectors, and a recurrent decoder attends over that
grid (Bahdanau's additive score) while it writes the caption one word at a time.
"""

from typing import Optional, Sequence

import keras
import tensorflow as tf
from keras import ops

from seqrecipes import layers
from seqrecipes._checks import check_bool, check_choice, check_rate
from seqrecipes.recipes.training.losses import token_loss
from seqrecipes.recipes._components import CELLS, check_lengths, check_positive_ints, embed, make_cell, recurrent_optimizer, saved_arguments, vocabulary_size_of
from seqrecipes.recipes.decoding.decoder import Decoder, ban_never_generated
from seqrecipes.recipes.recipe_model import RecipeModel
from seqrecipes.recipes.training.metrics import TokenAccuracy
from seqrecipes.recipes._precision import with_precision


class ImageCaptionerDecoder(Decoder):
    """The ``Decoder`` of ``image_captioner``: the CNN once in ``encode``, one attention step in ``step``.

    State (every tensor batch-first, fixed shapes): the ``AttentionDecoderCell`` state list
    ``[*cell_states, h~ (B, U), alpha (B, N), memory (B, N, C), keys (B, N, A), memory_mask (B, N)]``
    with N = h*w feature-map positions. ``encode`` takes float images (B, H, W, C).

    Example:
    >>> import numpy as np
    >>> from seqrecipes import recipes
    >>> model = recipes.image_captioner(image_height=8, image_width=8, filters=[4], units=8, target_vocabulary_size=9)
    >>> state = model.decoder.encode(np.zeros((2, 8, 8, 3), "float32"))
    >>> logits, state = model.decoder.step(np.array([2, 2], "int32"), state, 0)
    >>> tuple(logits.shape), tuple(model.decoder.alignments(state)[0].shape)
    ((2, 9), (2, 16))
    """

    def __init__(self, model):
        super().__init__(model, max_length=model.arguments["max_output_length"])
        image = model.get_layer("image").output
        self.cell = model.get_layer("decoder").cell
        num_cell_states = len(_flat(self.cell.cell.state_size))
        cell_states = [model.get_layer(f"initial_state_{k}").output for k in range(num_cell_states)]
        # The encoder half of the functional graph, sharing the model's layers and weights.
        self.encoder = keras.Model(image, [model.get_layer("feature_map").output, *cell_states], name="caption_encoder")
        self.embedding = model.get_layer("target_embedding")
        self.output_layer = model.get_layer("logits")

    def encode(self, inputs):
        memory, *cell_states = self.encoder(ops.cast(inputs, "float32"))
        return self.cell.get_initial_state(memory=memory, cell_states=cell_states)

    def step(self, token_ids, state, index):
        x_t = embed(self.embedding, token_ids)  # (B, E): E y_{t-1}
        h_tilde, state = self.cell(x_t, state)  # (B, U)
        return ban_never_generated(self.output_layer(h_tilde)), state  # (B, V) logits

    def alignments(self, state):
        return state[self.cell.alignments_index], state[-1] > 0.5  # alpha (B, N), all positions real

    def inputs_from_raw(self, raw):
        return tf.cast(raw, tf.float32)  # (B, H, W, C): the signature fixes H, W, C to the model's


@with_precision
def image_captioner(
    *,
    image_height: int = 32,
    image_width: int = 32,
    channels: int = 3,
    filters: Sequence[int] = (32, 64),
    target_vocabulary_size: int = 0,
    max_output_length: int = 16,
    embedding_dim: int = 64,
    cell: str = "lstm",
    units: int = 128,
    attention_units: int = 64,
    position_embedding: bool = True,
    dropout: float = 0.0,
    label_smoothing: float = 0.0,
    learning_rate: float = 1e-3,
    clipnorm: Optional[float] = 1.0,
    target_tokenizer=None,
    name: str = "image_captioner",
) -> RecipeModel:
    """Image captioning with attention over a CNN feature map (show, attend and tell).

    Shapes: B batch, H x W x C_in the image, h x w the feature map after the CNN (each block
    halves both sides), C its channels (``filters[-1]``), N = h*w, T caption length, E
    ``embedding_dim``, U ``units``, V the target vocabulary.

        a          = CNN(image)                       (B, h, w, C): per block Conv2D 3x3 + ReLU, MaxPool 2x2
        h_0, c_0   = tanh(W_h mean(a) + b_h), ...     one Dense per state of the cell (Xu et al. 3.1.2)
        a_1..a_N   = reshape(a) + P                   (B, N, C), the attention memory; P (N, C) learned
                                                      position vectors (``position_embedding``)
        x_t        = E y_{t-1}                        (B, E), y_0 = [START]
        s_t        = cell([x_t ; h~_{t-1}], s_{t-1})
        z_t, alpha = Bahdanau(s_t, a_1..a_N)         alpha_t (B, N): where the decoder looks
        h~_t       = tanh(W_c [z_t ; s_t])            (B, U)
        p(y_t)     = softmax(W_o h~_t + b_o)          (B, V)

    Differences from the paper, for what the project's ``AttentionDecoderCell`` provides: attention
    is queried with the new state s_t (Luong's order) instead of h_{t-1}, the last attentional state
    is fed back (input feeding), the output layer is one Dense over h~_t instead of the deep output
    layer, and there is no doubly stochastic attention penalty. The position vectors P are an addition:
    without them the score sees only what is at a position, not where it is (CNN features carry little
    position), so two identical digits in a strip, or "above" against "below", are hard to tell apart;
    ``position_embedding=False`` gives the paper's memory.

    Inputs ``{"image": (B, H, W, C_in) float, "target_in": (B, T) int ids}`` (the caption
    shifted right, ``[START] y_1 .. y_{T-1}``, padded with 0); outputs (B, T, V) probabilities. The
    loss ignores padded positions. ``data.caption_batches`` makes such batches from (image, caption)
    pairs; ``recipes.greedy_search(model.decoder, images)`` writes captions, and
    ``recipes.attention_alignments(model, images)`` returns the attention maps for plotting.

    Args:
        image_height, image_width, channels: H, W, C_in of the input images.
        filters: the Conv2D filters of each CNN block (each block ends in a 2x2 max pooling, so
            ``len(filters)`` blocks leave an (H / 2^n) x (W / 2^n) feature map).
        target_vocabulary_size: V, when no ``target_tokenizer`` is given.
        max_output_length: the longest caption decoding writes, [END] included.
        embedding_dim: E, the size of the word embeddings.
        cell: the recurrent cell: "simple_rnn", "gru", "lstm" (as in the paper), "peephole_lstm",
            "layer_norm_lstm" or "cifg_lstm".
        units: U, the size of the cell and of the attentional state.
        attention_units: the hidden size of the Bahdanau score network.
        position_embedding: add a learned vector per feature-map position to the memory.
        dropout: dropout rate on h~_t before the output layer (training only).
        label_smoothing: epsilon of the label-smoothed token loss (``training.losses.LabelSmoothingCrossentropy``:
            (1 - epsilon) onehot(y) + epsilon / V as the target, padding left out); 0: plain cross-entropy.
        learning_rate: Adam's learning rate.
        clipnorm: gradient clipping by global norm (None: off).
        target_tokenizer: a ``seqrecipes.data`` tokenizer of the captions (``WordTokenizer``);
            needed for export.
        name: the model name.

    Returns:
        A compiled ``RecipeModel`` (Adam with clipping, sparse categorical cross-entropy, token
        accuracy).

    Example:
    >>> from seqrecipes import data, recipes
    >>> pairs = data.shapes_captioning(32, image_size=16, seed=0)
    >>> tokenizer = data.WordTokenizer().adapt(pairs.map(lambda image, caption: caption))
    >>> model = recipes.image_captioner(image_height=16, image_width=16, filters=[8], units=16,
    ...                                 attention_units=8, embedding_dim=8, target_tokenizer=tokenizer)
    >>> history = model.fit(pairs.apply(data.caption_batches(tokenizer, 8)), epochs=1, verbose=0)
    >>> images = next(iter(pairs.batch(2)))[0]
    >>> ids, lengths = recipes.greedy_search(model.decoder, images)
    >>> tokenizer.detokenize(ids).shape.as_list()
    [2]

    References:
        - Xu et al. (2015), Show, attend and tell: neural image caption generation with visual
          attention, https://arxiv.org/abs/1502.03044
        - Bahdanau, Cho, Bengio (2015), https://arxiv.org/abs/1409.0473
        - Luong, Pham, Manning (2015), https://arxiv.org/abs/1508.04025
    """
    check_lengths(locals(), "image_height", "image_width", "max_output_length")
    check_positive_ints(locals(), "channels", "embedding_dim", "units", "attention_units")
    filters = _check_filters(filters)
    check_choice("cell", cell, CELLS)
    check_bool("position_embedding", position_embedding)
    check_rate("dropout", dropout)
    target_vocabulary_size = vocabulary_size_of(target_tokenizer, target_vocabulary_size, "target")
    if image_height >> len(filters) < 1 or image_width >> len(filters) < 1:
        raise ValueError(
            f"The image is too small for {len(filters)} CNN blocks (each halves both sides): use fewer `filters` or "
            f"larger images. Received: filters={filters}, image_height={image_height}, image_width={image_width}"
        )
    optimizer = recurrent_optimizer(learning_rate, clipnorm=clipnorm)

    image = keras.Input((image_height, image_width, channels), dtype="float32", name="image")
    target_in = keras.Input((None,), dtype="int32", name="target_in")
    memory, mean_feature = _encoder(image, filters, position_embedding)  # (B, N, C), (B, C)
    decoder_cell = layers.AttentionDecoderCell(
        make_cell(cell, units, name="cell"), layers.BahdanauAttention(attention_units, name="attention"),
        units=units, name="attention_cell",
    )  # fmt: skip
    cell_states = [
        keras.layers.Dense(units, activation="tanh", name=f"initial_state_{k}")(mean_feature)  # (B, U)
        for k in range(len(_flat(decoder_cell.cell.state_size)))
    ]

    # Decoder: the attention decoder over the caption so far (teacher forcing).
    embedded = keras.layers.Embedding(target_vocabulary_size, embedding_dim, mask_zero=True, name="target_embedding")(target_in)
    outputs = layers.AttentionDecoder(decoder_cell, name="decoder")(embedded, memory, initial_state=cell_states)  # (B, T, U)
    if dropout:
        outputs = keras.layers.Dropout(dropout, name="dropout")(outputs)
    logits = keras.layers.Dense(target_vocabulary_size, name="logits")(outputs)  # (B, T, V)
    probabilities = keras.layers.Activation("softmax", dtype="float32", name="probabilities")(logits)

    model = RecipeModel(
        {"image": image, "target_in": target_in}, probabilities, recipe="image_captioner",
        arguments=saved_arguments(image_captioner, locals()), tokenizers={"target": target_tokenizer}, name=name,
    )  # fmt: skip
    model.compile(optimizer=optimizer, loss=token_loss(label_smoothing, from_logits=False, ignore_class=None), metrics=[TokenAccuracy()])
    return model


def _encoder(image, filters, position_embedding):
    """The CNN feature map a, flattened to the attention memory a_1..a_N (B, N, C), and its mean (B, C)."""
    x = image
    for block, size in enumerate(filters):
        x = keras.layers.Conv2D(size, 3, padding="same", activation="relu", name=f"conv_{block}")(x)
        x = keras.layers.MaxPooling2D(2, name=f"pool_{block}")(x)  # (B, H / 2^k, W / 2^k, filters[k])
    features = keras.layers.Reshape((x.shape[1] * x.shape[2], filters[-1]), name="features")(x)  # (B, N, C)
    mean_feature = keras.layers.GlobalAveragePooling1D(name="mean_feature")(features)  # (B, C)
    if not position_embedding:
        return keras.layers.Identity(name="feature_map")(features), mean_feature  # (B, N, C)
    positions = layers.PositionEmbedding(features.shape[1], name="feature_positions")(features)  # (B, N, C)
    return keras.layers.Add(name="feature_map")([features, positions]), mean_feature  # (B, N, C)


def _flat(state_size):
    return list(state_size) if isinstance(state_size, (list, tuple)) else [state_size]


def _check_filters(filters):
    if isinstance(filters, (str, bytes)) or not isinstance(filters, Sequence) or len(filters) == 0:
        raise ValueError(f"`filters` must be a non-empty list of positive integers. Received: filters={filters!r}")
    for size in filters:
        if isinstance(size, bool) or not isinstance(size, int) or size <= 0:
            raise ValueError(f"`filters` must be a non-empty list of positive integers. Received: filters={filters!r}")
    return [int(size) for size in filters]
