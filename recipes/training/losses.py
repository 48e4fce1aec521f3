"""The generating recipes' token loss: sparse cross-entropy, with label smoothing when asked for."""

import keras
from keras import ops

from seqrecipes._checks import check_rate
from seqrecipes.data import PAD_ID


def token_loss(label_smoothing=0.0, from_logits=True, ignore_class=PAD_ID):
    """The loss of a recipe's next-token (or masked-token) targets.

    ``label_smoothing`` 0 gives Keras's ``SparseCategoricalCrossentropy`` (``ignore_class`` as given: None
    leaves the padding to the model output's Keras mask); above 0, a ``LabelSmoothingCrossentropy``, which
    always leaves out the padding id.

    Example:
    >>> from seqrecipes.recipes.training.losses import token_loss
    >>> type(token_loss()).__name__, type(token_loss(0.1)).__name__, token_loss(0.1).label_smoothing
    ('SparseCategoricalCrossentropy', 'LabelSmoothingCrossentropy', 0.1)
    """
    check_rate("label_smoothing", label_smoothing)
    if not label_smoothing:
        return keras.losses.SparseCategoricalCrossentropy(from_logits=from_logits, ignore_class=ignore_class)
    return LabelSmoothingCrossentropy(label_smoothing, from_logits=from_logits)


@keras.saving.register_keras_serializable(package="seqrecipes")
class LabelSmoothingCrossentropy(keras.losses.SparseCategoricalCrossentropy):
    """Sparse cross-entropy against labels smoothed toward the uniform distribution (Szegedy et al. 2016).

    Shapes: targets y (...) int, predictions (..., V): logits z (``from_logits``) or probabilities p.
    With epsilon = ``label_smoothing``, the target distribution is q = (1 - epsilon) onehot(y) + epsilon / V, so

        loss(y) = (1 - epsilon) * (-log p_y) + epsilon * mean_k(-log p_k)      at real targets (y != 0)

    averaged over the real targets of the batch; the padding id 0 is never a target (nor are steps the
    model output's Keras mask leaves out). epsilon = 0 is plain cross-entropy. A subclass of Keras's
    ``SparseCategoricalCrossentropy``, so every check that reads a sparse loss reads this one too.

    Args:
        label_smoothing: epsilon, in [0, 1).
        from_logits: the predictions are logits (else probabilities).
        name: the loss name.

    Example:
    >>> import numpy as np
    >>> from seqrecipes.recipes.training.losses import LabelSmoothingCrossentropy
    >>> logits = np.log(np.array([[[0.5, 0.25, 0.25], [0.2, 0.6, 0.2]]], "float32"))
    >>> y = np.array([[1, 0]])   # the second step is padding
    >>> loss = LabelSmoothingCrossentropy(0.1, from_logits=True)(y, logits)
    >>> round(float(loss), 4), round(float(0.9 * -np.log(0.25) + 0.1 * -np.log([0.5, 0.25, 0.25]).mean()), 4)
    (1.3632, 1.3632)

    References:
        - Szegedy et al. (2016), Rethinking the Inception architecture for computer vision,
          https://arxiv.org/abs/1512.00567 (section 7)
        - Vaswani et al. (2017), Attention is all you need, https://arxiv.org/abs/1706.03762 (epsilon = 0.1)
    """

    def __init__(self, label_smoothing=0.1, from_logits=False, name="label_smoothing_crossentropy", **kwargs):
        kwargs.pop("ignore_class", None)
        kwargs.pop("reduction", None)
        super().__init__(from_logits=from_logits, ignore_class=PAD_ID, reduction="sum", name=name, **kwargs)
        self.label_smoothing = check_rate("label_smoothing", label_smoothing)

    def call(self, y_true, y_pred):
        y_pred = ops.cast(y_pred, "float32")
        y_true = ops.cast(y_true, "int32")
        if len(y_true.shape) == len(y_pred.shape):
            y_true = ops.squeeze(y_true, axis=-1)
        real = ops.not_equal(y_true, PAD_ID)  # (...)
        if self.from_logits:
            log_p = ops.log_softmax(y_pred, axis=-1)
        else:
            log_p = ops.log(ops.clip(y_pred, keras.config.epsilon(), 1.0))
        picked = -ops.take_along_axis(log_p, ops.where(real, y_true, 0)[..., None], axis=-1)[..., 0]  # -log p_y
        uniform = -ops.mean(log_p, axis=-1)  # mean_k -log p_k
        loss = (1.0 - self.label_smoothing) * picked + self.label_smoothing * uniform
        count = ops.maximum(ops.sum(ops.cast(real, "float32")), 1.0)
        return ops.where(real, loss, 0.0) / count  # summed by the "sum" reduction: the mean over real targets

    def get_config(self):
        return {"name": self.name, "label_smoothing": self.label_smoothing, "from_logits": self.from_logits}

    @classmethod
    def from_config(cls, config):
        return cls(**config)
