"""``RecipeModel``: the functional Keras model every recipe returns.

It remembers which recipe built it, with which arguments, and carries its tokenizers, so that a
``.keras`` file reloads (``safe_mode=True``) into the same model and ``export`` can put the
tokenization inside the SavedModel.
"""

import keras
import tensorflow as tf

from seqrecipes.recipes.registry import get_recipe


@keras.saving.register_keras_serializable(package="seqrecipes")
class RecipeModel(keras.Model):
    """A functional model built by a registered recipe.

    Args:
        inputs, outputs: as ``keras.Model(inputs, outputs)``.
        recipe: the registered recipe's name.
        arguments: the recipe's keyword arguments (JSON values), without the tokenizers.
        tokenizers: a dict of ``seqrecipes.data`` tokenizers by role (``"source"``, ``"target"``,
            ``"text"``, ``"tags"``, ``"labels"``); roles given as None are left out.
        model_loss: optional ``model_loss(model, x, y, y_pred)``, a scalar loss that reads the model's
            own layers (a CRF tagger's transitions), used instead of the compiled loss.
        training_logits: optional ``training_logits(model, x)``, the outputs a training step uses
            instead of the functional graph's (``training/scheduled_sampling.py``).
        **kwargs: passed on to ``keras.Model`` (``name``).

    Attributes:
        decoder: for generating recipes, the ``Decoder`` that ``decoding`` and ``export`` run.

    Saving: ``get_config`` holds the recipe name, its arguments and the serialized tokenizers;
    ``from_config`` calls the recipe again, so the weights of the ``.keras`` file load into the same
    structure. No Lambda layers anywhere: ``keras.saving.load_model(path, safe_mode=True)`` works.

    Token ids: ``fit`` and ``evaluate`` check that every integer input feeding an Embedding holds ids in
    ``[0, vocabulary size)`` and, for a sparse cross-entropy loss, that integer targets are ids of the
    output; a bad id is a ValueError naming the batch tensor and the id (``training/token_ids.py``:
    arrays at once, a ``tf.data.Dataset`` per batch; generators are not checked).

    Example:
    >>> import os, tempfile
    >>> import keras
    >>> from seqrecipes import data, recipes
    >>> tokenizer = data.WordTokenizer(vocabulary=["good", "bad"])
    >>> model = recipes.text_classifier(max_length=4, units=4, embedding_dim=4, text_tokenizer=tokenizer)
    >>> path = os.path.join(tempfile.mkdtemp(), "classifier.keras")
    >>> model.save(path)
    >>> loaded = keras.saving.load_model(path, safe_mode=True)
    >>> loaded.recipe, loaded.arguments == model.arguments, loaded.tokenizer("text").get_vocabulary()[4:]
    ('text_classifier', True, ['good', 'bad'])
    """

    def __init__(self, inputs, outputs, recipe, arguments, tokenizers=None, model_loss=None, training_logits=None, **kwargs):
        super().__init__(inputs=inputs, outputs=outputs, **kwargs)
        self.recipe = recipe
        self.arguments = dict(arguments)
        self.tokenizers = {role: t for role, t in (tokenizers or {}).items() if t is not None}
        self.model_loss = model_loss
        self.training_logits = training_logits

    def call(self, inputs, training=None, mask=None, **kwargs):
        """The functional graph; in training, the recipe's ``training_logits(model, inputs)`` instead when it
        has one (scheduled sampling runs the decoder step by step)."""
        if training and self.training_logits is not None:
            return self.training_logits(self, inputs)
        return super().call(inputs, training=training, mask=mask, **kwargs)

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        """Keras's compiled loss, or the recipe's ``model_loss(model, x, y, y_pred)`` (a scalar) for a loss
        that reads the model's own layers, such as a CRF tagger's transitions; plus the layers' losses."""
        if self.model_loss is None:
            return super().compute_loss(x, y, y_pred, sample_weight, training=training)
        loss = self.model_loss(self, x, y, y_pred)
        for extra in self.losses:
            loss = loss + self._aggregate_additional_loss(extra)
        return loss

    @property
    def info(self):
        return get_recipe(self.recipe)

    @property
    def decoder(self):
        if self.info.decoder is None:
            raise ValueError(f"Recipe {self.recipe!r} does not generate sequences; it has no decoder. Received: recipe={self.recipe!r}")
        if getattr(self, "_decoder", None) is None:
            self._decoder = self.info.decoder(self)
        return self._decoder

    def fit(self, x=None, y=None, *args, **kwargs):
        """``keras.Model.fit`` with the token ids checked (see the class docstring).

        Raises:
            ValueError: a token id outside its vocabulary, naming the batch tensor and the id.
        """
        from seqrecipes.recipes.training.clipping import summed_before_clipping  # here: see _checked

        with summed_before_clipping(self.optimizer, self.distribute_strategy):
            # under a strategy, the global batch's gradient is clipped, not each replica's (training/clipping.py)
            return self._checked(super().fit, x, y, args, kwargs)

    def evaluate(self, x=None, y=None, *args, **kwargs):
        """``keras.Model.evaluate`` with the token ids checked (see the class docstring).

        Raises:
            ValueError: a token id outside its vocabulary, naming the batch tensor and the id.
        """
        return self._checked(super().evaluate, x, y, args, kwargs)

    def train_step(self, data):
        return _per_worker_logs(self.distribute_strategy, super().train_step(data))

    def test_step(self, data):
        return _per_worker_logs(self.distribute_strategy, super().test_step(data))

    def _maybe_symbolic_build(self, iterator=None, data_batch=None):
        # Keras builds a distributed model on the first batch reduced with strategy.reduce("MEAN", ...), which
        # MultiWorkerMirroredStrategy cannot do on a dict of inputs (nor need: building reads shapes). This
        # builds on this worker's first replica's part of the batch instead.
        strategy = self._distribute_strategy
        if strategy is None or iterator is None:
            return super()._maybe_symbolic_build(iterator, data_batch)
        for _, _, batches in iterator:
            local = tf.nest.map_structure(
                lambda x: strategy.experimental_local_results(x)[0] if isinstance(x, tf.distribute.DistributedValues) else x,
                next(batches),
            )  # fmt: skip
            break
        with strategy.scope():
            self._symbolic_build(data_batch=local)

    def _checked(self, run, x, y, args, kwargs):
        from seqrecipes.recipes.training import token_ids  # here: the training package imports this module's users

        limits = token_ids.id_limits(self)
        x = self._checked_data(x, y, limits)
        if isinstance(kwargs.get("validation_data"), tuple):
            token_ids.check_arrays(self, *kwargs["validation_data"][:2], limits=limits)
        elif kwargs.get("validation_data") is not None:
            kwargs["validation_data"] = self._checked_data(kwargs["validation_data"], None, limits)
        try:
            return run(x, y, *args, **kwargs)
        except tf.errors.InvalidArgumentError as error:
            clear = token_ids.raised_error(self, error, limits)
            if clear is None:
                raise
            raise clear from None

    def _checked_data(self, x, y, limits):
        from seqrecipes.recipes.training import token_ids

        if isinstance(x, tf.data.Dataset):
            return token_ids.checked_dataset(self, x, limits)
        token_ids.check_arrays(self, x, y, limits)
        return x

    def tokenizer(self, role):
        """The tokenizer of a role; a clear error if the recipe was built without it."""
        if role not in self.tokenizers:
            raise ValueError(
                f"Model {self.name!r} has no {role!r} tokenizer; pass one to the recipe "
                f"(e.g. `{role}_tokenizer=...`). Known roles: {sorted(self.tokenizers)}. Received: role={role!r}"
            )
        return self.tokenizers[role]

    def get_config(self):
        return {
            "name": self.name,
            "recipe": self.recipe,
            "arguments": self.arguments,
            "tokenizers": {role: keras.saving.serialize_keras_object(t) for role, t in self.tokenizers.items()},
        }

    @classmethod
    def from_config(cls, config, custom_objects=None):
        tokenizers = {
            role: keras.saving.deserialize_keras_object(t, custom_objects=custom_objects)
            for role, t in config.get("tokenizers", {}).items()
        }
        function = get_recipe(config["recipe"]).function
        return function(**config["arguments"], **{f"{role}_tokenizer": t for role, t in tokenizers.items()}, name=config["name"])


def _per_worker_logs(strategy, logs):
    """The step's scalar logs as vectors of one value under several workers: Keras reduces them across the
    workers with ``strategy.reduce("MEAN", v, axis=0)``, which fails on a scalar (tensorflow#72388); a vector of
    one reduces to the scalar."""
    if not (isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy) and strategy.extended._in_multi_worker_mode()):
        return logs
    return tf.nest.map_structure(lambda v: tf.reshape(v, [1]) if v.shape.rank == 0 else v, logs)
