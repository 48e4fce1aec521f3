"""Bahdanau's decoder cell: attend with the previous state, feed the context into the recurrence."""

import keras
from keras import ops

from seqrecipes.layers._utils import clone_initializer
from seqrecipes.layers.attention_decoder_cell import AttentionDecoderCell


@keras.saving.register_keras_serializable(package="seqrecipes")
class BahdanauDecoderCell(AttentionDecoderCell):
    """The decoder step of Bahdanau, Cho and Bengio (2015): attention before the recurrence.

    Shapes: B batch, S source length, D_x step input size (the embedded y_{i-1}), H_s output size of
    the wrapped cell, H_v memory size, U = `units`.

        e_ij, alpha_i = a(s_{i-1}, h_j), softmax over j       the query is the previous state (eq. 6)
        c_i           = sum_j alpha_ij h_j                       (eq. 5)
        s_i           = f(s_{i-1}, [y_{i-1} ; c_i])              c_i enters the recurrence (eq. 4)
        t~_i          = W_o' [y_{i-1} ; s_i ; c_i] + b_o'        (B, 2U)
        t_i           = max(t~_{i,2k-1}, t~_{i,2k}), k = 1..U    maxout: the deep output g(y_{i-1}, s_i, c_i)

    p(y_i | y_<i, x) = softmax(W_o t_i) is the recipe's logits layer on the output t_i. Against
    ``AttentionDecoderCell`` (Luong's wiring: attend with s_t after the step, input feeding of
    h~_{t-1}), the attention here reads s_{i-1}, the context is an input of the recurrent cell, and no
    attentional state is fed back. The appendix of the paper writes the output with s_{i-1}; its
    eq. 4, p(y_i) = g(y_{i-1}, s_i, c_i), with s_i, is the form used here. For an LSTM, s is the
    hidden state h (the first cell state).

    The state list has the layout of ``AttentionDecoderCell`` (so ``AttentionDecoder``, decoding loops
    and ``get_initial_state`` work alike), with t_{i-1} where that cell keeps h~_{t-1}:

        [*cell_states, t_{i-1} (B, U), alpha_{i-1} (B, S), memory (B, S, H_v), keys (B, S, A),
         memory_mask (B, S) as 0/1 floats]

    Weights and sublayers:
        cell: the wrapped recurrent cell, given input size D_x + H_v.
        attention: a `BahdanauAttention` (or `LuongAttention`), query size H_s, value size H_v.
        attention_dense: W_o' and b_o', shape (D_x + H_s + H_v, 2U), no activation (the maxout follows).

    Args:
        cell, attention, units, kernel_initializer, **kwargs: as in ``AttentionDecoderCell``.

    Call arguments:
        inputs: y_{i-1} embedded, shape (B, D_x).
        states: the state list above.
        training: passed on to the wrapped cell.

    Returns:
        `(t_i, new_states)`: t_i of shape (B, U) and the new state list.

    Example:
    >>> import keras, numpy as np
    >>> from seqrecipes import layers
    >>> cell = layers.BahdanauDecoderCell(keras.layers.GRUCell(6), layers.BahdanauAttention(5), units=4)
    >>> decoder = layers.AttentionDecoder(cell, return_alignments=True)
    >>> outputs, alignments = decoder(np.ones((2, 3, 8), "float32"), np.ones((2, 7, 6), "float32"))
    >>> tuple(outputs.shape), tuple(alignments.shape)
    ((2, 3, 4), (2, 3, 7))

    References:
        - Bahdanau, Cho, Bengio (2015), Neural machine translation by jointly learning to align and
          translate, eq. 4-6 and appendix A.2.2, https://arxiv.org/abs/1409.0473
        - Goodfellow et al. (2013), Maxout networks, https://arxiv.org/abs/1302.4389
    """

    def _output_layer(self):
        return keras.layers.Dense(
            2 * self.units,
            kernel_initializer=clone_initializer(self.kernel_initializer),
            dtype=self.dtype_policy,
            name="attention_dense",
        )

    def build(self, inputs_shape, states_shape=None):
        self._check_step_input(inputs_shape)
        self._input_size = inputs_shape[-1]
        if states_shape is not None:
            self._build_memory(states_shape[self.num_loop_states])

    def _build_memory(self, memory_shape):
        """Builds the attention, the cell (input D_x + H_v) and the output layer once D_x and H_v are known."""
        self._check_memory(memory_shape)
        B, H_s, H_v = memory_shape[0], self._cell_output_size(), memory_shape[-1]
        if not self.attention.built:
            self.attention.build((B, H_s), tuple(memory_shape))
        D_x = getattr(self, "_input_size", None)
        if D_x is None:  # keras.layers.RNN makes the initial state before it builds the cell: the call builds these
            return
        if not self.cell.built:
            self.cell.build((B, D_x + H_v))
        if not self.attention_dense.built:
            self.attention_dense.build((B, D_x + H_s + H_v))

    def _step(self, inputs, cell_states, t_tm1, memory, keys, memory_mask, training):
        """Bahdanau's step: (t_i, alpha_i, the wrapped cell's new states)."""
        s_tm1 = cell_states[0]  # (B, H_s): s_{i-1}, the hidden state
        c_i, alpha_i = self.attention(s_tm1, memory, mask=memory_mask > 0.5, keys=keys)  # (B, H_v), (B, S)
        x_i = ops.concatenate([inputs, ops.cast(c_i, inputs.dtype)], axis=-1)  # (B, D_x + H_v)
        s_i, new_cell_states = self._run_cell(x_i, cell_states, training)  # (B, H_s)
        deep = ops.concatenate([inputs, ops.cast(s_i, inputs.dtype), ops.cast(c_i, inputs.dtype)], axis=-1)
        t_tilde = self.attention_dense(deep)  # (B, 2U)
        t_i = ops.max(ops.reshape(t_tilde, (-1, self.units, 2)), axis=-1)  # (B, U): maxout over pairs
        return t_i, alpha_i, new_cell_states
