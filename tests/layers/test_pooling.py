"""What every pooling layer shares (layers/_pooling.py): rank checks on the inputs, no output mask."""

import keras
import numpy as np
import pytest
from pooling_references import MASK, H

from seqrecipes import layers

POOLINGS = [
    lambda: layers.LastStatePooling(),
    lambda: layers.MeanPooling(),
    lambda: layers.MaxPooling(),
    lambda: layers.AttentionPooling(units=3),
]
POOLING_IDS = ["LastStatePooling", "MeanPooling", "MaxPooling", "AttentionPooling"]


@pytest.mark.parametrize("make", POOLINGS, ids=POOLING_IDS)
def test_pooling_rejects_wrong_rank(make):
    with pytest.raises(ValueError, match=r"Received: inputs.shape=\(3, 4\)"):
        make()(H[:, 0])


@pytest.mark.parametrize("make", POOLINGS, ids=POOLING_IDS)
def test_pooling_drops_the_time_axis_and_its_mask(make):
    masked = keras.layers.Masking(mask_value=0.0)(H * MASK[:, :, None])
    pooled = make()(masked)
    assert tuple(pooled.shape) == (3, 4) and getattr(pooled, "_keras_mask", None) is None
    inputs = keras.Input((None, 4))
    symbolic = make()(keras.layers.Masking()(inputs))
    assert tuple(symbolic.shape) == (None, 4) and getattr(symbolic, "_keras_mask", None) is None
    assert np.all(np.isfinite(np.asarray(pooled)))
