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
length, temperature, top-k, top-p, seed, length and coverage penalties, and the decoding controls
min_length, no_repeat_ngram_size, repetition_penalty and banned), returning the n-best
{"outputs": strings (B, N), "scores": (B, N)}; see ``generate_function``. They also get a third
(unless ``score_signature=False``), ``score``: sentences in (language models: "inputs";
encoder-decoders and captioners: "inputs" or "images" and "targets"), {"log_prob", "token_log_probs",
"lengths", "perplexity"} out, as ``recipes.score`` computes them; see ``score_function``.

Every size a request can set is bounded by a limit stored in the export:

- ``beam_width`` is clamped into [1, ``max_beam_width``] and ``num_results`` into [1,
  ``max_num_results``] (``export`` arguments, default 64 each: ``DEFAULT_MAX_BEAM_WIDTH``,
  ``DEFAULT_MAX_NUM_RESULTS``); the SavedModel holds them as the int32 variables
  ``max_beam_width`` and ``max_num_results`` (``tf.saved_model.load(path).max_beam_width``).
- ``max_length`` is clamped into [1, the model's output limit], itself at most 4096.
- ``temperature``, ``top_p``, ``length_penalty``, ``coverage_penalty`` and ``repetition_penalty``: NaN
  or inf is replaced by the default of ``recipes.generate`` (0, 1, 0.6, 0 and 1: a non-finite request
  decodes greedily, or with the default penalties), then clamped into range (temperature >= 0, top_p
  into [0, 1], the GNMT penalties >= 0, repetition_penalty into [0.01, 100]).
- ``min_length`` and ``no_repeat_ngram_size`` are clamped into [0, the model's output limit]; of the
  ``banned`` string (phrases, one per line) the first 256 lines are read and those no output can hold
  (empty, with a word the output vocabulary lacks, longer than the output limit) ignored.
- The raw input must have the signature's shape (strings: rank 1, (B,)); ``tf.saved_model.load``
  signatures check it in the graph and fail with "Shape of tensor inputs ... is not compatible",
  the TF1 loader when it feeds the placeholder.

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
  ``context_size`` ids (``[START]`` + tokens) are the context. ``rnn_language_model``: the prompt's
  last ``MAX_PROMPT_LENGTH`` (4096) ids of ``[START]`` + tokens are read (a longer prompt loses its
  beginning, ``[START]`` first).
- ``forecast`` (``sequence_regressor``): the last ``input_length`` steps of each series are read.
- ``caption`` (``image_captioner``): the signature fixes the image size to the model's.
- Outputs of generating recipes are at most the model's output limit (``max_target_length`` or
  ``max_output_length``) tokens long.
"""

import logging
import os
import re
import tempfile

import tensorflow as tf

from seqrecipes._checks import check_bool, check_positive_int
from seqrecipes.recipes.recipe_model import RecipeModel
from seqrecipes.recipes.decoding._settings import MAX_BEAM_WIDTH, MAX_NUM_RESULTS
from seqrecipes.recipes.serving.signatures import (
    DEFAULT_MAX_BEAM_WIDTH,
    DEFAULT_MAX_NUM_RESULTS,
    checked_input,
    generate_function,
    input_signature,
    score_function,
)
from seqrecipes.recipes.serving.warmup import write_warmup_requests

logger = logging.getLogger(__name__)


def next_version(base_path):
    """The next TF Serving version number under ``base_path``: 1 + the largest numbered folder, or 1."""
    if not os.path.isdir(base_path):
        return 1
    versions = [int(name) for name in os.listdir(base_path) if re.fullmatch(r"[0-9]+", name)]
    return max(versions, default=0) + 1


def _check_model(model):
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


def _check_limit(name, value, limit):
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= limit:
        raise ValueError(f"`{name}` must be an integer in [1, {limit}]. Received: {name}={value!r:.100}")
    return value


def export(
    model,
    base_path,
    version=None,
    extra_signatures=None,
    *,
    max_beam_width=DEFAULT_MAX_BEAM_WIDTH,
    max_num_results=DEFAULT_MAX_NUM_RESULTS,
    score_signature=None,
):
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
        max_beam_width: the widest beam search a ``generate`` request runs, in [1, 1024]; wider
            requests are clamped to it (generating recipes only; stored in the export).
        max_num_results: the most results per input a ``generate`` request gets, in [1, 10000];
            more are clamped to it (stored in the export).
        score_signature: the ``score`` signature (sentences -> their log probabilities and
            perplexities, as ``recipes.score`` gives them): ``None`` (default) adds it to generating
            recipes' exports, ``False`` leaves it out, ``True`` requires it (a generating recipe).

    Returns:
        The path of the written version folder.

    Raises:
        ValueError: ``model`` is not a recipe's model with a serving function, ``version`` is not a
            positive integer or its folder exists, or a limit is out of range (each naming it).

    Example:
    >>> import os, tempfile
    >>> import tensorflow as tf
    >>> from seqrecipes import data, recipes
    >>> tokenizer = data.CharTokenizer(vocabulary=list("abc"))
    >>> model = recipes.seq2seq(units=8, embedding_dim=4, source_tokenizer=tokenizer, target_tokenizer=tokenizer)
    >>> path = recipes.export(model, os.path.join(tempfile.mkdtemp(), "reverse"))
    >>> os.path.basename(path), sorted(os.listdir(os.path.join(path, "assets")))
    ('1', ['source.vocab', 'target.vocab'])
    >>> served = tf.saved_model.load(path).signatures["serving_default"](inputs=tf.constant(["abc"]))
    >>> served["outputs"].numpy()[0] == recipes.predict(model, ["abc"])["outputs"][0]
    True
    >>> int(tf.saved_model.load(path).max_beam_width.numpy())
    64
    """
    _check_model(model)
    _check_limit("max_beam_width", max_beam_width, MAX_BEAM_WIDTH)
    _check_limit("max_num_results", max_num_results, MAX_NUM_RESULTS)
    if score_signature is None:
        score_signature = model.info.decoder is not None
    check_bool("score_signature", score_signature)
    if score_signature and model.info.decoder is None:
        raise ValueError(
            f"`score_signature` needs a generating recipe; {model.recipe!r} scores no sentences. "
            f"Received: score_signature=True"
        )
    if version is None:
        version = next_version(base_path)
    check_positive_int("version", version)
    path = os.path.join(base_path, str(version))
    if os.path.exists(path):
        raise ValueError(f"Version folder already exists; choose another version. Received: version={version} (path {path!r})")

    serve = model.info.serving_function(model)
    with tempfile.TemporaryDirectory() as vocabulary_dir:
        module = _ServingModule(model, vocabulary_dir)
        spec = input_signature(model)
        module.serve = tf.function(checked_input(serve, spec), input_signature=[spec])
        signatures = {"serving_default": module.serve}
        if model.info.decoder is not None:
            module.max_beam_width = tf.Variable(max_beam_width, dtype=tf.int32, trainable=False, name="max_beam_width")
            module.max_num_results = tf.Variable(max_num_results, dtype=tf.int32, trainable=False, name="max_num_results")
            module.generate = generate_function(model, module.max_beam_width, module.max_num_results)
            signatures["generate"] = module.generate
            if score_signature:
                module.score = score_function(model)
                signatures["score"] = module.score
        for name, fn in (extra_signatures or {}).items():
            setattr(module, f"signature_{name}", fn)
            signatures[name] = fn
        module.track_captured_variables(signatures.values())
        tf.saved_model.save(module, path, signatures=signatures)
    write_warmup_requests(path, os.path.basename(os.path.normpath(base_path)))
    logger.info("Exported %s to %s", model.recipe, path)
    return path
