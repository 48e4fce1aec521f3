"""The hand-written recurrence of the LSTM family: ``LSTMCell`` and its peephole, layer-normalised
and CIFG variants share one forward and backward body, ``_lstm``, which each cell's
``hand_written_recurrence()`` hands to ``_bptt.run`` through ``lstm_recurrence``.

The variants differ in a few terms of the same loop (peepholes on the gates, normalisations of
U h_{t-1} and c_t, a forget gate tied to the input gate), so one body with a ``variant`` flag
keeps the per-step work of each as small as the plain LSTM's.
"""

from keras import ops

from seqrecipes.layers import _bptt

VARIANTS = ("lstm", "peephole", "layer_norm", "cifg")


def lstm_recurrence(cell, variant, extra=(), epsilon=None):
    """The ``_bptt.Recurrence`` of an LSTM-family ``cell``, its weights cast to the compute dtype.

    Args:
        cell: the built cell (its ``recurrent_kernel`` is U).
        variant: one of ``VARIANTS``.
        extra: the variant's own weights: p_i, p_f, p_o ("peephole"); gamma_h, beta_h, gamma_c,
            beta_c ("layer_norm").
        epsilon: the normalisations' epsilon ("layer_norm").
    """
    dtype = cell.compute_dtype
    return _bptt.Recurrence(
        name=variant,
        body=_lstm,
        U=ops.cast(cell.recurrent_kernel, dtype),
        extra=tuple(ops.cast(w, dtype) for w in extra),
        flags={"variant": variant, "epsilon": epsilon},
    )


def _normalise(v, epsilon):
    """(v - mean(v)) / sigma and 1 / sigma over the last axis, computed in float32 as Keras's
    LayerNormalization does; sigma = sqrt(var(v) + epsilon)."""
    v32 = ops.cast(v, "float32")
    centred = v32 - ops.mean(v32, axis=-1, keepdims=True)
    rstd = ops.rsqrt(ops.mean(centred * centred, axis=-1, keepdims=True) + epsilon)  # (B, 1)
    return ops.cast(centred * rstd, v.dtype), ops.cast(rstd, v.dtype)


def _normalise_backward(dv_hat, v_hat, rstd):
    """dv from dv_hat = d v_hat (gamma already applied): rstd (dv_hat - mean(dv_hat) - v_hat mean(dv_hat v_hat))."""
    mean = ops.mean(dv_hat, axis=-1, keepdims=True)
    mean_v = ops.mean(dv_hat * v_hat, axis=-1, keepdims=True)
    return rstd * (dv_hat - mean - v_hat * mean_v)




def _lstm(args, flags, unroll):
    """The LSTM family ("lstm", "peephole", "layer_norm", "cifg"). Forward as in each cell's docstring,
    with s_t the squashed cell state that h_t = o_t * s_t reads (tanh(c_t), or tanh(LN(c_t)) for
    "layer_norm"). Backward, per step, with dh and dc the gradients reaching h_t and c_t:

        dc += dh * ds_dc                  # ds_dc = o (1 - s^2); "peephole" adds p_o s o(1-o);
                                          # "layer_norm" passes dh o (1 - s^2) gamma_c back through LN(c_t)
        dz = [dc, dc, dc, dh] * coef      # coef = [g i(1-i), c_{t-1} f(1-f), i (1-g^2), s o(1-o)]
                                          # "cifg": [dc, dc, dh] * [(g - c_{t-1}) i(1-i), i (1-g^2), s o(1-o)]
        d inner = dz                      # "layer_norm": dz gamma_h back through LN(U h_{t-1})
        dh_{t-1} = d inner U^T,  dc_{t-1} = dc * f_eff
                                          # f_eff = f; "peephole": f + p_i g i(1-i) + p_f c_{t-1} f(1-f)

    and after the loop p_i, p_f, p_o get sum dz_i c_{t-1}, sum dz_f c_{t-1}, sum dz_o c_t; gamma_h,
    beta_h get sum dz LN(U h_{t-1}) hat, sum dz; gamma_c, beta_c get the same from dn = dh o (1 - s^2).
    The forward loop computes coef, ds_dc and f_eff per step and stacks them (not i, f, g, o, s).
    """
    x_proj, U, (h0, c0), extra, _, keep, rm = _bptt.unpack(args, flags, 2)
    variant, epsilon = flags["variant"], flags["epsilon"]
    gates = U.shape[1] // U.shape[0]
    if variant == "peephole":
        p_i, p_f, p_o = extra
    if variant == "layer_norm":
        gamma_h, beta_h, gamma_c, beta_c = extra

    def step(carry, x_t, t):
        h_tm1, c_tm1 = carry
        h_in = h_tm1 if rm is None else h_tm1 * rm
        inner = ops.matmul(h_in, U)  # (B, gH)
        saved = ()
        if variant == "layer_norm":
            inner_hat, inner_rstd = _normalise(inner, epsilon)
            inner = inner_hat * gamma_h + beta_h
            saved = (inner_hat, inner_rstd)
        z = x_t + inner
        if variant == "cifg":
            z_i, z_g, z_o = ops.split(z, 3, axis=-1)
            i = ops.sigmoid(z_i)
            f = 1.0 - i
        else:
            z_i, z_f, z_g, z_o = ops.split(z, 4, axis=-1)
            if variant == "peephole":
                z_i, z_f = z_i + p_i * c_tm1, z_f + p_f * c_tm1
            i, f = ops.sigmoid(z_i), ops.sigmoid(z_f)
        g = ops.tanh(z_g)
        c = f * c_tm1 + i * g
        if variant == "peephole":
            z_o = z_o + p_o * c
        o = ops.sigmoid(z_o)
        if variant == "layer_norm":
            c_hat, c_rstd = _normalise(c, epsilon)
            s = ops.tanh(c_hat * gamma_c + beta_c)
            saved += (c_hat, c_rstd)
        else:
            s = ops.tanh(c)
        h = o * s
        # The backward's coefficients, computed here off the recurrence's critical path (TensorFlow
        # runs them beside the next step's matmul) and stacked instead of i, f, g, o, s.
        coef_o = s * o * (1.0 - o)  # do_pre = dh * coef_o
        ds_dc = o * (1.0 - s * s)  # dc = dh * ds_dc through h_t = o_t s_t ("layer_norm": dn)
        coef_i, coef_g = g * i * (1.0 - i), i * (1.0 - g * g)
        f_eff = f
        if variant == "cifg":
            coef = [(g - c_tm1) * i * (1.0 - i), coef_g, coef_o]
        else:
            coef_f = c_tm1 * f * (1.0 - f)
            coef = [coef_i, coef_f, coef_g, coef_o]
        if variant == "peephole":
            ds_dc = ds_dc + p_o * coef_o
            f_eff = f + p_i * coef_i + p_f * coef_f
        coef = ops.concatenate(coef, axis=-1)  # (B, gH)
        carry = (_bptt.carry_over(keep, t, h, h_tm1), _bptt.carry_over(keep, t, c, c_tm1))
        return carry, (coef, ds_dc, f_eff) + saved

    zero, zero_g, zero_1 = ops.zeros_like(h0), ops.zeros_like(x_proj[0]), ops.zeros_like(h0[:, :1])
    ys_init = (zero_g, zero, zero) + ((zero_g, zero_1, zero, zero_1) if variant == "layer_norm" else ())
    (_, c_T), (h_all, c_all), saved = _bptt.scan(step, (h0, c0), ys_init, x_proj, False, unroll)
    coef, ds_dc, f_eff = saved[:3]  # (T, B, gH), (T, B, H), (T, B, H)
    if variant == "layer_norm":
        inner_hat, inner_rstd, c_hat, c_rstd = saved[3:]  # of LN(U h_{t-1}) and LN(c_t)

    def grad(*upstream):
        dH, dc_T = _bptt.upstream_gradients(upstream, 2)
        U_T = ops.transpose(U)  # (gH, H)

        def back(carry, coef_t, t):
            dh_carry, dc_carry = carry
            dh, dh_new = _bptt.dh_at(dH, keep, t, dh_carry)
            dc = dc_carry if keep is None else dc_carry * ops.take(keep, t, axis=0)
            dn = dh_new * ops.take(ds_dc, t, axis=0)
            if variant == "layer_norm":
                c_hat_t, c_rstd_t = ops.take(c_hat, t, axis=0), ops.take(c_rstd, t, axis=0)
                dc = dc + _normalise_backward(dn * gamma_c, c_hat_t, c_rstd_t)
            else:
                dc = dc + dn
            dz = ops.concatenate([dc] * (gates - 1) + [dh_new], axis=-1) * coef_t  # (B, gH)
            d_inner = dz
            if variant == "layer_norm":
                inner_hat_t, inner_rstd_t = ops.take(inner_hat, t, axis=0), ops.take(inner_rstd, t, axis=0)
                d_inner = _normalise_backward(dz * gamma_h, inner_hat_t, inner_rstd_t)
            dh_in = ops.matmul(d_inner, U_T)  # (B, H)
            dh_tm1 = dh_in if rm is None else dh_in * rm
            dc_tm1 = dc * ops.take(f_eff, t, axis=0)
            if keep is not None:
                dh_tm1 = dh_tm1 + (dh - dh_new)
                dc_tm1 = dc_tm1 + (dc_carry - dc_carry * ops.take(keep, t, axis=0))
            return (dh_tm1, dc_tm1), ((dz, d_inner, dn) if variant == "layer_norm" else dz)

        dc_T = ops.zeros_like(c0) if dc_T is None else dc_T
        ys_init = (zero_g, zero_g, zero) if variant == "layer_norm" else zero_g
        (dh0, dc0), _, ys = _bptt.scan(back, (zero, dc_T), ys_init, coef, reverse=True, unroll=unroll)
        dZ, d_inner, dN = ys if variant == "layer_norm" else (ys, ys, None)
        H_in = _bptt.recurrent_inputs(h0, h_all, rm)
        d_extra = []
        if variant == "peephole":
            dZ_i, dZ_f, _, dZ_o = ops.split(dZ, 4, axis=-1)
            c_prev = _bptt.previous(c0, c_all)
            d_extra = [_bptt.sum_bt(dZ_i * c_prev), _bptt.sum_bt(dZ_f * c_prev), _bptt.sum_bt(dZ_o * c_all)]
        if variant == "layer_norm":
            d_extra = [_bptt.sum_bt(dZ * inner_hat), _bptt.sum_bt(dZ), _bptt.sum_bt(dN * c_hat), _bptt.sum_bt(dN)]
        grads = [dZ, _bptt.weight_gradient(H_in, d_inner), dh0, dc0] + d_extra
        return tuple(grads + _bptt.constant_gradients(keep, rm))

    return (h_all, c_T), grad
