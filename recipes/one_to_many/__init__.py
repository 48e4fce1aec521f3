"""One-to-many recipes: one input in, a sequence out.

    image_captioner   an image in, its caption out: show, attend and tell (Xu et al. 2015)

The group's catalog in the registry (``recipes/registry.py``); each recipe's code is in ``<recipe>.py``.
"""

from seqrecipes.recipes.registry import register

__all__ = ["image_captioner"]

register("image_captioner", task_type="one-to-many", serving="caption", datasets=("shapes_captioning", "digit_strips"),
         module=f"{__name__}.image_captioner", decoder="ImageCaptionerDecoder")  # fmt: skip
