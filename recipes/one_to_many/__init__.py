"""One-to-many recipes: one input (an image) in, a sequence (its caption) out.

    image_captioner   show, attend and tell (Xu et al. 2015)

This file is the group's catalog (see ``recipes/registry.py``): it imports no TensorFlow; each recipe's
code is in its own file, ``<recipe>.py``.
"""

from seqrecipes.recipes.registry import register

__all__ = ["image_captioner"]

register(
    "image_captioner",
    task_type="one-to-many",
    serving="caption",
    datasets=("shapes_captioning", "digit_strips"),
    module=f"{__name__}.image_captioner",
    decoder="ImageCaptionerDecoder",
    serving_function="generation_serving",
)
