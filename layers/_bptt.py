"""Hand-written backpropagation through time for the LSTM cells (standard, peephole, layer-normalised,
CIFG), the GRU cell (both reset forms) and the SimpleRNN cell.

Autodiff through ``keras.ops.scan`` accumulates dU at every step and keeps every intermediate of
the step function. Here (as cuDNN does) the backward loop carries only dh_t (and dc_t for the LSTM)
and does the one matmul that is truly sequential, dz_t U^T; then

    dU = H_in^T dZ          # one (H, T*B) x (T*B, gH) matmul after the loop
    dX_proj = dZ            # W, b and x get theirs from autodiff of the hoisted projection:
                            # dW = X^T dZ, db = sum dZ, dX = dZ W^T, each one big matmul

Shapes: T time steps, B batch, H units, g gates; everything here is time-major, (T, B, ...).
The sequence layer may call ``run`` once per chunk of consecutive steps (layers/rnn.py), each
chunk's final states being the next one's initial states; the gradients of the initial states
(dh_0, dc_0) carry the backward pass from one chunk to the one before.

The recurrence runs on the hoisted projection X_proj = W x + b (computed by the caller), the
recurrent kernel U, the initial states and two constants: ``keep`` (T, B, 1), 1.0 at real steps
and 0.0 at masked ones, where the states are carried over unchanged; and the recurrent dropout
mask (B, H), which multiplies h_{t-1} before U; the LSTM variants also take their own weights
(peepholes, or the scales and offsets of the recurrent and cell normalisations), whose gradients
are sums over T and B after the loop. It returns the stacked states h_1..h_T and the
final cell state c_T (LSTM only); the caller derives the outputs from them, so their gradients
arrive here as one dH (T, B, H).

Only the default activations (tanh, sigmoid) are handled; ``kind_of`` says which cells qualify.
"""

import keras
from keras import ops

from seqrecipes.layers.cifg_lstm_cell import CIFGLSTMCell
from seqrecipes.layers.gru_cell import GRUCell
from seqrecipes.layers.layer_norm_lstm_cell import LayerNormLSTMCell
from seqrecipes.layers.lstm_cell import LSTMCell
from seqrecipes.layers.peephole_lstm_cell import PeepholeLSTMCell
from seqrecipes.layers.simple_rnn_cell import SimpleRNNCell


# The LSTM variants by class; each runs through _lstm with the weights ``weights`` gives it.
_LSTM_KINDS = {LSTMCell: "lstm", PeepholeLSTMCell: "peephole", LayerNormLSTMCell: "layer_norm", CIFGLSTMCell: "cifg"}


def kind_of(cell):
    """'lstm', 'peephole', 'layer_norm', 'cifg', 'gru', 'gru_before' or 'simple' for a cell the
    hand-written BPTT handles, else None."""
    tanh, sigmoid = keras.activations.tanh, keras.activations.sigmoid
    if type(cell) is SimpleRNNCell and cell.activation is tanh:
        return "simple"
    if type(cell) not in (*_LSTM_KINDS, GRUCell) or cell.activation is not tanh:
        return None
    if cell.recurrent_activation is not sigmoid:
        return None
    if type(cell) in _LSTM_KINDS:
        return _LSTM_KINDS[type(cell)]
    return "gru" if cell.reset_after else "gru_before"


def weights(kind, cell, dtype):
    """The cell's recurrent weights for ``run``, cast to ``dtype``: a dict of U, recurrent_bias,
    extra (p_i, p_f, p_o for "peephole"; gamma_h, beta_h, gamma_c, beta_c for "layer_norm") and
    epsilon (of "layer_norm")."""
    recurrent_bias, extra, epsilon = None, [], None
    if kind == "gru" and cell.use_bias:
        recurrent_bias = cell.bias[1]
    if kind == "peephole":
        extra = [getattr(cell, f"{gate}_gate_peephole_weights") for gate in ("input", "forget", "output")]
    if kind == "layer_norm":
        extra = [cell.recurrent_norm.gamma, cell.recurrent_norm.beta, cell.cell_norm.gamma, cell.cell_norm.beta]
        epsilon = cell.norm_epsilon
    return {
        "U": ops.cast(cell.recurrent_kernel, dtype),
        "recurrent_bias": None if recurrent_bias is None else ops.cast(recurrent_bias, dtype),
        "extra": [ops.cast(w, dtype) for w in extra],
        "epsilon": epsilon,
    }


def run(
    kind, projected, U, states, recurrent_bias=None, keep=None, recurrent_mask=None, unroll=1, extra=(), epsilon=None
):
    """Runs the recurrence of ``kind`` with the hand-written gradient.

    Args:
        kind: as returned by ``kind_of``.
        projected: X_proj, (T, B, gH).
        U: the recurrent kernel, (H, gH), in the compute dtype.
        states: [h_0] or [h_0, c_0], each (B, H).
        recurrent_bias: b'_h of a reset-after GRU, (3H,), or None.
        keep: (T, B, 1) float, 1.0 at real steps and 0.0 at masked ones, or None (no mask).
        recurrent_mask: (B, H) dropout mask on h_{t-1}, or None.
        unroll: passed to ``keras.ops.scan``.
        extra: the variant's own weights, as ``weights`` gives them.
        epsilon: the layer normalisation's epsilon ("layer_norm").

    Returns:
        (h_all (T, B, H), final states list).
    """
    extra = list(extra)
    args = [projected, U] + list(states) + extra
    flags = {"bias": recurrent_bias is not None, "keep": keep is not None, "rm": recurrent_mask is not None}
    flags.update({"extra": len(extra), "variant": kind, "epsilon": epsilon})
    args += [a for a in (recurrent_bias, keep, recurrent_mask) if a is not None]
    lstm = kind in _LSTM_KINDS.values()
    body = _lstm if lstm else {"gru": _gru_after, "gru_before": _gru_before, "simple": _simple}[kind]

    @ops.custom_gradient
    def recurrence(*args):
        return body(args, flags, unroll)

    results = recurrence(*args)
    h_all = results[0]
    final = [h_all[-1]] + ([results[1]] if lstm else [])
    return h_all, final


def _unpack(args, flags, n_states):
    """Splits the flat argument list into (x_proj, U, states, extra, b', keep, rm)."""
    args = list(args)
    x_proj, U, states, rest = args[0], args[1], args[2 : 2 + n_states], args[2 + n_states :]
    extra, rest = rest[: flags["extra"]], rest[flags["extra"] :]
    b_rec = rest.pop(0) if flags["bias"] else None
    keep = rest.pop(0) if flags["keep"] else None
    rm = rest.pop(0) if flags["rm"] else None
    return x_proj, U, states, extra, b_rec, keep, rm


def _upstream(upstream, count):
    """The upstream gradients as a list of ``count`` (None where an output got none).

    TensorFlow's custom_gradient passes one argument per output; JAX's passes one tuple.
    """
    if len(upstream) == 1 and isinstance(upstream[0], (tuple, list)):
        upstream = upstream[0]
    return list(upstream) + [None] * (count - len(upstream))


def _scan(step, carry, ys_init, xs, reverse, unroll):
    """Runs ``step(carry, x_t, t) -> (carry, y_t)`` over the leading axis of ``xs``.

    Returns (final carry, stacked carries, stacked ys). keras.ops.scan on TensorFlow stacks only
    values shaped like its carry, so y_t rides in the carry. The scan runs over the step numbers
    and the step reads its row of ``xs`` itself: scanning ``xs`` would first copy all of it into
    TensorFlow's per-step list.
    """
    steps = ops.arange(ops.shape(xs)[0], dtype="int32")  # (T,)

    def body(full, t):
        c, _ = full
        c, y = step(c, ops.take(xs, t, axis=0), t)
        return (c, y), (c, y)

    (carry, _), (carries, ys) = ops.scan(body, (carry, ys_init), steps, reverse=reverse, unroll=unroll)
    return carry, carries, ys


def _previous(h0, h_all):
    """[h_0, ..., h_{T-1}], (T, B, H), from h_0 (B, H) and h_all = [h_1 ... h_T]."""
    return ops.concatenate([h0[None], h_all[:-1]], axis=0)  # (T, B, H)


def _carry_over(keep, t, new, old):
    """The new state at a real step, the old one at a masked step."""
    if keep is None:
        return new
    k = ops.take(keep, t, axis=0) > 0  # (B, 1)
    return ops.where(k, new, old)


def _dh_at(dH, keep, t, dh_carry):
    """dh_t = upstream dH_t + dh from step t + 1; and its part through the step at t (0 if masked)."""
    dh = dh_carry if dH is None else dh_carry + ops.take(dH, t, axis=0)
    dh_new = dh if keep is None else dh * ops.take(keep, t, axis=0)
    return dh, dh_new


def _weight_gradient(H_in, dZ):
    """sum_t H_in_t^T dZ_t as one matmul: (T, B, H), (T, B, gH) -> (H, gH)."""
    return ops.tensordot(H_in, dZ, axes=[[0, 1], [0, 1]])


def _constant_gradients(keep, rm):
    """Zero gradients for the constant inputs (the mask and the dropout mask)."""
    return [ops.zeros_like(a) for a in (keep, rm) if a is not None]


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


def _sum_bt(a):
    """Sum over the time and batch axes: (T, B, n) -> (n,)."""
    return ops.sum(a, axis=(0, 1))


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
    x_proj, U, (h0, c0), extra, _, keep, rm = _unpack(args, flags, 2)
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
        carry = (_carry_over(keep, t, h, h_tm1), _carry_over(keep, t, c, c_tm1))
        return carry, (coef, ds_dc, f_eff) + saved

    zero, zero_g, zero_1 = ops.zeros_like(h0), ops.zeros_like(x_proj[0]), ops.zeros_like(h0[:, :1])
    ys_init = (zero_g, zero, zero) + ((zero_g, zero_1, zero, zero_1) if variant == "layer_norm" else ())
    (_, c_T), (h_all, c_all), saved = _scan(step, (h0, c0), ys_init, x_proj, False, unroll)
    coef, ds_dc, f_eff = saved[:3]  # (T, B, gH), (T, B, H), (T, B, H)
    if variant == "layer_norm":
        inner_hat, inner_rstd, c_hat, c_rstd = saved[3:]  # of LN(U h_{t-1}) and LN(c_t)

    def grad(*upstream):
        dH, dc_T = _upstream(upstream, 2)
        U_T = ops.transpose(U)  # (gH, H)

        def back(carry, coef_t, t):
            dh_carry, dc_carry = carry
            dh, dh_new = _dh_at(dH, keep, t, dh_carry)
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
        (dh0, dc0), _, ys = _scan(back, (zero, dc_T), ys_init, coef, reverse=True, unroll=unroll)
        dZ, d_inner, dN = ys if variant == "layer_norm" else (ys, ys, None)
        H_in = _previous(h0, h_all) if rm is None else _previous(h0, h_all) * rm
        d_extra = []
        if variant == "peephole":
            dZ_i, dZ_f, _, dZ_o = ops.split(dZ, 4, axis=-1)
            c_prev = _previous(c0, c_all)
            d_extra = [_sum_bt(dZ_i * c_prev), _sum_bt(dZ_f * c_prev), _sum_bt(dZ_o * c_all)]
        if variant == "layer_norm":
            d_extra = [_sum_bt(dZ * inner_hat), _sum_bt(dZ), _sum_bt(dN * c_hat), _sum_bt(dN)]
        grads = [dZ, _weight_gradient(H_in, d_inner), dh0, dc0] + d_extra
        return tuple(grads + _constant_gradients(keep, rm))

    return (h_all, c_T), grad


def _gru_after(args, flags, unroll):
    """GRU, reset after the matmul (inner = U h_{t-1} + b'). Backward, per step:

        dz_pre = dh * (h_{t-1} - h~) z(1-z),  dh~_pre = dh * (1-z)(1-h~^2),  dr_pre = dh~_pre * inner_h r(1-r)
        d inner = [dz_pre, dr_pre, dh~_pre * r],  d x_proj = [dz_pre, dr_pre, dh~_pre]
        dh_{t-1} = dh * z + d inner U^T

    The forward loop computes the coefficients of dh in d inner and d x_proj per step, off the
    recurrence's critical path (TensorFlow runs them beside the next step's matmul), and stacks them
    instead of z, r, h~ and inner_h: the backward then needs no (T, B, .) passes to build them.
    """
    x_proj, U, (h0,), _, b_rec, keep, rm = _unpack(args, flags, 1)

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
        return (_carry_over(keep, t, h, h_tm1),), (z, coef_inner, coef_proj)

    zero, zero_g = ops.zeros_like(h0), ops.zeros_like(x_proj[0])
    _, (h_all,), (z, coef_inner, coef_proj) = _scan(step, (h0,), (zero, zero_g, zero_g), x_proj, False, unroll)

    def grad(*upstream):
        (dH,) = _upstream(upstream, 1)
        U_T = ops.transpose(U)  # (3H, H)

        def back(carry, coef_t, t):
            (dh_carry,) = carry
            dh, dh_new = _dh_at(dH, keep, t, dh_carry)
            d_inner = ops.concatenate([dh_new, dh_new, dh_new], axis=-1) * coef_t  # (B, 3H)
            dh_in = ops.matmul(d_inner, U_T)
            dh_tm1 = dh_new * ops.take(z, t, axis=0) + (dh_in if rm is None else dh_in * rm)
            if keep is not None:
                dh_tm1 = dh_tm1 + (dh - dh_new)
            return (dh_tm1,), dh_new

        # Only dh_new leaves the loop; d inner and d x_proj are each one elementwise product after it.
        (dh0,), _, dH_new = _scan(back, (zero,), zero, coef_inner, reverse=True, unroll=unroll)
        d_inner, d_proj = _times_blocks(dH_new, coef_inner), _times_blocks(dH_new, coef_proj)
        H_in = _previous(h0, h_all) if rm is None else _previous(h0, h_all) * rm
        grads = [d_proj, _weight_gradient(H_in, d_inner), dh0]
        if b_rec is not None:
            grads.append(ops.sum(d_inner, axis=(0, 1)))
        return tuple(grads + _constant_gradients(keep, rm))

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
    x_proj, U, (h0,), _, _, keep, rm = _unpack(args, flags, 1)
    H = U.shape[0]
    U_zr, U_h = U[:, : 2 * H], U[:, 2 * H :]  # (H, 2H), (H, H)

    def step(carry, x_t, t):
        h_tm1, _ = carry
        h_in = h_tm1 if rm is None else h_tm1 * rm
        zr_pre = x_t[:, : 2 * H] + ops.matmul(h_in, U_zr)  # (B, 2H)
        z, r = ops.sigmoid(zr_pre[:, :H]), ops.sigmoid(zr_pre[:, H:])
        hh = ops.tanh(x_t[:, 2 * H :] + ops.matmul(r * h_in, U_h))
        h = z * h_tm1 + (1.0 - z) * hh
        # hh rides in the carry so that scan stacks it (see _scan).
        return (_carry_over(keep, t, h, h_tm1), hh), zr_pre

    zero = ops.zeros_like(h0)
    zr0 = ops.zeros_like(x_proj[0, :, : 2 * H])  # (B, 2H)
    _, (h_all, hh_all), zr_all = _scan(step, (h0, zero), zr0, x_proj, False, unroll)

    def grad(*upstream):
        (dH,) = _upstream(upstream, 1)
        z, r = ops.sigmoid(zr_all[..., :H]), ops.sigmoid(zr_all[..., H:])  # (T, B, H) each
        h_prev = _previous(h0, h_all)
        H_in = h_prev if rm is None else h_prev * rm
        c_z = (h_prev - hh_all) * z * (1.0 - z)  # dz_pre = dh * c_z
        c_h = (1.0 - z) * (1.0 - hh_all * hh_all)  # dhh_pre = dh * c_h
        c_r = H_in * r * (1.0 - r)  # dr_pre = d(r h_in) * c_r
        U_zr_T, U_h_T = ops.transpose(U_zr), ops.transpose(U_h)

        def back(carry, c_h_t, t):
            dh_carry, _ = carry
            dh, dh_new = _dh_at(dH, keep, t, dh_carry)
            dhh_pre = dh_new * c_h_t
            d_rh = ops.matmul(dhh_pre, U_h_T)  # d(r * h_in), (B, H)
            dzr = ops.concatenate([dh_new * ops.take(c_z, t, axis=0), d_rh * ops.take(c_r, t, axis=0)], axis=-1)
            dh_in = d_rh * ops.take(r, t, axis=0) + ops.matmul(dzr, U_zr_T)
            dh_tm1 = dh_new * ops.take(z, t, axis=0) + (dh_in if rm is None else dh_in * rm)
            if keep is not None:
                dh_tm1 = dh_tm1 + (dh - dh_new)
            return (dh_tm1, dhh_pre), dzr

        (dh0, _), (_, dHH), dZR = _scan(back, (zero, zero), zr0, c_h, True, unroll)
        dU = ops.concatenate([_weight_gradient(H_in, dZR), _weight_gradient(r * H_in, dHH)], axis=1)  # (H, 3H)
        d_proj = ops.concatenate([dZR, dHH], axis=-1)  # (T, B, 3H)
        return (d_proj, dU, dh0, *_constant_gradients(keep, rm))

    return (h_all,), grad


def _simple(args, flags, unroll):
    """SimpleRNN. Backward, per step: dp = dh * (1 - h_t^2), dh_{t-1} = dp U^T."""
    x_proj, U, (h0,), _, _, keep, rm = _unpack(args, flags, 1)

    def step(carry, x_t, t):
        (h_tm1,) = carry
        h_in = h_tm1 if rm is None else h_tm1 * rm
        h = ops.tanh(x_t + ops.matmul(h_in, U))
        return (_carry_over(keep, t, h, h_tm1),), h

    _, (h_all,), _ = _scan(step, (h0,), ops.zeros_like(h0), x_proj, reverse=False, unroll=unroll)

    def grad(*upstream):
        (dH,) = _upstream(upstream, 1)
        coef = 1.0 - h_all * h_all  # (T, B, H); at masked steps dh_new is 0
        U_T = ops.transpose(U)

        def back(carry, coef_t, t):
            (dh_carry,) = carry
            dh, dh_new = _dh_at(dH, keep, t, dh_carry)
            dp = dh_new * coef_t
            dh_in = ops.matmul(dp, U_T)
            dh_tm1 = dh_in if rm is None else dh_in * rm
            if keep is not None:
                dh_tm1 = dh_tm1 + (dh - dh_new)
            return (dh_tm1,), dp

        (dh0,), _, dP = _scan(back, (ops.zeros_like(h0),), ops.zeros_like(h0), coef, reverse=True, unroll=unroll)
        H_in = _previous(h0, h_all) if rm is None else _previous(h0, h_all) * rm
        return (dP, _weight_gradient(H_in, dP), dh0, *_constant_gradients(keep, rm))

    return (h_all,), grad
