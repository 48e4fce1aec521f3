"""The signatures of an export: ``serving_default`` on raw inputs per serving kind, and ``generate``.

``serving_default`` takes strings for text recipes (tokenization inside the graph), a float series for
regressors and float images (B, H, W, C) for captioners (``input_signature``); generating recipes
answer it with ``generation_serving`` (greedy decoding). They also get ``generate``: the same raw input
plus the scalar settings of ``decoding.generate`` (``GENERATE_SETTINGS``), returning the n-best
(``generate_function``), with beam width and results per input clamped to the export's limits, and
``score``: sentences (and for encoder-decoders and captioners the inputs they follow) -> their log
probabilities (``score_function``, what ``recipes.score`` computes). All check the raw input's shape
in the graph (``checked_input``).
"""

import inspect
import typing

import numpy as np
import tensorflow as tf

from seqrecipes.recipes.decoding.generation import generate
from seqrecipes.recipes.decoding.greedy import greedy_search
from seqrecipes.recipes.decoding.scoring import is_conditional, score_raw


# The most beams and results per input an export's ``generate`` runs, unless ``export`` is told
# otherwise (``max_beam_width``, ``max_num_results``): B inputs carry B * K decoder states.
DEFAULT_MAX_BEAM_WIDTH = 64
DEFAULT_MAX_NUM_RESULTS = 64


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
    "embed": tf.TensorSpec([None], tf.string, name="inputs"),
}


def input_signature(model):
    """The ``serving_default`` input TensorSpec of a recipe model (see ``INPUT_SIGNATURES``)."""
    spec = INPUT_SIGNATURES[model.info.serving]
    return spec(model) if callable(spec) else spec


def _dtype(annotation):
    """int32 for an ``int`` (or ``Optional[int]``) setting, string for a ``str`` one, bool for a ``bool`` one,
    float32 for a ``float`` one."""
    if annotation is str:
        return tf.string
    if annotation is bool:
        return tf.bool
    return tf.int32 if annotation is int or int in typing.get_args(annotation) else tf.float32


_PARAMETERS = [p for p in inspect.signature(generate).parameters.values() if p.kind is p.KEYWORD_ONLY]

# The settings inputs of the ``generate`` signature: the keyword-only parameters of
# ``decoding.generate``, in its order, with the dtype of each annotation.
GENERATE_SETTINGS = tuple((p.name, _dtype(p.annotation)) for p in _PARAMETERS)


def generate_settings(max_length, **overrides):
    """Values for the ``GENERATE_SETTINGS`` inputs of a ``generate`` request: ``decoding.generate``'s
    own defaults (greedy), the given ``max_length``, then ``overrides``; name -> NumPy scalar of the
    input's dtype."""
    values = dict({p.name: p.default for p in _PARAMETERS}, max_length=max_length, **overrides)
    return {name: np.asarray(values[name], dtype.as_numpy_dtype) for name, dtype in GENERATE_SETTINGS}


def generation_serving(model):
    """The serving function of every generating recipe: raw inputs (B,) -> {"outputs": strings (B,)}.

    ``decoder.inputs_from_raw`` makes the decoder's inputs, greedy search decodes them in the
    graph, ``decoder.detokenize`` writes the text.
    """
    decoder = model.decoder
    model.tokenizer(decoder.output_role)  # a clear error now if the output tokenizer is missing

    def serve(raw):
        ids, _ = greedy_search(decoder, decoder.inputs_from_raw(raw))
        return {"outputs": decoder.detokenize(ids)}

    return serve


def _float32(tensor):
    """A half-precision output (a mixed-precision model's) as float32, so an export answers as a float32 model does."""
    return tf.cast(tensor, tf.float32) if tensor.dtype in (tf.float16, tf.bfloat16) else tensor


def checked_input(function, spec):
    """``function(raw, ...)`` with ``raw`` checked against ``spec``'s shape inside the graph.

    A signature loaded with ``tf.saved_model.load`` runs on any shape it is fed (a 2-D batch of
    strings would be read as more inputs than rows); ``tf.ensure_shape`` is a run-time check that
    stays in the graph (a rank test on the traced input would be folded away), so such a request
    fails with "Shape of tensor inputs [2,2] is not compatible with expected shape [?]". Float16 and bfloat16
    outputs (of a mixed-precision model) are cast to float32.
    """

    def checked(raw, *rest):
        raw = tf.ensure_shape(tf.identity(raw, name=spec.name), spec.shape)
        return tf.nest.map_structure(_float32, function(raw, *rest))

    return checked


def generate_function(model, max_beam_width=DEFAULT_MAX_BEAM_WIDTH, max_num_results=DEFAULT_MAX_NUM_RESULTS):
    """The ``generate`` signature of a generating recipe, as a ``tf.function``.

    Inputs: the raw input of ``serving_default`` (strings "inputs" (B,), or "images") and the
    ``GENERATE_SETTINGS`` scalars; ``decoding.generate`` picks the strategy from them per request
    (beam_width >= 2: beam search; else temperature > 0: sampling; else greedy) and clamps
    out-of-range values (max_length into [1, the model's limit]; NaN or infinite float settings
    become ``generate``'s defaults). ``beam_width`` is clamped into [1, ``max_beam_width``] and
    ``num_results`` into [1, ``max_num_results``] (Python integers, or int32 scalar variables, as
    ``export`` stores them). Outputs: {"outputs": strings (B, N), "scores": (B, N) float32}, N
    results per input, best first for beam search, and for decoders with attention "alignments"
    (B, N, L, S) float32 when the request's ``alignments`` is true ((B, N, 0, S) when false): the
    weights over the S source positions (the padded input tokens, or a captioner's feature-map
    positions) of each output token, its end token included.
    """
    decoder = model.decoder
    model.tokenizer(decoder.output_role)  # a clear error now if the output tokenizer is missing
    names = [name for name, _ in GENERATE_SETTINGS]
    limits = {"beam_width": max_beam_width, "num_results": max_num_results}

    def serve(raw, *settings):
        settings = dict(zip(names, settings))
        for name, limit in limits.items():
            settings[name] = tf.clip_by_value(settings[name], 1, tf.cast(limit, tf.int32))
        result = generate(decoder, decoder.inputs_from_raw(raw), **settings)
        outputs = {"outputs": decoder.detokenize(result["ids"]), "scores": result["scores"]}  # (B, N) each
        if "alignments" in result:  # decoders with attention: (B, N, L, S), or (B, N, 0, S) when off
            outputs["alignments"] = result["alignments"]
        return outputs

    spec = input_signature(model)
    specs = [spec] + [tf.TensorSpec([], dtype, name=name) for name, dtype in GENERATE_SETTINGS]
    return tf.function(checked_input(serve, spec), input_signature=specs)


# The target sentences of the ``score`` signature of encoder-decoders and captioners.
TARGETS_SIGNATURE = tf.TensorSpec([None], tf.string, name="targets")


def score_function(model):
    """The ``score`` signature of a generating recipe, as a ``tf.function``: ``recipes.score`` in the graph.

    Inputs: language models, the sentences "inputs" (B,) strings; encoder-decoders and captioners,
    the raw input of ``serving_default`` ("inputs" strings or "images") and the sentences
    "targets" (B,) strings (a request with different batch sizes fails with "`targets` must hold
    one sentence per input"). Outputs: {"log_prob": (B,), "token_log_probs": (B, T), "lengths":
    (B,) int32, "perplexity": (B,)}, natural logs, as ``recipes.score`` defines them.
    """
    model.tokenizer(model.decoder.output_role)  # a clear error now if the output tokenizer is missing
    spec = input_signature(model)
    if is_conditional(model):
        checked = checked_input(lambda raw, targets: score_raw(model, raw, tf.ensure_shape(targets, [None])), spec)
        return tf.function(checked, input_signature=[spec, TARGETS_SIGNATURE])
    return tf.function(checked_input(lambda raw: score_raw(model, raw), spec), input_signature=[spec])
