"""The gated recurrent unit (GRU) cell, both reset placements of the seeds and of cuDNN, and the
hand-written recurrences (forward and backward loops) of both forms."""

import keras
from keras import ops

from seqrecipes.layers import _bptt
from seqrecipes.layers.recurrent_cell import RecurrentCell


@keras.saving.register_keras_serializable(package="seqrecipes")
class GRUCell(RecurrentCell):
    """GRU cell with an update gate z and a reset gate r.

    Seeds 000 and 004 (Cho et al. 2014), ``reset_after=False``, the reset gate applied before the
    recurrent matmul:

        z_t = sigmoid(W_z x_t + U_z h_{t-1} + b_z)
        r_t = sigmoid(W_r x_t + U_r h_{t-1} + b_r)
        h~_t = tanh(W_h x_t + U_h (r_t * h_{t-1}) + b_h)
        h_t = z_t * h_{t-1} + (1 - z_t) * h~_t

    ``reset_after=True`` (the default, as in Keras and cuDNN) applies the reset gate after the
    recurrent matmul and keeps a second, recurrent bias b'_h:

        h~_t = tanh(W_h x_t + b_h + r_t * (U_h h_{t-1} + b'_h))

    Seed 001 writes the update as h_t = (1 - z'_t) * h_{t-1} + z'_t * h~_t. That is the same family
    with z'_t = 1 - z_t (negate W_z, U_z, b_z to move between the two); this cell uses the form of
    seeds 000 and 004, which is also Keras's.

    Symbols and weights (Keras's layout, gate order z, r, h, so ``set_weights`` transfers both ways
    with ``keras.layers.GRUCell`` of the same ``reset_after``):
        W = [W_z | W_r | W_h]: ``kernel``, shape (D, 3H).
        U = [U_z | U_r | U_h]: ``recurrent_kernel``, shape (H, 3H).
        b: ``bias``, shape (3H,), or (2, 3H) with the recurrent biases in row 1 when
            ``reset_after=True``.

    Args:
        units: H, a positive integer.
        recurrent_activation: the gate nonlinearity, sigmoid by default.
        reset_after: where the reset gate applies (see above).
        **kwargs: the arguments of ``RecurrentCell`` and of ``keras.layers.Layer``.

    Call arguments, Returns: as ``RecurrentCell``, with one state: x_t (B, D) and [h_{t-1}] (B, H) in,
    (h_t, [h_t]) out.

    Example: an update gate held open (z_t ~ 1) copies the state, h_t = h_{t-1}; held shut (z_t ~ 0)
    it gives the candidate, h_t = h~_t.
    >>> import numpy as np
    >>> from seqrecipes import layers
    >>> cell = layers.GRUCell(2, reset_after=False)
    >>> x_t, h_tm1 = np.ones((1, 3), "float32"), np.array([[0.5, -0.5]], "float32")
    >>> _ = cell(x_t, [h_tm1])  # builds W, U and b = [b_z | b_r | b_h]
    >>> _ = cell.bias.assign(np.array([30, 30, 0, 0, 0, 0], "float32"))
    >>> np.round(np.asarray(cell(x_t, [h_tm1])[0]), 4).tolist()
    [[0.5, -0.5]]
    >>> _ = cell.bias.assign(np.array([-30, -30, 0, 0, 0, 0], "float32"))
    >>> h_t, [state] = cell(x_t, [h_tm1])
    >>> W, U = np.asarray(cell.kernel), np.asarray(cell.recurrent_kernel)
    >>> r_t = 1 / (1 + np.exp(-(x_t @ W[:, 2:4] + h_tm1 @ U[:, 2:4])))  # b_r = b_h = 0
    >>> bool(np.allclose(h_t, np.tanh(x_t @ W[:, 4:] + (r_t * h_tm1) @ U[:, 4:]), atol=1e-5))
    True

    References:
        Cho et al., "Learning Phrase Representations using RNN Encoder-Decoder for Statistical
        Machine Translation", EMNLP 2014.
    """

    gates = 3

    def __init__(self, units, recurrent_activation="sigmoid", reset_after=True, **kwargs):
        super().__init__(units, **kwargs)
        self.recurrent_activation = keras.activations.get(recurrent_activation)
        self.reset_after = reset_after

    def bias_shape(self):
        return (2, 3 * self.units) if self.reset_after else (3 * self.units,)

    def input_bias(self):
        if not self.use_bias:
            return None
        return self.bias[0] if self.reset_after else self.bias  # reset-after: [b_x; b'_h], (2, 3H)

    def step(self, x_proj, states, recurrent_mask=None):
        h_tm1 = states[0]
        h_in = h_tm1 if recurrent_mask is None else h_tm1 * recurrent_mask
        H = self.units
        x_z, x_r, x_h = x_proj[:, :H], x_proj[:, H : 2 * H], x_proj[:, 2 * H :]
        if self.reset_after:
            inner = ops.matmul(h_in, self.recurrent_kernel)  # (B, 3H)
            if self.use_bias:
                inner = inner + self.bias[1]
            z = self.recurrent_activation(x_z + inner[:, :H])
            r = self.recurrent_activation(x_r + inner[:, H : 2 * H])
            hh = self.activation(x_h + r * inner[:, 2 * H :])
        else:
            inner = ops.matmul(h_in, self.recurrent_kernel[:, : 2 * H])  # (B, 2H)
            z = self.recurrent_activation(x_z + inner[:, :H])
            r = self.recurrent_activation(x_r + inner[:, H:])
            hh = self.activation(x_h + ops.matmul(r * h_in, self.recurrent_kernel[:, 2 * H :]))
        h = z * h_tm1 + (1.0 - z) * hh
        return h, [h]

    def hand_written_recurrence(self):
        """The hand-written BPTT of this form (``_gru_after`` or ``_gru_before`` below) for exactly
        this class with tanh and sigmoid; the reset-after form also takes b'_h."""
        if not self.has_default_form(GRUCell):
            return None
        U = ops.cast(self.recurrent_kernel, self.compute_dtype)
        if not self.reset_after:
            return _bptt.Recurrence(name="gru_before", body=_gru_before, U=U)
        b_rec = ops.cast(self.bias[1], self.compute_dtype) if self.use_bias else None
        return _bptt.Recurrence(name="gru", body=_gru_after, U=U, recurrent_bias=b_rec)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "recurrent_activation": keras.activations.serialize(self.recurrent_activation),
                "reset_after": self.reset_after,
            }
        )
        return config


def _gru_after(args, flags, unroll):
    """GRU, reset after the matmul (inner = U h_{t-1} + b'). Backward, per step:

        dz_pre = dh * (h_{t-1} - h~) z(1-z),  dh~_pre = dh * (1-z)(1-h~^2),  dr_pre = dh~_pre * inner_h r(1-r)
        d inner = [dz_pre, dr_pre, dh~_pre * r],  d x_proj = [dz_pre, dr_pre, dh~_pre]
        dh_{t-1} = dh * z + d inner U^T

    The forward loop computes the coefficients of dh in d inner and d x_proj per step, off the
    recurrence's critical path (TensorFlow runs them beside the next step's matmul), and stacks them
    instead of z, r, h~ and inner_h: the backward then needs no (T, B, .) passes to build them.
    """
    x_proj, U, (h0,), _, b_rec, keep, rm = _bptt.unpack(args, flags, 1)

    def step(carry, x_t, t):
        (h_tm1,) = carry
        h_in = h_tm1 if rm is None else h_tm1 * rm
        inner = ops.matmul(h_in, U)  # (B, 3H)
        if b_rec is not None:
            inner = inner + b_rec
        x_z, x_r, x_h = ops.split(x_t, 3, axis=-1)
        inner_z, inner_r, inner_h = ops.split(inner, 3, axis=-1)
        z = ops.sigmoid(x_z + inner_z)
        r = ops.sigmoid(x_r + inner_r)
        hh = ops.tanh(x_h + r * inner_h)
        gap = h_tm1 - hh
        h = hh + z * gap  # z h_{t-1} + (1 - z) h~, one op fewer
        one_minus_z = 1.0 - z
        c_z = gap * z * one_minus_z  # dz_pre = dh * c_z
        c_h = one_minus_z * (1.0 - hh * hh)  # dhh_pre = dh * c_h
        c_r = c_h * inner_h * r * (1.0 - r)  # dr_pre = dh * c_r
        coef_inner = ops.concatenate([c_z, c_r, c_h * r], axis=-1)  # d inner = [dh, dh, dh] * coef_inner
        coef_proj = ops.concatenate([c_z, c_r, c_h], axis=-1)  # d x_proj = [dh, dh, dh] * coef_proj
        return (_bptt.carry_over(keep, t, h, h_tm1),), (z, coef_inner, coef_proj)

    zero, zero_g = ops.zeros_like(h0), ops.zeros_like(x_proj[0])
    _, (h_all,), (z, coef_inner, coef_proj) = _bptt.scan(step, (h0,), (zero, zero_g, zero_g), x_proj, False, unroll)

    def grad(*upstream):
        (dH,) = _bptt.upstream_gradients(upstream, 1)
        U_T = ops.transpose(U)  # (3H, H)

        def back(carry, coef_t, t):
            (dh_carry,) = carry
            dh, dh_new = _bptt.dh_at(dH, keep, t, dh_carry)
            d_inner = ops.concatenate([dh_new, dh_new, dh_new], axis=-1) * coef_t  # (B, 3H)
            dh_in = ops.matmul(d_inner, U_T)
            dh_tm1 = dh_new * ops.take(z, t, axis=0) + (dh_in if rm is None else dh_in * rm)
            if keep is not None:
                dh_tm1 = dh_tm1 + (dh - dh_new)
            return (dh_tm1,), dh_new

        # Only dh_new leaves the loop; d inner and d x_proj are each one elementwise product after it.
        (dh0,), _, dH_new = _bptt.scan(back, (zero,), zero, coef_inner, reverse=True, unroll=unroll)
        d_inner, d_proj = _times_blocks(dH_new, coef_inner), _times_blocks(dH_new, coef_proj)
        H_in = _bptt.recurrent_inputs(h0, h_all, rm)
        grads = [d_proj, _bptt.weight_gradient(H_in, d_inner), dh0]
        if b_rec is not None:
            grads.append(_bptt.sum_bt(d_inner))
        return tuple(grads + _bptt.constant_gradients(keep, rm))

    return (h_all,), grad


def _times_blocks(a, coef):
    """[a, a, ..., a] * coef for a (T, B, H) and coef (T, B, gH), without building [a, ..., a]."""
    shape = ops.shape(coef)
    blocks = ops.reshape(coef, (shape[0], shape[1], -1, ops.shape(a)[-1]))  # (T, B, g, H)
    return ops.reshape(blocks * a[:, :, None, :], shape)


def _gru_before(args, flags, unroll):
    """GRU, reset before the matmul (h~ = tanh(x_h + (r * h_{t-1}) U_h)). Backward, per step:

        dh~_pre = dh * (1-z)(1-h~^2),  d(r h) = dh~_pre U_h^T,  dz_pre = dh * (h_{t-1} - h~) z(1-z)
        dr_pre = d(r h) * h_{t-1} r(1-r),  dh_{t-1} = dh * z + d(r h) * r + [dz_pre, dr_pre] U_zr^T
    """
    x_proj, U, (h0,), _, _, keep, rm = _bptt.unpack(args, flags, 1)
    H = U.shape[0]
    U_zr, U_h = U[:, : 2 * H], U[:, 2 * H :]  # (H, 2H), (H, H)

    def step(carry, x_t, t):
        h_tm1, _ = carry
        h_in = h_tm1 if rm is None else h_tm1 * rm
        zr_pre = x_t[:, : 2 * H] + ops.matmul(h_in, U_zr)  # (B, 2H)
        z, r = ops.sigmoid(zr_pre[:, :H]), ops.sigmoid(zr_pre[:, H:])
        hh = ops.tanh(x_t[:, 2 * H :] + ops.matmul(r * h_in, U_h))
        h = z * h_tm1 + (1.0 - z) * hh
        # hh rides in the carry so that scan stacks it (see _bptt.scan).
        return (_bptt.carry_over(keep, t, h, h_tm1), hh), zr_pre

    zero = ops.zeros_like(h0)
    zr0 = ops.zeros_like(x_proj[0, :, : 2 * H])  # (B, 2H)
    _, (h_all, hh_all), zr_all = _bptt.scan(step, (h0, zero), zr0, x_proj, False, unroll)

    def grad(*upstream):
        (dH,) = _bptt.upstream_gradients(upstream, 1)
        z, r = ops.sigmoid(zr_all[..., :H]), ops.sigmoid(zr_all[..., H:])  # (T, B, H) each
        h_prev = _bptt.previous(h0, h_all)
        H_in = h_prev if rm is None else h_prev * rm
        c_z = (h_prev - hh_all) * z * (1.0 - z)  # dz_pre = dh * c_z
        c_h = (1.0 - z) * (1.0 - hh_all * hh_all)  # dhh_pre = dh * c_h
        c_r = H_in * r * (1.0 - r)  # dr_pre = d(r h_in) * c_r
        U_zr_T, U_h_T = ops.transpose(U_zr), ops.transpose(U_h)

        def back(carry, c_h_t, t):
            dh_carry, _ = carry
            dh, dh_new = _bptt.dh_at(dH, keep, t, dh_carry)
            dhh_pre = dh_new * c_h_t
            d_rh = ops.matmul(dhh_pre, U_h_T)  # d(r * h_in), (B, H)
            dzr = ops.concatenate([dh_new * ops.take(c_z, t, axis=0), d_rh * ops.take(c_r, t, axis=0)], axis=-1)
            dh_in = d_rh * ops.take(r, t, axis=0) + ops.matmul(dzr, U_zr_T)
            dh_tm1 = dh_new * ops.take(z, t, axis=0) + (dh_in if rm is None else dh_in * rm)
            if keep is not None:
                dh_tm1 = dh_tm1 + (dh - dh_new)
            return (dh_tm1, dhh_pre), dzr

        (dh0, _), (_, dHH), dZR = _bptt.scan(back, (zero, zero), zr0, c_h, True, unroll)
        dU_zr, dU_h = _bptt.weight_gradient(H_in, dZR), _bptt.weight_gradient(r * H_in, dHH)  # (H, 2H), (H, H)
        dU = ops.concatenate([dU_zr, dU_h], axis=1)  # (H, 3H)
        d_proj = ops.concatenate([dZR, dHH], axis=-1)  # (T, B, 3H)
        return (d_proj, dU, dh0, *_bptt.constant_gradients(keep, rm))

    return (h_all,), grad
