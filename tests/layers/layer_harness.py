"""One shared test harness for every seqrecipes layer.

``run_layer_test`` checks, for one layer class and one set of arguments:

- serialization round trip (``get_config`` -> ``from_config`` -> same config, and
  ``keras.saving.serialize_keras_object`` / ``deserialize_keras_object``);
- build, then an eager call and a symbolic call (``keras.Input``) that agree on
  shapes with ``compute_output_shape`` where the layer defines it;
- the number of trainable weights once built (``expected_num_trainable_weights``, as
  keras-hub's ``run_layer_test`` checks it): a weight that is forgotten or created twice shows;
- one ``fit`` step in a functional model that changes the trainable weights;
- masking: with ``input_mask`` given, the layer accepts the mask, and changing the
  inputs at masked positions changes no output at unmasked positions;
- a ``.keras`` save and a load with ``safe_mode=True`` that reproduce the outputs;
- optionally all of the above under the ``mixed_float16`` policy (finite outputs).

Layers whose call takes several tensors pass them as a dict ``inputs`` of
keyword arguments plus ``positional`` names, e.g. ``positional=("query", "values")``.
For such layers ``masked_input`` names the input that ``input_mask`` belongs to (its
masked positions are perturbed in the masking check), and ``mask_arg`` names the call
keyword that receives the mask (``"mask"`` by default, e.g. ``"value_mask"``).
Outputs whose leading axes have the mask's shape are compared at unmasked positions only.
"""

import os
import tempfile

import keras
import numpy as np
from keras import ops


def _to_numpy(x):
    return keras.tree.map_structure(lambda t: None if t is None else ops.convert_to_numpy(t), x)


def _assert_all_close(a, b, atol, msg=""):
    fa, fb = keras.tree.flatten(a), keras.tree.flatten(b)
    assert len(fa) == len(fb), f"{msg}: structure differs: {len(fa)} vs {len(fb)} tensors"
    for x, y in zip(fa, fb):
        np.testing.assert_allclose(np.asarray(x, dtype="float64"), np.asarray(y, dtype="float64"), atol=atol, rtol=atol, err_msg=msg)


def _call(layer, inputs, positional, call_kwargs, mask=None, mask_arg="mask"):
    kwargs = dict(call_kwargs or {})
    if mask is not None:
        kwargs[mask_arg] = mask
    if isinstance(inputs, dict):
        args = [inputs[name] for name in positional]
        extra = {k: v for k, v in inputs.items() if k not in positional}
        return layer(*args, **extra, **kwargs)
    return layer(inputs, **kwargs)


def _at_unmasked(outputs, mask):
    """Outputs whose leading axes have the mask's shape, kept at unmasked positions only."""

    def keep(t):
        if t is None or t.shape[: mask.ndim] != mask.shape:
            return t
        return t[mask]

    return keras.tree.map_structure(keep, outputs)


def _symbolic_inputs(inputs):
    def make(x):
        x = np.asarray(x)
        return keras.Input(shape=x.shape[1:], batch_size=x.shape[0], dtype=str(x.dtype))

    return keras.tree.map_structure(make, inputs)


def _scalar_loss_model(layer, sym_inputs, positional, call_kwargs, sym_mask, mask_arg="mask"):
    out = _call(layer, sym_inputs, positional, call_kwargs, mask=sym_mask, mask_arg=mask_arg)
    flat = [t for t in keras.tree.flatten(out) if t is not None and "float" in str(t.dtype)]
    # Sum of all float outputs, reduced to one value per example: a fit target.
    total = None
    for t in flat:
        t32 = keras.layers.Activation("linear", dtype="float32")(t)
        red = keras.layers.Flatten()(t32) if len(t32.shape) > 2 else t32
        red = keras.layers.Dense(1, use_bias=False, kernel_initializer="ones", trainable=False)(red) if len(red.shape) == 2 else keras.layers.Reshape((1,))(red)
        total = red if total is None else keras.layers.Add()([total, red])
    model_inputs = list(keras.tree.flatten(sym_inputs)) + ([sym_mask] if sym_mask is not None else [])
    return keras.Model(model_inputs, total)


def run_layer_test(
    layer_cls,
    init_kwargs,
    inputs,
    *,
    expected_num_trainable_weights,
    positional=(),
    call_kwargs=None,
    input_mask=None,
    expected_output_shape=None,
    run_fit=True,
    run_mixed_precision=True,
    atol=1e-5,
    masked_input=None,
    mask_arg="mask",
):
    """Runs the shared checks on ``layer_cls(**init_kwargs)``; see the module docstring."""
    inputs = keras.tree.map_structure(np.asarray, inputs)
    mask = None if input_mask is None else np.asarray(input_mask, dtype=bool)

    # 1. Serialization round trip.
    layer = layer_cls(**init_kwargs)
    config = layer.get_config()
    for key in init_kwargs:
        assert key in config, f"get_config() of {layer_cls.__name__} forgets the argument {key!r}"
    restored = layer_cls.from_config(config)
    assert restored.get_config() == config, "from_config(get_config()) changes the config"
    revived = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(layer))
    assert type(revived) is layer_cls
    assert revived.get_config() == config

    # 2. Eager call builds the layer; symbolic call agrees on shapes.
    layer = layer_cls(**init_kwargs)
    eager = _call(layer, inputs, positional, call_kwargs, mask=mask, mask_arg=mask_arg)
    assert layer.built, f"{layer_cls.__name__} is not built after its first call"
    num_trainable = len(layer.trainable_weights)
    assert num_trainable == expected_num_trainable_weights, (
        f"{layer_cls.__name__} has {num_trainable} trainable weights, expected {expected_num_trainable_weights}"
    )
    eager_np = _to_numpy(eager)
    for t in keras.tree.flatten(eager_np):
        if t is not None and np.issubdtype(t.dtype, np.floating):
            assert np.all(np.isfinite(t)), f"{layer_cls.__name__} gives non-finite outputs"
    if expected_output_shape is not None:
        got = keras.tree.map_structure(lambda t: tuple(t.shape), eager_np)
        assert keras.tree.flatten(got) == keras.tree.flatten(expected_output_shape), f"output shapes {got} != {expected_output_shape}"
    sym_inputs = _symbolic_inputs(inputs)
    sym_mask = None if mask is None else keras.Input(shape=mask.shape[1:], batch_size=mask.shape[0], dtype="bool")
    sym_layer = layer_cls(**init_kwargs)
    symbolic = _call(sym_layer, sym_inputs, positional, call_kwargs, mask=sym_mask, mask_arg=mask_arg)
    sym_shapes = [tuple(t.shape) for t in keras.tree.flatten(symbolic) if t is not None]
    eager_shapes = [tuple(t.shape) for t in keras.tree.flatten(eager_np) if t is not None]
    assert sym_shapes == eager_shapes, f"symbolic shapes {sym_shapes} != eager shapes {eager_shapes}"

    # 3. Masking: inputs at masked positions do not reach outputs at unmasked positions.
    if mask is not None and (not isinstance(inputs, dict) or masked_input is not None):
        target = inputs[masked_input] if isinstance(inputs, dict) else inputs
        noisy = np.array(target, copy=True)
        if np.issubdtype(noisy.dtype, np.floating):
            noisy[~mask] = noisy[~mask] + 7.0
        else:
            noisy[~mask] = noisy[~mask] + 1
        if isinstance(inputs, dict):
            noisy = {**inputs, masked_input: noisy}
        again = _to_numpy(_call(layer, noisy, positional, call_kwargs, mask=mask, mask_arg=mask_arg))
        _assert_all_close(
            _at_unmasked(again, mask), _at_unmasked(eager_np, mask), atol, "changing masked inputs changed the outputs"
        )

    # 4. One fit step changes the trainable weights.
    if run_fit and layer.trainable_weights:
        fit_layer = layer_cls(**init_kwargs)
        model = _scalar_loss_model(fit_layer, _symbolic_inputs(inputs), positional, call_kwargs, sym_mask, mask_arg)
        model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
        x = list(keras.tree.flatten(inputs)) + ([mask] if mask is not None else [])
        y = np.ones((np.asarray(keras.tree.flatten(inputs)[0]).shape[0], 1), "float32")
        before = [np.array(w) for w in fit_layer.trainable_weights]
        model.fit(x, y, batch_size=y.shape[0], epochs=1, verbose=0)
        after = [np.array(w) for w in fit_layer.trainable_weights]
        assert any(not np.allclose(a, b) for a, b in zip(before, after)), "one fit step changed no weight"

    # 5. .keras save and safe_mode load reproduce the outputs.
    model = keras.Model(
        list(keras.tree.flatten(sym_inputs)) + ([sym_mask] if sym_mask is not None else []), symbolic
    )
    x = list(keras.tree.flatten(inputs)) + ([mask] if mask is not None else [])
    expected = _to_numpy(model(x))
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "layer.keras")
        model.save(path)
        loaded = keras.saving.load_model(path, safe_mode=True)
    _assert_all_close(_to_numpy(loaded(x)), expected, atol, ".keras save/load changed the outputs")

    # 6. mixed_float16: builds, runs and stays finite.
    if run_mixed_precision:
        keras.config.set_dtype_policy("mixed_float16")
        try:
            mp_layer = layer_cls(**init_kwargs)
            out = _to_numpy(_call(mp_layer, inputs, positional, call_kwargs, mask=mask, mask_arg=mask_arg))
            for t in keras.tree.flatten(out):
                if t is not None and np.issubdtype(t.dtype, np.floating):
                    assert np.all(np.isfinite(t)), f"{layer_cls.__name__} overflows under mixed_float16"
        finally:
            keras.config.set_dtype_policy("float32")
    return eager_np
