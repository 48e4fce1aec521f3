"""seqrecipes: sequence-model recipes for Keras 3 and TensorFlow.

Users write ``from seqrecipes import layers, recipes, data``. The three
subpackages live in the repository's ``layers/``, ``recipes/`` and ``data/``
folders; ``setup.cfg`` maps them into this namespace.
"""

__version__ = "0.1.0"

# True in the ``seqrecipes`` command (set by ``seqrecipes/__main__.py`` before it imports anything else):
# ``seqrecipes.recipes`` then loads only its registry, and each command imports what it uses.
COMMAND_LINE = False
