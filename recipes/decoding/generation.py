"""``generate``: greedy search, sampling or beam search, chosen by the settings, in one graph."""

from typing import Optional

from seqrecipes.recipes.decoding._loop import branch
from seqrecipes.recipes.decoding._settings import is_number
from seqrecipes.recipes.decoding.alignments import check_alignments, output_alignments
from seqrecipes.recipes.decoding.beam import beam_search_state, beam_settings
from seqrecipes.recipes.decoding.controls import control_settings
from seqrecipes.recipes.decoding.sampling import sample_state, sampling_settings


def generate(
    decoder,
    inputs,
    *,
    beam_width: int = 1,
    num_results: int = 1,
    max_length: Optional[int] = None,
    temperature: float = 0.0,
    top_k: int = 0,
    top_p: float = 1.0,
    seed: int = 0,
    length_penalty: float = 0.6,
    coverage_penalty: float = 0.0,
    min_length: int = 0,
    no_repeat_ngram_size: int = 0,
    repetition_penalty: float = 1.0,
    banned: str = "",
    alignments: bool = False,
):
    """Greedy search, sampling or beam search, chosen by the settings, in one graph.

    The strategy: ``beam_width >= 2`` -> ``beam_search`` (``beam_width``, ``num_results``,
    ``length_penalty``, ``coverage_penalty``); else ``temperature > 0`` -> ``sample``
    (``temperature``, ``top_k``, ``top_p``, ``seed``, ``num_results``); else greedy search (one
    result per input; it equals ``greedy_search``). Settings the chosen strategy does not use are
    checked but ignored. With ``alignments`` on, the result also holds the attention alignments of
    each result (decoders with attention only). The decoding controls (``min_length``, ``no_repeat_ngram_size``,
    ``repetition_penalty``, ``banned``; ``decoding.controls`` defines them) apply to all three.

    Every setting may be a Python number or a scalar tensor (the export's ``generate`` signature
    feeds them per request). Python numbers are checked and a bad one (out of range, NaN or inf,
    beam_width over 1024, num_results over 10000) raises a ValueError naming it; tensors are clamped
    into range instead: beam_width into [1, 1024], num_results into [1, 10000] (and <= beam_width for
    beam search; greedy gives 1), max_length into [1, ``decoder.max_length``], temperature >= 0, top_k
    >= 0 (0 and values over the vocabulary keep every token), top_p into [0, 1] (0 keeps only the
    most probable token), length_penalty >= 0, coverage_penalty >= 0 (and ignored for a decoder
    without alignments); a NaN or infinite float tensor is first replaced by the setting's default
    below (temperature 0, top_p 1, length_penalty 0.6, coverage_penalty 0, repetition_penalty 1);
    min_length and no_repeat_ngram_size are clamped into [0, ``decoder.max_length``],
    repetition_penalty into [0.01, 100], and a ``banned`` string tensor's unusable phrases (empty,
    with an unknown word, longer than max_length) are ignored. An export clamps
    beam_width and num_results further, to the limits it stores (``recipes.export``). With tensor
    settings the strategy is picked with ``keras.ops.cond``, and N (and L for a tensor max_length)
    are then not known until run time.

    The keyword arguments are the settings of the export's ``generate`` signature and the flags of
    ``seqrecipes generate``, with these types, defaults and one-line meanings (both read them here).

    Args:
        decoder: a ``Decoder``.
        inputs: the batch ``decoder.encode`` takes; it is encoded once.
        beam_width: K, the beams; >= 2 runs beam search.
        num_results: N, the results per input: the n-best of beam search, or the samples.
        max_length: the most tokens per result (default: the model's limit, ``decoder.max_length``).
        temperature: T; > 0 samples (when beam_width < 2), 0 is greedy.
        top_k: sample from the k most probable tokens only (0: all).
        top_p: sample from the smallest set of tokens whose probability reaches p (1: all).
        seed: the sampling seed; the same seed gives the same samples.
        length_penalty: alpha of beam search's GNMT length penalty (0: none).
        coverage_penalty: beta of beam search's GNMT coverage penalty (decoders with attention only).
        min_length: the fewest tokens before the end token (0: no minimum).
        no_repeat_ngram_size: no n-gram of this size is written twice (0: off).
        repetition_penalty: CTRL's penalty on tokens already written, > 0 (1: off; > 1 repeats less).
        banned: phrases never written, one per line, in the output's text (Python: or token id lists).
        alignments: also return each result's attention weights over the source (attention decoders).

    Returns:
        {"ids": (B, N, L) int32, "scores": (B, N) float32, "lengths": (B, N) int32}: N results per
        input, best first for beam search (N = 1 for greedy); L = max_length; ids hold the end
        token where produced and PAD (0) after it; scores are beam search's s(Y, X), or for
        greedy and sampling the sum of the log-probabilities of the emitted tokens under the
        model's unmodified distribution (end token included); lengths count the ids before the
        end token. With ``alignments`` on, also "alignments": (B, N, L, S) float32, row t the
        attention weights over the S source positions when token t was written (the last block's
        cross-attention averaged over the heads for a Transformer), 0 after the end token; a tensor
        ``alignments`` that is off gives (B, N, 0, S) (``decoding.alignments.output_alignments``).

    Raises:
        ValueError: a Python setting out of range or not finite, naming it (or ``num_results`` > 1
            for greedy search, or ``alignments=True`` for a decoder without attention).
        TypeError: a setting that is neither a number nor a scalar tensor of one (``seed="a"``), or an
            ``alignments`` that is neither a bool nor a scalar tensor.

    Example:
    >>> import numpy as np
    >>> import tensorflow as tf
    >>> from seqrecipes import recipes
    >>> model = recipes.seq2seq(source_vocabulary_size=10, target_vocabulary_size=10, units=8, embedding_dim=4)
    >>> source = np.array([[4, 5, 6], [7, 8, 0]], "int32")
    >>> tuple(recipes.generate(model.decoder, source, beam_width=3, num_results=2)["ids"].shape)
    (2, 2, 32)
    >>> serve = tf.function(lambda x, k, t: recipes.generate(model.decoder, x, beam_width=k, temperature=t))
    >>> greedy = serve(source, tf.constant(1), tf.constant(0.0))  # k < 2, t = 0: greedy search
    >>> bool(np.all(greedy["ids"][:, 0] == recipes.greedy_search(model.decoder, source)[0]))
    True
    """
    beam_options = beam_settings(
        decoder, beam_width, _for_beam(num_results, beam_width), max_length, length_penalty, coverage_penalty
    )
    sampling_options = sampling_settings(decoder, max_length, temperature, top_k, top_p, seed, num_results)
    controls = control_settings(decoder, min_length, no_repeat_ngram_size, repetition_penalty, banned)
    check_alignments(decoder, alignments)
    greedy_only = is_number(beam_width) and beam_width < 2 and is_number(temperature) and temperature == 0
    if greedy_only and is_number(num_results) and num_results != 1:
        raise ValueError(
            "Greedy search (beam_width < 2, temperature 0) gives one result per input; ask for more with "
            f"beam_width >= num_results or temperature > 0. Received: num_results={num_results!r}"
        )
    state = decoder.encode(inputs)

    def beam():
        return beam_search_state(decoder, state, **beam_options, controls=controls)

    def sampling():
        return sample_state(decoder, state, **sampling_options, controls=controls)

    def greedy():
        settings = dict(sampling_options, temperature=0.0, num_results=1)
        return sample_state(decoder, state, **settings, controls=controls)

    def not_beam():
        return branch(sampling_options["temperature"] > 0, sampling, greedy)

    return output_alignments(decoder, state, branch(beam_options["beam_width"] >= 2, beam, not_beam), alignments)


def _for_beam(num_results, beam_width):
    """num_results as beam search checks it: a Python number over a Python beam_width < 2 is left for the
    greedy / sampling checks (beam search is not used then)."""
    if is_number(beam_width) and beam_width < 2 and is_number(num_results):
        return 1
    return num_results

