"""Where an attention model looked: the alignments of its own output, or of a given one.

``replay`` feeds tokens through ``decoder.step`` in one graph loop and reads ``decoder.alignments``
after each step; ``output_alignments`` gives ``generate``'s n-best their alignments (B, N, L, S) that
way, in the graph and in the export; ``attention_alignments`` returns them as arrays for plotting.
"""

import numpy as np
import tensorflow as tf
from keras import ops

from seqrecipes.data import PAD_ID, START_ID
from seqrecipes.recipes.decoding._loop import branch, repeat_state, write_column
from seqrecipes.recipes.decoding.decoder import Decoder
from seqrecipes.recipes.decoding.greedy import greedy_search


def attends(decoder):
    """True for a decoder whose ``alignments(state)`` gives attention weights (not the default None)."""
    return type(decoder).alignments is not Decoder.alignments


def replay(decoder, state, fed, keep):
    """Tokens ``fed`` (R, L) through ``decoder.step`` from ``state`` (R rows), in one graph loop.

    Returns alignments (R, L, S) float32, row t the weights ``decoder.alignments`` gives after
    step t (0 where ``keep`` (R, L) is False), and the most probable next token (R, L) int32 at
    each step. The loop stops after the last column any row keeps (``keep`` is a prefix per row).
    """
    alpha, _ = decoder.alignments(state)  # (R, S): S from the state the loop carries
    rows, length = ops.shape(fed)[0], ops.shape(fed)[1]
    keep = ops.convert_to_tensor(keep)
    steps = ops.max(ops.concatenate([ops.sum(ops.cast(keep, "int32"), axis=1), ops.zeros((1,), "int32")]))
    aligned = ops.zeros((rows, length, ops.shape(alpha)[1]), "float32")
    best = ops.zeros((rows, length), "int32")

    def body(t, aligned, best, state):
        logits, state = decoder.step(ops.take(fed, t, axis=1), state, t)
        alpha = ops.cast(decoder.alignments(state)[0], "float32")  # (R, S)
        at_t = ops.cast(ops.equal(ops.arange(length, dtype="int32"), t), "float32")  # (L,)
        aligned = aligned + at_t[None, :, None] * alpha[:, None, :]
        best = write_column(best, t, ops.cast(ops.argmax(logits, axis=-1), "int32"))
        return t + 1, aligned, best, state

    loop_vars = (ops.convert_to_tensor(0, "int32"), aligned, best, state)
    _, aligned, best, _ = ops.while_loop(lambda t, *_: t < steps, body, loop_vars)
    return ops.where(keep[:, :, None], aligned, 0.0), ops.where(keep, best, PAD_ID)


def fed_tokens(ids, start_id=START_ID):
    """The tokens a decoder was fed to write ids (R, L): [START] y_1 .. y_{L-1}."""
    start = ops.full((ops.shape(ids)[0], 1), start_id, "int32")
    return ops.concatenate([start, ops.cast(ids[:, :-1], "int32")], axis=1)


def check_alignments(decoder, alignments):
    """A TypeError unless ``alignments`` is a bool or a tensor (a scalar bool, checked in the graph); a
    ValueError for a Python True with a decoder without attention."""
    if not (isinstance(alignments, (bool, np.bool_)) or tf.is_tensor(alignments)):
        raise TypeError(f"`alignments` must be a bool or a scalar bool tensor. Received: alignments={alignments!r:.100}")
    if isinstance(alignments, (bool, np.bool_)) and alignments and not attends(decoder):
        raise ValueError(
            f"`alignments` needs a decoder with attention (seq2seq_attention, transformer_seq2seq, "
            f"image_captioner); {type(decoder).__name__} has none. Received: alignments=True"
        )


def output_alignments(decoder, state, result, alignments):
    """``generate``'s result with "alignments" (B, N, L, S) float32 added when ``alignments`` is on.

    ``state`` is the encoded batch (B rows), ``result["ids"]`` the n-best (B, N, L). Row t of a
    result's alignments holds the weights over the S source positions when its token t was written
    (its [END] included), 0 after its end; they come from replaying the ids (the decoder's state
    depends on the output so far only, so this equals reading them inside the search). A tensor
    ``alignments`` is decided per request: off gives an empty (B, N, 0, S) tensor; a Python False adds
    nothing, and neither does a decoder without attention (``check_alignments`` refuses a Python True).
    """
    if (isinstance(alignments, (bool, np.bool_)) and not alignments) or not attends(decoder):
        return result
    ids = result["ids"]
    shape = ops.shape(ids)  # (B, N, L)
    sources = ops.shape(decoder.alignments(state)[0])[1]

    def replayed():
        flat = ops.reshape(ids, (-1, shape[2]))
        aligned, _ = replay(decoder, repeat_state(state, shape[1]), fed_tokens(flat, decoder.start_id), flat != PAD_ID)
        return ops.reshape(aligned, (shape[0], shape[1], shape[2], sources))

    def empty():
        return ops.zeros((shape[0], shape[1], 0, sources), "float32")

    if tf.is_tensor(alignments):
        alignments = tf.ensure_shape(tf.cast(alignments, tf.bool), [])
    return dict(result, alignments=branch(alignments, replayed, empty))


def attention_alignments(model, inputs, target_in=None, max_length=None):
    """The attention weights of every output token of a model whose decoder attends, as arrays.

    Without ``target_in`` the model writes its output greedily (as ``greedy_search``) and the
    alignments are those of its own tokens; with ``target_in`` (teacher forcing) they are those of
    the given tokens, and ``ids`` holds the decoder's most probable token at each position. Either
    way the tokens are replayed through ``model.decoder.step`` and ``decoder.alignments(state)`` is
    read after each step: alpha_t of Bahdanau or Luong attention (``seq2seq_attention``,
    ``image_captioner``: S = the h*w feature-map positions, reshape a row to (h, w)), the last
    block's cross-attention averaged over the heads (``transformer_seq2seq``).

    Args:
        model: a ``RecipeModel`` whose decoder has alignments (``seq2seq_attention``,
            ``transformer_seq2seq``, ``image_captioner``).
        inputs: raw inputs as the export takes them (source strings (B,), or images (B, H, W, C)), or
            the decoder's inputs (source ids (B, S)).
        target_in: optional ids (B, T), ``[START] y_1 ..`` padded with 0, at most the model's output
            limit wide.
        max_length: the greedy decoding limit (at most the model's output limit; default: it).

    Returns:
        ``(ids, alignments)`` as NumPy arrays: ids (B, L) int32 (the greedy output, [END] included
        where produced and 0 after it; or the most probable token at each position of
        ``target_in``, 0 at its padding), alignments (B, L, S) float32, row t the weights over the
        S source positions when token t was produced, summing to 1 over the real ones, 0 where
        there is no token.

    Example:
    >>> import numpy as np
    >>> from seqrecipes import data, recipes
    >>> tokenizer = data.CharTokenizer(vocabulary=list("abcd"))
    >>> model = recipes.seq2seq_attention(units=8, embedding_dim=4, max_target_length=6,
    ...                                   source_tokenizer=tokenizer, target_tokenizer=tokenizer)
    >>> ids, alignments = recipes.attention_alignments(model, ["abc", "dcba"])
    >>> alignments.shape
    (2, 6, 4)
    >>> bool(np.allclose(alignments.sum(-1), ids != 0))
    True
    """
    decoder = model.decoder
    if not attends(decoder):
        raise ValueError(
            "attention_alignments needs a model whose decoder attends (seq2seq_attention, transformer_seq2seq, "
            f"image_captioner). Received: model.recipe={model.recipe!r}"
        )
    encoded = decoder.inputs_from_raw(inputs)
    if target_in is None:
        ids, _ = greedy_search(decoder, encoded, max_length=max_length)
        target_in = fed_tokens(ids, decoder.start_id)
        keep = ops.not_equal(ids, PAD_ID)  # (B, L): the output tokens, [END] included
    else:
        target_in = ops.cast(target_in, "int32")
        if target_in.shape[1] > decoder.max_length:
            raise ValueError(
                f"`target_in` must be at most the model's output limit ({decoder.max_length}) wide. "
                f"Received: target_in.shape={tuple(target_in.shape)}"
            )
        ids, keep = None, ops.not_equal(target_in, PAD_ID)
    alignments, best = replay(decoder, decoder.encode(encoded), target_in, keep)
    if ids is None:
        ids = best
    return np.asarray(ops.convert_to_numpy(ids), "int32"), np.asarray(ops.convert_to_numpy(alignments), "float32")
