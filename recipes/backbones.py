"""Pretrained bodies inside downstream recipes: fine-tuning a GPT-, BERT- or ELMo-style model (seed 000).

Seed 000: pretrain on unlabelled text, then fine-tune on the task. A downstream recipe
(``text_classifier``, ``sequence_tagger``) built with ``encoder="pretrained"`` and
``backbone={"recipe": ..., "arguments": {...}}`` calls the pretrained recipe again with those arguments
(through the registry, so no recipe file imports another), keeps its body as a nested model named
``"backbone"`` and reads one representation per token from it:

    transformer_language_model   (GPT)    h_t = LN_f(x_L)                      (B, T, D), causal: left context
    masked_language_model        (BERT)   h_t = x_L, the last encoder block    (B, T, D), both sides
    bidirectional_language_model (ELMo)   h_t = ScalarMix_j [h_fwd,t^(j) ; h_bwd,t^(j)],  j = 1..L   (B, T, 2H)

``fine_tune`` builds the downstream model and moves the pretrained weights in, layer by layer by name;
``load_backbone`` moves them into a model already built. ``FineTuningAdam`` gives the backbone's
variables a lower learning rate (``backbone_learning_rate``); ``backbone_trainable=False`` freezes them.
Because the downstream recipe stores only its arguments (the backbone's among them), a ``.keras`` file
reloads with ``safe_mode=True`` into the same structure, and the export is the downstream recipe's.
"""

import inspect

import keras
from keras import ops

from seqrecipes import layers
from seqrecipes._checks import check_bool, check_positive_number
from seqrecipes.data import PAD_ID
from seqrecipes.recipes._components import recurrent_optimizer
from seqrecipes.recipes.registry import get_recipe

# The pretrained recipes a downstream recipe can start from.
BACKBONE_RECIPES = ("transformer_language_model", "masked_language_model", "bidirectional_language_model")


def check_backbone(backbone):
    """``backbone`` must be {"recipe": one of ``BACKBONE_RECIPES``, "arguments": a dict}; returns it as a dict."""
    if not isinstance(backbone, dict) or set(backbone) != {"recipe", "arguments"} or not isinstance(backbone["arguments"], dict):
        raise ValueError(
            '`backbone` must be {"recipe": <a pretrained recipe>, "arguments": {<its arguments>}} (recipes.fine_tune '
            f"makes it from a pretrained model). Received: backbone={backbone!r:.300}"
        )
    if backbone["recipe"] not in BACKBONE_RECIPES:
        raise ValueError(
            f"A downstream recipe starts from one of {', '.join(BACKBONE_RECIPES)}. Received: backbone['recipe']={backbone['recipe']!r}"
        )
    return {"recipe": backbone["recipe"], "arguments": dict(backbone["arguments"])}


def backbone_positions(recipe, arguments):
    """The longest input a backbone reads: a Transformer's learned positions; None (any length) for ELMo."""
    return None if recipe == "bidirectional_language_model" else arguments.get("max_length")


def check_downstream(encoder, backbone, trainable, learning_rate, text_vocabulary_size, max_length):
    """The checks of a downstream recipe's backbone arguments; returns the checked ``backbone`` (or None).

    With ``encoder="pretrained"`` the backbone must be given, read the tokenizer's vocabulary and, for a
    Transformer, have learned positions for ``max_length`` tokens; with any other encoder it must be None.
    """
    check_bool("backbone_trainable", trainable)
    if learning_rate is not None:
        check_positive_number("backbone_learning_rate", learning_rate)
    if encoder != "pretrained":
        if backbone is not None:
            raise ValueError(f"`backbone` is read by encoder='pretrained' only. Received: encoder={encoder!r} and a backbone")
        if learning_rate is not None:
            raise ValueError(f"`backbone_learning_rate` is read by encoder='pretrained' only. Received: encoder={encoder!r}, backbone_learning_rate={learning_rate!r}")
        if not trainable:
            raise ValueError(f"`backbone_trainable` is read by encoder='pretrained' only. Received: encoder={encoder!r}, backbone_trainable={trainable!r}")
        return None
    if backbone is None:
        raise ValueError("encoder='pretrained' needs a `backbone` (recipes.fine_tune gives it). Received: backbone=None")
    backbone = check_backbone(backbone)
    size = backbone["arguments"].get("text_vocabulary_size")
    if size != text_vocabulary_size:
        raise ValueError(
            f"The text tokenizer must be the backbone's ({backbone['recipe']}, {size} tokens). Received: a vocabulary of {text_vocabulary_size}"
        )
    positions = backbone_positions(backbone["recipe"], backbone["arguments"])
    if positions is not None and max_length > positions:
        raise ValueError(
            f"`max_length` must be at most the backbone's max_length={positions} (its learned positions). Received: max_length={max_length}"
        )
    return backbone


def fine_tuning_optimizer(model, learning_rate, backbone_learning_rate, clipnorm):
    """Adam with clipping (``recurrent_optimizer``); with ``backbone_learning_rate``, a ``FineTuningAdam``
    whose backbone layers step at that rate."""
    if backbone_learning_rate is None or model.arguments.get("encoder") != "pretrained":
        return recurrent_optimizer(learning_rate, clipnorm=clipnorm)
    return FineTuningAdam(
        scaled_layers=backbone_layer_names(model), scale=backbone_learning_rate / learning_rate,
        learning_rate=learning_rate, global_clipnorm=clipnorm,
    )  # fmt: skip


def backbone_features(token_ids, backbone, trainable=True):
    """The pretrained representation of token ids (B, T): features (B, T, D) and the padding mask (B, T).

    The body is a nested ``keras.Model`` named ``"backbone"`` over the pretrained recipe's own layers
    (same names, so ``load_backbone`` finds each one in the pretrained model); ELMo's layers are mixed by a
    ``layers.ScalarMix`` named ``"scalar_mix"`` outside it. The mask is ids != 0, whether the body
    propagates one or not (GPT's causal blocks keep padding on the right out of every real step).
    ``backbone`` is the one ``check_downstream`` returned.
    """
    pretrained = get_recipe(backbone["recipe"]).function(**backbone["arguments"])
    if backbone["recipe"] == "transformer_language_model":
        outputs = pretrained.get_layer("final_norm").output
    elif backbone["recipe"] == "masked_language_model":
        outputs = pretrained.get_layer(f"encoder_{backbone['arguments']['num_layers'] - 1}").output
    else:  # ELMo: [h_fwd^(j) ; h_bwd^(j)] per layer, the backward states put back at their own steps
        outputs = [
            keras.layers.Concatenate(name=f"layer_{j}")([
                pretrained.get_layer(f"rnn_{j}").output,
                layers.ReverseSequence(name=f"backward_states_{j}")(pretrained.get_layer(f"backward_rnn_{j}").output),
            ])
            for j in range(backbone["arguments"]["num_layers"])
        ]  # fmt: skip
    body = keras.Model(pretrained.input, outputs, name="backbone")
    body.trainable = trainable
    features = body(token_ids)
    if backbone["recipe"] == "bidirectional_language_model":
        features = layers.ScalarMix(name="scalar_mix")(features)  # (B, T, 2H)
    return features, ops.not_equal(token_ids, PAD_ID)


def backbone_layer_names(model):
    """The names of the layers with weights of a downstream model's ``"backbone"`` (its nested body)."""
    return [layer.name for layer in model.get_layer("backbone").layers if layer.weights]


def load_backbone(model, pretrained):
    """Copies a pretrained model's weights into the ``"backbone"`` of a downstream model, layer by layer.

    Args:
        model: a downstream ``RecipeModel`` built with ``encoder="pretrained"``.
        pretrained: a ``RecipeModel`` of one of ``BACKBONE_RECIPES`` (or the path of its ``.keras`` file).

    Returns:
        ``model``.

    Raises:
        ValueError: the downstream model has no backbone, the pretrained model is of another kind, or a
            layer is missing or of another shape; each error names both models.

    Example:
    >>> import numpy as np
    >>> from seqrecipes import data, recipes
    >>> tokenizer = data.WordTokenizer().adapt(["the cat sat"]).add_mask_token()
    >>> bert = recipes.masked_language_model(num_layers=1, num_heads=2, hidden_dim=8, max_length=8, text_tokenizer=tokenizer)
    >>> model = recipes.fine_tune(bert, "text_classifier", max_length=8)
    >>> bert.get_layer("embedding").set_weights([np.zeros((tokenizer.vocabulary_size(), 8), "float32")])
    >>> table = recipes.load_backbone(model, bert).get_layer("backbone").get_layer("embedding").get_weights()[0]
    >>> float(np.abs(table).max())
    0.0
    """
    pretrained = _loaded(pretrained)
    names = f"pretrained model {pretrained.name!r} ({pretrained.recipe}) into model {model.name!r} ({model.recipe})"
    expected = model.arguments.get("backbone")
    if model.arguments.get("encoder") != "pretrained" or not expected:
        raise ValueError(f"Cannot load {names}: build it with encoder='pretrained' (recipes.fine_tune does). Received: encoder={model.arguments.get('encoder')!r}")
    if pretrained.recipe != expected["recipe"]:
        raise ValueError(f"Cannot load {names}: its backbone is a {expected['recipe']}. Received: a {pretrained.recipe}")
    for name in backbone_layer_names(model):
        target = model.get_layer("backbone").get_layer(name)
        try:
            source = pretrained.get_layer(name)
        except ValueError:
            raise ValueError(f"Cannot load {names}: the pretrained model has no layer {name!r}") from None
        shapes = [tuple(w.shape) for w in source.weights], [tuple(w.shape) for w in target.weights]
        if shapes[0] != shapes[1]:
            raise ValueError(f"Cannot load {names}: layer {name!r} holds weights of shapes {shapes[1]}. Received: {shapes[0]}")
        target.set_weights(source.get_weights())
    return model


def fine_tune(pretrained, recipe, *, backbone_trainable=True, backbone_learning_rate=None, **arguments):
    """A downstream recipe started from a pretrained GPT-, BERT- or ELMo-style model (seed 000).

    Args:
        pretrained: a trained ``transformer_language_model``, ``masked_language_model`` or
            ``bidirectional_language_model`` (a ``RecipeModel``, or the path of its ``.keras`` file).
        recipe: ``"text_classifier"`` or ``"sequence_tagger"``.
        backbone_trainable: False freezes the pretrained weights (only the new head learns).
        backbone_learning_rate: the learning rate of the pretrained weights (default: the recipe's
            ``learning_rate``); lower is the usual choice, so the head learns faster than the body moves.
        **arguments: the recipe's other arguments (``num_classes``, ``pooling``, ``tags_tokenizer``, ...);
            the text tokenizer is the pretrained model's.

    Returns:
        The compiled downstream ``RecipeModel``, its ``"backbone"`` holding the pretrained weights.

    Example:
    >>> from seqrecipes import data, recipes
    >>> tokenizer = data.WordTokenizer().adapt(["the cat sat", "the dog ran"])
    >>> lm = recipes.bidirectional_language_model(units=4, embedding_dim=4, num_layers=1, text_tokenizer=tokenizer)
    >>> model = recipes.fine_tune(lm, "text_classifier", num_classes=2, max_length=8, backbone_learning_rate=1e-4)
    >>> model.arguments["encoder"], model.arguments["backbone"]["recipe"], model.output.shape
    ('pretrained', 'bidirectional_language_model', (None, 2))
    """
    pretrained = _loaded(pretrained)
    if recipe not in ("text_classifier", "sequence_tagger"):
        raise ValueError(f"`recipe` must be 'text_classifier' or 'sequence_tagger'. Received: recipe={recipe!r}")
    for name in ("encoder", "backbone", "text_tokenizer"):
        if name in arguments:
            raise ValueError(f"fine_tune sets `{name}` from the pretrained model. Received: {name}={arguments[name]!r:.100}")
    if pretrained.recipe not in BACKBONE_RECIPES:
        raise ValueError(
            f"Cannot fine-tune a {recipe} from pretrained model {pretrained.name!r}: it is a {pretrained.recipe}, not one of "
            f"{', '.join(BACKBONE_RECIPES)}. Received: recipe={pretrained.recipe!r}"
        )
    backbone = {"recipe": pretrained.recipe, "arguments": pretrained.arguments}
    positions = backbone_positions(pretrained.recipe, pretrained.arguments)
    if positions is not None and "max_length" not in arguments:  # the recipe's default, cut to the learned positions
        default = inspect.signature(get_recipe(recipe).function).parameters["max_length"].default
        arguments["max_length"] = min(default, positions)
    model = get_recipe(recipe).function(
        encoder="pretrained", backbone=backbone, backbone_trainable=backbone_trainable,
        backbone_learning_rate=backbone_learning_rate, text_tokenizer=pretrained.tokenizers.get("text"), **arguments,
    )  # fmt: skip
    return load_backbone(model, pretrained)


def _loaded(pretrained):
    if isinstance(pretrained, str):
        pretrained = keras.saving.load_model(pretrained, safe_mode=True)
    if not hasattr(pretrained, "recipe"):
        raise ValueError(f"`pretrained` must be a seqrecipes RecipeModel or the path of its .keras file. Received: {pretrained!r:.200}")
    return pretrained


@keras.saving.register_keras_serializable(package="seqrecipes")
class FineTuningAdam(keras.optimizers.Adam):
    """Adam whose step for the variables of the named layers is ``scale`` times the learning rate.

    A downstream recipe's pretrained body learns at ``backbone_learning_rate`` = ``scale`` x
    ``learning_rate`` while its new head learns at ``learning_rate`` (discriminative fine-tuning,
    Howard and Ruder 2018). A variable belongs to a layer when its path starts with the layer's name;
    the names are in the config, so a reloaded optimizer keeps the split.

    Args:
        scaled_layers: the layer names whose variables take the scaled step.
        scale: the factor (> 0).
        **kwargs: as ``keras.optimizers.Adam``.

    Example:
    >>> import keras
    >>> embedding, dense = keras.layers.Embedding(5, 2, name="embedding"), keras.layers.Dense(2, name="logits")
    >>> embedding.build((None,)); dense.build((None, 2))
    >>> optimizer = FineTuningAdam(scaled_layers=["embedding"], scale=0.1, learning_rate=1.0)
    >>> optimizer.scale_of(embedding.embeddings), optimizer.scale_of(dense.kernel)
    (0.1, 1.0)
    """

    def __init__(self, scaled_layers=(), scale=1.0, **kwargs):
        super().__init__(**kwargs)
        self.scaled_layers = list(scaled_layers)
        self.scale = float(check_positive_number("scale", scale))

    def scale_of(self, variable):
        """``scale`` for a variable of one of ``scaled_layers`` (by its path), else 1.0."""
        return self.scale if variable.path.split("/")[0] in self.scaled_layers else 1.0

    def build(self, var_list):
        super().build(var_list)
        self._scales = [self.scale_of(variable) for variable in var_list]  # by the optimizer's variable index

    def update_step(self, gradient, variable, learning_rate):
        scale = self._scales[self._get_variable_index(variable)]  # (the backend may pass its own variable)
        super().update_step(gradient, variable, learning_rate if scale == 1.0 else learning_rate * scale)

    def get_config(self):
        return {**super().get_config(), "scaled_layers": self.scaled_layers, "scale": self.scale}
