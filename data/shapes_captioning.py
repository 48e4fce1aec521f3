"""Shapes captioning: small images of coloured shapes with an English caption, drawn in NumPy."""

import numpy as np
import tensorflow as tf

from seqrecipes._checks import check_positive_int
from seqrecipes.data.synthetic_tasks import check_total_size, seeded_rng

COLOURS = {
    "red": (1.0, 0.0, 0.0),
    "green": (0.0, 0.8, 0.0),
    "blue": (0.0, 0.0, 1.0),
    "yellow": (1.0, 1.0, 0.0),
    "purple": (0.6, 0.0, 0.8),
}
SHAPES = ("circle", "square", "triangle")
RELATIONS = ("above", "below", "to the left of", "to the right of")


def _mask(shape, size, cy, cx, r):
    y, x = np.mgrid[0:size, 0:size]
    if shape == "circle":
        return (y - cy) ** 2 + (x - cx) ** 2 <= r * r + r  # "+ r": rounder small discs
    if shape == "square":
        return (np.abs(y - cy) <= r) & (np.abs(x - cx) <= r)
    # An upright triangle: apex at (cy - r, cx), base on row cy + r, as wide as the square.
    return (y >= cy - r) & (y <= cy + r) & (np.abs(x - cx) <= (y - (cy - r)) / 2.0)


def shapes_captioning(num_examples=1000, image_size=32, max_shapes=2, seed=0):
    """Images of one or two coloured shapes on black, with captions that say what is where.

    One shape: ``"a red circle"``. Two shapes: ``"a red circle above a blue square"``, with the
    relation one of ``above``, ``below``, ``to the left of``, ``to the right of`` and the first
    shape drawn in the half of the image the relation names. Colours: red, green, blue, yellow,
    purple; shapes: circle, square, triangle (the two shapes of an image differ in colour or
    shape). The captioning recipe (show, attend and tell) attends over the image's CNN feature
    map while it writes the caption.

    Args:
        num_examples: how many images.
        image_size: S, the side in pixels (at least 16).
        max_shapes: 1 or 2: the most shapes per image (the count is drawn per image).
        seed: the random seed.

    Returns:
        A dataset with element spec ``(TensorSpec((S, S, 3), float32), TensorSpec((), string))``;
        pixel values in [0, 1].

    Raises:
        ValueError: ``num_examples`` is not a positive integer, ``image_size`` not an integer of at
            least 16, ``max_shapes`` not 1 or 2; more than ``MAX_VALUES`` numbers in all; a bad ``seed``.

    Example:
    >>> from seqrecipes import data
    >>> [c.decode() for _, c in data.shapes_captioning(3, seed=0).as_numpy_iterator()]
    ['a yellow square above a green circle',
     'a blue square to the left of a purple triangle',
     'a red square above a purple square']

    References:
        Xu et al., "Show, attend and tell: neural image caption generation with visual
        attention", ICML 2015; Kuhnle and Copestake, "ShapeWorld", 2017.
    """
    check_positive_int("num_examples", num_examples)
    if isinstance(image_size, bool) or not isinstance(image_size, (int, np.integer)) or image_size < 16:
        raise ValueError(f"`image_size` must be an integer of at least 16. Received: image_size={image_size!r}")
    if isinstance(max_shapes, bool) or max_shapes not in (1, 2):
        raise ValueError(f"`max_shapes` must be 1 or 2. Received: max_shapes={max_shapes!r}")
    check_total_size(num_examples=num_examples, image_size=image_size, values_per_row=3 * image_size)
    rng = seeded_rng(seed)
    colour_names = list(COLOURS)
    size = image_size
    images = np.zeros((num_examples, size, size, 3), np.float32)
    captions = []
    for index in range(num_examples):
        count = int(rng.integers(1, max_shapes + 1))
        first = (colour_names[rng.integers(len(colour_names))], SHAPES[rng.integers(len(SHAPES))])
        if count == 1:
            r = int(rng.integers(size // 8, size // 4 + 1))
            cy, cx = rng.integers(r, size - r, size=2)
            images[index][_mask(first[1], size, cy, cx, r)] = COLOURS[first[0]]
            captions.append(f"a {first[0]} {first[1]}")
            continue
        second = first
        while second == first:
            second = (colour_names[rng.integers(len(colour_names))], SHAPES[rng.integers(len(SHAPES))])
        relation = RELATIONS[rng.integers(len(RELATIONS))]
        half = size // 2
        r = int(rng.integers(size // 10, size // 6 + 1))
        # Centres: along the relation's axis each shape stays inside its own half.
        near = int(rng.integers(r, half - r))
        far = int(rng.integers(half + r, size - r))
        across = rng.integers(r, size - r, size=2).tolist()
        along = (near, far) if relation in ("above", "to the left of") else (far, near)
        vertical = relation in ("above", "below")
        centres = [(a, c) if vertical else (c, a) for a, c in zip(along, across)]
        for (colour, shape), (cy, cx) in zip((first, second), centres):
            images[index][_mask(shape, size, cy, cx, r)] = COLOURS[colour]
        captions.append(f"a {first[0]} {first[1]} {relation} a {second[0]} {second[1]}")
    return tf.data.Dataset.from_tensor_slices((images, captions))
