"""Hand-written backpropagation through time: the generic machinery that cells with a hand-written
backward pass share.

Autodiff through ``keras.ops.scan`` accumulates dU at every step and keeps every intermediate of
the step function. A hand-written recurrence (as cuDNN's) carries backwards only dh_t (and dc_t
for the LSTM) and does the one matmul that is truly sequential, dz_t U^T; then

    dU = H_in^T dZ          # one (H, T*B) x (T*B, gH) matmul after the loop
    dX_proj = dZ            # W, b and x get theirs from autodiff of the hoisted projection:
                            # dW = X^T dZ, db = sum dZ, dX = dZ W^T, each one big matmul

Shapes: T time steps, B batch, H units, g gates; everything here is time-major, (T, B, ...).

A cell declares the recurrence it supports by returning a ``Recurrence`` from
``hand_written_recurrence()`` (``RecurrentCell`` returns None: autodiff through the generic loop).
The recurrence's ``body`` (its forward loop and backward loop) lives beside the cell that owns it;
``run`` wraps it in ``keras.ops.custom_gradient``. The sequence layer (layers/rnn.py) may call
``run`` once per chunk of consecutive steps, each chunk's final states being the next one's
initial states; the gradients of the initial states (dh_0, dc_0) carry the backward pass from one
chunk to the one before.

The body runs on the hoisted projection X_proj = W x + b (computed by the caller), the recurrent
kernel U, the initial states, the cell's other recurrent weights (``extra``: peepholes, or the
scales and offsets of normalisations, whose gradients are sums over T and B after the loop), an
optional recurrent bias and two constants: ``keep`` (T, B, 1), 1.0 at real steps and 0.0 at
masked ones, where the states are carried over unchanged; and the recurrent dropout mask (B, H),
which multiplies h_{t-1} before U. It returns the stacked states h_1..h_T and the other final
states (c_T of an LSTM); the caller derives the outputs from them, so their gradients arrive here
as one dH (T, B, H).

The helpers below are the pieces every body uses: unpacking the flat argument list, a scan that
stacks its per-step values, dh_t at a possibly masked step, the weight gradient as one matmul.
"""

from typing import Any
from typing import Callable
from typing import NamedTuple

from keras import ops


class Recurrence(NamedTuple):
    """A cell's hand-written recurrence, as ``run`` takes it.

    name: what it is ("lstm", "gru", ...), for tests and messages.
    body: ``body(args, flags, unroll) -> (outputs, grad)``, the forward loop and the function of
        the upstream gradients that ``keras.ops.custom_gradient`` expects; ``outputs`` is
        (h_all, *other final states). ``args`` are laid out as ``run`` lays them out (``unpack``).
    U: the recurrent kernel in the compute dtype, (H, gH).
    extra: the cell's other recurrent weights in the compute dtype, in the order the body reads them.
    recurrent_bias: a bias added to U h_{t-1} (the b'_h of a reset-after GRU), or None.
    flags: the body's constants (e.g. the LSTM variant and its normalisation's epsilon).
    """

    name: str
    body: Callable
    U: Any
    extra: tuple = ()
    recurrent_bias: Any = None
    flags: dict = {}


def run(recurrence, projected, states, keep=None, recurrent_mask=None, unroll=1):
    """Runs ``recurrence`` over ``projected`` with its hand-written gradient.

    Args:
        recurrence: a ``Recurrence``, from ``cell.hand_written_recurrence()``.
        projected: X_proj, (T, B, gH).
        states: [h_0] or [h_0, c_0], each (B, H).
        keep: (T, B, 1) float, 1.0 at real steps and 0.0 at masked ones, or None (no mask).
        recurrent_mask: (B, H) dropout mask on h_{t-1}, or None.
        unroll: passed to ``keras.ops.scan``.

    Returns:
        (h_all (T, B, H), final states list).
    """
    extra, recurrent_bias = list(recurrence.extra), recurrence.recurrent_bias
    args = [projected, recurrence.U] + list(states) + extra
    flags = {"bias": recurrent_bias is not None, "keep": keep is not None, "rm": recurrent_mask is not None}
    flags.update({"extra": len(extra), **recurrence.flags})
    args += [a for a in (recurrent_bias, keep, recurrent_mask) if a is not None]

    @ops.custom_gradient
    def hand_written(*args):
        return recurrence.body(args, flags, unroll)

    h_all, *final = hand_written(*args)
    return h_all, [h_all[-1]] + list(final)


def unpack(args, flags, n_states):
    """Splits the flat argument list into (x_proj, U, states, extra, b', keep, rm)."""
    args = list(args)
    x_proj, U, states, rest = args[0], args[1], args[2 : 2 + n_states], args[2 + n_states :]
    extra, rest = rest[: flags["extra"]], rest[flags["extra"] :]
    b_rec = rest.pop(0) if flags["bias"] else None
    keep = rest.pop(0) if flags["keep"] else None
    rm = rest.pop(0) if flags["rm"] else None
    return x_proj, U, states, extra, b_rec, keep, rm


def upstream_gradients(upstream, count):
    """The upstream gradients as a list of ``count`` (None where an output got none).

    TensorFlow's custom_gradient passes one argument per output; JAX's passes one tuple.
    """
    if len(upstream) == 1 and isinstance(upstream[0], (tuple, list)):
        upstream = upstream[0]
    return list(upstream) + [None] * (count - len(upstream))


def scan(step, carry, ys_init, xs, reverse, unroll):
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


def previous(h0, h_all):
    """[h_0, ..., h_{T-1}], (T, B, H), from h_0 (B, H) and h_all = [h_1 ... h_T]."""
    return ops.concatenate([h0[None], h_all[:-1]], axis=0)  # (T, B, H)


def recurrent_inputs(h0, h_all, rm):
    """The h_{t-1} that met U at every step, (T, B, H): [h_0 ... h_{T-1}], times the dropout mask."""
    h_prev = previous(h0, h_all)
    return h_prev if rm is None else h_prev * rm


def carry_over(keep, t, new, old):
    """The new state at a real step, the old one at a masked step."""
    if keep is None:
        return new
    k = ops.take(keep, t, axis=0) > 0  # (B, 1)
    return ops.where(k, new, old)


def dh_at(dH, keep, t, dh_carry):
    """dh_t = upstream dH_t + dh from step t + 1; and its part through the step at t (0 if masked)."""
    dh = dh_carry if dH is None else dh_carry + ops.take(dH, t, axis=0)
    dh_new = dh if keep is None else dh * ops.take(keep, t, axis=0)
    return dh, dh_new


def weight_gradient(H_in, dZ):
    """sum_t H_in_t^T dZ_t as one matmul: (T, B, H), (T, B, gH) -> (H, gH)."""
    return ops.tensordot(H_in, dZ, axes=[[0, 1], [0, 1]])


def constant_gradients(keep, rm):
    """Zero gradients for the constant inputs (the mask and the dropout mask)."""
    return [ops.zeros_like(a) for a in (keep, rm) if a is not None]


def sum_bt(a):
    """Sum over the time and batch axes: (T, B, n) -> (n,)."""
    return ops.sum(a, axis=(0, 1))
