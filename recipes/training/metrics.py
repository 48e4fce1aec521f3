"""Metrics for sequence models: perplexity, token accuracy, exact match, BLEU, tagging F1, series errors.

The metric classes are ``keras.metrics.Metric`` subclasses for ``model.compile(metrics=[...])``
and ``model.evaluate``; each ignores padding (id ``PAD_ID``, 0) and is registered for
serialization, so a compiled model with them saves and reloads. ``bleu``,
``sacre_bleu`` (from ``bleu.py``) and ``generation_scores`` score decoded strings (what the exported model returns); ``series_metrics``
gives Keras' own MSE and MAE for forecasting recipes.

Shapes: B batch, T time steps, V vocabulary (or number of tags).
"""

import keras
import numpy as np
import tensorflow as tf
from keras import ops

from seqrecipes._checks import check_positive_int
from seqrecipes.data import PAD_ID
from seqrecipes.recipes.serving.predictions import predict
from seqrecipes.recipes.training.bleu import sacre_bleu  # noqa: F401  (recipes.metrics.sacre_bleu)


def _predicted_ids(y_pred, y_true=None):
    """Scores (B, T, V) -> ids (B, T) by argmax; ids pass through as int32. With ``y_true``, scores are
    any y_pred of one more axis than it (a bidirectional LM's (B, T, 2, V) for targets (B, T, 2))."""
    if len(y_pred.shape) == (3 if y_true is None else len(y_true.shape) + 1):
        return ops.cast(ops.argmax(y_pred, axis=-1), "int32")
    return ops.cast(y_pred, "int32")


def _weights(y_true, sample_weight, pad_id, dtype):
    """Per-token weights (B, T): 0 at padding, times ``sample_weight`` (per example or per token)."""
    weights = ops.ones_like(y_true, dtype=dtype)
    if pad_id is not None:
        weights = ops.cast(ops.not_equal(y_true, pad_id), dtype)
    if sample_weight is not None:
        sample_weight = ops.cast(sample_weight, dtype)
        if len(sample_weight.shape) == 1:
            sample_weight = sample_weight[:, None]  # (B, 1): one weight per example
        weights = weights * sample_weight
    return weights


@keras.saving.register_keras_serializable(package="seqrecipes")
class Perplexity(keras.metrics.Metric):
    """Perplexity of a language model: exp of the mean cross-entropy over non-padding tokens.

        PPL = exp( -(1 / N) * sum_{b,t: y_bt != pad} log p(y_bt | y_b,<t) )

    The sum and the count N are accumulated over batches, so the result is the corpus perplexity,
    not a mean of batch perplexities. This is the package's one definition of perplexity: exp of the
    mean negative log-likelihood (natural log) per predicted token, the end token ([END]) counted as
    a predicted token, [UNK] scored as the token it is (p([UNK] | ..)), padding not counted.
    ``recipes.score`` gives the same per sentence (N = its ``lengths``), under the decoder step's
    distribution ([PAD] and [START] excluded and the rest renormalized, as generation samples).

    Args:
        from_logits: whether ``y_pred`` holds logits (True) or probabilities (False, Keras'
            convention for losses and the output of a softmax layer).
        pad_id: the target id to ignore (``PAD_ID``, 0); ``None`` counts every position.
        name, dtype: as ``keras.metrics.Metric``.

    Call arguments (``update_state``):
        y_true: (B, T) int target ids.
        y_pred: (B, T, V) logits or probabilities.
        sample_weight: optional (B,) or (B, T) weights, multiplied with the padding mask.

    Example:
    >>> import numpy as np
    >>> from seqrecipes.recipes import metrics
    >>> ppl = metrics.Perplexity()
    >>> ppl.update_state(np.array([[1, 0]]), np.array([[[0.5, 0.5], [0.9, 0.1]]]))
    >>> round(float(ppl.result()), 4)
    2.0

    References:
        Jurafsky and Martin, "Speech and Language Processing", ch. 3 (perplexity); seed 004.
    """

    def __init__(self, from_logits=False, pad_id=PAD_ID, name="perplexity", dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.from_logits = bool(from_logits)
        self.pad_id = pad_id
        self.total = self.add_variable(shape=(), initializer="zeros", name="total")
        self.count = self.add_variable(shape=(), initializer="zeros", name="count")

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_true = ops.cast(y_true, "int32")
        y_pred = ops.cast(y_pred, self.dtype)
        cross_entropy = keras.losses.sparse_categorical_crossentropy(y_true, y_pred, from_logits=self.from_logits)
        weights = _weights(y_true, sample_weight, self.pad_id, self.dtype)
        self.total.assign_add(ops.sum(cross_entropy * weights))
        self.count.assign_add(ops.sum(weights))

    def result(self):
        return ops.exp(ops.divide_no_nan(self.total, self.count))

    def get_config(self):
        return {**super().get_config(), "from_logits": self.from_logits, "pad_id": self.pad_id}


@keras.saving.register_keras_serializable(package="seqrecipes")
class TokenAccuracy(keras.metrics.Metric):
    """The share of non-padding target tokens predicted exactly (argmax of the scores).

    Args:
        pad_id: the target id to ignore; ``None`` counts every position.
        name, dtype: as ``keras.metrics.Metric``.

    Call arguments (``update_state``):
        y_true: (B, T) int target ids.
        y_pred: (B, T, V) scores, or (B, T) predicted ids.
        sample_weight: optional (B,) or (B, T) weights.

    Example:
    >>> import numpy as np
    >>> from seqrecipes.recipes import metrics
    >>> accuracy = metrics.TokenAccuracy()
    >>> accuracy.update_state(np.array([[4, 5, 0], [6, 0, 0]]), np.array([[4, 6, 7], [6, 9, 9]]))
    >>> round(float(accuracy.result()), 4)
    0.6667
    """

    def __init__(self, pad_id=PAD_ID, name="token_accuracy", dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.pad_id = pad_id
        self.correct = self.add_variable(shape=(), initializer="zeros", name="correct")
        self.count = self.add_variable(shape=(), initializer="zeros", name="count")

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_true = ops.cast(y_true, "int32")
        hits = ops.cast(ops.equal(_predicted_ids(y_pred, y_true), y_true), self.dtype)
        weights = _weights(y_true, sample_weight, self.pad_id, self.dtype)
        self.correct.assign_add(ops.sum(hits * weights))
        self.count.assign_add(ops.sum(weights))

    def result(self):
        return ops.divide_no_nan(self.correct, self.count)

    def get_config(self):
        return {**super().get_config(), "pad_id": self.pad_id}


@keras.saving.register_keras_serializable(package="seqrecipes")
class ExactMatch(keras.metrics.Metric):
    """The share of sequences whose every non-padding target token is predicted exactly.

    Targets end with the end token (as ``data.teacher_forcing_shift`` makes them), so a
    prediction that stops early or runs on misses at the end position; what the model predicts
    where the target is padding is ignored.

    Args:
        pad_id: the target id that marks padding.
        name, dtype: as ``keras.metrics.Metric``.

    Call arguments (``update_state``):
        y_true: (B, T) int target ids.
        y_pred: (B, T, V) scores, or (B, T') predicted ids (cut or padded to T).
        sample_weight: optional (B,) weights.

    Example:
    >>> import numpy as np
    >>> from seqrecipes.recipes import metrics
    >>> exact = metrics.ExactMatch()
    >>> exact.update_state(np.array([[4, 3, 0], [5, 6, 3]]), np.array([[4, 3, 9], [5, 7, 3]]))
    >>> float(exact.result())
    0.5
    """

    def __init__(self, pad_id=PAD_ID, name="exact_match", dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.pad_id = pad_id
        self.matches = self.add_variable(shape=(), initializer="zeros", name="matches")
        self.count = self.add_variable(shape=(), initializer="zeros", name="count")

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_true = ops.cast(y_true, "int32")
        predicted = _predicted_ids(y_pred)
        width = ops.shape(y_true)[1]
        predicted = ops.pad(predicted, [[0, 0], [0, width]])[:, :width]  # (B, T): cut or padded
        ignore = ops.equal(y_true, self.pad_id)
        match = ops.all(ops.logical_or(ignore, ops.equal(predicted, y_true)), axis=1)  # (B,)
        weights = ops.ones_like(match, dtype=self.dtype) if sample_weight is None else ops.cast(ops.reshape(sample_weight, (-1,)), self.dtype)
        self.matches.assign_add(ops.sum(ops.cast(match, self.dtype) * weights))
        self.count.assign_add(ops.sum(weights))

    def result(self):
        return ops.divide_no_nan(self.matches, self.count)

    def get_config(self):
        return {**super().get_config(), "pad_id": self.pad_id}


@keras.saving.register_keras_serializable(package="seqrecipes")
class TaggingF1(keras.metrics.Metric):
    """Per-tag precision, recall and F1 of a tagger, and their macro average.

    For each tag k, over the non-padding tokens: TP_k = #(pred = k, true = k),
    FP_k = #(pred = k, true != k), FN_k = #(pred != k, true = k); P_k = TP_k / (TP_k + FP_k),
    R_k = TP_k / (TP_k + FN_k), F1_k = 2 P_k R_k / (P_k + R_k) (0 where a denominator is 0).
    ``result()`` is the macro F1, the mean of F1_k over the tags that occur (in the targets or
    the predictions); ``report()`` gives every number.

    Args:
        num_tags: the number of tag ids (the tagger's output size V).
        tag_names: optional names for the ids 0..V-1 (``tags_tokenizer.get_vocabulary()``).
        ignore_ids: tag ids left out of the per-tag scores and the macro average (the reserved
            ids 0-3 of a seqrecipes vocabulary by default); targets equal to ``pad_id`` are not
            counted at all.
        pad_id: the target id that marks padding.
        name, dtype: as ``keras.metrics.Metric``.

    Call arguments (``update_state``):
        y_true: (B, T) int tag ids.
        y_pred: (B, T, V) scores, or (B, T) predicted ids.
        sample_weight: optional (B,) or (B, T) weights.

    Example:
    >>> import numpy as np
    >>> from seqrecipes.recipes import metrics
    >>> f1 = metrics.TaggingF1(num_tags=6, tag_names=["[PAD]", "[UNK]", "[START]", "[END]", "O", "PER"])
    >>> f1.update_state(np.array([[4, 5, 5, 0]]), np.array([[4, 5, 4, 5]]))
    >>> report = f1.report()
    >>> report["PER"]["recall"], report["O"]["precision"], round(report["macro"]["f1"], 4)
    (0.5, 0.5, 0.6667)
    """

    def __init__(self, num_tags, tag_names=None, ignore_ids=(0, 1, 2, 3), pad_id=PAD_ID, name="tagging_f1", dtype=None):
        super().__init__(name=name, dtype=dtype)
        num_tags = check_positive_int("num_tags", num_tags)
        if tag_names is not None and len(tag_names) != num_tags:
            raise ValueError(f"`tag_names` must name all {num_tags} tag ids. Received: {len(tag_names)} names")
        self.num_tags = int(num_tags)
        self.tag_names = list(tag_names) if tag_names is not None else None
        self.ignore_ids = tuple(int(i) for i in ignore_ids)
        self.pad_id = pad_id
        self.true_positives = self.add_variable(shape=(num_tags,), initializer="zeros", name="true_positives")
        self.predicted = self.add_variable(shape=(num_tags,), initializer="zeros", name="predicted")
        self.actual = self.add_variable(shape=(num_tags,), initializer="zeros", name="actual")
        self._kept = np.array([k not in self.ignore_ids for k in range(num_tags)], "float32")

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_true = ops.cast(y_true, "int32")
        weights = _weights(y_true, sample_weight, self.pad_id, self.dtype)[..., None]  # (B, T, 1)
        true_one_hot = ops.one_hot(y_true, self.num_tags, dtype=self.dtype) * weights  # (B, T, V)
        pred_one_hot = ops.one_hot(_predicted_ids(y_pred), self.num_tags, dtype=self.dtype) * weights
        self.true_positives.assign_add(ops.sum(true_one_hot * pred_one_hot, axis=(0, 1)))
        self.predicted.assign_add(ops.sum(pred_one_hot, axis=(0, 1)))
        self.actual.assign_add(ops.sum(true_one_hot, axis=(0, 1)))

    def _scores(self):
        precision = ops.divide_no_nan(self.true_positives, self.predicted)
        recall = ops.divide_no_nan(self.true_positives, self.actual)
        f1 = ops.divide_no_nan(2.0 * precision * recall, precision + recall)
        present = ops.cast(ops.greater(self.predicted + self.actual, 0), self.dtype) * ops.convert_to_tensor(self._kept, self.dtype)
        return precision, recall, f1, present

    def result(self):
        _, _, f1, present = self._scores()
        return ops.divide_no_nan(ops.sum(f1 * present), ops.sum(present))

    def report(self):
        """{tag name: {"precision", "recall", "f1", "support"}} for the tags that occur, plus
        "macro" (means over those tags): plain Python floats."""
        precision, recall, f1, present = (np.asarray(ops.convert_to_numpy(x)) for x in self._scores())
        support = np.asarray(ops.convert_to_numpy(self.actual.value))
        names = self.tag_names or [str(k) for k in range(self.num_tags)]
        report = {
            names[k]: {"precision": float(precision[k]), "recall": float(recall[k]), "f1": float(f1[k]), "support": int(support[k])}
            for k in range(self.num_tags)
            if present[k]
        }
        kept = present.astype(bool)
        report["macro"] = {
            "precision": float(precision[kept].mean()) if kept.any() else 0.0,
            "recall": float(recall[kept].mean()) if kept.any() else 0.0,
            "f1": float(f1[kept].mean()) if kept.any() else 0.0,
            "support": int(support[kept].sum()),
        }
        return report

    def get_config(self):
        return {
            **super().get_config(),
            "num_tags": self.num_tags,
            "tag_names": self.tag_names,
            "ignore_ids": list(self.ignore_ids),
            "pad_id": self.pad_id,
        }


def series_metrics():
    """Keras' mean squared and mean absolute error, the metrics of forecasting recipes."""
    return [keras.metrics.MeanSquaredError(name="mse"), keras.metrics.MeanAbsoluteError(name="mae")]


def bleu(references, hypotheses, max_order=4, tokenizer=None):
    """Corpus BLEU of decoded strings, with ``keras_hub.metrics.Bleu`` (SacreBLEU 13a tokens).

    Args:
        references: one reference string per hypothesis (or a list of references each).
        hypotheses: the decoded strings.
        max_order: the longest n-gram counted.
        tokenizer: optional ``fn(strings) -> ragged tokens``; ``None`` is SacreBLEU's 13a.

    Returns:
        BLEU in [0, 1] as a float.

    Example:
    >>> from seqrecipes.recipes import metrics
    >>> metrics.bleu(["2009-06-25"], ["2009-06-25"])
    1.0
    """
    import keras_hub  # here: importing keras-hub takes seconds that only BLEU needs

    if len(references) != len(hypotheses):
        raise ValueError(
            f"`references` and `hypotheses` must have the same length. Received: {len(references)} references, "
            f"{len(hypotheses)} hypotheses"
        )
    if not hypotheses:
        raise ValueError("`hypotheses` must not be empty. Received: hypotheses=[]")
    references = [[r] if isinstance(r, str) else list(r) for r in references]
    metric = keras_hub.metrics.Bleu(max_order=max_order, tokenizer=tokenizer)
    metric.update_state(_ragged_strings(references), list(hypotheses))
    return float(metric.result())


def _ragged_strings(rows):
    return tf.ragged.constant(rows, dtype=tf.string)


def exact_match(references, hypotheses):
    """The share of hypotheses equal to their reference string."""
    if len(references) != len(hypotheses) or not hypotheses:
        raise ValueError(
            "`references` and `hypotheses` must be non-empty and of the same length. "
            f"Received: {len(references)} references, {len(hypotheses)} hypotheses"
        )
    return float(np.mean([r == h for r, h in zip(references, hypotheses)]))


def generation_scores(model, sources, references, batch_size=256, progress=False):
    """Decodes ``sources`` with a generating recipe's serving function and scores the outputs.

    The outputs are what the exported SavedModel returns for the same strings (the same
    tokenization, greedy search and detokenization).

    Args:
        model: a generating ``RecipeModel`` (serving kind ``"generate"``).
        sources: input strings.
        references: the expected output strings.
        batch_size: strings decoded at once.
        progress: show a progress bar over the batches.

    Returns:
        (scores, outputs): scores {"exact_match", "bleu"} as floats; outputs the decoded strings.
    """
    outputs = [s.decode("utf-8") for s in predict(model, sources, batch_size=batch_size, progress=progress)["outputs"]]
    return {"exact_match": exact_match(references, outputs), "bleu": bleu(references, outputs)}, outputs
