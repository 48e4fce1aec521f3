"""The vanilla (Elman) RNN cell of seed 002, and its hand-written recurrence (forward and backward loops)."""

import keras
from keras import ops

from seqrecipes.layers import _bptt
from seqrecipes.layers.recurrent_cell import RecurrentCell


@keras.saving.register_keras_serializable(package="seqrecipes")
class SimpleRNNCell(RecurrentCell):
    """Elman RNN cell: one hidden state updated from the input and itself.

    The hidden layer of seed 002 (shapes there are column vectors; here a batch of rows):

        h_t = tanh(W_x x_t + W_h h_{t-1} + b)

    with x_t of size d and h_t of size D_h (``units``). The output layer y_t = f(W_y h_t + b_y) is a
    ``keras.layers.Dense`` placed after the sequence layer; the cell's output is h_t.

    Symbols and weights (the same layout as ``keras.layers.SimpleRNNCell``, so ``set_weights``
    transfers both ways):
        W_x: ``kernel``, shape (d, D_h).
        W_h: ``recurrent_kernel``, shape (D_h, D_h).
        b: ``bias``, shape (D_h,).

    Args:
        units: D_h, a positive integer.
        activation: the nonlinearity, tanh by default.
        **kwargs: the arguments of ``RecurrentCell`` (initializers, regularizers, constraints,
            dropout, recurrent_dropout, seed) and of ``keras.layers.Layer``.

    Call arguments, Returns: as ``RecurrentCell``, with one state: x_t (B, d) and [h_{t-1}] (B, D_h)
    in, (h_t, [h_t]) out.

    Example: one step against the equation.
    >>> import numpy as np
    >>> from seqrecipes import layers
    >>> rng = np.random.default_rng(0)
    >>> x_t, h_tm1 = rng.normal(size=(2, 3)).astype("float32"), rng.normal(size=(2, 4)).astype("float32")
    >>> cell = layers.SimpleRNNCell(4, bias_initializer="random_normal")
    >>> h_t, [state] = cell(x_t, [h_tm1])
    >>> W_x, W_h, b = (np.asarray(w) for w in (cell.kernel, cell.recurrent_kernel, cell.bias))
    >>> bool(np.allclose(h_t, np.tanh(x_t @ W_x + h_tm1 @ W_h + b), atol=1e-6))
    True
    >>> bool(np.array_equal(h_t, state))  # the output is the new state
    True

    References:
        Elman, "Finding structure in time", Cognitive Science 1990.
    """

    gates = 1

    def step(self, x_proj, states, recurrent_mask=None):
        h_tm1 = states[0]
        if recurrent_mask is not None:
            h_tm1 = h_tm1 * recurrent_mask
        h = self.activation(x_proj + ops.matmul(h_tm1, self.recurrent_kernel))
        return h, [h]

    def hand_written_recurrence(self):
        """The hand-written BPTT (``_simple`` below) for exactly this class with tanh."""
        if not self.has_default_form(SimpleRNNCell):
            return None
        return _bptt.Recurrence(name="simple", body=_simple, U=ops.cast(self.recurrent_kernel, self.compute_dtype))


def _simple(args, flags, unroll):
    """SimpleRNN. Backward, per step: dp = dh * (1 - h_t^2), dh_{t-1} = dp U^T."""
    x_proj, U, (h0,), _, _, keep, rm = _bptt.unpack(args, flags, 1)

    def step(carry, x_t, t):
        (h_tm1,) = carry
        h_in = h_tm1 if rm is None else h_tm1 * rm
        h = ops.tanh(x_t + ops.matmul(h_in, U))
        return (_bptt.carry_over(keep, t, h, h_tm1),), h

    _, (h_all,), _ = _bptt.scan(step, (h0,), ops.zeros_like(h0), x_proj, reverse=False, unroll=unroll)

    def grad(*upstream):
        (dH,) = _bptt.upstream_gradients(upstream, 1)
        coef = 1.0 - h_all * h_all  # (T, B, H); at masked steps dh_new is 0
        U_T = ops.transpose(U)

        def back(carry, coef_t, t):
            (dh_carry,) = carry
            dh, dh_new = _bptt.dh_at(dH, keep, t, dh_carry)
            dp = dh_new * coef_t
            dh_in = ops.matmul(dp, U_T)
            dh_tm1 = dh_in if rm is None else dh_in * rm
            if keep is not None:
                dh_tm1 = dh_tm1 + (dh - dh_new)
            return (dh_tm1,), dp

        (dh0,), _, dP = _bptt.scan(back, (ops.zeros_like(h0),), ops.zeros_like(h0), coef, reverse=True, unroll=unroll)
        H_in = _bptt.recurrent_inputs(h0, h_all, rm)
        return (dP, _bptt.weight_gradient(H_in, dP), dh0, *_bptt.constant_gradients(keep, rm))

    return (h_all,), grad
