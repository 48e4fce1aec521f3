"""``score``: log p(sentence) under a generating recipe (seed 004's use of p(s)), teacher-forced in one graph.

A language model scores s = w_1 .. w_m as

    log p(s) = sum_{i=1}^{m+1} log p(w_i | w_{1:i-1}),     w_{m+1} = [END]

and an encoder-decoder (or a captioner) scores log p(y | x) the same way with x encoded once. The
loop is the searches' own: ``decoder.encode``, then ``decoder.step`` fed [START], w_1, .., w_m in turn
(teacher forcing), so it works for every ``Decoder`` and runs inside an export (the ``score``
signature, ``serving/signatures.py``).
"""

import weakref

import keras
import numpy as np
import tensorflow as tf
from keras import ops

from seqrecipes.data import PAD_ID
from seqrecipes.data.strings import string_batch
from seqrecipes.recipes.decoding._loop import write_column

# The task types whose recipes score a target given an input (log p(y | x)); the others are
# language models, which score their inputs (log p(s)).
CONDITIONAL_TASKS = ("many-to-many (encoder-decoder)", "one-to-many")

_SCORE_FUNCTIONS = weakref.WeakKeyDictionary()


def is_conditional(model):
    """Whether ``model``'s recipe scores targets given inputs (encoder-decoders, captioners)."""
    return model.info.task_type in CONDITIONAL_TASKS


def teacher_forced_ids(tokenizer, strings, max_length, start_id, end_id):
    """Sentences (B,) -> (token_in, targets) (B, T) int32, PAD after each row's end, and lengths (B,).

    token_in = [START] w_1 .. w_m, targets = w_1 .. w_m [END], both cut to their first ``max_length``
    ids (the decoder's output limit), so T = min(longest m + 1, max_length) >= 1 and lengths =
    min(m + 1, max_length). Core TensorFlow ops only.
    """
    tokens = tokenizer.tokenize_ragged(strings)  # (B, m_b)
    rows = tokens.nrows()
    start = tf.RaggedTensor.from_tensor(tf.fill([rows, 1], tf.constant(start_id, tf.int32)))
    end = tf.RaggedTensor.from_tensor(tf.fill([rows, 1], tf.constant(end_id, tf.int32)))
    token_in = tf.concat([start, tokens], axis=1)[:, :max_length]  # (B, <= max_length)
    targets = tf.concat([tokens, end], axis=1)[:, :max_length]  # (B, <= max_length)
    lengths = tf.cast(targets.row_lengths(), tf.int32)  # (B,)
    # The batch size of ``strings`` kept where it is known: some tokenizers' ragged ops lose it, and a
    # decoder state that has it (from the prompt) would then change shape in the scoring loop.
    shape = [strings.shape[0], None]
    token_in, targets = (tf.ensure_shape(ids.to_tensor(default_value=PAD_ID), shape) for ids in (token_in, targets))
    return token_in, targets, tf.ensure_shape(lengths, shape[:1])


def teacher_forced_scores(decoder, state, token_in, targets, lengths):
    """log p of each target id under the decoder's step distribution, teacher-forced, in one while loop.

    Step t feeds token_in[:, t] with index t and reads log softmax(logits)[targets[:, t]]; positions
    t >= lengths give 0. Returns the score dict of ``score`` as tensors.
    """
    steps = ops.shape(targets)[1]
    token_log_probs = ops.zeros(ops.shape(targets), "float32")  # (B, T)

    def cond(t, state, token_log_probs):
        return t < steps

    def body(t, state, token_log_probs):
        logits, state = decoder.step(ops.take(token_in, t, axis=1), state, t)
        log_probabilities = ops.log_softmax(ops.cast(logits, "float32"), axis=-1)  # (B, V)
        picked = ops.take_along_axis(log_probabilities, ops.take(targets, t, axis=1)[:, None], axis=1)  # (B, 1)
        picked = ops.where(t < lengths[:, None], picked, 0.0)  # (B, 1)
        token_log_probs = write_column(token_log_probs, t, picked[:, 0])  # (B, T)
        return t + 1, state, token_log_probs

    t0 = ops.convert_to_tensor(0, "int32")
    loop_vars = (t0, state, token_log_probs)
    _, _, token_log_probs = ops.while_loop(cond, body, loop_vars, maximum_iterations=decoder.max_length)
    log_prob = ops.sum(token_log_probs, axis=1)  # (B,)
    perplexity = ops.exp(-log_prob / ops.cast(lengths, "float32"))  # (B,)
    return {"log_prob": log_prob, "token_log_probs": token_log_probs, "lengths": lengths, "perplexity": perplexity}


def score_raw(model, raw, targets=None):
    """The graph of ``score`` and of the export's ``score`` signature: raw inputs (strings (B,), or
    images for a captioner) and, for conditional recipes, target strings (B,) -> the score dict."""
    decoder = model.decoder
    tokenizer = model.tokenizer(decoder.output_role)
    if is_conditional(model):
        check = tf.debugging.assert_equal(
            tf.shape(raw)[0], tf.shape(targets)[0], message="`targets` must hold one sentence per input"
        )
        with tf.control_dependencies([check]):
            state = decoder.encode(decoder.inputs_from_raw(raw))
        sentences = targets
    else:  # a language model: the sentences are the inputs, the prompt is empty ([START] alone)
        state = decoder.encode(decoder.inputs_from_raw(tf.fill(tf.shape(raw)[:1], "")))
        sentences = raw
    # A decoder may score longer sentences than it writes (``max_score_length``) and read its own
    # probabilities directly (``teacher_forced_scores``, the n-gram model's table lookups).
    max_length = getattr(decoder, "max_score_length", decoder.max_length)
    token_in, target_ids, lengths = teacher_forced_ids(tokenizer, sentences, max_length, decoder.start_id, decoder.end_id)
    if hasattr(decoder, "teacher_forced_scores"):
        return decoder.teacher_forced_scores(state, token_in, target_ids, lengths)
    return teacher_forced_scores(decoder, state, token_in, target_ids, lengths)


def score(model, inputs, targets=None):
    """Per sentence: the total log P (natural log), the per-token log P and the perplexity.

    For a language model (``window_language_model``, ``rnn_language_model``) ``inputs`` are the
    sentences s = w_1 .. w_m and the score is log p(s) = sum_i log p(w_i | w_{1:i-1}) (seed 004);
    for an encoder-decoder (``seq2seq``, ``seq2seq_attention``, ``transformer_seq2seq``) or
    ``image_captioner``, ``inputs`` are the sources (or images) x and ``targets`` the sentences y,
    scored as log p(y | x). The higher log P, the more natural the sentence: it ranks candidates.

    What is scored, precisely:

    - the tokens are the output tokenizer's ids of each sentence, then [END]: m + 1 predicted ids,
      [END] counted; an unknown word is the [UNK] id and is scored as that token (p([UNK] | ..));
      an empty sentence scores [END] alone;
    - the distribution is the decoder step's, the one ``recipes.generate`` samples from and scores
      greedy and sampled outputs with: the model's logits with [PAD] and [START] banned
      (``ban_never_generated``), renormalized over the other tokens; so ``score`` of a generated
      output equals its ``generate`` score. It differs from the training softmax only by the
      probability the model gives [PAD] and [START] (which no target holds);
    - perplexity = exp(-(1 / N) sum log p), N = ``lengths``, the predicted ids ([END] included,
      padding never), the definition of ``metrics.Perplexity``;
    - over-long input: sources are cut as serving cuts them (the recipe's documented rule, e.g. the
      first ``max_source_length`` tokens); a target longer than the model's output limit L
      (``max_target_length`` / ``max_output_length``, the limit of generation) is scored on its
      first L ids, [END] then not among them, and ``lengths`` is L.

    Args:
        model: a generating recipe's ``RecipeModel``.
        inputs: a batch (a list or 1-D array) of strings, ``str`` or UTF-8 ``bytes``; for
            ``image_captioner`` float images (B, H, W, C).
        targets: for encoder-decoders and captioners, one sentence per input (a list of strings);
            None for language models.

    Returns:
        A dict of NumPy arrays: "log_prob" (B,) float32, "token_log_probs" (B, T) float32 (0
        after each row's end), "lengths" (B,) int32, "perplexity" (B,) float32.

    Raises:
        TypeError: ``inputs`` or ``targets`` is one string or holds a non-string.
        ValueError: an empty batch, non-UTF-8 bytes, ``targets`` missing or given where not used,
            batches of different sizes, or a model that is not a generating recipe's.

    Example:
    >>> import numpy as np
    >>> from seqrecipes import data, recipes
    >>> tokenizer = data.CharTokenizer(vocabulary=list("ab"))
    >>> model = recipes.rnn_language_model(units=4, embedding_dim=4, text_tokenizer=tokenizer)
    >>> result = recipes.score(model, ["ab", ""])
    >>> result["lengths"].tolist(), result["token_log_probs"].shape
    ([3, 1], (2, 3))
    >>> bool(np.allclose(result["perplexity"], np.exp(-result["log_prob"] / result["lengths"])))
    True
    """
    _check_model(model)
    conditional = is_conditional(model)
    if conditional and targets is None:
        raise ValueError(
            f"`targets` must be the sentences to score given `inputs` for recipe {model.recipe!r}. Received: targets=None"
        )
    if not conditional and targets is not None:
        raise ValueError(
            f"`targets` must be None for the language model {model.recipe!r}: it scores its `inputs`. "
            f"Received: targets={targets!r:.100}"
        )
    images = model.info.serving == "caption"
    raw = _images(inputs) if images else string_batch(inputs, "inputs")
    arguments = [tf.constant(raw)]
    if conditional:
        targets = string_batch(targets, "targets")
        if len(targets) != len(raw):
            raise ValueError(f"`targets` must hold one sentence per input ({len(raw)}). Received: {len(targets)} targets")
        arguments.append(tf.constant(targets))
    function = _SCORE_FUNCTIONS.get(model)
    if function is None:  # traced once per model
        function = _SCORE_FUNCTIONS[model] = tf.function(lambda *raw: score_raw(model, *raw))
    return {key: value.numpy() for key, value in function(*arguments).items()}


def _check_model(model):
    info = getattr(model, "info", None)
    if info is None or not isinstance(model, keras.Model) or info.decoder is None:
        raise ValueError(
            "`model` must be a generating recipe's model (a RecipeModel with a decoder). "
            f"Received: model={getattr(model, 'name', model)!r:.100} of type {type(model).__name__}"
        )


def _images(values):
    try:
        array = np.asarray(values.numpy() if tf.is_tensor(values) else values, dtype="float32")
    except (TypeError, ValueError):
        raise TypeError(f"`inputs` must be a float array of images (B, H, W, C). Received: inputs={values!r:.100}") from None
    if array.ndim != 4 or not array.shape[0] or not np.all(np.isfinite(array)):
        raise ValueError(f"`inputs` must be a non-empty batch of finite float images (B, H, W, C). Received: shape={array.shape}")
    return array
