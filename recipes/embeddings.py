"""Word vectors in and out of any recipe's embedding: ``word_vectors`` reads them, ``set_embedding`` writes them.

Every token recipe keeps its input token table in a layer named ``embedding`` (word2vec's word vectors, the
window language model's C of Bengio et al., a classifier's or tagger's inputs), so vectors trained by one
recipe start another: ``set_embedding(classifier, word_vectors(word2vec_model), trainable=False)``.
"""

import keras
import numpy as np

from seqrecipes.data import RESERVED_TOKENS, WordVectors


def _embedding_layer(model, layer, what):
    try:
        found = model.get_layer(layer)
    except ValueError:
        found = None
    if not isinstance(found, keras.layers.Embedding):
        raise ValueError(
            f"{what} needs a keras Embedding layer named {layer!r}; model {model.name!r} (recipe "
            f"{getattr(model, 'recipe', None)!r}) has none. Received: layer={layer!r}"
        )
    return found


def word_vectors(model, layer="embedding", role="text"):
    """The rows of a recipe's token table as ``data.WordVectors``, one per ordinary token (reserved ids left out).

    Args:
        model: a ``RecipeModel`` with a tokenizer of ``role`` and an Embedding layer ``layer``.
        layer: the Embedding layer's name.
        role: the tokenizer whose tokens name the rows.

    Returns:
        ``data.WordVectors`` of the vocabulary's tokens in id order (most frequent first for an adapted
        tokenizer).

    Example:
    >>> from seqrecipes import data, recipes
    >>> tokenizer = data.WordTokenizer(vocabulary=["cat", "dog", "mat"])
    >>> model = recipes.window_language_model(context_size=2, embedding_dim=4, units=8, text_tokenizer=tokenizer)
    >>> vectors = recipes.word_vectors(model)
    >>> vectors.tokens, vectors.dimension
    (['cat', 'dog', 'mat'], 4)
    """
    table = _embedding_layer(model, layer, "word_vectors").get_weights()[0]
    tokens = model.tokenizer(role).get_vocabulary()
    first = len(RESERVED_TOKENS)
    rows = min(len(tokens), table.shape[0])
    return WordVectors(tokens[first:rows], table[first:rows])


def set_embedding(model, vectors, layer="embedding", role="text", trainable=True):
    """Copies word vectors into a recipe's token table, token by token; returns how many rows it set.

    Tokens of the model's vocabulary that ``vectors`` lacks keep their rows (their initialization).
    With ``trainable=False`` the table is frozen: the next ``fit`` leaves it as it is (the model's
    training function is rebuilt, its optimizer kept). Unfreezing a table after training has begun
    starts a fresh optimizer of the same configuration (its moments and step count start again).

    Args:
        model: a ``RecipeModel`` with a tokenizer of ``role`` and an Embedding layer ``layer``.
        vectors: ``data.WordVectors`` (from ``word_vectors``, or ``data.WordVectors.load_word2vec_format``).
        layer: the Embedding layer's name.
        role: the tokenizer whose tokens name the rows.
        trainable: False to freeze the table.

    Returns:
        The number of rows copied.

    Raises:
        ValueError: the model has no such Embedding, the vector size differs from the table's (the
            error names both), or no token of the model's vocabulary has a vector.
        TypeError: ``vectors`` is not ``data.WordVectors``.

    Example:
    >>> from seqrecipes import data, recipes
    >>> tokenizer = data.WordTokenizer(vocabulary=["good", "bad", "film"])
    >>> vectors = data.WordVectors(["good", "bad", "plot"], [[1.0, 0.0], [-1.0, 0.0], [0.0, 1.0]])
    >>> model = recipes.text_classifier(max_length=4, units=4, embedding_dim=2, text_tokenizer=tokenizer)
    >>> recipes.set_embedding(model, vectors, trainable=False)   # "good" and "bad"; "film" keeps its row
    2
    >>> model.get_layer("embedding").get_weights()[0][tokenizer.token_to_id("bad")].tolist()
    [-1.0, 0.0]
    """
    if not isinstance(vectors, WordVectors):
        raise TypeError(f"`vectors` must be data.WordVectors (recipes.word_vectors(model) gives them). Received: vectors={type(vectors).__name__}")
    embedding = _embedding_layer(model, layer, "set_embedding")
    table = embedding.get_weights()[0]
    if table.shape[1] != vectors.dimension:
        raise ValueError(
            f"The vectors have d={vectors.dimension} but the {layer!r} table of model {model.name!r} (recipe "
            f"{getattr(model, 'recipe', None)!r}) has {table.shape[1]} columns: build the model with "
            f"embedding_dim={vectors.dimension}. Received: vectors of dimension {vectors.dimension}"
        )
    tokens = model.tokenizer(role).get_vocabulary()
    copied = [(row, vectors.index[token]) for row, token in enumerate(tokens[: table.shape[0]]) if token in vectors.index]
    if not copied:
        raise ValueError(
            f"No token of model {model.name!r}'s {role!r} vocabulary ({len(tokens)} tokens) has a vector. "
            f"Received: vectors of {len(vectors)} words such as {vectors.tokens[:3]}"
        )
    rows, sources = np.array(copied).T
    table[rows] = vectors.vectors[sources]
    embedding.set_weights([table])
    if embedding.trainable != trainable:
        embedding.trainable = trainable
        optimizer = getattr(model, "optimizer", None)
        if trainable and optimizer is not None and optimizer.built:
            # A built optimizer knows only the weights it was built for: a fresh one of the same config.
            model.optimizer = type(optimizer).from_config(optimizer.get_config())
        model.train_function = None  # the next fit traces the step again with the new trainable weights
    return len(copied)
