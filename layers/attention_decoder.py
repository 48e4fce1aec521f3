"""Runs an AttentionDecoderCell over a whole target sequence (teacher forcing) and keeps the alignments."""

import keras
from keras import ops

from seqrecipes.layers.attention_decoder_cell import AttentionDecoderCell


@keras.saving.register_keras_serializable(package="seqrecipes")
class AttentionDecoder(keras.layers.Layer):
    """The sequence layer of `AttentionDecoderCell`: the decoder of an attentional seq2seq model.

    Shapes: B batch, T target length, S source length, D_x target input size, H_v memory size,
    U = `cell.units`.

        states_0        = cell.get_initial_state(memory, memory_mask, initial_state)
        h~_t, states_t  = cell(x_t, states_{t-1})        t = 1 .. T   (a keras.ops.scan over time)
        outputs         = [h~_1 .. h~_T]                  (B, T, U)
        alignments      = [alpha_1 .. alpha_T]            (B, T, S), the matrix to plot

    Where the target mask is 0 the states are carried over unchanged and the outputs and alignments
    are 0. `keras.layers.RNN(cell)` with `initial_state=cell.get_initial_state(...)` and a step-by-step
    loop over `cell(x_t, states)` give the same outputs; this layer also returns the alignment history,
    which `keras.layers.RNN` cannot, and takes the memory as a call argument, so it works in functional
    models.

    Args:
        cell: an `AttentionDecoderCell` or its serialized config.
        return_alignments: whether to return the alignments (B, T, S) after the outputs.
        return_state: whether to return the final state list of the cell at the end (it continues
            decoding one step at a time with `cell(x_t, states)`).
        **kwargs: passed on to `keras.layers.Layer`.

    Call arguments:
        inputs: x, shape (B, T, D_x), e.g. the embedded target shifted right (teacher forcing).
        memory: the encoder outputs h_1..h_S, shape (B, S, H_v).
        mask: optional boolean (B, T) target mask; defaults to the Keras mask of `inputs`.
        memory_mask: optional boolean (B, S) source mask; defaults to the Keras mask of `memory`.
        initial_state: optional list of initial states of the wrapped cell (e.g. the encoder's final
            states); zeros by default.
        training: passed on to the cell.

    Returns:
        `outputs`, then `alignments` if `return_alignments`, then the final states if `return_state`
        (a flat tuple).

    Example:
    >>> import keras, numpy as np
    >>> from seqrecipes import layers
    >>> cell = layers.AttentionDecoderCell(keras.layers.LSTMCell(6), layers.BahdanauAttention(5), units=6)
    >>> decoder = layers.AttentionDecoder(cell, return_alignments=True)
    >>> outputs, alignments = decoder(np.ones((2, 3, 8), "float32"), np.ones((2, 7, 4), "float32"))
    >>> tuple(outputs.shape), tuple(alignments.shape)
    ((2, 3, 6), (2, 3, 7))

    References:
        - Luong, Pham, Manning (2015), https://arxiv.org/abs/1508.04025
        - Bahdanau, Cho, Bengio (2015), https://arxiv.org/abs/1409.0473
    """

    def __init__(self, cell, return_alignments=False, return_state=False, **kwargs):
        super().__init__(**kwargs)
        if isinstance(cell, dict):
            cell = keras.saving.deserialize_keras_object(cell)
        if not isinstance(cell, AttentionDecoderCell):
            raise ValueError(f"`cell` of AttentionDecoder must be an AttentionDecoderCell. Received: cell={cell!r}")
        self.cell = cell
        self.return_alignments = return_alignments
        self.return_state = return_state
        self.supports_masking = True

    def build(self, inputs_shape, memory_shape):
        if len(inputs_shape) != 3:
            raise ValueError(f"`inputs` of AttentionDecoder must have rank 3 (B, T, D_x). Received: inputs.shape={inputs_shape}")
        if len(memory_shape) != 3:
            raise ValueError(f"`memory` of AttentionDecoder must have rank 3 (B, S, H_v). Received: memory.shape={memory_shape}")
        states_shape = [None] * self.cell.num_loop_states + [tuple(memory_shape), None, None]
        if not self.cell.built:
            self.cell.build((inputs_shape[0], inputs_shape[-1]), states_shape)
        else:
            self.cell._build_memory(tuple(memory_shape))

    def call(self, inputs, memory, mask=None, memory_mask=None, initial_state=None, training=None):
        if len(inputs.shape) != 3:
            raise ValueError(f"`inputs` of AttentionDecoder must have rank 3 (B, T, D_x). Received: inputs.shape={inputs.shape}")
        if mask is None:
            mask = getattr(inputs, "_keras_mask", None)
        states = self.cell.get_initial_state(memory=memory, memory_mask=memory_mask, cell_states=initial_state)
        n = self.cell.num_loop_states
        loop_states, constants = states[:n], states[n:]
        x = ops.transpose(inputs, (1, 0, 2))  # (T, B, D_x)
        if mask is not None:
            # The mask rides along as one last 0/1 feature: keras' TensorFlow scan fails on several
            # scanned tensors of unknown length T (Keras 3.15), as in a model fit on padded batches.
            m = ops.transpose(ops.cast(mask, x.dtype), (1, 0))[:, :, None]  # (T, B, 1)
            x = ops.concatenate([x, m], axis=-1)  # (T, B, D_x + 1)

        def step(carry, xs):
            x_t, m_t = (xs, None) if mask is None else (xs[:, :-1], xs[:, -1:] > 0.5)  # (B, D_x), (B, 1)
            _, new_states = self.cell(x_t, list(carry) + constants, training=training)
            new_carry = new_states[:n]
            if m_t is not None:
                new_carry = [ops.where(m_t, new, old) for new, old in zip(new_carry, carry)]
            return new_carry, new_carry

        final, history = ops.scan(step, loop_states, x)
        outputs = ops.transpose(history[self.cell.attention_state_index], (1, 0, 2))  # (B, T, U)
        alignments = ops.transpose(history[self.cell.alignments_index], (1, 0, 2))  # (B, T, S)
        if mask is not None:
            keep = ops.cast(mask, "bool")[:, :, None]  # (B, T, 1)
            outputs = ops.where(keep, outputs, ops.zeros_like(outputs))
            alignments = ops.where(keep, alignments, ops.zeros_like(alignments))
        results = (outputs,)
        if self.return_alignments:
            results += (alignments,)
        if self.return_state:
            results += tuple(final) + tuple(constants)
        return results[0] if len(results) == 1 else results

    def compute_output_shape(self, inputs_shape, memory_shape):
        B, T, S = inputs_shape[0], inputs_shape[1], memory_shape[1]
        shapes = ((B, T, self.cell.units),)
        if self.return_alignments:
            shapes += ((B, T, S),)
        if self.return_state:
            keys_shape = tuple(self.cell.attention.compute_keys(keras.KerasTensor(memory_shape)).shape)
            cell_sizes = self.cell.state_size[: self.cell.num_loop_states - 2]
            shapes += tuple((B, size) for size in cell_sizes)
            shapes += ((B, self.cell.units), (B, S), tuple(memory_shape), keys_shape, (B, S))
        return shapes[0] if len(shapes) == 1 else shapes

    def compute_mask(self, inputs, previous_mask):
        if not self.return_alignments and not self.return_state:
            return previous_mask
        masks = [previous_mask]
        if self.return_alignments:
            masks.append(previous_mask)
        if self.return_state:
            masks += [None] * len(self.cell.state_size)
        return masks

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "cell": keras.saving.serialize_keras_object(self.cell),
                "return_alignments": self.return_alignments,
                "return_state": self.return_state,
            }
        )
        return config
