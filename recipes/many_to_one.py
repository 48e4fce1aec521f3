"""Many-to-one recipes: a whole sequence in, one answer out.

``text_classifier`` reads a text (or any sequence of feature vectors) with an RNN, a bidirectional
RNN or a Transformer encoder, pools the hidden states into one sentence vector (last state, mean,
max or attention, seed 004) and classifies it. ``sequence_regressor`` reads a time series and
forecasts its next value or next ``horizon`` values, with the input normalisation inside the model
so that it (and its export) takes raw series.
"""

import warnings
from typing import Optional, Sequence

import keras
import numpy as np
import tensorflow as tf

from seqrecipes import layers
from seqrecipes.data import PAD_ID, RESERVED_TOKENS
from seqrecipes.recipes import components
from seqrecipes.recipes.recipe_model import RecipeModel
from seqrecipes.recipes.registry import register

ENCODERS = ("rnn", "birnn", "transformer")
POOLINGS = {
    "last": layers.LastState,
    "mean": layers.MaskedMean,
    "max": layers.MaskedMax,
    "attention": layers.AttentionPooling,
}


def token_ids(tokenizer, strings, max_length):
    """Strings -> ids (B, max_length) int32: the first ``max_length`` tokens, padded with 0.

    Core TensorFlow ops only (it runs inside the export).
    """
    ids = tokenizer.tokenize(strings)
    if isinstance(ids, tf.RaggedTensor):
        ids = ids[:, :max_length].to_tensor(default_value=PAD_ID, shape=[None, max_length])
    else:  # a tokenizer with its own sequence_length
        ids = ids[:, :max_length]
        ids = tf.pad(ids, [[0, 0], [0, max_length - tf.shape(ids)[1]]])
    return tf.cast(ids, tf.int32)


def _classifier_serving(model):
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


@register(
    "many-to-one",
    datasets=("imdb_reviews", "glue/sst2", "ag_news_subset", "digit_rows", "delimited_file"),
    serving="classify",
    serving_function=_classifier_serving,
)
def text_classifier(
    *,
    text_vocabulary_size: int = 0,
    num_classes: Optional[int] = None,
    input_dim: Optional[int] = None,
    max_length: int = 128,
    encoder: str = "rnn",
    pooling: str = "last",
    cell: str = "lstm",
    units: int = 64,
    num_layers: int = 1,
    embedding_dim: int = 64,
    num_heads: int = 2,
    intermediate_dim: int = 128,
    attention_units: int = 32,
    dropout: float = 0.0,
    label_names: Optional[Sequence[str]] = None,
    learning_rate: float = 1e-3,
    clipnorm: Optional[float] = 1.0,
    text_tokenizer=None,
    labels_tokenizer=None,
    name: str = "text_classifier",
) -> RecipeModel:
    """Sequence classification: an RNN, BiRNN or Transformer encoder, a pooling, a softmax.

    Shapes: B batch, T <= ``max_length`` time steps, E ``embedding_dim``, H ``units``, C classes.

        x_1..x_T  = Embedding(tokens)        (B, T, E), padding (id 0) masked
                    (or the float features (B, T, input_dim) as they are)
        h_1..h_T  = encoder(x)               "rnn": ``num_layers`` stacked ``cell`` RNNs, (B, T, H)
                                             "birnn": the same, bidirectional, [h_fwd ; h_bwd] (B, T, 2H)
                                             "transformer": x + P (learned positions), then
                                             ``num_layers`` TransformerEncoder blocks, (B, T, E)
        s         = pooling(h)               "last": LastState, the state at the last real step
                                             (for "birnn" the final states of both directions,
                                             [h_fwd,T ; h_bwd,1], as seed 004 draws it)
                                             "mean": MaskedMean, "max": MaskedMax,
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
        encoder: ``"rnn"``, ``"birnn"`` or ``"transformer"``.
        pooling: ``"last"``, ``"mean"``, ``"max"`` or ``"attention"``.
        cell: the recurrent cell of the RNN encoders, one of ``components.CELLS``.
        units: H, the size of each recurrent layer (each direction for ``"birnn"``).
        num_layers: stacked recurrent layers or Transformer blocks.
        embedding_dim: E, the token embedding size and the Transformer width (features are
            projected to it by a Dense layer for a Transformer with ``input_dim``).
        num_heads: attention heads of the Transformer (must divide ``embedding_dim``).
        intermediate_dim: the Transformer's feed-forward size.
        attention_units: the score network size of ``pooling="attention"``.
        dropout: dropout rate between layers and before the classifier (and inside the
            Transformer), training only.
        label_names: the C class names, in class-id order, for the export's ``label``.
        learning_rate: Adam's learning rate.
        clipnorm: gradient clipping by global norm (None: off).
        text_tokenizer: a ``seqrecipes.data`` tokenizer of the texts; needed for export.
        labels_tokenizer: instead of ``label_names``, a tokenizer whose vocabulary (after the four
            reserved tokens) lists the class names: class k is its token id k + 4.
        name: the model name.

    Returns:
        A compiled ``RecipeModel`` (Adam with clipping, sparse categorical cross-entropy, accuracy).

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
    components.check_choice("encoder", encoder, ENCODERS)
    components.check_choice("pooling", pooling, POOLINGS)
    components.check_choice("cell", cell, components.CELLS)
    for argument, value in (
        ("max_length", max_length),
        ("units", units),
        ("num_layers", num_layers),
        ("embedding_dim", embedding_dim),
        ("num_heads", num_heads),
        ("intermediate_dim", intermediate_dim),
        ("attention_units", attention_units),
    ):
        components.check_positive(argument, value)
    components.check_rate("dropout", dropout)
    if encoder == "transformer" and embedding_dim % num_heads:
        raise ValueError(
            "`embedding_dim` (the Transformer width) must be a multiple of `num_heads`. "
            f"Received: embedding_dim={embedding_dim}, num_heads={num_heads}"
        )
    if input_dim is not None:
        components.check_positive("input_dim", input_dim)
        vocabulary_size = text_vocabulary_size  # unused: the inputs are features
    else:
        vocabulary_size = components.vocabulary_size_of(text_tokenizer, text_vocabulary_size, "text")
    label_names = _check_label_names(label_names, labels_tokenizer)
    if num_classes is None:
        num_classes = 2 if label_names is None else len(label_names)
    components.check_positive("num_classes", num_classes)
    if label_names is not None and len(label_names) != num_classes:
        raise ValueError(
            f"Give one label name per class ({num_classes}). Received: {len(label_names)} label names {label_names!r:.200}"
        )

    # Inputs and embeddings: x (B, T, E), with the padding mask for token ids.
    if input_dim is None:
        inputs = keras.Input((max_length,), dtype="int32", name="token_ids")
        x = keras.layers.Embedding(vocabulary_size, embedding_dim, mask_zero=True, name="embedding")(inputs)
    else:
        inputs = keras.Input((None, input_dim), dtype="float32", name="features")
        x = inputs
        if encoder == "transformer":
            x = keras.layers.Dense(embedding_dim, name="feature_projection")(x)  # (B, T, E)

    # Encoder: h (B, T, H), (B, T, 2H) or (B, T, E); or s directly for "birnn" with "last".
    if encoder == "transformer":
        positions = layers.PositionEmbedding(max_length, name="position_embedding")(x)  # (B, T, E)
        x = keras.layers.Add(name="add_positions")([x, positions])
        if dropout:
            x = keras.layers.Dropout(dropout, name="embedding_dropout")(x)
        for k in range(num_layers):
            x = layers.TransformerEncoder(intermediate_dim, num_heads, dropout=dropout, name=f"transformer_{k}")(x)
    else:
        for k in range(num_layers):
            final_states_only = encoder == "birnn" and pooling == "last" and k == num_layers - 1
            cell_k = components.make_cell(cell, units, name="cell")
            rnn = layers.RNN(cell_k, return_sequences=not final_states_only, name=f"rnn_{k}")
            if encoder == "birnn":
                rnn = keras.layers.Bidirectional(rnn, name=f"birnn_{k}")
            x = rnn(x)
            if dropout and k < num_layers - 1:
                x = keras.layers.Dropout(dropout, name=f"dropout_{k}")(x)

    # Pooling: s (B, H').
    if encoder == "birnn" and pooling == "last":
        s = x  # [h_fwd,T ; h_bwd,1] from the last Bidirectional layer
    elif pooling == "attention":
        s = layers.AttentionPooling(attention_units, name="pooling")(x)
    else:
        s = POOLINGS[pooling](name="pooling")(x)
    if dropout:
        s = keras.layers.Dropout(dropout, name="pooled_dropout")(s)
    logits = keras.layers.Dense(num_classes, name="logits")(s)  # (B, C)
    probabilities = keras.layers.Activation("softmax", dtype="float32", name="probabilities")(logits)

    model = RecipeModel(
        inputs=inputs,
        outputs=probabilities,
        recipe="text_classifier",
        arguments={
            "text_vocabulary_size": vocabulary_size,
            "num_classes": num_classes,
            "input_dim": input_dim,
            "max_length": max_length,
            "encoder": encoder,
            "pooling": pooling,
            "cell": cell,
            "units": units,
            "num_layers": num_layers,
            "embedding_dim": embedding_dim,
            "num_heads": num_heads,
            "intermediate_dim": intermediate_dim,
            "attention_units": attention_units,
            "dropout": dropout,
            "label_names": None if labels_tokenizer is not None else label_names,
            "learning_rate": learning_rate,
            "clipnorm": clipnorm,
        },
        tokenizers=components.present_tokenizers({"text": text_tokenizer, "labels": labels_tokenizer}),
        name=name,
    )
    model.compile(
        optimizer=components.recurrent_optimizer(learning_rate, clipnorm=clipnorm),
        loss="sparse_categorical_crossentropy",
        metrics=[keras.metrics.SparseCategoricalAccuracy(name="accuracy")],
    )
    return model


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


def _forecast_serving(model):
    num_features = model.arguments["num_features"]
    if num_features != 1:
        raise ValueError(
            "The 'forecast' signature takes univariate series (B, T); this model reads "
            f"{num_features} features per step. Serve it with model.predict. Received: num_features={num_features}"
        )
    input_length = model.arguments["input_length"]

    def serve(series):
        series = tf.debugging.assert_all_finite(series, "`series` holds NaN or infinity")
        series = series[:, -input_length:]  # keep the last input_length steps
        forecast = model(series[:, :, None], training=False)  # (B, horizon)
        return {"forecast": tf.cast(forecast, tf.float32)}

    return serve


@register(
    "many-to-one",
    datasets=("statsmodels_series", "noisy_periodic_series", "from_series", "adding_problem"),
    serving="forecast",
    serving_function=_forecast_serving,
)
def sequence_regressor(
    *,
    input_length: int = 24,
    num_features: int = 1,
    horizon: int = 1,
    cell: str = "lstm",
    units: int = 32,
    num_layers: int = 1,
    dropout: float = 0.0,
    series=None,
    mean: Optional[Sequence[float]] = None,
    variance: Optional[Sequence[float]] = None,
    target_feature: int = 0,
    learning_rate: float = 1e-3,
    clipnorm: Optional[float] = 1.0,
    name: str = "sequence_regressor",
) -> RecipeModel:
    """Time-series regression and forecasting: an RNN over the series, ``horizon`` values out (MSE).

    Shapes: B batch, T time steps, F ``num_features``, H ``units``, K ``horizon``.

        z_t   = (x_t - mu) / sigma               Normalization, mu and sigma^2 from the training series
        h_T   = RNN(z_1 .. z_T)                  ``num_layers`` stacked ``cell`` RNNs, (B, H)
        y^    = mu_k + sigma_k (W h_T + b)       (B, K), back in the units of feature k = ``target_feature``

    The normalisation is part of the model (``Normalization`` layers holding mu and sigma^2), so
    the model, its ``.keras`` file and its export all take and give raw values. Give ``series``
    (the training series) to compute mu and sigma^2 per feature, or ``mean`` and ``variance``
    directly; with neither the inputs are not normalised (a warning says so).

    Inputs: (B, T, F) float windows (``data.series_windows`` makes them; any T). Targets:
    (B, K), or (B, K, 1) as ``series_windows`` gives them for a univariate series (Keras squeezes
    the last axis); for several features, map the windows' targets to the target column. Outputs:
    (B, K). Loss: mean squared error; metric: mean absolute error.

    Export (``serving="forecast"``, univariate models): ``serving_default`` takes ``series``,
    float32 (B, T) raw values, keeps the last ``input_length`` steps of longer series (the most
    recent window, which is what forecasting needs; shorter series are read as they are) and
    returns ``forecast`` (B, K) float32. A series holding NaN or infinity fails with an
    InvalidArgument error naming ``series``.

    Args:
        input_length: the window length the model is trained on; the export keeps that many of the
            latest steps.
        num_features: F, values per time step.
        horizon: K, the number of future steps predicted.
        cell: the recurrent cell, one of ``components.CELLS``.
        units: H, the size of each recurrent layer.
        num_layers: stacked recurrent layers.
        dropout: dropout rate between recurrent layers and before the output (training only).
        series: the training series, to compute the normalisation: an array (time,) or
            (time, F), a dataset of time steps (``data.statsmodels_series``) or of (x, y) windows.
            Not stored; ``mean`` and ``variance`` are.
        mean, variance: mu and sigma^2, one per feature (instead of ``series``).
        target_feature: the feature whose units the forecast is in (0 for a univariate series).
        learning_rate: Adam's learning rate.
        clipnorm: gradient clipping by global norm (None: off).
        name: the model name.

    Returns:
        A compiled ``RecipeModel`` (Adam with clipping, MSE, MAE).

    Example:
    >>> from seqrecipes import data, recipes
    >>> steps = data.noisy_periodic_series(length=120, seed=0)
    >>> windows = steps.apply(data.series_windows(12, horizon=2)).batch(16)
    >>> model = recipes.sequence_regressor(input_length=12, horizon=2, units=8, series=steps)
    >>> history = model.fit(windows, epochs=2, verbose=0)
    >>> model.predict(next(iter(windows))[0], verbose=0).shape
    (16, 2)

    References:
        - Hyndman and Athanasopoulos, Forecasting: principles and practice (3rd ed.), ch. 5.
        - Hochreiter and Schmidhuber (1997), Long short-term memory, Neural Computation.
    """
    for argument, value in (
        ("input_length", input_length),
        ("num_features", num_features),
        ("horizon", horizon),
        ("units", units),
        ("num_layers", num_layers),
    ):
        components.check_positive(argument, value)
    components.check_choice("cell", cell, components.CELLS)
    components.check_rate("dropout", dropout)
    if (
        isinstance(target_feature, bool)
        or not isinstance(target_feature, int)
        or not 0 <= target_feature < num_features
    ):
        raise ValueError(
            f"`target_feature` must be an integer in [0, {num_features}). Received: target_feature={target_feature!r}"
        )
    mean, variance = _normalization_statistics(series, mean, variance, num_features)

    inputs = keras.Input((None, num_features), dtype="float32", name="series")
    x = keras.layers.Normalization(axis=-1, mean=mean, variance=variance, name="normalization")(inputs)  # (B, T, F)
    for k in range(num_layers):
        last = k == num_layers - 1
        x = layers.RNN(components.make_cell(cell, units, name="cell"), return_sequences=not last, name=f"rnn_{k}")(x)
        if dropout:
            x = keras.layers.Dropout(dropout, name=f"dropout_{k}")(x)
    z = keras.layers.Dense(horizon, name="normalized_forecast")(x)  # (B, K), in units of sigma_k
    forecast = keras.layers.Normalization(
        axis=None, mean=mean[target_feature], variance=variance[target_feature], invert=True, dtype="float32", name="forecast"
    )(z)  # fmt: skip

    model = RecipeModel(
        inputs=inputs,
        outputs=forecast,
        recipe="sequence_regressor",
        arguments={
            "input_length": input_length,
            "num_features": num_features,
            "horizon": horizon,
            "cell": cell,
            "units": units,
            "num_layers": num_layers,
            "dropout": dropout,
            "mean": mean,
            "variance": variance,
            "target_feature": target_feature,
            "learning_rate": learning_rate,
            "clipnorm": clipnorm,
        },
        name=name,
    )
    model.compile(
        optimizer=components.recurrent_optimizer(learning_rate, clipnorm=clipnorm),
        loss="mse",
        metrics=[keras.metrics.MeanAbsoluteError(name="mae")],
    )
    return model


def _normalization_statistics(series, mean, variance, num_features):
    """mu and sigma^2 as lists of F floats, from ``series`` or as given (identity when neither)."""
    if series is not None:
        if mean is not None or variance is not None:
            raise ValueError(
                "Pass either `series` or `mean` and `variance`, not both. Received: series and mean/variance"
            )
        values = _series_values(series, num_features)
        return values.mean(axis=0).astype(float).tolist(), values.var(axis=0).astype(float).tolist()
    if mean is None and variance is None:
        warnings.warn(
            "sequence_regressor: no `series` (or `mean` and `variance`) given, so the inputs are not normalised; "
            "pass the training series for a model that trains well on raw values."
        )
        return [0.0] * num_features, [1.0] * num_features
    if mean is None or variance is None:
        raise ValueError(f"Pass both `mean` and `variance`. Received: mean={mean!r}, variance={variance!r}")
    mean = [float(m) for m in np.ravel(mean)]
    variance = [float(v) for v in np.ravel(variance)]
    if len(mean) != num_features or len(variance) != num_features:
        raise ValueError(
            f"`mean` and `variance` need one value per feature ({num_features}). Received: mean={mean}, variance={variance}"
        )
    if not all(np.isfinite(mean)) or not all(np.isfinite(variance)) or min(variance) < 0:
        raise ValueError(
            f"`mean` must be finite and `variance` finite and >= 0. Received: mean={mean}, variance={variance}"
        )
    return mean, variance


def _series_values(series, num_features):
    """The training series as a (N, F) float64 array (window datasets: their inputs)."""
    if isinstance(series, tf.data.Dataset):
        spec = series.element_spec
        if isinstance(spec, tuple):
            series = series.map(lambda x, *rest: x)
        blocks = [np.asarray(b, np.float64).reshape(-1, num_features) for b in series.batch(4096).as_numpy_iterator()]
        values = np.concatenate(blocks) if blocks else np.zeros((0, num_features))
    else:
        values = np.asarray(series, dtype=np.float64)
        if values.ndim == 1 and num_features == 1:
            values = values[:, None]
        if values.ndim != 2 or values.shape[1] != num_features:
            raise ValueError(
                f"`series` must have shape (time,) or (time, {num_features}). Received: series.shape={values.shape}"
            )
    if values.shape[0] == 0:
        raise ValueError(f"`series` is empty. Received: series.shape={values.shape}")
    if not np.isfinite(values).all():
        raise ValueError(
            f"`series` holds NaN or infinity ({int((~np.isfinite(values)).sum())} values); clean it first "
            "(data.clean_series). Received: a series with missing values"
        )
    return values
