"""Export a trained recipe as a SavedModel that TensorFlow Serving loads as it is.

``export(model, "saved_models/NAME")`` writes the next numbered version folder,
``saved_models/NAME/1``, ``saved_models/NAME/2``, ... with a ``serving_default`` signature on raw
inputs: strings in for text recipes (tokenization inside the graph), a float series in for
regressors, float images (B, H, W, C) in for captioners. The tokenizers' vocabularies are copied in
as assets (``assets/*.vocab``). Only core TensorFlow ops are used (and TensorFlow Text ops for a
``SubwordTokenizer`` or ``SentencePieceTokenizer``, which the TF Serving model server includes), so
stock TF Serving runs the result. Generating recipes (serving kinds "generate" and "caption") return {"outputs": strings (B,)}
from ``serving_default`` (greedy decoding) and get a second signature, ``generate``: the same raw
input plus the scalar settings ``GENERATE_SETTINGS`` (beam width, number of results, maximum
length, temperature, top-k, top-p, seed, length and coverage penalties), returning the n-best
{"outputs": strings (B, N), "scores": (B, N)}; see ``generate_function``.

Warm-up: every export holds ``assets.extra/tf_serving_warmup_requests``, TF Serving's warm-up file
(a TFRecord file of ``tensorflow.serving.PredictionLog`` protos), with one small request per
signature: two short strings for text recipes, a zero series for regressors, zero images for
captioners. TF Serving replays them when it loads the model, so the first real request does not
pay for the graph's first run.

Over-long inputs are cut to the model's limit, never rejected; the rule per serving kind:

- ``classify`` (``text_classifier``): the first ``max_length`` tokens of each text are read.
- ``tag`` (``sequence_tagger``): the first ``max_length`` tokens are tagged; the output has at most
  ``max_length`` columns and later tokens get no tag.
- ``generate``, encoder-decoders (``seq2seq``, ``seq2seq_attention``, ``transformer_seq2seq``): the
  first ``max_source_length`` source tokens are read. ``window_language_model``: the prompt's last
  ``context_size`` ids (``[START]`` + tokens) are the context. ``rnn_language_model``: no limit, the
  whole prompt is read.
- ``forecast`` (``sequence_regressor``): the last ``input_length`` steps of each series are read.
- ``caption`` (``image_captioner``): the signature fixes the image size to the model's.
- Outputs of generating recipes are at most the model's output limit (``max_target_length`` or
  ``max_output_length``) tokens long.
"""

import inspect
import logging
import os
import re
import tempfile
import warnings

import numpy as np
import tensorflow as tf

logger = logging.getLogger(__name__)

WARMUP_FILE = os.path.join("assets.extra", "tf_serving_warmup_requests")


def _image_signature(model):
    """float32 images (None, H, W, C) named "images", with H, W, C of the model's "image" input."""
    height, width, channels = model.input["image"].shape[1:]
    return tf.TensorSpec([None, height, width, channels], tf.float32, name="images")


# The input of ``serving_default`` per serving kind: a TensorSpec, or a function of the model
# that returns one (for inputs whose shape is per model, such as images).
INPUT_SIGNATURES = {
    "generate": tf.TensorSpec([None], tf.string, name="inputs"),
    "classify": tf.TensorSpec([None], tf.string, name="inputs"),
    "tag": tf.TensorSpec([None], tf.string, name="inputs"),
    "forecast": tf.TensorSpec([None, None], tf.float32, name="series"),
    "caption": _image_signature,
}


def input_signature(model):
    """The ``serving_default`` input TensorSpec of a recipe model (see ``INPUT_SIGNATURES``)."""
    spec = INPUT_SIGNATURES[model.info.serving]
    return spec(model) if callable(spec) else spec


# The settings inputs of the ``generate`` signature, scalars, in ``decoding.generate``'s terms.
GENERATE_SETTINGS = (
    ("beam_width", tf.int32),
    ("num_results", tf.int32),
    ("max_length", tf.int32),
    ("temperature", tf.float32),
    ("top_k", tf.int32),
    ("top_p", tf.float32),
    ("seed", tf.int32),
    ("length_penalty", tf.float32),
    ("coverage_penalty", tf.float32),
)


def generate_settings(max_length, **overrides):
    """Values for the ``GENERATE_SETTINGS`` inputs of a ``generate`` request: ``decoding.generate``'s
    own defaults (greedy), the given ``max_length``, then ``overrides``; name -> NumPy scalar of the
    input's dtype."""
    from seqrecipes.recipes.decoding import generate

    defaults = {name: parameter.default for name, parameter in inspect.signature(generate).parameters.items()}
    values = dict(defaults, max_length=max_length, **overrides)
    return {name: np.asarray(values[name], dtype.as_numpy_dtype) for name, dtype in GENERATE_SETTINGS}


def generate_function(model):
    """The ``generate`` signature of a generating recipe, as a ``tf.function``.

    Inputs: the raw input of ``serving_default`` (strings "inputs" (B,), or "images") and the
    ``GENERATE_SETTINGS`` scalars; ``decoding.generate`` picks the strategy from them per request
    (beam_width >= 2: beam search; else temperature > 0: sampling; else greedy) and clamps
    out-of-range values (max_length into [1, the model's limit]). Outputs: {"outputs": strings
    (B, N), "scores": (B, N) float32}, N results per input, best first for beam search.
    """
    from seqrecipes.recipes.decoding import generate

    decoder = model.decoder
    model.tokenizer(decoder.output_role)  # a clear error now if the output tokenizer is missing
    names = [name for name, _ in GENERATE_SETTINGS]

    def serve(raw, *settings):
        result = generate(decoder, decoder.inputs_from_raw(raw), **dict(zip(names, settings)))
        return {"outputs": decoder.detokenize(result["ids"]), "scores": result["scores"]}  # (B, N) each

    specs = [input_signature(model)] + [tf.TensorSpec([], dtype, name=name) for name, dtype in GENERATE_SETTINGS]
    return tf.function(serve, input_signature=specs)


def next_version(base_path):
    """The next TF Serving version number under ``base_path``: 1 + the largest numbered folder, or 1."""
    if not os.path.isdir(base_path):
        return 1
    versions = [int(name) for name in os.listdir(base_path) if re.fullmatch(r"[0-9]+", name)]
    return max(versions, default=0) + 1


def _check_model(model):
    from seqrecipes.recipes.recipe_model import RecipeModel

    if not isinstance(model, RecipeModel):
        raise ValueError(
            "`model` must be a model returned by a seqrecipes recipe (a RecipeModel). "
            f"Received: model of type {type(model).__name__}"
        )
    if model.info.serving_function is None:
        raise ValueError(f"Recipe {model.recipe!r} has no serving function to export. Received: model.recipe={model.recipe!r}")


class _ServingModule(tf.Module):
    """What the SavedModel holds: the model's variables, the tokenizers' tables, the vocabularies."""

    def __init__(self, model, vocabulary_dir):
        super().__init__(name="seqrecipes_serving")
        self.model = model
        self.tokenizers = dict(model.tokenizers)
        self.vocabularies = {}
        for role, tokenizer in model.tokenizers.items():
            if hasattr(tokenizer, "save_vocabulary"):
                path = os.path.join(vocabulary_dir, f"{role}.vocab")
                tokenizer.save_vocabulary(path)
                self.vocabularies[role] = tf.saved_model.Asset(path)

    def track_captured_variables(self, functions):
        """Lists the tf.Variables the signature functions capture on the module itself.

        With only the Keras model tracked, the TF1 loader (TF Serving, saved_model_cli) leaves the
        Keras weights unrestored ("Could not find variable ...", keras-team/keras#20095) while
        ``tf.saved_model.load`` works; keras.export.ExportArchive tracks them this way too.
        """
        captured = {}
        for function in functions:
            for variable in function.get_concrete_function().variables:
                captured.setdefault(id(variable), variable)
        self.captured_variables = list(captured.values())


# ------------------------------------------------------------------------------------------------
# Warm-up requests: TF Serving's PredictionLog protos, encoded by hand (protobuf wire format) around
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


def _warmup_value(name, tensor_info):
    """A small value for one signature input: defaults for scalars, two short strings for a batch of
    texts, zeros otherwise; unknown dimensions become 2 (texts) or 1 (batch) and 8 (others). None for
    an input of unknown rank."""
    dtype = tf.dtypes.as_dtype(tensor_info.dtype)
    dims = [d.size for d in tensor_info.tensor_shape.dim]
    if tensor_info.tensor_shape.unknown_rank:
        return None
    if not dims:
        value = generate_settings(WARMUP_MAX_LENGTH).get(name, 0)
        return np.asarray(value, dtype.as_numpy_dtype), dtype
    batch = len(WARMUP_TEXTS) if dtype == tf.string else 1
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
        inputs = {key: _warmup_value(key, info) for key, info in signature.inputs.items()}
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


def export(model, base_path, version=None, extra_signatures=None):
    """Writes ``model`` as ``base_path/VERSION`` for TensorFlow Serving and returns that path.

    The folder holds the SavedModel (signatures on raw inputs, see the module docstring), the
    vocabularies as assets and ``assets.extra/tf_serving_warmup_requests`` (one request per
    signature, model name ``basename(base_path)``). It loads through the TF1 session loader that TF
    Serving and ``saved_model_cli`` use as well as through ``tf.saved_model.load``.

    Args:
        model: a ``RecipeModel`` (what every recipe returns), trained or not.
        base_path: the model's folder in the serving layout, e.g. ``"saved_models/dates"``.
        version: the version number; defaults to the next free one.
        extra_signatures: optional dict name -> ``tf.function`` with an input signature, added
            beside ``serving_default``.

    Returns:
        The path of the written version folder.

    Example:
    >>> from seqrecipes import recipes  # doctest: +SKIP
    >>> recipes.export(model, "saved_models/dates")  # doctest: +SKIP
    'saved_models/dates/1'
    """
    _check_model(model)
    if version is None:
        version = next_version(base_path)
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise ValueError(f"`version` must be a positive integer. Received: version={version!r}")
    path = os.path.join(base_path, str(version))
    if os.path.exists(path):
        raise ValueError(f"Version folder already exists; choose another version. Received: version={version} (path {path!r})")

    serve = model.info.serving_function(model)
    with tempfile.TemporaryDirectory() as vocabulary_dir:
        module = _ServingModule(model, vocabulary_dir)
        module.serve = tf.function(serve, input_signature=[input_signature(model)])
        signatures = {"serving_default": module.serve}
        if model.info.decoder is not None:
            module.generate = generate_function(model)
            signatures["generate"] = module.generate
        for name, fn in (extra_signatures or {}).items():
            setattr(module, f"signature_{name}", fn)
            signatures[name] = fn
        module.track_captured_variables(signatures.values())
        tf.saved_model.save(module, path, signatures=signatures)
    write_warmup_requests(path, os.path.basename(os.path.normpath(base_path)))
    logger.info("Exported %s to %s", model.recipe, path)
    return path
