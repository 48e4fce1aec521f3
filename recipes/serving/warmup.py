"""Warm-up requests: TF Serving's ``assets.extra/tf_serving_warmup_requests`` file of an export.

The file is a TFRecord file of ``tensorflow.serving.PredictionLog`` protos with one small request per
signature (two short strings for text recipes, a zero series for regressors, zero images for
captioners, paired with two texts for a captioner's ``score``; for ``generate``, greedy with
``max_length`` 4), read from the SavedModel's own signature defs. TF Serving replays them when it loads
the model, so the first real request does not pay for the graph's first run.
"""

import os
import warnings

import numpy as np
import tensorflow as tf

from seqrecipes.recipes.serving.signatures import generate_settings

WARMUP_FILE = os.path.join("assets.extra", "tf_serving_warmup_requests")

# The PredictionLog protos are encoded by hand (protobuf wire format) around
# tf.make_tensor_proto, so that the export needs no tensorflow-serving-api (which pins the TensorFlow
# version). Field numbers of tensorflow_serving/apis: PredictionLog.predict_log = 6,
# PredictLog.request = 1, PredictRequest.model_spec = 1, PredictRequest.inputs = 2 (a map: entries
# with key = 1, value = 2), ModelSpec.name = 1, ModelSpec.signature_name = 3.

# Scalar inputs of the warm-up requests: the generate settings' defaults (greedy), 4 tokens at most;
# other scalars get 0.
WARMUP_MAX_LENGTH = 4
WARMUP_TEXTS = (b"a short text", b"hello")


def _varint(value):
    out = bytearray()
    while True:
        byte, value = value & 0x7F, value >> 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def _field(number, payload):
    """One length-delimited field (wire type 2): tag, length, payload."""
    return _varint(number << 3 | 2) + _varint(len(payload)) + payload


def predict_log(model_name, signature_name, inputs):
    """The serialized ``PredictionLog`` of one ``PredictRequest``.

    Args:
        model_name: the served model's name (``ModelSpec.name``).
        signature_name: the signature the request runs (``ModelSpec.signature_name``).
        inputs: dict input name -> NumPy array, or (array, tf.DType).

    Returns:
        bytes, one record of ``tf_serving_warmup_requests``.
    """
    entries = b""
    for key in sorted(inputs):
        value = inputs[key]
        value, dtype = value if isinstance(value, tuple) else (value, None)
        tensor = tf.make_tensor_proto(value, dtype=dtype).SerializeToString()
        entries += _field(2, _field(1, key.encode()) + _field(2, tensor))  # PredictRequest.inputs entry
    model_spec = _field(1, model_name.encode()) + _field(3, signature_name.encode())
    request = _field(1, model_spec) + entries
    return _field(6, _field(1, request))  # PredictionLog.predict_log.request


def _warmup_value(name, tensor_info, batch=None):
    """A small value for one signature input: defaults for scalars, two short strings for a batch of
    texts, zeros otherwise; unknown dimensions become 2 (texts) or 1 (batch; ``batch`` if given) and 8
    (others). None for an input of unknown rank."""
    dtype = tf.dtypes.as_dtype(tensor_info.dtype)
    dims = [d.size for d in tensor_info.tensor_shape.dim]
    if tensor_info.tensor_shape.unknown_rank:
        return None
    if not dims:
        value = generate_settings(WARMUP_MAX_LENGTH).get(name, 0)
        return np.asarray(value, dtype.as_numpy_dtype), dtype
    batch = batch or (len(WARMUP_TEXTS) if dtype == tf.string else 1)
    shape = [(batch if i == 0 else 8) if d < 0 else d for i, d in enumerate(dims)]
    if dtype == tf.string:
        texts = np.resize(np.asarray(WARMUP_TEXTS, object), shape[0])
        return np.broadcast_to(texts.reshape([-1] + [1] * (len(shape) - 1)), shape).copy(), dtype
    return np.zeros(shape, dtype.as_numpy_dtype), dtype


def warmup_requests(path):
    """The warm-up requests of the SavedModel at ``path``: a list of (signature name, inputs), one per
    signature, read from its ``saved_model.pb`` signature defs (what TF Serving sees)."""
    from tensorflow.core.protobuf import saved_model_pb2

    saved_model = saved_model_pb2.SavedModel()
    with open(os.path.join(path, "saved_model.pb"), "rb") as f:
        saved_model.ParseFromString(f.read())
    (meta_graph,) = [g for g in saved_model.meta_graphs if "serve" in g.meta_info_def.tags]
    requests = []
    for name in sorted(meta_graph.signature_def):
        if name.startswith("__"):  # TensorFlow's internal signatures (__saved_model_init_op)
            continue
        signature = meta_graph.signature_def[name]
        # One batch size for every batched input: the texts' when there are texts (``score`` of a
        # captioner pairs images with target strings, row for row).
        texts = any(info.dtype == tf.string.as_datatype_enum for info in signature.inputs.values())
        batch = len(WARMUP_TEXTS) if texts else 1
        inputs = {key: _warmup_value(key, info, batch) for key, info in signature.inputs.items()}
        if any(value is None for value in inputs.values()):
            warnings.warn(
                f"No warm-up request for signature {name!r}: an input has an unknown rank. "
                f"Received: inputs {sorted(inputs)} of signature {name!r}"
            )
            continue
        requests.append((name, inputs))
    return requests


def write_warmup_requests(path, model_name):
    """Writes ``path/assets.extra/tf_serving_warmup_requests`` with ``warmup_requests(path)``."""
    os.makedirs(os.path.join(path, "assets.extra"), exist_ok=True)
    with tf.io.TFRecordWriter(os.path.join(path, WARMUP_FILE)) as writer:
        for signature_name, inputs in warmup_requests(path):
            writer.write(predict_log(model_name, signature_name, inputs))
