"""A recurrent cell that attends over encoder outputs at every step, with Luong's input feeding."""

import inspect

import keras
from keras import ops

from seqrecipes._checks import check_positive_int
from seqrecipes.layers._utils import clone_initializer


def _as_layer(layer_or_config, name):
    """A layer, or the layer a `keras.saving.serialize_keras_object` dict describes."""
    if isinstance(layer_or_config, dict):
        layer_or_config = keras.saving.deserialize_keras_object(layer_or_config)
    if not isinstance(layer_or_config, keras.layers.Layer):
        raise ValueError(
            f"`{name}` of AttentionDecoderCell must be a Keras layer or its serialized config. "
            f"Received: {name}={layer_or_config!r}"
        )
    return layer_or_config


def _flat_state_sizes(state_size):
    return list(state_size) if isinstance(state_size, (list, tuple)) else [state_size]


@keras.saving.register_keras_serializable(package="seqrecipes")
class AttentionDecoderCell(keras.layers.Layer):
    """Wraps a recurrent cell with global attention over a memory and input feeding (Luong et al. 2015).

    Shapes: B batch, S source length, D_x step input size, H_s output size of the wrapped cell,
    H_v memory size, U = `units`.

        x'_t          = [x_t ; h~_{t-1}]                     input feeding: the last attentional state
        s_t, states_t = cell(x'_t, states_{t-1})
        c_t, alpha_t  = attention(s_t, h_1..h_S)             alpha_t (B, S), c_t = sum_j alpha_tj h_j
        h~_t          = tanh(W_c [c_t ; s_t])                the output of the step

    `attention` is a `BahdanauAttention` or `LuongAttention`; its query is s_t (Luong's order: attend
    after the recurrent step). The memory part of each score (U h_j, W_a h_j, ...) is computed once per
    source sequence by `get_initial_state`.

    The memory travels in the state, so the cell runs unchanged in `keras.layers.RNN` (which forwards no
    constants), in the project's `AttentionDecoder` (which also stacks the alignment history), and one
    step at a time in a decoding loop; all three give the same numbers. The state is a flat list:

        [*cell_states, h~_{t-1} (B, U), alpha_{t-1} (B, S), memory (B, S, H_v), keys (B, S, A),
         memory_mask (B, S) as 0/1 floats]

    made by `get_initial_state(memory=..., memory_mask=..., cell_states=...)`. Every step returns
    alpha_t in the state, so a decoding loop can record the alignments for plotting.

    Weights and sublayers:
        cell: the wrapped recurrent cell (standard Keras cell interface), given input size D_x + U.
        attention: the attention layer, query size H_s, value size H_v.
        attention_dense: W_c, shape (H_v + H_s, U), no bias, tanh.

    Args:
        cell: a recurrent cell (e.g. `seqrecipes.layers.LSTMCell`, `keras.layers.GRUCell`) or its
            serialized config.
        attention: a `BahdanauAttention` or `LuongAttention` layer or its serialized config.
        units: U, a positive integer, the size of the attentional state h~.
        kernel_initializer: initializer of W_c.
        **kwargs: passed on to `keras.layers.Layer`.

    Call arguments:
        inputs: x_t, shape (B, D_x).
        states: the state list above.
        training: passed on to the wrapped cell.

    Returns:
        `(h~_t, new_states)`: h~_t of shape (B, U) and the new state list.

    Example:
    >>> import keras, numpy as np
    >>> from seqrecipes import layers
    >>> cell = layers.AttentionDecoderCell(keras.layers.GRUCell(6), layers.LuongAttention(6, score="general"), units=5)
    >>> memory = np.ones((2, 7, 4), "float32")
    >>> states = cell.get_initial_state(memory=memory)
    >>> rnn = keras.layers.RNN(cell, return_sequences=True, return_state=True)
    >>> outputs, *final_states = rnn(np.ones((2, 3, 8), "float32"), initial_state=states)
    >>> tuple(outputs.shape), tuple(final_states[cell.alignments_index].shape)
    ((2, 3, 5), (2, 7))

    References:
        - Luong, Pham, Manning (2015), Effective approaches to attention-based neural machine
          translation, https://arxiv.org/abs/1508.04025
        - Bahdanau, Cho, Bengio (2015), https://arxiv.org/abs/1409.0473
    """

    def __init__(self, cell, attention, units, kernel_initializer="glorot_uniform", **kwargs):
        super().__init__(**kwargs)
        units = check_positive_int("units", units, owner=type(self).__name__)
        self.cell = _as_layer(cell, "cell")
        for required in ("state_size", "call"):
            if not hasattr(self.cell, required):
                raise ValueError(
                    f"`cell` of AttentionDecoderCell must be a recurrent cell with `{required}`. Received: cell={self.cell}"
                )
        self.attention = _as_layer(attention, "attention")
        if not hasattr(self.attention, "compute_keys"):
            raise ValueError(
                "`attention` of AttentionDecoderCell must be a BahdanauAttention or LuongAttention (a layer with "
                f"`compute_keys`). Received: attention={self.attention}"
            )
        self.units = units
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        # Created here, not in build(): its input size (H_v + H_s) is known only once the memory is seen,
        # which for keras.layers.RNN is in get_initial_state, after the cell itself may have been built.
        self.attention_dense = self._output_layer()
        self._cell_takes_training = "training" in inspect.signature(self.cell.call).parameters
        self._num_cell_states = len(_flat_state_sizes(self.cell.state_size))

    def _output_layer(self):
        """W_c: h~_t = tanh(W_c [c_t ; s_t])."""
        return keras.layers.Dense(
            self.units,
            activation="tanh",
            use_bias=False,
            kernel_initializer=clone_initializer(self.kernel_initializer),
            dtype=self.dtype_policy,
            name="attention_dense",
        )

    @property
    def state_size(self):
        # S, H_v and the key size are known only from the memory: None there.
        return _flat_state_sizes(self.cell.state_size) + [self.units, None, None, None, None]

    @property
    def output_size(self):
        return self.units

    @property
    def attention_state_index(self):
        """Position of h~_{t-1} in the state list."""
        return self._num_cell_states

    @property
    def alignments_index(self):
        """Position of alpha_t in the state list."""
        return self._num_cell_states + 1

    @property
    def num_loop_states(self):
        """How many leading states change from step to step (the rest is the memory, keys and mask)."""
        return self._num_cell_states + 2

    def _check_step_input(self, shape):
        if len(shape) != 2:
            raise ValueError(
                f"`inputs` of {type(self).__name__} must have rank 2 (B, D_x), one step. Received: inputs.shape={shape}"
            )

    def _check_memory(self, shape):
        if len(shape) != 3:
            raise ValueError(
                f"The memory of {type(self).__name__} must have rank 3 (B, S, H_v). Received: memory.shape={shape}"
            )

    def _cell_output_size(self):
        size = getattr(self.cell, "output_size", None)
        return size if size is not None else _flat_state_sizes(self.cell.state_size)[0]

    def build(self, inputs_shape, states_shape=None):
        self._check_step_input(inputs_shape)
        if not self.cell.built:
            self.cell.build((inputs_shape[0], inputs_shape[-1] + self.units))
        if states_shape is not None:
            self._build_memory(states_shape[self.num_loop_states])

    def _build_memory(self, memory_shape):
        """Builds the attention and W_c for a memory of shape (B, S, H_v); does nothing once built."""
        self._check_memory(memory_shape)
        B, H_s = memory_shape[0], self._cell_output_size()
        if not self.attention.built:
            self.attention.build((B, H_s), tuple(memory_shape))
        if not self.attention_dense.built:
            self.attention_dense.build((B, memory_shape[-1] + H_s))

    def get_initial_state(self, batch_size=None, memory=None, memory_mask=None, cell_states=None):
        """The full state list for a memory (B, S, H_v), its optional boolean mask (B, S) and optional
        initial states of the wrapped cell (e.g. the encoder's final states); h~_0 and alpha_0 are zeros."""
        if memory is None:
            raise ValueError(
                "AttentionDecoderCell needs the encoder outputs: build its initial state with "
                "cell.get_initial_state(memory=..., memory_mask=...) and pass it as `initial_state`. "
                "Received: memory=None"
            )
        memory = ops.cast(memory, self.compute_dtype)
        self._build_memory(tuple(memory.shape))
        shape = ops.shape(memory)
        B, S = shape[0], shape[1]
        if memory_mask is None:
            memory_mask = getattr(memory, "_keras_mask", None)
        if memory_mask is None:
            mask = ops.ones((B, S), dtype=self.compute_dtype)
        else:
            mask = ops.cast(memory_mask, self.compute_dtype)  # (B, S) 0/1
        if cell_states is None:
            cell_states = self.cell.get_initial_state(batch_size=B)
        cell_states = [ops.cast(s, self.compute_dtype) for s in _flat_state_sizes(cell_states)]
        keys = self.attention.compute_keys(memory)  # (B, S, A)
        h_tilde = ops.zeros((B, self.units), dtype=self.compute_dtype)
        alpha = ops.zeros((B, S), dtype=self.compute_dtype)
        return cell_states + [h_tilde, alpha, memory, ops.cast(keys, self.compute_dtype), mask]

    def call(self, inputs, states, training=None):
        self._check_step_input(inputs.shape)
        states = list(states)
        n = self._num_cell_states
        output_tm1, _, memory, keys, memory_mask = states[n:]
        output, alpha, new_cell_states = self._step(inputs, states[:n], output_tm1, memory, keys, memory_mask, training)
        dtype = output_tm1.dtype
        new_states = [ops.cast(s, dtype) for s in new_cell_states]
        new_states += [ops.cast(output, dtype), ops.cast(alpha, dtype), memory, keys, memory_mask]
        return output, new_states

    def _step(self, inputs, cell_states, h_tilde_tm1, memory, keys, memory_mask, training):
        """Luong's step: (h~_t, alpha_t, the wrapped cell's new states)."""
        x_t = ops.concatenate([inputs, ops.cast(h_tilde_tm1, inputs.dtype)], axis=-1)  # (B, D_x + U)
        s_t, new_cell_states = self._run_cell(x_t, cell_states, training)  # (B, H_s)
        c_t, alpha_t = self.attention(s_t, memory, mask=memory_mask > 0.5, keys=keys)  # (B, H_v), (B, S)
        h_tilde_t = self.attention_dense(ops.concatenate([c_t, ops.cast(s_t, c_t.dtype)], axis=-1))  # (B, U)
        return h_tilde_t, alpha_t, new_cell_states

    def _run_cell(self, x, cell_states, training):
        """The wrapped cell's step: (its output (B, H_s), its new states as a list)."""
        cell_kwargs = {"training": training} if self._cell_takes_training else {}
        output, new_cell_states = self.cell(x, cell_states, **cell_kwargs)
        if not isinstance(new_cell_states, (list, tuple)):
            new_cell_states = [new_cell_states]
        return output, list(new_cell_states)

    def compute_output_shape(self, inputs_shape, states_shape):
        return (inputs_shape[0], self.units), [tuple(s) for s in states_shape]

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "cell": keras.saving.serialize_keras_object(self.cell),
                "attention": keras.saving.serialize_keras_object(self.attention),
                "units": self.units,
                "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
            }
        )
        return config
