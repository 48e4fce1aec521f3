"""``ngram_language_model``: the next token from counts of orders 1..N (seed 004, "Classical language
model"), scored and sampled in the graph, read from and written to ARPA files (KenLM, SRILM).
``NGramDecoder`` generates from it; ``write_arpa`` and ``read_arpa`` move it to and from other tools."""

from typing import Optional

import keras
import numpy as np
import tensorflow as tf
from keras import ops

from seqrecipes import layers
from seqrecipes._checks import check_choice, check_positive_int, check_positive_number
from seqrecipes.data import PAD_ID, WordTokenizer
from seqrecipes.data.strings import string_batch
from seqrecipes.recipes._components import LENGTH_LIMIT, check_lengths, saved_arguments, vocabulary_size_of
from seqrecipes.recipes.decoding.decoder import Decoder, ban_never_generated
from seqrecipes.recipes.decoding.prompts import prompt_ids
from seqrecipes.recipes.many_to_many import _ngram_arpa as arpa
from seqrecipes.recipes.many_to_many._ngram import MAX_ORDER, count_ngrams
from seqrecipes.recipes.many_to_many._ngram_estimators import ESTIMATORS
from seqrecipes.recipes.recipe_model import RecipeModel
from seqrecipes.recipes._precision import with_precision

# What ``estimator`` may be: a name of ``ESTIMATORS``, or "arpa" for a model read from an ARPA file.
ESTIMATOR_NAMES = tuple(ESTIMATORS) + ("arpa",)
_CHUNK = 8192  # sentences tokenized at a time


class NGramDecoder(Decoder):
    """The ``Decoder`` of ``ngram_language_model``: the state is the last N-1 ids, the step one table lookup.

    ``encode`` takes prompts (B, L) (``[START]`` + the prompt's ids, padded with 0 on the right, as
    ``prompt_ids`` makes them) and keeps each row's last N-1 ids, [PAD] (no word) in front of a
    shorter one. ``step`` appends the previous output (from index 1 on) and returns the model's
    log p(w | history) for every id as the logits: their softmax is the model's distribution, so
    sampling draws from p itself (seed 004's text generation). A probability of 0 (maximum
    likelihood) is the logit -1e9, so that a history with no continuation at all samples uniformly
    rather than failing. ``recipes.score`` reads the tables directly (``teacher_forced_scores``), so
    there a 0 stays log p = -inf and the perplexity inf.

    State: ``{"history": (B, N-1) int32}``.

    Example:
    >>> from seqrecipes import data, recipes
    >>> tokenizer = data.WordTokenizer(vocabulary=["a", "b"])
    >>> model = recipes.ngram_language_model(["a b", "a a b"], order=2, text_tokenizer=tokenizer)
    >>> state = model.decoder.encode(recipes.prompt_ids(tokenizer, ["a", ""]))
    >>> state["history"].numpy().tolist()
    [[4], [2]]
    """

    output_role = "text"

    def __init__(self, model):
        super().__init__(model, max_length=model.arguments["max_output_length"])
        self.table = model.get_layer("ngram_table")
        self.order = model.arguments["order"]
        self.max_score_length = LENGTH_LIMIT  # scoring costs one lookup a token: sentences up to 4096 ids

    def encode(self, inputs):
        ids = ops.cast(inputs, "int32")  # (B, L)
        lengths = ops.sum(ops.cast(ops.not_equal(ids, PAD_ID), "int32"), axis=1)  # (B,)
        columns = []
        for j in range(self.order - 1):  # the j-th oldest id of the history
            index = lengths - (self.order - 1) + j
            picked = ops.take_along_axis(ids, ops.maximum(index, 0)[:, None], axis=1)[:, 0]
            columns.append(ops.where(index >= 0, picked, PAD_ID))
        if not columns:
            return {"history": ops.zeros((ops.shape(ids)[0], 0), "int32")}
        return {"history": ops.stack(columns, axis=1)}

    def step(self, token_ids, state, index):
        history = state["history"]
        if self.order > 1:
            shifted = ops.concatenate([history[:, 1:], ops.cast(token_ids, "int32")[:, None]], axis=1)
            history = ops.where(index == 0, history, shifted)
        log_p = self.table.distribution(history)  # (B, V)
        logits = ops.where(ops.isfinite(log_p), log_p, -1e9)
        return ban_never_generated(logits), {"history": history}

    def teacher_forced_scores(self, state, token_in, targets, lengths):
        """log p of each target by direct lookups (what ``recipes.score`` runs for this recipe).

        The histories are read from ``token_in`` ([START] w_1 .. w_m), the empty prompt's; a
        probability of 0 stays -inf.
        """
        token_log_probs = self.table.log_prob(self.table.histories(token_in), targets)  # (B, T)
        real = ops.arange(ops.shape(targets)[1], dtype="int32")[None, :] < lengths[:, None]
        token_log_probs = ops.where(real, token_log_probs, 0.0)
        log_prob = ops.sum(token_log_probs, axis=1)
        perplexity = ops.exp(-log_prob / ops.cast(lengths, "float32"))
        return {"log_prob": log_prob, "token_log_probs": token_log_probs, "lengths": lengths, "perplexity": perplexity}

    def inputs_from_raw(self, raw):
        # Only the last N-1 ids of a prompt matter: [START] + ids cut to them.
        return prompt_ids(self.model.tokenizer("text"), raw, max_length=max(self.order - 1, 1))


def _sentence_ids(sentences, tokenizer, name):
    """Sentences as token ids: strings (a list, array or ``tf.data.Dataset``) through the tokenizer, or
    id sequences as they are."""
    if isinstance(sentences, tf.data.Dataset):
        if tokenizer is None:
            raise ValueError(f"`{name}` as a tf.data.Dataset of strings needs `text_tokenizer`. Received: text_tokenizer=None")
        return [row for batch in sentences.batch(_CHUNK) for row in _tokenized(tokenizer, batch)]
    if isinstance(sentences, (str, bytes)) or (
        isinstance(sentences, (list, tuple, np.ndarray)) and len(sentences) and isinstance(sentences[0], (str, bytes))
    ):
        if tokenizer is None:
            raise ValueError(f"`{name}` as strings needs `text_tokenizer` to make token ids. Received: text_tokenizer=None")
        strings = string_batch(sentences, name)
        return [row for start in range(0, len(strings), _CHUNK) for row in _tokenized(tokenizer, strings[start : start + _CHUNK])]
    return sentences


def _tokenized(tokenizer, strings):
    ragged = tokenizer.tokenize_ragged(tf.constant(strings) if not tf.is_tensor(strings) else strings)
    return np.split(ragged.flat_values.numpy(), np.cumsum(ragged.row_lengths().numpy())[:-1])


def _fitted_tables(sentences, held_out, order, estimator, alpha, katz_k, em_iterations, vocabulary_size, tokenizer):
    counts = count_ngrams(_sentence_ids(sentences, tokenizer, "sentences"), order, vocabulary_size=vocabulary_size, name="sentences")
    if estimator == "linear_interpolation":
        if held_out is None:
            raise ValueError(
                "`held_out` must be sentences to fit the interpolation weights on for estimator='linear_interpolation'. "
                "Received: held_out=None"
            )
        model = ESTIMATORS[estimator](counts, _sentence_ids(held_out, tokenizer, "held_out"), iterations=em_iterations)
    elif held_out is not None:
        raise ValueError(
            f"`held_out` is read only by estimator='linear_interpolation'. Received: held_out=..., estimator={estimator!r}"
        )
    else:
        model = {"additive": lambda: ESTIMATORS[estimator](counts, alpha=alpha), "katz": lambda: ESTIMATORS[estimator](counts, k=katz_k)}.get(
            estimator, lambda: ESTIMATORS[estimator](counts)
        )()
    return arpa.from_estimator(model)


def _set_tables(model, tables):
    weights = [tables.log_probs[0], tables.log_backoffs[0]]
    for n in range(2, tables.order + 1):
        weights += [tables.keys[n - 1], tables.log_probs[n - 1]] + ([tables.log_backoffs[n - 1]] if n < tables.order else [])
    table = model.get_layer("ngram_table")
    table.set_weights([np.asarray(w, dtype=v.dtype) for w, v in zip(weights, table.weights)])


@with_precision
def ngram_language_model(
    sentences=None,
    *,
    order: int = 3,
    estimator: str = "kneser_ney",
    alpha: float = 1.0,
    katz_k: int = 5,
    held_out=None,
    em_iterations: int = 100,
    text_vocabulary_size: int = 0,
    table_sizes: Optional[list] = None,
    max_output_length: int = 64,
    text_tokenizer=None,
    name: str = "ngram_language_model",
) -> RecipeModel:
    """N-gram language model: counts of orders 1..N and an estimator of p(w_i | w_{i-N+1:i-1}) (seed 004).

    The counts are the training: the recipe tokenizes ``sentences``, counts every n-gram of orders
    1..N (vectorised NumPy), fits the ``estimator`` and stores the result in back-off form, the form
    of an ARPA file, in a ``layers.NGramTable`` (sorted key tables searched in the graph):

        log p(w | h) = log p*(h, w)                  if (h, w) is stored
                     = log b(h) + log p(w | h')      otherwise,  h' = h without its first word

    Estimators (``estimator``): "maximum_likelihood" #(h w) / #(h); "additive" (#(h w) + alpha) /
    (#(h) + alpha d), alpha = 1 Laplace, add-k below 1; "linear_interpolation" of the orders, the
    weights fitted by EM on ``held_out``; "katz" back-off with Good-Turing discounts for counts up
    to ``katz_k``; "kneser_ney" (the default), interpolated modified Kneser-Ney (Chen and Goodman
    1998). d = |V| is every id but [PAD] and ``<s>``.

    Sentences are padded as ARPA tools do: one ``<s>`` ([START]) in front, so p(w_1 | <s>) is a
    bigram probability, and one ``</s>`` ([END]) at the end, predicted and counted. ``<unk>`` is the
    tokenizer's [UNK]: every word outside the tokenizer's vocabulary is that one token, with the
    probability the estimator gives it (for Kneser-Ney its share of the uniform level when it never
    occurred in ``sentences``; 0 under maximum likelihood, whose perplexity is then inf).

    Perplexity is exp of the mean negative log-likelihood per predicted token, ``</s>`` counted and
    ``<s>`` not (``recipes.score``, ``metrics.Perplexity``). The model's output (``model(token_ids)``,
    (B, T, V)) is log p of every next token after each step, teacher-forced. ``recipes.score`` reads
    the tables directly; ``recipes.generate`` samples (or searches) with ``NGramDecoder``; the export
    has ``serving_default`` (greedy continuation), ``generate`` and ``score``. ``write_arpa`` and
    ``read_arpa`` move the model to and from KenLM and SRILM.

    Args:
        sentences: the training text: strings (a list, 1-D array or ``tf.data.Dataset``, with
            ``text_tokenizer``) or token id sequences (lists or 1-D arrays, no [START]). None only
            with ``table_sizes`` (empty tables that saved weights load into: ``.keras`` reloading).
        order: N, 1 <= N <= 10.
        estimator: one of "maximum_likelihood", "additive", "linear_interpolation", "katz",
            "kneser_ney" ("arpa": the model was read from an ARPA file).
        alpha: the added count of "additive", a number > 0.
        katz_k: the largest count "katz" discounts, a positive integer.
        held_out: for "linear_interpolation", sentences (as ``sentences``) to fit the weights on.
        em_iterations: the most EM steps of "linear_interpolation".
        text_vocabulary_size: V when no tokenizer is given (id sequences).
        table_sizes: the stored n-grams of orders 2..N; set by the recipe (and read back from a
            ``.keras`` file).
        max_output_length: the longest continuation generation writes, [END] included.
        text_tokenizer: a ``seqrecipes.data`` tokenizer (words, characters or subwords).
        name: the model name.

    Returns:
        A ``RecipeModel`` (not compiled: counting is its training) whose ``model.decoder`` is an
        ``NGramDecoder``.

    Raises:
        ValueError: a bad argument, named; ``sentences`` empty, shorter than the order or holding
            ids outside the vocabulary; ``held_out`` missing for "linear_interpolation".

    Example:
    >>> from seqrecipes import data, recipes
    >>> text = ["the cat sat", "the cat ran", "a dog sat"]
    >>> tokenizer = data.WordTokenizer().adapt(text)
    >>> model = recipes.ngram_language_model(text, order=2, estimator="additive", text_tokenizer=tokenizer)
    >>> scores = recipes.score(model, ["the cat sat", "sat cat the"])
    >>> bool(scores["log_prob"][0] > scores["log_prob"][1])
    True

    References:
        - Chen and Goodman (1998), An empirical study of smoothing techniques for language
          modeling, Harvard TR-10-98.
        - Katz (1987), Estimation of probabilities from sparse data for the language model
          component of a speech recognizer, IEEE TASSP.
        - Jelinek and Mercer (1980), Interpolated estimation of Markov source parameters from
          sparse data.
    """
    order = check_positive_int("order", order)
    if order > MAX_ORDER:
        raise ValueError(f"`order` must be an integer in [1, {MAX_ORDER}]. Received: order={order!r}")
    check_choice("estimator", estimator, ESTIMATOR_NAMES)
    alpha = check_positive_number("alpha", alpha)
    katz_k = check_positive_int("katz_k", katz_k)
    em_iterations = check_positive_int("em_iterations", em_iterations)
    check_lengths(locals(), "max_output_length")
    text_vocabulary_size = vocabulary_size_of(text_tokenizer, text_vocabulary_size, "text")
    if text_vocabulary_size**order > 2**63 - 1:
        raise ValueError(
            "`order` with the vocabulary size must pack into int64 keys (V**order < 2**63). "
            f"Received: order={order}, text_vocabulary_size={text_vocabulary_size}"
        )
    tables = None
    if sentences is not None:
        if estimator == "arpa":
            raise ValueError("`estimator='arpa'` is for models read by read_arpa; pick an estimator to fit. Received: estimator='arpa'")
        tables = _fitted_tables(
            sentences, held_out, order, estimator, alpha, katz_k, em_iterations, text_vocabulary_size, text_tokenizer
        )
        table_sizes = tables.sizes
    elif table_sizes is None:
        raise ValueError(
            "`sentences` must be the text to count (or `table_sizes` given, to build empty tables that saved "
            "weights load into). Received: sentences=None, table_sizes=None"
        )

    token_ids = keras.Input((None,), dtype="int32", name="token_ids")
    table = layers.NGramTable(order, text_vocabulary_size, table_sizes, name="ngram_table")
    log_probabilities = table(token_ids)  # (B, T, V)
    arguments = saved_arguments(ngram_language_model, locals(), leave_out=("sentences", "held_out"))
    model = RecipeModel(token_ids, log_probabilities, recipe="ngram_language_model", arguments=arguments,
                        tokenizers={"text": text_tokenizer}, name=name)  # fmt: skip
    if tables is not None:
        _set_tables(model, tables)
    return model


def _tables_of(model):
    if getattr(model, "recipe", None) != "ngram_language_model":
        raise ValueError(
            f"`model` must be an ngram_language_model. Received: model={getattr(model, 'name', model)!r:.100} "
            f"of recipe {getattr(model, 'recipe', None)!r}"
        )
    table = model.get_layer("ngram_table")
    values = [np.asarray(w.numpy()) for w in table.weights]
    keys, log_probs, log_backoffs = [np.arange(table.vocabulary_size)], [values[0].astype(float)], [values[1].astype(float)]
    position = 2
    for n in range(2, table.order + 1):
        keys.append(values[position].astype(np.int64))
        log_probs.append(values[position + 1].astype(float))
        last = n == table.order
        log_backoffs.append(np.zeros(keys[-1].size) if last else values[position + 2].astype(float))
        position += 2 if last else 3
    return arpa.BackOffTables(table.order, table.vocabulary_size, keys, log_probs, log_backoffs)


def write_arpa(model, path):
    """Writes an ``ngram_language_model`` as an ARPA file (log10 values), for KenLM, SRILM and ``read_arpa``.

    The words are the text tokenizer's tokens; ``<unk>``, ``<s>`` and ``</s>`` are [UNK], [START]
    and [END]. ``<s>`` gets log10 p = -99 (it is never predicted), as ARPA files give it.

    Raises:
        ValueError: ``model`` is not an n-gram model, has no text tokenizer, or has a token with
            whitespace in it (ARPA separates words by whitespace; a character model's space).

    Example:
    >>> import os, tempfile
    >>> from seqrecipes import data, recipes
    >>> text = ["the cat sat", "a cat ran"]
    >>> model = recipes.ngram_language_model(text, order=2, text_tokenizer=data.WordTokenizer().adapt(text))
    >>> path = os.path.join(tempfile.mkdtemp(), "cats.arpa")
    >>> recipes.write_arpa(model, path)
    >>> open(path).read().splitlines()[:3]
    ['\\\\data\\\\', 'ngram 1=8', 'ngram 2=8']
    """
    tables = _tables_of(model)
    arpa.write_arpa(tables, model.tokenizer("text").get_vocabulary(), path)


def read_arpa(path, *, max_output_length: int = 64, name: str = "ngram_language_model"):
    """An ``ngram_language_model`` from an ARPA file (KenLM's ``lmplz``, SRILM's ``ngram-count``, ``write_arpa``).

    Its tokenizer is a ``WordTokenizer(split_punctuation=False)`` over the file's unigrams in the
    file's order: text is split on whitespace only, as the tools split it. The scores are the
    file's (log10 in the file, natural logs in the model); a file without ``<unk>`` gets it with
    log10 p = -100.

    Raises:
        ValueError: the file is malformed or truncated (the error names the line) or not UTF-8.

    Example:
    >>> import os, tempfile
    >>> from seqrecipes import recipes
    >>> path = os.path.join(tempfile.mkdtemp(), "tiny.arpa")
    >>> _ = open(path, "w").write("\\\\data\\\\\\nngram 1=3\\n\\n\\\\1-grams:\\n-0.3\\t</s>\\n-99\\t<s>\\n-0.3\\thi\\n\\n\\\\end\\\\\\n")
    >>> model = recipes.read_arpa(path)
    >>> round(float(recipes.score(model, ["hi"])["log_prob"][0]) / 2.302585, 4)  # log10 p(hi) + log10 p(</s>)
    -0.6
    """
    tables, words = arpa.read_arpa(path)
    tokenizer = WordTokenizer(vocabulary=words[4:], split_punctuation=False)
    model = ngram_language_model(order=tables.order, estimator="arpa", table_sizes=tables.sizes,
                                 max_output_length=max_output_length, text_tokenizer=tokenizer, name=name)  # fmt: skip
    _set_tables(model, tables)
    return model

