"""``text_classifier``: a text (or any sequence of feature vectors) in, a class out.

An RNN, a bidirectional RNN or a Transformer encoder reads the sequence; a pooling (last state, mean,
max or attention, seed 004) makes one sentence vector of its hidden states; a softmax classifies it.
"""

from typing import Optional, Sequence

import keras
import tensorflow as tf

from seqrecipes import layers
from seqrecipes._checks import check_choice, check_positive_int, check_rate
from seqrecipes.data import BAG_MODES, PAD_ID, RESERVED_TOKENS, BagOfWords
from seqrecipes.recipes.backbones import backbone_features, check_downstream, fine_tuning_optimizer
from seqrecipes.recipes._components import CELLS, check_lengths, check_positive_ints, recurrent_optimizer, recurrent_stack, saved_arguments, vocabulary_size_of
from seqrecipes.recipes.recipe_model import RecipeModel
from seqrecipes.recipes._precision import with_precision

ENCODERS = ("rnn", "birnn", "transformer", "bag_of_words", "pretrained")
POOLINGS = {
    "last": layers.LastStatePooling,
    "mean": layers.MeanPooling,
    "max": layers.MaxPooling,
    "attention": layers.AttentionPooling,
}


def token_ids(tokenizer, strings, max_length):
    """Strings -> ids (B, max_length) int32: the first ``max_length`` tokens, padded with 0.

    Core TensorFlow ops only (it runs inside the export).

    Example:
    >>> from seqrecipes import data, recipes
    >>> tokenizer = data.WordTokenizer(vocabulary=["good", "fun"])
    >>> recipes.token_ids(tokenizer, ["good fun fun", "bad"], max_length=2).numpy().tolist()
    [[4, 5], [1, 0]]
    """
    ids = tokenizer.tokenize_ragged(strings)  # (B, tokens)
    return ids[:, :max_length].to_tensor(default_value=PAD_ID, shape=[None, max_length])


def classifier_serving(model):
    """The serving function of ``text_classifier``: strings (B,) -> label (B,), label_id (B,), scores (B, C)."""
    if model.arguments["input_dim"] is not None:
        raise ValueError(
            "A text_classifier built with `input_dim` reads float feature sequences, which the string "
            "'classify' signature cannot carry; export a token model or serve with model.predict. "
            f"Received: input_dim={model.arguments['input_dim']}"
        )
    tokenizer = model.tokenizer("text")
    max_length = model.arguments["max_length"]
    label_names = _label_names(model)

    def serve(strings):
        scores = tf.cast(model(token_ids(tokenizer, strings, max_length), training=False), tf.float32)  # (B, C)
        label_id = tf.argmax(scores, axis=-1, output_type=tf.int32)  # (B,)
        if label_names is None:
            label = tf.strings.as_string(label_id)
        else:
            label = tf.gather(tf.constant(label_names), label_id)
        return {"label": label, "label_id": label_id, "scores": scores}

    return serve


def _label_names(model):
    if "labels" in model.tokenizers:
        return model.tokenizers["labels"].get_vocabulary()[len(RESERVED_TOKENS) :]
    return model.arguments["label_names"]


@with_precision
def text_classifier(
    *,
    text_vocabulary_size: int = 0,
    num_classes: Optional[int] = None,
    input_dim: Optional[int] = None,
    max_length: int = 128,
    encoder: str = "birnn",
    pooling: str = "max",
    cell: str = "lstm",
    units: int = 64,
    num_layers: int = 1,
    embedding_dim: int = 64,
    num_heads: int = 2,
    intermediate_dim: int = 128,
    attention_units: int = 32,
    dropout: float = 0.2,
    ngrams: Optional[int] = None,
    ngram_buckets: int = 2**16,
    bag_mode: str = "tf_idf",
    label_names: Optional[Sequence[str]] = None,
    learning_rate: float = 1e-3,
    clipnorm: Optional[float] = 1.0,
    backbone: Optional[dict] = None,
    backbone_trainable: bool = True,
    backbone_learning_rate: Optional[float] = None,
    text_tokenizer=None,
    labels_tokenizer=None,
    name: str = "text_classifier",
) -> RecipeModel:
    """Sequence classification: an RNN, BiRNN or Transformer encoder, a pooling, a softmax.

    Shapes: B batch, T <= ``max_length`` time steps, E ``embedding_dim``, H ``units``, C classes.

        x_1..x_T  = Embedding(tokens)        (B, T, E), padding (id 0) masked
                    + NGramEmbedding(tokens)  plus the hashed 2..``ngrams``-grams ending at each
                                             step (fastText), when ``ngrams`` > 1
                    (or the float features (B, T, input_dim) as they are)
        h_1..h_T  = encoder(x)               "rnn": ``num_layers`` stacked ``cell`` RNNs, (B, T, H)
                                             "birnn": the same, bidirectional, [h_fwd ; h_bwd] (B, T, 2H)
                                             "transformer": x + P (learned positions), then
                                             ``num_layers`` TransformerEncoder blocks, (B, T, E)
                                             "bag_of_words": no embedding, no order: the
                                             ``data.BagOfWords`` vector of the ids (B, V) is s
                                             (``bag_mode``; TF-IDF L2-normalised), so the model
                                             is a logistic regression on the bag
                                             "pretrained": a pretrained GPT, BERT or ELMo body
                                             (``backbone``; ``recipes.fine_tune`` builds it), (B, T, D),
                                             plus NGramEmbedding(tokens) (B, T, D) when ``ngrams`` > 1
        s         = pooling(h)               "last": LastStatePooling, the state at the last real step
                                             (for "birnn" the final states of both directions,
                                             [h_fwd,T ; h_bwd,1], as seed 004 draws it)
                                             "mean": MeanPooling, "max": MaxPooling,
                                             "attention": AttentionPooling (Yang et al. 2016)
        p(y | x)  = softmax(W s + b)         (B, C)

    Padding never changes a prediction: every encoder and pooling masks padded steps.

    Inputs: token ids (B, ``max_length``) int, padded with 0 (tokenize, then
    ``data.truncate_or_pad(max_length)``), or with ``input_dim`` float features (B, T, input_dim)
    (e.g. ``data.digit_rows``: an 8x8 digit read row by row). Labels: class ids 0 .. C-1. Outputs:
    (B, C) probabilities.

    Export (``serving="classify"``): ``serving_default`` takes a 1-D string batch ``inputs``,
    tokenizes it in the graph and keeps the first ``max_length`` tokens of each text (the rest is
    dropped); it returns ``label`` (B,) strings (the label names when ``label_names`` or
    ``labels_tokenizer`` was given, else the class id as a string), ``label_id`` (B,) int32 and
    ``scores`` (B, C) float32 probabilities. A model built with ``input_dim`` reads floats, not
    strings, and has no string export (``recipes.export`` raises a ValueError).

    Args:
        text_vocabulary_size: the text vocabulary, when no ``text_tokenizer`` is given (not used with
            ``input_dim``).
        num_classes: C; defaults to the number of label names, or 2.
        input_dim: read float feature sequences of this size per step instead of token ids.
        max_length: the longest input: the token models' input length, the Transformer's position
            limit.
        encoder: ``"rnn"``, ``"birnn"``, ``"transformer"``, ``"bag_of_words"`` or ``"pretrained"``.
        pooling: ``"last"``, ``"mean"``, ``"max"`` or ``"attention"`` (not used by "bag_of_words").
        cell: the recurrent cell of the RNN encoders: "simple_rnn", "gru", "lstm", "peephole_lstm",
            "layer_norm_lstm" or "cifg_lstm".
        units: H, the size of each recurrent layer (each direction for ``"birnn"``).
        num_layers: stacked recurrent layers or Transformer blocks.
        embedding_dim: E, the token embedding size and the Transformer width (features are
            projected to it by a Dense layer for a Transformer with ``input_dim``).
        num_heads: attention heads of the Transformer (must divide ``embedding_dim``).
        intermediate_dim: the Transformer's feed-forward size.
        attention_units: the score network size of ``pooling="attention"``.
        dropout: dropout rate on the encoder's input (the token plus n-gram embeddings, not float
            features), between layers, before the classifier and inside the Transformer, training
            only.
        ngrams: N, the longest n-gram of tokens whose hashed embedding (``layers.NGramEmbedding``,
            ``ngram_buckets`` rows) is added to each step's token vector; 1: tokens only. Default
            (None): 2 for the "rnn", "birnn" and "transformer" encoders (the defaults' reason: on
            chatbot-ko syllables the bigrams raise a BiLSTM's macro-F1 from 0.816 to 0.849, as a TF-IDF
            model gains from syllable bigrams, see ``experiments/chatbot_classification.py``), 1 for
            "bag_of_words", "pretrained" and ``input_dim``.
        ngram_buckets: K, the rows of the n-gram table.
        bag_mode: the bag of ``encoder="bag_of_words"``: ``"count"``, ``"binary"`` or ``"tf_idf"``
            (then call ``model.get_layer("bag_of_words").adapt(token_id_batches)`` before ``fit``
            to count the document frequencies; until then idf = 1).
        label_names: the C class names, in class-id order, for the export's ``label``.
        learning_rate: Adam's learning rate.
        clipnorm: gradient clipping by global norm (None: off).
        backbone, backbone_trainable, backbone_learning_rate: with ``encoder="pretrained"``, the
            pretrained body {"recipe", "arguments"}, whether its weights learn, and their learning rate
            (None: ``learning_rate``); see ``recipes.fine_tune``, which sets them and moves the weights in.
        text_tokenizer: a ``seqrecipes.data`` tokenizer of the texts; needed for export.
        labels_tokenizer: instead of ``label_names``, a tokenizer whose vocabulary (after the four
            reserved tokens) lists the class names: class k is its token id k + 4.
        name: the model name.

    Returns:
        A compiled ``RecipeModel`` (Adam with clipping, sparse categorical cross-entropy, accuracy).
        The defaults (a BiLSTM over token and bigram embeddings, max pooling, dropout 0.2) are the
        setting that matched a TF-IDF character n-gram logistic regression on real Korean questions.

    Example:
    >>> import tensorflow as tf
    >>> from seqrecipes import data, recipes
    >>> texts, labels = ["good fun", "bad film", "fun fun", "bad bad"], [1, 0, 1, 0]
    >>> tokenizer = data.WordTokenizer().adapt(texts)
    >>> model = recipes.text_classifier(max_length=8, units=8, embedding_dim=8, pooling="mean",
    ...                                 label_names=["negative", "positive"], text_tokenizer=tokenizer)
    >>> pairs = tf.data.Dataset.from_tensor_slices((texts, labels))
    >>> batches = pairs.apply(data.tokenize(tokenizer)).apply(data.truncate_or_pad(8)).batch(4)
    >>> history = model.fit(batches, epochs=2, verbose=0)
    >>> model.predict(next(iter(batches))[0], verbose=0).shape
    (4, 2)

    References:
        - Lecture notes of seed 004 (sentence vectors: last state, mean and max of the hidden states).
        - Yang et al. (2016), Hierarchical attention networks for document classification,
          https://aclanthology.org/N16-1174
        - Vaswani et al. (2017), Attention is all you need, https://arxiv.org/abs/1706.03762
    """
    check_choice("encoder", encoder, ENCODERS)
    check_choice("pooling", pooling, POOLINGS)
    check_choice("bag_mode", bag_mode, BAG_MODES)
    check_choice("cell", cell, CELLS)
    check_lengths(locals(), "max_length")
    check_positive_ints(
        locals(), "units", "num_layers", "embedding_dim", "num_heads", "intermediate_dim", "attention_units"
    )
    check_rate("dropout", dropout)
    ngrams = _check_ngrams(ngrams, ngram_buckets, encoder, input_dim)
    if encoder == "transformer" and embedding_dim % num_heads:
        raise ValueError(
            "`embedding_dim` (the Transformer width) must be a multiple of `num_heads`. "
            f"Received: embedding_dim={embedding_dim}, num_heads={num_heads}"
        )
    if input_dim is not None and encoder in ("bag_of_words", "pretrained"):
        raise ValueError(f"`encoder={encoder!r}` reads token ids: it cannot read float features. Received: input_dim={input_dim}")
    if input_dim is not None:
        check_positive_int("input_dim", input_dim)  # (the text vocabulary is not used: the inputs are features)
    else:
        text_vocabulary_size = vocabulary_size_of(text_tokenizer, text_vocabulary_size, "text")
    backbone = check_downstream(encoder, backbone, backbone_trainable, backbone_learning_rate, text_vocabulary_size, max_length)
    names = _check_label_names(label_names, labels_tokenizer)
    if num_classes is None:
        num_classes = 2 if names is None else len(names)
    if check_positive_int("num_classes", num_classes) < 2:
        raise ValueError(f"`num_classes` must be at least 2 (a softmax over one class is always 1). Received: num_classes={num_classes}")
    if names is not None and len(names) != num_classes:
        raise ValueError(f"Give one label name per class ({num_classes}). Received: {len(names)} label names {names!r:.200}")
    recurrent_optimizer(learning_rate, clipnorm=clipnorm)  # its checks, before anything is built
    mask = {}  # the pretrained body's padding mask for the pooling, {"mask": (B, T)}

    # Inputs and embeddings: x (B, T, E), with the padding mask for token ids.
    if encoder == "bag_of_words":
        inputs = keras.Input((max_length,), dtype="int32", name="token_ids")
        x = BagOfWords(text_vocabulary_size, output_mode=bag_mode, normalize=bag_mode == "tf_idf", name="bag_of_words")(inputs)
    elif encoder == "pretrained":
        inputs = keras.Input((max_length,), dtype="int32", name="token_ids")
        x, mask["mask"] = backbone_features(inputs, backbone, backbone_trainable)  # (B, T, D), (B, T)
    elif input_dim is None:
        inputs = keras.Input((max_length,), dtype="int32", name="token_ids")
        x = keras.layers.Embedding(text_vocabulary_size, embedding_dim, mask_zero=True, name="embedding")(inputs)
    else:
        inputs = keras.Input((None, input_dim), dtype="float32", name="features")
        x = inputs
        if encoder == "transformer":
            x = keras.layers.Dense(embedding_dim, name="feature_projection")(x)  # (B, T, E)
    if ngrams > 1:
        n_grams = layers.NGramEmbedding(x.shape[-1], ngrams, ngram_buckets, name="ngram_embedding")(inputs)  # (B, T, E)
        x = keras.layers.Add(name="add_ngrams")([x, n_grams])
    if encoder == "transformer":
        x = _transformer_encoder(x, max_length, num_layers, num_heads, intermediate_dim, dropout)  # (B, T, E)
    elif encoder == "rnn" or encoder == "birnn":
        # For "birnn" with "last" pooling, the last layer gives the final states [h_fwd,T ; h_bwd,1] (B, 2H).
        sequences = not (encoder == "birnn" and pooling == "last")
        if dropout and input_dim is None:
            x = keras.layers.Dropout(dropout, name="embedding_dropout")(x)
        x = recurrent_stack(x, cell, units, num_layers, dropout, encoder == "birnn", sequences=sequences, dropout_last=False)
    # Pooling: s (B, H'); for "birnn" with "last" the last Bidirectional layer gave [h_fwd,T ; h_bwd,1].
    if encoder == "bag_of_words":
        pass  # the bag is already one vector per text
    elif pooling == "attention":
        x = layers.AttentionPooling(attention_units, name="pooling")(x, **mask)
    elif not (encoder == "birnn" and pooling == "last"):
        x = POOLINGS[pooling](name="pooling")(x, **mask)
    if dropout:
        x = keras.layers.Dropout(dropout, name="pooled_dropout")(x)
    logits = keras.layers.Dense(num_classes, name="logits")(x)  # (B, C)
    probabilities = keras.layers.Activation("softmax", dtype="float32", name="probabilities")(logits)

    model = RecipeModel(
        inputs, probabilities, recipe="text_classifier", arguments=saved_arguments(text_classifier, locals()),
        tokenizers={"text": text_tokenizer, "labels": labels_tokenizer}, name=name,
    )  # fmt: skip
    model.compile(
        optimizer=fine_tuning_optimizer(model, learning_rate, backbone_learning_rate, clipnorm),
        loss="sparse_categorical_crossentropy",
        metrics=[keras.metrics.SparseCategoricalAccuracy(name="accuracy")],
    )
    return model


def _transformer_encoder(x, max_length, num_layers, num_heads, intermediate_dim, dropout):
    """x + P (learned positions), then ``num_layers`` TransformerEncoder blocks: (B, T, E)."""
    positions = layers.PositionEmbedding(max_length, name="position_embedding")(x)  # (B, T, E)
    x = keras.layers.Add(name="add_positions")([x, positions])
    if dropout:
        x = keras.layers.Dropout(dropout, name="embedding_dropout")(x)
    for k in range(num_layers):
        x = layers.TransformerEncoder(intermediate_dim, num_heads, dropout=dropout, name=f"transformer_{k}")(x)
    return x


def _check_ngrams(ngrams, buckets, encoder, input_dim):
    """The checked ``ngrams`` (None: 2 for the embedding encoders, else 1) and ``ngram_buckets``."""
    if check_positive_int("ngram_buckets", buckets) > 2**31:
        raise ValueError(f"`ngram_buckets` must be at most 2**31. Received: ngram_buckets={buckets}")
    if ngrams is None:
        return 2 if input_dim is None and encoder in ("rnn", "birnn", "transformer") else 1
    ngrams = check_positive_int("ngrams", ngrams)
    if ngrams > 1 and input_dim is not None:
        raise ValueError(f"`ngrams` reads token ids: it cannot read float features. Received: ngrams={ngrams}, input_dim={input_dim}")
    if ngrams > 1 and encoder == "bag_of_words":
        raise ValueError(f"`ngrams` adds n-gram embeddings, which encoder='bag_of_words' has none of. Received: ngrams={ngrams}")
    if ngrams > 1 and buckets < 2:
        raise ValueError(f"`ngram_buckets` must be at least 2 (bucket 0 is padding). Received: ngram_buckets={buckets}")
    return ngrams


def _check_label_names(label_names, labels_tokenizer):
    if labels_tokenizer is not None:
        if label_names is not None:
            raise ValueError(
                "Pass either `label_names` or `labels_tokenizer`, not both. "
                f"Received: label_names={label_names!r:.200} and a labels_tokenizer"
            )
        label_names = labels_tokenizer.get_vocabulary()[len(RESERVED_TOKENS) :]
    if label_names is None:
        return None
    if isinstance(label_names, (str, bytes)) or not isinstance(label_names, Sequence):
        raise ValueError(f"`label_names` must be a list of strings. Received: label_names={label_names!r:.200}")
    label_names = list(label_names)
    if (
        not label_names
        or not all(isinstance(n, str) and n for n in label_names)
        or len(set(label_names)) != len(label_names)
    ):
        raise ValueError(
            f"`label_names` must be distinct non-empty strings, at least one. Received: label_names={label_names!r:.200}"
        )
    return label_names
