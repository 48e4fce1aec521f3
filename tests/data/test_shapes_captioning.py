"""data.shapes_captioning: the pictures show what the captions say."""

import numpy as np
import tensorflow as tf

from seqrecipes import data
from seqrecipes.data.shapes_captioning import COLOURS

from data_helpers import assert_reproducible, items


def test_shapes_captioning_is_reproducible_under_a_seed():
    assert_reproducible(lambda seed: data.shapes_captioning(5, seed=seed))


def test_shapes_captioning_pictures_match_captions():
    ds = data.shapes_captioning(60, image_size=32, seed=0)
    assert ds.element_spec == (tf.TensorSpec((32, 32, 3), tf.float32), tf.TensorSpec((), tf.string))
    checked = 0
    for image, caption in items(ds):
        words = caption.decode().split()
        colours = [w for w in words if w in COLOURS]
        for colour in colours:
            rgb = COLOURS[colour]
            assert (np.abs(image - rgb).sum(axis=-1) < 1e-6).any(), caption
        painted = (image.sum(axis=-1) > 0).sum()
        if len(colours) == 2 and colours[0] != colours[1]:
            rgb = [COLOURS[c] for c in colours]
            centres = [np.argwhere(np.abs(image - c).sum(axis=-1) < 1e-6).mean(axis=0) for c in rgb]
            (y1, x1), (y2, x2) = centres
            relation = caption.decode().split(" ", 3)[3].rsplit(" a ", 1)[0]
            assert {"above": y1 < y2, "below": y1 > y2, "to the left of": x1 < x2, "to the right of": x1 > x2}[relation]
            checked += 1
        assert painted > 0
    assert checked > 20
