"""The base class of the project's recurrent cells: arguments, weights, dropout masks, one step.

A cell computes one time step. It splits that step in two so that a sequence layer can hoist the
input projection out of the loop over time:

    x_proj_t = project_inputs(x_t)              # W x_t + b, for many t in one matmul
    output_t, states_t = step(x_proj_t, states_tm1)

``call(inputs, states)`` chains the two for one step at a time, so the cell also works inside
``keras.layers.RNN``, ``keras.layers.StackedRNNCells`` and a hand-written decoding loop.

A cell may also own a recurrence with a hand-written backward pass: ``hand_written_recurrence()``
returns it (a ``_bptt.Recurrence``, its body beside the cell), and the project's ``RNN`` runs it
instead of autodiff through the generic loop. The base class owns none.
"""

import keras
from keras import ops

from seqrecipes._checks import check_positive_int
from seqrecipes._checks import check_rate


@keras.saving.register_keras_serializable(package="seqrecipes")
class RecurrentCell(keras.layers.Layer):
    """Base class for cells of the form h_t = f(W x_t + U h_{t-1} + b).

    Subclasses set ``gates`` (how many blocks of ``units`` columns ``kernel`` has), implement
    ``step`` and, where they carry more than one state, ``state_size``.

    Weights (created in ``build``):
        kernel: W, shape (D, gates * H), the input projection.
        recurrent_kernel: U, shape (H, gates * H).
        bias: b, shape (gates * H,).

    Args:
        units: H, a positive integer, the size of the hidden state.
        activation: the candidate activation (tanh by default).
        use_bias: whether to add b.
        kernel_initializer, recurrent_initializer, bias_initializer: initializers of W, U and b.
        kernel_regularizer, recurrent_regularizer, bias_regularizer: optional regularizers.
        kernel_constraint, recurrent_constraint, bias_constraint: optional constraints.
        dropout: rate of the dropout on x_t. A sequence layer draws one mask per sequence.
        recurrent_dropout: rate of the dropout on h_{t-1}, one mask per sequence.
        seed: seed of the dropout masks.
        **kwargs: passed on to ``keras.layers.Layer``.

    Call arguments:
        inputs: x_t, shape (B, D).
        states: a list as in ``state_size``, each (B, H).
        training: whether dropout applies.

    Returns:
        (output_t, new_states list), as ``step`` gives them.

    Example:
    >>> import numpy as np
    >>> from keras import ops
    >>> from seqrecipes import layers
    >>> class ReLURNNCell(layers.RecurrentCell):  # h_t = relu(W x_t + U h_{t-1} + b)
    ...     def step(self, x_proj, states, recurrent_mask=None):
    ...         h_tm1 = states[0] if recurrent_mask is None else states[0] * recurrent_mask
    ...         h = ops.relu(x_proj + ops.matmul(h_tm1, self.recurrent_kernel))
    ...         return h, [h]
    >>> rnn = layers.RNN(ReLURNNCell(4), return_sequences=True)
    >>> tuple(rnn(np.ones((2, 5, 3), "float32")).shape)
    (2, 5, 4)
    >>> ReLURNNCell(4).hand_written_recurrence() is None  # autodiff through the loop
    True
    """

    gates = 1

    def __init__(
        self,
        units,
        activation="tanh",
        use_bias=True,
        kernel_initializer="glorot_uniform",
        recurrent_initializer="orthogonal",
        bias_initializer="zeros",
        kernel_regularizer=None,
        recurrent_regularizer=None,
        bias_regularizer=None,
        kernel_constraint=None,
        recurrent_constraint=None,
        bias_constraint=None,
        dropout=0.0,
        recurrent_dropout=0.0,
        seed=None,
        **kwargs,
    ):
        owner = type(self).__name__
        units = check_positive_int("units", units, owner=owner)
        check_rate("dropout", dropout, owner=owner)
        check_rate("recurrent_dropout", recurrent_dropout, owner=owner)
        super().__init__(**kwargs)
        self.units = units
        self.activation = keras.activations.get(activation)
        self.use_bias = use_bias
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.recurrent_initializer = keras.initializers.get(recurrent_initializer)
        self.bias_initializer = keras.initializers.get(bias_initializer)
        self.kernel_regularizer = keras.regularizers.get(kernel_regularizer)
        self.recurrent_regularizer = keras.regularizers.get(recurrent_regularizer)
        self.bias_regularizer = keras.regularizers.get(bias_regularizer)
        self.kernel_constraint = keras.constraints.get(kernel_constraint)
        self.recurrent_constraint = keras.constraints.get(recurrent_constraint)
        self.bias_constraint = keras.constraints.get(bias_constraint)
        self.dropout = float(dropout)
        self.recurrent_dropout = float(recurrent_dropout)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    @property
    def state_size(self):
        return self.units

    @property
    def output_size(self):
        return self.units

    def bias_shape(self):
        return (self.gates * self.units,)

    def initial_bias(self, shape, dtype=None):
        return self.bias_initializer(shape, dtype=dtype)

    def build(self, input_shape):
        input_dim = input_shape[-1]
        if input_dim is None:
            raise ValueError(
                f"The last axis of the input of {type(self).__name__} must be known. "
                f"Received: input_shape={input_shape}"
            )
        self.kernel = self.add_weight(
            shape=(input_dim, self.gates * self.units),
            name="kernel",
            initializer=self.kernel_initializer,
            regularizer=self.kernel_regularizer,
            constraint=self.kernel_constraint,
        )
        self.recurrent_kernel = self.add_weight(
            shape=(self.units, self.gates * self.units),
            name="recurrent_kernel",
            initializer=self.recurrent_initializer,
            regularizer=self.recurrent_regularizer,
            constraint=self.recurrent_constraint,
        )
        self.bias = None
        if self.use_bias:
            self.bias = self.add_weight(
                shape=self.bias_shape(),
                name="bias",
                initializer=self.initial_bias,
                regularizer=self.bias_regularizer,
                constraint=self.bias_constraint,
            )

    def input_bias(self):
        """The b of W x + b, (gates * H,), or None without a bias."""
        return self.bias if self.use_bias else None

    def input_projection(self):
        """The function inputs (..., D) -> W x + b (..., gates * H). What it derives from the weights
        is computed here, once: a sequence layer applies it to each chunk of time steps."""
        kernel, bias = self.kernel, self.input_bias()

        def project(inputs):
            x_proj = ops.matmul(inputs, kernel)
            return x_proj if bias is None else x_proj + bias

        return project

    def project_inputs(self, inputs):
        """W x + b for inputs of shape (..., D); returns (..., gates * H)."""
        return self.input_projection()(inputs)

    def step(self, x_proj, states, recurrent_mask=None):
        """One step from the projected input. Returns (output, new_states list)."""
        raise NotImplementedError(f"{type(self).__name__} must implement step().")

    def hand_written_recurrence(self):
        """The recurrence with a hand-written backward pass that this cell supports, as
        ``_bptt.run`` takes it (a ``_bptt.Recurrence``), or None: autodiff through the generic loop.

        None here; a cell that owns such a recurrence overrides this, and returns it only where
        ``has_default_form`` holds for its own class. Needs the built weights.
        """
        return None

    def has_default_form(self, cls):
        """Whether this cell is an instance of exactly ``cls`` with the default activations (tanh,
        and sigmoid gates where it has any): the only form whose derivatives ``cls``'s hand-written
        recurrence knows. A subclass may change the step and other activations the derivatives, so
        both fall back to autodiff."""
        tanh, sigmoid = keras.activations.tanh, keras.activations.sigmoid
        gates = getattr(self, "recurrent_activation", sigmoid)
        return type(self) is cls and self.activation is tanh and gates is sigmoid

    def dropout_masks(self, step_input, h_tm1, training=False):
        """One dropout mask for x_t and one for h_{t-1}, or None where no dropout applies.

        A sequence layer calls this once per batch, so every step of a sequence shares the masks.
        """
        input_mask = recurrent_mask = None
        if training and self.dropout > 0:
            input_mask = keras.random.dropout(ops.ones_like(step_input), self.dropout, seed=self.seed_generator)
        if training and self.recurrent_dropout > 0:
            recurrent_mask = keras.random.dropout(
                ops.ones_like(h_tm1), self.recurrent_dropout, seed=self.seed_generator
            )
        return input_mask, recurrent_mask

    def call(self, inputs, states, training=False):
        """One step: ``inputs`` (B, D), ``states`` a list as in ``state_size``."""
        states = list(states) if isinstance(states, (list, tuple)) else [states]
        input_mask, recurrent_mask = self.dropout_masks(inputs, states[0], training)
        if input_mask is not None:
            inputs = inputs * input_mask
        return self.step(self.project_inputs(inputs), states, recurrent_mask)

    def get_initial_state(self, batch_size=None):
        sizes = self.state_size if isinstance(self.state_size, (list, tuple)) else [self.state_size]
        return [ops.zeros((batch_size, size), dtype=self.compute_dtype) for size in sizes]

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "units": self.units,
                "activation": keras.activations.serialize(self.activation),
                "use_bias": self.use_bias,
                "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
                "recurrent_initializer": keras.initializers.serialize(self.recurrent_initializer),
                "bias_initializer": keras.initializers.serialize(self.bias_initializer),
                "kernel_regularizer": keras.regularizers.serialize(self.kernel_regularizer),
                "recurrent_regularizer": keras.regularizers.serialize(self.recurrent_regularizer),
                "bias_regularizer": keras.regularizers.serialize(self.bias_regularizer),
                "kernel_constraint": keras.constraints.serialize(self.kernel_constraint),
                "recurrent_constraint": keras.constraints.serialize(self.recurrent_constraint),
                "bias_constraint": keras.constraints.serialize(self.bias_constraint),
                "dropout": self.dropout,
                "recurrent_dropout": self.recurrent_dropout,
                "seed": self.seed,
            }
        )
        return config
