"""``window_language_model``: the feed-forward neural language model of Bengio et al. (2003).

The embeddings of the previous n-1 words are concatenated and passed through one tanh hidden layer
to a softmax over the vocabulary, optionally with the paper's direct input-to-output connections.
``data.window_batches`` turns text into its (context, next word) training pairs, and
``WindowLanguageModelDecoder`` generates text from it one word at a time.
"""

import keras
import tensorflow as tf
from keras import ops

from seqrecipes._checks import check_bool, check_positive_number, check_rate
from seqrecipes.data import START_ID
from seqrecipes.recipes.training.losses import token_loss
from seqrecipes.recipes._components import check_lengths, check_positive_ints, saved_arguments, vocabulary_size_of
from seqrecipes.recipes.decoding.decoder import Decoder, ban_never_generated
from seqrecipes.recipes.recipe_model import RecipeModel
from seqrecipes.recipes.training.metrics import Perplexity
from seqrecipes.recipes._precision import with_precision


class WindowLanguageModelDecoder(Decoder):
    """The ``Decoder`` of ``window_language_model``: its state is the last n-1 ids.

    ``encode`` takes the contexts (B, n-1) int ids (``[START]`` + prompt, the last n-1 ids, padded
    with 0 in front; ``window_contexts`` makes them from strings). ``step`` shifts the previous
    output into the window (except at step 0, where the window already ends with the prompt's last
    id) and runs the model on it. State: ``{"context": (B, n-1) int32}``, batch-first.

    Example:
    >>> from seqrecipes import data, recipes
    >>> tokenizer = data.WordTokenizer(vocabulary=["the", "cat", "sat"])
    >>> model = recipes.window_language_model(context_size=2, units=8, embedding_dim=4, text_tokenizer=tokenizer)
    >>> state = model.decoder.encode(model.decoder.inputs_from_raw(["the cat"]))
    >>> state["context"].numpy().tolist()
    [[4, 5]]
    >>> logits, state = model.decoder.step(state["context"][:, -1], state, 0)
    >>> tuple(logits.shape)
    (1, 7)
    """

    def __init__(self, model):
        super().__init__(model, max_length=model.arguments["max_output_length"])
        last = "logits_with_direct" if model.arguments["direct_connections"] else "logits"
        # The logits half of the functional graph, sharing every layer and weight (no softmax per step).
        self.logits_model = keras.Model(model.input, model.get_layer(last).output, name="window_logits")

    def encode(self, inputs):
        return {"context": ops.cast(inputs, "int32")}

    def step(self, token_ids, state, index):
        context = state["context"]
        shifted = ops.concatenate([context[:, 1:], ops.cast(token_ids, "int32")[:, None]], axis=1)  # (B, n-1)
        context = ops.where(index == 0, context, shifted)
        logits = ban_never_generated(self.logits_model(context, training=False))  # (B, V)
        return logits, {"context": context}

    output_role = "text"

    def inputs_from_raw(self, raw):
        return window_contexts(self.model.tokenizer("text"), raw, self.model.arguments["context_size"])


def window_contexts(tokenizer, strings, context_size):
    """Strings -> the model's contexts (B, n-1) int32: the last n-1 ids of ``[START]`` + tokens.

    Windows shorter than n-1 are padded with 0 (``PAD_ID``) in front, as ``data.window_batches`` pads
    the first contexts of a text. Core TensorFlow ops only (it runs inside the export); only the
    last n-1 ids of each row are ever laid out, so a very long prompt costs its tokenization alone.

    Args:
        tokenizer: the model's text tokenizer.
        strings: prompts, a 1-D batch of strings.
        context_size: n-1, the model's ``context_size``.

    Returns:
        (B, n-1) int32 contexts.

    Example:
    >>> from seqrecipes import data, recipes
    >>> tokenizer = data.WordTokenizer(vocabulary=["a", "b", "c"])
    >>> recipes.window_contexts(tokenizer, ["a b c", "", "c"], 3).numpy().tolist()
    [[4, 5, 6], [0, 0, 2], [0, 2, 6]]
    """
    ids = tokenizer.tokenize_ragged(strings)  # (B, tokens)
    start = tf.fill([ids.nrows(), 1], tf.constant(START_ID, tf.int32))
    ids = tf.concat([tf.RaggedTensor.from_tensor(start), ids], axis=1)[:, -context_size:]  # (B, <= n-1)
    lengths = tf.cast(ids.row_lengths(), tf.int32)  # (B,)
    positions = lengths[:, None] - context_size + tf.range(context_size)[None, :]  # (B, n-1)
    window = tf.gather(ids.to_tensor(shape=[None, context_size]), tf.maximum(positions, 0), batch_dims=1)  # (B, n-1)
    return tf.where(positions >= 0, window, tf.zeros_like(window))


@with_precision
def window_language_model(
    *,
    text_vocabulary_size: int = 0,
    context_size: int = 4,
    embedding_dim: int = 64,
    units: int = 128,
    direct_connections: bool = False,
    dropout: float = 0.0,
    max_output_length: int = 32,
    label_smoothing: float = 0.0,
    learning_rate: float = 1e-3,
    text_tokenizer=None,
    name: str = "window_language_model",
) -> RecipeModel:
    """Feed-forward window language model (Bengio et al. 2003): the next word from the previous n-1.

    Shapes: B batch, n-1 = ``context_size``, m = ``embedding_dim``, h = ``units``, V the
    vocabulary. With the paper's symbols:

        x = (C(w_{t-1}), C(w_{t-2}), ..., C(w_{t-n+1}))     (B, (n-1) m): concatenated embeddings
        y = b + W x + U tanh(d + H x)                        (B, V) logits (W x only with
                                                             direct_connections)
        P(w_t | w_{t-n+1} .. w_{t-1}) = softmax(y)

    C is ``embedding``, (H, d) ``hidden``, (U, b) ``logits`` and W ``direct`` (no bias). The
    context is ordered oldest first (the model is the same up to a permutation of H's rows). At the
    start of a text the context holds ``[START]`` and zeros (``PAD_ID``) in front, which get their
    own learned embeddings.

    Inputs: contexts (B, n-1) int ids; outputs: (B, V) probabilities of the next id. ``data.window_batches``
    makes batches of (context, next id) pairs from text; the loss is sparse categorical cross-entropy (its
    exponential is the perplexity). Generating: ``recipes.greedy_search(model.decoder, contexts)``
    with contexts from ``window_contexts``; the export's ``serving_default`` takes prompts (a 1-D
    string batch) and returns their greedy continuations (``{"outputs": (B,) strings}``), at most
    ``max_output_length`` tokens, stopping at ``[END]``. The model reads only the last n-1 tokens of
    a prompt (that is the model), so prompts of any length are accepted and nothing else is cut.

    Args:
        text_vocabulary_size: V, when no ``text_tokenizer`` is given.
        context_size: n - 1, the number of previous words the model sees.
        embedding_dim: m, the size of a word feature vector C(w).
        units: h, the hidden units.
        direct_connections: add the paper's direct connections W x from the embeddings to the
            output (the paper found they speed up training).
        dropout: dropout rate on the concatenated embeddings and on the hidden layer (training only).
        max_output_length: the longest continuation decoding writes, [END] included.
        label_smoothing: epsilon of the label-smoothed token loss (``training.losses.LabelSmoothingCrossentropy``:
            (1 - epsilon) onehot(y) + epsilon / V as the target, padding left out); 0: plain cross-entropy.
        learning_rate: Adam's learning rate.
        text_tokenizer: a ``seqrecipes.data`` tokenizer (``WordTokenizer``, or ``CharTokenizer``
            for a character model); needed for ``data.window_batches`` and export.
        name: the model name.

    Returns:
        A compiled ``RecipeModel`` (Adam, sparse categorical cross-entropy, perplexity, accuracy).

    Example:
    >>> import tensorflow as tf
    >>> from seqrecipes import data, recipes
    >>> text = ["the cat sat on the mat", "the dog sat on the log"]
    >>> tokenizer = data.WordTokenizer().adapt(text)
    >>> model = recipes.window_language_model(context_size=2, embedding_dim=8, units=16, text_tokenizer=tokenizer)
    >>> batches = tf.data.Dataset.from_tensor_slices(text).apply(data.window_batches(tokenizer, 2, batch_size=8))
    >>> history = model.fit(batches, epochs=2, verbose=0)
    >>> contexts = recipes.window_contexts(tokenizer, ["the cat"], 2)
    >>> ids, lengths = recipes.greedy_search(model.decoder, contexts, max_length=4)
    >>> ids.shape.as_list()
    [1, 4]

    References:
        Bengio, Ducharme, Vincent, Jauvin (2003), A neural probabilistic language model, JMLR 3,
        https://www.jmlr.org/papers/v3/bengio03a.html
    """
    check_lengths(locals(), "context_size", "max_output_length")
    check_positive_ints(locals(), "embedding_dim", "units")
    check_positive_number("learning_rate", learning_rate)
    check_bool("direct_connections", direct_connections)
    check_rate("dropout", dropout)
    text_vocabulary_size = vocabulary_size_of(text_tokenizer, text_vocabulary_size, "text")

    context = keras.Input((context_size,), dtype="int32", name="context")
    embedded = keras.layers.Embedding(text_vocabulary_size, embedding_dim, name="embedding")(context)  # (B, n-1, m)
    x = keras.layers.Flatten(name="concatenate")(embedded)  # (B, (n-1) m)
    if dropout:
        x = keras.layers.Dropout(dropout, name="embedding_dropout")(x)
    hidden = keras.layers.Dense(units, activation="tanh", name="hidden")(x)  # tanh(d + H x), (B, h)
    if dropout:
        hidden = keras.layers.Dropout(dropout, name="hidden_dropout")(hidden)
    logits = keras.layers.Dense(text_vocabulary_size, name="logits")(hidden)  # b + U tanh(...), (B, V)
    if direct_connections:
        direct = keras.layers.Dense(text_vocabulary_size, use_bias=False, name="direct")(x)  # W x, (B, V)
        logits = keras.layers.Add(name="logits_with_direct")([logits, direct])
    probabilities = keras.layers.Activation("softmax", dtype="float32", name="probabilities")(logits)

    model = RecipeModel(
        context, probabilities, recipe="window_language_model", arguments=saved_arguments(window_language_model, locals()),
        tokenizers={"text": text_tokenizer}, name=name,
    )  # fmt: skip
    metrics = [Perplexity(), keras.metrics.SparseCategoricalAccuracy(name="accuracy")]  # one next word per context
    model.compile(optimizer=keras.optimizers.Adam(learning_rate), loss=token_loss(label_smoothing, from_logits=False, ignore_class=None), metrics=metrics)
    return model
