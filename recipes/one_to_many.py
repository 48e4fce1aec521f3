"""One-to-many recipes: one input (an image) in, a sequence (its caption) out.

``image_captioner`` is show, attend and tell (Xu et al. 2015): a small CNN turns the image into a
grid of feature vectors, and a recurrent decoder attends over that grid (Bahdanau's additive score)
while it writes the caption one word at a time.
"""

from typing import Optional, Sequence

import keras
import tensorflow as tf
from keras import ops

from seqrecipes import layers
from seqrecipes.data import END_ID, PAD_ID, START_ID
from seqrecipes.recipes import components
from seqrecipes.recipes.decoding import Decoder, ban_never_generated, check_max_length, generation_serving, greedy_search
from seqrecipes.recipes.recipe_model import RecipeModel
from seqrecipes.recipes.registry import register


class CaptionDecoder(Decoder):
    """The ``Decoder`` of ``image_captioner``: the CNN once in ``encode``, one attention step in ``step``.

    State (every tensor batch-first, fixed shapes): the ``AttentionDecoderCell`` state list
    ``[*cell_states, h~ (B, U), alpha (B, N), memory (B, N, C), keys (B, N, A), memory_mask (B, N)]``
    with N = h*w feature-map positions. ``encode`` takes float images (B, H, W, C).
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
        # The embedding table looked up directly: the layer would attach a padding mask the cell warns about.
        x_t = ops.take(self.embedding.embeddings, token_ids, axis=0)  # (B, E): E y_{t-1}
        h_tilde, state = self.cell(x_t, state)  # (B, U)
        return ban_never_generated(self.output_layer(h_tilde)), state  # (B, V) logits

    def alignments(self, state):
        return state[self.cell.alignments_index], state[-1] > 0.5  # alpha (B, N), all positions real

    def inputs_from_raw(self, raw):
        return tf.cast(raw, tf.float32)  # (B, H, W, C): the signature fixes H, W, C to the model's


@register(
    "one-to-many",
    datasets=("shapes_captioning", "digit_strips"),
    serving="caption",
    decoder=CaptionDecoder,
    serving_function=generation_serving,
)
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
    loss ignores padded positions. ``caption_batches`` makes such batches from (image, caption)
    pairs; ``recipes.greedy_search(model.decoder, images)`` writes captions, and
    ``caption_alignments`` returns the attention maps for plotting.

    Args:
        image_height, image_width, channels: H, W, C_in of the input images.
        filters: the Conv2D filters of each CNN block (each block ends in a 2x2 max pooling, so
            ``len(filters)`` blocks leave an (H / 2^n) x (W / 2^n) feature map).
        target_vocabulary_size: V, when no ``target_tokenizer`` is given.
        max_output_length: the longest caption decoding writes, [END] included.
        embedding_dim: E, the size of the word embeddings.
        cell: the recurrent cell, one of ``components.CELLS`` (``"lstm"`` as in the paper).
        units: U, the size of the cell and of the attentional state.
        attention_units: the hidden size of the Bahdanau score network.
        position_embedding: add a learned vector per feature-map position to the memory.
        dropout: dropout rate on h~_t before the output layer (training only).
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
    >>> history = model.fit(pairs.apply(recipes.caption_batches(tokenizer, 8)), epochs=1, verbose=0)
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
    for argument, value in (
        ("image_height", image_height),
        ("image_width", image_width),
        ("channels", channels),
        ("max_output_length", max_output_length),
        ("embedding_dim", embedding_dim),
        ("units", units),
        ("attention_units", attention_units),
    ):
        components.check_positive(argument, value)
    filters = _check_filters(filters)
    components.check_choice("cell", cell, components.CELLS)
    components.check_rate("dropout", dropout)
    vocabulary_size = components.vocabulary_size_of(target_tokenizer, target_vocabulary_size, "target")
    feature_height, feature_width = image_height >> len(filters), image_width >> len(filters)
    if feature_height < 1 or feature_width < 1:
        raise ValueError(
            f"The image is too small for {len(filters)} CNN blocks (each halves both sides): use fewer `filters` or "
            f"larger images. Received: filters={filters}, image_height={image_height}, image_width={image_width}"
        )

    image = keras.Input((image_height, image_width, channels), dtype="float32", name="image")
    target_in = keras.Input((None,), dtype="int32", name="target_in")

    # Encoder: the CNN feature map a, flattened to the attention memory a_1..a_N.
    x = image
    for block, size in enumerate(filters):
        x = keras.layers.Conv2D(size, 3, padding="same", activation="relu", name=f"conv_{block}")(x)
        x = keras.layers.MaxPooling2D(2, name=f"pool_{block}")(x)  # (B, H / 2^k, W / 2^k, filters[k])
    features = keras.layers.Reshape((feature_height * feature_width, filters[-1]), name="features")(x)  # (B, N, C)
    mean_feature = keras.layers.GlobalAveragePooling1D(name="mean_feature")(features)  # (B, C)
    if position_embedding:
        positions = layers.PositionEmbedding(feature_height * feature_width, name="feature_positions")(features)  # (B, N, C)
        memory = keras.layers.Add(name="feature_map")([features, positions])  # (B, N, C)
    else:
        memory = keras.layers.Identity(name="feature_map")(features)  # (B, N, C)
    decoder_cell = layers.AttentionDecoderCell(
        components.make_cell(cell, units, name="cell"), layers.BahdanauAttention(attention_units, name="attention"),
        units=units, name="attention_cell",
    )  # fmt: skip
    num_cell_states = len(_flat(decoder_cell.cell.state_size))
    cell_states = [
        keras.layers.Dense(units, activation="tanh", name=f"initial_state_{k}")(mean_feature)  # (B, U)
        for k in range(num_cell_states)
    ]

    # Decoder: the attention decoder over the caption so far (teacher forcing).
    embedded = keras.layers.Embedding(vocabulary_size, embedding_dim, mask_zero=True, name="target_embedding")(target_in)
    # The alignments (B, T, N) are an unused output of the training graph; caption_alignments reads them.
    decoder = layers.AttentionDecoder(decoder_cell, return_alignments=True, name="decoder")
    outputs, _ = decoder(embedded, memory, initial_state=cell_states)  # (B, T, U), (B, T, N)
    if dropout:
        outputs = keras.layers.Dropout(dropout, name="dropout")(outputs)
    logits = keras.layers.Dense(vocabulary_size, name="logits")(outputs)  # (B, T, V)
    probabilities = keras.layers.Activation("softmax", dtype="float32", name="probabilities")(logits)

    model = RecipeModel(
        inputs={"image": image, "target_in": target_in},
        outputs=probabilities,
        recipe="image_captioner",
        arguments={
            "image_height": image_height,
            "image_width": image_width,
            "channels": channels,
            "filters": filters,
            "target_vocabulary_size": vocabulary_size,
            "max_output_length": max_output_length,
            "embedding_dim": embedding_dim,
            "cell": cell,
            "units": units,
            "attention_units": attention_units,
            "position_embedding": bool(position_embedding),
            "dropout": dropout,
            "learning_rate": learning_rate,
            "clipnorm": clipnorm,
        },
        tokenizers={"target": target_tokenizer} if target_tokenizer is not None else None,
        name=name,
    )
    model.compile(
        optimizer=components.recurrent_optimizer(learning_rate, clipnorm=clipnorm),
        loss="sparse_categorical_crossentropy",
        metrics=[keras.metrics.SparseCategoricalAccuracy(name="token_accuracy")],
    )
    return model


def _flat(state_size):
    return list(state_size) if isinstance(state_size, (list, tuple)) else [state_size]


def _check_filters(filters):
    if isinstance(filters, (str, bytes)) or not isinstance(filters, Sequence) or len(filters) == 0:
        raise ValueError(f"`filters` must be a non-empty list of positive integers. Received: filters={filters!r}")
    for size in filters:
        if isinstance(size, bool) or not isinstance(size, int) or size <= 0:
            raise ValueError(f"`filters` must be a non-empty list of positive integers. Received: filters={filters!r}")
    return [int(size) for size in filters]


def caption_batches(target_tokenizer, batch_size, max_output_length=None):
    """A ``dataset.apply`` step from (image, caption string) pairs to ``image_captioner`` batches.

    Each caption is tokenized and cut to its first ``max_output_length - 1`` tokens (so that with
    [END] it fits the model's limit); ``target_in`` is ``[START] y_1 .. y_n`` and the target
    ``y_1 .. y_n [END]``, both padded with 0 to the longest caption in the batch.

    Args:
        target_tokenizer: the recipe's target tokenizer.
        batch_size: examples per batch.
        max_output_length: the model's ``max_output_length``, or None for no cut.

    Returns:
        A transform giving ``({"image": (B, H, W, C), "target_in": (B, T)}, target (B, T))``.

    Example:
    >>> from seqrecipes import data, recipes
    >>> pairs = data.shapes_captioning(4, image_size=16)
    >>> tokenizer = data.WordTokenizer().adapt(pairs.map(lambda image, caption: caption))
    >>> inputs, target = next(iter(pairs.apply(recipes.caption_batches(tokenizer, 4))))
    >>> inputs["image"].shape.as_list(), int(inputs["target_in"][0, 0])
    ([4, 16, 16, 3], 2)
    """
    components.check_positive("batch_size", batch_size)
    if max_output_length is not None:
        components.check_positive("max_output_length", max_output_length)

    def shift(image, caption):
        ids = tf.cast(target_tokenizer.tokenize(caption), tf.int32)
        if max_output_length is not None:
            ids = ids[: max_output_length - 1]
        target = tf.concat([ids, [END_ID]], axis=0)
        target_in = tf.concat([[START_ID], ids], axis=0)
        return {"image": image, "target_in": target_in}, target

    def transform(dataset):
        dataset = dataset.map(shift, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
        return dataset.padded_batch(batch_size, padding_values=({"image": 0.0, "target_in": PAD_ID}, PAD_ID))

    return transform


def caption_alignments(model, images, target_in=None, max_length=None):
    """The attention maps of an ``image_captioner``: where it looked for each word, for plotting.

    Without ``target_in`` the model writes captions greedily (as ``greedy_search``) and the
    alignments are those of its own words; with ``target_in`` (teacher forcing) they are those of
    the given captions. Reshape a row to the feature map with ``alignments.reshape(B, T, h, w)``,
    h, w = ``model.get_layer("pool_<last>").output.shape[1:3]``.

    Args:
        model: a model built by ``image_captioner``.
        images: float images (B, H, W, C).
        target_in: optional ids (B, T), ``[START] y_1 ..`` padded with 0.
        max_length: the greedy decoding limit (at most the model's ``max_output_length``).

    Returns:
        ``(ids, alignments)``: ids (B, T) int32 (the greedy words, [END] included, then 0; or the
        model's most probable word at each position of ``target_in``), alignments (B, T, h*w)
        float32, rows summing to 1, zero where there is no word.

    Example:
    >>> from seqrecipes import data, recipes
    >>> tokenizer = data.WordTokenizer(vocabulary=["a", "red", "circle"])
    >>> model = recipes.image_captioner(image_height=16, image_width=16, filters=[8], units=8,
    ...                                 max_output_length=5, target_tokenizer=tokenizer)
    >>> ids, alignments = recipes.caption_alignments(model, next(iter(data.shapes_captioning(2, 16).batch(2)))[0])
    >>> tuple(alignments.shape)[::2]
    (2, 64)
    """
    if model.recipe != "image_captioner":
        raise ValueError(f"`model` must be built by image_captioner. Received: model.recipe={model.recipe!r}")
    images = tf.convert_to_tensor(images, tf.float32)
    if target_in is None:
        max_length = check_max_length(max_length, model.arguments["max_output_length"])
        ids, lengths = greedy_search(model.decoder, images, max_length=max_length)
        batch = tf.shape(ids)[0]
        target_in = tf.concat([tf.fill([batch, 1], START_ID), ids[:, :-1]], axis=1)
        # Words up to and including [END]: the positions whose alignments mean something.
        keep = tf.sequence_mask(tf.minimum(lengths + 1, max_length), max_length)
    else:
        target_in = tf.convert_to_tensor(target_in, tf.int32)
        ids, keep = None, tf.not_equal(target_in, PAD_ID)
    inputs = {"image": images, "target_in": target_in}
    alignments = keras.Model(model.input, model.get_layer("decoder").output[1])(inputs)  # (B, T, N)
    if ids is None:
        ids = ops.cast(ops.argmax(model(inputs), axis=-1), "int32")  # (B, T)
        ids = ops.where(keep, ids, PAD_ID)
    alignments = ops.where(keep[:, :, None], alignments, 0.0)
    return ops.convert_to_numpy(ids), ops.convert_to_numpy(alignments)
