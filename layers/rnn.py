"""The project's sequence layer: runs any recurrent cell over time, input projection hoisted."""

import keras
from keras import ops

from seqrecipes.layers import _bptt

# keras.ops.scan's `unroll`: TensorFlow runs this many steps' independent ops in parallel (Keras's own
# RNN loop uses 32); JAX unrolls the loop body this many times.
SCAN_UNROLL = 32

# On TensorFlow the hand-written loop runs over a sequence of known length in up to this many chunks
# of consecutive steps, each projected just before its own loop: TensorFlow's executor then runs
# chunk k+1's projection beside chunk k's recurrence in the forward pass, and chunk k's weight
# gradients beside chunk k-1's backward recurrence (benchmarks/rnn_throughput.py compares one chunk).
# Chunks are at least MIN_CHUNK_STEPS steps long: a shorter sequence runs in fewer chunks (one below
# 2 * MIN_CHUNK_STEPS steps), since every chunk's loop costs a fixed overhead.
TIME_CHUNKS = 10
MIN_CHUNK_STEPS = 10

# Arguments of the sequence layer itself; everything else given to SimpleRNN, GRU or LSTM goes to the cell.
LAYER_ARGUMENTS = (
    "return_sequences", "return_state", "go_backwards", "stateful", "unroll", "zero_output_for_mask",
    "name", "dtype", "trainable", "autocast", "input_shape", "batch_input_shape", "batch_size",
)  # fmt: skip

@keras.saving.register_keras_serializable(package="seqrecipes")
class RNN(keras.layers.RNN):
    """Runs a recurrent cell over the time axis, as ``keras.layers.RNN`` does, but faster for the
    project's cells.

    For a cell of this project (one with ``project_inputs`` and ``step``) the loop is

        X = W [x_1 ... x_T] + b                    # one (B*T, D) x (D, gH) matmul, before the loop
        h_t, s_t = step(X_t, s_{t-1})              # inside keras.ops.scan: only U h_{t-1} per step

    so each step does one matmul instead of two. A cell whose ``hand_written_recurrence()`` gives
    a recurrence (here the LSTM cells, ``GRUCell`` and ``SimpleRNNCell``, each with its default
    activations) runs that instead, with its hand-written gradient (``layers/_bptt.py``): the
    backward loop does only dz_t U^T per step, and dU, dW, db and dx are each one matmul after it,
    as cuDNN does; other cells use autodiff through the loop. On TensorFlow, for a sequence of
    known length, the hand-written loop runs the time axis in up to ``max_time_chunks`` (10)
    chunks of at least 10 consecutive steps, the final states of one starting the next: each
    chunk's X is one (B*T/10, D) x (D, gH) matmul just before its loop, and its dW, db, dU one
    matmul each after its backward loop. The work is the same; TensorFlow runs chunk k+1's
    projection beside chunk k's recurrence and chunk k's weight gradients beside chunk k-1's
    backward recurrence, which on 2 CPU cores makes the training step 5-16% faster than one
    projection and one loop (``benchmarks/rnn_throughput.py``, "(one chunk)" rows). Dropout draws
    one mask for x and one for h per sequence (Gal and Ghahramani 2016), never a fresh mask per
    step. Any other Keras cell (for example ``keras.layers.StackedRNNCells``) runs through
    ``keras.layers.RNN``'s own loop.

    Masking: at a masked step (mask False) the states are carried over unchanged, and the output
    is the previous output (or zeros with ``zero_output_for_mask=True``), as in Keras. Right
    padding with a mask therefore leaves the outputs at real steps and the final states unchanged.

    Args:
        cell: a recurrent cell (``SimpleRNNCell``, ``GRUCell``, ``LSTMCell``, an LSTM variant, or
            any Keras cell), or a list of cells, which are stacked.
        return_sequences: return the outputs of all steps (B, T, H) rather than the last (B, H).
        return_state: also return the final states.
        go_backwards: process the sequence in reverse (outputs come in processing order).
        stateful: carry the final states of a batch over as the initial states of the next.
        unroll: accepted for Keras compatibility; the loop is never unrolled.
        zero_output_for_mask: output zeros at masked steps instead of the previous output.
        **kwargs: passed on to ``keras.layers.Layer``.

    Call arguments:
        sequences: (B, T, D).
        initial_state: optional list of initial states, as ``cell.state_size``.
        mask: optional (B, T) boolean mask.
        training: whether dropout applies.

    Returns:
        The outputs ((B, T, H) or (B, H)), followed by the final states if ``return_state``.

    Example:
    >>> import numpy as np
    >>> from seqrecipes import layers
    >>> rnn = layers.RNN(layers.PeepholeLSTMCell(8), return_sequences=True, return_state=True)
    >>> outputs, h, c = rnn(np.zeros((2, 5, 3), "float32"))
    >>> outputs.shape, h.shape
    (TensorShape([2, 5, 8]), TensorShape([2, 8]))

    References:
        Gal and Ghahramani, "A Theoretically Grounded Application of Dropout in Recurrent Neural
        Networks", NeurIPS 2016.
    """

    cell_class = None  # the fixed cell of SimpleRNN, GRU and LSTM; None for the generic layer
    # Cells with a hand_written_recurrence() run with its hand-written gradient; tests and the
    # benchmarks set this to False on an instance to compare with autodiff through the generic loop.
    hand_written_bptt = True
    # The most chunks the hand-written loop splits the time axis into (see TIME_CHUNKS); the
    # benchmark sets 1 on an instance to compare with one projection and one loop.
    max_time_chunks = TIME_CHUNKS

    def __init__(
        self,
        cell,
        return_sequences=False,
        return_state=False,
        go_backwards=False,
        stateful=False,
        unroll=False,
        zero_output_for_mask=False,
        **kwargs,
    ):
        super().__init__(
            cell,
            return_sequences=return_sequences,
            return_state=return_state,
            go_backwards=go_backwards,
            stateful=stateful,
            unroll=unroll,
            zero_output_for_mask=zero_output_for_mask,
            **kwargs,
        )

    @classmethod
    def cell_from_arguments(cls, units, kwargs):
        """Splits Keras-style arguments into a ``cls.cell_class`` cell and the layer's own kwargs."""
        layer_kwargs = {k: v for k, v in kwargs.items() if k in LAYER_ARGUMENTS}
        cell_kwargs = {k: v for k, v in kwargs.items() if k not in LAYER_ARGUMENTS}
        cell = cls.cell_class(units, name="cell", dtype=layer_kwargs.get("dtype"), **cell_kwargs)
        return cell, layer_kwargs

    def get_config(self):
        config = super().get_config()
        if self.cell_class is None:
            return config
        # A fixed-cell layer stores its cell's arguments flat, as keras.layers.LSTM does.
        cell_config = dict(self.cell.get_config())
        for key in ("name", "dtype", "trainable"):
            cell_config.pop(key, None)
        config.pop("cell")
        return {**config, **cell_config}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = dict(config)  # keras.layers.RNN.from_config pops "cell" from the dict it is given
        if cls.cell_class is None:
            return super().from_config(config, custom_objects=custom_objects)
        return cls(**config)

    def call(self, sequences, initial_state=None, mask=None, training=False):
        if len(sequences.shape) != 3:
            raise ValueError(
                f"{type(self).__name__} expects inputs of rank 3 (batch, time, features). "
                f"Received: inputs.shape={tuple(sequences.shape)}"
            )
        return super().call(sequences, initial_state=initial_state, mask=mask, training=training)

    def inner_loop(self, sequences, initial_state, mask, training=False):
        cell = self.cell
        if not (hasattr(cell, "project_inputs") and hasattr(cell, "step")):
            return super().inner_loop(sequences, initial_state, mask, training=training)
        if mask is not None:
            mask = ops.cast(mask, "bool")
        if self.go_backwards:
            sequences = ops.flip(sequences, axis=1)
            mask = None if mask is None else ops.flip(mask, axis=1)

        states = list(initial_state)
        input_mask, recurrent_mask = cell.dropout_masks(sequences[:, 0, :], states[0], training=training)
        if input_mask is not None:
            sequences = sequences * input_mask[:, None, :]  # (B, T, D): one mask for all steps
        # Transposing the (T, B, D) inputs rather than the (T, B, gH) projection moves g*H/D times less data.
        inputs = ops.transpose(sequences, (1, 0, 2))  # (T, B, D)
        recurrence = self.hand_written_recurrence()
        if recurrence is not None:
            return self.hand_written_loop(recurrence, inputs, states, mask, recurrent_mask)
        projected = cell.project_inputs(inputs)  # (T, B, gH)
        first_output = ops.zeros((ops.shape(sequences)[0], cell.output_size), dtype=projected.dtype)  # (B, H)
        zero_output = self.zero_output_for_mask

        # keras.ops.scan on TensorFlow fails on several scanned tensors of unknown length T (Keras 3.15),
        # so only the projection is scanned; the step reads its row of the time-major mask by a counter.
        mask_tm = None if mask is None else ops.transpose(mask, (1, 0))  # (T, B)

        def step(carry, x_t):
            states_tm1, output_tm1, t = carry
            output, states_t = cell.step(x_t, states_tm1, recurrent_mask)
            if mask_tm is not None:
                keep = ops.take(mask_tm, t, axis=0)[:, None]  # (B, 1)
                states_t = [ops.where(keep, s, s_tm1) for s, s_tm1 in zip(states_t, states_tm1)]
                output = ops.where(keep, output, ops.zeros_like(output) if zero_output else output_tm1)
                carry_output = ops.where(keep, output, output_tm1)
            else:
                carry_output = output
            # keras.ops.scan on TensorFlow stacks outputs shaped like the carry, so emit a
            # carry-shaped triple and keep only its output part.
            return (states_t, carry_output, t + 1), (states_t, output, t)

        t0 = ops.convert_to_tensor(0, "int32")
        (states, last_output, _), (_, outputs, _) = ops.scan(
            step, (states, first_output, t0), projected, unroll=SCAN_UNROLL
        )
        outputs = ops.transpose(outputs, (1, 0, 2))  # (B, T, H)
        return last_output, outputs, states

    def hand_written_recurrence(self):
        """The cell's recurrence with a hand-written gradient, or None (autodiff through the loop):
        None when ``hand_written_bptt`` is off or the cell declares none."""
        if not self.hand_written_bptt or not hasattr(self.cell, "hand_written_recurrence"):
            return None
        return self.cell.hand_written_recurrence()

    def hand_written_loop(self, recurrence, inputs, states, mask, recurrent_mask):
        """The loop of the cell's ``recurrence`` (a ``_bptt.Recurrence``), with its hand-written
        gradient, over the time-major ``inputs`` (T, B, D).

        The steps run in ``time_chunks(T)`` chunks: each chunk's inputs are projected in one matmul
        just before its loop, whose final states start the next chunk's. The outputs follow from
        the stacked states: at a masked step the states are carried over, so the output is h_t once
        a real step has been seen (zeros before), or h_t * mask_t with ``zero_output_for_mask``.
        """
        cell = self.cell
        dtype = cell.compute_dtype
        keep = None if mask is None else ops.cast(ops.transpose(mask, (1, 0))[:, :, None], dtype)  # (T, B, 1)
        project = cell.input_projection()
        chunks = time_chunks(inputs.shape[0], self.max_time_chunks)
        parts = []
        for x, keep_part in zip(_split_time(inputs, chunks), _split_time(keep, chunks)):
            h_part, states = _bptt.run(
                recurrence, project(x), states=states, keep=keep_part, recurrent_mask=recurrent_mask, unroll=SCAN_UNROLL
            )
            parts.append(h_part)
        h_all = parts[0] if chunks == 1 else ops.concatenate(parts, axis=0)  # (T, B, H)
        if keep is None:
            outputs, last_output = h_all, states[0]
        else:
            seen = ops.cast(ops.cumsum(keep, axis=0) > 0, dtype)  # (T, B, 1): a real step so far
            outputs = h_all * (keep if self.zero_output_for_mask else seen)
            last_output = states[0] * seen[-1]
        return last_output, ops.transpose(outputs, (1, 0, 2)), states  # (B, T, H)


def time_chunks(time_steps, max_chunks=TIME_CHUNKS):
    """How many chunks the hand-written loop splits ``time_steps`` steps into: on TensorFlow when the
    length is known, up to ``max_chunks`` of at least ``MIN_CHUNK_STEPS`` steps; else 1 (one
    projection, one loop)."""
    if keras.backend.backend() != "tensorflow" or time_steps is None:
        return 1
    return max(1, min(max_chunks, time_steps // MIN_CHUNK_STEPS))


def _split_time(tensor, chunks):
    """``tensor`` (T, ...) split into ``chunks`` runs of consecutive steps (None stays None)."""
    if tensor is None:
        return [None] * chunks
    return [tensor] if chunks == 1 else ops.array_split(tensor, chunks, axis=0)
