"""``word2vec``: word vectors by skip-gram or CBOW with negative sampling (Mikolov et al. 2013).

Seed 000: "mask some words and fill the gaps from their neighbours through a linear projection"; seed 004:
word2vec is a softmax regression over |V| classes, here made cheap by negative sampling. ``data.word2vec_batches``
makes the examples in ``tf.data``; ``train_word2vec`` does the whole run from text as gensim's ``Word2Vec``
does; ``recipes.word_vectors`` reads the trained vectors out.
"""

import keras
import tensorflow as tf

from seqrecipes import data, layers
from seqrecipes._checks import check_choice, check_positive_int, check_positive_number
from seqrecipes.recipes._components import check_lengths, check_positive_ints, saved_arguments, vocabulary_size_of
from seqrecipes.recipes.recipe_model import RecipeModel
from seqrecipes.recipes._precision import with_precision


def word2vec_serving(model):
    """The serving function of ``word2vec``: words (B,) strings -> {"vectors": (B, d) float32, "known": (B,) bool}.

    Each input string is one token of the vocabulary, looked up as it is (lower-cased first when the
    tokenizer lower-cases); a string that is not a token gets a zero vector and ``known`` False.
    """
    tokenizer = model.tokenizer("text")
    table = model.get_layer("embedding").embeddings

    def serve(words):
        if tokenizer.lowercase:
            words = tf.strings.lower(words, encoding="utf-8")
        ids = tokenizer.tokens_to_ids(data.replace_invalid_utf8(words))  # (B,) int64
        known = ids >= len(data.RESERVED_TOKENS)
        vectors = tf.gather(tf.cast(table, tf.float32), ids)  # (B, d)
        return {"vectors": tf.where(known[:, None], vectors, tf.zeros_like(vectors)), "known": known}

    return serve


@with_precision
def word2vec(
    *,
    text_vocabulary_size: int = 0,
    embedding_dim: int = 100,
    architecture: str = "skip_gram",
    window: int = 5,
    negative_samples: int = 5,
    learning_rate: float = 0.025,
    min_learning_rate: float = 0.0001,
    decay_steps: int = 0,
    steps_per_execution: int = 1,
    text_tokenizer=None,
    name: str = "word2vec",
) -> RecipeModel:
    """word2vec: skip-gram or CBOW with negative sampling; the input embedding is the word vectors.

    Shapes: B batch, C input words per example (skip-gram 1; CBOW 2 ``window``, padded with 0), k
    ``negative_samples``, d ``embedding_dim``, V the vocabulary. With v_w the input vector of word w
    (``embedding``, the word vectors) and v'_w its output vector (``context_embedding``):

        h       = mean of v_w over the input words (skip-gram: the context word; CBOW: the window)   (B, d)
        s_c     = v'_c . h  for the candidates c = (w_O, n_1 .. n_k)                                (B, 1 + k)
        loss    = -log sigma(s_{w_O}) - sum_i log sigma(-s_{n_i}),   n_i ~ P_n(w) = U(w)^0.75 / Z

    summed over the batch: plain SGD then moves each vector by ``learning_rate`` times its own pairs'
    gradient, as the C tool and gensim do with alpha (the optimizer's rate is alpha (1 + k), because
    Keras averages the loss over the 1 + k candidates). alpha decays linearly to ``min_learning_rate``
    over ``decay_steps`` (0: constant). v_w starts uniform in [-0.5/d, 0.5/d], v'_w at 0, as in the C tool.

    Inputs: ``{"words": (B, C) int, "candidates": (B, 1 + k) int}``; targets (B, 1 + k): 1 for the
    positive, 0 for the noise words (``data.word2vec_batches`` makes both). Outputs: the logits s (B, 1 + k).

    Export (``serving="embed"``): ``serving_default`` takes words, a 1-D string batch, and returns
    ``vectors`` (B, d) float32 and ``known`` (B,) bool; a word that is not a token gets zeros.

    Args:
        text_vocabulary_size: V, when no ``text_tokenizer`` is given.
        embedding_dim: d.
        architecture: ``"skip_gram"`` or ``"cbow"`` (which input ``words`` shape the model takes).
        window: the largest window of the data (CBOW takes 2 ``window`` input words).
        negative_samples: k, the noise words per example (the width of ``candidates`` is 1 + k).
        learning_rate: alpha, the step per pair (gensim's default 0.025).
        min_learning_rate: where alpha ends after ``decay_steps``.
        decay_steps: the steps of the linear decay (``train_word2vec`` sets it to the run's length); 0
            keeps alpha constant.
        steps_per_execution: batches run per call of the compiled training function (fewer Python
            round trips on small batches).
        text_tokenizer: the tokenizer of the text; needed for export and ``recipes.word_vectors``.
        name: the model name.

    Returns:
        A compiled ``RecipeModel`` (SGD, binary cross-entropy of the logits summed, XLA).

    Example:
    >>> import tensorflow as tf
    >>> from seqrecipes import data, recipes
    >>> texts = ["the cat sat on the mat", "the dog sat on the rug"] * 20
    >>> tokenizer = data.WordTokenizer().adapt(texts)
    >>> model = recipes.word2vec(embedding_dim=8, window=2, negative_samples=2, text_tokenizer=tokenizer)
    >>> sentences = tf.data.Dataset.from_tensor_slices(texts).apply(data.tokenize(tokenizer))
    >>> counts = data.word_counts(sentences, tokenizer.vocabulary_size())
    >>> batches = sentences.apply(data.word2vec_batches(counts, window=2, negative_samples=2, subsample=0, batch_size=64))
    >>> history = model.fit(batches, epochs=2, verbose=0)
    >>> recipes.word_vectors(model).dimension
    8

    References:
        - Mikolov, Chen, Corrado, Dean (2013), Efficient estimation of word representations in vector
          space, https://arxiv.org/abs/1301.3781
        - Mikolov, Sutskever, Chen, Corrado, Dean (2013), Distributed representations of words and
          phrases and their compositionality, https://arxiv.org/abs/1310.4546
        - gensim ``gensim/models/word2vec.py`` and ``word2vec_inner.pyx`` (the C tool's updates).
    """
    check_choice("architecture", architecture, data.ARCHITECTURES)
    check_lengths(locals(), "window")
    check_positive_ints(locals(), "embedding_dim", "negative_samples", "steps_per_execution")
    check_positive_number("learning_rate", learning_rate)
    check_positive_number("min_learning_rate", min_learning_rate)
    if isinstance(decay_steps, bool) or not isinstance(decay_steps, int) or decay_steps < 0:
        raise ValueError(f"`decay_steps` must be an integer >= 0 (0: a constant learning rate). Received: decay_steps={decay_steps!r}")
    text_vocabulary_size = vocabulary_size_of(text_tokenizer, text_vocabulary_size, "text")
    if text_vocabulary_size - len(data.RESERVED_TOKENS) <= negative_samples:
        raise ValueError(
            f"The vocabulary must hold more words than `negative_samples` ({negative_samples}). "
            f"Received: text_vocabulary_size={text_vocabulary_size} ({text_vocabulary_size - 4} words)"
        )

    width = 1 if architecture == "skip_gram" else 2 * window
    words = keras.Input((width,), dtype="int32", name="words")
    candidates = keras.Input((negative_samples + 1,), dtype="int32", name="candidates")
    start = keras.initializers.RandomUniform(-0.5 / embedding_dim, 0.5 / embedding_dim)
    inputs = keras.layers.Embedding(text_vocabulary_size, embedding_dim, embeddings_initializer=start, mask_zero=True, name="embedding")(words)
    h = layers.MeanPooling(name="mean")(inputs)  # (B, d), padding masked
    outputs = keras.layers.Embedding(text_vocabulary_size, embedding_dim, embeddings_initializer="zeros", name="context_embedding")(candidates)
    logits = keras.layers.Dot(axes=(1, 2), name="scores")([h, outputs])  # (B, 1 + k)

    model = RecipeModel(
        {"words": words, "candidates": candidates}, logits, recipe="word2vec", arguments=saved_arguments(word2vec, locals()),
        tokenizers={"text": text_tokenizer}, name=name,
    )  # fmt: skip
    scale = negative_samples + 1  # Keras means the loss over the candidates; alpha is per pair
    rate = learning_rate * scale
    if decay_steps:
        rate = keras.optimizers.schedules.PolynomialDecay(rate, decay_steps, end_learning_rate=min_learning_rate * scale)
    model.compile(
        optimizer=keras.optimizers.SGD(rate),
        loss=keras.losses.BinaryCrossentropy(from_logits=True, reduction="sum"),
        steps_per_execution=steps_per_execution,
        jit_compile=True,  # XLA: 2-3x the pairs per second of the plain graph on a CPU
    )
    return model


def train_word2vec(
    texts, tokenizer, *, architecture="skip_gram", embedding_dim=100, window=5, negative_samples=5, subsample=1e-3,
    epochs=5, learning_rate=0.025, min_learning_rate=0.0001, batch_size=1024, steps_per_execution=16, seed=None, verbose="auto",
):  # fmt: skip
    """Trains word vectors on text in one call, as gensim's ``Word2Vec(sentences, ...)`` does.

    Counts the words, builds ``word2vec`` with alpha decaying linearly over the whole run (its length
    counted by one pass over the examples), then fits ``epochs`` passes of ``data.word2vec_batches``.

    Args:
        texts: a ``tf.data.Dataset`` of strings (one sentence or line per element), or a list of strings.
        tokenizer: a ``seqrecipes.data`` tokenizer with its vocabulary (``adapt`` it on the text first).
        architecture, embedding_dim, window, negative_samples, learning_rate, min_learning_rate,
            steps_per_execution: as ``word2vec``.
        subsample, batch_size, seed: as ``data.word2vec_batches``.
        epochs: passes over the text.
        verbose: ``model.fit``'s progress bar setting.

    Returns:
        The trained ``RecipeModel``; ``recipes.word_vectors(model)`` gives its vectors.

    Raises:
        ValueError: the text holds no word of the vocabulary, or a bad argument.

    Example:
    >>> from seqrecipes import data, recipes
    >>> lines = ["the cat sat on the mat", "the dog sat on the rug"] * 20
    >>> tokenizer = data.WordTokenizer().adapt(lines)
    >>> model = recipes.train_word2vec(lines, tokenizer, embedding_dim=8, window=2, epochs=2, subsample=0, verbose=0)
    >>> vectors = recipes.word_vectors(model)
    >>> len(vectors.most_similar("cat", topn=3))
    3
    """
    check_positive_int("epochs", epochs)
    if not isinstance(texts, tf.data.Dataset):
        texts = tf.data.Dataset.from_tensor_slices(tf.constant(list(texts), tf.string) if len(texts) else tf.zeros([0], tf.string))
    sentences = texts.apply(data.tokenize(tokenizer)).cache()
    counts = data.word_counts(sentences, tokenizer.vocabulary_size())
    examples = sentences.apply(
        data.word2vec_batches(
            counts, architecture=architecture, window=window, negative_samples=negative_samples, subsample=subsample,
            batch_size=batch_size, seed=seed,
        )
    )  # fmt: skip
    steps = sum(1 for _ in examples)  # one epoch: a pass over the pipeline without training
    model = word2vec(
        embedding_dim=embedding_dim, architecture=architecture, window=window, negative_samples=negative_samples,
        learning_rate=learning_rate, min_learning_rate=min_learning_rate, decay_steps=max(1, steps * epochs),
        steps_per_execution=steps_per_execution, text_tokenizer=tokenizer,
    )  # fmt: skip
    model.fit(examples, epochs=epochs, verbose=verbose)
    return model
